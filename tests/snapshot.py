#!/usr/bin/env python3
"""
tests/snapshot.py - records what popsift writes for every capture the project
has, under several option sets, so that a change meant to alter nothing (a
refactoring, a speed-up) can be proven byte-identical:

    tests/snapshot.py build/popsift /tmp/before          # on the old tree
    tests/snapshot.py build/popsift /tmp/after           # on the new tree
    diff -r /tmp/before /tmp/after && echo identical

Captures: tests/e2e/captures/, samples/ (every .pcap/.pcapng), generated ones
(build/popgen with the variants the engine and extraction suites use, and
build/hostile's every case). With --bench, also the `make bench` captures
(full or quick sizes: --bench=quick), generated into build/bench/ as
bench/run.py does. Each run's standard output, standard error, exit status and
every file it wrote (-x directory, --mbox, --hashes, --mailbox-report) go into
one text file per (capture, option set); outputs over 1 MB are recorded by
SHA-256 and size instead. Paths are written relative to the tree, so the two
snapshots compare even when taken from two checkouts in different places.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIG = 1 << 20

# name -> extra options; "{x}" etc. are replaced by paths in a scratch directory.
OPTION_SETS = {
    "default": [],
    "secrets": ["--show-passwords", "--transactions"],
    "detect": ["--detect"],
    "text": ["-T", "text"],
    "report": ["--mailbox-report", "-"],
    "single": ["--single-thread", "--show-passwords"],
    "files": ["-x", "{x}", "--mbox", "{mbox}", "--hashes", "{hashes}", "--mailbox-report", "{report}"],
}

# popgen variants (name, args), after the engine and extraction suites.
POPGEN = [
    ("small", ["-s", "1", "-n", "20"]),
    ("eth", ["-s", "5", "-n", "8", "--msg-max", "64K"]),
    ("vlan", ["-s", "5", "-n", "8", "--msg-max", "64K", "--linktype", "vlan"]),
    ("qinq", ["-s", "5", "-n", "8", "--msg-max", "64K", "--linktype", "qinq"]),
    ("sll", ["-s", "5", "-n", "8", "--msg-max", "64K", "--linktype", "sll"]),
    ("sll2", ["-s", "5", "-n", "8", "--msg-max", "64K", "--linktype", "sll2"]),
    ("null", ["-s", "5", "-n", "8", "--msg-max", "64K", "--linktype", "null"]),
    ("raw", ["-s", "5", "-n", "8", "--msg-max", "64K", "--linktype", "raw"]),
    ("ipv6", ["-s", "4", "-n", "6", "--ipv6", "--msg-max", "32K"]),
    ("ipv6ext", ["-s", "4", "-n", "6", "--ipv6-ext", "--msg-max", "32K"]),
    ("midstream", ["-s", "6", "-n", "10", "--midstream", "--msg-max", "64K"]),
    ("gaps", ["-s", "3", "-n", "12", "--drop", "7", "--msg-max", "64K"]),
    ("gaps2", ["-s", "9", "-n", "12", "--drop", "3", "--msg-max", "16K", "-c", "8"]),
    ("reuse", ["-s", "7", "-n", "12", "--port-reuse", "--msg-max", "32K"]),
    ("frag", ["-s", "8", "-n", "10", "--fragment", "--msg-max", "32K"]),
    ("csum", ["-s", "2", "-n", "6", "--bad-tcp-csum"]),
    ("short", ["--short", "-n", "3000", "-c", "64", "-s", "2"]),
    ("conc", ["-c", "600", "-n", "600", "--msg-max", "16K", "-s", "3"]),
    ("port995", ["-s", "10", "-n", "4", "--port", "995"]),
    ("port2110", ["-s", "11", "-n", "6", "--port", "2110", "--msg-max", "16K"]),
]

BENCH = {
    "full": [
        ("heavy", ["--size", "1G", "-c", "16", "-s", "1"]),
        ("short", ["--short", "-n", "1000000", "-s", "2"]),
        ("conc", ["-c", "10000", "-n", "10000", "--msg-max", "64K", "-s", "3"]),
    ],
    "quick": [
        ("heavy", ["--size", "200M", "-c", "16", "-s", "1"]),
        ("short", ["--short", "-n", "200000", "-s", "2"]),
        ("conc", ["-c", "2000", "-n", "2000", "--msg-max", "64K", "-s", "3"]),
    ],
}


def digest(data):
    return hashlib.sha256(data).hexdigest()


def record(out, name, data):
    """One output, whole when small, by digest when big."""
    out.append(f"== {name} ({len(data)} bytes)")
    if len(data) > BIG:
        out.append(f"sha256 {digest(data)}")
    else:
        out.append(data.decode("utf-8", "backslashreplace"))


def tree_listing(path):
    """Every file under path with its size and digest, sorted."""
    rows = []
    for d, _, files in os.walk(path):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                data = fh.read()
            rows.append(f"{os.path.relpath(p, path)} {len(data)} {digest(data)}")
    return "\n".join(sorted(rows)).encode()


def run_one(popsift, capture, label, opts, scratch):
    """Runs popsift once; returns the text that records everything it wrote."""
    work = tempfile.mkdtemp(dir=scratch)
    paths = {k: os.path.join(work, k) for k in ("x", "mbox", "hashes", "report")}
    args = [a.format(**paths) for a in opts]
    rel = os.path.relpath(capture, ROOT) if capture.startswith(ROOT + "/") else capture
    p = subprocess.run([popsift, "-q", "-r", rel, *args], cwd=ROOT, capture_output=True, timeout=1800)
    out = [f"# {rel.replace(scratch, '$SCRATCH')} {label} exit {p.returncode}"]

    def masked(data):
        return data.replace(work.encode(), b"$WORK").replace(scratch.encode(), b"$SCRATCH")
    record(out, "stdout", masked(p.stdout))
    record(out, "stderr", masked(p.stderr))
    for k in ("mbox", "hashes", "report"):
        if os.path.exists(paths[k]):
            with open(paths[k], "rb") as fh:
                record(out, k, masked(fh.read()))
    if os.path.isdir(paths["x"]):
        record(out, "x", tree_listing(paths["x"]))
    shutil.rmtree(work, ignore_errors=True)
    return "\n".join(out) + "\n"


def captures_in_tree():
    found = []
    for top in ("tests/e2e/captures", "samples"):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            found += [os.path.join(d, f) for f in files if f.endswith((".pcap", ".pcapng"))
                      and not f.endswith(".large.pcap")]
    return sorted(found)


def generate(tool, args, path):
    subprocess.run([tool, "-o", path, *args], check=True, capture_output=True, timeout=1800)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("popsift")
    ap.add_argument("outdir")
    ap.add_argument("--bench", nargs="?", const="full", choices=["full", "quick"])
    ap.add_argument("--only", help="substring of the capture names to run")
    a = ap.parse_args()
    popsift = os.path.abspath(a.popsift)
    os.makedirs(a.outdir, exist_ok=True)
    scratch = tempfile.mkdtemp(prefix="popsift-snapshot-")
    gen = os.path.join(scratch, "gen")
    os.makedirs(gen)
    jobs = [(c, list(OPTION_SETS)) for c in captures_in_tree()]
    popgen = os.path.join(ROOT, "build", "popgen")
    for name, args in POPGEN:
        jobs.append((generate(popgen, args, os.path.join(gen, f"popgen-{name}.pcap")), list(OPTION_SETS)))
    hostile = os.path.join(ROOT, "build", "hostile")
    hdir = os.path.join(gen, "hostile")
    os.makedirs(hdir)
    subprocess.run([hostile, "-d", hdir], check=True, capture_output=True, timeout=1800)
    for f in sorted(os.listdir(hdir)):
        if f.endswith((".pcap", ".pcapng")):
            jobs.append((os.path.join(hdir, f), ["default", "secrets", "files"]))
    if a.bench:
        bdir = os.path.join(ROOT, "build", "bench")
        os.makedirs(bdir, exist_ok=True)
        for name, args in BENCH[a.bench]:
            path = os.path.join(bdir, f"snapshot-{a.bench}-{name}.pcap")
            if not os.path.exists(path):
                generate(popgen, args, path)
            jobs.append((path, ["default", "single"] + (["files"] if name == "heavy" else [])))
    n = 0
    for capture, sets in jobs:
        if a.only and a.only not in capture:
            continue
        base = os.path.basename(capture)
        for label in sets:
            text = run_one(popsift, capture, label, OPTION_SETS[label], scratch)
            with open(os.path.join(a.outdir, f"{base}.{label}.txt"), "w") as fh:
                fh.write(text)
            n += 1
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"snapshot: {n} runs recorded in {a.outdir}")


if __name__ == "__main__":
    sys.exit(main())
