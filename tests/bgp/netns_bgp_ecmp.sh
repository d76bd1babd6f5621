#!/usr/bin/env bash
# Weighted ECMP by link bandwidth (docs/bgp.md, "Weighted ECMP"): the lab
# with SAF_LAB_BGP_MULTIPATH=1, each node's agent announces S with its
# score as link bandwidth (--bgp-link-bandwidth). R1 and R1b must install
# S in their kernels as one multipath route over every node, IPv4 and
# IPv6, with weights in the order of the scores; a load change must change
# the weights; plain TCP connections must be spread over every node. Lab
# prefix saf-be, removed on every exit.
set -uo pipefail
export SAF_LAB_PREFIX=saf-be SAF_LAB_BGP_MULTIPATH=1
# shellcheck source=bgp_lib.sh
source "$(dirname "$0")/bgp_lib.sh"

# weights R F: "K:W ..." by node K, from R's kernel route for S (family F)
weights() {
  local dst=10.99.0.1/32
  [[ $2 == 6 ]] && dst=fd00:99::1/128
  inns "$1" ip -j "-$2" route show "$dst" | python3 -c '
import json, sys
out = []
for r in json.load(sys.stdin):
    if r.get("protocol") != "bgp":
        continue
    for nh in r.get("nexthops") or [{"gateway": r.get("gateway", "?"), "weight": 1}]:
        g = nh["gateway"]
        out.append((g.split(".")[2] if "." in g else g.split(":")[2], nh.get("weight", 1)))
print(" ".join(f"{k}:{w}" for k, w in sorted(out)))'
}
# ordered A B C: on both routers and families, three next hops with the
# weight of node A > B > C
ordered() {
  local r f w
  for r in r1 r1b; do for f in 4 6; do
    w=$(weights "$r" "$f")
    python3 -c '
import sys
w = dict(x.split(":") for x in sys.argv[1].split())
a, b, c = sys.argv[2:5]
sys.exit(0 if len(w) == 3 and int(w[a]) > int(w[b]) > int(w[c]) else 1)' "$w" "$@" || return 1
  done; done
}
show_weights() { local r f; for r in r1 r1b; do for f in 4 6; do echo "#   $r IPv$f: $(weights $r $f)"; done; done; }
# spread CLIENT ADDR N: N new connections; "NODE COUNT" per answering node
spread() {
  inns "$1" python3 -c '
import collections, socket, sys
c = collections.Counter()
for _ in range(int(sys.argv[2])):
    try:
        with socket.create_connection((sys.argv[1], 7000), timeout=2) as s:
            c[s.recv(16).decode() or "empty"] += 1
    except OSError as e:
        c["FAIL-" + type(e).__name__] += 1
print(" ".join(f"{k} {v}" for k, v in sorted(c.items())))' "$2" "$3"
}
# wait_s SECONDS CMD...: by the clock (wait_for counts tries, and each try
# here runs several processes)
wait_s() { local end=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS < end)) || return 1; sleep 0.2; done; }
every_node() { # every_node "SPREAD": n2, n3 and n4 each answered, nothing failed
  [[ $1 =~ n2\ [0-9] && $1 =~ n3\ [0-9] && $1 =~ n4\ [0-9] && ! $1 =~ FAIL ]]
}

"$LAB" up --bgp >/dev/null || { echo "FAIL - lab up --bgp (multipath)"; exit 1; }
echo 200 > "$W/load2"; echo 600 > "$W/load3"; echo 900 > "$W/load4" # scores 7, 6, 4
for k in 2 3 4; do agent $k --bgp-link-bandwidth; done
name_servers

check "three sessions established on R1" wait_for 15 peers_up r1 3
check "three sessions established on R1b" wait_for 15 peers_up r1b 3
check "R1's BGP table holds S from every node, all three used (best or multipath)" wait_for 5 bash -c \
  "[[ \$(vtysh --vty_socket /run/saf-lab/$P/r1 -c 'show bgp ipv4 unicast 10.99.0.1/32 json' | python3 -c '
import json, sys
ps = json.load(sys.stdin).get(\"paths\", [])
print(sum(1 for p in ps if p.get(\"multipath\") or p.get(\"bestpath\", {}).get(\"overall\")))') == 3 ]]"
check "both routers' kernels, IPv4 and IPv6: S over n2, n3, n4 weighted n2 > n3 > n4 (scores 7, 6, 4)" \
  wait_s 5 ordered 2 3 4
show_weights

echo 50 > "$W/load4" # n4 becomes the lightest
check "a load change moves the weights: n4 > n2 > n3 on both routers, both families" wait_s 5 ordered 4 2 3
show_weights

s4=$(spread c 10.99.0.1 40)
echo "#   40 connections behind R1 (IPv4): $s4"
check "plain TCP behind R1 (IPv4): 40 connections land on every node, none fails" every_node "$s4"
s6=$(spread cb fd00:99::1 40)
echo "#   40 connections behind R1b (IPv6): $s6"
check "plain TCP behind R1b (IPv6): 40 connections land on every node, none fails" every_node "$s6"

echo "50 1000 down" > "$W/load4"
check "an unavailable node leaves the group: n2 > n3 only" wait_s 5 bash -c \
  "$(declare -f weights inns); P=$P; for r in r1 r1b; do for f in 4 6; do w=\$(weights \$r \$f); [[ \$w =~ ^2:[0-9]+\ 3:[0-9]+\$ ]] || exit 1; done; done"
check "R1 and R1b keep no conntrack entries" bash -c \
  "[[ \$(ip netns exec $P-r1 conntrack -C 2>/dev/null || echo 0) == 0 && \$(ip netns exec $P-r1b conntrack -C 2>/dev/null || echo 0) == 0 ]]"
finish
