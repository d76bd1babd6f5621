#!/usr/bin/env bash
# saf lab itself: up is idempotent, status tells, exec runs inside, the
# NFQUEUE delay helper gives each link its one-way delay, down removes
# everything (prefix saf-lu).
set -uo pipefail
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
SAF=${SAF_BIN:?}
export SAF_LAB_PREFIX=saf-lu SAF_DELAY_BIN=${SAF_BUILD_DIR:?}/saf-delay
trap '"$SAF" lab down >/dev/null 2>&1' EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }
rtt() { "$SAF" lab exec c -- ping -c 4 -i 0.2 -q "$1" | sed -n 's|.*= [0-9.]*/\([0-9]*\)\..*|\1|p'; }

SAF_LAB_DELAY="c=20 r3=5" "$SAF" lab up > /dev/null
check "up" bash -c "ip netns list | grep -q '^saf-lu-r1'"
check "up again: idempotent" bash -c "'$SAF' lab up | grep -q 'already up'"
check "status shows R1's route for S" bash -c "'$SAF' lab status | grep -q '10.99.0.1 via 10.20.2.2'"
check "exec runs inside a namespace" bash -c "'$SAF' lab exec n3 -- ip -br addr | grep -q '10.30.3.2'"
check "exec: unknown name refused" bash -c "! '$SAF' lab exec nope -- true 2>/dev/null"
check "anycast S answers from the client" bash -c "'$SAF' lab exec c -- ping -c1 -W2 10.99.0.1 >/dev/null"
r=$(rtt 10.30.2.2)
check "client link delay 20 ms each way: RTT ${r} ms in 40..55" test "${r:-0}" -ge 40 -a "${r:-0}" -le 55
r=$(rtt 10.30.3.2)
check "plus 5 ms each way on R3's link: RTT ${r} ms in 50..65" test "${r:-0}" -ge 50 -a "${r:-0}" -le 65
check "bad delay spec refused" bash -c "SAF_LAB_PREFIX=saf-lx SAF_LAB_DELAY='q=5' '$SAF' lab up 2>&1 | grep -q 'not LINK=MS'; ! ip netns list | grep -q saf-lx"
"$SAF" lab down > /dev/null
check "down removes every namespace" bash -c "! ip netns list | grep -q saf-lu-"
check "down again: says so" bash -c "'$SAF' lab down | grep -q 'not up'"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
