#!/usr/bin/env bash
# The library as an application sees it: `cmake --install` into a scratch
# prefix, saf.pc and the headers there, every example compiled against
# that (shared and static) and run over loopback: tls_server (the node side
# in its own poll loop) against `saf tls connect`, with migrate_notify;
# tls_client against tls_server (plain TLS variant, migrated; then with
# continuity, the example's echo as the stream's backend) and against
# `saf tls serve` (a continuity stream, 300 kB byte for byte).
# The TCP example needs root and the lab: tests/examples/tcp_netns.sh.
set -uo pipefail
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
T=$(mktemp -d /tmp/saf-lx-ex.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
# shellcheck source=build_lib.sh
. "$SRC/tests/examples/build_lib.sh"

examples_install "$T" || { echo "FAIL - cmake --install"; exit 1; }
check "installed: saf.pc, version $(PKG_CONFIG_PATH=$PC pkg-config --modversion saf)" \
  bash -c "PKG_CONFIG_PATH='$PC' pkg-config --exact-version=\"\$(sed -n 's/^Version: //p' '$PC/saf.pc')\" saf"
inc=$(PKG_CONFIG_PATH=$PC pkg-config --cflags-only-I saf | tr ' ' '\n' | sed -n 's/^-I//p' | head -1)
check "pkg-config's include folder is the prefix's" test "$(realpath "$inc")" = "$(realpath "$T/prefix/include")"
check "umbrella header and split headers installed" bash -c "test -f '$T/prefix/include/saf/saf.h' && test -f '$T/prefix/include/saf/tls.h' && test -f '$T/prefix/include/saf/clock.h'"
check "static library installed" test -f "$LIBDIR/libsaf.a"
check "libsaf(3) installed" test -f "$T/prefix/share/man/man3/libsaf.3"

for ex in tcp_client tls_client tls_server; do
  check "$ex: builds against the installed shared library" example_build "$ex" "$T/$ex" shared
  check "$ex: needs libsaf.so.0" bash -c "readelf -d '$T/$ex' | grep -q 'NEEDED.*libsaf.so.0'"
  check "$ex: builds against libsaf.a" example_build "$ex" "$T/$ex-static" static
  check "$ex-static: no libsaf.so" bash -c "! readelf -d '$T/$ex-static' | grep -q libsaf"
done
export LD_LIBRARY_PATH=$LIBDIR
check "tls_server runs from the installed libsaf.so.0" bash -c "ldd '$T/tls_server' | grep -q '$LIBDIR/libsaf.so.0'"

# Ports 24600-24893 are this test's; S and U on loopback addresses of its own.
P=$((24600 + RANDOM % 290)) BE=$((P + 1)) SP=$((P + 2))
S=127.0.0.92 U=127.0.0.93
"$SRC/scripts/gen-test-certs" "$T/certs" > /dev/null || { echo "FAIL - gen-test-certs"; exit 1; }
C=$T/certs
"$SAF" tls keygen "$T/keys" || { echo "FAIL - keygen"; exit 1; }
waitfor() { for _ in $(seq 100); do grep -qs "$2" "$1" && return 0; sleep 0.1; done; return 1; }

# --- tls_server (shared) against the saf CLI client ------------------------
"$T/tls_server" "$S:$P" "$U:$P" "$C/node.pem" "$C/node.key" "$T/keys" 2> "$T/server.err" &
SERVER=$!; PIDS+=("$SERVER")
check "tls_server: ready" waitfor "$T/server.err" ready
echo "hello from saf tls connect" > "$T/in1"
timeout 30 "$SAF" tls connect "$S:$P" --ca "$C/ca.pem" -v < "$T/in1" > "$T/out1" 2> "$T/cli1.err"
check "tls_server: echoes" cmp -s "$T/in1" "$T/out1"
check "tls_server: the client migrated to U" grep -q "on_target at $U:$P" "$T/cli1.err"
check "tls_server: verified the token on U" waitfor "$T/server.err" "handshake on U: migrated"
# migrate_notify: a client that stays (its input held open) is told to move.
( echo before; sleep 1; kill -USR1 "$SERVER"; sleep 1.5; echo after ) \
  | timeout 30 "$SAF" tls connect "$S:$P" --ca "$C/ca.pem" --no-migrate -v > "$T/out2" 2> "$T/cli2.err"
check "tls_server: migrate_notify reaches a client on S" grep -q "migrate_notify (ticket form)" "$T/cli2.err"
check "tls_server: the client follows it, data goes on" bash -c "[[ \$(cat '$T/out2') == \$'before\nafter' ]]"

# --- tls_client (static) against tls_server: the plain variant -------------
echo "hello from tls_client" > "$T/in3"
timeout 30 "$T/tls_client-static" "$S:$P" "$C/ca.pem" < "$T/in3" > "$T/out3" 2> "$T/cli3.err"
check "tls_client vs tls_server: exit 0" test $? -eq 0
check "tls_client vs tls_server: echoed" cmp -s "$T/in3" "$T/out3"
check "tls_client vs tls_server: on_target" grep -q "^on_target" "$T/cli3.err"

# --- tls_client (shared) against saf tls serve: continuity ------------------
python3 "$SRC/tests/lib/echo_server.py" "$BE" > "$T/echo.out" 2>&1 &
PIDS+=($!)
waitfor "$T/echo.out" listening
"$SAF" tls serve --anycast "$S:$SP" --unicast "$U:$SP" --cert "$C/node.pem" --key "$C/node.key" \
  --backend "127.0.0.1:$BE" --keys "$T/keys" -v > /dev/null 2> "$T/serve.err" &
PIDS+=($!)
check "saf tls serve: ready" waitfor "$T/serve.err" ready
head -c 300000 /dev/urandom > "$T/in4"
timeout 60 "$T/tls_client" "$S:$SP" "$C/ca.pem" < "$T/in4" > "$T/out4" 2> "$T/cli4.err"
check "tls_client (continuity): exit 0" test $? -eq 0
check "tls_client (continuity): 300 kB byte for byte" cmp -s "$T/in4" "$T/out4"
check "tls_client (continuity): started on S with continuity" grep -q "^on_s_continuity" "$T/cli4.err"
check "tls_client (continuity): moved to U" grep -q "stream done: on $U:$SP, 1 moves" "$T/cli4.err"

# --- tls_client (static) against tls_server with continuity -----------------
# The node side of continuity in the application's poll loop: a stream
# whose backend is the example's own echo, moved underneath.
CP=$((P + 3))
"$T/tls_server" "$S:$CP" "$U:$CP" "$C/node.pem" "$C/node.key" "$T/keys" continuity 2> "$T/server-c.err" &
PIDS+=($!)
check "tls_server (continuity): ready" waitfor "$T/server-c.err" ready
head -c 300000 /dev/urandom > "$T/in5"
timeout 60 "$T/tls_client-static" "$S:$CP" "$C/ca.pem" < "$T/in5" > "$T/out5" 2> "$T/cli5.err"
check "tls_client vs tls_server (continuity): exit 0" test $? -eq 0
check "tls_client vs tls_server (continuity): 300 kB byte for byte" cmp -s "$T/in5" "$T/out5"
check "tls_client vs tls_server (continuity): moved to U" grep -q "stream done: on $U:$CP, 1 moves" "$T/cli5.err"

if [[ $fails -gt 0 ]]; then for f in "$T"/*.err; do echo "== $f"; tail -5 "$f"; done; fi
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
