#!/usr/bin/env python3
"""bench/bgp/report.py OUT CHANGES [PREFIX]: bench/bgp's section of the report
(markdown on stdout) from the files bench/bgp/run left in OUT."""
import json
import os
import platform
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def lat_row(label, d, routers):
    if not d:
        return f"| {label} | not measured | | |"
    cells = []
    for r in routers:
        if f"{r}_median" in d:
            cells.append(f"{d[f'{r}_median']} / {d[f'{r}_p99']}")
        else:
            cells.append("-")
    cells += ["-"] * (2 - len(cells))
    both = f"{d['both_median']} / {d['both_p99']}" if "both_median" in d and len(routers) > 1 else "-"
    n = len(d.get("both", []))
    return f"| {label} | " + " | ".join(cells) + f" | {both} | {n} of {d['changes']} |"


def survival_rows(out, name, label_plain, suffix=""):
    rows = []
    base = os.path.join(out, name)
    if not os.path.isdir(base):
        return rows
    shifts = "?"
    try:
        with open(os.path.join(base, "shifts")) as f:
            n, secs = f.read().split()
            shifts = f"{n} load shifts in {secs} s"
    except (OSError, ValueError):
        pass
    for pop in ("plain-tcp", "saf-tcp", "saf-tls"):
        for site, router in (("c", "R1"), ("cb", "R1b")):
            d = load(os.path.join(base, f"{pop}-{site}.json"))
            if not d:
                continue
            label = label_plain if pop == "plain-tcp" else pop + suffix
            lost = d["bytes_sent"] - d["bytes_verified"]
            rows.append(f"| {label} | {router} | {d['survived']}/{d['connections']} "
                        f"({100 * d['survived'] / max(d['connections'], 1):.0f}%) | "
                        f"{d['bytes_verified']} | {lost} | {d['mismatches']} | {shifts} |")
    return rows


def route_changes(out, name):
    """Changes of S's next hop in each router's kernel (ip -ts monitor)."""
    res = []
    for r in ("r1", "r1b"):
        p = os.path.join(out, name, f"monitor-{r}.log")
        if not os.path.exists(p):
            continue
        # demo-bgp starts once both routers send S to n2 (10.2x.2.2)
        prev, n = "2", 0
        for line in open(p):
            f = line.split()
            if len(f) < 3 or f[1] != "10.99.0.1" or "via" not in f:
                continue
            gw = f[f.index("via") + 1].split(".")[2]
            if prev is not None and gw != prev:
                n += 1
            prev = gw
        res.append(f"{'R1' if r == 'r1' else 'R1b'} {n}")
    return ", ".join(res)


def ecmp_rows(out):
    """bench/bgp/ecmp.py: plain connections broken per weight change."""
    d = load(os.path.join(out, "bgp-ecmp.json"))
    if not d:
        return []
    ch = d["changes"]
    ws = sorted({json.dumps(c["before"]) for c in ch} | {json.dumps(c["weights"]) for c in ch})
    return ["", "**Weighted ECMP re-hashing** (`bench/bgp/ecmp.py`, SAF_LAB_BGP_MULTIPATH=1): "
            f"{len(ch)} weight changes on R1, one a second (n4's load 900 <-> 300; R1's kernel "
            f"weights {' <-> '.join(ws)}); before each, {d['connections']} fresh plain TCP "
            "connections to S through R1, each echoing a byte before and after:", "",
            "| connections broken by a weight change | mean | min | max | total |",
            "|---|---:|---:|---:|---:|",
            f"| plain TCP, weighted ECMP | {d['broken_pct_mean']}% | {d['broken_pct_min']}% | "
            f"{d['broken_pct_max']}% | {d['broken_total']} of {d['open_total']} |"]


def state_rows(out):
    rows = []
    for r in ("r1", "r1b"):
        s = load(os.path.join(out, f"bgp-{r}-summary.json")) or {}
        v4 = load(os.path.join(out, f"bgp-{r}-ipv4.json")) or {}
        v6 = load(os.path.join(out, f"bgp-{r}-ipv6.json")) or {}
        try:
            ct = open(os.path.join(out, f"bgp-{r}-conntrack")).read().strip() or "0"
            kr = open(os.path.join(out, f"bgp-{r}-kroutes")).read().strip()
        except OSError:
            ct, kr = "?", "?"
        u4 = s.get("ipv4Unicast", {})
        peers = u4.get("peers", {})
        est = sum(1 for p in peers.values() if p.get("state") == "Established")

        def paths(d):
            per = {pfx: len(ps) for pfx, ps in d.get("routes", {}).items()}
            return ", ".join(f"{p}: {n}" for p, n in per.items()) or "-"
        rows.append(f"| {'R1' if r == 'r1' else 'R1b'} | {ct} | {est} | {u4.get('ribCount', '?')} "
                    f"({u4.get('ribMemory', '?')} B) | {paths(v4)}; {paths(v6)} | "
                    f"{u4.get('peerCount', '?')} peers, {u4.get('peerMemory', '?')} B | {kr} |")
    return rows


def main():
    out, changes = sys.argv[1], sys.argv[2]
    prefix = sys.argv[3] if len(sys.argv) > 3 else "saf-bb"
    md = ["# BGP steering benchmark", "",
          f"Machine: {os.cpu_count()} vCPUs, kernel {platform.release()}; lab prefix {prefix}. "
          "Command: `bench/bgp/run BUILD OUT` (also part of `make bench`). "
          "FRR 8.4 (bgpd + zebra) on R1 and R1b, ExaBGP on the nodes and the scheduler host.", "",
          "## 1. Metric change to the new route in the routers' kernels", "",
          f"ms from the rename of a node's load file (the agents read it every 5 ms and "
          f"send a report at once when the CATS L2 score moves) to the kernel's route "
          f"notification (`ip -ts monitor route` in the router's namespace); {changes} "
          "changes per row, alternating n2/n3. Cells: median / p99. 'both': the later of "
          "the two routers (the change complete everywhere).", "",
          "| mode | R1 | R1b | both | changes seen |", "|---|---:|---:|---:|---:|"]
    md.append(lat_row("direct rtnetlink (scheduler on R1, fast reports)", load(os.path.join(out, "bgp-direct.json")), ["r1"]))
    for name, label in (("tuned", "lab timers: keepalive 1 s, hold 3 s"), ("default", "FRR defaults: 60 s / 180 s")):
        md.append(lat_row(f"distributed BGP, {label}", load(os.path.join(out, f"bgp-dist-{name}.json")), ["r1", "r1b"]))
        md.append(lat_row(f"centralized BGP, {label}", load(os.path.join(out, f"bgp-central-{name}.json")), ["r1", "r1b"]))
    md += ["", "Samples (ms, per router):", ""]
    for f in ("bgp-direct", "bgp-dist-tuned", "bgp-central-tuned", "bgp-dist-default", "bgp-central-default"):
        d = load(os.path.join(out, f + ".json"))
        if d:
            md.append(f"* {f}: " + "; ".join(f"{r} {' '.join(str(x) for x in xs)}" for r, xs in d["samples"].items()))
    md += ["", "## 2. Survival across BGP-driven changes (about 1/s)", "",
           "`scripts/demo-bgp --every 1 --count 10` (distributed mode): 10 streams per "
           "population and client site, every byte echoed and checked.", "",
           "| population | site | survived | bytes verified | bytes lost | mismatches | changes |",
           "|---|---|---:|---:|---:|---:|---|"]
    md += survival_rows(out, "bgp-survival", "plain anycast (baseline)")
    md += survival_rows(out, "bgp-survival-ecmp", "plain TCP, weighted ECMP (baseline)",
                       ", weighted ECMP")
    md += ecmp_rows(out)
    rc = route_changes(out, "bgp-survival")
    if rc:
        md += ["", f"Changes of S's route in the routers' kernels during the run "
               f"(`ip -ts monitor route`): {rc}."]
    md += ["", "## 3. State on the routers (tuned run, scheduler and two nodes announcing)", "",
           "| router | conntrack entries | sessions | RIB entries (memory) | paths per prefix (IPv4; IPv6) | peers | kernel IPv4 routes |",
           "|---|---:|---:|---|---|---|---:|"]
    md += state_rows(out)
    md += ["", "Per-flow state on the routers is 0 B: conntrack is off (notrack) and no "
           "saf process or map runs there; BGP holds one path per node per prefix plus "
           "one per scheduler, whatever the number of flows."]
    print("\n".join(md))


if __name__ == "__main__":
    main()
