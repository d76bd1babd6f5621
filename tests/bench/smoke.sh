#!/usr/bin/env bash
# The benchmark harnesses (bench/compare, bench/wan, the top-level report)
# end to end with tiny settings: every system set up and torn down, every
# figure produced, and the outcomes that must hold whatever the machine:
# saf keeps no per-flow state on R1 and its streams survive re-scheduling;
# plain anycast's do not; conntrack keeps state; every system opens and
# echoes in the rate and TTFB runs; a route change long after the SYN has
# passed R1 (60 ms, with R1 25 ms away) breaks plain anycast and not saf TCP.
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, eBPF)"; exit 77; }
SRC=${SAF_SOURCE_DIR:?}; B=${SAF_BUILD_DIR:?}
OUT=$(mktemp -d); trap 'rm -rf "$OUT"' EXIT
# Under the sanitizer build the tools' exit status must reflect the bench,
# not LeakSanitizer's verdict on OpenSSL's globals at exit (the harness
# reads their JSON and treats a failed exit as a broken connection).
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
SIZES=200 RATES=2 STREAMS_N=4 SECS=4 RATE_SECS=0.5 REPS=1 HOLD_EXTRA=2 \
  RATE_SYSTEMS="plain saf-tcp mptcp saf-tls" "$SRC/bench/compare/run" "$B" "$OUT" > "$OUT/log" 2>&1
rc=$?
tail -30 "$OUT/log"
check "compare harness exits 0" test $rc -eq 0
md=$OUT/compare.md
check "report written" test -s "$md"
check "plots written" test -s "$OUT/compare-survival.svg"
check "saf-tcp: every connection held, no per-flow state on R1" grep -Eq '^\| saf-tcp \| 200 \| 200 \| 0 \| 0 \|' "$md"
check "conntrack: one entry per connection" grep -Eq '^\| conntrack \| 200 \| 200 \| 2[0-9][0-9] \|' "$md"
check "saf-tcp: all streams survive" grep -Eq '^\| saf-tcp \| 2 \| [1-9][0-9]* \| 4 \| 4 \| 100% \|' "$md"
check "plain anycast: streams break" grep -Eq '^\| plain \| 2 \| [1-9][0-9]* \| 4 \| 0 \| 0% \|' "$md"
for sys in plain saf-tcp mptcp saf-tls; do
  check "rate: $sys connects and echoes, none failed" grep -Eq "^\| $sys \| [1-9][0-9]* \| [0-9.]+ \| [0-9]+ us \| [0-9]+ us \| [0-9]+ us \| 0 \|" "$md"
done
check "compare lab removed" bash -c "! ip netns list | grep -q saf-bc-"

WINDOW_T="0 60" WINDOW_SYSTEMS="plain saf-tcp" TRIES=1 TTFB_N=1 REPS=1 \
  "$SRC/bench/wan/run" "$B" "$OUT" > "$OUT/wan.log" 2>&1
rc=$?
tail -30 "$OUT/wan.log"
check "wan harness exits 0" test $rc -eq 0
wan=$OUT/wan.md
check "wan plots written" test -s "$OUT/wan-window.svg" -a -s "$OUT/wan-ttfb.svg"
check "window: plain breaks at t=60" grep -Eq '^\| 60 \| 100% \| 0% \|' "$wan"
check "window: saf-tcp never breaks" grep -Eq '^\| saf-tcp \| none \| - \| 0 / 2 \|' "$wan"
check "window: the change was timed from the SYN" bash -c "grep -q '\"actual_us\": [0-9]' '$OUT/wan.jsonl'"
for sys in "plain TCP" "plain TLS 1.3" "saf TCP, first connection" "saf TCP, cached repeat" "saf TLS seed procedure" "MPTCP"; do
  check "ttfb: $sys measured, none failed" grep -Eq "^\| $sys.* ms \| [0-9.]+ \| [0-9.]+ \| [0-9]+ \| 0 \|" "$wan"
done
check "ttfb: saf TCP and saf TLS end on the node's unicast address" \
  grep -Eq '^\| saf TLS seed procedure \| .* \| 1 \| 0 \|' "$wan"
check "wan lab removed" bash -c "! ip netns list | grep -q saf-bx-"
python3 "$SRC/bench/report.py" "$OUT" > /dev/null
check "top-level report includes both parts" bash -c "grep -q '### 3. Exposure window' '$OUT/report.md' && grep -q '### 2. Survival' '$OUT/report.md'"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
