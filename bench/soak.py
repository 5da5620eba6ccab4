#!/usr/bin/env python3
"""
bench/soak.py - the live soak (issue 15), run by `make soak`: popsift -i on one end of a veth
pair for 30 minutes while tcpreplay sends a mix of captures into the other end in a loop; the
resident set size of popsift is sampled every 10 s and must stay flat.

The pair and its two network namespaces are tests/e2e/test_load.py's (one end in each, no
address, no route: the frames go nowhere else); they are deleted when the soak ends, also on
failure or SIGINT/SIGTERM/SIGHUP.

Each round replays, at top speed, four generated captures (build/soak/, made once):
  heavy      --size 100M -c 16        messages of 300 B .. 4 MB
  short      --short -n 5000 -c 64    5,000 short logins
  gaps       -n 300 --drop 7 --msg-max 256K    every 7th server segment missing
  midstream  -n 300 --midstream --msg-max 256K  no handshake, no login
then sleeps until ROUND seconds have passed (a burst, then a quiet link: the ring fills and
drains, and the idle sweep runs). The same connections come back every round, after their FIN,
or still open (gaps, midstream: --idle-timeout 2 ends them before they come back).

"Flat" (the pass criterion): after a warm-up of WARMUP seconds, the largest sample of the last
third of the run exceeds the largest sample of the first third by at most FLAT_KIB (4 MiB: less
than one message buffer). Also printed: the least-squares slope over the samples after the
warm-up, in MiB per hour.

Output: build/soak/rss.tsv (seconds, RSS KiB, popsift's packet count, kernel drops),
build/soak/events.stderr (popsift's statistics every 10 s and its summary),
build/soak/report.md (a table of one sample per minute and the figures, for
docs/performance.md). Kernel drops are reported, not judged (the load test judges them). Exit
status 0 when flat and popsift exited 0, 1 otherwise.

Usage: bench/soak.py [--minutes 30] [--round 10] [--popsift build/popsift]
Needs root, tcpreplay, iproute2 and build/popgen, like the load test.
"""
import argparse
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import test_load  # noqa: E402
from test_load import Live, Stop, VethPair, on_signal, run  # noqa: E402

OUT = os.path.join(ROOT, "build", "soak")
POPGEN = os.path.join(ROOT, "build", "popgen")
CAPTURES = [
    ("heavy", ["--size", "100M", "-c", "16", "-s", "11"]),
    ("short", ["--short", "-n", "5000", "-c", "64", "-s", "12"]),
    ("gaps", ["-n", "300", "-c", "16", "--drop", "7", "--msg-max", "256K", "-s", "13"]),
    ("midstream", ["-n", "300", "-c", "16", "--midstream", "--msg-max", "256K", "-s", "14"]),
]
SAMPLE_S = 10
WARMUP_S = 60
FLAT_KIB = 4096
IDLE_TIMEOUT = "2"


def captures():
    """The soak's captures, generated once (again when popgen or the options change)."""
    os.makedirs(OUT, exist_ok=True)
    paths = []
    for name, opts in CAPTURES:
        path = os.path.join(OUT, f"{name}.pcap")
        stamp = path + ".cmd"
        cmd = " ".join(opts)
        fresh = (os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == cmd
                 and os.path.getmtime(path) >= os.path.getmtime(POPGEN))
        if not fresh:
            run([POPGEN, "-o", path, *opts], timeout=600)
            with open(stamp, "w") as f:
                f.write(cmd)
        paths.append(path)
    return paths


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))


def popsift_pid(live, binary):
    """`ip netns exec` execs popsift: the child is popsift itself."""
    exe = os.path.realpath(f"/proc/{live.p.pid}/exe")
    if exe != os.path.realpath(binary):
        raise AssertionError(f"pid {live.p.pid} is {exe}, not {binary}")
    return live.p.pid


def slope_mib_per_hour(samples):
    xs = [t for t, *_ in samples]
    ys = [r / 1024 for _, r, *_ in samples]
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var * 3600 if var else 0.0


def verdict(samples):
    """(flat, first-third max KiB, last-third max KiB, slope MiB/h) after the warm-up."""
    after = [s for s in samples if s[0] >= WARMUP_S]
    if len(after) < 3:
        return False, 0, 0, 0.0
    third = len(after) // 3
    first = max(r for _, r, *_ in after[:third])
    last = max(r for _, r, *_ in after[-third:])
    return last - first <= FLAT_KIB, first, last, slope_mib_per_hour(after)


def soak(args, pair, files):
    live = Live(pair, args.popsift, OUT, "-q", "--idle-timeout", IDLE_TIMEOUT,
                name="events.ndjson")
    pid = popsift_pid(live, args.popsift)
    samples, rounds, sent = [], 0, 0
    t0 = time.monotonic()
    next_sample = t0
    tsv = open(os.path.join(OUT, "rss.tsv"), "w")
    tsv.write("seconds\trss_kib\tpackets\tkernel_dropped\n")
    try:
        while time.monotonic() - t0 < args.minutes * 60:
            start = time.monotonic()
            for f in files:
                k, _ = pair.replay(f, "--topspeed")
                sent += k
            rounds += 1
            while time.monotonic() - start < args.round:
                if time.monotonic() >= next_sample:
                    seen, _, dropped = live.counted()
                    s = (round(time.monotonic() - t0), rss_kib(pid), seen, dropped)
                    samples.append(s)
                    tsv.write("\t".join(map(str, s)) + "\n")
                    tsv.flush()
                    next_sample += SAMPLE_S
                time.sleep(0.2)
        seen, received, dropped = live.wait_all(sent)
        final = live.stop()
    finally:
        live.kill()
        tsv.close()
    os.unlink(live.events)  # -o: only the statistics matter here, and it is large
    return samples, rounds, sent, final


def report(args, samples, rounds, sent, final):
    flat, first, last, slope = verdict(samples)
    seen, received, dropped = final
    lines = [
        f"Soak: {args.minutes} min, {rounds} rounds, {sent:,} packets sent, popsift analysed "
        f"{seen:,}, kernel received {received:,}, dropped {dropped:,}; --idle-timeout "
        f"{IDLE_TIMEOUT}, RSS sampled every {SAMPLE_S} s ({len(samples)} samples).",
        "",
        f"After the {WARMUP_S} s warm-up: largest RSS of the first third {first / 1024:.1f} MiB, "
        f"of the last third {last / 1024:.1f} MiB (growth {(last - first) / 1024:+.1f} MiB; "
        f"flat means at most {FLAT_KIB / 1024:.0f} MiB); least-squares slope "
        f"{slope:+.2f} MiB/h. Verdict: {'FLAT' if flat else 'GROWING'}.",
        "",
        "| minute | RSS MiB | packets analysed | kernel drops |",
        "|---:|---:|---:|---:|",
    ]
    for t, r, n, d in samples:
        if t % 60 < SAMPLE_S:
            lines.append(f"| {t // 60} | {r / 1024:.1f} | {n:,} | {d:,} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(OUT, "report.md"), "w") as f:
        f.write(text)
    print(text)
    return flat


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--round", type=float, default=10, help="seconds per replay round")
    ap.add_argument("--popsift", default=os.path.join(ROOT, "build", "popsift"))
    args = ap.parse_args()
    why = test_load.skip_reason()
    if why:
        print(f"soak: cannot run: {why}")
        return 1
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    files = captures()
    try:
        with VethPair() as pair:
            samples, rounds, sent, final = soak(args, pair, files)
    except Stop as exc:
        print(f"soak: {exc}; the namespaces and the pair are removed")
        return 1
    flat = report(args, samples, rounds, sent, final)
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
