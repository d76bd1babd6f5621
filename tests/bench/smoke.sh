#!/usr/bin/env bash
# The comparison harness end to end with tiny settings: every system set up
# and torn down, every figure produced, and the outcomes that must hold
# whatever the machine: saf keeps no per-flow state on R1 and its streams
# survive re-scheduling; plain anycast's do not; conntrack keeps state.
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, eBPF)"; exit 77; }
SRC=${SAF_SOURCE_DIR:?}; B=${SAF_BUILD_DIR:?}
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
SIZES=200 RATES=2 STREAMS_N=4 SECS=4 RATE_SECS=1 HOLD_EXTRA=2 "$SRC/bench/compare/run" "$B" "$OUT" > "$OUT/log" 2>&1
rc=$?
tail -30 "$OUT/log"
check "harness exits 0" test $rc -eq 0
md=$OUT/compare.md
check "report written" test -s "$md"
check "plots written" test -s "$OUT/compare-survival.svg"
check "saf-tcp: every connection held, no per-flow state on R1" grep -Eq '^\| saf-tcp \| 200 \| 200 \| 0 \| 0 \|' "$md"
check "conntrack: one entry per connection" grep -Eq '^\| conntrack \| 200 \| 200 \| 2[0-9][0-9] \|' "$md"
check "saf-tcp: all streams survive" grep -Eq '^\| saf-tcp \| 2 \| [1-9][0-9]* \| 4 \| 4 \| 100% \|' "$md"
check "plain anycast: streams break" grep -Eq '^\| plain \| 2 \| [1-9][0-9]* \| 4 \| 0 \| 0% \|' "$md"
check "lab removed" bash -c "! ip netns list | grep -q saf-bc-"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
