#!/usr/bin/env bash
# Keepalive on the node's connections on S (docs/tcp.md, "Abandoned
# connections on S"): a client that follows the advert closes its first
# connection with RST; when that RST never reaches the node (R1 moved S in
# between, here: dropped in the client's namespace), the node's keepalive
# probe draws a RST from the client's kernel and the unmodified server
# sees ECONNRESET within IDLE+INTVL*CNT. The control with --keepalive off
# keeps the connection; connections really in use on S are not reset.
# Real eBPF programs and packets in the lab topology under the prefix
# saf-tk (its own namespaces, cgroups and bpffs pins), removed on every exit.
set -uo pipefail

SRC=${SAF_SOURCE_DIR:?}
command -v nft >/dev/null || { echo "SKIP: needs nft (to lose the client's RST)"; exit 77; }

# shellcheck source=netns_lib.sh
. "$SRC/tests/tcp/netns_lib.sh"
PINS=/run/saf/tk-test
# Removes whatever a run of this test left behind (also one that was
# killed before its own cleanup), so a run starts from nothing.
reset() {
  ip netns exec saf-tk-c nft delete table inet saf_tk 2>/dev/null
  netns_reset saf-tk node client client-all
}
netns_test_start saf-tk

# Short times, so the test waits seconds: IDLE 2 s, then 2 probes 1 s apart.
KA=2,1,2 IDLE=2 BOUND=$((2 + 1 * 2))

node_attach() {
  "$SAF" tcp detach --pin-dir "$PINS/node" >/dev/null 2>&1
  "$SAF" tcp node attach --cgroup "$CG/saf-tk-node" --pin-dir "$PINS/node" \
    --anycast 10.99.0.1 --unicast 10.30.2.2 --anycast fd00:99::1 --unicast fd00:30:2::2 "$@"
}
SERVER=
stop_server() {
  [[ -n $SERVER ]] || return 0
  kill "$SERVER"; wait "$SERVER" 2>/dev/null
  while ip netns exec saf-tk-n2 ss -Hltn "sport = :7000" | grep -q .; do sleep 0.05; done
  SERVER=
}
start_server() { # a fresh echo server on n2:7000, armed by the program attached now
  stop_server
  run_in saf-tk-node saf-tk-n2 python3 "$SRC/tests/lib/echo_server.py" 7000 --events > "$WORK/events" & PIDS+=($!)
  SERVER=$!
  wait_listen saf-tk-n2 7000
}
# conns_on ADDR: the node's established connections whose local side is
# ADDR:7000, as ss prints them (with their timer: keepalive or none).
conns_on() {
  local a=$1
  [[ $a == *:* ]] || a="::ffff:$a"
  ip netns exec saf-tk-n2 ss -Htno state established '( sport = :7000 )' | awk -v a="[$a]:7000" '$3 == a'
}
has_keepalive() { grep -q 'timer:(keepalive' "$1"; }
no_keepalive() { [[ -s $1 ]] && ! grep -q 'timer:(keepalive' "$1"; }

"$LAB" up >/dev/null || { echo "FAIL - lab up"; exit 1; }
mkdir -p "$CG/saf-tk-node" "$CG/saf-tk-client" "$CG/saf-tk-client-all"
"$SAF" tcp client attach --cgroup "$CG/saf-tk-client" --pin-dir "$PINS/client" \
  --anycast 10.99.0.1 --anycast fd00:99::1 || bad "client attach"
"$SAF" tcp client attach --cgroup "$CG/saf-tk-client-all" --pin-dir "$PINS/client-all" || bad "client attach (all destinations)"

# abandon S U: the client follows the advert from S to U and talks there
# (one line, BOUND+2 s of silence, another line) while its RST for S is
# dropped on the way out; the drop rule goes once the client is on U, so
# the RST it sends in answer to a keepalive probe passes. Leaves the node's
# connections on S and U just after the move in $WORK/on_s and on_u, and
# sets gone_ms: when (ms after the connect) the node's connection on S
# went, -1 when it was still there when the client finished.
abandon() {
  local s=$1 u=$2 fam=ip l1=one-$RANDOM l2=two-$RANDOM start client
  [[ $s == *:* ]] && fam=ip6
  ip netns exec saf-tk-c nft -f - <<NFT
table inet saf_tk {
  chain out {
    type filter hook output priority 0; policy accept;
    $fam daddr $s tcp dport 7000 tcp flags & rst == rst counter drop
  }
}
NFT
  printf '%s\n%s\n' "$l1" "$l2" > "$WORK/in"
  : > "$WORK/out"
  start=$(date +%s%N)
  { echo "$l1"; sleep $((BOUND + 2)); echo "$l2"; } |
    (run_in saf-tk-client saf-tk-c "$SAF" tcp connect -v --pin-dir "$PINS/client" "$(fmt "$s"):7000" > "$WORK/out" 2> "$WORK/err") &
  client=$!
  for _ in $(seq 50); do grep -q "$l1" "$WORK/out" && break; sleep 0.1; done
  dropped=$(ip netns exec saf-tk-c nft list table inet saf_tk | grep -o 'packets [0-9]*' | awk '{print $2}')
  ip netns exec saf-tk-c nft delete table inet saf_tk
  conns_on "$s" > "$WORK/on_s"
  conns_on "$u" > "$WORK/on_u"
  gone_ms=-1
  while kill -0 "$client" 2>/dev/null; do
    if ! conns_on "$s" | grep -q .; then
      gone_ms=$(( ($(date +%s%N) - start) / 1000000 ))
      break
    fi
    sleep 0.05
  done
  wait "$client"
}
fmt() { [[ $1 == *:* ]] && echo "[$1]" || echo "$1"; }
event() { # event ADDR HOW: the server closed a connection on ADDR:7000 after HOW
  grep -F "closed $(fmt "$1"):7000 " "$WORK/events" | grep -q " $2\$"
}

# --- keepalive on: the abandoned connection on S is reset within the bound
stop_server; node_attach --keepalive "$KA" || bad "node attach --keepalive $KA"
start_server
for pair in "10.99.0.1 10.30.2.2" "fd00:99::1 fd00:30:2::2"; do
  read -r s u <<< "$pair"
  k0=$(counter "$PINS/node" node_keepalive_set)
  abandon "$s" "$u"
  check "$s: the client's RST for S was dropped ($dropped)" test "${dropped:-0}" -ge 1
  check "$s: after the move the node's connection on S is ESTABLISHED, with keepalive" has_keepalive "$WORK/on_s"
  check "$s: the connection on U has no keepalive" no_keepalive "$WORK/on_u"
  check "$s: keepalive counted once (the connection on S)" test "$(counter "$PINS/node" node_keepalive_set)" -eq $((k0 + 1))
  check "$s: the connection on S is gone within IDLE+INTVL*CNT ($gone_ms ms, bound ${BOUND} s)" \
    test "$gone_ms" -ge $((IDLE * 1000 - 100)) -a "$gone_ms" -le $((BOUND * 1000 + 1000))
  check "$s: the server read ECONNRESET on S and closed it" event "$s" ECONNRESET
  check "$s: migrated to $u" grep -qF "migrated: on $(fmt "$u"):7000" "$WORK/err"
  check "$s: the connection on U still echoed after the bound" cmp -s "$WORK/in" "$WORK/out"
  check "$s: the connection on U ended normally" event "$u" eof
done
check "no keepalive refused by the kernel" test "$(counter "$PINS/node" node_keepalive_failed)" -eq 0

# --- the control: --keepalive off leaves the abandoned connection for good
stop_server; node_attach --keepalive off || bad "node attach --keepalive off"
start_server
k0=$(counter "$PINS/node" node_keepalive_set)
abandon 10.99.0.1 10.30.2.2
check "off: the client's RST for S was dropped ($dropped)" test "${dropped:-0}" -ge 1
conns_on 10.99.0.1 > "$WORK/on_s_after"
check "off: ESTABLISHED on the node after the move, no keepalive" no_keepalive "$WORK/on_s"
check "off: still ESTABLISHED after IDLE+INTVL*CNT+2 s ($gone_ms)" \
  bash -c "[[ $gone_ms -eq -1 ]] && grep -q . '$WORK/on_s_after'"
check "off: the server saw no reset" bash -c "! grep -q ECONNRESET '$WORK/events'"
check "off: nothing counted" test "$(counter "$PINS/node" node_keepalive_set)" -eq "$k0"
check "off: the client still migrated and echoed" cmp -s "$WORK/in" "$WORK/out"

# --- connections in use on S are not reset: one that got an advert and
# stays (a client in the client cgroup that ignores it), one without SAF
# (outside the cgroup: no advert, no keepalive). Both idle past the bound,
# then echo again.
stop_server; node_attach --keepalive "$KA" || bad "node attach --keepalive $KA"
start_server
k0=$(counter "$PINS/node" node_keepalive_set) a0=$(counter "$PINS/client" client_adverts)
stay() { # stay CGROUP NAME: connect to S, echo, idle BOUND+2 s, echo again
  (run_in "$1" saf-tk-c python3 -c "
import socket, sys, time
s = socket.create_connection(('10.99.0.1', 7000), timeout=5)
print(s.getsockname()[1], flush=True)
for b in (b'a', b'b'):
    s.sendall(b)
    assert s.recv(1) == b
    if b == b'a':
        time.sleep($BOUND + 2)
print('still-echoing', flush=True)" > "$WORK/stay-$2" 2>&1)
}
stay saf-tk-client advert & c1=$!
stay - nosaf & c2=$!
for _ in $(seq 100); do [[ -s $WORK/stay-advert && -s $WORK/stay-nosaf ]] && break; sleep 0.1; done
sleep 0.5
conns_on 10.99.0.1 > "$WORK/on_s"
for who in advert nosaf; do # each client's connection, by its port
  grep -E ":$(head -1 "$WORK/stay-$who")( |\$)" "$WORK/on_s" > "$WORK/on_s-$who"
done
check "in use on S: the client with the advert has keepalive" has_keepalive "$WORK/on_s-advert"
check "in use on S: the client without SAF has none" no_keepalive "$WORK/on_s-nosaf"
wait "$c1" "$c2"
check "in use on S, advert received and ignored: still echoes after the bound" grep -q still-echoing "$WORK/stay-advert"
check "in use on S, no SAF: still echoes after the bound" grep -q still-echoing "$WORK/stay-nosaf"
check "in use on S: the advert really came" test "$(counter "$PINS/client" client_adverts)" -gt "$a0"
check "in use on S: keepalive counted once (only the one with SAF)" test "$(counter "$PINS/node" node_keepalive_set)" -eq $((k0 + 1))
check "in use on S: the server saw no reset" bash -c "! grep -q ECONNRESET '$WORK/events'"

hold() { # hold CGROUP ADDR FILE: a connection to ADDR:7000 held 5 s; the node's side into FILE
  # Waits for the connection rather than a fixed time: on a loaded machine
  # python and the cgroup join can take longer than half a second.
  (run_in "$1" saf-tk-c python3 -c "
import socket, time
s = socket.create_connection(('$2', 7000), timeout=5)
time.sleep(5)") & local c=$!
  for _ in $(seq 40); do
    sleep 0.1
    conns_on "$2" > "$3"
    [[ -s $3 ]] && break
  done
  wait "$c"
}

# A SYN with SAF to the unicast address: no advert, no keepalive.
k0=$(counter "$PINS/node" node_keepalive_set)
hold saf-tk-client-all 10.30.2.2 "$WORK/on_u"
check "SAF to the unicast address: no keepalive" no_keepalive "$WORK/on_u"
check "SAF to the unicast address: nothing counted" test "$(counter "$PINS/node" node_keepalive_set)" -eq "$k0"

# SYN cookies: the child has no saved SYN; one of an armed listener on S
# still gets keepalive (its SYN-ACK carried the advert).
ip netns exec saf-tk-n2 sysctl -qw net.ipv4.tcp_syncookies=2
k0=$(counter "$PINS/node" node_keepalive_set)
hold saf-tk-client 10.99.0.1 "$WORK/on_s"
ip netns exec saf-tk-n2 sysctl -qw net.ipv4.tcp_syncookies=1
check "under SYN cookies: keepalive on S" has_keepalive "$WORK/on_s"
check "under SYN cookies: counted" test "$(counter "$PINS/node" node_keepalive_set)" -eq $((k0 + 1))

# The counters in the three formats, and the CLI's refusals.
"$SAF" tcp status --pin-dir "$PINS/node" > "$WORK/st"
check "status text: node_keepalive_set" grep -Eq '^ +node_keepalive_set +[1-9]' "$WORK/st"
"$SAF" tcp status --prometheus --pin-dir "$PINS/node" > "$WORK/prom"
check "Prometheus: keepalive set" grep -Eq '^saf_tcp_node_keepalive_total\{result="set",pin_dir="[^"]*"\} [1-9]' "$WORK/prom"
check "Prometheus: keepalive failed 0" grep -Eq '^saf_tcp_node_keepalive_total\{result="failed",pin_dir="[^"]*"\} 0$' "$WORK/prom"
for arg in 0 2,1 2,0,2 2,1,128 32768 x '2,1,2,'; do
  "$SAF" tcp node attach --cgroup "$CG/saf-tk-node" --anycast 10.99.0.1 --unicast 10.30.2.2 \
    --keepalive "$arg" --pin-dir "$PINS/x" 2> "$WORK/e"; rc=$?
  check "--keepalive $arg: exit 2 with a clear error" bash -c "[[ $rc -eq 2 ]] && grep -q -- '--keepalive: ' '$WORK/e'"
done

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
