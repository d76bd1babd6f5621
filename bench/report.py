#!/usr/bin/env python3
"""make bench's top-level report: bench/report.py OUT_DIR writes
OUT_DIR/report.md with the machine, where each of issue 6's figures is,
and every part's own report (each states its command and settings)."""
import os
import platform
import sys

# Part reports in reading order; any other *.md in OUT_DIR follows them.
PARTS = [("compare", "saf against plain anycast, a conntrack load balancer and MPTCP"),
         ("wan", "exposure window and time to first byte with a link delay"),
         ("tcp", "the TCP variant's cost"),
         ("tls", "the TLS variant's token and handshake costs"),
         ("core", "token verification and codecs"),
         ("sched", "the scheduler"),
         ("bgp", "steering through BGP (FRR, ExaBGP)")]

FIGURES = [
    ("1. Per-flow state in the network", "compare", "1-per-flow-state-held-by-r1"),
    ("2. Survival under re-scheduling", "compare", "2-survival-while-r1-changes-its-choice"),
    ("3. Exposure window", "wan", "3-exposure-window"),
    ("4. Time to first byte with affinity", "wan", "4-time-to-first-byte-with-affinity"),
    ("5. Connection rate, CPU per connection", "compare", "5-connection-rate-and-cpu-per-connection"),
    ("6. Token and handshake costs, verifications per second per core", "tls", None),
    ("6. (token verification per core)", "core", None),
    ("7. Scheduler: metric change to route, route updates per second", "sched", None),
]


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main():
    out = sys.argv[1]
    times = {}
    if os.path.exists(os.path.join(out, "times")):
        for line in open(os.path.join(out, "times")):
            p, s = line.split()
            times[p] = int(s)
    present = [p for p, _ in PARTS if os.path.exists(os.path.join(out, p + ".md"))]
    others = sorted(f[:-3] for f in os.listdir(out)
                    if f.endswith(".md") and f != "report.md" and f[:-3] not in dict(PARTS))
    md = ["# saf benchmarks", "",
          f"Machine: {os.cpu_count()} vCPUs ({cpu_model()}), kernel {platform.release()}, "
          f"{platform.freedesktop_os_release().get('PRETTY_NAME', 'Linux') if hasattr(platform, 'freedesktop_os_release') else 'Linux'}. "
          "The machine may have been shared with builds and tests while this ran: absolute "
          "numbers are noisy; every comparison is a ratio against a baseline measured in the "
          "same run (interleaved repeats, medians, where a part says so).", "",
          "Command: `make bench` (= `scripts/bench`: every `bench/<part>/run BUILD OUT` in "
          "name order, then `bench/report.py OUT`). Each part's section names its own "
          "command and settings; each part can be run alone the same way.", ""]
    if times:
        md += ["Wall time per part: " + ", ".join(f"{p} {s} s" for p, s in times.items())
               + f"; total {sum(times.values())} s.", ""]
    md += ["## Where each figure is", "", "| figure | part |", "|---|---|"]
    for title, part, anchor in FIGURES:
        if part in present:
            md.append(f"| {title} | [{part}.md]({part}.md) (below) |")
        else:
            md.append(f"| {title} | missing: {part}.md was not written |")
    md.append("")
    for p in present + others:
        desc = dict(PARTS).get(p, p)
        md += ["---", "", f"<!-- {p}.md: {desc} -->", ""]
        text = open(os.path.join(out, p + ".md")).read()
        # demote the part's headings one level under this report's title
        md += [("#" + l if l.startswith("#") else l) for l in text.splitlines()]
        md.append("")
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print(f"bench: wrote {os.path.join(out, 'report.md')}")


if __name__ == "__main__":
    main()
