#!/usr/bin/env python3
"""Golden-file tests (tcpdump-style manifest): tests/e2e/LIST names a capture,
its expected events and the options. The output is normalised (keys sorted,
pcap_file reduced to its base name) and compared line by line: event order is
part of the contract.

Usage: golden.py POPSIFT [NAME...]            compare; closes with 'golden: N passed, N failed'
       golden.py POPSIFT --update NAME...     rewrite those expected files (`make golden NAME=x`)
"""
import difflib
import json
import os
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import HERE, ROOT, Suite, expect  # noqa: E402

SUITE = Suite("golden")
# Every event names its sensor, by default the host's name: the expected files must not
# depend on the machine that wrote them or runs them.
SENSOR = ["--sensor-name", "golden"]


def normalise(stdout):
    out = []
    for line in stdout.decode("utf-8").splitlines():
        ev = json.loads(line)
        if "pcap_file" in ev:
            ev["pcap_file"] = os.path.basename(ev["pcap_file"])
        out.append(json.dumps(ev, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    return out


def entries():
    """{name: (capture, expected file, options)} of tests/e2e/LIST, in its order."""
    out = {}
    with open(os.path.join(HERE, "LIST")) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, capture, expected, *opts = shlex.split(line)
            out[name] = (os.path.join(ROOT, capture), os.path.join(HERE, "expected", expected), opts)
    return out


def output_of(capture, opts):
    """The normalised events of popsift -q OPTS -r capture, or one line saying how it failed."""
    r = SUITE.run("-q", *SENSOR, *opts, "-r", capture)
    return normalise(r.out) if r.code == 0 else [f"exit {r.code}: {r.err!r}"]


def compare(capture, expected, opts):
    got = output_of(capture, opts)
    with open(expected) as f:
        want = [line.rstrip("\n") for line in f]
    diff = list(difflib.unified_diff(want, got, "expected", "got", lineterm=""))[:12]
    expect(got == want, "\n" + "\n".join("    " + d[:300] for d in diff))


def update(names):
    """Rewrites the expected files of `names`; returns the exit status."""
    known = entries()
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        print(f"golden: name one or more entries of tests/e2e/LIST to update"
              f"{' (unknown: ' + ', '.join(unknown) + ')' if unknown else ''}", file=sys.stderr)
        return 2
    for name in names:
        capture, expected, opts = known[name]
        r = SUITE.run("-q", *SENSOR, *opts, "-r", capture)
        if r.code != 0:
            print(f"golden: {name}: popsift exit {r.code}, nothing written: {r.err}", file=sys.stderr)
            return 1
        got = normalise(r.out)
        os.makedirs(os.path.dirname(expected), exist_ok=True)
        with open(expected, "w") as f:
            f.write("".join(line + "\n" for line in got))
        print(f"updated golden {name}: {os.path.relpath(expected, ROOT)} ({len(got)} events)")
    return 0


for _name, (_capture, _expected, _opts) in entries().items():
    SUITE.add(_name, lambda c=_capture, e=_expected, o=_opts: compare(c, e, o))


if __name__ == "__main__":
    if "--update" in sys.argv[2:]:
        SUITE.popsift = os.path.abspath(sys.argv[1])
        sys.exit(update([a for a in sys.argv[2:] if a != "--update"]))
    sys.exit(SUITE.main())
