#!/bin/bash
# Admission over loopback (docs/tls.md, "Admission"): idle TCP peers, more
# of them than --max-conns, from several source addresses and many from
# one, must not take the node offline. During the flood real clients still
# connect: saf tls connect migrates (migrations_accepted moves), a
# continuity stream moves on SIGUSR1 and its bytes come back, a new
# continuity stream opens, stock openssl s_client gets its echo. Then the
# bounds one by one: the per-source cap, the handshake deadline, the idle
# bound, their counters (SIGUSR2 JSON and --metrics-file), the option
# checks, and the loud SSLKEYLOGFILE warning. No root needed.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
T=$(mktemp -d /tmp/saf-id-ad.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap '' PIPE # a client gone before its FIFO is written: fail, not die
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do echo "== $f"; tail -15 "$f"; done; exit 1; }
T0=$(date +%s)
ok() { echo "ok: $* [$(($(date +%s) - T0)) s]"; }

# Ports 24910-24999 are this test's (loopback.sh: 24300-24900).
P=$((24910 + RANDOM % 80))
S=127.0.0.80 U=127.0.0.81 BE=$((P + 1)) P2=$((P + 2))
"$SRC/scripts/gen-test-certs" "$T/certs" >/dev/null || fail "gen-test-certs"
C=$T/certs
"$SAF" tls keygen "$T/keys" || fail keygen
python3 "$SRC/tests/lib/echo_server.py" "$BE" >"$T/echo.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$T/echo.out" && break; sleep 0.1; done

serve() { # name port [extra...]
	local n=$1 p=$2; shift 2
	"$SAF" tls serve --anycast "$S:$p" --unicast "$U:$p" --cert "$C/node.pem" \
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
num() { # json key -> the number after "key": (keys used here are unique)
	local v; v=$(grep -o "\"$2\":[0-9]*" <<<"$1" | head -1); echo "${v#*:}"
}
client() { # name [extra...] < input > output: bounded, a hang is a failure
	local n=$1; shift
	timeout "${TO:-8}" "$SAF" tls connect "$S:$P" --ca "$C/ca.pem" -v "$@" 2>"$T/$n.err"
}
ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- 1. A flood of idle peers larger than --max-conns ---------------------
serve n1 "$P" --max-conns 24

# A continuity stream opened before the flood: it must move during it
# (a new connection, to U) and its bytes come back.
# Its input is a FIFO held open by this shell (fd 7): the stream lasts
# until the test says so, however slow the machine.
mkfifo "$T/in0"
TO=60 client c0 <"$T/in0" >"$T/got0" &
C0=$!
PIDS+=($C0)
exec 7>"$T/in0"
echo first >&7
for _ in $(seq 50); do [ -s "$T/got0" ] && break; sleep 0.1; done
[ "$(cat "$T/got0")" = first ] || fail "stream before the flood: '$(cat "$T/got0")'"

# 5 sources x 10 (below any per-source cap: eviction must do it), and one
# source with 40: 90 idle peers, reconnecting when closed, for 24 slots.
F=()
for i in 1 2 3 4 5; do F+=("127.0.0.18$i/$S:$P/5" "127.0.0.18$i/$U:$P/5"); done
F+=("127.0.0.190/$S:$P/40")
# (7>&-: the flood must not hold the stream's FIFO open.)
python3 "$SRC/tests/tls/idle_flood.py" "${F[@]}" >"$T/flood.out" 2>"$T/flood.err" 7>&- &
FLOOD=$!
PIDS+=($FLOOD)
for _ in $(seq 50); do grep -qs ready "$T/flood.out" && break; sleep 0.1; done
grep -qs ready "$T/flood.out" || fail "flood did not start"
sleep 1

k0=$(counters n1)
for i in 1 2 3; do
	t0=$(ms)
	out=$(echo "hello$i" | client c1 --no-continuity)
	[ "$out" = "hello$i" ] || fail "saf tls connect during the flood (try $i): '$out'"
	grep -q "on_target at $U:$P" "$T/c1.err" || fail "did not migrate during the flood"
	echo "  saf tls connect + migration during the flood: $(($(ms) - t0)) ms"
done
k1=$(counters n1)
[ "$(num "$k1" migrations_accepted)" -ge "$(($(num "$k0" migrations_accepted) + 3))" ] ||
	fail "migrations_accepted did not move: $k0 -> $k1"
ok "saf tls connect connects and migrates during the flood"

out=$( (echo stream; sleep 0.5) | client c2)
[ "$out" = stream ] || fail "new continuity stream during the flood: '$out'"
grep -q "stream moved at $U:$P" "$T/c2.err" || fail "new stream did not move to U"
ok "a new continuity stream opens and moves during the flood"

out=$( (echo plain; sleep 1) | timeout 8 openssl s_client -connect "$S:$P" \
	-CAfile "$C/ca.pem" -verify_return_error -quiet -no_ign_eof 2>"$T/sclient.err")
[ "$out" = plain ] || fail "openssl s_client during the flood: '$out'"
ok "openssl s_client gets its echo during the flood"

r0=$(num "$(counters n1)" resumed)
kill -USR1 "$n1_PID"
for _ in $(seq 100); do
	[ "$(grep -c "stream moved at $U:$P" "$T/c0.err")" -ge 2 ] && break; sleep 0.1
done
r1=$(num "$(counters n1)" resumed)
[ "$r1" -gt "$r0" ] || fail "the stream did not come back after SIGUSR1 ($r0 -> $r1)"
echo second >&7 || fail "the stream's client is gone"
exec 7>&-
wait "$C0" || fail "the stream's client failed"
grep -q "stream done" "$T/c0.err" || fail "the stream did not end cleanly"
[ "$(cat "$T/got0")" = "$(printf 'first\nsecond')" ] || fail "stream across the flood: '$(cat "$T/got0")'"
ok "a continuity stream moved during the flood, came back, bytes intact"

k=$(counters n1)
echo "  counters: $(grep -o '"admission":{[^}]*}' <<<"$k")"
[ "$(num "$k" evicted)" -gt 0 ] || fail "no eviction: $k"
kill "$FLOOD"; wait "$FLOOD" 2>/dev/null
echo "  flood: $(tail -1 "$T/flood.out")"
ok "the flood's idle peers were evicted (counters)"

# ---- 2. Each bound alone, with small values ---------------------------------
SSLKEYLOGFILE=$T/keylog serve n2 "$P2" --max-conns 8 --max-per-source 3 \
	--handshake-timeout 500 --idle-timeout 1 --metrics-file "$T/n2.prom"
grep -q "WARNING.*SSLKEYLOGFILE" "$T/n2.err" || fail "no SSLKEYLOGFILE warning"
ok "SSLKEYLOGFILE: loud warning at start"

python3 "$SRC/tests/tls/idle_flood.py" --reconnect 100 "127.0.0.191/$S:$P2/5" >"$T/f2.out" &
F2=$!
PIDS+=($F2)
# Silent peers reach accept only after TCP_DEFER_ACCEPT (about 1-3 s).
for _ in $(seq 100); do
	k=$(counters n2)
	[ "$(num "$k" handshake_timeouts)" = 3 ] && break; sleep 0.1
done
[ "$(num "$k" per_source_refused)" = 2 ] || fail "per-source cap 3 of 5: $k"
[ "$(num "$k" handshake_timeouts)" = 3 ] || fail "handshake deadline: $k"
kill "$F2"; wait "$F2" 2>/dev/null
grep -q "closed_by_server 5" "$T/f2.out" || fail "idle peers not all closed: $(cat "$T/f2.out")"
ok "--max-per-source 3 refuses 2 of 5, --handshake-timeout closes the other 3"

# A TLS client (Python's ssl) that finishes its handshake and says
# nothing: the node must close it after about a second.
el=$(timeout 10 python3 - "$S" "$P2" "$C/ca.pem" <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[3])
ctx.check_hostname = False
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2]))))
t0 = time.monotonic()
s.settimeout(8)
try:
    while s.recv(100):
        pass
except (ssl.SSLError, OSError):
    pass
print(int((time.monotonic() - t0) * 1000))
PY
)
[ -n "$el" ] && [ "$el" -ge 900 ] && [ "$el" -lt 4000 ] ||
	fail "idle TLS connection closed after '$el' ms (--idle-timeout 1)"
k=$(counters n2)
[ "$(num "$k" idle_timeouts)" = 1 ] || fail "idle bound: $k"
ok "--idle-timeout 1 closes a quiet TLS connection after $el ms"
[ -s "$T/keylog" ] || fail "SSLKEYLOGFILE not honoured"

for _ in $(seq 30); do grep -qs handshake_timeout "$T/n2.prom" && break; sleep 0.1; done
grep -q 'saf_tls_server_admission_total{event="handshake_timeout"} 3' "$T/n2.prom" ||
	fail "metrics: $(grep admission "$T/n2.prom")"
grep -q 'saf_tls_server_admission_total{event="per_source_refused"} 2' "$T/n2.prom" ||
	fail "metrics: per_source_refused"
ok "admission counters in --metrics-file"

# ---- 3. Option checks ----------------------------------------------------------
for bad in "--handshake-timeout 0" "--handshake-timeout 50" "--handshake-timeout x" \
	"--idle-timeout -1" "--idle-timeout 86401" "--max-per-source y"; do
	# shellcheck disable=SC2086
	"$SAF" tls serve --anycast "$S:$P2" --unicast "$U:$P2" --cert x --key y \
		--backend 127.0.0.1:1 $bad 2>"$T/opt.err"
	rc=$?
	[ "$rc" = 2 ] || fail "$bad: exit $rc"
	grep -q -- "${bad%% *}" "$T/opt.err" || fail "$bad: $(cat "$T/opt.err")"
done
ok "bad --handshake-timeout, --idle-timeout, --max-per-source: exit 2 naming the option"
