# shellcheck shell=bash
# Helpers shared by the namespace tests of the TCP variant (sourced, with
# SRC the source tree). They count into passes and fails.

# netns_test_start PREFIX: skips (exit 77) without root or cgroup v2; sets
# SAF (the saf binary) and CG (the cgroup v2 mount); takes the lock two
# runs of the test (two checkouts) share for the lab prefix PREFIX; sets
# LAB, WORK, PIDS, passes and fails, and a cleanup on every exit (kill
# PIDS, the script's own `reset`, remove WORK). Ends with a reset, so a
# run starts from nothing.
netns_test_start() {
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces, eBPF)"; exit 77; }
  SAF=${SAF_BIN:?SAF_BIN not set}
  CG=/sys/fs/cgroup/unified
  [[ -d $CG ]] || { echo "SKIP: no cgroup v2 at $CG"; exit 77; }
  exec 9> "/run/lock/$1-tcp-test.lock"
  flock -w 600 9 || { echo "FAIL - another run holds /run/lock/$1-tcp-test.lock"; exit 1; }
  export SAF_LAB_PREFIX=$1
  LAB="$SRC/scripts/lab"
  WORK=$(mktemp -d)
  PIDS=()
  fails=0 passes=0
  trap cleanup EXIT
  trap 'exit 143' TERM INT
  reset
}
# netns_reset PREFIX SUB...: detaches the programs pinned under $PINS/SUB
# (PINS: the script's pin folder), removes the pin folders, the lab and the
# cgroups PREFIX-SUB.
netns_reset() {
  local p=$1 sub d; shift
  : "${PINS:?}"
  for sub; do "$SAF" tcp detach --pin-dir "$PINS/$sub" >/dev/null 2>&1; done
  for d in "$PINS"/*; do umount "$d" 2>/dev/null; rmdir "$d" 2>/dev/null; done
  rmdir "$PINS" 2>/dev/null
  "$LAB" down >/dev/null 2>&1
  for sub; do rmdir "$CG/$p-$sub" 2>/dev/null; done
}
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  reset
  rm -rf "$WORK"
}

ok() { echo "ok   - $1"; passes=$((passes + 1)); }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { # check NAME CMD... : passes when CMD succeeds
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}

# Waits (up to 10 s) until something listens on PORT in namespace NS: a
# loaded machine can take a while to start a server.
wait_listen() {
  for _ in $(seq 100); do
    ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
    sleep 0.1
  done
  echo "# nothing listens on $1 port $2" >&2
  return 1
}

# Becomes CMD inside namespace NS as a member of cgroup CGROUP ("-" for
# none): call it in a subshell, `run_in ... &` or `(run_in ...)`, so that the
# pid of the background job is the command's own.
run_in() {
  local cgroup=$1 ns=$2; shift 2
  [[ $cgroup != - ]] && echo $BASHPID > "$CG/$cgroup/cgroup.procs"
  exec nsenter --net="/run/netns/$ns" "$@"
}

counter() { # counter PINS NAME
  "$SAF" tcp status --json --pin-dir "$1" | python3 -c "
import json,sys; d=json.load(sys.stdin); print({**d.get('node',{}),**d.get('client',{})}['$2'])"
}
