#!/usr/bin/env python3
"""Issue 19, --workers N: the analysis split over N processes by the address pair
changes nothing but speed. On every end-to-end capture and bundled sample, --workers
1..4 give the same events as one process (order aside), the same mailbox report, the
same -T text summary and the same cross-session alerts, also when one client's failed
logins go to servers that land on different workers; a worker killed mid-run is
reported, started again, its open sessions end as "worker_lost" and the run completes;
what cannot be shared is refused. Live (root): a capture replayed through a veth pair
into `popsift -i veth --workers 2` gives the offline result, drops reported.
Usage: test_workers.py POPSIFT [TEST...]
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import Capture  # noqa: E402
from runner import ROOT, Skip, Suite, expect, popgen, wait_for  # noqa: E402

SUITE = Suite("workers")
TMP = tempfile.mkdtemp(prefix="popsift-workers-")
WORKERS = (1, 2, 3, 4)


def captures():
    """(name, capture, options) of every end-to-end capture (tests/e2e/LIST) and sample."""
    out = []
    with open(os.path.join(ROOT, "tests", "e2e", "LIST")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, cap, _, *opts = line.split()
                out.append((name, os.path.join(ROOT, cap), opts))
    for cap in ("mailbox/fetchmail-keep.pcap", "mailbox/dele.pcap", "mime/mime-pop3.pcap",
                "pop2/pop2.pcap"):
        out.append((cap, os.path.join(ROOT, "samples", cap), []))
    return out


def lines(data):
    """The output's lines, sorted: the same set, order aside."""
    return sorted(data.splitlines())


def diff(a, b):
    sa, sb = set(a), set(b)
    return f"only one process: {sorted(sa - sb)[:2]}; only workers: {sorted(sb - sa)[:2]}"


NO_POP = ("zeek-redis-50-pings",)  # no POP at all: the empty output is compared


def same_with_workers(args, what):
    """popsift ARGS once alone, then with --workers 1..4: the same lines, order aside."""
    one = SUITE.ok("-q", *args)
    expect(one.out or what.split()[0] in NO_POP, f"{what}: no output at all, nothing compared")
    for n in WORKERS:
        got = SUITE.ok("-q", "--workers", str(n), *args)
        expect(lines(got.out) == lines(one.out), f"{what}, --workers {n}: {diff(lines(one.out), lines(got.out))}")


def same_into_a_file(args, what):
    """Into a regular file the workers write their events themselves (O_APPEND, whole lines):
    the same lines as one process, none cut or interleaved."""
    one = SUITE.ok("-q", *args)
    for n in (2, 3):
        out = os.path.join(TMP, f"direct-{n}.json")
        SUITE.ok("-q", "--workers", str(n), "-o", out, *args)
        with open(out, "rb") as f:
            got = f.read()
        expect(got.endswith(b"\n") or not got, f"{what}: the file does not end with a whole line")
        expect(lines(got) == lines(one.out), f"{what}, --workers {n} -o FILE: {diff(lines(one.out), lines(got))}")


def add_capture_tests():
    for name, cap, opts in captures():
        def events(cap=cap, opts=opts, name=name):
            same_with_workers([*opts, "--mailbox-report", "-", "-r", cap], name)
            same_into_a_file([*opts, "-r", cap], name)
        SUITE.add(f"events_and_mailbox_report_{name}", events)

        def text(cap=cap, opts=opts, name=name):
            same_with_workers([*opts, "-T", "text", "--mailbox-report", "-", "-r", cap], name + " -T text")
        SUITE.add(f"text_summary_{name}", text)


add_capture_tests()


def spread_failures_capture():
    """One client failing logins on 12 servers in turn (their address pairs fall on
    different workers), for 6 user names, and a second client failing 3 times."""
    cap = Capture()
    for i in range(12):
        steps = [("s", b"+OK ready\r\n"), ("c", b"USER u%d\r\n" % (i % 6)), ("s", b"+OK\r\n"),
                 ("c", b"PASS guess%d\r\n" % i), ("s", b"-ERR [AUTH] Authentication failed.\r\n"),
                 ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
        cap.session(steps, client=("10.9.0.7", 41000 + i), server=("10.2.0.%d" % (i + 1), 110))
        if i % 4 == 0:
            cap.session(steps, client=("10.9.0.8", 42000 + i), server=("10.2.0.%d" % (i + 1), 110))
        cap.t += 20
    return cap.write(os.path.join(TMP, "spread.pcap"))


@SUITE.test
def alerts_over_logins_spread_across_workers_equal_one_process():
    cap = spread_failures_capture()
    for opts in ([], ["--brute-force-failures", "4", "--spray-users", "3", "--alert-window", "100"]):
        one = SUITE.events(*opts, "-r", cap)
        cross = [e for e in one if e["event_type"] == "alert" and e["alert"]["signature"] in
                 ("brute-force", "password-spray")]
        expect(cross, f"{opts}: no cross-session alert to compare")
        same_with_workers([*opts, "-r", cap], f"spread failures {opts}")
        same_into_a_file([*opts, "-r", cap], f"spread failures {opts}")
    # the workers really were spread: the 12 servers of 10.9.0.7 fall on several workers of 3
    import struct as _s
    import socket as _sock

    def bucket(a, b, n):
        x = _s.unpack("!I", _sock.inet_aton(a))[0] ^ _s.unpack("!I", _sock.inet_aton(b))[0]
        h = (x * 0x9E3779B1) & 0xFFFFFFFF
        return (h ^ (h >> 16)) % n
    buckets = {bucket("10.9.0.7", "10.2.0.%d" % (i + 1), 3) for i in range(12)}
    expect(len(buckets) == 3, buckets)


@SUITE.test
def sessions_still_open_at_the_end_end_as_one_process_ends_them():
    # each worker sees only its own packets; the capture's last one (another worker's) is when
    # one process ends the open sessions, and so must every worker
    cap = Capture()
    steps = [("s", b"+OK ready\r\n"), ("c", b"USER bob\r\n"), ("s", b"+OK\r\n")]
    for i in range(8):
        cap.session(steps, client=("10.9.1.%d" % (i + 1), 43000 + i),
                    server=("10.2.%d.9" % (i * 7 + 1), 110), close=False)
        cap.t += 5
    path = cap.write(os.path.join(TMP, "open.pcap"))
    expect(len({bucket("10.9.1.%d" % (i + 1), "10.2.%d.9" % (i * 7 + 1), 3) for i in range(8)}) == 3,
           "the pairs do not spread over 3 workers")
    ends = [e for e in SUITE.events("-r", path) if e["event_type"] == "session"]
    expect(len(ends) == 8 and {e["session"]["end_reason"] for e in ends} == {"capture-end"}, ends[:1])
    same_with_workers(["-r", path], "sessions open at the end")
    same_into_a_file(["-r", path], "sessions open at the end")


@SUITE.test
def what_one_file_per_run_cannot_share_is_refused():
    cap = os.path.join(ROOT, "samples", "dovecot-pop3.pcap")
    for opts, word in ((["--hashes", os.path.join(TMP, "h/")], "--hashes"),
                       (["--mbox", os.path.join(TMP, "m.mbox")], "--mbox"),
                       (["-T", "html"], "-T html")):
        r = SUITE.run("--workers", "2", *opts, "-r", cap)
        expect(r.code == 1 and word in r.err, (opts, r.code, r.err))
    for bad in ("0", "65", "x"):
        r = SUITE.run("--workers", bad, "-r", cap)
        expect(r.code == 1 and "--workers" in r.err, (bad, r.code, r.err))


@SUITE.test
def live_workers_that_cannot_open_the_interface_fail_the_run_as_one_process_would():
    one = SUITE.run("-i", "popsift-no-such-if0")
    got = SUITE.run("-i", "popsift-no-such-if0", "--workers", "2")
    expect(got.code == one.code == 2, (one.code, got.code, got.err))
    expect("cannot capture on 'popsift-no-such-if0'" in got.err and "worker_lost" not in got.err, got.err)


@SUITE.test
def extraction_from_several_workers_writes_every_message_once():
    cap = os.path.join(ROOT, "samples", "dovecot-pop3.pcap")
    d1, d3 = os.path.join(TMP, "x1"), os.path.join(TMP, "x3")
    one = SUITE.events("-x", d1, "-r", cap)
    three = SUITE.events("--workers", "3", "-x", d3, "-r", cap)
    expect(sorted(os.listdir(d1)) == sorted(os.listdir(d3)) and os.listdir(d1), (os.listdir(d1), os.listdir(d3)))
    for f in os.listdir(d1):
        with open(os.path.join(d1, f), "rb") as a, open(os.path.join(d3, f), "rb") as b:
            expect(a.read() == b.read(), f)
    paths = lambda evs: sorted(e["message"].get("path", "").replace(d1, "").replace(d3, "")  # noqa: E731
                               for e in evs if e["event_type"] == "message")
    expect(paths(one) == paths(three), (paths(one), paths(three)))


def children(pid):
    """The processes whose parent is pid: popsift's workers."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d))
    return sorted(out)


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def settled(pids):
    """True once none of pids used CPU for 0.3 s: they are waiting for packets."""
    before = [cpu_ticks(p) for p in pids]
    time.sleep(0.3)
    return [cpu_ticks(p) for p in pids] == before


def bucket(client, server, n):
    """pairhash_bucket() of an IPv4 address pair (src/pairhash.h)."""
    import socket
    import struct
    x = struct.unpack("!I", socket.inet_aton(client))[0] ^ struct.unpack("!I", socket.inet_aton(server))[0]
    h = (x * 0x9E3779B1) & 0xFFFFFFFF
    return (h ^ (h >> 16)) % n


@SUITE.test
def a_worker_killed_mid_run_is_reported_started_again_and_its_sessions_end_as_worker_lost():
    pcap, _ = popgen(TMP, "kill", "-n", "240", "-c", "24", "--msg-max", "20000")
    with open(pcap, "rb") as f:
        data = f.read()
    one = SUITE.events("-r", "-", stdin=data)
    out = os.path.join(TMP, "kill.json")
    p = subprocess.Popen([SUITE.popsift, "-q", "--workers", "3", "-o", out, "-r", "-"],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        half = len(data) // 2
        p.stdin.write(data[:half])
        p.stdin.flush()
        workers = wait_for(lambda: len(children(p.pid)) == 3 and children(p.pid), 30, "3 workers")
        wait_for(lambda: settled(workers), 60, "the workers to take the first half")
        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        p.stdin.write(data[half:])
        p.stdin.close()
        err = p.stderr.read().decode()
        code = p.wait(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    expect(code == 0, (code, err))
    expect(f"(pid {victim}) was killed by signal 9" in err and "started again" in err, err)
    with open(out) as f:
        evs = [json.loads(l) for l in f]
    sessions = [e for e in evs if e["event_type"] == "session"]
    lost = [e for e in sessions if e["session"]["end_reason"] == "worker_lost"]
    expect(lost, "no session ended as worker_lost")
    k = {bucket(e["src_ip"], e["dest_ip"], 3) for e in lost}
    expect(len(k) == 1, f"worker_lost sessions of several workers: {k}")
    ids = [e["flow_id"] for e in sessions]
    expect(len(ids) == len(set(ids)), "a session ended twice")
    # the other workers went on: their address pairs' events are one process's, all of them
    key = lambda e: json.dumps(e, sort_keys=True)  # noqa: E731
    others = lambda es: sorted(key(e) for e in es if bucket(e["src_ip"], e["dest_ip"], 3) not in k)  # noqa: E731
    expect(others(evs) == others(one), "the workers that were not killed wrote other events")
    # and the run completed: every connection one process ended has its session event
    ends = lambda es: {(e["src_ip"], e["src_port"]) for e in es if e["event_type"] == "session"}  # noqa: E731
    missing = ends(one) - ends(sessions)
    expect(len(ends(one)) > 150 and not missing, f"connections without a session event: {sorted(missing)[:5]}")
    return f"{len(lost)} sessions lost with worker {k.pop()}"


# ---- live: one kernel fanout group --------------------------------------------------------

def live_skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces, packet capture)"
    for tool in ("ip", "tcpreplay"):
        if not shutil.which(tool):
            return f"needs {tool}"
    return None


@SUITE.test
def live_two_workers_in_one_fanout_group_give_the_offline_events_drops_reported():
    why = live_skip_reason()
    if why:
        raise Skip(why)
    from test_load import Live, VethPair, by_connection, kernel_drops, masked, read_events

    class LiveWorkers(Live):
        """popsift -i --workers N: ready once every worker catches SIGINT (its socket joined)."""
        def wait_ready(self, timeout=30):
            def ready():
                expect(self.p.poll() is None, f"popsift exited {self.p.returncode}: {self.stderr()}")
                kids = [c for c in children(self.p.pid) if caught_sigint(c)]
                return len(kids) == 2 and os.path.exists(self.events)
            wait_for(ready, timeout, "2 workers capturing")

    pcap, _ = popgen(TMP, "live", "-n", "300", "-c", "16", "--msg-max", "100000", "-s", "5")
    offline = SUITE.events("-r", pcap)
    with VethPair() as pair:
        live = LiveWorkers(pair, SUITE.popsift, TMP, "--workers", "2", name="live.ndjson")
        try:
            sent, _ = pair.replay(pcap, "--mbps", "100")
            live.wait_all(sent)
            seen, received, dropped = live.stop()
        finally:
            live.kill()
    err = live.stderr()
    per = re.findall(r"over 2 workers: (\d+)/(\d+) (\d+)/(\d+)", err)  # the last: the run's end
    expect(per, f"no per-worker kernel counts in: {err}")
    d0, r0, d1, r1 = map(int, per[-1])
    expect(r0 > 0 and r1 > 0 and r0 + r1 == received and d0 + d1 == dropped, (per[-1], received, dropped))
    evs = read_events(live.events)
    key = lambda e: json.dumps(masked(e), sort_keys=True)  # noqa: E731
    if not dropped:
        expect(sorted(map(key, evs)) == sorted(map(key, offline)), "live events differ from the offline run's")
    else:  # every connection that lost packets says so
        got, want = by_connection(evs), by_connection(offline)
        for conn, es in want.items():
            if sorted(map(key, got.get(conn, []))) != sorted(map(key, es)):
                expect(conn in got and kernel_drops(got[conn]) > 0, f"{conn} differs, kernel_drops 0")
    return f"{sent} packets sent, workers received {r0} and {r1}, kernel dropped {dropped}"


def caught_sigint(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            caught = int(re.search(r"SigCgt:\s*([0-9a-f]+)", f.read()).group(1), 16)
    except (OSError, AttributeError):
        return False
    return bool(caught & (1 << (signal.SIGINT - 1)))


if __name__ == "__main__":
    code = SUITE.main()
    shutil.rmtree(TMP, ignore_errors=True)
    sys.exit(code)
