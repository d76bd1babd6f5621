#!/usr/bin/env bash
# The Wireshark dissector (tools/wireshark/saf.lua) on captures this test
# makes: every form of the SA option from crafted segments, and a real
# saf TLS migration on loopback decrypted with its key log.
set -uo pipefail
command -v tshark >/dev/null || { echo "SKIP: tshark not installed (scripts/install-deps installs it)"; exit 77; }
SRC=${SAF_SOURCE_DIR:?}; SAF=${SAF_BIN:?}
LUA=$SRC/tools/wireshark/saf.lua
T=$(mktemp -d); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
ts() { tshark -n -X lua_script:"$LUA" "$@" 2>/dev/null; }

python3 "$SRC/tests/wireshark/make_pcap.py" "$T/opt.pcap"
ts -r "$T/opt.pcap" -T fields -E separator='|' -e frame.number -e saf.tcp.form -e saf.tcp.address \
  -e saf.tcp.address6 -e saf.tcp.port > "$T/opt.txt"
cat "$T/opt.txt"
check "SAF flag in a SYN" grep -qx '1|saf|||' "$T/opt.txt"
check "IPv4 advert, port implied" grep -qx '2|advert|10.30.2.2||' "$T/opt.txt"
check "IPv4 advert with port" grep -qx '3|advert|10.30.2.2||7002' "$T/opt.txt"
check "IPv6 advert, port implied" grep -qx '4|advert||fd00:30:2::2|' "$T/opt.txt"
check "IPv6 advert with port" grep -qx '5|advert||fd00:30:2::2|443' "$T/opt.txt"
check "length 12: flagged malformed" grep -qx '6|malformed|||' "$T/opt.txt"
check "another ExID: not decoded as saf" grep -qx '7||||' "$T/opt.txt"
ts -r "$T/opt.pcap" -V -Y 'frame.number == 6' | grep -q "is no form" && ok6=1 || ok6=0
check "malformed option carries expert info" test $ok6 -eq 1

# A real TLS migration on loopback, captured with its key log.
"$SRC/scripts/gen-test-certs" "$T/certs" >/dev/null 2>&1
python3 "$SRC/tests/lib/echo_server.py" 24651 >/dev/null 2>&1 & PIDS+=($!)
tcpdump -i lo -nn -U --immediate-mode -w "$T/tls.pcap" 'tcp and (port 24661 or port 24662)' >/dev/null 2>&1 & PIDS+=($!)
"$SAF" tls serve --anycast 127.0.0.61:24661 --unicast 127.0.0.62:24662 --cert "$T/certs/node.pem" \
  --key "$T/certs/node.key" --backend 127.0.0.1:24651 --metrics-file "$T/tls.prom" >/dev/null 2>&1 & PIDS+=($!)
for _ in $(seq 50); do ss -Hltn 'sport = :24661' | grep -q . && ss -Hltn 'sport = :24651' | grep -q . && break; sleep 0.1; done
sleep 0.5
echo hello | SSLKEYLOGFILE="$T/keys.log" timeout 10 "$SAF" tls connect -v --ca "$T/certs/ca.pem" --name saf.test 127.0.0.61:24661 > "$T/out" 2> "$T/err"
cat "$T/err"
sleep 1
kill "${PIDS[1]}" 2>/dev/null
wait "${PIDS[1]}" 2>/dev/null
ts -r "$T/tls.pcap" -d tcp.port==24661,tls -d tcp.port==24662,tls -o "tls.keylog_file:$T/keys.log" -T fields -E separator='|' -e frame.number \
  -e saf.tls.extension -e saf.tls.token.address -e saf.tls.token.port -e saf.tls.token.family > "$T/tls.txt"
grep -v '^[0-9]*|||' "$T/tls.txt"
check "migration_support seen in the ClientHello" grep -q '|migration_support' "$T/tls.txt"
check "migration_token decoded: target 127.0.0.62:24662" grep -q 'migration_token.*|127.0.0.62|24662|4' "$T/tls.txt"
check "token decoded in a NewSessionTicket (key log) and in the resumption ClientHello" \
  test "$(grep -c 'migration_token.*127.0.0.62' "$T/tls.txt")" -ge 2
# The same server's counters in Prometheus' text format (textfile collector).
sleep 1.2
check "TLS server metrics: migration accepted" grep -qx 'saf_tls_server_migrations_accepted_total 1' "$T/tls.prom"
check "TLS server metrics: refusals labelled by reason" grep -q '^saf_tls_server_migrations_refused_total{reason="replayed"} 0' "$T/tls.prom"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
