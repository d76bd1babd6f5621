#!/usr/bin/env bash
# saf inspect tcpopt|token and saf token mint|verify, run from outside:
# outputs, JSON keys and exit codes (0 ok, 1 invalid token, 2 bad input).
set -uo pipefail
saf=${SAF_BIN:?SAF_BIN must point at the saf binary}
vectors=${SAF_VECTORS:-$(dirname "$0")/../vectors}
failures=0
out="" err="" rc=0

run() {
	local f
	f=$(mktemp)
	out=$("$saf" "$@" 2>"$f")
	rc=$?
	err=$(cat "$f")
	rm -f "$f"
}

check() { # check DESCRIPTION WANT_RC [WANT_STDOUT [STDERR_SUBSTRING]]
	local what=$1 want_rc=$2
	if [[ $rc -ne $want_rc ]]; then
		echo "FAIL: $what: exit $rc, want $want_rc (stdout: $out; stderr: $err)"
		failures=$((failures + 1))
		return
	fi
	if [[ $# -ge 3 && -n $3 && $out != "$3" ]]; then
		echo "FAIL: $what: stdout '$out', want '$3'"
		failures=$((failures + 1))
		return
	fi
	if [[ $# -ge 4 && $err != *"$4"* ]]; then
		echo "FAIL: $what: stderr '$err' lacks '$4'"
		failures=$((failures + 1))
		return
	fi
	if [[ $want_rc -eq 2 && ( $err != saf:* || $(wc -l <<<"$err") -ne 1 ) ]]; then
		echo "FAIL: $what: usage error is not one 'saf: ...' line: '$err'"
		failures=$((failures + 1))
		return
	fi
	echo "ok: $what"
}

field() { grep "^$2:" "$vectors/$1" | cut -d' ' -f2-; }

# ---- saf inspect tcpopt ----------------------------------------------------
run inspect tcpopt --json fd045346
check "tcpopt flag json" 0 '{"form":"saf"}'
run inspect tcpopt --json fd0a5346c000020a20fb
check "tcpopt v4+port json" 0 '{"form":"advert","family":4,"address":"192.0.2.10","port":8443}'
run inspect tcpopt --json "$(field tcpopt/advert_v4.hex hex)"
check "tcpopt v4 json, port null" 0 '{"form":"advert","family":4,"address":"192.0.2.10","port":null}'
run inspect tcpopt "$(field tcpopt/advert_v6_port.hex hex)" --json
check "tcpopt v6+port json, option after HEX" 0 '{"form":"advert","family":6,"address":"2001:db8::a","port":443}'
run inspect tcpopt --json "$(field tcpopt/advert_v6.hex hex)"
check "tcpopt v6 json" 0 '{"form":"advert","family":6,"address":"2001:db8::a","port":null}'
run inspect tcpopt --json 5346c000020a
check "tcpopt without kind/length" 0 '{"form":"advert","family":4,"address":"192.0.2.10","port":null}'
run inspect tcpopt --json 5346
check "tcpopt flag without kind/length" 0 '{"form":"saf"}'
run inspect tcpopt FD0A5346C000020A20FB
check "tcpopt human" 0 "form:    advert (node SYN-ACK)
family:  IPv4
address: 192.0.2.10
port:    8443"
run inspect tcpopt --json --kind 254 --exid abcd fe04abcd
check "tcpopt custom kind and ExID" 0 '{"form":"saf"}'
run inspect tcpopt fd045347
check "tcpopt wrong ExID" 2 "" "ExID 0x5347"
run inspect tcpopt fd09 
check "tcpopt truncated" 2 "" "length byte says 9"
run inspect tcpopt fd0953460000000000
check "tcpopt bad length" 2 "" "length 9 is no SA form"
run inspect tcpopt fd04534600
check "tcpopt trailing byte" 2 "" "length byte says 4"
run inspect tcpopt fd0
check "tcpopt odd hex" 2 "" "odd number of digits"
run inspect tcpopt zz
check "tcpopt not hex" 2 "" "'z' at position 0"
run inspect tcpopt
check "tcpopt missing HEX" 2 "" "missing HEX"
run inspect tcpopt fd045346 extra
check "tcpopt extra argument" 2 "" "unexpected argument 'extra'"
run inspect tcpopt --kind 300 fd045346
check "tcpopt bad --kind" 2 "" "--kind"
run inspect tcpopt --bogus fd045346
check "tcpopt unknown option" 2 "" "unknown option '--bogus'"
run inspect tcpopt --help
check "tcpopt --help" 0
[[ $out == *"kind byte"* ]] || { echo "FAIL: tcpopt --help does not say which form it accepts"; failures=$((failures + 1)); }

# ---- saf inspect token -----------------------------------------------------
v4=$(field token/v4.hex hex)
run inspect token --json "$v4"
check "token v4 json" 0 "{\"family\":4,\"address\":\"192.0.2.10\",\"port\":443,\"session_id\":\"$(field token/v4.hex session_id)\",\"expiry\":2000000000,\"nonce\":\"$(field token/v4.hex nonce)\",\"signature\":\"$(field token/v4.hex signature)\"}"
run inspect token --json "$(field token/v6.hex hex)"
check "token v6 json" 0 "{\"family\":6,\"address\":\"2001:db8::a\",\"port\":8443,\"session_id\":\"$(field token/v6.hex session_id)\",\"expiry\":1700000000,\"nonce\":\"$(field token/v6.hex nonce)\",\"signature\":\"$(field token/v6.hex signature)\"}"
run inspect token "$v4"
check "token human" 0
[[ $out == *"target:     192.0.2.10:443"* ]] || { echo "FAIL: token human output lacks the target"; failures=$((failures + 1)); }
run inspect token "$(field token/bad_type_2.hex hex)"
check "token unknown address type" 2 "" "unknown address type 2"
run inspect token "$(field token/session_id_31.hex hex)"
check "token short session_id" 2 "" "session_id: length 31 outside 32..255"
run inspect token "${v4}00"
check "token trailing byte" 2 "" "1 trailing byte"
run inspect token "${v4:0:40}"
check "token truncated" 2 "" "needs"
run inspect token "${v4}0"
check "token odd hex" 2 "" "odd number of digits"
run inspect token
check "token missing HEX" 2 "" "missing HEX"

# ---- saf token mint / verify -----------------------------------------------
psk=$(field token_crypto/kat1.hex psk)
nk=$(field token_crypto/kat1.hex node_key)
nonce=$(field token_crypto/kat1.hex nonce)
kat=$(field token_crypto/kat1.hex token)
run token mint --psk "$psk" --node-key "$nk" --target 192.0.2.10:443 --expiry 2000000000 --nonce "$nonce"
check "mint reproduces the known-answer token" 0 "$kat"
run token mint --psk "$psk" --node-key "$nk" --target '[2001:db8::1]:8443' --expiry 2000000000
check "mint IPv6, random nonce" 0
v6tok=$out
run token mint --psk "$psk" --node-key "$nk" --target '[2001:db8::1]:8443' --expiry 2000000000
[[ $out != "$v6tok" && ${#out} -eq ${#v6tok} ]] || { echo "FAIL: random nonces do not differ"; failures=$((failures + 1)); }

verify=(token verify "$kat" --psk "$psk" --node-key "$nk")
run "${verify[@]}" --local 192.0.2.10:443 --now 1999999999
check "verify valid" 0 '{"valid":true}'
run "${verify[@]}" --local '[2001:db8::1]:8443' --now 1 
check "verify wrong family" 1 '{"valid":false,"reason":"wrong_target"}'
run "${verify[@]}" --local 192.0.2.10:444 --now 1
check "verify port mismatch" 1 '{"valid":false,"reason":"wrong_target"}' "is not the local address"
run "${verify[@]}" --local 192.0.2.10:443 --now 2000000000
check "verify now == expiry" 1 '{"valid":false,"reason":"expired"}' "expired at 2000000000"
run token verify "$kat" --psk "$psk" --node-key "${nk:0:62}00" --local 192.0.2.10:443 --now 1
check "verify other node key" 1 '{"valid":false,"reason":"bad_signature"}'
run token verify "${kat}00" --psk "$psk" --node-key "$nk" --local 192.0.2.10:443 --now 1
check "verify malformed" 1 '{"valid":false,"reason":"malformed"}' "trailing"
run token verify "$v6tok" --psk "$psk" --node-key "$nk" --local '[2001:db8::1]:8443' --now 1
check "verify minted IPv6" 0 '{"valid":true}'
run token verify "$kat" --psk "$psk" --node-key "$nk" --local 192.0.2.10:443
check "verify with the real clock" 0 '{"valid":true}'

# Keys from a file or stdin: the command line is visible in ps.
kd=$(mktemp -d)
printf '%s\n' "$nk" > "$kd/nk"; printf '  %s \r\n' "$psk" > "$kd/psk"; chmod 600 "$kd/nk" "$kd/psk"
run token mint --psk-file "$kd/psk" --node-key-file "$kd/nk" --target 192.0.2.10:443 --expiry 2000000000 --nonce "$nonce"
check "mint with key files reproduces the known-answer token" 0 "$kat"
out=$(printf '%s\n' "$nk" | "$saf" token mint --psk-file "$kd/psk" --node-key-file - --target 192.0.2.10:443 --expiry 2000000000 --nonce "$nonce" 2>&1); rc=$?
check "mint with the node key on stdin" 0 "$kat"
run token verify "$kat" --psk-file "$kd/psk" --node-key-file "$kd/nk" --local 192.0.2.10:443 --now 1
check "verify with key files" 0 '{"valid":true}'
run token mint --psk-file - --node-key-file - --target 192.0.2.10:443 --expiry 1
check "two keys on stdin refused" 2 "" "only one key can come from stdin"
chmod 640 "$kd/nk"
run token mint --psk-file "$kd/psk" --node-key-file "$kd/nk" --target 192.0.2.10:443 --expiry 1
check "group-readable key file refused" 2 "" "mode 640 lets others read it; chmod 600"
chmod 600 "$kd/nk"
if [[ $(id -u) -eq 0 ]]; then
	chown 65534 "$kd/nk"
	run token mint --psk-file "$kd/psk" --node-key-file "$kd/nk" --target 192.0.2.10:443 --expiry 1
	check "key file of another user refused" 2 "" "owned by uid 65534, neither this user (uid 0) nor root"
fi
run token mint --psk-file "$kd/none" --node-key-file "$kd/nk" --target 192.0.2.10:443 --expiry 1
check "missing key file" 2 "" "No such file"
rm -rf "$kd"

run token mint --psk "$psk" --node-key "${nk:0:62}" --target 192.0.2.10:443 --expiry 1
check "mint short node key" 2 "" "--node-key: 31 bytes, needs 32"
run token mint --psk "$psk" --node-key "$nk" --target 192.0.2.10 --expiry 1
check "mint target without port" 2 "" "a port is required"
run token mint --psk "$psk" --node-key "$nk" --target 192.0.2.10:443 --expiry soon
check "mint bad expiry" 2 "" "--expiry 'soon' is not a number"
run token mint --psk "$psk" --node-key "$nk" --target 192.0.2.10:443 --expiry 1 --nonce 00
check "mint short nonce" 2 "" "--nonce: 1 byte, needs at least 16"
run token mint --psk "$psk" --node-key "$nk" --target 192.0.2.10:443
check "mint missing --expiry" 2 "" "--expiry is required"
run token mint --psk 0 --node-key "$nk" --target 192.0.2.10:443 --expiry 1
check "mint odd psk" 2 "" "odd number of digits"
run token mint --psk "$psk" --node-key "$nk" --target 192.0.2.10:443 --expiry 1 --local 1.2.3.4:5
check "mint rejects --local" 2 "" "unknown option"
run token verify --psk "$psk" --node-key "$nk" --local 192.0.2.10:443
check "verify missing token" 2 "" "missing TOKEN_HEX"
run token verify "${kat}0" --psk "$psk" --node-key "$nk" --local 192.0.2.10:443
check "verify odd token hex" 2 "" "odd number of digits"
run token verify "$kat" --psk "$psk" --node-key "$nk"
check "verify missing --local" 2 "" "--local is required"
run token verify "$kat" --psk "$psk" --node-key "$nk" --local 192.0.2.10:443 --now
check "verify --now without value" 2 "" "needs a value"
run token mint --help
check "mint --help" 0
run token verify --help
check "verify --help" 0
run token --help
check "token --help" 0
run inspect --help
check "inspect --help" 0
run token frobnicate
check "unknown token subcommand" 2 "" "unknown command 'frobnicate'"

if [[ $failures -ne 0 ]]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all CLI checks passed"
