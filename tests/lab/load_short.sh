#!/usr/bin/env bash
# The load test at a small scale (prefix saf-ld): 1000 saf TCP connections,
# 200 replaced per second, R1's choice changed every second, TLS streams
# long and short, for 30 s: nothing lost, memory flat, fds bounded. Then a
# run that must fail: the same load client outside the saf client's cgroup
# (no SAF, so its connections stay on S) while R1 moves S, which the checker
# must count as lost connections and connects that did not migrate.
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, eBPF, routes)"; exit 77; }
SRC=${SAF_SOURCE_DIR:?}
export BUILD=${SAF_BUILD_DIR:?}
export SAF_LAB_PREFIX=saf-ld
OUT=$(mktemp -d)
LOG=$(mktemp)
trap 'rm -rf "$OUT" "$LOG"' EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
field() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval('d' + sys.argv[1]))" "$2"; }

"$SRC/scripts/load" --count 1000 --rate 200 --duration 30 --tls-streams 6 --sample 2 --out "$OUT" > "$LOG" 2>&1
rc=$?
tr '\r' '\n' < "$LOG" | grep -v '^t=' | tail -40
check "load run passes" test $rc -eq 0
check "1000 connections held, more than 4000 opened" test "$(field "$OUT/load.json" '["opened"]')" -gt 4000
check "no connection lost" test "$(field "$OUT/load.json" '["lost"]')" = 0
check "every byte verified" test "$(field "$OUT/load.json" '["bytes_verified"]')" = "$(field "$OUT/load.json" '["bytes_sent"]')"
check "connections spread over the three nodes" test "$(field "$OUT/load.json" '["targets"].__len__()')" = 3
check "fds judged for the scheduler, 3 agents, 3 TLS nodes, 3 echo servers, the client" \
  test "$(grep -c '^ok   - fds bounded' <(tr '\r' '\n' < "$LOG"))" -ge 11
# A sanitizer build's allocator keeps freed memory in quarantine: RSS is
# then not the program's, and scripts/load does not judge it.
if ldd "$BUILD/saf" | grep -q libasan; then
  check "memory not judged in a sanitizer build (said so in the report)" grep -q '^Memory not judged' "$OUT/report.md"
else
  check "memory judged flat for the scheduler, 3 agents, 3 TLS nodes" \
    test "$(grep -c '^ok   - memory flat' <(tr '\r' '\n' < "$LOG"))" -ge 7
fi
check "report written" grep -q '^# saf load run: PASSED' "$OUT/report.md"
check "lab removed afterwards" bash -c "! ip netns list | grep -q saf-ld-"

# The checker can fail: plain connections (no SAF) held while R1 moves S.
NEG=$(mktemp -d)
trap 'rm -rf "$OUT" "$LOG" "$NEG"' EXIT
"$SRC/scripts/load" --count 50 --rate 0 --duration 12 --tls-streams 0 --out "$NEG" --no-saf > "$LOG" 2>&1
rc=$?
check "without SAF the run fails" test $rc -ne 0
check "without SAF connects stay on S (counted)" test "$(field "$NEG/load.json" '["not_migrated"]')" -gt 0
check "without SAF connections are lost when R1 moves S" test "$(field "$NEG/load.json" '["lost"]')" -gt 0
check "lab removed afterwards (negative run)" bash -c "! ip netns list | grep -q saf-ld-"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
