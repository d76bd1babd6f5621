#!/bin/bash
# One token lifetime for the node (docs/tls.md, "Token lifetime"): a
# continuity stream that lives longer than half the lifetime gets a fresh
# token, so its client can always come back. `--lifetime 0` means the
# documented default (600 s) for the tokens minted AND for that refresh
# (before: 600 s tokens, refresh switched off). The node runs under
# libfaketime at 100x, so 4 real seconds are 400 of its seconds: past
# half the lifetime, its streams' tokens must have been renewed.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
FT=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -1)
[ -n "$FT" ] || { echo "SKIP: no libfaketime (scripts/install-deps)"; exit 77; }
T=$(mktemp -d /tmp/saf-sv-lt.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do echo "== $f"; tail -20 "$f"; done; exit 1; }
ok() { echo "ok: $*"; }
waitfor() { for _ in $(seq 100); do grep -qs "$2" "$1" && return 0; sleep 0.1; done; return 1; }

# Ports 25100-25299 are this test's.
P=$((25100 + RANDOM % 180)) BE=$((P + 1))
S=127.0.0.72 U=127.0.0.73
"$SRC/scripts/gen-test-certs" "$T/certs" >/dev/null || fail "gen-test-certs"
C=$T/certs
python3 "$SRC/tests/lib/echo_server.py" "$BE" >"$T/echo.out" 2>&1 &
PIDS+=($!)
waitfor "$T/echo.out" listening || fail "echo server"

# The node's clock runs 100x; its handshake deadline (in its seconds)
# is set high, so that a real handshake is not cut short by the speed.
# A sanitized saf takes the preload too (ASan would insist on coming first).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
LD_PRELOAD=$FT FAKETIME="+0 x100" "$SAF" tls serve --anycast "$S:$P" --unicast "$U:$P" \
	--cert "$C/node.pem" --key "$C/node.key" --backend "127.0.0.1:$BE" \
	--lifetime 0 --handshake-timeout 120000 -v >"$T/serve.out" 2>"$T/serve.err" &
SERVE=$!
PIDS+=($SERVE)
waitfor "$T/serve.err" ready || fail "serve did not start"

tokens() { # tokens_issued from the counters line SIGUSR2 prints
	local before; before=$(wc -l <"$T/serve.out")
	kill -USR2 "$SERVE"
	for _ in $(seq 30); do [ "$(wc -l <"$T/serve.out")" -gt "$before" ] && break; sleep 0.1; done
	tail -1 "$T/serve.out" | python3 -c "import json,sys; print(json.load(sys.stdin)['tokens_issued'])"
}

# A client whose stream stays open (its input held) for 8 s.
( echo hello; sleep 8 ) | timeout 30 "$SAF" tls connect "$S:$P" --ca "$C/ca.pem" -v \
	>"$T/client.out" 2>"$T/client.err" &
PIDS+=($!)
waitfor "$T/client.err" "stream moved" || fail "the stream did not move to U"
waitfor "$T/client.out" hello || fail "no echo"
t0=$(tokens)
sleep 4 # 400 s on the node's clock: past lifetime / 2 = 300 s
t1=$(tokens)
echo "tokens_issued: $t0 after the move, $t1 some 400 node seconds later"
[ -n "$t0" ] && [ -n "$t1" ] || fail "no counters"
[ "$t1" -gt "$t0" ] || fail "--lifetime 0: no fresh token for a stream older than half the 600 s lifetime"
ok "--lifetime 0: a stream older than half the default lifetime got a fresh token"
