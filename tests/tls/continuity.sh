#!/bin/bash
# Continuity over loopback (docs/continuity.md): saf tls connect and serve
# carry a stream that starts on S at once and moves underneath; random data
# through an unmodified echo backend must come back byte for byte while the
# node asks the client to move (SIGUSR1, repeatedly) and while its
# connections are killed (ss -K: the kernel aborts the socket, as a
# middlebox RST or a path flap would). Then the failure paths: a node that
# lost the stream (restart) resets it and the client says so; peers
# without continuity get the plain TLS variant.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (ss -K)"; exit 77; }
T=$(mktemp -d /tmp/saf-s-co.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do echo "== $f"; tail -20 "$f"; done; exit 1; }
ok() { echo "ok: $*"; }

# Ports 24000-24299 are this test's (loopback.sh uses 24300 and up).
P=$((24000 + RANDOM % 280))
S=127.0.0.62 U=127.0.0.63 BE=$((P + 1))
"$SRC/scripts/gen-test-certs" "$T/certs" >/dev/null || fail "gen-test-certs"
C=$T/certs
"$SAF" tls keygen "$T/keys" || fail keygen
python3 "$SRC/tests/lib/echo_server.py" "$BE" >"$T/echo.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$T/echo.out" && break; sleep 0.1; done

serve() { # name [extra...]
	local n=$1; shift
	"$SAF" tls serve --anycast "$S:$P" --unicast "$U:$P" --cert "$C/node.pem" \
		--key "$C/node.key" --backend "127.0.0.1:$BE" --keys "$T/keys" \
		-v "$@" >"$T/$n.out" 2>"$T/$n.err" &
	PIDS+=($!)
	eval "${n}_PID=$!"
	for _ in $(seq 50); do grep -qs ready "$T/$n.err" && return 0; sleep 0.1; done
	fail "$n did not start"
}
counters() { # name -> last JSON line after SIGUSR2
	local pid; eval "pid=\$${1}_PID"
	local before; before=$(wc -l <"$T/$1.out")
	kill -USR2 "$pid"
	for _ in $(seq 30); do
		[ "$(wc -l <"$T/$1.out")" -gt "$before" ] && break; sleep 0.1
	done
	tail -1 "$T/$1.out"
}
field() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print(eval('d'+sys.argv[2]))" "$1" "$2"; }
client() { # name [extra...] < input > output
	local n=$1; shift
	timeout 120 "$SAF" tls connect "$S:$P" --ca "$C/ca.pem" -v "$@" 2>"$T/$n.err"
}

serve n1

# 1. A short exchange: starts on S, moves to U underneath (the stream
#    lives half a second: one that ends first never needs to move), ends
#    cleanly.
out=$( (echo hello; sleep 0.5) | client c1)
[ "$out" = hello ] || fail "echo over continuity: '$out'"
grep -q "on_s_continuity at $S:$P" "$T/c1.err" || fail "did not start on S"
grep -q "stream moved at $U:$P" "$T/c1.err" || fail "did not move to U"
grep -q "stream done at $U:$P" "$T/c1.err" || fail "did not end on U"
k=$(counters n1)
[ "$(field "$k" "['continuity']['opened']")" = 1 ] || fail "opened: $k"
[ "$(field "$k" "['continuity']['resumed']")" = 1 ] || fail "resumed: $k"
[ "$(field "$k" "['continuity']['finished']")" = 1 ] || fail "finished: $k"
ok "continuity: data on S at once, moved to $U:$P underneath, clean end"

# 2. 40 MB of random data through the echo backend (both directions), while
#    the node asks the client to move, repeatedly, and connections are
#    killed at random moments, S's and U's alike.
#    The moves and kills all fall in the first two seconds, while the
#    second half of the input waits: a connection killed after the very
#    last ACK would leave the node's copy of the stream waiting (as TCP's
#    TIME_WAIT does), which is right but not what this check counts.
head -c 40000000 /dev/urandom >"$T/big"
{ head -c 20000000 "$T/big"; sleep 2.5; tail -c +20000001 "$T/big"; } |
	client c2 >"$T/got" &
cp=$!
for i in 1 2 3 4 5 6; do
	sleep "0.$((RANDOM % 3 + 1))"
	if ((i % 2)); then kill -USR1 "$n1_PID"; else ss -K dst "$U:$P" >/dev/null 2>&1; fi
done
ss -K dst "$S:$P" >/dev/null 2>&1
wait $cp || fail "stream lost: exit $?"
cmp -s "$T/big" "$T/got" || fail "bytes differ: $(stat -c %s "$T/got") of 40000000"
moves=$(grep -c "stream moved" "$T/c2.err")
resumes=$(grep -c "stream resumed" "$T/c2.err")
# A notify that lands while a move is under way, or a kill that hits the
# next connection before the switch, leaves no trace of its own: count
# loosely, the bytes above are what must hold.
[ "$moves" -ge 1 ] || fail "never moved off S"
[ $((moves + resumes)) -ge 3 ] || fail "moves $moves + reconnections $resumes < 3 of 7 events"
k=$(counters n1)
[ "$(field "$k" "['continuity']['violations']")" = 0 ] || fail "violations: $k"
[ "$(field "$k" "['continuity']['streams']")" = 0 ] || fail "stream left: $k"
ok "40 MB echoed byte for byte through $moves moves and $resumes reconnections"

# 3. Many short streams at once, each moved and killed: all intact.
for i in $(seq 8); do
	head -c $((RANDOM * 30)) /dev/urandom >"$T/in$i"
	client m$i <"$T/in$i" >"$T/out$i" &
	eval "mp$i=$!"
done
sleep 0.2; kill -USR1 "$n1_PID"; ss -K dst "$U:$P" >/dev/null 2>&1
for i in $(seq 8); do
	eval "wait \$mp$i" || fail "stream $i lost"
	cmp -s "$T/in$i" "$T/out$i" || fail "stream $i differs"
done
ok "8 concurrent streams, moved and killed: all intact"

# 3b. saf tls forward: an unmodified TCP client gets the same, moved and
#     killed under it.
FP=$((P + 2))
"$SAF" tls forward --local "127.0.0.64:$FP" --remote "$S:$P" --ca "$C/ca.pem" -v 2>"$T/fwd.err" &
PIDS+=($!)
for _ in $(seq 50); do ss -Hltn "sport = :$FP" | grep -q . && break; sleep 0.1; done
python3 - "$FP" "$n1_PID" "$U:$P" <<'PY' || fail "forward: bytes differ or lost"
import os, signal, socket, subprocess, sys, threading, time
data = os.urandom(8_000_000)
s = socket.create_connection(("127.0.0.64", int(sys.argv[1])), timeout=20)
got = bytearray()
def reader():
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        got.extend(b)
t = threading.Thread(target=reader); t.start()
for i in range(0, len(data), 1 << 20):
    s.sendall(data[i:i + (1 << 20)])
    if i == 2 << 20:
        os.kill(int(sys.argv[2]), signal.SIGUSR1)
    if i == 5 << 20:
        subprocess.run(["ss", "-K", "dst", sys.argv[3]], capture_output=True)
s.shutdown(socket.SHUT_WR)
t.join(30)
sys.exit(0 if bytes(got) == data else 1)
PY
grep -q "stream moved at $U:$P" "$T/fwd.err" || fail "forward did not move: $(cat "$T/fwd.err")"
ok "saf tls forward: 8 MB from a plain TCP client echoed intact across a notify and a kill"

# 4. The node lost the stream (restarted with the same keys): the token
#    still verifies, the stream is unknown, the client is told and fails.
(echo before; sleep 2; echo after) | client c4 >"$T/c4.out" &
cp=$!
for _ in $(seq 100); do grep -qs before "$T/c4.out" && break; sleep 0.05; done
kill "$n1_PID"; wait "$n1_PID" 2>/dev/null
serve n2
wait $cp; rc=$?
[ $rc = 1 ] || fail "client exit $rc after the node lost its stream"
grep -q "stream lost: continuity: peer reset the stream: unknown_session" "$T/c4.err" ||
	fail "reason not given: $(cat "$T/c4.err")"
[ "$(head -1 "$T/c4.out")" = before ] || fail "data before the loss: $(cat "$T/c4.out")"
k=$(counters n2)
[ "$(field "$k" "['continuity']['unknown']")" = 1 ] || fail "unknown not counted: $k"
ok "a node without the stream resets it; the client reports unknown_session, exit 1"

# 5. Peers without continuity get the plain TLS variant.
out=$(echo plain | client c5 --no-continuity)
[ "$out" = plain ] || fail "--no-continuity: '$out'"
grep -q "on_target at $U:$P" "$T/c5.err" || fail "seed procedure not run: $(cat "$T/c5.err")"
kill "$n2_PID"; wait "$n2_PID" 2>/dev/null
serve n3 --no-continuity
out=$(echo plain | client c6)
[ "$out" = plain ] || fail "serve --no-continuity: '$out'"
grep -q "on_target at $U:$P" "$T/c6.err" || fail "seed procedure not run: $(cat "$T/c6.err")"
out=$(echo plain | timeout 10 openssl s_client -connect "$S:$P" -CAfile "$C/ca.pem" \
	-verify_return_error -quiet 2>/dev/null)
[ "$out" = plain ] || fail "s_client: '$out'"
ok "without continuity on either side: the seed procedure, as before"

# 6. Bad input.
"$SAF" tls connect "$S:$P" --stream-buffer 10 2>"$T/u.err"; [ $? = 2 ] || fail "usage exit"
grep -q "stream-buffer: 65536..67108864" "$T/u.err" || fail "no reason: $(cat "$T/u.err")"
"$SAF" tls serve --anycast "$S:$P" --unicast "$U:$P" --cert x --key y \
	--backend 127.0.0.1:1 --stream-buffer 99999999999 2>"$T/u.err"
[ $? = 2 ] || fail "usage exit (serve)"
ok "bad --stream-buffer refused, exit 2"
echo "all continuity checks passed"
