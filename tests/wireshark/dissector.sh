#!/bin/bash
# tools/wireshark/saf.lua against captures this test makes:
#  1. TCP option: every form of SPEC section 2 plus malformed ones, as hex
#     frames turned into a pcap by text2pcap; decoded fields and expert
#     infos checked frame by frame.
#  1b. TLS: crafted ClientHellos (text2pcap) with valid v4/v6 tokens and
#     every kind of malformed token, a non-empty migration_support, alert 0xF0;
#     the reattach extension (0xFE53): ClientHello modes and, in cleartext
#     EncryptedExtensions, v4/v6 credentials and malformed ones.
#  2. TLS: a real loopback capture of saf tls serve + saf tls connect with
#     SSLKEYLOGFILE: migration_support in the ClientHello, migration_token
#     decoded field by field in the (decrypted) NewSessionTicket and in the
#     resumption ClientHello to the unicast address. Needs root for
#     tcpdump on lo; without it only part 1 runs.
# Exit 77 only when tshark/text2pcap are missing.
set -u
SRC=${SAF_SOURCE_DIR:?} SAF=${SAF_BIN:-}
LUA=$SRC/tools/wireshark/saf.lua
for t in tshark text2pcap python3; do
	command -v $t >/dev/null || { echo "SKIP: $t not installed (apt-get install tshark wireshark-common)"; exit 77; }
done
T=$(mktemp -d /tmp/saf-e-ws.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -n "${SAF_KEEP_FAILED:-}" ] && cp -r "$T" "$SAF_KEEP_FAILED"; exit 1; }
ok() { echo "ok: $*"; }
ts() { tshark -n -X "lua_script:$LUA" "$@" 2>"$T/tshark.err"; }

# --- 1. TCP option ---------------------------------------------------------
python3 "$SRC/tests/wireshark/mkframes.py" >"$T/frames.txt" || fail mkframes
text2pcap -q -e 0x800 "$T/frames.txt" "$T/opt.pcap" >/dev/null 2>&1 || fail text2pcap
ts -r "$T/opt.pcap" -T fields -E separator='|' -e frame.number -e saf.opt.form \
	-e saf.opt.exid -e saf.opt.addr -e saf.opt.addr6 -e saf.opt.port \
	-e saf.opt.port_implied -e saf.opt.other_exid -e _ws.expert.message >"$T/opt.txt" ||
	fail "tshark: $(cat "$T/tshark.err")"
grep -qi "lua" "$T/tshark.err" && fail "Lua error: $(cat "$T/tshark.err")"
row() { sed -n "${1}p" "$T/opt.txt"; }
expect() { # frame regex what
	row "$1" | grep -Eq "$2" || fail "frame $1 ($3): got '$(row "$1")', want /$2/"
	ok "frame $1: $3"
}
[ "$(wc -l <"$T/opt.txt")" = 11 ] || fail "expected 11 frames: $(cat "$T/opt.txt")"
expect 1 '^1\|SAF \(support flag\)\|0x5346\|' "SAF in a SYN"
expect 2 '^2\|advert v4 \+ port\|0x5346\|198\.51\.100\.7\|\|8443\|\|' "advert v4 + port"
expect 3 '^3\|advert v4\|0x5346\|198\.51\.100\.7\|\|\|443\|' "advert v4, port implied from the connection"
expect 4 '^4\|advert v6 \+ port\|0x5346\|\|2001:db8::7\|8443\|\|' "advert v6 + port"
expect 5 '^5\|advert v6\|0x5346\|\|2001:db8::7\|\|443\|' "advert v6, port implied"
expect 6 '^6\|malformed\|.*Malformed saf option: length 9' "length 9 flagged malformed"
expect 7 '^7\|advert v4 \+ port\|.*saf advert outside a SYN-ACK' "advert outside SYN-ACK flagged"
expect 8 '^8\|advert v4 \+ port\|.*224\.0\.0\.1.*a client refuses it' "multicast advert flagged"
expect 9 '^9\|\|\|\|\|\|\|0xf989\|' "other ExID left alone (shown as foreign)"
row 9 | grep -q saf.opt && fail "frame 9 decoded as saf"
expect 10 '^10\|SAF \(support flag\)\|.*saf support flag outside a SYN' "SAF outside SYN flagged"
expect 11 '^11\|malformed\|.*length 5' "length 5 flagged malformed"
# ExID is a preference: with another ExID configured our frames are foreign.
ts -o saf.tcp_exid:4660 -r "$T/opt.pcap" -T fields -e saf.opt.form >"$T/opt2.txt" ||
	fail "tshark with -o saf.tcp_exid"
[ -z "$(tr -d '\n' <"$T/opt2.txt")" ] || fail "ExID preference ignored: $(cat "$T/opt2.txt")"
ok "ExID preference (-o saf.tcp_exid) honoured"
# The kind is a preference too: kind 254 frames decode when configured.
sed 's/ fd \(..\) 53 46/ fe \1 53 46/' "$T/frames.txt" >"$T/frames254.txt"
text2pcap -q -e 0x800 "$T/frames254.txt" "$T/opt254.pcap" >/dev/null 2>&1
ts -o saf.tcp_kind:254 -r "$T/opt254.pcap" -T fields -e saf.opt.form -c 2 >"$T/k254.txt"
grep -q "advert v4 + port" "$T/k254.txt" || fail "kind preference ignored: $(cat "$T/k254.txt")"
ok "kind preference (-o saf.tcp_kind:254) honoured"

# --- 1b. TLS extensions in crafted ClientHellos (no key log needed) --------
python3 "$SRC/tests/wireshark/mkframes.py" tls >"$T/tlsframes.txt" || fail "mkframes tls"
text2pcap -q -e 0x800 "$T/tlsframes.txt" "$T/tlsc.pcap" >/dev/null 2>&1 || fail "text2pcap tls"
ts -r "$T/tlsc.pcap" -T fields -E separator='|' -e frame.number -e saf.tls.ext \
	-e saf.tls.token.addr_type -e saf.tls.token.addr -e saf.tls.token.addr6 \
	-e saf.tls.token.port -e saf.tls.token.session_id_len -e saf.tls.token.expiry \
	-e saf.tls.token.nonce_len -e saf.tls.token.signature_len \
	-e saf.tls.migrate_notify_alert -e _ws.expert.message >"$T/opt.txt" || fail "tshark tls frames"
expect 1 '^1\|migration_support,migration_token\|0\|198\.51\.100\.7\|\|8443\|32\|1800000000\|16\|32\|\|$' "ClientHello: support + v4 token, every field"
expect 2 '^2\|migration_token\|1\|\|2001:db8::7\|443\|32\|1800000000\|16\|32\|\|$' "v6 token, every field"
expect 3 'Malformed MigrationToken: signature length 31 < 32$' "short signature flagged"
expect 4 'Malformed MigrationToken: 1 trailing bytes$' "trailing byte flagged"
expect 5 '^5\|migration_token\|2\|.*unknown address type 2$' "unknown address type flagged"
expect 6 'truncated in expiry_timestamp$' "truncated token flagged"
expect 7 '^7\|migration_support\|.*must have an empty body$' "non-empty migration_support flagged"
expect 8 '^8\|.*\|1\|migrate_notify alert: migrate now$' "alert 0xF0 decoded as migrate_notify"
ts -o saf_tls.ext_token:4660 -r "$T/tlsc.pcap" -T fields -e saf.tls.token.port >"$T/cp.txt"
[ -z "$(tr -d '\n' <"$T/cp.txt")" ] || fail "migration_token preference ignored"
ok "migration_token code point preference (-o saf_tls.ext_token) honoured"
# reattach (include/saf/reattach.h): frames 9-16 of mkframes.py tls.
ts -r "$T/tlsc.pcap" -T fields -E separator='|' -e frame.number -e saf.tls.ext \
	-e saf.tls.message -e saf.tls.reattach.mode -e saf.tls.reattach.id \
	-e saf.tls.reattach.addr_type -e saf.tls.reattach.addr -e saf.tls.reattach.addr6 \
	-e saf.tls.reattach.port -e _ws.expert.message >"$T/opt.txt" || fail "tshark reattach frames"
grep -qi "lua" "$T/tshark.err" && fail "Lua error: $(cat "$T/tshark.err")"
ID=000102030405060708090a0b0c0d0e0f
expect 9 '^9\|continuity,reattach\|ClientHello,ClientHello\|0\|\|\|\|\|\|$' "reattach offer (mode 0) next to continuity"
expect 10 '^10\|reattach\|ClientHello\|1\|\|\|\|\|\|$' "reattach mode 1"
expect 11 '^11\|reattach\|.*Malformed reattach extension: unknown mode 2$' "unknown mode flagged"
expect 12 '^12\|reattach\|.*ClientHello body of 2 bytes, must be 1$' "two-byte ClientHello body flagged"
expect 13 "^13\\|reattach\\|EncryptedExtensions\\|\\|$ID\\|0\\|198\\.51\\.100\\.7\\|\\|8443\\|\$" "v4 credential: id and target"
expect 14 "^14\\|reattach\\|EncryptedExtensions\\|\\|$ID\\|1\\|\\|2001:db8::7\\|443\\|\$" "v6 credential: id and target"
expect 15 'Malformed reattach extension: port 0$' "credential with port 0 flagged"
expect 16 'Malformed reattach extension: 1 trailing bytes$' "credential with a trailing byte flagged"
ts -o saf_tls.ext_reattach:4660 -r "$T/tlsc.pcap" -T fields -e saf.tls.reattach.port \
	-e saf.tls.reattach.mode >"$T/cp.txt"
[ -z "$(tr -d '\n\t' <"$T/cp.txt")" ] || fail "reattach preference ignored"
ok "reattach code point preference (-o saf_tls.ext_reattach) honoured"

# --- 2. TLS over loopback ------------------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v tcpdump >/dev/null || [ -z "$SAF" ]; then
	echo "note: TLS capture part skipped (needs root, tcpdump and SAF_BIN)"
	exit 0
fi
P=$((27100 + RANDOM % 800))
S=127.0.0.70 U=127.0.0.71 BE=$((P + 1))
"$SRC/scripts/gen-test-certs" "$T/certs" >/dev/null 2>&1 || fail gen-test-certs
python3 "$SRC/tests/lib/echo_server.py" "$BE" >"$T/echo.out" 2>&1 &
PIDS+=($!)
tcpdump -i lo -U --immediate-mode -s 0 -w "$T/tls.pcap" "tcp port $P" >"$T/tcpdump.err" 2>&1 &
TCPDUMP=$!
PIDS+=($TCPDUMP)
export SSLKEYLOGFILE=$T/keys.log
"$SAF" tls serve --anycast "$S:$P" --unicast "$U:$P" --cert "$T/certs/node.pem" \
	--key "$T/certs/node.key" --backend "127.0.0.1:$BE" --metrics-file "$T/tls.prom" -v \
	>"$T/serve.out" 2>"$T/serve.err" &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$T/serve.err" && grep -q listening "$T/echo.out" &&
	grep -q listening "$T/tcpdump.err" && break; sleep 0.1; done
out=$(echo hello | timeout 10 "$SAF" tls connect "$S:$P" --ca "$T/certs/ca.pem" --no-continuity -v 2>"$T/c.err")
[ "$out" = hello ] || fail "saf tls connect: '$out' $(cat "$T/c.err")"
grep -q "on_target at $U:$P" "$T/c.err" || fail "client did not migrate: $(cat "$T/c.err")"
# and one with continuity (the default), long enough to move
out=$( (echo again; sleep 0.5) | timeout 10 "$SAF" tls connect "$S:$P" --ca "$T/certs/ca.pem" -v 2>"$T/c2.err")
[ "$out" = again ] || fail "saf tls connect (continuity): '$out' $(cat "$T/c2.err")"
sleep 0.5
kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null
[ -s "$T/keys.log" ] || fail "no key log written"

F=(-T fields -E separator='|' -e frame.number -e ip.dst -e saf.tls.ext -e saf.tls.message
	-e saf.tls.token.addr_type -e saf.tls.token.addr -e saf.tls.token.port
	-e saf.tls.token.session_id_len -e saf.tls.token.expiry -e saf.tls.token.nonce_len
	-e saf.tls.token.signature_len -e _ws.expert.message)
ts -r "$T/tls.pcap" -o "tls.keylog_file:$T/keys.log" -Y saf_tls "${F[@]}" >"$T/tls.txt" ||
	fail "tshark: $(cat "$T/tshark.err")"
cat "$T/tls.txt"
[ -s "$T/tls.txt" ] || fail "nothing decoded; capture: $(tshark -r "$T/tls.pcap" 2>&1 | head -20) tcpdump: $(cat "$T/tcpdump.err")"
grep -Eq "\|$S\|migration_support\|ClientHello\|" "$T/tls.txt" ||
	fail "migration_support not found in the ClientHello to S"
ok "migration_support in the ClientHello to $S"
now=$(date +%s)
line=$(grep -E "migration_token\|NewSessionTicket\|" "$T/tls.txt" | head -1)
[ -n "$line" ] || fail "migration_token not found in a decrypted NewSessionTicket"
IFS='|' read -r _ _ _ _ ty addr port sidl exp nl sl _ <<<"$line"
[ "$ty" = 0 ] && [ "$addr" = "$U" ] && [ "$port" = "$P" ] ||
	fail "token target: type=$ty addr=$addr port=$port, want 0 $U $P"
[ "$sidl" = 32 ] && [ "$nl" -ge 16 ] && [ "$sl" = 32 ] || fail "token lengths: sid=$sidl nonce=$nl sig=$sl"
[ "$exp" -gt "$now" ] && [ "$exp" -le $((now + 700)) ] || fail "token expiry $exp vs now $now (lifetime 600)"
ok "migration_token in the NewSessionTicket: $U:$P, session_id 32, nonce $nl, signature 32, expiry in the future"
grep -Eq "\|$U\|[^|]*migration_token[^|]*\|[^|]*ClientHello[^|]*\|0\|$U\|$P\|32\|$exp\|" "$T/tls.txt" ||
	fail "the resumption ClientHello to $U does not carry the same token"
ok "the resumption ClientHello to $U carries that token"
grep -Eq "\|$S\|[^|]*continuity[^|]*\|[^|]*ClientHello" "$T/tls.txt" || fail "continuity not seen in a ClientHello to S"
grep -Eq "\|continuity(,reattach)?\|EncryptedExtensions(,EncryptedExtensions)?\|" "$T/tls.txt" || fail "continuity not seen in the node's EncryptedExtensions"
ok "continuity in the ClientHello and, decrypted, in the node's EncryptedExtensions"
# The continuity client offers the early credential; the node answers with
# one naming its unicast address (docs/continuity.md, "Early credential").
ts -r "$T/tls.pcap" -o "tls.keylog_file:$T/keys.log" -Y saf.tls.reattach.mode -T fields \
	-E separator='|' -e ip.dst -e saf.tls.reattach.mode >"$T/re_ch.txt"
grep -Eq "^$S\|0$" "$T/re_ch.txt" || fail "no reattach offer to $S: $(cat "$T/re_ch.txt")"
ts -r "$T/tls.pcap" -o "tls.keylog_file:$T/keys.log" -Y saf.tls.reattach.id -T fields \
	-E separator='|' -e saf.tls.reattach.addr -e saf.tls.reattach.port \
	-e _ws.expert.message >"$T/re_ee.txt"
grep -Eq "^$U\|$P\|" "$T/re_ee.txt" || fail "no credential for $U:$P in EncryptedExtensions: $(cat "$T/re_ee.txt")"
ok "reattach offer in the ClientHello to $S, credential for $U:$P in the EncryptedExtensions"
# The same server's counters in Prometheus' text format (textfile collector).
sleep 1.2
grep -qx 'saf_tls_server_migrations_accepted_total 2' "$T/tls.prom" ||
	fail "tls serve --metrics-file: $(cat "$T/tls.prom" 2>&1 | head -5)"
grep -q '^saf_tls_server_migrations_refused_total{reason="replayed"} 0' "$T/tls.prom" ||
	fail "tls serve --metrics-file: no refusal counters by reason"
grep -q '^saf_tls_server_stream_events_total{event="resumed"} 1' "$T/tls.prom" ||
	fail "tls serve --metrics-file: no continuity stream counters"
ok "saf tls serve --metrics-file: counters in Prometheus format"
# Without the key log the ticket stays encrypted: the token is not visible.
ts -r "$T/tls.pcap" -T fields -e saf.tls.message >"$T/nokey.txt"
grep -q NewSessionTicket "$T/nokey.txt" && fail "NewSessionTicket decoded without a key log?"
grep -q "Malformed" "$T/tls.txt" && fail "a valid token flagged malformed"
ok "without the key log only the ClientHello parts are visible"
exit 0
