#!/bin/bash
# saf tls serve|connect|forward over loopback, with stock tools on the other
# side: migration, backward compatibility both ways (openssl s_client gets
# no token; saf tls connect against openssl s_server stays put), forward,
# migrate_notify by SIGUSR1 to the same node and to a sibling sharing the
# key file, certificate verification, key file permissions.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
T=$(mktemp -d /tmp/saf-s-lo.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do echo "== $f"; cat "$f"; done; exit 1; }
ok() { echo "ok: $*"; }

# Ports: 24000-24999 are this part's; pick a base per run to avoid
# TIME_WAIT clashes with an earlier run.
P=$((24300 + RANDOM % 600))
S=127.0.0.60 U=127.0.0.61 BE=$((P + 1))
"$SRC/scripts/gen-test-certs" "$T/certs" || fail "gen-test-certs"
"$SRC/scripts/gen-test-certs" "$T/certs" || fail "gen-test-certs is not idempotent"
C=$T/certs

python3 "$SRC/tests/lib/echo_server.py" "$BE" >"$T/echo.out" 2>&1 &
PIDS+=($!)
"$SAF" tls keygen "$T/keys" || fail "keygen"
[ "$(stat -c %a "$T/keys")" = 600 ] || fail "key file mode"

serve() { # name anycast unicast [extra...]
	local n=$1 a=$2 u=$3; shift 3
	"$SAF" tls serve --anycast "$a" --unicast "$u" --cert "$C/node.pem" \
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
for _ in $(seq 50); do grep -q listening "$T/echo.out" && break; sleep 0.1; done

serve n1 "$S:$P" "$U:$P"

# 1. The seed procedure: migrates, data flows end to end.
out=$(echo hello | timeout 10 "$SAF" tls connect "$S:$P" --ca "$C/ca.pem" --no-continuity -v 2>"$T/c1.err")
[ "$out" = hello ] || fail "echo through migrated connection: '$out'"
grep -q "on_target at $U:$P" "$T/c1.err" || fail "did not migrate: $(cat "$T/c1.err")"
ok "saf tls connect migrates to $U:$P and data flows"

# 2. Stock openssl s_client: works, and receives no token.
k0=$(counters n1)
out=$(echo plain | timeout 10 openssl s_client -connect "$S:$P" -CAfile "$C/ca.pem" \
	-verify_return_error -quiet 2>"$T/sclient.err")
[ "$out" = plain ] || fail "s_client through saf tls serve: '$out'"
k1=$(counters n1)
[ "$(field "$k0" "['tokens_issued']")" = "$(field "$k1" "['tokens_issued']")" ] ||
	fail "a token went to a client that never offered migration_support"
[ "$(field "$k0" "['handshakes_with_support']")" = "$(field "$k1" "['handshakes_with_support']")" ] ||
	fail "s_client counted as offering support"
ok "openssl s_client works against saf tls serve and gets no token"

# 3. saf tls connect against a stock openssl s_server: works, stays put.
SP=$((P + 2))
(sleep 3) | openssl s_server -accept "$S:$SP" -cert "$C/node.pem" -key "$C/node.key" \
	-tls1_3 -rev -naccept 1 >"$T/sserver.err" 2>&1 &
PIDS+=($!)
sleep 0.5
out=$(echo hello | timeout 10 "$SAF" tls connect "$S:$SP" --ca "$C/ca.pem" -v --ticket-wait 300 2>"$T/c3.err")
[ "$out" = olleh ] || fail "saf tls connect against s_server: '$out'"
grep -q "stayed_no_token at $S:$SP" "$T/c3.err" || fail "did not stay put: $(cat "$T/c3.err")"
ok "saf tls connect against openssl s_server works and stays put"

# 4. Certificate verification is on by default.
echo x | timeout 10 "$SAF" tls connect "$S:$P" --ca "$C/ca.pem" --name other.example 2>"$T/c4.err"
[ $? = 1 ] || fail "wrong name accepted"
grep -q "hostname mismatch" "$T/c4.err" || fail "no reason: $(cat "$T/c4.err")"
echo x | timeout 10 "$SAF" tls connect "$S:$P" 2>"$T/c4b.err"
[ $? = 1 ] || fail "unknown CA accepted"
ok "certificate verified by default (name and CA)"

# 5. forward: an unmodified TCP client benefits.
FP=$((P + 3))
"$SAF" tls forward --local "127.0.0.62:$FP" --remote "$S:$P" --ca "$C/ca.pem" --no-continuity -v 2>"$T/fwd.err" &
PIDS+=($!)
sleep 0.5
out=$(python3 - "$FP" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.62", int(sys.argv[1])), timeout=5)
s.sendall(b"via forward\n")
print(s.recv(100).decode().strip())
PY
)
[ "$out" = "via forward" ] || fail "forward: '$out'"
grep -q "on_target at $U:$P" "$T/fwd.err" || fail "forward did not migrate"
ok "saf tls forward carries plain TCP and migrates"

# 6. migrate_notify (ticket form) by SIGUSR1: to the same node, and to a
#    sibling node that shares the key file.
notify_run() { # node expect_target
	local n=$1 want=$2 pid; eval "pid=\$${n}_PID"
	(echo before; sleep 1.2; echo after; sleep 0.5) |
		timeout 10 "$SAF" tls connect "$3" --ca "$C/ca.pem" --no-migrate -v \
		>"$T/n.out" 2>"$T/n.err" &
	local cp=$!
	sleep 0.6
	kill -USR1 "$pid"
	wait $cp || fail "connect exited $?: $(cat "$T/n.err")"
	[ "$(tr '\n' ' ' <"$T/n.out")" = "before after " ] || fail "data lost: $(cat "$T/n.out")"
	grep -q "migrate_notify (ticket form)" "$T/n.err" || fail "no notify seen"
	grep -q "at $want" "$T/n.err" || fail "did not follow notify: $(cat "$T/n.err")"
}
notify_run n1 "$U:$P" "$S:$P"
ok "SIGUSR1: migrate_notify ticket form, connection moved to $U:$P, no data lost"

S2=127.0.0.63 U2=127.0.0.64 U3=127.0.0.65
serve n3 "127.0.0.66:$P" "$U3:$P"
serve n2 "$S2:$P" "$U2:$P" --notify-target "$U3:$P"
m0=$(field "$(counters n3)" "['migrations_accepted']")
notify_run n2 "$U3:$P" "$S2:$P"
m1=$(field "$(counters n3)" "['migrations_accepted']")
[ "$m1" = $((m0 + 1)) ] || fail "sibling did not accept: $m0 -> $m1"
ok "migrate_notify to a sibling node sharing the key file: accepted there"

# 7. Fallbacks: notify towards an address where nothing listens, and towards
#    a node that does not share the keys: the client stays on S, says why,
#    and the node counts the refusal.
"$SAF" tls keygen "$T/keys3" || fail keygen
serve n4 "127.0.0.67:$P" "127.0.0.68:$P" --notify-target "127.0.0.69:$P"
notify_run n4 "127.0.0.67:$P" "127.0.0.67:$P" 2>/dev/null
grep -q "stayed_unreachable at 127.0.0.67:$P: target 127.0.0.69:$P unreachable" "$T/n.err" ||
	fail "unreachable target: $(cat "$T/n.err")"
ok "notify to an unreachable target: stays on S, data intact, reason given"
kill "$n4_PID"
serve n6 "127.0.0.72:$P" "127.0.0.73:$P" --notify-target "127.0.0.72:$P"
notify_run n6 "127.0.0.72:$P" "127.0.0.72:$P" 2>/dev/null
grep -q "token for 127.0.0.72:$P refused: the anycast address itself" "$T/n.err" ||
	fail "token for S itself: $(cat "$T/n.err")"
ok "a token for the anycast address itself: refused, stays on S, data intact"
kill "$n6_PID"
serve n5 "127.0.0.70:$P" "127.0.0.71:$P" --notify-target "$U:$P" --keys "$T/keys3"
r0=$(field "$(counters n1)" "['refused']['not_resumed']")
notify_run n5 "127.0.0.70:$P" "127.0.0.70:$P"
grep -q "stayed_refused at 127.0.0.70:$P: node $U:$P refused the token.*access denied" "$T/n.err" ||
	fail "refusal not reported: $(cat "$T/n.err")"
r1=$(field "$(counters n1)" "['refused']['not_resumed']")
[ "$r1" = $((r0 + 1)) ] || fail "n1 did not count the refusal: $r0 -> $r1"
ok "token from a node with other keys: refused (alert 49), client stays on S, counted"

# 8. Key file readable by others: refused, with the fix in the message.
cp "$T/keys" "$T/keys2"; chmod 644 "$T/keys2"
"$SAF" tls serve --anycast "$S:$((P+5))" --unicast "$U:$((P+5))" --cert "$C/node.pem" \
	--key "$C/node.key" --backend "127.0.0.1:$BE" --keys "$T/keys2" 2>"$T/k.err"
[ $? = 1 ] && grep -q "chmod 600" "$T/k.err" || fail "0644 key file accepted"
! grep -qi "$(sed -n 's/^node_key //p' "$T/keys" | head -c 16)" "$T"/*.err || fail "key in a log"
ok "key file with mode 0644 refused; keys never logged"

# 9. Usage errors: exit 2, one line.
"$SAF" tls serve --anycast "$S:$P" 2>"$T/u.err"; [ $? = 2 ] || fail "usage exit"
"$SAF" tls connect --help >/dev/null || fail "--help"
ok "usage errors exit 2; --help exits 0"
echo "tls loopback: all passed"
