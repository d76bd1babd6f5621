#!/usr/bin/env bash
# R1 moves S between the client's SYN and its ACK: the node that answered
# sent its advert in the SYN-ACK, and the node that gets the ACK resets the
# connection, often before the client's process has looked at it (the load
# test met this 8 times in 600,000 connections). saf_tcp_connect must still
# follow the advert: the node that answered is known.
#
# Two namespaces, prefix saf-tr: the client (cgroup with saf's client
# program) and a "node" whose S (10.88.0.2:7100) is a raw responder
# (synack_then_rst.py: SYN-ACK with the advert, RST right after) and whose
# unicast address U (10.88.0.3:7101, an advert with a port) runs an
# unmodified echo server.
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, eBPF)"; exit 77; }
SAF=${SAF_BIN:?SAF_BIN not set}
SRC=${SAF_SOURCE_DIR:?}
CG=/sys/fs/cgroup/unified
[[ -d $CG ]] || { echo "SKIP: no cgroup v2 at $CG"; exit 77; }
P=saf-tr
PINS=/run/saf/$P
TRIES=12 # the RST wins the race about half the time: 12 tries all lose it 1 in 4096
WORK=$(mktemp -d)
PIDS=()
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }

reset() {
  "$SAF" tcp detach --pin-dir "$PINS" >/dev/null 2>&1
  umount "$PINS" 2>/dev/null; rmdir "$PINS" 2>/dev/null
  ip netns del "$P-c" 2>/dev/null; ip netns del "$P-n" 2>/dev/null
  rmdir "$CG/$P-client" 2>/dev/null
  return 0
}
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  reset
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
reset

ip netns add "$P-c"; ip netns add "$P-n"
ip link add "$P-cn" netns "$P-c" type veth peer name "$P-nc" netns "$P-n"
ip -n "$P-c" addr add 10.88.0.1/24 dev "$P-cn"
ip -n "$P-n" addr add 10.88.0.2/24 dev "$P-nc"
ip -n "$P-n" addr add 10.88.0.3/24 dev "$P-nc"
for n in c n; do ip -n "$P-$n" link set lo up; done
ip -n "$P-c" link set "$P-cn" up; ip -n "$P-n" link set "$P-nc" up
# The node's kernel would answer SYNs and ACKs to S:7100 (nothing listens
# there) with RSTs of its own: only the responder's (marked) leave.
ip netns exec "$P-n" nft -f - <<'NFT'
table inet saf_tr {
  chain out { type filter hook output priority 0;
    ip saddr 10.88.0.2 tcp sport 7100 tcp flags & rst != 0 meta mark != 0x5af drop; }
}
NFT
mkdir -p "$CG/$P-client"
check "client program attached" "$SAF" tcp client attach --cgroup "$CG/$P-client" --pin-dir "$PINS" --anycast 10.88.0.2

ip netns exec "$P-n" python3 "$SRC/tests/lib/echo_server.py" 7101 > /dev/null 2>&1 & PIDS+=($!)
ip netns exec "$P-n" python3 "$SRC/tests/tcp/synack_then_rst.py" 10.88.0.2 7100 10.88.0.3 7101 $((TRIES + 1)) \
  > "$WORK/responder.out" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do
  grep -q ready "$WORK/responder.out" 2>/dev/null && ip netns exec "$P-n" ss -Hltn 'sport = :7101' | grep -q . && break
  sleep 0.1
done

# Runs `saf tcp connect -v` in the client cgroup and namespace.
connect() { # connect OUT ERR [ARGS]
  local out=$1 err=$2; shift 2
  (echo $BASHPID > "$CG/$P-client/cgroup.procs"
   exec ip netns exec "$P-c" "$SAF" tcp connect -v --timeout 2000 --allow-target 10.88.0.0/24 --pin-dir "$PINS" "$@" 10.88.0.2:7100) \
    < <(printf 'hello %s\n' "$out"; sleep 0.5) > "$out" 2> "$err"
}

migrated=0 via_reset=0 echoed=0
for i in $(seq "$TRIES"); do
  connect "$WORK/out$i" "$WORK/err$i"
  grep -q '^saf: migrated: on 10.88.0.3:7101' "$WORK/err$i" && migrated=$((migrated + 1))
  grep -q 'reset after the node answered' "$WORK/err$i" && via_reset=$((via_reset + 1))
  grep -qx "hello $WORK/out$i" "$WORK/out$i" && echoed=$((echoed + 1))
done
echo "# $migrated of $TRIES migrated, $via_reset of them after the reset of S; first: $(head -1 "$WORK/err1")"
check "every connection migrated to the advertised address" test "$migrated" -eq "$TRIES"
check "the reset of the connection to S was met and followed (at least once)" test "$via_reset" -ge 1
check "data echoed from the unicast address every time" test "$echoed" -eq "$TRIES"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
