#!/usr/bin/env bash
# examples/tcp_client.c, built against the installed library (shared and
# static), in the lab under the prefix saf-lx: through the node's advert it
# must end on the unicast address 10.30.2.2 and get its line echoed; outside
# the client cgroup (no SAF in its SYN) it stays on S and still works.
set -uo pipefail
SRC=${SAF_SOURCE_DIR:?}
# shellcheck source=../tcp/netns_lib.sh
. "$SRC/tests/tcp/netns_lib.sh"
# shellcheck source=build_lib.sh
. "$SRC/tests/examples/build_lib.sh"
PINS=/run/saf/saf-lx-examples
reset() { netns_reset saf-lx node client; }
netns_test_start saf-lx

examples_install "$WORK" || { echo "FAIL - cmake --install"; exit 1; }
check "tcp_client builds (shared)" example_build tcp_client "$WORK/tcp_client" shared
check "tcp_client builds (static)" example_build tcp_client "$WORK/tcp_client-static" static

"$LAB" up > /dev/null || { echo "FAIL - lab up"; exit 1; }
mkdir -p "$CG/saf-lx-node" "$CG/saf-lx-client"
"$SAF" tcp node attach --cgroup "$CG/saf-lx-node" --pin-dir "$PINS/node" \
  --anycast 10.99.0.1 --unicast 10.30.2.2 || bad "node attach"
"$SAF" tcp client attach --cgroup "$CG/saf-lx-client" --pin-dir "$PINS/client" \
  --anycast 10.99.0.1 || bad "client attach"
run_in saf-lx-node saf-lx-n2 python3 "$SRC/tests/lib/echo_server.py" 7000 > /dev/null &
PIDS+=($!)
wait_listen saf-lx-n2 7000

for kind in "" -static; do
  line="hello-$RANDOM"
  (SAF_BPF_PIN_DIR=$PINS/client LD_LIBRARY_PATH=$LIBDIR run_in saf-lx-client saf-lx-c \
    "$WORK/tcp_client$kind" 10.99.0.1:7000 "$line" > "$WORK/out" 2> "$WORK/err")
  check "tcp_client$kind: echoed" grep -qx "$line" "$WORK/out"
  check "tcp_client$kind: migrated to 10.30.2.2:7000" grep -q "^migrated: on 10.30.2.2:7000" "$WORK/err"
  cat "$WORK/err"
done
(SAF_BPF_PIN_DIR=$PINS/client LD_LIBRARY_PATH=$LIBDIR run_in - saf-lx-c \
  "$WORK/tcp_client" 10.99.0.1:7000 outside > "$WORK/out" 2> "$WORK/err")
check "outside the client cgroup: stays on S, echoed" bash -c "grep -qx outside '$WORK/out' && grep -q '^no_advert: on 10.99.0.1:7000' '$WORK/err'"
cat "$WORK/err"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
