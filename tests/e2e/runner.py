"""The library every end-to-end suite is written with: registering and running tests
(Suite), running popsift (Suite.run, Suite.events) and reading its events (of_type,
bodies, by_flow), generated captures (popgen), pcap records (pcap_records).

    from runner import Suite, expect, of_type
    SUITE = Suite("engine")

    @SUITE.test
    def something():
        evs = SUITE.events("-r", capture)          # popsift -q ... : exit 0, every line JSON
        expect(of_type(evs, "auth"), evs)

    if __name__ == "__main__":
        sys.exit(SUITE.main())                     # argv: POPSIFT [TEST_NAME ...]

A suite prints one line per test, 'ok   <suite> <test>', 'FAIL <suite> <test>: why' or
'skip <suite> <test>: why', and closes with '<suite>: N passed, N failed' (', N skipped'
added when a test was skipped): the line tests/run-all.sh sums. A test returns nothing,
or a short note printed after its name; it fails by raising (expect() raises
AssertionError) and is skipped by raising Skip.
"""
import json
import os
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SAMPLES = os.path.join(ROOT, "samples")
CAPTURES = os.path.join(HERE, "captures")
POPGEN = os.path.join(ROOT, "build", "popgen")


class Skip(Exception):
    """Raised by a test (or a suite's setup) that cannot run on this machine: the reason
    is printed and the test counted as skipped, neither passed nor failed."""


def expect(cond, msg):
    if not cond:
        raise AssertionError(msg)


def wait_for(pred, timeout, what):
    """pred()'s first true value, polled every 50 ms; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


# ---- events ------------------------------------------------------------------------------

def iter_events(lines, where="stdout"):
    """Events from popsift's output lines (bytes or text), one at a time; every line must be
    one JSON object with an event_type."""
    for n, line in enumerate(lines, 1):
        try:
            ev = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"{where}:{n}: not JSON ({exc}): {line[:200]!r}") from None
        expect(isinstance(ev, dict) and "event_type" in ev, f"{where}:{n}: not an event: {line[:200]!r}")
        yield ev


def parse_events(data, where="stdout"):
    """popsift's output (bytes) as a list of events."""
    return list(iter_events(data.splitlines(), where))


def read_events(path):
    """The events of a file popsift wrote (-o), as a list."""
    with open(path, "rb") as f:
        return list(iter_events(f, path))


def of_type(evs, t):
    """The events of type t (whole events, envelope included)."""
    return [e for e in evs if e["event_type"] == t]


def bodies(evs, t):
    """The objects named after type t ('auth', 'message', ...) of the events of that type."""
    return [e[t] for e in evs if e["event_type"] == t]


def by_flow(evs):
    """{flow_id: [its events]}, flows in the order of their first event."""
    flows = {}
    for e in evs:
        flows.setdefault(e["flow_id"], []).append(e)
    return flows


def endpoint(ip, port):
    """An address as popgen's manifest and hostile's manifests write it."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


# ---- running popsift ---------------------------------------------------------------------

class Run:
    """What one popsift run gave: exit status, raw stdout, stderr as text; events parsed
    from stdout on first use."""

    def __init__(self, proc):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr.decode("utf-8", "replace")
        self._events = None

    @property
    def events(self):
        if self._events is None:
            self._events = parse_events(self.out)
        return self._events


class Suite:
    def __init__(self, name):
        self.name = name
        self.tests = []  # (name, function)
        self.popsift = None  # the binary under test, from the command line

    def test(self, fn):
        """Decorator: registers fn as a test named after it."""
        self.tests.append((fn.__name__, fn))
        return fn

    def add(self, name, fn):
        """Registers fn (no arguments) as test `name`: for tests made in a loop."""
        self.tests.append((name, fn))

    # ---- popsift --------------------------------------------------------------------

    def run(self, *args, stdin=None, env=None, timeout=600, binary=None, **kw):
        """Runs popsift with args (nothing added); returns a Run. env adds to os.environ;
        other keywords go to subprocess.run (e.g. preexec_fn)."""
        e = dict(os.environ, **env) if env else None
        p = subprocess.run([binary or self.popsift, *args], input=stdin, capture_output=True,
                           timeout=timeout, env=e, **kw)
        return Run(p)

    def ok(self, *args, quiet_stderr=False, **kw):
        """run() that must exit 0 (and, with quiet_stderr, write nothing on stderr)."""
        r = self.run(*args, **kw)
        expect(r.code == 0, f"popsift {' '.join(map(str, args))[:300]}: exit {r.code}: {r.err[-2000:]}")
        if quiet_stderr:
            expect(r.err == "", f"popsift wrote on stderr: {r.err[-2000:]}")
        return r

    def events(self, *args, **kw):
        """The events of popsift -q ARGS, which must exit 0."""
        return self.ok("-q", *args, **kw).events

    # ---- running the suite ----------------------------------------------------------

    def main(self, argv=None, fixture=None, timed=False):
        """Runs the tests named in argv[2:] (all when none) with the binary argv[1];
        returns the exit status (1 if any test failed).

        fixture: a function returning a context manager entered around all the tests
        (a private server, a scratch directory); if entering it raises Skip every test is
        skipped with that reason, any other exception is one failure. Whatever escapes a
        test that is not an Exception (Ctrl-C, a harness's SIGTERM) ends the run: the
        closing line counts it as one failure more. timed: print each test's duration.
        """
        argv = sys.argv if argv is None else argv
        if len(argv) < 2:
            print(f"usage: {os.path.basename(argv[0])} POPSIFT [TEST...]", file=sys.stderr)
            return 2
        self.popsift = os.path.abspath(argv[1])
        only = set(argv[2:])
        unknown = only - {name for name, _ in self.tests}
        if unknown:
            print(f"{self.name}: no test named {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        chosen = [(n, fn) for n, fn in self.tests if not only or n in only]
        self.counts = {"passed": 0, "failed": 0, "skipped": 0}
        try:
            if fixture is None:
                self._run_all(chosen, timed)
            else:
                self._run_in(fixture, chosen, timed)
        except BaseException as exc:  # noqa: BLE001 - an interrupted run still closes
            self._line("FAIL", "run", f"{type(exc).__name__}: {exc}; the run stopped here")
            self.counts["failed"] += 1
            self._close()
            return 128 + getattr(exc, "signum", 2) if not isinstance(exc, Exception) else 1
        return self._close()

    def _run_in(self, fixture, chosen, timed):
        try:
            ctx = fixture()
            ctx.__enter__()
        except Skip as exc:
            for name, _ in chosen:
                self._line("skip", name, str(exc))
                self.counts["skipped"] += 1
            return
        except Exception as exc:  # noqa: BLE001 - the fixture failed: one failure, no test ran
            self._line("FAIL", "setup", f"{type(exc).__name__}: {exc}")
            self.counts["failed"] += 1
            return
        try:
            self._run_all(chosen, timed)
        except BaseException:
            ctx.__exit__(*sys.exc_info())
            raise
        ctx.__exit__(None, None, None)

    def _run_all(self, chosen, timed):
        for name, fn in chosen:
            t0 = time.monotonic()
            try:
                note = fn()
            except Skip as exc:
                self._line("skip", name, str(exc))
                self.counts["skipped"] += 1
                continue
            except Exception as exc:  # noqa: BLE001 - report every failure, keep going
                self._line("FAIL", name, f"{type(exc).__name__}: {exc}")
                self.counts["failed"] += 1
                continue
            notes = [note] if note else []
            if timed:
                notes.append(f"{time.monotonic() - t0:.1f} s")
            self._line("ok  ", name, "; ".join(notes))
            self.counts["passed"] += 1

    def _line(self, verdict, test, text):
        if verdict == "ok  ":
            line = f"ok   {self.name} {test}" + (f" ({text})" if text else "")
        else:
            line = f"{verdict} {self.name} {test}: {text}"
        print(line[:3000], flush=True)

    def _close(self):
        c = self.counts
        skipped = f", {c['skipped']} skipped" if c["skipped"] else ""
        print(f"{self.name}: {c['passed']} passed, {c['failed']} failed{skipped}", flush=True)
        return 1 if c["failed"] else 0


# ---- captures ----------------------------------------------------------------------------

def popgen(workdir, name, *args):
    """Runs build/popgen into workdir; returns (pcap path, manifest rows). A row:
    {index, client, server, mech, user, password, result, flags, gaps,
     msgs: [(command, number, size, sha256, wire)]}, wire 'ok' when no segment of the
    message was dropped."""
    expect(os.access(POPGEN, os.X_OK), f"{POPGEN} missing: run 'make tools'")
    pcap = os.path.join(workdir, name + ".pcap")
    man = os.path.join(workdir, name + ".tsv")
    subprocess.run([POPGEN, "-o", pcap, "--manifest", man, *args], check=True,
                   capture_output=True, timeout=600)
    rows = []
    cols = None
    with open(man) as f:
        for line in f:
            if line.startswith("#"):
                cols = line[1:].rstrip("\n").split("\t")  # the header names the columns
                continue
            fields = line.rstrip("\n").split("\t")
            last = cols.index("gaps") + 1
            col = dict(zip(cols[:last], fields))
            rest = fields[last:]
            msgs = [(rest[i], int(rest[i + 1]), int(rest[i + 2]), rest[i + 3], rest[i + 4])
                    for i in range(0, len(rest) - 4, 5)]
            rows.append(dict(index=int(col["session"]), client=col["client"], server=col["server"],
                             mech=col["mech"], user=col["user"], password=col["password"],
                             result=col["result"], flags=col["flags"], gaps=col["gaps"], msgs=msgs))
    return pcap, rows


def pcap_records(path):
    """A classic pcap file (little endian) as (24-byte file header, [record bytes])."""
    with open(path, "rb") as f:
        data = f.read()
    recs, off = [], 24
    while off < len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return data[:24], recs
