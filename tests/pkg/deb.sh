#!/usr/bin/env bash
# Builds the .debs (make deb's steps: saf, libsaf0, libsaf-dev, saf-lab),
# unpacks them into a scratch tree, runs the packaged saf, checks the
# units, man pages and files each package carries (and only those), and
# compiles an example against the unpacked libsaf-dev.
set -uo pipefail
B=${SAF_BUILD_DIR:?}
command -v help2man >/dev/null || { echo "SKIP: help2man missing (scripts/install-deps installs it)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 passes=0
check() { local n=$1; shift; if "$@"; then echo "ok   - $n"; passes=$((passes+1)); else echo "FAIL - $n"; fails=$((fails+1)); fi; }

cmake --build "$B" --target man >/dev/null 2>&1 || { echo "FAIL - man pages"; exit 1; }
rm -f "$B"/pkg/*.deb
(cd "$B" && cpack -G DEB > "$T/cpack.log" 2>&1) || { cat "$T/cpack.log"; echo "FAIL - cpack"; exit 1; }
deb=$(ls "$B"/pkg/saf_*_amd64.deb | head -1)
check "package built" test -f "$deb"
dpkg-deb -x "$deb" "$T/root"
check "packaged saf runs: --version" bash -c "'$T/root/usr/bin/saf' --version | grep -q '^saf [0-9]'"
check "depends on the shared libraries it links" bash -c "dpkg-deb -f '$deb' Depends | grep -q libbpf1"
for u in saf-tcp-node@.service saf-tls-serve@.service saf-node-agent.service saf-sched.service \
    saf-node-agent-bgp.service saf-sched-bgp.service; do
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
  systemd-analyze verify --man=no "$T"/units/saf-sched.service "$T"/units/saf-node-agent.service \
    "$T"/units/saf-sched-bgp.service "$T"/units/saf-node-agent-bgp.service > "$T/verify" 2>&1
  check "systemd-analyze verify: no errors" bash -c "! grep -v 'Failed to load credential\|EnvironmentFile\|is not executable' '$T/verify' | grep -qi 'error\|invalid\|unknown'"
  cat "$T/verify"
fi
# Every subcommand a unit runs exists and answers --help.
for cmd in "tcp node attach" "tcp detach" "tls serve" "node agent" "sched run"; do
  check "unit command 'saf $cmd' exists" bash -c "'$T/root/usr/bin/saf' $cmd --help >/dev/null"
done

# --- the other packages ------------------------------------------------------
files() { dpkg-deb -c "$1" | awk '{print $6}' | grep -v '/$' | sed 's|^\./||'; }
pkg() { ls "$B"/pkg/"$1"_*_amd64.deb 2>/dev/null | head -1; }
for p in libsaf0 libsaf-dev saf-lab; do
  check "package $p built" test -f "$(pkg "$p")"
done
lib=$(pkg libsaf0) dev=$(pkg libsaf-dev) lab=$(pkg saf-lab)
files "$deb" > "$T/saf.files"; files "$lib" > "$T/lib.files"; files "$dev" > "$T/dev.files"; files "$lab" > "$T/lab.files"
check "saf: no library, header or lab tool" bash -c "! grep -E '/libsaf\\.|include/|bin/saf-' '$T/saf.files'"
# saf run's preload library is a part of the tool, not of libsaf0.
check "saf: the preload library of saf run" grep -q 'lib/saf/libsaf-preload\.so$' "$T/saf.files"
check "libsaf0: exactly libsaf.so.0 and its file" bash -c "[[ \$(cat '$T/lib.files') == \$'usr/lib/libsaf.so.0\nusr/lib/libsaf.so.0.1.0' ]]"
check "libsaf0: shlibs names libsaf0" bash -c "dpkg-deb -I '$lib' shlibs | grep -q '^libsaf 0 libsaf0'"
check "libsaf0: ldconfig trigger" bash -c "dpkg-deb -I '$lib' triggers | grep -q 'activate-noawait ldconfig'"
check "libsaf0: depends on libssl3 and libbpf1" bash -c "dpkg-deb -f '$lib' Depends | grep -q libssl3 && dpkg-deb -f '$lib' Depends | grep -q libbpf1"
for f in usr/lib/pkgconfig/saf.pc usr/include/saf/saf.h usr/include/saf/tls.h usr/include/saf/tcp.h \
         usr/lib/libsaf.a usr/lib/libsaf.so usr/share/man/man3/libsaf.3; do
  check "libsaf-dev: $f" grep -qx "$f" "$T/dev.files"
done
check "libsaf-dev: only headers, saf.pc, libsaf.a, the link and man3" bash -c "! grep -vE '^usr/include/saf/[a-z_]+\.h$|^usr/lib/pkgconfig/saf\.pc$|^usr/lib/libsaf\.(a|so)$|^usr/share/man/man3/' '$T/dev.files'"
check "libsaf-dev: every public header" bash -c "[[ \$(grep -c '^usr/include/saf/' '$T/dev.files') -eq \$(ls '${SAF_SOURCE_DIR:?}'/include/saf/*.h | wc -l) ]]"
check "libsaf-dev: depends on libsaf0 of its version" bash -c "dpkg-deb -f '$dev' Depends | grep -q 'libsaf0 (= '"
check "saf-lab: exactly saf-delay, saf-load, saf-streams" bash -c "[[ \$(cat '$T/lab.files') == \$'usr/bin/saf-delay\nusr/bin/saf-load\nusr/bin/saf-streams' ]]"
check "saf-lab: depends on saf" bash -c "dpkg-deb -f '$lab' Depends | grep -q 'saf (= '"
# An application against the unpacked packages (saf.pc is relocatable).
dpkg-deb -x "$lib" "$T/root"; dpkg-deb -x "$dev" "$T/root"
check "libsaf-dev: an example compiles with its saf.pc" bash -c "cc ${SAF_EXAMPLE_CFLAGS:-} '$SAF_SOURCE_DIR/examples/tcp_client.c' \$(PKG_CONFIG_PATH='$T/root/usr/lib/pkgconfig' pkg-config --cflags --libs saf) -o '$T/tcp_client'"
check "libsaf0: the example runs on it" bash -c "LD_LIBRARY_PATH='$T/root/usr/lib' '$T/tcp_client' 2>&1 | grep -q usage"
echo "$passes passed, $fails failed"
[[ $fails -eq 0 ]]
