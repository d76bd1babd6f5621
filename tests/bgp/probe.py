#!/usr/bin/env python3
"""A steady probe for the BGP fault tests: a new TCP connection to
ADDR:7000 every INTERVAL seconds until STOPFILE exists; one line per
attempt, "MS_SINCE_START NODE" (the name the node's server sends) or
"MS_SINCE_START FAIL REASON"."""
import os
import socket
import sys
import time

addr, interval, stopfile = sys.argv[1], float(sys.argv[2]), sys.argv[3]
t0 = time.monotonic()
while not os.path.exists(stopfile):
    ms = int((time.monotonic() - t0) * 1000)
    try:
        with socket.create_connection((addr, 7000), timeout=1) as s:
            name = s.recv(16).decode() or "FAIL empty"
    except OSError as e:
        name = "FAIL " + type(e).__name__
    print(ms, name, flush=True)
    time.sleep(interval)
