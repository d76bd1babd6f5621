#!/usr/bin/env python3
"""bench/bgp: how many plain TCP connections weighted ECMP breaks when
the next hops' weights change (the kernel re-hashes every packet; a flow
whose hash now falls in another node's share reaches a node without its
socket and is reset).

ecmp.py PREFIX LOADDIR N CHANGES OUT.json   (run in the client's namespace)

R1's kernel spreads S over n2, n3, n4 by the link bandwidth the nodes
announce. CHANGES times, once a second: open N plain connections to
10.99.0.1:7000 (an echo server on every node), check each echoes a byte,
move n4's load between 900 and 300 (its L2 score 4 <-> 7; n2 and n3
stay), wait for R1's weights to change, and echo a byte on each again: a
reset or no echo within 1 s counts as broken by that change. Writes the
weights before and after, the breaks per change, and their share."""
import json
import os
import socket
import subprocess
import sys
import time

ANY, PORT = "10.99.0.1", 7000


def weights(prefix):
    out = subprocess.run(["ip", "netns", "exec", f"{prefix}-r1", "ip", "-j", "route", "show",
                          f"{ANY}/32"], capture_output=True, text=True).stdout
    w = {}
    for r in json.loads(out or "[]"):
        for nh in r.get("nexthops") or [{"gateway": r.get("gateway", "?.?.?"), "weight": 1}]:
            w["n" + nh["gateway"].split(".")[2]] = nh.get("weight", 1)
    return dict(sorted(w.items()))


def set_load(d, k, load):
    tmp = os.path.join(d, f"load{k}.tmp")
    with open(tmp, "w") as f:
        f.write(f"{load}\n")
    os.rename(tmp, os.path.join(d, f"load{k}"))


def connect():
    try:
        s = socket.create_connection((ANY, PORT), timeout=2)
    except OSError:
        return None
    s.settimeout(1)
    return s


def alive(s):
    try:
        s.sendall(b"x")
        return s.recv(1) == b"x"
    except OSError:
        return False


def main():
    prefix, loaddir, n, changes, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        int(sys.argv[4]), sys.argv[5]
    res = {"connections": n, "changes": [], "weights0": weights(prefix)}
    load = 300
    for _ in range(changes):
        # fresh connections every round, opened under the current weights:
        # survivors of earlier rounds sit where the hash never moves
        live = [s for s in (connect() for _ in range(n)) if s and alive(s)]
        t0 = time.monotonic()
        before = weights(prefix)
        set_load(loaddir, 4, load)
        load = 900 if load == 300 else 300
        while weights(prefix) == before and time.monotonic() - t0 < 0.8:
            time.sleep(0.02)
        after = weights(prefix)
        time.sleep(0.1)  # the kernel has it; let a stray reset arrive
        broken = sum(1 for s in live if not alive(s))
        res["changes"].append({"before": before, "weights": after, "changed": after != before,
                               "open": len(live), "broken": broken})
        for s in live:
            s.close()
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
    moved = [c["broken"] / c["open"] for c in res["changes"] if c["open"] and c["changed"]]
    res["broken_pct_mean"] = round(100 * sum(moved) / len(moved), 1) if moved else None
    res["broken_pct_min"] = round(100 * min(moved), 1) if moved else None
    res["broken_pct_max"] = round(100 * max(moved), 1) if moved else None
    res["broken_total"] = sum(c["broken"] for c in res["changes"])
    res["open_total"] = sum(c["open"] for c in res["changes"])
    with open(out, "w") as f:
        json.dump(res, f)
    print(json.dumps({k: v for k, v in res.items() if k != "changes"}))


if __name__ == "__main__":
    main()
