#!/usr/bin/env python3
"""Golden-file tests (tcpdump-style manifest): tests/e2e/LIST names a capture,
its expected events and the options. The output is normalised (keys sorted,
pcap_file reduced to its base name) and compared line by line: event order is
part of the contract.

Usage: golden.py POPSIFT [--update] [NAME...]; closes with 'N passed, N failed'.
"""
import difflib
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def normalise(stdout):
    out = []
    for line in stdout.decode("utf-8").splitlines():
        ev = json.loads(line)
        if "pcap_file" in ev:
            ev["pcap_file"] = os.path.basename(ev["pcap_file"])
        out.append(json.dumps(ev, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    return out


def entries():
    with open(os.path.join(HERE, "LIST")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, capture, expected, *opts = shlex.split(line)
            yield name, os.path.join(ROOT, capture), os.path.join(HERE, "expected", expected), opts


def main():
    popsift = os.path.abspath(sys.argv[1])
    args = sys.argv[2:]
    update = "--update" in args
    only = {a for a in args if a != "--update"}
    passed = failed = 0
    for name, capture, expected, opts in entries():
        if only and name not in only:
            continue
        p = subprocess.run([popsift, "-q", *opts, "-r", capture], capture_output=True, timeout=600)
        got = normalise(p.stdout) if p.returncode == 0 else [f"exit {p.returncode}: {p.stderr!r}"]
        if update:
            os.makedirs(os.path.dirname(expected), exist_ok=True)
            with open(expected, "w") as f:
                f.write("".join(l + "\n" for l in got))
            print(f"updated golden {name}")
            continue
        with open(expected) as f:
            want = [l.rstrip("\n") for l in f]
        if got == want:
            print(f"ok   golden {name}")
            passed += 1
        else:
            print(f"FAIL golden {name}:")
            for d in list(difflib.unified_diff(want, got, "expected", "got", lineterm=""))[:12]:
                print("    " + d[:300])
            failed += 1
    if not update:
        print(f"golden: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
