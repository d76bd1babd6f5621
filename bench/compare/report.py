#!/usr/bin/env python3
"""Turns bench/compare results (JSON lines) into compare.md and SVG bar
charts, with ratios against plain anycast measured in the same run."""
import json
import os
import platform
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
    md = ["# saf against the alternatives", "",
          f"Machine: {os.cpu_count()} vCPUs, kernel {platform.release()}. "
          "Command: `bench/compare/run BUILD OUT` (part of `make bench`); lab topology of "
          "`docs/lab.md`, no added delay. One run; every system measured in it.", ""]

    md += ["## 1. Per-flow state held by R1", "",
           "| system | connections held | R1 conntrack entries | bytes on R1 |", "|---|---:|---:|---:|"]
    series = []
    for r in rows:
        if r["fig"] == "state":
            md.append(f"| {r['system']} | {r['held']} | {r['entries']} | {r['bytes']} |")
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

    md += ["## 4, 5. Connection rate and time to a usable connection", "",
           "| system | connections/s | ratio to plain | median time to usable connection | p99 |",
           "|---|---:|---:|---:|---:|"]
    base = next((r["result"]["per_second"] for r in rows if r["fig"] == "rate" and r["system"] == "plain"), None)
    series = []
    for r in rows:
        if r["fig"] == "rate":
            x = r["result"]
            ratio = f"{x['per_second'] / base:.2f}" if base else "-"
            md.append(f"| {r['system']} | {x['per_second']:.0f} | {ratio} | {x['median_us']:.0f} us | {x['p99_us']:.0f} us |")
            series.append((r["system"], round(x["per_second"])))
    bars("Connections per second (one client thread)", "/s", series, os.path.join(out, "compare-rate.svg"))
    md += ["", "![rate](compare-rate.svg)", "",
           "saf-tcp's connection is usable after two handshakes (S, then the unicast address): "
           "one more round trip than plain TCP, by design of the seed procedure.", ""]
    with open(os.path.join(out, "compare.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
