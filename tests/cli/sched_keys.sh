#!/usr/bin/env bash
# The scheduler's key files (saf sched run --keys FILE, saf node agent
# --key FILE) go through the one secret-file loader (saf/keyfile.h): a
# symbolic link, a group- or other-readable file, a file of another user
# and a FIFO are refused with a usage error that names the file and the
# cause, before any socket or route is touched. No root, no namespace.
set -uo pipefail
saf=${SAF_BIN:?SAF_BIN must point at the saf binary}
failures=0
out="" err="" rc=0
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

run() {
	out=$("$saf" "$@" 2>"$d/err")
	rc=$?
	err=$(cat "$d/err")
}

check() { # check DESCRIPTION WANT_RC STDERR_SUBSTRING
	if [[ $rc -ne $2 || $err != *"$3"* ]]; then
		echo "FAIL: $1: exit $rc (want $2), stderr '$err' (want '$3')"
		failures=$((failures + 1))
	elif [[ $2 -eq 2 && ( $err != saf:* || $(wc -l <<<"$err") -ne 1 ) ]]; then
		echo "FAIL: $1: usage error is not one 'saf: ...' line: '$err'"
		failures=$((failures + 1))
	else
		echo "ok: $1"
	fi
}

key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
printf 'n2 %s\n' "$key" >"$d/keys" && chmod 600 "$d/keys"
printf '%s\n' "$key" >"$d/key" && chmod 600 "$d/key"
ln -s "$d/keys" "$d/keys-link"
ln -s "$d/key" "$d/key-link"
mkfifo -m 600 "$d/fifo"

sched() { # --duration keeps a scheduler that wrongly starts from running on
	run sched run --anycast 192.0.2.1 --node n2=127.0.0.2 --listen 127.0.0.1:1 \
		--state "$d/state.json" --duration 0.001 --keys "$@"
}
agent() {
	run node agent --name n2 --sched 127.0.0.1:9 --duration 0.001 --key "$@"
}

sched "$d/keys-link"
check "sched --keys: a symbolic link is refused" 2 "key file $d/keys-link: a symbolic link"
agent "$d/key-link"
check "agent --key: a symbolic link is refused" 2 "key file $d/key-link: a symbolic link"

chmod 640 "$d/keys" "$d/key"
sched "$d/keys"
check "sched --keys: a group-readable file is refused" 2 "key file $d/keys: mode 640 lets others read it; chmod 600"
agent "$d/key"
check "agent --key: a group-readable file is refused" 2 "key file $d/key: mode 640 lets others read it; chmod 600"
chmod 604 "$d/keys"
sched "$d/keys"
check "sched --keys: an other-readable file is refused" 2 "mode 604 lets others read it; chmod 600"
chmod 600 "$d/keys" "$d/key"

sched "$d/fifo"
check "sched --keys: a FIFO is refused (and does not hang)" 2 "key file $d/fifo: not a regular file"
sched "$d/none"
check "sched --keys: a missing file" 2 "key file $d/none: No such file or directory"
if [[ $(id -u) -eq 0 ]]; then
	chown 65534 "$d/keys"
	sched "$d/keys"
	check "sched --keys: another user's file is refused" 2 "owned by uid 65534, neither this user (uid 0) nor root"
	chown 0 "$d/keys"
fi

echo "$failures failure(s)"
[[ $failures -eq 0 ]]
