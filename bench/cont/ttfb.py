#!/usr/bin/env python3
"""Time to first byte of one request/response, as an application sees it.

  ttfb.py tcp HOST PORT N        plain TCP: connect, send, first byte back
  ttfb.py cmd N -- CMD...        a stdio client (saf tls connect ...): start
                                 it, write one line, wait for the first byte
                                 it prints

Prints one JSON object: the times in ms, and for saf's stream clients the
stall of their move (the "last stall N us" of -v) when they report one.
Process start-up is included for cmd (the same for every saf variant)."""
import json
import re
import socket
import subprocess
import sys
import time


def tcp(host, port, n):
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(b"x\n")
        s.recv(1)
        out.append((time.monotonic() - t0) * 1000)
        s.close()
    return {"ms": out}


def cmd(n, argv):
    times, stalls = [], []
    for _ in range(n):
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(b"x\n")
        p.stdin.flush()
        b = p.stdout.read(1)
        t = (time.monotonic() - t0) * 1000
        time.sleep(0.4)  # let a stream client finish its move (stall)
        p.stdin.close()
        p.stdout.read()
        err = p.stderr.read()
        p.wait(timeout=20)
        if b != b"x":
            sys.exit("ttfb: no echo from %s: %s" % (argv[0], err.decode()))
        times.append(t)
        m = re.findall(rb"last stall (\d+) us", err)
        if m:
            stalls.append(int(m[-1]) / 1000)
    return {"ms": times, "stall_ms": stalls}


def main():
    if sys.argv[1] == "tcp":
        r = tcp(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        r = cmd(int(sys.argv[2]), sys.argv[sys.argv.index("--") + 1:])
    print(json.dumps(r))


main()
