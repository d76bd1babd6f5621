#!/usr/bin/env bash
# A short demo in its own lab (prefix saf-lt): R1 changes its choice at
# least twice; every saf stream survives with every byte verified, the
# plain-TCP baseline breaks (so the check can fail), and R1 holds no
# conntrack entries.
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, eBPF, routes)"; exit 77; }
SRC=${SAF_SOURCE_DIR:?}
export BUILD=${SAF_BUILD_DIR:?}
export SAF_LAB_PREFIX=saf-lt
OUT=$(mktemp -d)
LOG=$(mktemp)
trap 'rm -rf "$OUT" "$LOG"' EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }

"$SRC/scripts/demo" --duration 16 --changes 2 --count 8 --out "$OUT" > "$LOG" 2>&1
rc=$?
tr '\r' '\n' < "$LOG" | grep -v '^t=' | tail -15
check "demo exits 0" test $rc -eq 0
field() { python3 -c "import json; print(json.load(open('$OUT/$1.json'))['$2'])"; }
check "saf-tcp: every stream survived" test "$(field saf-tcp survived)" = "$(field saf-tcp connections)"
check "saf-tcp: no byte differs" test "$(field saf-tcp mismatches)" = 0
check "saf-tcp: every byte echoed" test "$(field saf-tcp bytes_verified)" = "$(field saf-tcp bytes_sent)"
check "saf-tcp: ended on unicast addresses" grep -q '"ended":"10.30.' "$OUT/saf-tcp.json"
check "plain TCP to S broke when R1 moved S" test "$(field plain-tcp broken)" -gt 0
check "R1 kept no conntrack entries" test "$(cat "$OUT/r1-conntrack")" = 0
check "R1 changed its choice at least twice" grep -Eq "R1 changed its choice ([2-9]|[1-9][0-9]+) times" "$LOG"
check "timeline written" grep -q '<svg' "$OUT/timeline.svg"
if [[ -f $OUT/saf-tls.json ]]; then
  check "saf-tls: every stream survived" test "$(field saf-tls survived)" = "$(field saf-tls connections)"
  check "saf-tls: no byte differs" test "$(field saf-tls mismatches)" = 0
  # saf tls connect runs continuity by default: the -v line is then
  # "stream done at U", so each stream ended on a unicast address.
  check "saf-tls: continuity streams ended on unicast addresses" \
    grep -q '"ended":"10.30.[0-9.]*:7443 (stream)"' "$OUT/saf-tls.json"
fi
check "lab removed afterwards" bash -c "! ip netns list | grep -q saf-lt-"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
