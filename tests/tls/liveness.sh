#!/bin/bash
# Liveness of an idle continuity stream (docs/continuity.md, "Liveness"),
# in network namespaces: client -- node over one veth, S on the node's lo,
# U its veth address. The stream moves to U and goes idle; then the node
# is black-holed (iptables DROP both ways on its interface, in its
# namespace: no RST, no ICMP, nothing). The client must notice within the
# bound (--liveness, TCP keepalive and user timeout) and
#  1. with the path back while the node still keeps the stream: come back
#     to U and carry on, byte for byte;
#  2. with the node gone for good: exit 3 within the bound plus its tries,
#     saying the node was silent.
# Without liveness (the code before it) the client waits forever: every
# wait here is bounded, and SAF_LV_OPT="" with an older SAF_BIN shows it
# (SAF_LV_CASES="2" runs case 2 alone). 1b: the same as 1 with data
# written into the black hole.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
command -v iptables >/dev/null || { echo "SKIP: needs iptables"; exit 77; }
LIVE=3
OPT=${SAF_LV_OPT-"--liveness $LIVE"}
CASES=${SAF_LV_CASES:-1 1b 2}
exec 9>/run/lock/saf-lv-tls-test.lock
flock -w 600 9 || { echo "FAIL: another run holds /run/lock/saf-lv-tls-test.lock"; exit 1; }
T=$(mktemp -d /tmp/saf-lv.XXXXXX)
CL=saf-lv-cli ND=saf-lv-node
NS="$CL $ND"
CP=
cleanup() {
	exec 7>&- 2>/dev/null
	[ -n "$CP" ] && kill "$CP" 2>/dev/null
	for ns in $NS; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.2
	for ns in $NS; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do echo "== $f"; tail -20 "$f"; done; exit 1; }
ok() { echo "ok: $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
for ns in $NS; do ip netns del "$ns" 2>/dev/null; done

S=10.78.0.100 U=10.78.1.1 P=24443 BE=24100
set -e
for ns in $NS; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add saf-lv-c0 netns $CL type veth peer name saf-lv-n0 netns $ND
ip -n $CL addr add 10.78.1.2/24 dev saf-lv-c0
ip -n $ND addr add $U/24 dev saf-lv-n0
ip -n $ND addr add $S/32 dev lo
ip -n $CL link set saf-lv-c0 up
ip -n $ND link set saf-lv-n0 up
ip -n $CL route add $S/32 via $U
set +e

SAF_CERT_IPS="$S $U" "$SRC/scripts/gen-test-certs" "$T/c" >/dev/null || fail certs
"$SAF" tls keygen "$T/keys" || fail keygen
ip netns exec $ND python3 "$SRC/tests/lib/echo_server.py" $BE >"$T/echo.out" 2>&1 &
ip netns exec $ND "$SAF" tls serve --anycast $S:$P --unicast $U:$P \
	--cert "$T/c/node.pem" --key "$T/c/node.key" --backend 127.0.0.1:$BE \
	--keys "$T/keys" -v >"$T/node.out" 2>"$T/node.err" &
for _ in $(seq 50); do
	grep -qs ready "$T/node.err" && grep -qs listening "$T/echo.out" && break
	sleep 0.1
done
grep -qs ready "$T/node.err" || fail "node did not start"

blackhole() { # on|off: everything in and out of the node's interface
	local a=-A; [ "$1" = on ] || a=-D
	ip netns exec $ND iptables $a INPUT -i saf-lv-n0 -j DROP &&
		ip netns exec $ND iptables $a OUTPUT -o saf-lv-n0 -j DROP
}
wait_size() { # file bytes seconds
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
# A stream through the echo backend, stdin a FIFO this shell holds open
# (fd 7): 100 kB echoed, moved to U, then idle with keepalive armed.
start_stream() { # name
	rm -f "$T/$1.fifo"; mkfifo "$T/$1.fifo"
	head -c 100000 /dev/urandom >"$T/$1.in1"
	head -c 100000 /dev/urandom >"$T/$1.in2"
	# shellcheck disable=SC2086
	timeout 90 ip netns exec $CL "$SAF" tls connect $S:$P --ca "$T/c/ca.pem" \
		--allow-target 10.78.0.0/16 -v $OPT <"$T/$1.fifo" >"$T/$1.out" \
		2>"$T/$1.err" &
	CP=$!
	exec 7>"$T/$1.fifo"
	cat "$T/$1.in1" >&7
	wait_size "$T/$1.out" 100000 10 || fail "$1: echo did not come back"
	for _ in $(seq 50); do grep -q "stream moved at $U:$P" "$T/$1.err" && break; sleep 0.1; done
	grep -q "stream moved at $U:$P" "$T/$1.err" || fail "$1: did not move to U"
	sleep 1 # idle
}
# Until the client's connection to U is gone (it noticed): ms since $1.
wait_noticed() { # t0 seconds
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		ip netns exec $CL ss -Htn state established dst $U:$P | grep -q . ||
			{ echo $(($(now_ms) - $1)); return 0; }
		sleep 0.05
	done
	echo never
}

# 1. Black hole, path back within the node's linger time (30 s).
case1() {
start_stream c1
if [ -n "$OPT" ]; then
	ip netns exec $CL ss -Htno state established dst $U:$P | grep -q "timer:(keepalive" ||
		fail "1: no keepalive on the connection to U: $(ip netns exec $CL ss -Htno dst $U:$P)"
fi
blackhole on || fail "iptables"
t0=$(now_ms)
ms=$(wait_noticed "$t0" 40)
[ "$ms" != never ] || fail "1: the client did not notice the silent node in 40 s (no liveness?)"
sleep 0.5
blackhole off
t1=$(now_ms)
for _ in $(seq 200); do grep -q "stream resumed at $U:$P" "$T/c1.err" && break; sleep 0.05; done
grep -q "stream resumed at $U:$P" "$T/c1.err" || fail "1: did not come back to U after the path came back"
back=$(($(now_ms) - t1))
cat "$T/c1.in2" >&7
exec 7>&-
wait "$CP"; rc=$?
[ "$rc" = 0 ] || fail "1: client exit $rc"
cat "$T/c1.in1" "$T/c1.in2" | cmp -s - "$T/c1.out" || fail "1: bytes differ: $(stat -c %s "$T/c1.out") of 200000"
# The bound: liveness + one probe interval (1 s here) + scheduling.
[ "$ms" -le $((LIVE * 1000 + 2500)) ] || fail "1: noticed after $ms ms (bound ${LIVE}s + 2.5 s)"
ok "1: silent node noticed in $ms ms (--liveness $LIVE), back on U $back ms after the path returned, 200 kB intact"
}

# 1b. The same with data written into the black hole (unacknowledged:
#     TCP_USER_TIMEOUT is what ends the connection), then the path back:
#     the comeback's RESUME resends it, nothing lost or doubled.
case1b() {
start_stream c1b
blackhole on || fail "iptables"
t0=$(now_ms)
cat "$T/c1b.in2" >&7
ms=$(wait_noticed "$t0" 40)
[ "$ms" != never ] || fail "1b: the client did not notice the silent node in 40 s"
sleep 0.5
blackhole off
for _ in $(seq 200); do grep -q "stream resumed at $U:$P" "$T/c1b.err" && break; sleep 0.05; done
grep -q "stream resumed at $U:$P" "$T/c1b.err" || fail "1b: did not come back to U"
exec 7>&-
wait "$CP"; rc=$?
[ "$rc" = 0 ] || fail "1b: client exit $rc"
cat "$T/c1b.in1" "$T/c1b.in2" | cmp -s - "$T/c1b.out" || fail "1b: bytes differ: $(stat -c %s "$T/c1b.out") of 200000"
[ "$ms" -le $((LIVE * 1000 + 2500)) ] || fail "1b: noticed after $ms ms (bound ${LIVE}s + 2.5 s)"
ok "1b: 100 kB written into the black hole: noticed in $ms ms, back on U, 200 kB intact"
}

# 2. Black hole for good: exit 3 with the reason.
case2() {
start_stream c2
blackhole on || fail "iptables"
t0=$(now_ms)
for ((i = 0; i < 60 * 20; i++)); do kill -0 "$CP" 2>/dev/null || break; sleep 0.05; done
ms=$(($(now_ms) - t0))
kill -0 "$CP" 2>/dev/null && fail "2: client still running after 60 s (hangs on the silent node)"
wait "$CP"; rc=$?
exec 7>&-
[ "$rc" = 3 ] || fail "2: client exit $rc (want 3)"
grep -Eq "saf: stream lost: node $U:$P silent for $LIVE s, then could not be reached again: 5 tries in [0-9.]+ s failed \(last: no answer in time\)" "$T/c2.err" ||
	fail "2: reason not given: $(tail -3 "$T/c2.err")"
cmp -s "$T/c2.in1" "$T/c2.out" || fail "2: the bytes before the loss differ"
# liveness + probe interval, 5 connects of 3 s each, 0.75 s of pauses.
[ "$ms" -le $(((LIVE + 1) * 1000 + 5 * 3000 + 750 + 3000)) ] || fail "2: took $ms ms"
ok "2: node gone for good: exit 3 after $ms ms: $(grep -o 'stream lost.*' "$T/c2.err")"
blackhole off
}
for c in $CASES; do "case$c"; done

# 3. Bad values refused with the reason, exit 2.
for v in x -1 3601; do
	"$SAF" tls connect 127.0.0.1:1 --liveness "$v" 2>"$T/u.err"; rc=$?
	[ "$rc" = 2 ] || fail "--liveness $v: exit $rc"
	grep -q "liveness: '$v' is not a number in 0..3600" "$T/u.err" || fail "--liveness $v: $(cat "$T/u.err")"
done
ok "3: bad --liveness refused, exit 2"
echo "all liveness checks passed"
