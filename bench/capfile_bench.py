#!/usr/bin/env python3
"""Times popsift's own capture reader (src/capfile.c) against libpcap's
pcap_next_ex() on one capture, through build/capdump's bench modes (each reads
every packet and touches its first and last byte; libpcap is opened as
src/capture.c opens files, with a 1 MB stdio buffer).

    bench/capfile_bench.py CAPTURE.pcap [--runs N] [--workdir DIR]

Writes a copy of the capture, a pcapng rewrite (editcap -F pcapng) and zstd
copies (zstd -3) into DIR (default /tmp/capfile-bench, kept for the next run),
each written in 4 MB pieces so that the page cache holds them alike (a file
written in small pieces costs the kernel measurably more to read back), reads
every file once to put it in the page cache, then runs the configurations in
turn, N rounds, and prints the median and best wall and CPU seconds of each,
and each one's cost against libpcap on the classic pcap.

Then popsift itself end to end (build/popsift -q -o /dev/null) on each file:
what issue 14's target ("reading pcapng and zstd costs no more than 10% over
classic pcap") is measured on. Two rows show what decompressing on another
core would give: the reader and popsift fed by `zstd -dc` through a pipe (the
CPU column is theirs alone, not zstd's).
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPDUMP = os.path.join(ROOT, "build", "capdump")
POPSIFT = os.path.join(ROOT, "build", "popsift")


def rewrite(path, dst=None):
    """Copies path to dst (default: itself) in 4 MB writes."""
    tmp = (dst or path) + ".tmp"
    with open(path, "rb") as src, open(tmp, "wb") as out:
        while True:
            chunk = src.read(4 << 20)
            if not chunk:
                break
            out.write(chunk)
    os.replace(tmp, dst or path)


def prepare(original, work):
    os.makedirs(work, exist_ok=True)
    base = os.path.join(work, os.path.basename(original))
    cap, ng, pz, ngz = base, base + ".pcapng", base + ".zst", base + ".pcapng.zst"
    if not os.path.exists(cap):
        rewrite(original, cap)
    if not os.path.exists(ng):
        subprocess.run(["editcap", "-F", "pcapng", cap, ng], check=True)
        rewrite(ng)
    for src, dst in ((cap, pz), (ng, ngz)):
        if not os.path.exists(dst):
            with open(dst, "wb") as f:
                subprocess.run(["zstd", "-q", "-3", "-c", src], stdout=f, check=True)
            rewrite(dst)
    for path in (cap, ng, pz, ngz):  # into the page cache
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    return [("libpcap, pcap", "bench-libpcap", cap), ("capfile, pcap", "bench-capfile", cap),
            ("capfile, pcapng", "bench-capfile", ng), ("capfile, pcap.zst", "bench-capfile", pz),
            ("capfile, pcapng.zst", "bench-capfile", ngz),
            ("capfile, zstd -dc pcapng.zst \\| stdin", "pipe-capfile", ngz),
            ("popsift -r pcap", "popsift", cap),
            ("popsift -r pcapng", "popsift", ng),
            ("popsift -r pcap.zst", "popsift", pz),
            ("popsift -r pcapng.zst", "popsift", ngz),
            ("zstd -dc pcap.zst \\| popsift -r -", "pipe-popsift", pz)]


def once(mode, path):
    """(wall, cpu, packets, bytes) of one run; popsift rows: wall and CPU only."""
    if mode.endswith("popsift"):
        cmd = [POPSIFT, "-q", "-o", "/dev/null", "-r", "-" if mode.startswith("pipe") else path]
        src = subprocess.Popen(["zstd", "-q", "-dc", path], stdout=subprocess.PIPE) \
            if mode.startswith("pipe") else None
        t0, r0 = time.monotonic(), os.times()
        subprocess.run(cmd, stdin=src.stdout if src else None, check=True)
        wall, r1 = time.monotonic() - t0, os.times()
        if src:
            src.stdout.close()
            src.wait()
        return wall, r1.children_user + r1.children_system - r0.children_user - r0.children_system, None, None
    if mode == "pipe-capfile":
        src = subprocess.Popen(["zstd", "-q", "-dc", path], stdout=subprocess.PIPE)
        out = subprocess.run([CAPDUMP, "bench-capfile", "-"], stdin=src.stdout, capture_output=True,
                             check=True).stdout.decode()
        src.stdout.close()
        src.wait()
    else:
        out = subprocess.run([CAPDUMP, mode, path], capture_output=True, check=True).stdout.decode()
    f = out.split()
    return float(f[f.index("wall") + 1]), float(f[f.index("cpu") + 1]), int(f[2]), int(f[4])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("capture")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--workdir", default="/tmp/capfile-bench")
    a = ap.parse_args()
    if not os.path.exists(CAPDUMP):
        sys.exit(f"{CAPDUMP} missing: make tools")
    configs = prepare(a.capture, a.workdir)
    times = {name: [] for name, _, _ in configs}
    counts = {}
    for _ in range(a.runs):
        for name, mode, path in configs:
            wall, cpu, packets, nbytes = once(mode, path)
            times[name].append((wall, cpu))
            if packets is not None:
                counts.setdefault((packets, nbytes), []).append(name)
    if len(counts) != 1:
        sys.exit(f"the readers disagree on packets/bytes: {counts}")
    (packets, nbytes), = counts
    base = statistics.median(w for w, _ in times["libpcap, pcap"])
    base_e2e = statistics.median(w for w, _ in times["popsift -r pcap"])
    base_e2e_cpu = statistics.median(c for _, c in times["popsift -r pcap"])
    size = os.path.getsize(a.capture)  # MB/s: of the classic capture's size, for every row
    print(f"{a.capture}: {size / 1e6:.0f} MB, {packets:,} packets, {nbytes / 1e6:.0f} MB captured; "
          f"median of {a.runs} alternating runs, page cache")
    print("| reader, file | wall s (median) | wall s (best) | CPU s (median) | MB/s | wall vs libpcap"
          " (popsift rows: vs popsift -r pcap) | CPU vs popsift -r pcap |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _, _ in configs:
        walls = [w for w, _ in times[name]]
        cpus = [c for _, c in times[name]]
        med = statistics.median(walls)
        ref = base_e2e if "popsift" in name else base
        cpu = statistics.median(cpus)
        rel_cpu = f"{100 * (cpu / base_e2e_cpu - 1):+.0f}%" if "popsift" in name else ""
        print(f"| {name} | {med:.3f} | {min(walls):.3f} | {cpu:.3f} | "
              f"{size / med / 1e6:.0f} | {100 * (med / ref - 1):+.0f}% | {rel_cpu} |")


if __name__ == "__main__":
    main()
