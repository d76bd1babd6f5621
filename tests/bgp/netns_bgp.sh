#!/usr/bin/env bash
# Distributed BGP steering for real (docs/bgp.md): FRR on R1 and R1b, an
# ExaBGP speaker per node driven by `saf node agent --bgp exabgp`. Each
# node announces S with MED 10 - its L2 score; both ingress routers pick
# the best node from BGP alone, IPv4 and IPv6, and follow load changes,
# an unavailable node, a killed speaker, a killed agent and a flapped
# session. Lab prefix saf-bg, removed on every exit.
set -uo pipefail
export SAF_LAB_PREFIX=saf-bg
# shellcheck source=bgp_lib.sh
source "$(dirname "$0")/bgp_lib.sh"

"$LAB" up --bgp >/dev/null || { echo "FAIL - lab up --bgp"; exit 1; }
check "no static route for S on R1: BGP's alone" bash -c "! ip netns exec $P-r1 ip route show 10.99.0.1/32 | grep -q ."
echo 200 > "$W/load2"; echo 600 > "$W/load3"; echo 900 > "$W/load4"
for k in 2 3 4; do agent $k; done
name_servers

check "three sessions established on R1" wait_for 15 peers_up r1 3
check "three sessions established on R1b" wait_for 15 peers_up r1b 3
check "both routers, IPv4 and IPv6: S to the lightest node n2" wait_for 5 routes_to 2
check "R1's BGP table: one path per node, n2 best with MED 3 (CATS L2 7; n3 6, n4 4)" bash -c \
  "$(declare -f paths vty); P=$P; paths r1 | sort > $W/paths; cat $W/paths; grep -qx '10.30.2.2 3 100 best' $W/paths && grep -qx '10.30.3.2 4 100 ' $W/paths && grep -qx '10.30.4.2 6 100 ' $W/paths"
check "client behind R1 reaches n2 on S" bash -c "[[ \$($(declare -f ask inns); P=$P; ask c 10.99.0.1) == n2 ]]"
check "client behind R1b reaches n2 on S (IPv6)" bash -c "[[ \$($(declare -f ask inns); P=$P; ask cb fd00:99::1) == n2 ]]"

echo 50 > "$W/load4"
check "a lighter node takes S on both routers" wait_for 3 routes_to 4
check "client behind R1b now reaches n4" bash -c "[[ \$($(declare -f ask inns); P=$P; ask cb 10.99.0.1) == n4 ]]"

echo "50 1000 down" > "$W/load4"
check "an unavailable node withdraws: S back to n2" wait_for 3 routes_to 2
check "its path is gone from R1's table" bash -c "$(declare -f paths vty); P=$P; ! paths r1 | grep -q 10.30.4.2"
echo 50 > "$W/load4"
check "available again: S to n4" wait_for 3 routes_to 4

sp=$(speaker_of 4)
check "node 4's speaker runs" test -n "$sp"
kill -9 $sp
check "speaker killed: its announcement withdrawn, S to n2" wait_for 3 routes_to 2
check "new clients of S go to n2 (before the speaker is restarted)" bash -c "[[ \$($(declare -f ask inns); P=$P; ask c 10.99.0.1) == n2 ]]"
check "n4's unicast address still answers through both routers" bash -c \
  "[[ \$($(declare -f ask inns); P=$P; ask c 10.30.4.2) == n4 && \$($(declare -f ask inns); P=$P; ask cb 10.30.4.2) == n4 ]]"
check "the agent restarts its speaker and S returns to n4" wait_for 15 routes_to 4
check "the agent logged the restart" grep -q "died; restarting" "$W/agent4.log"

vty r1 "clear bgp 10.30.4.2" >/dev/null
check "session flapped on R1: S moves off n4 there or stays, and returns" wait_for 15 routes_to 4
check "the flap was seen by the speaker" wait_for 5 grep -q "10.20.4.1 down" "$W/agent4.log"

kill -9 "${AGENT[4]}"
check "agent killed: its speaker goes too, S to n2" wait_for 5 routes_to 2
check "no speaker left behind by the killed agent" wait_for 5 bash -c "[[ \$(ip netns pids $P-n4 | wc -l) == 1 ]]" # the name server
check "R1 and R1b keep no conntrack entries" bash -c \
  "[[ \$(ip netns exec $P-r1 conntrack -C 2>/dev/null || echo 0) == 0 && \$(ip netns exec $P-r1b conntrack -C 2>/dev/null || echo 0) == 0 ]]"
finish
