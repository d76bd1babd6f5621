#!/bin/bash
# End to end in network namespaces: client -- R1 -- {n1, n2}, anycast S on
# both nodes. A client that ran the seed procedure survives R1 moving S to
# the other node (it is on n1's unicast address); a plain TLS client to S
# is cut off by the same change.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)"; exit 77; }
command -v ip >/dev/null || { echo "needs iproute2"; exit 77; }
T=$(mktemp -d /tmp/saf-s-ns.XXXXXX)
NS="saf-s-cli saf-s-r1 saf-s-n1 saf-s-n2"
cleanup() {
	for ns in $NS; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.2
	for ns in $NS; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.err; do echo "== $f"; cat "$f"; done; exit 1; }
ok() { echo "ok: $*"; }
for ns in $NS; do ip netns del "$ns" 2>/dev/null; done

S=10.77.0.100
set -e
for ns in $NS; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add saf-s-c0 netns saf-s-cli type veth peer name saf-s-r0 netns saf-s-r1
ip link add saf-s-a1 netns saf-s-n1 type veth peer name saf-s-r1 netns saf-s-r1
ip link add saf-s-a2 netns saf-s-n2 type veth peer name saf-s-r2 netns saf-s-r1
ip -n saf-s-cli addr add 10.77.1.2/24 dev saf-s-c0
ip -n saf-s-r1 addr add 10.77.1.1/24 dev saf-s-r0
ip -n saf-s-r1 addr add 10.77.2.1/24 dev saf-s-r1
ip -n saf-s-r1 addr add 10.77.3.1/24 dev saf-s-r2
ip -n saf-s-n1 addr add 10.77.2.2/24 dev saf-s-a1
ip -n saf-s-n2 addr add 10.77.3.2/24 dev saf-s-a2
for l in "saf-s-cli saf-s-c0" "saf-s-r1 saf-s-r0" "saf-s-r1 saf-s-r1" \
	"saf-s-r1 saf-s-r2" "saf-s-n1 saf-s-a1" "saf-s-n2 saf-s-a2"; do
	set -- $l; ip -n "$1" link set "$2" up
done
ip -n saf-s-cli route add default via 10.77.1.1
ip -n saf-s-n1 route add default via 10.77.2.1
ip -n saf-s-n2 route add default via 10.77.3.1
for n in saf-s-n1 saf-s-n2; do
	ip -n $n addr add $S/32 dev lo
	ip netns exec $n sysctl -qw net.ipv4.conf.all.rp_filter=0
done
ip netns exec saf-s-r1 sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0
ip -n saf-s-r1 route add $S/32 via 10.77.2.2
set +e

SAF_CERT_IPS="$S 10.77.2.2 10.77.3.2" "$SRC/scripts/gen-test-certs" "$T/c" >/dev/null || fail certs
"$SAF" tls keygen "$T/keys" || fail keygen
for i in 1 2; do
	ip netns exec saf-s-n$i python3 "$SRC/tests/lib/echo_server.py" 24100 >"$T/echo$i.out" 2>&1 &
	ip netns exec saf-s-n$i "$SAF" tls serve --anycast $S:24443 \
		--unicast 10.77.$((i + 1)).2:24443 --cert "$T/c/node.pem" \
		--key "$T/c/node.key" --backend 127.0.0.1:24100 --keys "$T/keys" \
		-v >"$T/n$i.out" 2>"$T/n$i.err" &
done
for _ in $(seq 50); do
	grep -q ready "$T/n1.err" && grep -q ready "$T/n2.err" &&
		grep -q listening "$T/echo1.out" && grep -q listening "$T/echo2.out" && break
	sleep 0.1
done

run_client() { # name extra-args
	(echo first; sleep 2; echo second; sleep 1) |
		timeout 15 ip netns exec saf-s-cli "$SAF" tls connect $S:24443 \
		--ca "$T/c/ca.pem" --no-continuity -v --allow-target 10.77.0.0/16 $2 \
		>"$T/$1.out" 2>"$T/$1.err"
	echo $? >"$T/$1.rc"
}
run_client saf "" &
c1=$!
run_client plain --no-migrate &
c2=$!
sleep 1
ip -n saf-s-r1 route replace $S/32 via 10.77.3.2
wait $c1 $c2

[ "$(tr '\n' ' ' <"$T/saf.out")" = "first second " ] ||
	fail "saf client lost data across the route change: $(cat "$T/saf.out")"
grep -q "on_target at 10.77.2.2:24443" "$T/saf.err" || fail "saf client did not migrate"
ok "client on n1's unicast address survives R1 moving S to n2"
[ "$(cat "$T/plain.rc")" != 0 ] && ! grep -q second "$T/plain.out" ||
	fail "plain TLS client to S was expected to break: rc $(cat "$T/plain.rc")"
ok "plain TLS client to S is cut off by the same change (baseline)"

out=$(echo again | timeout 10 ip netns exec saf-s-cli "$SAF" tls connect $S:24443 \
	--ca "$T/c/ca.pem" --no-continuity -v --allow-target 10.77.0.0/16 2>"$T/c2.err")
[ "$out" = again ] && grep -q "on_target at 10.77.3.2:24443" "$T/c2.err" ||
	fail "new client did not land on n2: $(cat "$T/c2.err")"
ok "a new client now lands on n2 and migrates to its unicast address"

# The client target policy (saf/policy.h). Without --allow-target only
# global unicast is followed: the lab's private token target is refused
# with the reason, and the client stays on S with its data.
out=$(echo private | timeout 10 ip netns exec saf-s-cli "$SAF" tls connect $S:24443 \
	--ca "$T/c/ca.pem" --no-continuity -v 2>"$T/p1.err")
[ "$out" = private ] &&
	grep -q "stayed_refused at $S:24443: on $S:24443: token target for 10.77.3.2 rejected: private-use (RFC 1918) not allowed by the target policy" "$T/p1.err" ||
	fail "a client without --allow-target followed a private token: $(cat "$T/p1.err")"
ok "without --allow-target: the private token target is refused, the client stays on S"
# A rogue node minting tokens for the cloud metadata address. It really is
# reachable there (n1 holds 169.254.169.254), so only the policy stops it:
# refused with a broad allow list that does not cover it, followed (the
# control) with one that does.
ip -n saf-s-n1 addr add 169.254.169.254/32 dev lo
ip -n saf-s-r1 route add 169.254.169.254/32 via 10.77.2.2
ip netns exec saf-s-n1 "$SAF" tls serve --anycast $S:24444 \
	--unicast 169.254.169.254:24444 --cert "$T/c/node.pem" \
	--key "$T/c/node.key" --backend 127.0.0.1:24100 --keys "$T/keys" \
	-v >"$T/rogue.out" 2>"$T/rogue.err" &
for _ in $(seq 50); do grep -q ready "$T/rogue.err" && break; sleep 0.1; done
ip -n saf-s-r1 route replace $S/32 via 10.77.2.2
rogue() { # rogue NAME ALLOW
	echo meta | timeout 10 ip netns exec saf-s-cli "$SAF" tls connect $S:24444 \
		--ca "$T/c/ca.pem" --name $S --no-continuity -v --allow-target "$2" 2>"$T/$1.err"
}
out=$(rogue r1 10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fd00::/8)
[ "$out" = meta ] &&
	grep -q "stayed_refused at $S:24444: on $S:24444: token target for 169.254.169.254 rejected: link-local (RFC 3927), outside the 4 allowed prefixes of the target policy" "$T/r1.err" ||
	fail "a token for 169.254.169.254 was not refused: $(cat "$T/r1.err")"
ok "a rogue token for 169.254.169.254 is refused with a broad allow list that does not cover it"
out=$(rogue r2 169.254.169.254/32)
[ "$out" = meta ] && grep -q "on_target at 169.254.169.254:24444" "$T/r2.err" ||
	fail "control: allowed explicitly, the client did not migrate: $(cat "$T/r2.err")"
ok "control: allowed explicitly, the same token moves the client (so the refusal is the policy's)"
echo "tls netns: all passed"
