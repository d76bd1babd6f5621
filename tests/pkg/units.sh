#!/bin/bash
# dist/systemd units: systemd-analyze verify accepts each (any message on
# stderr, such as an unknown key, fails), every ExecStart/ExecStop names a
# saf subcommand that exists (saf <cmd...> --help exits 0), and each unit's
# EnvironmentFile has an example in dist/default/.
set -u
SRC=${SAF_SOURCE_DIR:?} SAF=${SAF_BIN:?}
T=$(mktemp -d /tmp/saf-e-units.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
units=("$SRC"/dist/systemd/*.service)
[ ${#units[@]} -ge 4 ] || fail "expected at least 4 units, found ${#units[@]}"
for u in "${units[@]}"; do
	b=$(basename "$u"); b=${b/@./@example.}
	sed "s#/usr/bin/saf#$SAF#g" "$u" >"$T/$b"
done
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify --man=no "$T"/*.service >"$T/verify.out" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T/verify.out")"
	[ -s "$T/verify.out" ] && fail "systemd-analyze verify complains: $(cat "$T/verify.out")"
	ok "systemd-analyze verify: ${#units[@]} units clean"
else
	echo "note: systemd-analyze missing, only the command checks run"
fi
for u in "${units[@]}"; do
	n=0
	while IFS= read -r line; do
		cmd=${line#*=}
		[ "${cmd%% *}" = /usr/bin/saf ] || continue
		words=()
		for w in ${cmd#/usr/bin/saf }; do
			case $w in -* | \$* | \%*) break ;; esac
			words+=("$w")
		done
		# "saf tcp detach node": the trailing positional is an argument.
		[ "${words[*]:0:2}" = "tcp detach" ] && words=(tcp detach)
		"$SAF" "${words[@]}" --help >/dev/null 2>&1 ||
			fail "$(basename "$u"): 'saf ${words[*]}' is not a saf command"
		n=$((n + 1))
	done < <(grep -E '^Exec(Start|Stop)=' "$u")
	[ $n -ge 1 ] || fail "$(basename "$u"): no saf command"
	env=$(sed -n 's/^EnvironmentFile=-\{0,1\}//p' "$u")
	ex=$(basename "${env//-%i/}")
	[ -f "$SRC/dist/default/$ex" ] || fail "$(basename "$u"): no dist/default/$ex"
	ok "$(basename "$u"): $n saf command(s) exist, example $ex present"
done
# Capabilities: the least each needs.
grep -q '^CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_SYS_ADMIN\( CAP_PERFMON\)\{0,1\}$' "$SRC/dist/systemd/saf-tcp-node@.service" || fail "tcp node caps"
grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN$' "$SRC/dist/systemd/saf-sched.service" || fail "sched caps"
grep -q '^CapabilityBoundingSet=$' "$SRC/dist/systemd/saf-node-agent.service" || fail "agent caps"
grep -q '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' "$SRC/dist/systemd/saf-tls-serve@.service" || fail "tls caps"
ok "capability sets as documented"
# The BGP units (docs/bgp.md): the speaker is an outgoing TCP client, so
# no capability; ExaBGP is Python, so no MemoryDenyWriteExecute.
for u in saf-node-agent-bgp.service saf-sched-bgp.service; do
	f=$SRC/dist/systemd/$u
	[ -f "$f" ] || fail "$u missing"
	grep -q '^CapabilityBoundingSet=$' "$f" || fail "$u caps"
	grep -q '^ExecStart=.* --bgp exabgp' "$f" || fail "$u: no --bgp exabgp"
	grep -q '^MemoryDenyWriteExecute' "$f" && fail "$u: MemoryDenyWriteExecute breaks Python"
done
ok "BGP units: no capability, ExaBGP as the speaker"
