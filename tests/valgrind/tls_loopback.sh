#!/usr/bin/env bash
# saf tls serve and saf tls connect under valgrind memcheck, over loopback
# (127.0.0.150/151, ports 27000-27999: the hardening part's), with a plain
# echo backend: one migrating connection, one that stays on S. Each saf
# process writes its own valgrind log; any error or definite leak fails.
# Called by scripts/test-valgrind with SAF_VALGRIND (the wrapper command),
# SAF_BIN, SAF_SOURCE_DIR and LOGS set.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?} VG=${SAF_VALGRIND:?} LOGS=${LOGS:?}
T=$(mktemp -d /tmp/saf-h-vg.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do echo "== $f"; cat "$f"; done; exit 1; }

P=$((27000 + RANDOM % 900))
S=127.0.0.150 U=127.0.0.151 BE=$((P + 1))
SAF_CERT_IPS="$S $U" "$SRC/scripts/gen-test-certs" "$T/certs" >/dev/null || fail "gen-test-certs"
python3 "$SRC/tests/lib/echo_server.py" "$BE" >"$T/echo.out" 2>&1 &
PIDS+=($!)
$VG "$SAF" tls keygen "$T/keys" || fail "keygen"

# Under valgrind a handshake can take seconds on a loaded machine: a long
# handshake deadline, so only the flood below meets the admission bounds.
$VG "$SAF" tls serve --anycast "$S:$P" --unicast "$U:$P" --cert "$T/certs/node.pem" \
	--key "$T/certs/node.key" --backend "127.0.0.1:$BE" --keys "$T/keys" -v \
	--max-conns 8 --handshake-timeout 30000 >"$T/serve.out" 2>"$T/serve.err" &
SERVE=$!
PIDS+=($SERVE)
for _ in $(seq 300); do grep -qs ready "$T/serve.err" && break; sleep 0.1; done
grep -qs ready "$T/serve.err" || fail "serve did not start"
for _ in $(seq 50); do grep -q listening "$T/echo.out" && break; sleep 0.1; done

out=$(echo hello | timeout 60 $VG "$SAF" tls connect "$S:$P" --ca "$T/certs/ca.pem" --no-continuity -v 2>"$T/c1.err")
[ "$out" = hello ] || fail "migrating connection: '$out'"
grep -q "on_target at $U:$P" "$T/c1.err" || fail "did not migrate"
# Continuity: a stream that lives long enough to move underneath.
out=$( (echo one; sleep 3; echo two) | timeout 60 $VG "$SAF" tls connect "$S:$P" --ca "$T/certs/ca.pem" -v 2>"$T/c3.err")
[ "$(echo $out)" = "one two" ] || fail "continuity stream: '$out'"
grep -q "stream moved at $U:$P" "$T/c3.err" || fail "continuity stream did not move: $(cat "$T/c3.err")"
out=$(echo again | timeout 60 $VG "$SAF" tls connect "$S:$P" --ca "$T/certs/ca.pem" --no-migrate 2>"$T/c2.err")
[ "$out" = again ] || fail "plain connection: '$out'"

# Admission (docs/tls.md): 12 silent peers from one source for 8 slots;
# they are evicted and timed out while a real client still gets through.
python3 "$SRC/tests/tls/idle_flood.py" "127.0.0.152/$S:$P/12" >"$T/flood.out" 2>&1 &
FLOOD=$!
PIDS+=($FLOOD)
sleep 3
out=$(echo flood | timeout 60 $VG "$SAF" tls connect "$S:$P" --ca "$T/certs/ca.pem" --no-continuity 2>"$T/c4.err")
[ "$out" = flood ] || fail "connection during the idle flood: '$out'"
kill "$FLOOD"

kill -TERM "$SERVE"
wait "$SERVE" || fail "serve exited $? on SIGTERM"
echo "ok: saf tls keygen, serve, connect (seed procedure, continuity, plain, idle flood) ran under valgrind"
