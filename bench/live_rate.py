#!/usr/bin/env python3
"""
bench/live_rate.py - the highest replay rate a live popsift holds with no kernel drop, found
by bisection on tcpreplay --mbps with --topspeed as the top (issue 15; docs/performance.md).

Each trial: popsift -i on one end of tests/e2e/test_load.py's veth pair (two namespaces, no
address, no route), the capture replayed into the other end at the rate, popsift's kernel
counters read once every packet is analysed or dropped (SIGUSR1), then stopped. A rate is held
when every one of --trials trials drops nothing. --topspeed first: held, it is the answer;
otherwise bisection between --low and the rate top speed reached, to --precision Mb/s.

With --latency N instead: the time from the end of a one-session replay (15 packets) to its
session event in the -o file, N times on an otherwise quiet link, at varied moments of the
kernel's block timer; prints the median, 90th percentile and largest.

Usage: bench/live_rate.py [--popsift BIN] [--args "-B 32768"] [--pcap FILE] [--trials 2]
       bench/live_rate.py --latency 50 [--popsift BIN]
Prints one line per trial and a closing line; --json FILE appends the result.
"""
import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import test_load  # noqa: E402
from test_load import Live, Stop, VethPair, on_signal, run  # noqa: E402

POPGEN = os.path.join(ROOT, "build", "popgen")


def trial(pair, args, work, rate):
    """One replay at `rate` (Mb/s, or None: top speed): (Mb/s reached, sent, received, dropped)."""
    live = Live(pair, args.popsift, work, "-q", *shlex.split(args.args))
    try:
        opts = ["--topspeed"] if rate is None else ["--mbps", str(rate)]
        sent, mbps = pair.replay(args.pcap, *opts)
        live.wait_all(sent)
        _, received, dropped = live.stop()
    finally:
        live.kill()
        if os.path.exists(live.events):
            os.unlink(live.events)
    print(f"  {'top speed' if rate is None else f'{rate} Mb/s'}: sent {sent} at {mbps:.0f} Mb/s, "
          f"kernel received {received}, dropped {dropped}", flush=True)
    return mbps, sent, received, dropped


def held(pair, args, work, rate, log):
    reached = []
    for _ in range(args.trials):
        mbps, sent, received, dropped = trial(pair, args, work, rate)
        log.append({"rate": rate, "mbps": mbps, "sent": sent, "received": received,
                    "dropped": dropped})
        reached.append(mbps)
        if dropped:
            return False, min(reached)
    return True, min(reached)


def search(pair, args, work):
    log = []
    ok, top = held(pair, args, work, None, log)
    if ok:
        return "top speed", top, log
    lo, hi, best = args.low, int(top), None
    while hi - lo > args.precision:
        mid = (lo + hi) // 2
        ok, _ = held(pair, args, work, mid, log)
        if ok:
            lo, best = mid, mid
        else:
            hi = mid
    if best is None:
        ok, _ = held(pair, args, work, args.low, log)
        best = args.low if ok else 0
    return "bisection", best, log


def latency(pair, args, work, n):
    one = os.path.join(work, "one.pcap")
    run([POPGEN, "-o", one, "-n", "1", "-c", "1", "--short", "-s", "3"])
    live = Live(pair, args.popsift, work, *shlex.split(args.args))  # no -q: stop() reads the summary
    waits = []
    try:
        for i in range(n):
            pair.replay(one, "--topspeed")
            t0 = time.monotonic()
            while sum('"event_type":"session"' in line for line in open(live.events)) <= i:
                if time.monotonic() - t0 > 10:
                    raise AssertionError("no session event within 10 s")
                time.sleep(0.001)
            waits.append((time.monotonic() - t0) * 1000)
            time.sleep(0.1 + (i * 0.0137) % 0.25)
        live.stop()
    finally:
        live.kill()
    waits.sort()
    print(f"packets to session event, {n} times: median {waits[n // 2]:.0f} ms, 90th percentile "
          f"{waits[n * 9 // 10]:.0f} ms, largest {waits[-1]:.0f} ms, smallest {waits[0]:.0f} ms")
    return waits


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--popsift", default=os.path.join(ROOT, "build", "popsift"))
    ap.add_argument("--args", default="", help="more popsift options, e.g. '-B 32768'")
    ap.add_argument("--pcap", help="default: popgen --size 300M -c 16 -s 7 (the load test's)")
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--low", type=int, default=50)
    ap.add_argument("--precision", type=int, default=50)
    ap.add_argument("--json")
    ap.add_argument("--latency", type=int, metavar="N", help="measure latency N times instead")
    args = ap.parse_args()
    why = test_load.skip_reason()
    if why:
        print(f"live_rate: cannot run: {why}")
        return 1
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        with tempfile.TemporaryDirectory(prefix="popsift-rate-", dir=os.path.join(ROOT, "build")) \
                as work, VethPair() as pair:
            if args.latency:
                latency(pair, args, work, args.latency)
                return 0
            if not args.pcap:
                args.pcap = os.path.join(work, "load.pcap")
                run([POPGEN, "-o", args.pcap, "--size", "300M", "-c", "16", "-s", "7"], timeout=300)
            print(f"{args.popsift} {args.args}".strip(), flush=True)
            how, best, log = search(pair, args, work)
    except Stop as exc:
        print(f"live_rate: {exc}; the namespaces and the pair are removed")
        return 1
    print(f"held with no drop: {how} ({best:.0f} Mb/s)")
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({"popsift": args.popsift, "args": args.args, "how": how,
                                "mbps": best, "trials": log}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
