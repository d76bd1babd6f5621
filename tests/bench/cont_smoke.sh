#!/usr/bin/env bash
# bench/cont end to end with tiny settings (QUICK=1): the lab with a 25 ms
# delay comes up and goes, every client variant gets its echo, and the
# report has every row. No timing is asserted (speed lives in bench/);
# what must hold anywhere is that continuity needs no extra round trip to
# its first byte where the seed procedure needs two or more.
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
SRC=${SAF_SOURCE_DIR:?}; B=${SAF_BUILD_DIR:?}
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
QUICK=1 "$SRC/bench/cont/run" "$B" "$OUT" > "$OUT/log" 2>&1
rc=$?
tail -25 "$OUT/log"
md=$OUT/cont.md
check "harness exits 0" test $rc -eq 0
for row in "plain TCP to S" "plain TLS 1.3 to S" "saf TLS, continuity" "saf TLS, seed procedure" "continuity (framing"; do
  check "row: $row" grep -q "| $row" "$md"
done
rtts() { grep "| $1" "$md" | awk -F'|' '{print $5}' | tr -d ' '; }
check "continuity: first byte within 1 RTT of plain TLS" \
  python3 -c "import sys; sys.exit(0 if float('$(rtts "saf TLS, continuity")') < float('$(rtts "plain TLS 1.3 to S")') + 1 else 1)"
check "seed procedure: at least 2 RTT more than plain TLS" \
  python3 -c "import sys; sys.exit(0 if float('$(rtts "saf TLS, seed procedure")') >= float('$(rtts "plain TLS 1.3 to S")') + 2 else 1)"
check "lab removed" bash -c "! ip netns list | grep -q saf-kb-"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
