#!/usr/bin/env bash
# The TCP Service Affinity option end to end: real eBPF programs, real
# packets, in the lab topology under the prefix saf-tc (its own namespaces,
# cgroups and bpffs pins), removed on every exit.
set -uo pipefail

SRC=${SAF_SOURCE_DIR:?}

# shellcheck source=netns_lib.sh
. "$SRC/tests/tcp/netns_lib.sh"
PINS=/run/saf/tcp-test
# Removes whatever a run of this test left behind (also one that was
# killed before its own cleanup), so a run starts from nothing.
reset() {
  [[ -n ${SAF_TEST_ROGUE:-} ]] && "$SAF_TEST_ROGUE" detach "$PINS/rogue"
  netns_reset saf-tc node client client-all
}
netns_test_start saf-tc

client_connect() { # client_connect CGROUP PINS TARGET [args] -> stderr in $WORK/err, stdout $WORK/out
  local cgroup=$1 pins=$2 target=$3; shift 3
  echo "ping-$RANDOM" > "$WORK/in"
  (run_in "$cgroup" saf-tc-c "$SAF" tcp connect -v --pin-dir "$pins" "$@" "$target" \
    < "$WORK/in" > "$WORK/out" 2> "$WORK/err")
}

node_attach() {
  "$SAF" tcp detach --pin-dir "$PINS/node" >/dev/null 2>&1
  "$SAF" tcp node attach --cgroup "$CG/saf-tc-node" --pin-dir "$PINS/node" "$@"
}

"$LAB" up >/dev/null || { echo "FAIL - lab up"; exit 1; }
mkdir -p "$CG/saf-tc-node" "$CG/saf-tc-client" "$CG/saf-tc-client-all"

# --- a listener created before the attach is reported --------------------
run_in saf-tc-node saf-tc-n2 python3 "$SRC/tests/lib/echo_server.py" 7001 > /dev/null &
PIDS+=($!)
wait_listen saf-tc-n2 7001
node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 --anycast fd00:99::1 --unicast fd00:30:2::2 2> "$WORK/attach"
check "attach warns about a listener created before it" grep -q "listens on port 7001 since before the attach" "$WORK/attach"

# The lab's node addresses are private: the kernel cache's target policy
# must allow them (--allow-target), as a deployment on private addresses.
"$SAF" tcp client attach --cgroup "$CG/saf-tc-client" --pin-dir "$PINS/client" \
  --anycast 10.99.0.1 --anycast fd00:99::1 \
  --allow-target 10.30.0.0/16 --allow-target fd00:30::/32 || bad "client attach"
# The kernel cache (docs/tcp.md) learns from every accepted advert, also
# the library's; a bad advert must leave no entry.
cache_flush() { "$SAF" tcp cache flush --pin-dir "$PINS/client" >/dev/null; }
cache_empty() { [[ $("$SAF" tcp cache list --json --pin-dir "$PINS/client") == "[]" ]]; }
"$SAF" tcp client attach --cgroup "$CG/saf-tc-client-all" --pin-dir "$PINS/client-all" || bad "client attach (all destinations)"

run_in saf-tc-node saf-tc-n2 python3 "$SRC/tests/lib/echo_server.py" 7000 > /dev/null &
PIDS+=($!)
wait_listen saf-tc-n2 7000

# --- IPv4 and IPv6: the client ends on the unicast address -----------------
ip netns exec saf-tc-n2 tcpdump -i saf-tc-n2r2 -nn -U --immediate-mode -x -c 64 'tcp port 7000 and ((ip and tcp[tcpflags] & tcp-syn != 0) or (ip6 and ip6[53] & 2 != 0))' -w "$WORK/cap.pcap" 2>/dev/null &
TCPDUMP=$!
sleep 0.5
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "IPv4: data echoed" cmp -s "$WORK/in" "$WORK/out"
check "IPv4: migrated to 10.30.2.2:7000" grep -q "migrated: on 10.30.2.2:7000 via 10.99.0.1:7000" "$WORK/err"
check "IPv4: the accepted advert is in the kernel cache" bash -c "'$SAF' tcp cache list --pin-dir '$PINS/client' | grep -q '10.99.0.1:7000 *10.30.2.2:7000'"
client_connect saf-tc-client "$PINS/client" '[fd00:99::1]:7000'
check "IPv6: data echoed" cmp -s "$WORK/in" "$WORK/out"
check "IPv6: migrated to [fd00:30:2::2]:7000" grep -q "migrated: on \[fd00:30:2::2\]:7000 via \[fd00:99::1\]:7000" "$WORK/err"
sleep 0.5; kill $TCPDUMP 2>/dev/null; wait $TCPDUMP 2>/dev/null
# The wire: SAF (fd 04 5346) in the SYN to S; the advert in the SYN-ACK:
# v4 port-less fd 08 5346 0a1e0202, v6 port-less fd 14 5346 fd00 0030 0002 ...
tcpdump -r "$WORK/cap.pcap" -nn -x 2>/dev/null | sed -n 's/^[[:space:]]*0x[0-9a-f]*:[[:space:]]*//p' | tr -d ' \n' > "$WORK/hex"
check "wire: SAF flag in the client's SYN" grep -q "fd045346" "$WORK/hex"
check "wire: IPv4 advert 10.30.2.2 in the SYN-ACK" grep -q "fd0853460a1e0202" "$WORK/hex"
check "wire: IPv6 advert fd00:30:2::2 in the SYN-ACK" grep -q "fd145346fd000030000200000000000000000002" "$WORK/hex"

"$SAF" tcp status --prometheus --pin-dir "$PINS/node" > "$WORK/prom"
check "status in Prometheus format" grep -Eq '^saf_tcp_node_adverts_total\{form="portless",pin_dir="[^"]*"\} [1-9]' "$WORK/prom"
check "Prometheus TYPE lines" grep -q '^# TYPE saf_tcp_node_adverts_total counter' "$WORK/prom"

# --- negative cases --------------------------------------------------------
SERVER=${PIDS[-1]}
restart_server() { # [echo_server.py options]: a fresh listener, armed by the program attached now
  kill "$SERVER"; wait "$SERVER" 2>/dev/null
  while ip netns exec saf-tc-n2 ss -Hltn "sport = :7000" | grep -q .; do sleep 0.05; done
  run_in saf-tc-node saf-tc-n2 python3 "$SRC/tests/lib/echo_server.py" 7000 "$@" > /dev/null & PIDS+=($!)
  SERVER=$!
  wait_listen saf-tc-n2 7000
}
client_connect - "$PINS/client" 10.99.0.1:7000
check "outside the client cgroup: no SAF, stays on S" grep -q "no_advert: on 10.99.0.1:7000.*SAF not sent" "$WORK/err"

before=$(counter "$PINS/node" node_saf_to_non_anycast)
client_connect saf-tc-client-all "$PINS/client-all" 10.30.2.2:7000
check "SYN to the unicast address: no advert" grep -q "no_advert: on 10.30.2.2:7000.*no advert" "$WORK/err"
check "SYN to the unicast address: counted" test "$(counter "$PINS/node" node_saf_to_non_anycast)" -gt "$before"

node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 --allow 192.0.2.0/24 2>/dev/null
restart_server
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "client outside the allow-list: no advert" grep -q "no_advert" "$WORK/err"
check "client outside the allow-list: counted" test "$(counter "$PINS/node" node_skipped_not_allowed)" -ge 1


node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 --allow 10.10.0.0/24 2>/dev/null; restart_server
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "client inside the allow-list: migrated" grep -q "migrated" "$WORK/err"

# The BPF parser and the user-space codec agree: the node (test knob) writes
# kind 253, length L, our ExID and a zero body, for every L that fits in a
# SYN-ACK. The client program must take it as an advert exactly when
# saf_tcpopt_decode (via `saf inspect tcpopt`) decodes it as one; anything
# else is ignored, counted, and the connection carries on on S.
for len in $(seq 4 20); do
  hex=$(printf 'fd%02x5346' "$len"; for ((i = 4; i < len; i++)); do printf 00; done)
  codec=$("$SAF" inspect tcpopt --json "$hex" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["form"])' 2>/dev/null || echo malformed)
  node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 --test-bad-length "$len" 2>/dev/null; restart_server
  before=$(counter "$PINS/client" client_malformed_ignored)
  cache_flush
  client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
  check "length $len: no kernel cache entry" cache_empty
  after=$(counter "$PINS/client" client_malformed_ignored)
  check "length $len: data flows" cmp -s "$WORK/in" "$WORK/out"
  if [[ $codec == advert ]]; then
    # A well-formed advert of the unspecified address: parsed by BPF,
    # refused by the library's target check.
    check "length $len: codec and BPF both read an advert" bash -c "! grep -q malformed '$WORK/err' && [[ $after -eq $before ]]"
    check "length $len: the zero address is refused" grep -q "rejected: unspecified" "$WORK/err"
  else
    check "length $len: codec says $codec, BPF ignores and counts it" bash -c "grep -q 'no_advert: on 10.99.0.1:7000.*malformed advert (length $len)' '$WORK/err' && [[ $after -gt $before ]]"
  fi
done

node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 --exid 0x1234 2>/dev/null; restart_server
cache_flush
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "node with another ExID: no kernel cache entry" cache_empty
check "node with another ExID: its advert is not ours" grep -q "no_advert" "$WORK/err"

node_attach --anycast 10.99.0.1 --unicast 224.0.0.1 --force 2>/dev/null; restart_server
cache_flush
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "advert for a multicast address: no kernel cache entry" cache_empty
check "advert for a multicast address: refused" grep -q "advert for 224.0.0.1 rejected: multicast" "$WORK/err"
check "advert for a multicast address: stays on S with data" cmp -s "$WORK/in" "$WORK/out"
node_attach --anycast 10.99.0.1 --unicast 10.99.0.1 2>/dev/null; restart_server
cache_flush
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "advert for the anycast address itself: no kernel cache entry" cache_empty
check "advert for the anycast address itself: refused" grep -q "advert for 10.99.0.1:7000 rejected: the anycast address itself" "$WORK/err"
check "advert for the anycast address itself: stays on S with data" cmp -s "$WORK/in" "$WORK/out"

# A unicast address whose packets vanish: the client falls back within its bound.
ip netns exec saf-tc-r1 ip route add blackhole 10.30.9.9/32
node_attach --anycast 10.99.0.1 --unicast 10.30.9.9 2>/dev/null; restart_server
start=$(date +%s%N)
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000 --timeout 700
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "unreachable unicast: falls back to S" grep -q "fallback: on 10.99.0.1:7000.*stayed on S" "$WORK/err"
check "unreachable unicast: data still flows" cmp -s "$WORK/in" "$WORK/out"
check "unreachable unicast: within the bound (${ms} ms < 3000)" test "$ms" -lt 3000

# SYN cookies: the advert is written from the SYN itself, no request sock.
ip netns exec saf-tc-n2 sysctl -qw net.ipv4.tcp_syncookies=2
node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 2>/dev/null; restart_server
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "under SYN cookies: migrated" grep -q "migrated: on 10.30.2.2:7000" "$WORK/err" || cat "$WORK/err"
ip netns exec saf-tc-n2 sysctl -qw net.ipv4.tcp_syncookies=1

# A lost SYN-ACK: the retransmitted one is decided again from the SYN the
# listener saved (TCP_SAVE_SYN) and still carries the advert.
ip netns exec saf-tc-n2 iptables -A OUTPUT -p tcp --sport 7000 --tcp-flags SYN,ACK SYN,ACK \
  -m statistic --mode nth --every 2 --packet 0 -j DROP
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "retransmitted SYN-ACK still carries the advert" grep -q "migrated: on 10.30.2.2:7000" "$WORK/err"
check "a SYN-ACK really was dropped" bash -c "ip netns exec saf-tc-n2 iptables -vnL OUTPUT | awk '/statistic/ {exit !(\$1 >= 1)}'"
ip netns exec saf-tc-n2 iptables -F OUTPUT

# An explicit advertised port (the long form, 10 bytes).
node_attach --anycast 10.99.0.1:7000 --unicast 10.30.2.2:7002 2>/dev/null; restart_server
run_in saf-tc-node saf-tc-n2 python3 "$SRC/tests/lib/echo_server.py" 7002 > /dev/null & PIDS+=($!)
wait_listen saf-tc-n2 7002
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "advert with a port: migrated to 10.30.2.2:7002" grep -q "migrated: on 10.30.2.2:7002" "$WORK/err"

# Errors a user meets.
"$SAF" tcp node attach --cgroup "$CG/saf-tc-nonexistent" --anycast 10.99.0.1 --unicast 10.30.2.2 --pin-dir "$PINS/x" 2> "$WORK/e"; rc=$?
check "missing cgroup: exit 1 with a clear error" bash -c "[[ $rc -eq 1 ]] && grep -q 'cgroup .*saf-tc-nonexistent' '$WORK/e'"
"$SAF" tcp node attach --cgroup "$CG/saf-tc-node" --anycast 10.99.0.1 --pin-dir "$PINS/x" 2> "$WORK/e"; rc=$?
check "unpaired --anycast: exit 2" bash -c "[[ $rc -eq 2 ]] && grep -q 'pairs' '$WORK/e'"
node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 2>/dev/null
"$SAF" tcp node attach --cgroup "$CG/saf-tc-node" --pin-dir "$PINS/node" --anycast 10.99.0.1 --unicast 10.30.2.2 2> "$WORK/e"; rc=$?
check "attach twice: refused, says detach" bash -c "[[ $rc -eq 1 ]] && grep -q 'already attached' '$WORK/e'"

# Adverts per client address are rate-limited (the seeds' security note:
# anyone can send SAF to learn the unicast address), with bounded state.
node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 --advert-rate 2 --advert-burst 3 2>/dev/null
restart_server
w0=$(counter "$PINS/node" node_adverts_written)
(run_in saf-tc-client-all saf-tc-c python3 -c "
import socket
for _ in range(12):
    socket.create_connection(('10.99.0.1', 7000), timeout=5).close()")
w1=$(counter "$PINS/node" node_adverts_written)
rl=$(counter "$PINS/node" node_skipped_rate_limited)
check "rate limit: at most burst+1 adverts for 12 quick SYNs ($((w1 - w0)))" test $((w1 - w0)) -le 4
check "rate limit: the rest skipped and counted ($rl)" test "$rl" -ge 8
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "rate limit: a limited client stays on S with its data" cmp -s "$WORK/in" "$WORK/out"
sleep 2
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "rate limit: after a pause, adverts again" grep -q "migrated" "$WORK/err"
"$SAF" tcp status --prometheus --pin-dir "$PINS/node" > "$WORK/prom"
check "rate limit in Prometheus" grep -Eq 'saf_tcp_node_adverts_skipped_total\{reason="rate_limited"[^}]*\} [1-9]' "$WORK/prom"
"$SAF" tcp node attach --cgroup "$CG/saf-tc-node" --anycast 10.99.0.1 --unicast 10.30.2.2 --advert-rate 0 --pin-dir "$PINS/x" 2> "$WORK/e"; rc=$?
check "--advert-rate 0: exit 2" bash -c "[[ $rc -eq 2 ]] && grep -q 'advert-rate' '$WORK/e'"
node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 2>/dev/null

# Adverts in segments other than the SYN-ACK are ignored (SPEC 2). A rogue
# node (tests/tcp/rogue_node.bpf.c, loaded by saf-test-rogue) replaces the
# real program on n2 and writes a well-formed advert of n3's unicast
# address (kind 253, ExID 0x5346, port-less) into every segment it sends
# except the SYN-ACK: its ACKs, data and FIN. The client reads the option
# from the SYN-ACK only, so it must stay on S, keep its data, and neither
# count nor keep an advert, also after the node's last segment. The
# server answers after the client's EOF (--after-eof) and the client pauses
# between two lines, so the node's ACKs go out as pure ACKs. The control:
# the same program writing into the SYN-ACK too moves the client to n3.
ROGUE=${SAF_TEST_ROGUE:?SAF_TEST_ROGUE not set}
rogue_attach() { # rogue_attach others|all
  "$ROGUE" detach "$PINS/rogue"
  "$ROGUE" attach "$CG/saf-tc-node" "$PINS/rogue" "$1" 10.30.3.2 fd00:30:3::2
}
capture() { # capture FILE: the node's side of port 7000, until stop_capture
  ip netns exec saf-tc-n2 tcpdump -i saf-tc-n2r2 -nn -U --immediate-mode 'tcp port 7000' -w "$1" 2>/dev/null &
  TCPDUMP=$!
  sleep 0.5
}
stop_capture() { sleep 0.3; kill "$TCPDUMP" 2>/dev/null; wait "$TCPDUMP" 2>/dev/null; }
two_lines() { printf 'one-%s\n' $RANDOM; sleep 0.5; printf 'two-%s\n' $RANDOM; }
"$SAF" tcp detach --pin-dir "$PINS/node" >/dev/null
run_in - saf-tc-n3 python3 "$SRC/tests/lib/echo_server.py" 7000 > /dev/null & PIDS+=($!)
N3_SERVER=$!
wait_listen saf-tc-n3 7000
check "rogue node attached (every segment but the SYN-ACK)" rogue_attach others
restart_server --after-eof
cache_flush
capture "$WORK/rogue.pcap"
for s in 10.99.0.1 '[fd00:99::1]'; do
  a0=$(counter "$PINS/client" client_adverts) m0=$(counter "$PINS/client" client_malformed_ignored)
  two_lines | tee "$WORK/in" | (run_in saf-tc-client saf-tc-c "$SAF" tcp connect -v --pin-dir "$PINS/client" "$s:7000" > "$WORK/out" 2> "$WORK/err")
  check "rogue in later segments, $s: the client stays on S" grep -qF "no_advert: on $s:7000 via $s:7000 (the node sent no advert)" "$WORK/err"
  check "rogue in later segments, $s: data intact" cmp -s "$WORK/in" "$WORK/out"
  (run_in saf-tc-client saf-tc-c "$ROGUE" probe "$PINS/client" "$s:7000") > "$WORK/probe" 2>&1
  check "rogue in later segments, $s: after the node's FIN the socket still holds no advert" \
    grep -qx "after_connect=no_advert after_fin=no_advert echoed=6" "$WORK/probe"
  check "rogue in later segments, $s: no advert counted, nothing malformed" \
    test "$(counter "$PINS/client" client_adverts) $(counter "$PINS/client" client_malformed_ignored)" = "$a0 $m0"
done
stop_capture
check "rogue in later segments: no kernel cache entry" cache_empty
# On the wire, from the node: none in the SYN-ACKs, and the advert byte for
# byte (v4 fd 08 5346 0a1e0302, v6 fd 14 5346 fd00:30:3::2) in every pure
# ACK, data segment and FIN of the connects and the probes.
V4_ADVERT=fd0853460a1e0302 V6_ADVERT=fd145346fd000030000300000000000000000002
segments() { # segments PCAP SRC OPTION: sets synack synack_opt ack ack_opt ... and $seg
  seg=$(python3 "$SRC/tests/tcp/sa_segments.py" "$1" "$2" 7000 "$3")
  read -r synack synack_opt ack ack_opt data data_opt fin fin_opt <<< "$(tr -c '0-9\n' ' ' <<< "$seg")"
}
for fam in "10.99.0.1 $V4_ADVERT" "fd00:99::1 $V6_ADVERT"; do
  read -r addr opt <<< "$fam"
  segments "$WORK/rogue.pcap" "$addr" "$opt"
  check "wire, $addr: no advert in the SYN-ACKs ($seg)" test "$synack" -ge 2 -a "$synack_opt" -eq 0
  check "wire, $addr: the advert in every pure ACK of the node" test "$ack" -ge 1 -a "$ack_opt" -eq "$ack"
  check "wire, $addr: the advert in every data segment of the node" test "$data" -ge 2 -a "$data_opt" -eq "$data"
  check "wire, $addr: the advert in every FIN of the node" test "$fin" -ge 2 -a "$fin_opt" -eq "$fin"
done
# The control: the same advert in the SYN-ACK as well is followed.
check "rogue node attached again (the SYN-ACK too)" rogue_attach all
restart_server
capture "$WORK/rogue-all.pcap"
a0=$(counter "$PINS/client" client_adverts)
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "control, IPv4: the advert in the SYN-ACK moves the client to n3" grep -q "migrated: on 10.30.3.2:7000 via 10.99.0.1:7000" "$WORK/err"
check "control, IPv4: data echoed" cmp -s "$WORK/in" "$WORK/out"
client_connect saf-tc-client "$PINS/client" '[fd00:99::1]:7000'
check "control, IPv6: moved to n3" grep -q "migrated: on \[fd00:30:3::2\]:7000 via \[fd00:99::1\]:7000" "$WORK/err"
check "control: both adverts counted" test "$(counter "$PINS/client" client_adverts)" -eq $((a0 + 2))
stop_capture
for fam in "10.99.0.1 $V4_ADVERT" "fd00:99::1 $V6_ADVERT"; do
  read -r addr opt <<< "$fam"
  segments "$WORK/rogue-all.pcap" "$addr" "$opt"
  check "control, wire, $addr: the advert in the SYN-ACK ($seg)" test "$synack" -ge 1 -a "$synack_opt" -eq "$synack"
done
"$ROGUE" detach "$PINS/rogue"
kill "$N3_SERVER"
node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 2>/dev/null

# Faults: the bpffs pins removed under a running node. The link pin was the
# only reference to the attachment, so the program goes with it: the node
# stops advertising, status says so, and clients simply stay on S.
restart_server
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "before the pins go: migrated" grep -q "migrated" "$WORK/err"
find "$PINS/node" -mindepth 1 -maxdepth 2 ! -type d -delete
"$SAF" tcp status --pin-dir "$PINS/node" > "$WORK/st" 2>&1; rc=$?
check "pins removed: status says the node is not attached (exit $rc)" \
  bash -c "[[ $rc -ne 0 ]] || grep -qi 'not attached' '$WORK/st'"
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "pins removed: no advert, the client stays on S" grep -q "no_advert: on 10.99.0.1:7000" "$WORK/err"
check "pins removed: data still flows" cmp -s "$WORK/in" "$WORK/out"
node_attach --anycast 10.99.0.1 --unicast 10.30.2.2 2>/dev/null; restart_server
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000
check "attached again: migrated" grep -q "migrated" "$WORK/err"
# The client's pins removed: its program and advert map are gone; connect
# says why and still connects to S.
find "$PINS/client" -mindepth 1 -maxdepth 2 ! -type d -delete
client_connect saf-tc-client "$PINS/client" 10.99.0.1:7000; rc=$?
cp "$WORK/err" "$WORK/err-client-pins"
check "client pins removed: data still flows to S (exit $rc)" cmp -s "$WORK/in" "$WORK/out"

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
