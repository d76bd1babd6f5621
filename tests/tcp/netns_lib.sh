# Helpers shared by the namespace tests of the TCP variant (sourced).
# Needs SAF (the saf binary) and CG (the cgroup v2 mount); counts into
# passes and fails.

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
