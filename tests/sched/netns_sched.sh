#!/usr/bin/env bash
# The scheduler for real: agents report from node namespaces, R1's route
# for S is replaced over rtnetlink and read back; one node's key cannot
# speak for another, replayed echoes and reports captured before a restart
# are dropped; silent nodes are taken out, kernel refusals are reported
# with the kernel's own message. Lab prefix saf-ls, removed on every exit.
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, routes)"; exit 77; }
SAF=${SAF_BIN:?}
SRC=${SAF_SOURCE_DIR:?}
export SAF_LAB_PREFIX=saf-ls
LAB="$SRC/scripts/lab"
W=$(mktemp -d); chmod 700 "$W"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  "$LAB" down >/dev/null 2>&1
  [[ -n ${SAF_KEEP:-} ]] && echo "kept $W" || rm -rf "$W"
}
trap cleanup EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
inns() { local ns=$1; shift; nsenter --net="/run/netns/saf-ls-$ns" "$@"; }
route4() { inns r1 ip -4 route show 10.99.0.1/32; }
route6() { inns r1 ip -6 route show fd00:99::1/128; }
state() { python3 -c "import json,sys; d=json.load(open('$W/state.json')); print(eval(sys.argv[1]))" "$1"; }
wait_for() { # wait_for SECONDS CMD...
  local t=$(( $1 * 10 )); shift
  for _ in $(seq "$t"); do "$@" && return 0; sleep 0.1; done
  return 1
}
agent() { # agent K: n<K> with its own key
  local k=$1 key=$W/n$1.key
  nsenter --net="/run/netns/saf-ls-n$k" "$SAF" node agent --name "n$k" --sched "10.20.$k.1" --key "$key" \
    --load-file "$W/load$k" --interval 100 > "$W/agent$k.log" 2>&1 & PIDS+=($!)
  AGENT[$k]=$!
}
declare -A AGENT

"$LAB" up >/dev/null || { echo "FAIL - lab up"; exit 1; }
# A key per node; R1's key file maps each node name to its key.
for k in n2 n3 n4 bad; do
  openssl rand -hex 32 > "$W/$k.key"; chmod 600 "$W/$k.key"
  echo "$k $(cat "$W/$k.key")" >> "$W/keys"
done
chmod 600 "$W/keys"
echo 200 > "$W/load2"; echo 600 > "$W/load3"; echo 900 > "$W/load4"
for k in 2 3 4; do agent $k; done

nsenter --net=/run/netns/saf-ls-r1 "$SAF" sched run --anycast 10.99.0.1 --anycast fd00:99::1 \
  --node n2=10.20.2.2,fd00:20:2::2 --node n3=10.20.3.2,fd00:20:3::2 --node n4=10.20.4.2,fd00:20:4::2 \
  --keys "$W/keys" --state "$W/state.json" --events "$W/events.jsonl" --metrics 127.0.0.1:9464 \
  --min-dwell 300 --node-timeout 800 > "$W/sched.log" 2>&1 & PIDS+=($!)
SCHED=$!

check "route for S (IPv4) replaced to the lightest node n2" wait_for 5 bash -c "$(declare -f inns route4); route4 | grep -q 'via 10.20.2.2'"
check "route for S (IPv6) replaced too" bash -c "$(declare -f inns route6); route6 | grep -q 'via fd00:20:2::2'"

# What an attacker on n2's path records: its reports and echoes, byte for byte.
inns n2 python3 "$SRC/tests/sched/udp_capture.py" capture 10.30.2.2 7946 1.5 "$W/n2.cap" & CAPTURE=$!

echo 50 > "$W/load4"
check "a lighter node takes S" wait_for 5 bash -c "$(declare -f inns route4); route4 | grep -q 'via 10.20.4.2'"
check "events file records the change" wait_for 2 bash -c "grep -q '\"choice\":\"n4\"' '$W/events.jsonl'"

# A compromised node speaks for another: n3's agent, with n3's own key,
# reports n4 down. Accepted, it would take n4 out at once (a node out moves
# S with no hysteresis), and its higher sequence numbers would lock the
# genuine n4 out: these reports are the only thing that could move S.
CHANGES=$(grep -c '"event":"change"' "$W/events.jsonl")
echo "0 1000 down" > "$W/forged-load"
inns n3 "$SAF" node agent --name n4 --sched 10.20.3.1 --key "$W/n3.key" \
  --load-file "$W/forged-load" --interval 50 --duration 1.5 > /dev/null 2>&1
sleep 0.3
check "n3's key speaking for n4: dropped and counted as forged" bash -c "[[ \$(python3 -c \"import json; print(json.load(open('$W/state.json'))['counters']['forged'])\") -gt 5 ]]"
check "n3's key speaking for n4: S did not move" bash -c "$(declare -f inns route4); route4 | grep -q 'via 10.20.4.2'"
check "n3's key speaking for n4: no route change" test "$(grep -c '"event":"change"' "$W/events.jsonl")" = "$CHANGES"

# n4 goes silent: taken out, S moves; it reports again: back in.
kill "${AGENT[4]}"
check "silent node taken out, S moves to n2" wait_for 5 bash -c "$(declare -f inns route4); route4 | grep -q 'via 10.20.2.2'"
check "node timeout counted" bash -c "grep -q '\"node_timeouts\":[1-9]' '$W/state.json'"
agent 4
check "node back when it reports again" wait_for 5 bash -c "$(declare -f inns route4); route4 | grep -q 'via 10.20.4.2'"

check "status command prints the state" bash -c "'$SAF' sched status --state '$W/state.json' | grep -q '\"current\":\"n4\"'"
inns r1 python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9464/metrics').read().decode())" > "$W/metrics" 2>&1
check "Prometheus metrics served" grep -q '^saf_sched_route_changes_total [1-9]' "$W/metrics"
check "per-node metrics labelled" grep -q 'saf_sched_node_up{node="n4"} 1' "$W/metrics"
check "dropped reports and echoes in the metrics" bash -c "grep -q 'saf_sched_reports_dropped_total{reason=\"forged\"} [1-9]' '$W/metrics' && grep -q 'saf_sched_echoes_dropped_total{reason=\"unsolicited\"}' '$W/metrics' && grep -q '^saf_sched_echoes_total [1-9]' '$W/metrics'"
check "R1 keeps no conntrack entries" test "$(inns r1 conntrack -C 2>/dev/null || echo 0)" = 0

# n2's agent goes away; its echoes, captured seconds ago, are sent again
# from its address and port. Not answers to any probe now: dropped and
# counted, n2's delay estimate unchanged.
wait "$CAPTURE"
kill "${AGENT[2]}"; wait "${AGENT[2]}" 2>/dev/null
inns n2 python3 "$SRC/tests/sched/udp_capture.py" replay "$W/n2.cap" 3 10.20.2.1 7946 10 0.03 > "$W/replay-echo.log" 2>&1
sleep 0.3
check "replayed echoes dropped and counted" bash -c "[[ \$(python3 -c \"import json; print(json.load(open('$W/state.json'))['counters'].get('echo_unsolicited',0))\") -ge 10 ]]"
check "replayed echoes did not change n2's delay" python3 -c "import json,sys; d=json.load(open('$W/state.json')); n=[x for x in d['nodes'] if x['name']=='n2'][0]; sys.exit(0 if n['delay_ms'] < 20 else 1)"
kill "$SCHED"; wait "$SCHED" 2>/dev/null

# A restarted scheduler recovers the current choice from the kernel.
inns r1 "$SAF" sched run --anycast 10.99.0.1 --node n2=10.20.2.2 --node n3=10.20.3.2 --node n4=10.20.4.2 \
  --keys "$W/keys" --state "$W/state2.json" --duration 0.5 > /dev/null 2>&1
check "restart recovers the choice from the kernel" grep -q '"current":"n4"' "$W/state2.json"

# n2's reports captured before the restart, sent again after it from n2's
# address and port (n2's agent is gone): refused, n2 stays unreported.
inns r1 "$SAF" sched run --anycast 10.99.0.1 --node n2=10.20.2.2 --node n3=10.20.3.2 --node n4=10.20.4.2 \
  --keys "$W/keys" --state "$W/state5.json" --duration 1.2 > /dev/null 2>&1 & R5=$!
sleep 0.3
inns n2 python3 "$SRC/tests/sched/udp_capture.py" replay "$W/n2.cap" 1 10.20.2.1 7946 10 0.05 > "$W/replay-report.log" 2>&1
wait $R5
check "reports captured before a restart are refused after it" python3 -c "import json,sys; d=json.load(open('$W/state5.json')); n=[x for x in d['nodes'] if x['name']=='n2'][0]; sys.exit(0 if n['ms_since_report'] == -1 else 1)"
agent 2 # back for the multipath check below

# The kernel refuses a next hop it cannot reach: the error reaches the log
# with the kernel's extended-ack text, and is counted.
nsenter --net=/run/netns/saf-ls-r1 "$SAF" sched run --anycast 10.99.0.1 --node bad=192.0.2.77 --keys "$W/keys" \
  --state "$W/state3.json" --node-timeout 100000 --duration 1.5 > "$W/bad.log" 2>&1 &
BADPID=$!
inns n2 "$SAF" node agent --name bad --sched 10.20.2.1 --key "$W/bad.key" --load-file "$W/load2" --interval 100 --duration 1.4 >/dev/null 2>&1
wait $BADPID
check "kernel refusal reported with its message" grep -q "route replace: .*: Nexthop has invalid gateway" "$W/bad.log"
check "kernel refusal counted" grep -q '"route_errors":[1-9]' "$W/state3.json"

# Weighted multipath: every node in, weights by score.
inns r1 "$SAF" sched run --anycast 10.99.0.1 --multipath --node n2=10.20.2.2 --node n3=10.20.3.2 --node n4=10.20.4.2 \
  --keys "$W/keys" --state "$W/state4.json" --duration 2 > /dev/null 2>&1
inns r1 ip route show 10.99.0.1/32 > "$W/mp"
check "multipath route with three weighted next hops" test "$(grep -c 'nexthop via 10.20.[234].2 .*weight' "$W/mp")" = 3

# Bad input.
"$SAF" sched run --anycast 10.99.0.1 --keys "$W/keys" 2> "$W/e"; rc=$?
check "no --node: exit 2" bash -c "[[ $rc -eq 2 ]] && grep -q 'node' '$W/e'"
"$SAF" sched run --anycast 10.99.0.1 --node n2=10.20.2.2 --node n5=10.20.2.2 --keys "$W/keys" 2> "$W/e"; rc=$?
check "a node without a key: refused, named" bash -c "[[ $rc -eq 2 ]] && grep -q \"node 'n5' has no key\" '$W/e'"
"$SAF" sched run --anycast 10.99.0.1 --node n2=10.20.2.2 --key "$W/n2.key" 2> "$W/e"; rc=$?
check "the old --key: refused, pointing at --keys" bash -c "[[ $rc -eq 2 ]] && grep -q 'takes --keys FILE' '$W/e'"
chmod 644 "$W/keys"
"$SAF" sched run --anycast 10.99.0.1 --node n2=10.20.2.2 --keys "$W/keys" 2> "$W/e"; rc=$?
check "key file readable by others: refused" bash -c "[[ $rc -eq 2 ]] && grep -q 'chmod 600' '$W/e'"

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
