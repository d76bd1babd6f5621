#!/usr/bin/env bash
# The kernel affinity cache (issue 15 part 1) with real programs nobody here
# wrote: unmodified nginx on two nodes, curl, wget, python3 urllib and a
# statically linked client in the client cgroup, in the lab under the
# prefix saf-kc (its own namespaces, cgroups and bpffs pins, removed on
# every exit). R1 moves S during downloads; a cached node dies; UDP and
# programs outside the cgroup are left alone; a SYN without room for SAF
# takes no advert (issue 14).
set -uo pipefail

SRC=${SAF_SOURCE_DIR:?}

# shellcheck source=netns_lib.sh
. "$SRC/tests/tcp/netns_lib.sh"
PINS=/run/saf/kc-test
reset() {
  [[ -n ${SAF_TEST_ROGUE:-} ]] && {
    "$SAF_TEST_ROGUE" detach "$PINS/rogue" 2>/dev/null
    "$SAF_TEST_ROGUE" detach "$PINS/hog" 2>/dev/null
  }
  rmdir "$CG/saf-kc-client/hog" 2>/dev/null
  netns_reset saf-kc n2 n3 client rogue
}
netns_test_start saf-kc
command -v nginx >/dev/null || { echo "SKIP: nginx not installed (scripts/install-deps)"; exit 77; }
ROGUE=${SAF_TEST_ROGUE:?SAF_TEST_ROGUE not set}

"$LAB" up >/dev/null || { echo "FAIL - lab up"; exit 1; }
for c in n2 n3 client rogue; do mkdir -p "$CG/saf-kc-$c"; done
R1() { ip netns exec saf-kc-r1 "$@"; }
move_s() { # move_s K: R1 sends S (both families) to node K
  R1 ip route replace 10.99.0.1/32 via "10.20.$1.2"
  R1 ip -6 route replace fd00:99::1/128 via "fd00:20:$1::2"
}
ALLOW=(--allow-target 10.30.0.0/16 --allow-target fd00:30::/32)
client_attach() {
  "$SAF" tcp client attach --cgroup "$CG/saf-kc-client" --pin-dir "$PINS/client" \
    --anycast 10.99.0.1 --anycast fd00:99::1 "${ALLOW[@]}"
}
cache() { "$SAF" tcp cache list --json --pin-dir "$PINS/client"; }
entry() { # entry S:PORT -> the cached target, or "none"
  cache | python3 -c "
import json,sys
e=[x['target'] for x in json.load(sys.stdin) if x['service']=='$1']
print(e[0] if e else 'none')"
}
ctr() { counter "$PINS/client" "$1"; }

for k in 2 3; do
  "$SAF" tcp node attach --cgroup "$CG/saf-kc-n$k" --pin-dir "$PINS/n$k" --advert-rate off \
    --anycast 10.99.0.1 --unicast "10.30.$k.2" --anycast fd00:99::1 --unicast "fd00:30:$k::2" ||
    bad "node attach n$k"
done
client_attach || bad "client attach"

# --- unmodified nginx per node, a 48 MiB file ---------------------------
mkdir -p "$WORK/www"
head -c $((48 << 20)) /dev/urandom > "$WORK/www/big"
echo small > "$WORK/www/small"
BIG_SHA=$(sha256sum < "$WORK/www/big" | cut -d' ' -f1)
for k in 2 3; do
  d="$WORK/n$k"; mkdir -p "$d/tmp"
  cat > "$d/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
  log_format srv '\$server_addr \$remote_addr "\$request" \$status \$body_bytes_sent';
  access_log $d/access.log srv;
  client_body_temp_path $d/tmp; proxy_temp_path $d/tmp; fastcgi_temp_path $d/tmp;
  uwsgi_temp_path $d/tmp; scgi_temp_path $d/tmp;
  default_type application/octet-stream;
  server {
    listen 10.99.0.1:8080; listen [fd00:99::1]:8080;
    listen 10.30.$k.2:8080; listen [fd00:30:$k::2]:8080;
    root $WORK/www;
  }
}
EOF
  run_in "saf-kc-n$k" "saf-kc-n$k" nginx -e "$d/error.log" -c "$d/nginx.conf" -g 'daemon off;' &
  PIDS+=($!)
  wait_listen "saf-kc-n$k" 8080 || bad "nginx on n$k"
done
last_srv() { tail -1 "$WORK/n$1/access.log" | cut -d' ' -f1; } # server address of n$1's last request

incg() { (run_in saf-kc-client saf-kc-c "$@"); }
outcg() { (run_in - saf-kc-c "$@"); }
CURL_PEER=(curl -sS -g -o /dev/null -w '%{remote_ip}')

# --- (b) no preload: the second connection goes straight to U -----------
move_s 2
check "IPv4: first curl goes to S" test "$(incg "${CURL_PEER[@]}" http://10.99.0.1:8080/small)" = 10.99.0.1
check "IPv4: the advert is cached" test "$(entry 10.99.0.1:8080)" = 10.30.2.2:8080
h0=$(ctr client_cache_hits)
check "IPv4: repeat curl goes straight to U (getpeername: U)" test "$(incg "${CURL_PEER[@]}" http://10.99.0.1:8080/small)" = 10.30.2.2
check "IPv4: nginx on n2 served it on its unicast address" test "$(last_srv 2)" = 10.30.2.2
check "IPv4: counted as a hit" test "$(ctr client_cache_hits)" -gt "$h0"
incg wget -q -O "$WORK/w" http://10.99.0.1:8080/small
check "wget in the cgroup: straight to U" bash -c "[[ \$(cat '$WORK/w') == small && \$(tail -1 '$WORK/n2/access.log' | cut -d' ' -f1) == 10.30.2.2 ]]"
incg python3 -c "import urllib.request; assert urllib.request.urlopen('http://10.99.0.1:8080/small').read() == b'small\n'"
check "python3 urllib in the cgroup: straight to U" test "$(last_srv 2)" = 10.30.2.2
check "IPv6: first curl goes to S" test "$(incg "${CURL_PEER[@]}" 'http://[fd00:99::1]:8080/small')" = fd00:99::1
check "IPv6: the advert is cached" test "$(entry '[fd00:99::1]:8080')" = '[fd00:30:2::2]:8080'
check "IPv6: repeat curl goes straight to U" test "$(incg "${CURL_PEER[@]}" 'http://[fd00:99::1]:8080/small')" = fd00:30:2::2
check "outside the cgroup: curl untouched (S)" test "$(outcg "${CURL_PEER[@]}" http://10.99.0.1:8080/small)" = 10.99.0.1

# UDP to a cached S:port is not rewritten: a UDP server bound to S:8080 on
# the node R1 picks gets the datagram, and a connected socket's peer is S.
run_in - saf-kc-n2 python3 -c "
import socket,sys
s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('10.99.0.1',8080)); s.settimeout(5)
print(s.recvfrom(100)[0].decode()); sys.stdout.flush()" > "$WORK/udp" &
UDP=$!
sleep 0.5
incg python3 -c "
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.sendto(b'dgram',('10.99.0.1',8080))
c=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); c.connect(('10.99.0.1',8080)); print(c.getpeername()[0])" > "$WORK/udp-peer"
wait $UDP
check "UDP sendto S:port: not rewritten (reached S)" grep -qx dgram "$WORK/udp"
check "UDP connect S:port: peer stays S" grep -qx 10.99.0.1 "$WORK/udp-peer"

# A 48 MiB download across two moves of S (n2 -> n3 -> n2): through the
# cache it stays on n2's unicast address and arrives whole; the same
# download outside the cgroup (the control) goes via S and breaks.
download() { # download in|out FILE
  local how=incg; [[ $1 == out ]] && how=outcg
  $how curl -sS --limit-rate 12M -o "$2" http://10.99.0.1:8080/big 2> "$2.err" &
  local p=$!
  sleep 1.2; move_s 3; sleep 1.2; move_s 2
  wait $p
}
download in "$WORK/big-in"; rc=$?
check "download in the cgroup across two moves of S: complete (rc $rc)" test $rc -eq 0
check "download in the cgroup: sha256 byte-exact" test "$(sha256sum < "$WORK/big-in" | cut -d' ' -f1)" = "$BIG_SHA"
download out "$WORK/big-out"; rc=$?
got=$(sha256sum < "$WORK/big-out" | cut -d' ' -f1)
check "control: the same download outside the cgroup breaks (rc $rc: $(head -c 80 "$WORK/big-out.err"))" \
  test $rc -ne 0 -o "$got" != "$BIG_SHA"

# --- (d) a dead cached U is dropped; the retry goes through S ------------
move_s 2
"$SAF" tcp cache flush --pin-dir "$PINS/client" >/dev/null
incg "${CURL_PEER[@]}" http://10.99.0.1:8080/small >/dev/null
check "IPv4: cached n2 again" test "$(entry 10.99.0.1:8080)" = 10.30.2.2:8080
move_s 3
ip netns exec saf-kc-n2 iptables -A INPUT -d 10.30.2.2 -p tcp --dport 8080 -j DROP
i0=$(ctr client_cache_invalidations)
t0=$(date +%s%N)
incg "${CURL_PEER[@]}" http://10.99.0.1:8080/small > "$WORK/peer" 2>/dev/null; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "dead U (DROP): the connect fails within the documented 7 s (${ms} ms, rc $rc)" \
  test $rc -ne 0 -a "$ms" -ge 6000 -a "$ms" -lt 9000
check "dead U (DROP): its entry is gone" bash -c "[[ \$('$SAF' tcp cache list --json --pin-dir '$PINS/client') != *10.30.2.2* ]]"
check "dead U (DROP): counted as an invalidation" test "$(ctr client_cache_invalidations)" -gt "$i0"
t0=$(date +%s%N)
check "dead U (DROP): the retry goes through S" test "$(incg "${CURL_PEER[@]}" http://10.99.0.1:8080/small)" = 10.99.0.1
echo "# retry through S took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "dead U (DROP): n3 served the retry on S and is cached now" \
  bash -c "[[ \$(tail -1 '$WORK/n3/access.log' | cut -d' ' -f1) == 10.99.0.1 && \$('$SAF' tcp cache list --json --pin-dir '$PINS/client') == *10.30.3.2:8080* ]]"
ip netns exec saf-kc-n2 iptables -F INPUT

move_s 2
incg "${CURL_PEER[@]}" 'http://[fd00:99::1]:8080/small' >/dev/null
check "IPv6: cached n2" test "$(entry '[fd00:99::1]:8080')" = '[fd00:30:2::2]:8080'
move_s 3
ip netns exec saf-kc-n2 ip6tables -A INPUT -d fd00:30:2::2 -p tcp --dport 8080 -j REJECT --reject-with tcp-reset
t0=$(date +%s%N)
incg "${CURL_PEER[@]}" 'http://[fd00:99::1]:8080/small' > /dev/null 2>&1; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "IPv6 dead U (RST): the connect fails at once (${ms} ms, rc $rc)" test $rc -ne 0 -a "$ms" -lt 1000
check "IPv6 dead U (RST): its entry is gone" bash -c "[[ \$('$SAF' tcp cache list --json --pin-dir '$PINS/client') != *fd00:30:2::2* ]]"
check "IPv6 dead U (RST): the retry goes through S" test "$(incg "${CURL_PEER[@]}" 'http://[fd00:99::1]:8080/small')" = fd00:99::1
ip netns exec saf-kc-n2 ip6tables -F INPUT

# --- status and the cache commands --------------------------------------
"$SAF" tcp status --prometheus --pin-dir "$PINS/client" > "$WORK/prom"
check "Prometheus: cache hits" grep -Eq '^saf_tcp_client_cache_lookups_total\{result="hit",pin_dir="[^"]*"\} [1-9]' "$WORK/prom"
check "Prometheus: entries gauge" grep -Eq '^saf_tcp_client_cache_entries\{pin_dir="[^"]*"\} [1-9]' "$WORK/prom"
"$SAF" tcp status --pin-dir "$PINS/client" > "$WORK/st"
check "text status: invalidations and entries" bash -c "grep -Eq 'client_cache_invalidations +[1-9]' '$WORK/st' && grep -Eq 'client_cache_entries +[1-9]' '$WORK/st'"
check "cache flush empties it" bash -c "'$SAF' tcp cache flush --pin-dir '$PINS/client' | grep -q 'flushed [1-9]' && [[ \$('$SAF' tcp cache list --json --pin-dir '$PINS/client') == '[]' ]]"

# --- bad adverts create no entries ---------------------------------------
# The target policy: without --allow-target the lab's private unicast
# addresses (10/8, fc00::/7 in the special-purpose table) are not cached.
"$SAF" tcp detach client --pin-dir "$PINS/client" >/dev/null
"$SAF" tcp client attach --cgroup "$CG/saf-kc-client" --pin-dir "$PINS/client" \
  --anycast 10.99.0.1 --anycast fd00:99::1 || bad "client attach (default policy)"
move_s 2
incg "${CURL_PEER[@]}" http://10.99.0.1:8080/small >/dev/null
incg "${CURL_PEER[@]}" 'http://[fd00:99::1]:8080/small' >/dev/null
check "default policy: private targets are not cached ($(cache))" test "$(cache)" = "[]"
check "default policy: refusals counted" test "$(ctr client_cache_refused_target)" -ge 2
"$SAF" tcp detach client --pin-dir "$PINS/client" >/dev/null
client_attach || bad "client attach again"

# Issue 14: a SYN with no room for SAF must not take an advert. The hog
# (saf-test-rogue hog, in a child cgroup so it runs before the client
# program) fills the SYN's option space; the node is a rogue one that puts
# an advert (n3) into its SYN-ACK whatever the SYN said. The control: the
# same rogue node and a SYN that carried SAF.
"$ROGUE" attach "$CG/saf-kc-rogue" "$PINS/rogue" all 10.30.3.2 fd00:30:3::2 || bad "rogue node attach"
mkdir -p "$CG/saf-kc-client/hog"
"$ROGUE" attach "$CG/saf-kc-client/hog" "$PINS/hog" hog 0.0.0.0 :: || bad "hog attach"
run_in saf-kc-rogue saf-kc-n2 python3 "$SRC/tests/lib/echo_server.py" 7000 > /dev/null &
PIDS+=($!)
run_in - saf-kc-n3 python3 "$SRC/tests/lib/echo_server.py" 7000 > /dev/null &
PIDS+=($!)
wait_listen saf-kc-n2 7000; wait_listen saf-kc-n3 7000
echo hi > "$WORK/in"
nr0=$(ctr client_saf_no_room) a0=$(ctr client_adverts)
(run_in saf-kc-client/hog saf-kc-c "$SAF" tcp connect -v "${ALLOW[@]}" --pin-dir "$PINS/client" 10.99.0.1:7000 < "$WORK/in" > "$WORK/out" 2> "$WORK/err")
check "no room for SAF: counted" test "$(ctr client_saf_no_room)" -gt "$nr0"
check "no room for SAF: the rogue advert is not taken ($(cat "$WORK/err"))" grep -q "no_advert: on 10.99.0.1:7000.*SAF not sent" "$WORK/err"
check "no room for SAF: no advert counted" test "$(ctr client_adverts)" -eq "$a0"
check "no room for SAF: no cache entry" test "$(entry 10.99.0.1:7000)" = none
check "no room for SAF: data intact" cmp -s "$WORK/in" "$WORK/out"
(run_in saf-kc-client saf-kc-c "$SAF" tcp connect -v "${ALLOW[@]}" --pin-dir "$PINS/client" 10.99.0.1:7000 < "$WORK/in" > "$WORK/out" 2> "$WORK/err")
check "control: SAF sent, the rogue SYN-ACK's advert is taken" grep -q "migrated: on 10.30.3.2:7000" "$WORK/err"
check "control: and cached" test "$(entry 10.99.0.1:7000)" = 10.30.3.2:7000
"$ROGUE" detach "$PINS/hog"; "$ROGUE" detach "$PINS/rogue"

# --- (c) prefetch: a static binary's first connection goes to U ---------
gcc -static -O2 -o "$WORK/static_get" "$SRC/tests/tcp/static_get.c" || bad "build static_get"
check "the client is statically linked" bash -c "file '$WORK/static_get' | grep -q 'statically linked'"
"$SAF" tcp detach client --pin-dir "$PINS/client" >/dev/null
move_s 2
run_in - saf-kc-c "$SAF" tcp client attach --cgroup "$CG/saf-kc-client" --pin-dir "$PINS/client" \
  --anycast 10.99.0.1 --anycast fd00:99::1 "${ALLOW[@]}" --prefetch 10.99.0.1:8080,2 \
  --prefetch '[fd00:99::1]:8080,2' 2> "$WORK/prefetch.err" &
PREFETCH=$!
PIDS+=("$PREFETCH")
for _ in $(seq 50); do [[ $(entry 10.99.0.1:8080) != none && $(ctr client_prefetch_probes) -ge 1 ]] && break; sleep 0.1; done
check "prefetch: the entry is there before any program connected" test "$(entry 10.99.0.1:8080)" = 10.30.2.2:8080
check "prefetch: probes counted" test "$(ctr client_prefetch_probes)" -ge 1
(run_in saf-kc-client saf-kc-c "$WORK/static_get" 10.99.0.1 8080 /big 6000 > "$WORK/big-static" 2> "$WORK/static.err") &
p=$!
sleep 1.2; move_s 3; sleep 1.2; move_s 2
wait $p; rc=$?
check "static binary: first connection straight to U ($(cat "$WORK/static.err"))" grep -qx "peer 10.30.2.2" "$WORK/static.err"
check "static binary: download across two moves complete (rc $rc) and byte-exact" \
  test $rc -eq 0 -a "$(sha256sum < "$WORK/big-static" | cut -d' ' -f1)" = "$BIG_SHA"
(run_in saf-kc-client saf-kc-c "$WORK/static_get" fd00:99::1 8080 /small > "$WORK/s6" 2> "$WORK/static6.err")
check "static binary, IPv6: first connection straight to U" grep -qx "peer fd00:30:2::2" "$WORK/static6.err"
# New connections follow R1's choice within the interval (2 s here).
move_s 3
for _ in $(seq 40); do [[ $(entry 10.99.0.1:8080) == 10.30.3.2:8080 ]] && break; sleep 0.1; done
check "prefetch: after S moved, the entry follows within the interval" test "$(entry 10.99.0.1:8080)" = 10.30.3.2:8080
n0=$(ctr client_prefetch_probes); sleep 4.2; n1=$(ctr client_prefetch_probes)
check "prefetch: bounded, one probe per service per interval ($((n1 - n0)) in 4.2 s for 2 services)" \
  test $((n1 - n0)) -ge 2 -a $((n1 - n0)) -le 6
kill "$PREFETCH"; wait "$PREFETCH" 2>/dev/null
check "prefetch: ends on SIGTERM, the program stays attached" test -e "$PINS/client/client/link"

echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
