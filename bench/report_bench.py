#!/usr/bin/env python3
"""
bench/report_bench.py - `popsift report` on 100,000 sessions (issue 18), run
by `make bench` and `make bench-quick` after bench/run.py.

A capture of 100,000 short sessions (popgen --short: greeting, USER/PASS,
STAT, QUIT) is generated once into build/bench/ and analysed once into its
events (kept beside it). Then `popsift report` reads those events, each way
three times, and the median wall time is reported: the cross-session alerts
alone, the mailbox report, the -T text summary, and the HTML report, with the
HTML file's size. The issue's bound: under 5 s for the HTML report; a slower
run is reported as a failure (exit 1).

Results: printed as Markdown, and written to build/bench/results-report.md.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "build", "bench")
POPSIFT = os.path.join(ROOT, "build", "popsift")
POPGEN = os.path.join(ROOT, "build", "popgen")
SESSIONS = 100000
BOUND = 5.0
RUNS = 3


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def events():
    """The events of the 100,000-session capture, made once."""
    os.makedirs(CACHE, exist_ok=True)
    cap = os.path.join(CACHE, f"popgen_report_short_{SESSIONS}.pcap")
    ev = cap[:-5] + ".events.json"
    if not os.path.exists(cap):
        log(f"report bench: generating {cap}")
        subprocess.run([POPGEN, "-o", cap + ".tmp", "--short", "-n", str(SESSIONS), "-c", "64", "-s", "18"],
                       check=True, stderr=subprocess.DEVNULL)
        os.rename(cap + ".tmp", cap)
    if not os.path.exists(ev) or os.path.getmtime(ev) < os.path.getmtime(POPSIFT):
        log(f"report bench: analysing it into {ev}")
        subprocess.run([POPSIFT, "-q", "-r", cap, "-o", ev + ".tmp"], check=True)
        os.rename(ev + ".tmp", ev)
    return ev


def timed(args):
    """Median wall time of RUNS runs of `popsift report ARGS`."""
    times = []
    for _ in range(RUNS):
        t = time.monotonic()
        subprocess.run([POPSIFT, "report", "-q", *args], check=True, stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - t)
    return statistics.median(times)


def main():
    ev = events()
    with open(ev, "rb") as f:
        sessions = sum(1 for line in f if b'"event_type":"session"' in line)
    with tempfile.TemporaryDirectory() as tmp:
        html = os.path.join(tmp, "report.html")
        rows = [
            ("alerts (default)", timed([ev]), ""),
            ("--mailbox-report", timed(["--mailbox-report", os.path.join(tmp, "m.json"), ev]), ""),
            ("-T text", timed(["-T", "text", ev]), ""),
            ("--html", timed(["--html", html, ev]), f"{os.path.getsize(html) / 1e6:.2f} MB"),
        ]
    size = os.path.getsize(ev) / 1e6
    out = [f"## popsift report: {sessions} sessions ({size:.0f} MB of events)", "",
           "| report | median of 3 | HTML size |", "|---|---|---|"]
    out += [f"| {name} | {t:.2f} s | {extra} |" for name, t, extra in rows]
    html_time = rows[-1][1]
    verdict = "ok" if html_time < BOUND and sessions == SESSIONS else "FAIL"
    out += ["", f"{verdict}: the HTML report of {sessions} sessions in {html_time:.2f} s (bound {BOUND:.0f} s)"]
    text = "\n".join(out) + "\n"
    print(text)
    with open(os.path.join(CACHE, "results-report.md"), "w") as f:
        f.write(text)
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
