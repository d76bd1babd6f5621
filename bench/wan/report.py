#!/usr/bin/env python3
"""bench/wan results (JSON lines) -> wan.md, wan-window.svg, wan-ttfb.svg.
Usage: report.py RESULTS OUT RTT_MS DELAY TRIES HOLD_MS TTFB_N REPS"""
import json
import os
import platform
import statistics
import sys

COLORS = {"plain": "#e15759", "saf-tcp": "#4e79a7", "saf-tls": "#59a14f",
          "mptcp": "#f28e2b", "tls": "#b07aa1", "saf-tcp-cached": "#76b7b2",
          "saf-tls-cont": "#9c755f", "saf-tls-tcp": "#edc948"}



def window_svg(systems, ts, share, path, rtt):
    """Share of broken connections against t, one line per system."""
    w, h, l, r, t, b = 720, 340, 60, 150, 30, 50
    xmax = max(ts) or 1
    X = lambda x: l + (w - l - r) * x / xmax
    Y = lambda y: t + (h - t - b) * (1 - y)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
         f'<text x="10" y="18" font-size="14">Share of connections broken by a route change t ms after the first SYN (RTT {rtt:.0f} ms)</text>',
         f'<line x1="{l}" y1="{Y(0)}" x2="{w - r}" y2="{Y(0)}" stroke="#000"/>',
         f'<line x1="{l}" y1="{Y(0)}" x2="{l}" y2="{Y(1)}" stroke="#000"/>']
    for y in (0, 0.5, 1):
        o.append(f'<text x="{l - 35}" y="{Y(y) + 4:.1f}">{y:.0%}</text>')
    k = 0
    while k * rtt <= xmax and rtt > 0:  # RTT gridlines
        o.append(f'<line x1="{X(k * rtt):.1f}" y1="{Y(0)}" x2="{X(k * rtt):.1f}" y2="{Y(1)}" stroke="#ccc" stroke-dasharray="3,3"/>')
        o.append(f'<text x="{X(k * rtt) - 10:.1f}" y="{Y(0) + 30}" fill="#777">{k} RTT</text>')
        k += 1
    for x in ts:
        o.append(f'<text x="{X(x) - 8:.1f}" y="{Y(0) + 15}" font-size="9">{x:g}</text>')
    for i, s in enumerate(systems):
        c = COLORS.get(s, "#333")
        # offset each line a little so overlapping ones stay visible
        pts = " ".join(f"{X(x):.1f},{Y(share[s][x]) - 2 * i:.1f}" for x in ts if x in share[s])
        o.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="2"/>')
        o.append(f'<text x="{w - r + 10}" y="{t + 20 + 18 * i}" fill="{c}">{s}</text>')
    o.append(f'<text x="{(l + w - r) / 2 - 20:.0f}" y="{h - 5}">t (ms)</text></svg>')
    open(path, "w").write("\n".join(o))


def bars(title, unit, series, path):
    w, left, row = 720, 200, 26
    h = 50 + row * len(series)
    top = max([v for _, v in series] + [1e-9])
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
         f'<text x="10" y="20" font-size="14">{title}</text>']
    for i, (label, v) in enumerate(series):
        y = 35 + i * row
        bw = (w - left - 120) * (v / top)
        o.append(f'<text x="10" y="{y + 14}">{label}</text>')
        o.append(f'<rect x="{left}" y="{y}" width="{bw:.1f}" height="18" fill="#4e79a7"/>')
        o.append(f'<text x="{left + bw + 5:.1f}" y="{y + 14}">{v:g} {unit}</text>')
    o.append("</svg>")
    open(path, "w").write("\n".join(o))


def main():
    res, out, rtt, delay, tries, hold, ttfb_n, reps = sys.argv[1:9]
    rtt = float(rtt)
    rows = [json.loads(l) for l in open(res) if l.strip()]
    md = ["# Figures 3 and 4: exposure window and time to first byte (lab with a link delay)", "",
          f"Machine: {os.cpu_count()} vCPUs, kernel {platform.release()}; shared with other builds "
          "and tests while it ran, so absolute numbers are noisy. "
          f"Lab of `docs/lab.md` with `SAF_LAB_DELAY=\"{delay}\"` (one-way delay on the client's "
          f"link, applied at R1): measured RTT client to node {rtt:.1f} ms (ping). "
          "Command: `bench/wan/run BUILD OUT` (part of `make bench`; prefix saf-bx).", ""]

    win = [r for r in rows if r["fig"] == "window"]
    systems = list(dict.fromkeys(r["system"] for r in win))
    ts = sorted({r["t_ms"] for r in win})
    share, largest, offs = {}, {}, []
    for s in systems:
        share[s] = {}
        for t in ts:
            v = [r for r in win if r["system"] == s and r["t_ms"] == t]
            if v:
                share[s][t] = sum(r["broken"] for r in v) / len(v)
        brk = [t for t in ts if share[s].get(t, 0) > 0]
        largest[s] = max(brk) if brk else None
    for r in win:
        if r["actual_us"] >= 0:
            offs.append(r["actual_us"] / 1000 - r["t_ms"])
    if win:
        md += ["## 3. Exposure window", "",
               f"R1's route for S moves from R2 to R3 at t ms after the client's first SYN "
               f"left it (`bench_expo` sees the SYN on the client's link with a packet socket "
               f"and changes the route itself over rtnetlink in R1's namespace). The client "
               f"(`bench_conn SYSTEM S count 1`, `CONN_HOLD_MS={hold}`) then holds the "
               f"connection {hold} ms and needs one byte echoed; a connection that fails to "
               f"open or to echo is broken. {tries} tries per t per system, interleaved. "
               + (f"Actual change time minus t: median {statistics.median(offs):.2f} ms, "
                  f"max {max(offs):.2f} ms." if offs else ""), "",
               "Systems: `saf-tls` the seed procedure, `saf-tls-cont` the same with "
               "continuity, `saf-tls-tcp` TLS over saf TCP (the advert in the SYN-ACK moves "
               "the client to the node before its ClientHello).", "",
               "Largest t at which a connection broke:", "",
               "| system | largest broken t | in RTTs | broken / tries |", "|---|---:|---:|---:|"]
        for s in systems:
            n = sum(1 for r in win if r["system"] == s)
            b = sum(r["broken"] for r in win if r["system"] == s)
            L = largest[s]
            md.append(f"| {s} | {'none' if L is None else f'{L:g} ms'} | "
                      f"{'-' if L is None else f'{L / rtt:.2f}'} | {b} / {n} |")
        md += ["", "Share broken per t (ms):", "",
               "| t | " + " | ".join(systems) + " |", "|---:|" + "---:|" * len(systems)]
        for t in ts:
            md.append(f"| {t:g} | " + " | ".join(
                f"{share[s][t]:.0%}" if t in share[s] else "-" for s in systems) + " |")
        window_svg(systems, ts, share, os.path.join(out, "wan-window.svg"), rtt)
        md += ["", "![exposure window](wan-window.svg)", "",
               "How to read it: the delay sits at R1 on the client's link, so the SYN reaches "
               "R1's routing decision about half an RTT after it leaves the client. A change "
               "before that moves the whole handshake to R3 and harms nobody; after it, "
               "plain anycast breaks at every t (its later packets reach a node that never "
               "saw the SYN). saf TCP reads the advert from the SYN-ACK and leaves S at "
               "once, so only packets it still sends to S could hurt, and it needs none. "
               "saf TLS needs S until its ClientHello and Finished have reached the node "
               "and the ticket with the token is back. With continuity it needs S only until "
               "its ClientHello has reached the node: the node's first flight carries an "
               "early credential, with which a stream whose connection breaks before any "
               "token comes back to the node's unicast address (docs/continuity.md). saf TLS "
               "over saf TCP follows the advert like saf TCP and sends its ClientHello to "
               "the node's unicast address: nothing of it needs S after the SYN-ACK. MPTCP "
               "needs its initial subflow until the node's ADD_ADDR has arrived and the "
               "joined subflow is up.", ""]

    tt = [r for r in rows if r["fig"] == "ttfb"]
    if tt:
        names = {"plain": "plain TCP (floor)", "tls": "plain TLS 1.3 (floor)",
                 "saf-tcp": "saf TCP, first connection", "saf-tcp-cached": "saf TCP, cached repeat",
                 "saf-tls": "saf TLS seed procedure", "saf-tls-cont": "saf TLS continuity (data on S at once)",
                 "saf-tls-tcp": "saf TLS over saf TCP (full handshake at U)",
                 "mptcp": "MPTCP (first byte on the initial subflow)"}
        med = {}
        for s in dict.fromkeys(r["system"] for r in tt):
            v = [r["result"]["median_us"] for r in tt if r["system"] == s and r["result"]["connections"]]
            moved = [r["result"]["moved"] for r in tt if r["system"] == s]
            fails = sum(r["result"]["failed"] for r in tt if r["system"] == s)
            med[s] = (statistics.median(v) / 1000 if v else 0, len(v), sum(moved), fails)
        md += ["## 4. Time to first byte with affinity", "",
               f"From the start of the system's connect procedure to the echoed first byte "
               f"(`bench_conn SYSTEM S count {ttfb_n}`), median of {reps} interleaved repeats "
               f"(each itself a median of {ttfb_n} connections). RTT {rtt:.1f} ms.", "",
               "| system | TTFB | RTTs | ratio to plain TCP | ended on the node's unicast address | failed |",
               "|---|---:|---:|---:|---:|---:|"]
        base = med.get("plain", (0,))[0]
        series = []
        for s, (ms, n, moved, fails) in med.items():
            md.append(f"| {names.get(s, s)} | {ms:.1f} ms | {ms / rtt:.2f} | "
                      f"{ms / base if base else 0:.2f} | {moved} | {fails} |")
            series.append((names.get(s, s).split(" (")[0], round(ms, 1)))
        bars(f"Time to first byte (ms), RTT {rtt:.0f} ms", "ms", series, os.path.join(out, "wan-ttfb.svg"))
        md += ["", "![ttfb](wan-ttfb.svg)", "",
               "Plain TCP needs 1 RTT for the handshake and 1 for the byte; plain TLS 1.3 one "
               "more. saf TCP's first connection adds one handshake to the node's unicast "
               "address (+1 RTT); the cached repeat goes straight to the node (as plain). "
               "saf TLS: full handshake with S, the ticket, then a resumption handshake "
               "with the node; with continuity the byte flows on S at once and the move "
               "happens underneath; over saf TCP, the advert's extra TCP handshake (+1 RTT) "
               "and one full TLS handshake at the node. MPTCP's first byte flows at once on the initial subflow, but "
               "its affinity (the joined subflow to the node's address) is only there "
               "after the ADD_ADDR and the join; figure 3 shows that window.", ""]
    open(os.path.join(out, "wan.md"), "w").write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
