#!/usr/bin/env bash
# saf run end to end: unmodified programs (curl, wget, python3 urllib and
# asyncio, openssl s_client) against an unmodified nginx on two nodes of the
# lab (prefix saf-ru: its own namespaces, cgroups and bpffs pins, removed
# on every exit). Their first connection to S follows the advert, so a
# download survives two changes of R1's route while plain curl breaks;
# every failure path leaves the program on S.
set -uo pipefail

SRC=${SAF_SOURCE_DIR:?}
# shellcheck source=../tcp/netns_lib.sh
. "$SRC/tests/tcp/netns_lib.sh"
# shellcheck source=nginx_node.sh
. "$SRC/tests/run/nginx_node.sh"
PINS=/run/saf/run-test
reset() { netns_reset saf-ru node2 node3 client client-cache; }
netns_test_start saf-ru
for t in nginx curl wget openssl python3; do
  command -v $t >/dev/null || { echo "SKIP: $t not installed (scripts/install-deps)"; exit 77; }
done

"$LAB" up >/dev/null || { echo "FAIL - lab up"; exit 1; }
for g in node2 node3 client client-cache; do mkdir -p "$CG/saf-ru-$g"; done
for k in 2 3; do
  "$SAF" tcp node attach --cgroup "$CG/saf-ru-node$k" --pin-dir "$PINS/node$k" \
    --anycast 10.99.0.1 --unicast "10.30.$k.2" --anycast fd00:99::1 --unicast "fd00:30:$k::2" ||
    bad "node $k attach"
done
"$SAF" tcp client attach --cgroup "$CG/saf-ru-client" --pin-dir "$PINS/client" \
  --anycast 10.99.0.1 --anycast fd00:99::1 || bad "client attach"

# The content: 48 MiB, a small file, a self-signed certificate.
mkdir -p "$WORK/www"
head -c $((48 << 20)) /dev/urandom > "$WORK/www/big"
head -c 100000 /dev/urandom > "$WORK/www/small"
BIG=$(sha256sum < "$WORK/www/big" | cut -d' ' -f1)
SMALL=$(sha256sum < "$WORK/www/small" | cut -d' ' -f1)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=saf-run-test -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
for k in 2 3; do
  nginx_conf "$WORK/n$k" "10.30.$k.2" "fd00:30:$k::2" "$WORK/www" "$WORK/cert.pem" "$WORK/key.pem"
  run_in "saf-ru-node$k" "saf-ru-n$k" nginx -e "$WORK/n$k/error.log" -p "$WORK/n$k" -c "$WORK/n$k/nginx.conf" &
  PIDS+=($!)
done
wait_listen saf-ru-n2 80 && wait_listen saf-ru-n3 80 && wait_listen saf-ru-n2 443 || bad "nginx listens"

# saf_run CGROUP OUT ERR CMD...: CMD under saf run in the client namespace;
# CGROUP "-" stays outside the client cgroup. Extra saf run options in RUN_OPTS.
saf_run() {
  local cg=$1 out=$2 err=$3; shift 3
  local opts=(--pin-dir "$PINS/client" --anycast 10.99.0.1:80 --anycast 10.99.0.1:443
    --anycast '[fd00:99::1]:80' --debug)
  # the lab's unicast addresses are private: the target policy must allow them
  [[ -z ${NO_ALLOW:-} ]] && opts+=(--allow-target 10.30.0.0/16 --allow-target fd00:30::/32)
  opts+=(${RUN_OPTS:-})
  [[ $cg != - ]] && opts+=(--cgroup "$CG/$cg")
  (run_in - saf-ru-c "$SAF" run "${opts[@]}" -- "$@" > "$out" 2> "$err")
}
sha() { sha256sum < "$1" | cut -d' ' -f1; }
lines() { grep -c "^saf: " "$1"; }
move() { # move K: R1 sends S (both families) to node K
  ip netns exec saf-ru-r1 ip route replace 10.99.0.1/32 via "10.20.$1.2"
  ip netns exec saf-ru-r1 ip -6 route replace fd00:99::1/128 via "fd00:20:$1::2"
}

# --- a download spanning two changes of R1's route --------------------------
# Under saf run: curl (IPv4), wget (IPv6) and a slow python3 urllib reader;
# plain curl in the same client cgroup is the control that breaks.
cat > "$WORK/slow.py" <<'PY'
import hashlib, os, sys, time, urllib.request
r = urllib.request.urlopen(sys.argv[1], timeout=30)
while not os.path.exists(sys.argv[2]):  # connected; read once told to
    time.sleep(0.02)
h = hashlib.sha256()
while True:
    b = r.read(1 << 20)
    if not b:
        break
    h.update(b)
    time.sleep(0.06)
print(h.hexdigest())
PY
move 2
wait_lines() { # wait_lines FILE...: each has its SAF_DEBUG line (connected), 30 s at most
  for _ in $(seq 600); do
    local f all=1
    for f; do [[ -s $f ]] || all=0; done
    ((all)) && return 0
    sleep 0.05
  done
  echo "# no SAF_DEBUG line in $* after 30 s" >&2
}
# python connects first and reads only once the others are up: a loaded
# machine starts it slowly, and it must not finish before R1 moves S
saf_run saf-ru-client "$WORK/c3" "$WORK/c3.err" python3 "$WORK/slow.py" http://10.99.0.1/big "$WORK/go" & PIDS+=($!); C3=$!
wait_lines "$WORK/c3.err"
saf_run saf-ru-client "$WORK/c1" "$WORK/c1.err" curl -sS --limit-rate 12M http://10.99.0.1/big & PIDS+=($!); C1=$!
saf_run saf-ru-client "$WORK/c2" "$WORK/c2.err" wget -q -O - --limit-rate=12m 'http://[fd00:99::1]/big' & PIDS+=($!); C2=$!
(run_in saf-ru-client saf-ru-c curl -sS --limit-rate 12M http://10.99.0.1/big > "$WORK/c4" 2> "$WORK/c4.err") & PIDS+=($!); C4=$!
wait_lines "$WORK/c1.err" "$WORK/c2.err"
for _ in $(seq 600); do # and the control is on S
  ip netns exec saf-ru-n2 ss -Htn state established '( sport = :80 )' | grep -q '10.99.0.1:80 ' && break
  sleep 0.05
done
touch "$WORK/go"
sleep 0.2
ip netns exec saf-ru-n2 ss -Htn state established '( sport = :80 )' > "$WORK/ss"
check "ss on n2: the saf run downloads are on U (10.30.2.2:80, twice)" \
  test "$(grep -c '10.30.2.2:80 ' "$WORK/ss")" -eq 2
check "ss on n2: ... and on [fd00:30:2::2]:80" grep -q '\[fd00:30:2::2\]:80 ' "$WORK/ss"
check "ss on n2: the only connection on S is plain curl's" test "$(grep -c '10.99.0.1:80 ' "$WORK/ss")" -eq 1
# (a download that ended before the moves would prove nothing)
check "all four downloads still running when R1 moves S" kill -0 $C1 $C2 $C3 $C4
move 3; sleep 1; move 2 # n3 resets what reaches it: S's connections break
wait $C1; rc1=$?; wait $C2; rc2=$?; wait $C3; rc3=$?; wait $C4; rc4=$?
check "curl under saf run: 48 MiB byte-exact across two route changes (exit $rc1)" test "$(sha "$WORK/c1")" = "$BIG"
check "curl: one line, migrated to U" test "$(cat "$WORK/c1.err")" = "saf: connect 10.99.0.1:80 -> 10.30.2.2:80 migrated"
check "wget over IPv6 under saf run: byte-exact (exit $rc2)" test "$(sha "$WORK/c2")" = "$BIG"
check "wget: one line, migrated to [fd00:30:2::2]:80" test "$(cat "$WORK/c2.err")" = "saf: connect [fd00:99::1]:80 -> [fd00:30:2::2]:80 migrated"
check "python3 urllib (blocking connect) under saf run: byte-exact (exit $rc3)" test "$(cat "$WORK/c3")" = "$BIG"
check "python3 urllib: migrated" grep -qx "saf: connect 10.99.0.1:80 -> 10.30.2.2:80 migrated" "$WORK/c3.err"
check "control: plain curl breaks when R1 moves S (exit $rc4: $(head -c 80 "$WORK/c4.err"))" \
  test "$rc4" -ne 0 -a "$(sha "$WORK/c4")" != "$BIG"

# --- more programs, route steady at n2 -------------------------------------
saf_run saf-ru-client "$WORK/o" "$WORK/e" python3 -c '
import asyncio, hashlib
async def main():
    r, w = await asyncio.open_connection("10.99.0.1", 80)  # non-blocking connect
    w.write(b"GET /small HTTP/1.0\r\n\r\n")
    d = await r.read()
    print(hashlib.sha256(d.split(b"\r\n\r\n", 1)[1]).hexdigest())
asyncio.run(main())'
check "python3 asyncio (non-blocking connect): data byte-exact" test "$(cat "$WORK/o")" = "$SMALL"
check "python3 asyncio: migrated" test "$(cat "$WORK/e")" = "saf: connect 10.99.0.1:80 -> 10.30.2.2:80 migrated"

printf 'GET /small HTTP/1.0\r\n\r\n' > "$WORK/req"
saf_run saf-ru-client "$WORK/o" "$WORK/e" sh -c "openssl s_client -connect 10.99.0.1:443 -quiet -ign_eof < '$WORK/req'"
python3 -c 'import sys,hashlib; d=open(sys.argv[1],"rb").read(); print(hashlib.sha256(d.split(b"\r\n\r\n",1)[-1]).hexdigest())' "$WORK/o" > "$WORK/o.sha"
check "openssl s_client: TLS 1.3 handshake and the file over it, byte-exact" test "$(cat "$WORK/o.sha")" = "$SMALL"
check "openssl s_client: migrated to 10.30.2.2:443" grep -qx "saf: connect 10.99.0.1:443 -> 10.30.2.2:443 migrated" "$WORK/e"

saf_run saf-ru-client "$WORK/o" "$WORK/e" python3 -c '
import hashlib, threading, urllib.request
out = [None] * 8
def get(i):
    out[i] = hashlib.sha256(urllib.request.urlopen("http://10.99.0.1/small", timeout=10).read()).hexdigest()
ts = [threading.Thread(target=get, args=(i,)) for i in range(8)]
[t.start() for t in ts]; [t.join() for t in ts]
print("\n".join(out))'
check "python3, 8 threads connecting in parallel: all byte-exact" test "$(sort -u "$WORK/o")" = "$SMALL"
check "python3 threads: 8 lines, all migrated" test "$(grep -cx "saf: connect 10.99.0.1:80 -> 10.30.2.2:80 migrated" "$WORK/e")" -eq 8 -a "$(lines "$WORK/e")" -eq 8

saf_run saf-ru-client "$WORK/o" "$WORK/e" curl -sS -g 'http://[fd00:99::1]/small'
check "curl over IPv6: byte-exact" test "$(sha "$WORK/o")" = "$SMALL"
check "curl over IPv6: migrated" test "$(cat "$WORK/e")" = "saf: connect [fd00:99::1]:80 -> [fd00:30:2::2]:80 migrated"

saf_run saf-ru-client "$WORK/o" "$WORK/e" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("10.99.0.1", 80)); s.send(b"x"); print(s.getpeername()[0])'
check "a UDP socket to S is untouched (connected to S, no line)" test "$(cat "$WORK/o")" = 10.99.0.1 -a "$(lines "$WORK/e")" -eq 0

# What the application set before connect() is kept on the moved socket.
saf_run saf-ru-client "$WORK/o" "$WORK/e" python3 -c '
import fcntl, select, socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 77)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 200000)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x28)
s.bind(("10.10.0.2", 0))
s.set_inheritable(True)
s.setblocking(False)
fd = s.fileno()
try:
    s.connect(("10.99.0.1", 80))
except BlockingIOError:
    select.select([], [s], [], 5)
g = lambda l, o: s.getsockopt(l, o)
print(s.getpeername()[0], s.getsockname()[0], s.fileno() == fd,
      g(socket.IPPROTO_TCP, socket.TCP_NODELAY), g(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
      g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE), g(socket.SOL_SOCKET, socket.SO_SNDBUF) >= 400000,
      g(socket.IPPROTO_IP, socket.IP_TOS), s.get_inheritable(), s.getblocking())'
check "options kept across the move (peer U, bound address, NODELAY, KEEPALIVE, KEEPIDLE, SNDBUF, TOS, no CLOEXEC, non-blocking)" \
  test "$(cat "$WORK/o")" = "10.30.2.2 10.10.0.2 True 1 1 77 True 40 True False"

# --- failure paths: the program stays on S and its data arrives -------------
saf_run - "$WORK/o" "$WORK/e" curl -sS http://10.99.0.1/small
check "outside the client cgroup: byte-exact on S" test "$(sha "$WORK/o")" = "$SMALL"
check "outside the client cgroup: stayed on S, SAF not sent" \
  grep -q "^saf: connect 10.99.0.1:80 stayed on S: no advert: SAF not sent" "$WORK/e"
RUN_OPTS="--pin-dir $WORK/nopins" saf_run saf-ru-client "$WORK/o" "$WORK/e" curl -sS http://10.99.0.1/small
check "client program not attached: byte-exact on S" test "$(sha "$WORK/o")" = "$SMALL"
check "client program not attached: the reason" \
  grep -q "^saf: connect 10.99.0.1:80 stayed on S: no advert: client program not attached" "$WORK/e"
ip netns exec saf-ru-n2 nft -f - <<'NFT'
table inet saf_ru_block {
  chain in { type filter hook input priority 0; ip daddr 10.30.2.2 tcp dport 80 drop; }
}
NFT
t0=$(date +%s%N)
RUN_OPTS="--timeout-ms 300" saf_run saf-ru-client "$WORK/o" "$WORK/e" curl -sS http://10.99.0.1/small
ms=$((($(date +%s%N) - t0) / 1000000))
ip netns exec saf-ru-n2 nft delete table inet saf_ru_block
check "U blocked: byte-exact on S" test "$(sha "$WORK/o")" = "$SMALL"
check "U blocked: stayed on S, U did not answer within 300 ms" \
  test "$(cat "$WORK/e")" = "saf: connect 10.99.0.1:80 stayed on S: 10.30.2.2:80 did not answer within 300 ms"
check "U blocked: the whole download took ${ms} ms (< 2000)" test "$ms" -lt 2000
# S refuses (nothing listens on port 81): the application's own error,
# unchanged, and a line that says the connect was not followed.
RUN_OPTS="--anycast 10.99.0.1:81" saf_run saf-ru-client "$WORK/o" "$WORK/e" curl -sS http://10.99.0.1:81/small
check "S refuses: curl's own error" grep -q "curl: (7) Failed to connect" "$WORK/e"
check "S refuses: not followed" grep -qx "saf: connect 10.99.0.1:81 not followed: connect to S failed" "$WORK/e"
# An IPv4 destination on an AF_INET6 socket (::ffff:10.99.0.1, as dual-stack
# programs connect): the new socket is of the application's family too.
saf_run saf-ru-client "$WORK/o" "$WORK/e" python3 -c '
import hashlib, socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.connect(("::ffff:10.99.0.1", 80))
s.sendall(b"GET /small HTTP/1.0\r\n\r\n")
d = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    d += b
print(s.family == socket.AF_INET6, s.getpeername()[0], hashlib.sha256(d.split(b"\r\n\r\n", 1)[1]).hexdigest())'
check "IPv4-mapped destination on an AF_INET6 socket: on ::ffff:10.30.2.2, byte-exact" \
  grep -qx "True ::ffff:10.30.2.2 $SMALL" "$WORK/o"
check "IPv4-mapped destination: migrated" test "$(cat "$WORK/e")" = "saf: connect 10.99.0.1:80 -> 10.30.2.2:80 migrated"
# The client target policy (saf/policy.h): without --allow-target only
# global unicast adverts are followed; an allow-list that misses U refuses.
NO_ALLOW=1 saf_run saf-ru-client "$WORK/o" "$WORK/e" curl -sS http://10.99.0.1/small
check "default target policy: byte-exact on S" test "$(sha "$WORK/o")" = "$SMALL"
check "default target policy: private U refused, the reason says so" \
  grep -qx "saf: connect 10.99.0.1:80 stayed on S: advert for 10.30.2.2 rejected: private-use (RFC 1918) not allowed by the target policy" "$WORK/e"
NO_ALLOW=1 RUN_OPTS="--allow-target 10.40.0.0/16" saf_run saf-ru-client "$WORK/o" "$WORK/e" curl -sS http://10.99.0.1/small
check "--allow-target without U: stays on S, byte-exact" test "$(sha "$WORK/o")" = "$SMALL"
check "--allow-target without U: outside the allowed prefix" \
  grep -q "^saf: connect 10.99.0.1:80 stayed on S: advert for 10.30.2.2 rejected: .*outside the 1 allowed prefix of the target policy" "$WORK/e"
# A destination that is not in SAF_ANYCAST: the wrapper steps aside, the
# program stays on S (its SYN still carries SAF: the client program's
# own configuration), no line.
(run_in saf-ru-client saf-ru-c env LD_PRELOAD="$SAF_BUILD_DIR/libsaf-preload.so" SAF_DEBUG=1 \
  SAF_ANYCAST=10.99.0.2 SAF_PIN_DIR="$PINS/client" SAF_ALLOW_TARGET=10.30.0.0/16 \
  curl -sS -w '%{remote_ip}' -o "$WORK/o" http://10.99.0.1/small > "$WORK/ip" 2> "$WORK/e")
check "destination not in SAF_ANYCAST: on S, byte-exact, no line" \
  test "$(sha "$WORK/o")" = "$SMALL" -a "$(cat "$WORK/ip")" = 10.99.0.1 -a ! -s "$WORK/e"
# The kernel affinity cache (issue 15 part 1, cgroup/connect4): a client
# program that caches the lab's (private) targets. The first connect()
# migrates and fills the cache; the second is rewritten to U by the kernel,
# getpeername() says U, and the wrapper keeps it (no second connect).
"$SAF" tcp client attach --cgroup "$CG/saf-ru-client-cache" --pin-dir "$PINS/client-cache" \
  --anycast 10.99.0.1 --allow-target 10.30.0.0/16 || bad "client attach with the cache"
for i in 1 2; do
  RUN_OPTS="--pin-dir $PINS/client-cache" saf_run saf-ru-client-cache "$WORK/o$i" "$WORK/e$i" curl -sS http://10.99.0.1/small
done
check "kernel cache: first connect migrated" test "$(cat "$WORK/e1")" = "saf: connect 10.99.0.1:80 -> 10.30.2.2:80 migrated"
check "kernel cache: second connect already on U, kept" \
  test "$(cat "$WORK/e2")" = "saf: connect 10.99.0.1:80 -> 10.30.2.2:80 kept: already on a unicast address (kernel affinity cache)"
check "kernel cache: both byte-exact" test "$(sha "$WORK/o1")" = "$SMALL" -a "$(sha "$WORK/o2")" = "$SMALL"
# Without SAF_DEBUG: silent, and still on U.
(run_in saf-ru-client saf-ru-c env LD_PRELOAD="$SAF_BUILD_DIR/libsaf-preload.so" \
  SAF_ANYCAST=10.99.0.1 SAF_PIN_DIR="$PINS/client" SAF_ALLOW_TARGET=10.30.0.0/16 python3 -c '
import socket; s = socket.create_connection(("10.99.0.1", 80)); print(s.getpeername()[0])' > "$WORK/o" 2> "$WORK/e")
check "without SAF_DEBUG: on U and nothing on stderr" test "$(cat "$WORK/o")" = 10.30.2.2 -a ! -s "$WORK/e"

echo "# $passes passed, $fails failed"
[[ $fails -eq 0 ]]
