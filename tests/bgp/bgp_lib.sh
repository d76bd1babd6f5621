# shellcheck shell=bash
# Shared by the BGP namespace tests (sourced, after SAF_LAB_PREFIX is set):
# the lab with FRR, agents in distributed mode, reading FRR's own state.
# Counts into passes and fails; kills PIDS and removes the lab on exit.
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, routes)"; exit 77; }
command -v exabgp >/dev/null && [[ -x /usr/lib/frr/bgpd ]] ||
  { echo "SKIP: needs exabgp and frr (scripts/install-deps)"; exit 77; }
SAF=${SAF_BIN:?}
SRC=${SAF_SOURCE_DIR:?}
P=${SAF_LAB_PREFIX:?}
LAB="$SRC/scripts/lab"
W=$(mktemp -d); chmod 700 "$W"
PIDS=()
exec 9> "/run/lock/$P-bgp-test.lock"
flock -w 600 9 || { echo "FAIL - another run holds /run/lock/$P-bgp-test.lock"; exit 1; }
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  "$LAB" down >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
inns() { local ns=$1; shift; ip netns exec "$P-$ns" "$@"; }
wait_for() { # wait_for SECONDS CMD...
  local t=$(( $1 * 10 )); shift
  for _ in $(seq "$t"); do "$@" && return 0; sleep 0.1; done
  return 1
}
vty() { local r=$1; shift; vtysh --vty_socket "/run/saf-lab/$P/$r" -c "$*"; }
# kernel route for S on router R (r1, r1b), family 4 or 6: its gateway
gw() {
  if [[ $2 == 4 ]]; then inns "$1" ip -4 route show 10.99.0.1/32
  else inns "$1" ip -6 route show fd00:99::1/128; fi | awk '/proto bgp/ { for (i=1;i<=NF;i++) if ($i=="via") print $(i+1) }'
}
# the node (2, 3, 4) router R sends S to: the gateway's third number
via_node() { local g; g=$(gw "$1" "$2"); [[ -n $g ]] || return 1
  if [[ $2 == 4 ]]; then echo "$g" | cut -d. -f3; else echo "$g" | cut -d: -f3; fi; }
routes_to() { # routes_to NODE: both routers, both families, S goes to NODE
  local r f
  for r in r1 r1b; do for f in 4 6; do [[ $(via_node $r $f) == "$1" ]] || return 1; done; done
}
# BGP paths for S in router R's table (FRR's json): "NEXTHOP MED LOCALPREF best"
paths() {
  vty "$1" "show bgp ipv4 unicast 10.99.0.1/32 json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for p in d.get("paths", []):
    nh = p["nexthops"][0]["ip"]
    print(nh, p.get("metric", "-"), p.get("locPrf", "-"), "best" if p.get("bestpath", {}).get("overall") else "")'
}
peers_up() { # peers_up R N: N sessions established on R
  [[ $(vty "$1" "show bgp summary json" | python3 -c '
import json, sys
d = json.load(sys.stdin).get("ipv4Unicast", {}).get("peers", {})
print(sum(1 for p in d.values() if p.get("state") == "Established"))') == "$2" ]]
}
agent() { # agent K: node K's agent in distributed mode, load from $W/loadK
  local k=$1
  ip netns exec "$P-n$k" "$SAF" node agent --name "n$k" --load-file "$W/load$k" --interval 100 \
    --bgp exabgp --bgp-peer "10.20.$k.1" --bgp-peer "10.21.$k.1" --bgp-local "10.30.$k.2" \
    --bgp-nexthop "fd00:30:$k::2" --bgp-anycast 10.99.0.1 --bgp-anycast fd00:99::1 \
    "${@:2}" >> "$W/agent$k.log" 2>&1 & PIDS+=($!)
  AGENT[$k]=$!
}
declare -A AGENT
speaker_of() { pgrep -P "${AGENT[$1]}" -f 'exabgp.conf'; }
# a TCP service on every node that answers with the node's name
name_servers() {
  local k
  for k in 2 3 4; do
    inns "n$k" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", 7000)); s.listen(64)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[1].encode()); c.close()' "n$k" & PIDS+=($!)
  done
}
ask() { # ask CLIENT_NS ADDR: which node answers on ADDR:7000
  inns "$1" python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7000), timeout=2); print(s.recv(16).decode())' "$2" 2>/dev/null
}
finish() {
  # a SIGKILLed saf process leaves no speaker directory behind either
  check "no speaker directory left by killed saf processes" wait_for 5 bash -c \
    "[[ \$(ls -d /tmp/saf-bgp-* 2>/dev/null | wc -l) -le \$(pgrep -fc 'saf-bgp-.*exabgp.conf') ]]"
  echo "# $passes passed, $fails failed"
  [[ $fails -eq 0 ]]
}
