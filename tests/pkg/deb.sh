#!/usr/bin/env bash
# Builds the .deb (make deb's steps), unpacks it into a scratch tree, runs
# the packaged saf, and checks the units, man pages and files it carries.
set -uo pipefail
B=${SAF_BUILD_DIR:?}
command -v help2man >/dev/null || { echo "SKIP: help2man missing (scripts/install-deps installs it)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }

cmake --build "$B" --target man >/dev/null 2>&1 || { echo "FAIL - man pages"; exit 1; }
(cd "$B" && cpack -G DEB > "$T/cpack.log" 2>&1) || { cat "$T/cpack.log"; echo "FAIL - cpack"; exit 1; }
deb=$(ls "$B"/pkg/saf_*_amd64.deb | head -1)
check "package built" test -f "$deb"
dpkg-deb -x "$deb" "$T/root"
check "packaged saf runs: --version" bash -c "'$T/root/usr/bin/saf' --version | grep -q '^saf [0-9]'"
check "depends on the shared libraries it links" bash -c "dpkg-deb -f '$deb' Depends | grep -q libbpf1"
for u in saf-tcp-node@.service saf-tls-serve@.service saf-node-agent.service saf-sched.service; do
  check "unit $u shipped" test -f "$T/root/usr/lib/systemd/system/$u"
done
for m in man1/saf.1 man8/saf-tcp.8 man1/saf-tls-serve.1 man8/saf-sched.8 man8/saf-node.8; do
  check "man page $m" test -s "$T/root/usr/share/man/$m"
done
check "man page text comes from --help" grep -q 'anycast' "$T/root/usr/share/man/man8/saf-tcp-node.8"
check "lab script shipped where saf lab finds it" test -x "$T/root/usr/share/saf/lab"

# The units, checked by systemd itself against the unpacked binary.
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$T/units"
  for u in "$T"/root/usr/lib/systemd/system/*.service; do
    sed "s|/usr/bin/saf|$T/root/usr/bin/saf|g" "$u" > "$T/units/$(basename "$u")"
  done
  systemd-analyze verify --man=no "$T"/units/saf-sched.service "$T"/units/saf-node-agent.service > "$T/verify" 2>&1
  check "systemd-analyze verify: no errors" bash -c "! grep -v 'Failed to load credential\|EnvironmentFile\|is not executable' '$T/verify' | grep -qi 'error\|invalid\|unknown'"
  cat "$T/verify"
fi
# Every subcommand a unit runs exists and answers --help.
for cmd in "tcp node attach" "tcp detach" "tls serve" "node agent" "sched run"; do
  check "unit command 'saf $cmd' exists" bash -c "'$T/root/usr/bin/saf' $cmd --help >/dev/null"
done
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
