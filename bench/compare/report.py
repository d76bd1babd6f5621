#!/usr/bin/env python3
"""Turns bench/compare results (JSON lines) into compare.md and SVG bar
charts, with ratios against plain anycast measured in the same run."""
import json
import os
import platform
import statistics
import sys


def bars(title, unit, series, path):
    """A minimal horizontal bar chart: series = [(label, value)]."""
    w, left, row = 720, 260, 26
    h = 50 + row * len(series)
    top = max([v for _, v in series] + [1e-9])
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<text x="10" y="20" font-size="14">{title}</text>']
    for i, (label, v) in enumerate(series):
        y = 35 + i * row
        bw = (w - left - 90) * (v / top)
        out.append(f'<text x="10" y="{y + 14}">{label}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{bw:.1f}" height="18" fill="#4e79a7"/>')
        out.append(f'<text x="{left + bw + 5:.1f}" y="{y + 14}">{v:g} {unit}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    out = sys.argv[2]
    conf = sys.argv[3] if len(sys.argv) > 3 else ""
    md = ["# saf against the alternatives", "",
          f"Machine: {os.cpu_count()} vCPUs, kernel {platform.release()}; shared with other "
          "builds and tests while it ran, so absolute numbers are noisy: compare the systems "
          "by their ratios, measured side by side in this run. "
          f"Command: `bench/compare/run BUILD OUT` (part of `make bench`), settings `{conf}`; lab topology of "
          "`docs/lab.md`, no added delay (figures 3 and 4 with a delay are in wan.md).", ""]

    md += ["## 1. Per-flow state held by R1", "",
           "`bench_hold connect S N MODE` opens N idle connections from one client process; "
           "R1's state is read once they are all open.", "",
           "| system | target | connections held | R1 conntrack entries | bytes on R1 | why fewer |",
           "|---|---:|---:|---:|---:|---|"]
    series = []
    for r in rows:
        if r["fig"] == "state":
            why = "" if r["held"] >= r["n"] else f"{r.get('failed', 0)} failed: {r.get('why', '?')}"
            md.append(f"| {r['system']} | {r['n']} | {r['held']} | {r['entries']} | {r['bytes']} | {why} |")
            series.append((f"{r['system']} n={r['n']}", r["bytes"]))
    bars("Per-flow state on R1 (bytes)", "B", series, os.path.join(out, "compare-state.svg"))
    md += ["", "![state](compare-state.svg)", "",
           "Bytes: conntrack entries times the nf_conntrack object size from /proc/slabinfo (256 B when the slab is merged and not listed). saf and plain anycast keep nothing per flow on R1 (the lab's R1 runs with `notrack`); "
           "the conntrack load balancer keeps one entry per connection. MPTCP keeps no state on R1 "
           "either; its state lives in both endpoints.", ""]

    md += ["## 2. Survival while R1 changes its choice", "",
           "| system | changes/s | changes | connections | survived | share | bytes lost |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    series = []
    for r in rows:
        if r["fig"] == "survival":
            share = r["survived"] / r["connections"] if r["connections"] else 0
            md.append(f"| {r['system']} | {r['rate']:g} | {r['changes']} | {r['connections']} | "
                      f"{r['survived']} | {share:.0%} | {r['bytes_lost']} |")
            series.append((f"{r['system']} @ {r['rate']:g}/s", round(100 * share)))
    bars("Long-lived connections surviving re-scheduling (%)", "%", series,
         os.path.join(out, "compare-survival.svg"))
    md += ["", "![survival](compare-survival.svg)", ""]

    rate = [r for r in rows if r["fig"] == "rate"]
    systems = list(dict.fromkeys(r["system"] for r in rate))
    reps = max([r.get("rep", 1) for r in rate] + [0])
    md += ["## 5. Connection rate and CPU per connection", "",
           "`bench_conn MODE S secs N`: one client thread opens a connection with the system's own "
           "procedure, has one byte echoed, closes with RST, and repeats. CPU per connection: "
           "growth of cgroup v2 `cpu.stat` usage_usec of the three node cgroups (servers: "
           "`bench_conn serve`, plus `saf tls serve` for saf-tls) and of the client's, over the "
           "run, divided by the connections (softirq work is charged to whichever task was "
           f"running, so this is approximate). Median of {reps} rounds, systems interleaved; "
           "ratios against plain anycast in the same round, then the median.", "",
           "| system | connections/s | ratio to plain | median time to first byte | node CPU per connection | client CPU per connection | failed |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    series = []
    for s_ in systems:
        v = [r for r in rate if r["system"] == s_ and r["result"]["connections"]]
        if not v:
            md.append(f"| {s_} | 0 | - | - | - | - | all |")
            continue
        ps = statistics.median([r["result"]["per_second"] for r in v])
        ratios = []
        for r in v:
            b = next((x for x in rate if x["system"] == "plain" and x.get("rep") == r.get("rep")), None)
            if b and b["result"]["per_second"]:
                ratios.append(r["result"]["per_second"] / b["result"]["per_second"])
        ttfb = statistics.median([r["result"]["median_us"] for r in v])
        ncpu = statistics.median([r["node_cpu_us"] / r["result"]["connections"] for r in v])
        ccpu = statistics.median([r["client_cpu_us"] / r["result"]["connections"] for r in v])
        failed = sum(r["result"]["failed"] for r in v)
        md.append(f"| {s_} | {ps:.0f} | {statistics.median(ratios) if ratios else 0:.2f} | {ttfb:.0f} us | "
                  f"{ncpu:.0f} us | {ccpu:.0f} us | {failed} |")
        series.append((s_, round(ps)))
    tl = {x: statistics.median([r["result"]["per_second"] for r in rate if r["system"] == x])
          for x in ("tls", "saf-tls") if any(r["system"] == x for r in rate)}
    if len(tl) == 2 and tl["tls"]:
        md += ["", f"saf-tls against plain TLS 1.3 through the same `saf tls serve`: "
               f"{tl['saf-tls'] / tl['tls']:.2f} of its rate ({tl['saf-tls']:.0f}/s against "
               f"{tl['tls']:.0f}/s). saf-tls does a full handshake with S, waits for the ticket "
               "with the token, then resumes at the node: two handshakes per connection, the "
               "second one cheaper (resumption). Both rates are CPU-bound on this 2-core "
               "machine (client, node and R1 share it).", ""]
    if "saf-tls-tcp" in systems:
        md += ["", "saf-tls-tcp is TLS over saf TCP: the advert in the SYN-ACK moves the client to "
               "the node's unicast address before its ClientHello (an extra TCP connection, as "
               "saf-tcp), then one full handshake there; no ticket wait, no resumption. Its "
               "node and client CPU per connection against saf-tls's is the handshake cost of "
               "the two procedures on the real path (TCP and eBPF included); "
               "`bench_hs_cpu` gives the TLS part alone, docs/bench.md.", ""]
    bars("Connections per second to the first echoed byte (one client thread)", "/s", series,
         os.path.join(out, "compare-rate.svg"))
    md += ["", "![rate](compare-rate.svg)", "",
           "saf-tcp opens two connections per use (S, then the node's unicast address: one more "
           "handshake, by design of the seed procedure); saf-tls a full handshake with S and a "
           "resumption with the node; MPTCP adds a joined subflow after ADD_ADDR.", ""]
    with open(os.path.join(out, "compare.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
