#!/usr/bin/env bash
# bench/cont end to end with tiny settings (QUICK=1): the lab with a 25 ms
# delay comes up and goes, every client variant gets its echo, and the
# report has every row and the move's stall. No timing is asserted: with
# three samples and process start-up in every one (slow under ASan), round
# trip counts are numbers for `make bench`, not for a test.
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
check "continuity's move measured (stall line)" grep -q "median stall" "$md"
check "throughput ratio reported" grep -q "Framing overhead" "$md"
check "lab removed" bash -c "! ip netns list | grep -q saf-kb-"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
