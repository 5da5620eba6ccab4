#!/usr/bin/env python3
"""
bench/scaling.py - what --workers N gives (issue 19), run by `make bench`.

On the short-session and the message-heavy captures of bench/run.py (generated
into build/bench/ once, shared with it), these run several times each,
interleaved, and the medians are reported:

  one        taskset -c 0   popsift            today's single process, one core
  w2-1core   taskset -c 0   popsift --workers 2  the machinery on one core: its CPU cost
  w2         taskset -c 0,1 popsift --workers 2  two cores

Each row: wall time, MB/s, user+system CPU of the whole process tree (the
workers included: bench/rusage.c's wait4), and for the worker runs the
parent's CPU (reading, handing out, merging) and the workers' (popsift's
summary line "CPU seconds"). Derived: the speed-up of w2 over one (the issue's
target: at least 1.7), the CPU the machinery costs ((w2 CPU - one CPU) / one
CPU; target: under 10%), and what N cores would give if each worker had a
core: the workers' CPU splits N ways, the parent's does not, so the time is
max(parent, (parent + workers) / N) and the rate the capture's size over it.

The machine may be shared: CPU times say more than wall times then, and the
runs are interleaved so a burst of load falls on every configuration alike.

Results: printed as Markdown and written to build/bench/results-scaling.{md,json}.
Usage: scaling.py [--quick|--full] [--runs N] [--popsift PATH]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402  (bench/run.py: the captures and the rusage helper)

SCENARIOS = {
    "quick": [("short", ["--short", "-n", "200000", "-s", "2"]),
              ("heavy", ["--size", "200M", "-c", "16", "-s", "1"])],
    "full": [("short", ["--short", "-n", "1000000", "-s", "2"]),
             ("heavy", ["--size", "1G", "-c", "16", "-s", "1"])],
}
CONFIGS = [("one", "0", []), ("w2-1core", "0", ["--workers", "2"]), ("w2", "0,1", ["--workers", "2"])]


def timed(popsift, cores, opts, pcap):
    """One run: (wall, cpu, parent cpu or None, workers' cpu or None)."""
    cmd = [bench.RUSAGE, "taskset", "-c", cores, popsift, *opts, "-r", pcap, "-o", "/dev/null"]
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.decode(errors="replace")
    m = re.search(r"rusage: wall (\S+) user (\S+) sys (\S+) maxrss (\d+) status (\d+)", err)
    if not m or p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {p.returncode}: {err[-300:]}")
    c = re.search(r"CPU seconds: (\S+) reading and merging; workers \(ended\):((?: \S+)+)", err)
    parent = float(c[1]) if c else None
    workers = sum(float(x) for x in c[2].split()) if c else None
    return float(m[1]), float(m[2]) + float(m[3]), parent, workers


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def measure(popsift, name, pcap, runs):
    size = os.path.getsize(pcap)
    got = {c[0]: [] for c in CONFIGS}
    for r in range(runs):
        for cname, cores, opts in CONFIGS:
            bench.warm(pcap)
            got[cname].append(timed(popsift, cores, opts, pcap))
            w, c, _, _ = got[cname][-1]
            bench.log(f"  {name} {cname} run {r + 1}/{runs}: {w:.2f} s wall, {c:.2f} s CPU")
    rows = {}
    for cname, runs_ in got.items():
        rows[cname] = {"wall": med([x[0] for x in runs_]), "cpu": med([x[1] for x in runs_]),
                       "parent": med([x[2] for x in runs_]), "workers": med([x[3] for x in runs_]),
                       "walls": [x[0] for x in runs_], "cpus": [x[1] for x in runs_]}
        rows[cname]["mbs"] = size / 1e6 / rows[cname]["wall"]
    one, w2 = rows["one"], rows["w2"]
    parent, workers = w2["parent"], w2["workers"]
    derived = {
        "speedup": one["wall"] / w2["wall"],
        "cpu_overhead": (w2["cpu"] - one["cpu"]) / one["cpu"],
        "cpu_overhead_1core": (rows["w2-1core"]["cpu"] - one["cpu"]) / one["cpu"],
        "projected": {n: size / 1e6 / max(parent, (parent + workers) / n) for n in (1, 2, 4, 8, 16)},
    }
    return {"size": size, "rows": rows, "derived": derived}


def render(results, runs):
    out = [f"### --workers scaling ({runs} interleaved runs each, medians)", ""]
    for name, r in results.items():
        out += [f"**{name}** ({r['size'] / 1e6:.0f} MB)", "",
                "| run | wall s | MB/s | CPU s (all processes) | parent CPU s | workers CPU s |",
                "|---|---|---|---|---|---|"]
        for cname, row in r["rows"].items():
            p = f"{row['parent']:.2f}" if row["parent"] is not None else "-"
            w = f"{row['workers']:.2f}" if row["workers"] is not None else "-"
            out.append(f"| {cname} | {row['wall']:.2f} | {row['mbs']:.0f} | {row['cpu']:.2f} | {p} | {w} |")
        d = r["derived"]
        proj = ", ".join(f"{n}: {v:.0f}" for n, v in d["projected"].items())
        out += ["", f"speed-up on two cores (one / w2, wall): {d['speedup']:.2f}x (target 1.7x); "
                f"CPU of the machinery (w2 against one): {d['cpu_overhead'] * 100:+.0f}% "
                f"(on one core: {d['cpu_overhead_1core'] * 100:+.0f}%; target under 10%); "
                f"MB/s with N cores, from the parent's and the workers' CPU: {proj}", ""]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_const", dest="mode", const="quick")
    mode.add_argument("--full", action="store_const", dest="mode", const="full")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--popsift", default=os.path.join(bench.ROOT, "build", "popsift"))
    ap.add_argument("--only", choices=["short", "heavy"])
    a = ap.parse_args()
    results = {}
    for name, args in SCENARIOS[a.mode or "quick"]:
        if a.only and name != a.only:
            continue
        pcap, _ = bench.ensure_capture(args)
        results[name] = measure(a.popsift, name, pcap, a.runs)
    text = render(results, a.runs)
    print(text)
    with open(os.path.join(bench.CACHE, "results-scaling.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(bench.CACHE, "results-scaling.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
