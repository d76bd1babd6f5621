#!/usr/bin/env bash
# Two centralized schedulers at once (docs/bgp.md, "Two schedulers"):
# every agent reports to both (--sched twice); scheduler A (10.40.1.2)
# announces S with LOCAL_PREF 200, the standby B (10.40.1.3) with 190,
# each through its own ExaBGP speaker to R1 and R1b. Both decide on the
# same reports, so both pick n3 (the nodes' own best is n2). Kill either
# one, restart it: R1 and R1b keep S on n3 throughout. A steady probe
# behind each router (a new TCP connection every 50 ms) and a sampler of
# both routers' kernel routes check that there is no blackhole and not
# even a fallback to plain anycast at any time. Lab prefix saf-bq.
set -uo pipefail
export SAF_LAB_PREFIX=saf-bq
# shellcheck source=bgp_lib.sh
source "$(dirname "$0")/bgp_lib.sh"

"$LAB" up --bgp >/dev/null || { echo "FAIL - lab up --bgp"; exit 1; }
echo 200 > "$W/load2"; echo 600 > "$W/load3"; echo 900 > "$W/load4"
: > "$W/keys"
for k in 2 3 4; do
  openssl rand -hex 32 > "$W/n$k.key"; chmod 600 "$W/n$k.key"
  echo "n$k $(cat "$W/n$k.key")" >> "$W/keys"
done
chmod 600 "$W/keys"
for k in 2 3 4; do agent $k --sched 10.40.1.2 --sched 10.40.1.3 --key "$W/n$k.key"; done
name_servers
declare -A SCHED
sched() { # sched A|B: A at 10.40.1.2 LOCAL_PREF 200, B at 10.40.1.3 190
  local id=$1 addr=10.40.1.2 lp=200
  [[ $id == B ]] && addr=10.40.1.3 lp=190
  ip netns exec "$P-s" "$SAF" sched run --anycast 10.99.0.1 --anycast fd00:99::1 \
    --node n3=10.30.3.2,fd00:30:3::2 --node n4=10.30.4.2,fd00:30:4::2 --keys "$W/keys" \
    --listen "$addr:7946" --state "$W/state$id.json" --min-dwell 300 --node-timeout 800 \
    --bgp exabgp --bgp-peer 10.40.1.1 --bgp-peer 10.40.2.1 --bgp-local "$addr" \
    --bgp-local-pref "$lp" >> "$W/sched$id.log" 2>&1 & PIDS+=($!)
  SCHED[$id]=$!
}
# LOCAL_PREFs of the schedulers' paths (peers in 10.40/16) for S through
# n3 on router R, sorted: "190 200"
lps() {
  vty "$1" "show bgp ipv4 unicast 10.99.0.1/32 json" | python3 -c '
import json, sys
d = json.load(sys.stdin).get("paths", [])
print(*sorted(p.get("locPrf", 0) for p in d if p["peer"]["peerId"].startswith("10.40.")
              and p["nexthops"][0]["ip"] == "10.30.3.2"))'
}
best_lp() { paths "$1" | awk '$4 == "best" { print $3 }'; }
both() { # both CMD EXPECTED: CMD r1 and CMD r1b print EXPECTED
  [[ $("$1" r1) == "$2" && $("$1" r1b) == "$2" ]]
}
# wait_for counts tries, and each try here reads FRR twice: wait by the clock
within() { # within SECONDS CMD...
  local end=$((SECONDS + $1)); shift
  while ((SECONDS < end)); do "$@" && return 0; sleep 0.1; done
  "$@"
}

check "nodes' own announcements: S to n2 on both routers" wait_for 20 routes_to 2
sched A; sched B
check "both schedulers' routes on both routers (LOCAL_PREF 190 and 200 via n3)" within 15 both lps "190 200"
check "S to the schedulers' choice n3 on both routers" routes_to 3
check "A's route is the best on both routers (LOCAL_PREF 200)" both best_lp 200

# From here on: a new connection every 50 ms behind each router, and both
# routers' kernel routes sampled; none may fail, none may leave n3.
: > "$W/probe-stop"; rm -f "$W/probe-stop"
inns c python3 "$SRC/tests/bgp/probe.py" 10.99.0.1 0.05 "$W/probe-stop" > "$W/probe-c" 2>&1 & PIDS+=($!)
inns cb python3 "$SRC/tests/bgp/probe.py" fd00:99::1 0.05 "$W/probe-stop" > "$W/probe-cb" 2>&1 & PIDS+=($!)
( while [[ ! -e $W/probe-stop ]]; do
    for r in r1 r1b; do echo "$r 4 $(via_node $r 4) 6 $(via_node $r 6)"; done
    sleep 0.05
  done ) > "$W/routes" & PIDS+=($!)
sleep 1

kill -9 "${SCHED[A]}"
check "A killed: its route withdrawn on both routers, B's (190) best" within 5 both best_lp 190
check "A killed: S stays on n3 on both routers (B's choice)" routes_to 3
sched A
check "A restarted: it announces again, best LOCAL_PREF 200 on both routers" within 15 both best_lp 200
check "both routes present again on both routers" within 5 both lps "190 200"
kill -9 "${SCHED[B]}"
check "B killed: only A's route (200) on both routers" within 5 both lps "200"
check "B killed: S stays on n3" routes_to 3
sched B
check "B restarted: it announces again (190 and 200) on both routers" within 15 both lps "190 200"
vty r1 "clear bgp 10.40.1.2" >/dev/null
check "A's session flapped on R1: B carries S meanwhile, A's route comes back" within 15 both lps "190 200"
sleep 1
touch "$W/probe-stop"; sleep 0.5

n_c=$(wc -l < "$W/probe-c"); n_cb=$(wc -l < "$W/probe-cb"); n_r=$(wc -l < "$W/routes")
echo "# probes: $n_c behind R1, $n_cb behind R1b; $n_r route samples"
check "steady probe behind R1 (IPv4): every new connection answered by n3" bash -c \
  "(( $n_c > 50 )) && ! grep -v ' n3$' $W/probe-c"
check "steady probe behind R1b (IPv6): every new connection answered by n3" bash -c \
  "(( $n_cb > 50 )) && ! grep -v ' n3$' $W/probe-cb"
check "every kernel route sample on R1 and R1b: S to n3, both families (no blackhole)" bash -c \
  "(( $n_r > 50 )) && ! grep -v ' 4 3 6 3$' $W/routes"
check "no conntrack entries on R1 or R1b" bash -c \
  "[[ \$(ip netns exec $P-r1 conntrack -C 2>/dev/null || echo 0) == 0 && \$(ip netns exec $P-r1b conntrack -C 2>/dev/null || echo 0) == 0 ]]"
finish
