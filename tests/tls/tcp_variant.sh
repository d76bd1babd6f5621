#!/usr/bin/env bash
# TLS over saf TCP (docs/tls.md) end to end: real eBPF programs, real
# OpenSSL, in the lab under the prefix saf-tt (its own namespaces, cgroups
# and bpffs pins, removed on every exit). The client link has a 25 ms
# one-way delay (RTT about 50 ms) so a route change can be placed between
# the client's SYN and its ClientHello.
#
# With the client program attached for its cgroup, `saf tls connect` (plain
# and with continuity) follows the advert in the SYN-ACK to the node's
# unicast address U before its ClientHello: the handshake comes to U (the
# node has an established connection on U, accepted no migration, opened
# the stream at U), and R1 moving S right after the SYN breaks nothing.
# migrate_notify still moves the connection. Fallbacks: outside the cgroup,
# a listener without the node program, an advert refused by the target
# policy, U refusing connections: today's seed procedure, and -v says why;
# --tcp-variant on makes the missing advert an error; off never uses it.
set -uo pipefail

SRC=${SAF_SOURCE_DIR:?}

# shellcheck source=../tcp/netns_lib.sh
. "$SRC/tests/tcp/netns_lib.sh"
PINS=/run/saf/tt-test
reset() { netns_reset saf-tt n2 n3 client; }
export SAF_LAB_DELAY=c=25
BUILD=${SAF_BUILD_DIR:-$(dirname "${SAF_BIN:?}")}
export SAF_DELAY_BIN=$BUILD/saf-delay
EXPO=$BUILD/bench/compare/bench_expo
[[ -x $EXPO ]] || { echo "SKIP: $EXPO not built"; exit 77; }
netns_test_start saf-tt

S=10.99.0.1
ALLOW=10.30.0.0/16
"$LAB" up > /dev/null || { echo "FAIL - lab up"; exit 1; }
for c in n2 n3 client; do mkdir -p "$CG/saf-tt-$c"; done
"$SRC/scripts/gen-test-certs" "$WORK/c" > /dev/null || { echo "FAIL - certs"; exit 1; }
"$SAF" tls keygen "$WORK/keys" > /dev/null || { echo "FAIL - keygen"; exit 1; }
"$SAF" tcp client attach --cgroup "$CG/saf-tt-client" --pin-dir "$PINS/client" \
  --anycast $S --allow-target $ALLOW || bad "client attach"
ip -n saf-tt-r1 route replace $S/32 via 10.20.2.2

# Each node: an echo backend, the node program for its cgroup, saf tls
# serve in that cgroup on 7443 (armed: adverts its unicast address;
# migrate_notify to n3's U) and 7445 (migrate_notify to its own U), and on
# 7444 outside it (no advert: the node without the program).
for k in 2 3; do
  "$SAF" tcp node attach --cgroup "$CG/saf-tt-n$k" --pin-dir "$PINS/n$k" \
    --anycast $S --unicast "10.30.$k.2" --advert-rate off || bad "node attach n$k"
  (run_in - "saf-tt-n$k" python3 "$SRC/tests/lib/echo_server.py" 7000 > /dev/null) &
  PIDS+=($!)
  for port in 7443 7444 7445; do
    cg=saf-tt-n$k; [[ $port == 7444 ]] && cg=-
    nt=(); [[ $port == 7443 ]] && nt=(--notify-target "10.30.3.2:$port")
    (run_in "$cg" "saf-tt-n$k" "$SAF" tls serve --anycast "$S:$port" \
      --unicast "10.30.$k.2:$port" --cert "$WORK/c/node.pem" --key "$WORK/c/node.key" \
      --keys "$WORK/keys" --backend 127.0.0.1:7000 "${nt[@]}" -v \
      > "$WORK/n$k-$port.out" 2> "$WORK/n$k-$port.err") &
    PIDS+=($!)
    eval "SERVE_n${k}_$port=$!"
  done
done
for k in 2 3; do
  for port in 7000 7443 7444 7445; do wait_listen "saf-tt-n$k" $port; done
done

# serve_counters NODE PORT -> the JSON line the node prints on SIGUSR2
serve_counters() {
  local pid f=$WORK/$1-$2.out before
  eval "pid=\$SERVE_${1}_$2"
  before=$(wc -l < "$f")
  kill -USR2 "$pid"
  for _ in $(seq 30); do [[ $(wc -l < "$f") -gt $before ]] && break; sleep 0.1; done
  tail -1 "$f"
}
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval('d'+sys.argv[2]))" "$1" "$2"; }

# tls_client NAME CGROUP INPUT-CMD [args]: saf tls connect to S:7443 from the
# client namespace; stdout $WORK/NAME.out, stderr .err, exit status .rc.
tls_client() {
  local name=$1 cgroup=$2 input=$3; shift 3
  bash -c "$input" | (run_in "$cgroup" saf-tt-c env SAF_BPF_PIN_DIR="$PINS/client" \
    timeout 30 "$SAF" tls connect "$S:${PORT:-7443}" --ca "$WORK/c/ca.pem" --name saf.test -v "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err")
  echo $? > "$WORK/$name.rc"
}
# expo T: R1 moves S to n3 T ms after the client's first SYN to S:7443
# (bench_expo watches the client's link); back to n2 first.
expo_start() {
  ip -n saf-tt-r1 route replace $S/32 via 10.20.2.2
  sleep 0.12 # what is in flight through the delay queue drains
  (run_in - saf-tt-c "$EXPO" saf-tt-cr1 $S "${PORT:-7443}" /run/netns/saf-tt-r1 10.20.3.2 "$1" \
    > "$WORK/expo" 2> "$WORK/expo.err") &
  EXPO_PID=$!
  for _ in $(seq 50); do [[ -s $WORK/expo ]] && break; sleep 0.02; done
}
expo_wait() { wait "$EXPO_PID"; sed -n 2p "$WORK/expo"; }
established_on() { # NODE PORT ADDR: an established connection on ADDR:PORT
  ip netns exec "saf-tt-$1" ss -Htn state established "( sport = :$2 )" | grep -qE "(^|[[:space:]])$3:$2[[:space:]]"
}
input_two='echo first; sleep 1.5; echo second; sleep 1'

# --- 1: plain TLS over saf TCP; S moves 30 ms after the SYN -----------------
# 30 ms: after the SYN passed R1 (25 ms), before the client's ACK and
# ClientHello reach it (75 ms): they go to n3, which never saw the SYN. The
# connection to S is lost; the advert already named n2's U.
c0=$(field "$(serve_counters n2 7443)" "['migrations_accepted']")
expo_start 30
tls_client plain saf-tt-client "$input_two" --no-continuity --allow-target $ALLOW &
cpid=$!
sleep 1
check "plain: the handshake came to n2's U (established on 10.30.2.2:7443)" established_on n2 7443 10.30.2.2
wait $cpid
t=$(expo_wait)
echo "# route change $t us after the SYN"
check "plain: data before and after the route change" grep -qz 'first.second' "$WORK/plain.out"
check "plain: -v says on_unicast via TCP advert at U" \
  grep -q "on_unicast at 10.30.2.2:7443: via TCP advert at 10.30.2.2:7443: full handshake there, no migration needed" "$WORK/plain.err"
c1=$(field "$(serve_counters n2 7443)" "['migrations_accepted']")
check "plain: n2 accepted no migration ($c0 -> $c1)" test "$c1" = "$c0"

# --- 2: the same with continuity; S moves 100 ms after the SYN -------------
# 100 ms is past the seed procedure's reach (its ticket comes after about
# 2.5 RTT): only a connection already at U survives it.
k0=$(serve_counters n2 7443)
expo_start 100
tls_client cont saf-tt-client "$input_two" --allow-target $ALLOW &
cpid=$!
sleep 1
check "continuity: the handshake came to n2's U" established_on n2 7443 10.30.2.2
wait $cpid
expo_wait > /dev/null
k1=$(serve_counters n2 7443)
check "continuity: data before and after the route change" grep -qz 'first.second' "$WORK/cont.out"
check "continuity: exit 0" test "$(cat "$WORK/cont.rc")" = 0
check "continuity: -v says the stream starts at U" \
  grep -q "on_s_continuity at 10.30.2.2:7443: via TCP advert at 10.30.2.2:7443 with continuity: the stream starts there" "$WORK/cont.err"
check "continuity: n2 opened one stream, resumed none, accepted no migration" test \
  "$(field "$k1" "['continuity']['opened']-$(field "$k0" "['continuity']['opened']")"),$(field "$k1" "['continuity']['resumed']-$(field "$k0" "['continuity']['resumed']")"),$(field "$k1" "['migrations_accepted']-$(field "$k0" "['migrations_accepted']")")" = "1,0,0"

# --- 3: control: the seed procedure (--tcp-variant off) breaks at 100 ms ----
"$SAF" tcp cache flush --pin-dir "$PINS/client" > /dev/null # the kernel cache would send it to U
expo_start 100
tls_client off saf-tt-client "$input_two" --no-continuity --allow-target $ALLOW --tcp-variant off
expo_wait > /dev/null
check "control: --tcp-variant off, S moved 100 ms after the SYN: broken" \
  bash -c "! grep -qz 'first.second' '$WORK/off.out'"
ip -n saf-tt-r1 route replace $S/32 via 10.20.2.2

# --- 3b: continuity alone (--tcp-variant off) survives it --------------------
# The node's first flight carries the early credential (docs/continuity.md):
# the client's Finished goes to n3 and is reset, no ticket ever came, and
# the stream comes back to n2's U with a full handshake and REATTACH.
"$SAF" tcp cache flush --pin-dir "$PINS/client" > /dev/null
k0=$(serve_counters n2 7443)
expo_start 100
tls_client alone saf-tt-client "$input_two" --allow-target $ALLOW --tcp-variant off
expo_wait > /dev/null
k1=$(serve_counters n2 7443)
check "continuity alone, S moved 100 ms after the SYN: data before and after" \
  grep -qz 'first.second' "$WORK/alone.out"
check "continuity alone: exit 0" test "$(cat "$WORK/alone.rc")" = 0
check "continuity alone: -v says it came back with the early credential" \
  grep -q "reconnects 1 (1 with the early credential)" "$WORK/alone.err"
check "continuity alone: n2 counted one reattach, refused none" test \
  "$(field "$k1" "['continuity']['reattached']-$(field "$k0" "['continuity']['reattached']")"),$(field "$k1" "['continuity']['creds_refused']-$(field "$k0" "['continuity']['creds_refused']")")" = "1,0"
ip -n saf-tt-r1 route replace $S/32 via 10.20.2.2

# --- 4: migrate_notify still moves the stream ------------------------------
# plain (port 7443: n2 drains to n3's U with --notify-target): the
# connection that landed at n2's U moves to n3 and the data completes.
m0=$(field "$(serve_counters n3 7443)" "['migrations_accepted']")
tls_client pnotify saf-tt-client 'echo first; sleep 2; echo second; sleep 1' --no-continuity --allow-target $ALLOW &
cpid=$!
sleep 1
kill -USR1 "$SERVE_n2_7443"
wait $cpid
m1=$(field "$(serve_counters n3 7443)" "['migrations_accepted']")
check "plain at U, migrate_notify to n3 (--notify-target): data complete" \
  grep -qz 'first.second' "$WORK/pnotify.out"
check "plain at U, migrate_notify to n3: n3 accepted the migration ($m0 -> $m1)" \
  test "$m1" -gt "$m0"
# continuity (port 7445: n2 names its own U): the stream moves and resumes
k0=$(serve_counters n2 7445)
PORT=7445 tls_client cnotify saf-tt-client 'echo first; sleep 2; echo second; sleep 1' --allow-target $ALLOW &
cpid=$!
sleep 1
kill -USR1 "$SERVE_n2_7445"
wait $cpid
k1=$(serve_counters n2 7445)
check "continuity, migrate_notify: data complete, exit 0" \
  bash -c "grep -qz 'first.second' '$WORK/cnotify.out' && [[ \$(cat '$WORK/cnotify.rc') == 0 ]]"
check "continuity, migrate_notify: started at U, the stream moved (resumed at U)" bash -c \
  "grep -q 'via TCP advert at 10.30.2.2:7445 with continuity' '$WORK/cnotify.err' && [[ $(field "$k1" "['continuity']['resumed']-$(field "$k0" "['continuity']['resumed']")") -ge 1 ]]"

# --- 5: fallbacks: no usable advert -> the seed procedure ------------------
tls_client outside - 'echo hi' --no-continuity --allow-target $ALLOW
check "outside the client cgroup: seed procedure, says why" \
  grep -q "on_target at 10.30.2.2:7443: migrated to 10.30.2.2:7443; not via TCP advert (no_advert: SAF not sent" "$WORK/outside.err"
check "outside the client cgroup: data" grep -q hi "$WORK/outside.out"
PORT=7444 tls_client noprog saf-tt-client 'echo hi' --no-continuity --allow-target $ALLOW
check "node without the program: seed procedure, says why" \
  grep -q "on_target at 10.30.2.2:7444: migrated to 10.30.2.2:7444; not via TCP advert (no_advert: the node sent no advert)" "$WORK/noprog.err"
tls_client policy saf-tt-client 'echo hi' --no-continuity
check "advert refused by the target policy: stays on S, says why" \
  grep -q "stayed_refused at $S:7443: .*not via TCP advert (no_advert: advert for 10.30.2.2 rejected: private-use" "$WORK/policy.err"
check "advert refused by the target policy: data" grep -q hi "$WORK/policy.out"
ip netns exec saf-tt-n2 iptables -I INPUT -d 10.30.2.2 -p tcp --dport 7443 -j REJECT --reject-with tcp-reset
tls_client unreach saf-tt-client 'echo hi' --no-continuity --allow-target $ALLOW
check "U refuses connections: stays on S, says why" \
  grep -q "stayed_unreachable at $S:7443: .*not via TCP advert (fallback: stayed on S: connect to 10.30.2.2:7443" "$WORK/unreach.err"
check "U refuses connections: data on S" grep -q hi "$WORK/unreach.out"
ip netns exec saf-tt-n2 iptables -D INPUT -d 10.30.2.2 -p tcp --dport 7443 -j REJECT --reject-with tcp-reset
tls_client on_outside - 'echo hi' --no-continuity --allow-target $ALLOW --tcp-variant on
check "--tcp-variant on without an advert: exit 1 with the reason" \
  bash -c "[[ \$(cat '$WORK/on_outside.rc') == 1 ]] && grep -q 'tcp variant on: no_advert: SAF not sent' '$WORK/on_outside.err'"
tls_client on_in saf-tt-client 'echo hi' --no-continuity --allow-target $ALLOW --tcp-variant on
check "--tcp-variant on with the advert: at U" grep -q "on_unicast at 10.30.2.2:7443" "$WORK/on_in.err"
# U answers TCP but is no TLS node (a plain echo server on n3, armed by
# n3's node program): the handshake at U fails, exit 1 with its reason.
(run_in saf-tt-n3 saf-tt-n3 python3 "$SRC/tests/lib/echo_server.py" 7446 > /dev/null) &
PIDS+=($!)
wait_listen saf-tt-n3 7446
ip -n saf-tt-r1 route replace $S/32 via 10.20.3.2
PORT=7446 tls_client notls saf-tt-client 'echo hi' --no-continuity --allow-target $ALLOW
check "TLS at U fails (no TLS node there): exit 1, the handshake's reason" \
  bash -c "[[ \$(cat '$WORK/notls.rc') == 1 ]] && grep -q 'tls handshake' '$WORK/notls.err'"
ip -n saf-tt-r1 route replace $S/32 via 10.20.2.2
tls_client bad saf-tt-client 'true' --tcp-variant maybe
check "--tcp-variant maybe: usage error (exit 2)" test "$(cat "$WORK/bad.rc")" = 2

if ((fails)); then
  for f in "$WORK"/*.err; do echo "== $f"; tail -5 "$f"; done
fi
echo "# $passes passed, $fails failed"
((fails == 0))
