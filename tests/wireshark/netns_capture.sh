#!/usr/bin/env bash
# The dissector on a real capture: the saf eBPF programs in the lab (prefix
# saf-e), one IPv4 and one IPv6 connection to the anycast address; the
# capture on N2's link must decode as SAF in the SYN and a port-less
# advert of N2's unicast address in the SYN-ACK.
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, eBPF)"; exit 77; }
command -v tshark >/dev/null || { echo "SKIP: tshark not installed"; exit 77; }
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?}
CG=/sys/fs/cgroup/unified
[[ -d $CG ]] || { echo "SKIP: no cgroup v2 at $CG"; exit 77; }
export SAF_LAB_PREFIX=saf-e
LAB="$SRC/scripts/lab"
PINS=/run/saf/saf-e-ws
WORK=$(mktemp -d /tmp/saf-e-ns.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$SAF" tcp detach --pin-dir "$PINS/node" >/dev/null 2>&1
	"$SAF" tcp detach --pin-dir "$PINS/client" >/dev/null 2>&1
	for d in "$PINS"/*; do umount "$d" 2>/dev/null; rmdir "$d" 2>/dev/null; done
	rmdir "$PINS" 2>/dev/null
	"$LAB" down >/dev/null 2>&1
	for c in saf-e-node saf-e-client; do rmdir "$CG/$c" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
run_in() { # CGROUP NS CMD...: run as a member of the cgroup inside the namespace
	local cgroup=$1 ns=$2; shift 2
	echo $BASHPID >"$CG/$cgroup/cgroup.procs"
	exec nsenter --net="/run/netns/$ns" "$@"
}
"$LAB" up >/dev/null || fail "lab up"
mkdir -p "$CG/saf-e-node" "$CG/saf-e-client"
"$SAF" tcp node attach --cgroup "$CG/saf-e-node" --pin-dir "$PINS/node" \
	--anycast 10.99.0.1 --unicast 10.30.2.2 --anycast fd00:99::1 --unicast fd00:30:2::2 ||
	fail "node attach"
"$SAF" tcp client attach --cgroup "$CG/saf-e-client" --pin-dir "$PINS/client" \
	--anycast 10.99.0.1 --anycast fd00:99::1 || fail "client attach"
(run_in saf-e-node saf-e-n2 python3 "$SRC/tests/lib/echo_server.py" 7000 >/dev/null) &
PIDS+=($!)
for _ in $(seq 100); do ip netns exec saf-e-n2 ss -Hltn "sport = :7000" | grep -q . && break; sleep 0.1; done
ip netns exec saf-e-n2 tcpdump -i saf-e-n2r2 -nn -U --immediate-mode -w "$WORK/cap.pcap" 'tcp port 7000' \
	2>"$WORK/tcpdump.err" &
TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 50); do grep -q listening "$WORK/tcpdump.err" && break; sleep 0.1; done
for target in 10.99.0.1:7000 '[fd00:99::1]:7000'; do
	echo hi >"$WORK/in"
	(run_in saf-e-client saf-e-c "$SAF" tcp connect -v --allow-target 10.30.0.0/16,fd00:30::/32 --pin-dir "$PINS/client" "$target" \
		<"$WORK/in" >"$WORK/out" 2>"$WORK/err") || fail "connect $target: $(cat "$WORK/err")"
	grep -q "migrated" "$WORK/err" || fail "$target did not migrate: $(cat "$WORK/err")"
done
sleep 0.3
kill -INT $TCPDUMP; wait $TCPDUMP 2>/dev/null
tshark -n -X "lua_script:$SRC/tools/wireshark/saf.lua" -r "$WORK/cap.pcap" -Y saf \
	-T fields -E separator='|' -e ip.dst -e ipv6.dst -e tcp.flags.str -e saf.opt.form \
	-e saf.opt.addr -e saf.opt.addr6 -e saf.opt.port_implied >"$WORK/dec.txt" 2>/dev/null
cat "$WORK/dec.txt"
grep -q '^10\.99\.0\.1||.*S.*|SAF (support flag)|' "$WORK/dec.txt" || fail "no SAF in the IPv4 SYN to S"
grep -q '|advert v4|10\.30\.2\.2||7000$' "$WORK/dec.txt" || fail "no advert v4 10.30.2.2 (port 7000) in a SYN-ACK"
ok "IPv4: SAF in the SYN, advert v4 10.30.2.2 port 7000 (implied) in the SYN-ACK"
grep -q '^|fd00:99::1|.*|SAF (support flag)|' "$WORK/dec.txt" || fail "no SAF in the IPv6 SYN to S"
grep -q '|advert v6||fd00:30:2::2|7000$' "$WORK/dec.txt" || fail "no advert v6 fd00:30:2::2 in a SYN-ACK"
ok "IPv6: SAF in the SYN, advert v6 fd00:30:2::2 port 7000 (implied) in the SYN-ACK"
tshark -n -X "lua_script:$SRC/tools/wireshark/saf.lua" -r "$WORK/cap.pcap" -T fields \
	-e _ws.expert.message 2>/dev/null | grep -q "Malformed saf" && fail "real capture flagged malformed"
ok "nothing in the real capture flagged malformed"
