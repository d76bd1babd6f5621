#!/usr/bin/env python3
"""A discard backend, and a timed upload through a stdio client.

  throughput.py sink PORT             accept; read and drop until EOF
  throughput.py push MB -- CMD...     feed MB of zeros to CMD's stdin, wait
                                      for it to exit (the node closes after
                                      the backend saw EOF); print MB/s"""
import socket
import subprocess
import sys
import threading
import time


def sink(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(64)
    print("listening", flush=True)

    def drain(c):
        buf = bytearray(1 << 20)
        while c.recv_into(buf):
            pass
        c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=drain, args=(c,), daemon=True).start()


def push(mb, argv):
    chunk = bytes(1 << 20)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(mb):
        p.stdin.write(chunk)
    p.stdin.close()
    err = p.stderr.read()
    rc = p.wait()
    dt = time.monotonic() - t0
    if rc:
        sys.exit("push: %s exited %d: %s" % (argv[0], rc, err.decode()))
    print("%.1f" % (mb / dt))


if sys.argv[1] == "sink":
    sink(int(sys.argv[2]))
else:
    push(int(sys.argv[2]), sys.argv[sys.argv.index("--") + 1:])
