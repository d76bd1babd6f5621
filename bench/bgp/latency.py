#!/usr/bin/env python3
"""bench/bgp: from a metric change at a node to the new route for S in
the ingress routers' kernels.

latency.py PREFIX LOADDIR ROUTERS CHANGES OUT.json

Watches `ip -ts monitor route` in each router's namespace (the kernel's
own notification, timestamped by ip on receipt), then CHANGES times makes
the other of n2/n3 the lightest (rename of the load files the agents
read every 5 ms: load 100 for the new best, 500 for the old) and waits
until every router's kernel has a route for 10.99.0.1 via that node.
Latency per router and change: the route notification's timestamp minus
the time of the rename. Writes every sample and the median/p99 per
router and of the slower router (the change complete at both)."""
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime

LINE = re.compile(r"^\[(\S+)\]\s+(Deleted )?10\.99\.0\.1 .*via 10\.2[01]\.(\d)\.2")


def watch(prefix, router, q):
    p = subprocess.Popen(["ip", "netns", "exec", f"{prefix}-{router}", "ip", "-ts", "monitor", "route"],
                         stdout=subprocess.PIPE, text=True, bufsize=1)

    def reader():
        for line in p.stdout:
            m = LINE.match(line)
            if m and not m.group(2):
                t = datetime.fromisoformat(m.group(1)).timestamp()
                q.put((router, t, int(m.group(3))))
    threading.Thread(target=reader, daemon=True).start()
    return p


def set_loads(d, best):
    for k, load in ((best, 100), (5 - best, 500)):
        tmp = os.path.join(d, f"load{k}.tmp")
        with open(tmp, "w") as f:
            f.write(f"{load}\n")
        os.rename(tmp, os.path.join(d, f"load{k}"))


def current(prefix, router):
    out = subprocess.run(["ip", "netns", "exec", f"{prefix}-{router}", "ip", "-4", "route", "show",
                          "10.99.0.1/32"], capture_output=True, text=True).stdout
    m = re.search(r"via 10\.2[01]\.(\d)\.2", out)
    return int(m.group(1)) if m else None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def main():
    prefix, loaddir, routers, changes, out = sys.argv[1], sys.argv[2], sys.argv[3].split(","), \
        int(sys.argv[4]), sys.argv[5]
    q = queue.Queue()
    procs = [watch(prefix, r, q) for r in routers]
    time.sleep(0.5)
    best = current(prefix, routers[0]) or 2
    samples = {r: [] for r in routers}
    slowest, missed = [], 0
    for _ in range(changes):
        best = 5 - best if best in (2, 3) else 2
        while not q.empty():
            q.get_nowait()
        t0 = time.time()
        set_loads(loaddir, best)
        seen = {}
        deadline = t0 + 10
        while len(seen) < len(routers) and time.time() < deadline:
            try:
                r, t, node = q.get(timeout=0.2)
            except queue.Empty:
                continue
            if node == best and r not in seen and t >= t0 - 0.001:
                seen[r] = (t - t0) * 1000
        if len(seen) < len(routers):
            missed += 1
        for r, ms in seen.items():
            samples[r].append(round(ms, 2))
        if seen:
            slowest.append(round(max(seen.values()), 2))
        time.sleep(0.4)
    for p in procs:
        p.terminate()
    res = {"changes": changes, "missed": missed, "samples": samples, "both": slowest}
    for k, xs in list(samples.items()) + [("both", slowest)]:
        if xs:
            res[f"{k}_median"] = round(statistics.median(xs), 1)
            res[f"{k}_p99"] = round(pct(xs, 99), 1)
    with open(out, "w") as f:
        json.dump(res, f)
    print(json.dumps({k: v for k, v in res.items() if k not in ("samples", "both")}))


if __name__ == "__main__":
    main()
