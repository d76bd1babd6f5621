#!/usr/bin/env bash
# The root-only tools under valgrind memcheck, each checked for what it did:
# saf sched run (receives the agent's reports, installs the route for S)
# and saf node agent (reports, answers probes), both ended by SIGTERM; then
# saf tcp node attach, client attach, connect (a real migration from S to
# the node's unicast address), status (text, --json, --prometheus) and
# detach; and saf lab, whose own code only finds the lab script and execs
# it (valgrind follows no exec: the script itself is bash). Two namespaces (prefix saf-v) joined by a veth pair:
#
#   saf-v-c: client and scheduler     10.77.0.1 ── 10.77.0.2   saf-v-n: node
#            route for S: installed by saf sched run        S = 10.99.0.1 on lo
#
# Cgroups saf-v-node and saf-v-client, pins under /run/saf/saf-v: all of it
# removed on every exit. Each saf process writes its own valgrind log; any
# error or definite leak fails (scripts/test-valgrind reads the logs).
# Called by scripts/test-valgrind, as root, with SAF_VALGRIND (the wrapper
# command), SAF_BIN, SAF_SOURCE_DIR and LOGS set.
set -u
SAF=${SAF_BIN:?} SRC=${SAF_SOURCE_DIR:?} VG=${SAF_VALGRIND:?} LOGS=${LOGS:?}
CG=/sys/fs/cgroup/unified
PINS=/run/saf/saf-v
S=10.99.0.1 U=10.77.0.2 PORT=7000

# Two runs (two checkouts) share these names: take turns.
exec 9> /run/lock/saf-v-root-tools.lock
flock -w 600 9 || { echo "FAIL: another run holds /run/lock/saf-v-root-tools.lock"; exit 1; }

T=$(mktemp -d /tmp/saf-v.XXXXXX)
chmod 700 "$T"
PIDS=()
# Removes what a run made (also a killed one's leftovers, at the start):
# the processes inside our namespaces and cgroups, pins, cgroups,
# namespaces.
reset() {
	local ns c p
	for ns in saf-v-c saf-v-n; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	done
	for c in saf-v-node saf-v-client; do
		[[ -f $CG/$c/cgroup.procs ]] || continue
		for p in $(cat "$CG/$c/cgroup.procs"); do kill "$p" 2>/dev/null; done
	done
	sleep 0.2
	"$SAF" tcp detach --pin-dir "$PINS" >/dev/null 2>&1
	umount "$PINS" 2>/dev/null
	rmdir "$PINS" 2>/dev/null
	for c in saf-v-node saf-v-client; do rmdir "$CG/$c" 2>/dev/null; done
	for ns in saf-v-c saf-v-n; do ip netns del "$ns" 2>/dev/null; done
}
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	reset
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
fail() {
	echo "FAIL: $*"
	for f in "$T"/*.err "$T"/*.log; do [[ -s $f ]] && { echo "== $f"; cat "$f"; }; done
	exit 1
}
ok() { echo "ok: $*"; }
wait_for() { # wait_for SECONDS CMD...
	local t=$(($1 * 10))
	shift
	for _ in $(seq "$t"); do "$@" && return 0; sleep 0.1; done
	return 1
}
# Becomes CMD in namespace NS, as a member of cgroup CGROUP ("-": none).
run_in() {
	local cgroup=$1 ns=$2
	shift 2
	[[ $cgroup != - ]] && echo $BASHPID >"$CG/$cgroup/cgroup.procs"
	exec nsenter --net="/run/netns/$ns" "$@"
}

[[ -d $CG ]] || fail "no cgroup v2 at $CG"
reset
ip netns add saf-v-c && ip netns add saf-v-n || fail "ip netns add"
ip link add saf-v-cn netns saf-v-c type veth peer name saf-v-nc netns saf-v-n || fail "veth"
ip -n saf-v-c addr add 10.77.0.1/24 dev saf-v-cn
ip -n saf-v-n addr add "$U/24" dev saf-v-nc
ip -n saf-v-n addr add "$S/32" dev lo
ip -n saf-v-c link set lo up && ip -n saf-v-n link set lo up &&
	ip -n saf-v-c link set saf-v-cn up && ip -n saf-v-n link set saf-v-nc up || fail "links up"
mkdir "$CG/saf-v-node" "$CG/saf-v-client" || fail "cgroups"
ip -n saf-v-c route show "$S/32" | grep -q . && fail "a route for S before the scheduler ran"

# --- saf sched run and saf node agent ---------------------------------------
openssl rand -hex 32 >"$T/key" && chmod 600 "$T/key"
echo "n1 $(cat "$T/key")" >"$T/keys" && chmod 600 "$T/keys"
(run_in - saf-v-c $VG "$SAF" sched run --anycast "$S" --node "n1=$U" --keys "$T/keys" \
	--state "$T/state.json" --metrics 127.0.0.1:9464 >"$T/sched.out" 2>"$T/sched.err") &
SCHED=$!
PIDS+=($SCHED)
(run_in - saf-v-n $VG "$SAF" node agent --name n1 --sched 10.77.0.1 --key "$T/key" \
	--interval 100 >"$T/agent.out" 2>"$T/agent.err") &
AGENT=$!
PIDS+=($AGENT)
route_installed() { ip -n saf-v-c route show "$S/32" | grep -q "via $U .*proto 83"; }
wait_for 60 route_installed || fail "saf sched run did not install the route for S via $U"
ok "saf sched run installed the route for S: $(ip -n saf-v-c route show "$S/32")"
reports() { python3 -c "import json; print(json.load(open('$T/state.json'))['counters']['reports'])" 2>/dev/null; }
enough_reports() { [[ $(reports) -ge 5 ]]; }
wait_for 30 enough_reports || fail "fewer than 5 reports received"
nsenter --net=/run/netns/saf-v-c python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9464/metrics', timeout=20).read().decode())" >"$T/metrics" 2>&1
grep -q '^saf_sched_reports_total [1-9]' "$T/metrics" || fail "metrics: $(cat "$T/metrics")"
ok "saf node agent reported ($(reports) reports), metrics served"
kill -TERM "$AGENT"
wait "$AGENT" || fail "saf node agent exited $? on SIGTERM"
kill -TERM "$SCHED"
wait "$SCHED" || fail "saf sched run exited $? on SIGTERM"
route_installed || fail "the route for S went with the scheduler"
ok "agent and scheduler ended cleanly on SIGTERM"

# --- saf tcp ------------------------------------------------------------------
$VG "$SAF" tcp node attach --cgroup "$CG/saf-v-node" --pin-dir "$PINS" --anycast "$S" --unicast "$U" 2>"$T/attach.err" ||
	fail "saf tcp node attach"
$VG "$SAF" tcp client attach --cgroup "$CG/saf-v-client" --pin-dir "$PINS" --anycast "$S" 2>>"$T/attach.err" ||
	fail "saf tcp client attach"
[[ -e $PINS/node/link && -e $PINS/client/link ]] || fail "no link pins after the attach"
ok "saf tcp node attach, client attach: both pinned"
(run_in saf-v-node saf-v-n python3 "$SRC/tests/lib/echo_server.py" "$PORT" >"$T/echo.out" 2>&1) &
PIDS+=($!)
wait_for 20 grep -q listening "$T/echo.out" || fail "echo server did not start"
echo "hello-$RANDOM" >"$T/in"
(run_in saf-v-client saf-v-c $VG "$SAF" tcp connect -v --pin-dir "$PINS" "$S:$PORT" \
	<"$T/in" >"$T/out" 2>"$T/connect.err") || fail "saf tcp connect exited $?"
grep -q "migrated: on $U:$PORT via $S:$PORT" "$T/connect.err" || fail "saf tcp connect did not migrate"
cmp -s "$T/in" "$T/out" || fail "saf tcp connect: data differ"
ok "saf tcp connect: $(cat "$T/connect.err")"
$VG "$SAF" tcp status --pin-dir "$PINS" >"$T/status.txt" 2>"$T/status.err" || fail "saf tcp status"
grep -q "node program: attached" "$T/status.txt" && grep -q "client program: attached" "$T/status.txt" ||
	fail "status: $(cat "$T/status.txt")"
$VG "$SAF" tcp status --json --pin-dir "$PINS" >"$T/status.json" 2>>"$T/status.err" || fail "saf tcp status --json"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (d['node']['node_adverts_written'] >= 1 and d['client']['client_adverts'] >= 1))" \
	"$T/status.json" || fail "status --json: $(cat "$T/status.json")"
$VG "$SAF" tcp status --prometheus --pin-dir "$PINS" >"$T/status.prom" 2>>"$T/status.err" || fail "saf tcp status --prometheus"
grep -Eq '^saf_tcp_client_synacks_total\{advert="valid",[^}]*\} [1-9]' "$T/status.prom" || fail "status --prometheus: $(cat "$T/status.prom")"
ok "saf tcp status (text, --json, --prometheus) show the advert written and received"
$VG "$SAF" tcp detach --pin-dir "$PINS" 2>"$T/detach.err" || fail "saf tcp detach"
[[ ! -e $PINS/node/link && ! -e $PINS/client/link ]] || fail "pins left after the detach"
"$SAF" tcp status --pin-dir "$PINS" >/dev/null 2>&1 && fail "status still finds programs after the detach"
ok "saf tcp detach: nothing attached any more"
SAF_LAB_PREFIX=saf-v-nolab $VG "$SAF" lab status >"$T/lab.out" 2>&1
rc=$?
[[ $rc -eq 3 ]] && grep -q "saf lab: down" "$T/lab.out" || fail "saf lab status: exit $rc, $(cat "$T/lab.out")"
ok "saf lab status: handed over to the lab script (no lab under saf-v-nolab: down)"
