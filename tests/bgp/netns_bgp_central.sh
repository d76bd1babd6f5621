#!/usr/bin/env bash
# Centralized BGP steering for real (docs/bgp.md): the nodes announce S
# themselves (distributed mode, the fallback), and `saf sched run --bgp
# exabgp` on the scheduler host beside R1 and R1b announces S through its
# chosen node with LOCAL_PREF 200. The scheduler knows only n3 and n4, so
# its choice (n3) differs from the nodes' own best (n2). Faults: the
# scheduler killed (fallback to the nodes' routes, never no route),
# restarted (takes over again), its speaker killed, a session flapped.
# Lab prefix saf-bh, removed on every exit.
set -uo pipefail
export SAF_LAB_PREFIX=saf-bh
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
for k in 2 3 4; do agent $k --sched 10.40.1.2 --key "$W/n$k.key"; done
name_servers
sched() {
  ip netns exec "$P-s" "$SAF" sched run --anycast 10.99.0.1 --anycast fd00:99::1 \
    --node n3=10.30.3.2,fd00:30:3::2 --node n4=10.30.4.2,fd00:30:4::2 --keys "$W/keys" \
    --state "$W/state.json" --min-dwell 300 --node-timeout 800 \
    --bgp exabgp --bgp-peer 10.40.1.1 --bgp-peer 10.40.2.1 --bgp-local 10.40.1.2 \
    >> "$W/sched.log" 2>&1 & PIDS+=($!)
  SCHED=$!
}
check "nodes' own announcements: S to n2 on both routers" wait_for 20 routes_to 2
sched
check "scheduler's route wins: S to its choice n3 on both routers" wait_for 15 routes_to 3
check "R1's best path for S has LOCAL_PREF 200 via n3" bash -c \
  "$(declare -f paths vty); P=$P; paths r1 | tee $W/paths | grep -qx '10.30.3.2 - 200 best'"
check "clients behind R1 and R1b reach n3" bash -c \
  "[[ \$($(declare -f ask inns); P=$P; ask c 10.99.0.1) == n3 && \$($(declare -f ask inns); P=$P; ask cb fd00:99::1) == n3 ]]"

# Kill the scheduler: its speaker's sessions close, R1 and R1b fall back
# to the nodes' own routes. Sample R1's kernel route meanwhile: S must
# never be without a route (no blackhole).
( for _ in $(seq 60); do gw r1 4 | grep -q . || echo GAP; sleep 0.05; done ) > "$W/gaps" &
sampler=$!
kill -9 "$SCHED"
check "scheduler killed: both routers fall back to the nodes' best, n2" wait_for 3 routes_to 2
wait $sampler
check "R1 had a route for S at every sample (no blackhole)" bash -c "! grep -q GAP $W/gaps"
check "new connections to S work after the fallback" bash -c "[[ \$($(declare -f ask inns); P=$P; ask c 10.99.0.1) == n2 ]]"

sched
check "scheduler restarted: it takes over again (n3)" wait_for 15 routes_to 3

sp=$(pgrep -P "$SCHED" -f exabgp.conf)
kill -9 $sp
check "scheduler's speaker killed: fallback to n2" wait_for 3 routes_to 2
check "the scheduler restarts its speaker and takes over (n3)" wait_for 15 routes_to 3

vty r1 "clear bgp 10.40.1.2" >/dev/null
check "session flapped on R1: the scheduler's route comes back there" wait_for 15 routes_to 3
kill "$SCHED"; wait "$SCHED" 2>/dev/null
check "scheduler stopped (SIGTERM): its route withdrawn, n2" wait_for 3 routes_to 2
finish
