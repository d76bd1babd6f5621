#!/usr/bin/env python3
"""Idle TCP peers for the admission test (tests/tls/admission.sh): keeps
COUNT connections from SOURCE to HOST:PORT open, sending nothing, for each
SOURCE/HOST:PORT/COUNT given; a connection the server closes is opened
again after --reconnect seconds (as an attacker would). Prints "ready"
once every connection was opened once, and at exit (SIGTERM) one line
"opened N closed_by_server M". Loopback only.
Usage: idle_flood.py [--reconnect S] SRC/HOST:PORT/COUNT..."""
import errno
import selectors
import signal
import socket
import sys
import time


def main():
    args = sys.argv[1:]
    delay = 0.2
    if args[:1] == ["--reconnect"]:
        delay = float(args[1])
        args = args[2:]
    want = []
    for a in args:
        src, dst, n = a.split("/")
        host, port = dst.rsplit(":", 1)
        want += [(src, (host, int(port)))] * int(n)
    sel = selectors.DefaultSelector()
    pending = []  # (when, index)
    opened = closed = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    def open_one(i):
        nonlocal opened
        src, dst = want[i]
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((src, 0))
        err = s.connect_ex(dst)
        if err not in (0, errno.EINPROGRESS):
            s.close()
            pending.append((time.monotonic() + delay, i))
            return
        sel.register(s, selectors.EVENT_READ, i)
        opened += 1

    for i in range(len(want)):
        open_one(i)
    print("ready", flush=True)
    while not stop:
        for key, _ in sel.select(0.05):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if data:
                continue  # whatever the server says, stay silent
            sel.unregister(s)
            s.close()
            closed += 1
            pending.append((time.monotonic() + delay, key.data))
        now = time.monotonic()
        due = [p for p in pending if p[0] <= now]
        pending[:] = [p for p in pending if p[0] > now]
        for _, i in due:
            open_one(i)
    print(f"opened {opened} closed_by_server {closed}", flush=True)


if __name__ == "__main__":
    main()
