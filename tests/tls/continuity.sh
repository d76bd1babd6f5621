#!/bin/bash
# Continuity over loopback (docs/continuity.md): saf tls connect and serve
# carry a stream that starts on S at once and moves underneath; random data
# through an unmodified echo backend must come back byte for byte while the
# node asks the client to move (SIGUSR1, repeatedly) and while its
# connections are killed (ss -K: the kernel aborts the socket, as a
# middlebox RST or a path flap would). Then the failure paths: the node's
# process killed (SIGKILL) after the move, restarted with the same keys
# (it refuses the unknown stream: the client stops at once and says so) or
# not (the client gives up after its tries), either way exit 3 within a
# bound and only a correct prefix on stdout; peers without continuity get
# the plain TLS variant.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (ss -K)"; exit 77; }
T=$(mktemp -d /tmp/saf-s-co.XXXXXX)
PIDS=()
cleanup() {
	# SIGCONT too: a stopped client (4a) would not end on SIGTERM alone.
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; kill -CONT "$p" 2>/dev/null; done
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
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_size() { # file bytes seconds: until file holds at least that many
	local i
	for ((i = 0; i < $3 * 20; i++)); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_exit() { # pid seconds -> sets RC (124: still running, then killed)
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; RC=$?; return 0; }
		sleep 0.05
	done
	kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null
	RC=124
}
slowcat() { # file: its bytes at about 8 MB/s (64 KiB every 8 ms)
	python3 -c 'import sys, time
d = open(sys.argv[1], "rb").read()
for i in range(0, len(d), 1 << 16):
    sys.stdout.buffer.write(d[i:i + (1 << 16)]); sys.stdout.flush(); time.sleep(0.008)' "$1" 2>/dev/null
}
is_prefix() { # whole part: part is a prefix of whole
	cmp -s -n "$(stat -c %s "$2")" "$1" "$2"
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

# 4. The node's process is killed (SIGKILL) after the move: its streams
#    are gone with it.
#
# 4a. ... and a new process starts at U with the same keys: the token
#    still verifies, the stream is unknown there, the node answers RESET
#    unknown_session and the client stops at once (no tries, no pauses),
#    naming the node and the stream, exit 3. Its stdin is a FIFO this
#    shell holds open (fd 7): the stream is still open when the node
#    dies. The client is stopped
#    (SIGSTOP) across the kill and the restart, so that its way back
#    meets the new process and not a port with nothing behind it.
head -c 1000000 /dev/urandom >"$T/in4a"
mkfifo "$T/in4a.fifo"
"$SAF" tls connect "$S:$P" --ca "$C/ca.pem" -v <"$T/in4a.fifo" >"$T/c4a.out" 2>"$T/c4a.err" &
cp=$!
PIDS+=($cp)
exec 7>"$T/in4a.fifo"
cat "$T/in4a" >&7
wait_size "$T/c4a.out" 1000000 10 || fail "4a: echo did not come back: $(stat -c %s "$T/c4a.out")"
grep -q "stream moved at $U:$P" "$T/c4a.err" || fail "4a: did not move to U"
kill -STOP "$cp"
kill -KILL "$n1_PID"; wait "$n1_PID" 2>/dev/null
serve n2
t0=$(now_ms)
kill -CONT "$cp"
wait_exit "$cp" 10
ms=$(($(now_ms) - t0))
exec 7>&-
[ "$RC" = 3 ] || fail "4a: client exit $RC after the node lost its stream (want 3)"
grep -Eq "saf: stream lost: node $U:$P no longer knows stream [0-9a-f]{8} \(unknown_session: node restarted" "$T/c4a.err" ||
	fail "4a: reason not given: $(cat "$T/c4a.err")"
cmp -s "$T/in4a" "$T/c4a.out" || fail "4a: the bytes before the loss differ"
[ "$ms" -lt 3000 ] || fail "4a: took $ms ms to fail"
k=$(counters n2)
[ "$(field "$k" "['continuity']['unknown']")" = 1 ] || fail "4a: unknown not counted once (a retry?): $k"
[ "$(field "$k" "['migrations_accepted']")" = 1 ] || fail "4a: the client came back more than once: $k"
grep -q "stream $(grep -Eo 'knows stream [0-9a-f]{8}' "$T/c4a.err" | cut -d' ' -f3), unknown here" "$T/n2.err" ||
	fail "4a: node and client do not name the same stream: $(grep unknown "$T/n2.err")"
ok "node killed and restarted: RESET unknown_session, the client names node and stream, exit 3 in $ms ms, 1 MB intact before"

# 4b. ... and nothing comes back at U: the client tries 5 times (0.75 s
#    of pauses; every connect refused at once here), then says the node
#    could not be reached again, exit 3. Killed while 20 MB flow both
#    ways: what reached stdout is a prefix of what was sent, and short of
#    it (the input goes at about 8 MB/s, so the stream is mid-flow).
#    Through `saf tls forward` at the same time, an unmodified TCP
#    client (1 MB echoed, then waiting) sees its connection reset, not a
#    clean end that would pass the stream off as whole.
FP=$((P + 3))
"$SAF" tls forward --local "127.0.0.65:$FP" --remote "$S:$P" --ca "$C/ca.pem" -v 2>"$T/fwd4.err" &
PIDS+=($!)
for _ in $(seq 50); do ss -Hltn "sport = :$FP" | grep -q . && break; sleep 0.1; done
python3 - "$FP" "$T/fwd4.res" <<'PY' &
# 1 MB echoed, then only reading (no send of ours can take the error):
# "ready" once all came back, then how the connection ended.
import os, socket, sys
data = os.urandom(1_000_000)
s = socket.create_connection(("127.0.0.65", int(sys.argv[1])), timeout=30)
s.sendall(data)
got, end = bytearray(), "eof"
try:
    while True:
        if len(got) == len(data):
            open(sys.argv[2] + ".ready", "w").close()
        b = s.recv(1 << 16)
        if not b:
            break
        got.extend(b)
except ConnectionResetError:
    end = "reset"
except OSError as e:
    end = "error:" + e.__class__.__name__
ok = bytes(got) == data[:len(got)]
open(sys.argv[2], "w").write(f"{end} {len(got)} {'prefix' if ok else 'DIFFERS'}\n")
PY
fwdpy=$!
PIDS+=($fwdpy)
head -c 20000000 /dev/urandom >"$T/in4b"
slowcat "$T/in4b" | "$SAF" tls connect "$S:$P" --ca "$C/ca.pem" -v >"$T/c4b.out" 2>"$T/c4b.err" &
cp=$!
PIDS+=($cp)
wait_size "$T/c4b.out" 2000000 20 || fail "4b: no data flowed"
grep -q "stream moved at $U:$P" "$T/c4b.err" || fail "4b: did not move to U"
for _ in $(seq 100); do [ -e "$T/fwd4.res.ready" ] && break; sleep 0.05; done
grep -q "stream moved at $U:$P" "$T/fwd4.err" || fail "4b: forward did not move to U"
kill -KILL "$n2_PID"; wait "$n2_PID" 2>/dev/null
t0=$(now_ms)
wait_exit "$cp" 15
ms=$(($(now_ms) - t0))
[ "$RC" = 3 ] || fail "4b: client exit $RC after the node died (want 3)"
grep -Eq "saf: stream lost: node $U:$P could not be reached again: 5 tries in [0-9.]+ s failed \(last: connect: Connection refused\)" "$T/c4b.err" ||
	fail "4b: reason not given: $(cat "$T/c4b.err")"
got=$(stat -c %s "$T/c4b.out")
is_prefix "$T/in4b" "$T/c4b.out" || fail "4b: the $got bytes before the loss are not a prefix of the input"
[ "$got" -lt 20000000 ] || fail "4b: the whole input came back: the kill came too late to check anything"
[ "$ms" -ge 500 ] && [ "$ms" -lt 5000 ] || fail "4b: failed after $ms ms (want the 5 tries: 0.75 s of pauses, under 5 s)"
wait "$fwdpy"
read -r fend fgot fok <"$T/fwd4.res"
[ "$fend" = reset ] && [ "$fok" = prefix ] && [ "$fgot" = 1000000 ] ||
	fail "4b: forward's client saw '$fend' after $fgot bytes ($fok)"
grep -q "stream lost: node $U:$P could not be reached again" "$T/fwd4.err" || fail "4b: forward did not say why: $(tail -3 "$T/fwd4.err")"
ok "node killed, not restarted: exit 3 after 5 tries in $ms ms, $got bytes before it a prefix; forward resets its client after $fgot bytes"

serve n3

# 5. Peers without continuity get the plain TLS variant.
out=$(echo plain | client c5 --no-continuity)
[ "$out" = plain ] || fail "--no-continuity: '$out'"
grep -q "on_target at $U:$P" "$T/c5.err" || fail "seed procedure not run: $(cat "$T/c5.err")"
kill "$n3_PID"; wait "$n3_PID" 2>/dev/null
serve n4 --no-continuity
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
