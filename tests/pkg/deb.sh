#!/bin/bash
# The Debian package (make deb / cpack): builds it from this build tree
# into a temporary directory, checks its control data (name, version,
# Depends from the real shared-library deps), extracts it with dpkg-deb -x
# into a clean tree and runs the extracted saf --version and --help, and
# checks the files it must ship (units, man pages that render, the Lua
# plugin where Wireshark looks, the example environment files).
set -u
SRC=${SAF_SOURCE_DIR:?} BUILD=${SAF_BUILD_DIR:?}
for t in cpack dpkg-deb dpkg-shlibdeps; do
	command -v $t >/dev/null || { echo "SKIP: $t missing (apt-get install cmake dpkg-dev)"; exit 77; }
done
T=$(mktemp -d /tmp/saf-e-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$T/out" >"$T/cpack.log" 2>&1 ||
	fail "cpack: $(tail -20 "$T/cpack.log")"
deb=$(ls "$T"/out/saf_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "no saf_*.deb in $T/out: $(cat "$T/cpack.log")"
ok "built $(basename "$deb")"
[ "$(dpkg-deb -f "$deb" Package)" = saf ] || fail "package name"
ver=$(dpkg-deb -f "$deb" Version)
dep=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libssl3 libbpf1; do
	echo "$dep" | grep -q "$lib" || fail "Depends lacks $lib: $dep"
done
ok "control: saf $ver, Depends: $dep"
dpkg-deb -x "$deb" "$T/root" || fail "dpkg-deb -x"
R=$T/root
out=$("$R/usr/bin/saf" --version) || fail "extracted saf --version failed"
[ "$out" = "saf $ver" ] || fail "saf --version says '$out', package is $ver"
"$R/usr/bin/saf" --help >/dev/null || fail "extracted saf --help"
ok "extracted /usr/bin/saf runs: $out"
for f in usr/lib/systemd/system/saf-tcp-node@.service usr/lib/systemd/system/saf-tls-serve@.service \
	usr/lib/systemd/system/saf-node-agent.service usr/lib/systemd/system/saf-sched.service \
	usr/share/saf/default/saf-sched usr/share/saf/wireshark/saf.lua \
	usr/lib/x86_64-linux-gnu/wireshark/plugins/saf.lua usr/share/doc/saf/README.md \
	usr/share/man/man1/saf.1 usr/share/man/man1/saf-inspect.1 usr/share/man/man1/saf-token.1 \
	usr/share/man/man1/saf-tls.1 usr/share/man/man8/saf-tcp.8 usr/share/man/man8/saf-sched.8 \
	usr/share/man/man8/saf-lab.8; do
	[ -s "$R/$f" ] || fail "package lacks /$f"
done
ok "units, examples, Lua plugin, docs and man pages present"
cmp -s "$R/usr/share/saf/wireshark/saf.lua" "$SRC/tools/wireshark/saf.lua" || fail "saf.lua differs from the source"
if [ -d "$BUILD/src/bpf" ] && ls "$BUILD"/src/bpf/*.bpf.o >/dev/null 2>&1; then
	for o in "$BUILD"/src/bpf/*.bpf.o; do
		[ -s "$R/usr/lib/saf/bpf/$(basename "$o")" ] || fail "package lacks BPF object $(basename "$o")"
	done
	ok "BPF objects shipped"
fi
# Man pages render without warnings and carry each subcommand's usage.
if command -v groff >/dev/null; then
	for m in "$R"/usr/share/man/man[18]/*; do
		w=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$m" 2>&1)
		[ -z "$w" ] || fail "$(basename "$m"): groff warnings: $w"
	done
	ok "man pages render cleanly with groff -ww"
fi
grep -q 'saf tcp node attach \\-\{0,1\}-cgroup\|saf tcp node attach --cgroup' "$R/usr/share/man/man8/saf-tcp.8" ||
	grep -q 'saf tcp node attach' "$R/usr/share/man/man8/saf-tcp.8" || fail "saf-tcp.8 lacks 'saf tcp node attach'"
grep -q "SSLKEYLOGFILE" "$R/usr/share/man/man1/saf-tls.1" || fail "saf-tls.1 lacks SSLKEYLOGFILE"
ok "man pages carry the subcommands' usage"
