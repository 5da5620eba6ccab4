#!/usr/bin/env python3
"""Issue 19's --shard K/N, community_id and sensor, end to end:

- on every capture of the project and generated ones (IPv4 and IPv6 fragments, port
  reuse, gaps, many clients), the events of --shard 0/4 .. 3/4 together are one run's,
  line for line (order aside), but for the brute-force and password-spray alerts; the
  shards' summaries account for every frame once;
- their events, time-ordered, through `popsift report` give one run's cross-session
  alerts and mailbox report, also for a client whose brute force is spread over servers
  in different shards (which no shard alone sees whole);
- docs/scaling.md's GNU parallel block runs as written (its four settings pointed at a
  scratch archive), and so do its Slurm script and Kubernetes Job command;
- a malformed --shard is a usage error that says what is wrong, before anything is read;
- every event's community_id is the Community ID v1 of its connection as an independent
  implementation (hashlib, per the specification, checked on its published vectors)
  and tshark compute it;
- every event names its sensor: --sensor-name, or the host name.

Usage: test_shard.py POPSIFT [TEST...]
"""
import atexit
import base64
import collections
import glob
import hashlib
import ipaddress
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import Capture  # noqa: E402
from runner import CAPTURES, ROOT, SAMPLES, Skip, Suite, expect, parse_events, popgen  # noqa: E402

SUITE = Suite("shard")
TMP = tempfile.mkdtemp(prefix="popsift-shard-")
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
N = 4
SENSOR = "shard-test"
OPTS = ["--show-passwords", "--transactions", "--sensor-name", SENSOR]  # every event popsift writes
CROSS = (b'"signature":"brute-force"', b'"signature":"password-spray"')
SCALING = os.path.join(ROOT, "docs", "scaling.md")
SKIPPED = re.compile(r"shard (\d+)/(\d+): (\d+) of the (\d+) packets belong to the other shards")


def path(name):
    return os.path.join(TMP, name)


def read(p):
    with open(p, "rb") as f:
        return f.read()


def is_cross(line):
    return b'"event_type":"alert"' in line and any(s in line for s in CROSS)


# ---- captures ----------------------------------------------------------------------------

def spread_brute_force():
    """One client failing logins against six servers (so over several shards), for two user
    names a session, 36 sessions; and six clients reading and deleting mail on them."""
    cap = Capture()
    servers = ["10.2.0.%d" % i for i in range(1, 7)]
    n = 0
    for rnd in range(3):
        for si, srv in enumerate(servers):
            for user in (b"admin", b"user%d" % (rnd * 6 + si)):
                steps = [("s", b"+OK ready\r\n"), ("c", b"USER " + user + b"\r\n"), ("s", b"+OK\r\n"),
                         ("c", b"PASS guess%d\r\n" % n), ("s", b"-ERR [AUTH] Authentication failed.\r\n"),
                         ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
                cap.session(steps, client=("10.9.0.7", 42000 + n), server=(srv, 110))
                n += 1
    for si, srv in enumerate(servers):
        steps = [("s", b"+OK ready\r\n"), ("c", b"USER bob\r\n"), ("s", b"+OK\r\n"), ("c", b"PASS pw\r\n"),
                 ("s", b"+OK logged in\r\n"), ("c", b"UIDL\r\n"), ("s", b"+OK\r\n1 u1\r\n2 u2\r\n.\r\n"),
                 ("c", b"RETR 1\r\n"), ("s", b"+OK 5 octets\r\nhello\r\n.\r\n"), ("c", b"DELE 1\r\n"),
                 ("s", b"+OK\r\n"), ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
        cap.session(steps, client=("10.7.0.%d" % (si + 1), 50000 + si), server=(srv, 110))
    return cap.write(path("spread-brute-force.pcap"))


_generated = []


def generated():
    """Captures popgen writes: fragments (IPv4, IPv6 with an extension header), port reuse,
    gaps, many clients at once."""
    if not _generated:
        for name, args in (("frag4", ["--fragment"]), ("frag6", ["--fragment", "--ipv6-ext"]),
                           ("reuse", ["--port-reuse"]), ("gaps", ["--drop", "7"]),
                           ("many", ["-n", "60", "-c", "12", "--short"])):
            pcap, _ = popgen(TMP, name, "--seed", "19", "-n", "12", "-c", "4", "--msg-max", "20000", *args)
            _generated.append(pcap)
    return list(_generated)


def captures():
    found = sorted(glob.glob(os.path.join(SAMPLES, "**", "*.pcap*"), recursive=True))
    found += sorted(glob.glob(os.path.join(CAPTURES, "*.pcap*")))
    expect(len(found) >= 19, f"only {len(found)} captures found")
    return found + generated() + [spread_brute_force()]


# ---- running the shards ------------------------------------------------------------------

def one_run(cap, *extra):
    r = SUITE.ok(*OPTS, "-q", *extra, "-r", cap)
    return r.out


def shard_runs(cap, *extra):
    """[(stdout, stderr)] of --shard 0/N .. N-1/N (summary on)."""
    out = []
    for k in range(N):
        r = SUITE.ok(*OPTS, "--shard", f"{k}/{N}", *extra, "-r", cap)
        out.append((r.out, r.err))
    return out


def time_ordered(blobs):
    """The shards' events concatenated and sorted as docs/scaling.md sorts them."""
    p = subprocess.run(["sort", "-s", "-t", '"', "-k4,4"], input=b"".join(blobs), capture_output=True,
                       env=dict(os.environ, LC_ALL="C"), check=True)
    return p.stdout


def strip_pcap_cnt_if_report_lacks_it(want, got):
    """`popsift report` of this tree may not read pcap_cnt back (another change brings it):
    then, and only then, the capture run's alerts are compared without it."""
    if b'"pcap_cnt"' in got or not got:
        return want
    return re.sub(rb'"pcap_cnt":\d+,', b"", want)


def same_lines(a, b):
    """The same mailbox report: its lines (one per mailbox) come in the order the events
    name the mailboxes first, which the shards change; each line is the same."""
    return sorted(a.splitlines()) == sorted(b.splitlines())


def check_report(cap, single, single_mbr, shard_out):
    merged = time_ordered(shard_out)
    got = SUITE.ok("report", "-q", "--mailbox-report", path("shards.mbr"), stdin=merged).out
    want = b"".join(line + b"\n" for line in single.splitlines() if is_cross(line))
    want = strip_pcap_cnt_if_report_lacks_it(want, got)
    expect(got == want, (cap, "cross-session alerts differ", got[:600], want[:600]))
    expect(same_lines(read(path("shards.mbr")), single_mbr), (cap, "mailbox reports differ"))


@SUITE.test
def the_shards_together_give_one_runs_events_and_account_for_every_frame():
    split = 0
    for cap in captures():
        single = one_run(cap, "--mailbox-report", path("one.mbr"))
        runs = shard_runs(cap)
        want = collections.Counter(l for l in single.splitlines() if not is_cross(l))
        got = collections.Counter(l for out, _ in runs for l in out.splitlines() if not is_cross(l))
        expect(got == want, (cap, "only in the shards:", list((got - want).elements())[:2],
                             "only in one run:", list((want - got).elements())[:2]))
        owned, total = 0, set()
        for k, (_, err) in enumerate(runs):
            m = SKIPPED.search(err)
            expect(m and int(m.group(1)) == k and int(m.group(2)) == N, (cap, k, err))
            owned += int(m.group(4)) - int(m.group(3))
            total.add(int(m.group(4)))
        expect(len(total) == 1 and owned == total.pop(), (cap, "frames owned by no shard or by two", owned))
        split += sum(1 for out, _ in runs if out) > 1
        check_report(cap, single, read(path("one.mbr")), [out for out, _ in runs])
    expect(split >= 5, f"only {split} captures spread over several shards: nothing was split")


@SUITE.test
def a_brute_force_spread_over_shards_comes_back_whole_through_report():
    cap = spread_brute_force()
    single = one_run(cap, "--mailbox-report", path("one.mbr"))
    cross = [json.loads(l)["alert"]["signature"] for l in single.splitlines() if is_cross(l)]
    expect(sorted(cross) == ["brute-force", "password-spray"], cross)
    runs = [out for out, _ in shard_runs(cap)]
    in_shards = [l for out in runs for l in out.splitlines() if is_cross(l)]
    expect(len([o for o in runs if b"10.9.0.7" in o]) >= 2, "the brute force is not spread over shards")
    expect(sorted(in_shards) != sorted(l for l in single.splitlines() if is_cross(l)),
           "a shard alone raised the run's alerts: the capture does not test the merge")
    check_report(cap, single, read(path("one.mbr")), runs)
    # in shard order, not time order, the windows see the failures shuffled: the sort matters
    got = SUITE.ok("report", "-q", stdin=b"".join(runs)).out
    want = strip_pcap_cnt_if_report_lacks_it(b"".join(l + b"\n" for l in single.splitlines() if is_cross(l)), got)
    expect(got != want, "concatenated in shard order gave the same alerts: the sort is not needed?")


# ---- docs/scaling.md's examples, run -------------------------------------------------------

def doc_block(lang, needle):
    text = open(SCALING).read()
    blocks = [b for b in re.findall(r"```" + lang + r"\n(.*?)```", text, re.S) if needle in b]
    expect(len(blocks) == 1, f"docs/scaling.md: {len(blocks)} ```{lang} blocks with {needle!r}")
    return blocks[0]


def archive():
    """A scratch archive: a spread brute force, a bundled sample, IPv6 fragments."""
    d = path("archive")
    if not os.path.isdir(d):
        os.makedirs(d)
        for src in (spread_brute_force(), os.path.join(SAMPLES, "dovecot-pop3.pcap"), generated()[1]):
            shutil.copy(src, d)
    return d


def expect_one_runs_output(events_dir, sensor, mailbox=True):
    """The shard-*.json in events_dir are one run's events over archive() (alerts aside);
    alerts.json and mailboxes.json, when there, what one run writes."""
    caps = sorted(glob.glob(os.path.join(archive(), "*.pcap*")))
    reads = sum((["-r", c] for c in caps), [])
    single = SUITE.ok("-q", "--sensor-name", sensor, "--mailbox-report", path("doc.mbr"), *reads).out
    shards = sorted(glob.glob(os.path.join(events_dir, "shard-*.json")))
    expect([os.path.basename(s) for s in shards] == [f"shard-{k}.json" for k in range(N)], shards)
    got = collections.Counter(l for s in shards for l in read(s).splitlines() if not is_cross(l))
    want = collections.Counter(l for l in single.splitlines() if not is_cross(l))
    expect(got == want, ("shards", list((got - want).elements())[:2], list((want - got).elements())[:2]))
    if mailbox:
        alerts = read(os.path.join(events_dir, "alerts.json"))
        cross = strip_pcap_cnt_if_report_lacks_it(
            b"".join(l + b"\n" for l in single.splitlines() if is_cross(l)), alerts)
        expect(cross and alerts == cross, (alerts[:400], cross[:400]))
        mbr = read(os.path.join(events_dir, "mailboxes.json"))
        expect(mbr and same_lines(mbr, read(path("doc.mbr"))), "mailbox reports differ")


def bin_path():
    return os.path.dirname(SUITE.popsift) + ":" + os.environ["PATH"]


@SUITE.test
def the_gnu_parallel_example_runs_as_written():
    if not shutil.which("parallel"):
        raise AssertionError("GNU parallel is missing: scripts/install-deps.sh installs it")
    block = doc_block("sh", "parallel -S")
    events = path("parallel-events")
    settings = {"N": str(N), "HOSTS": ":", "ARCHIVE": archive(), "EVENTS": events}
    for name, value in settings.items():
        block, n = re.subn(rf"^{name}=\S+", f"{name}={value}", block, count=1, flags=re.M)
        expect(n == 1, f"the parallel block sets no {name}=")
    p = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], capture_output=True, timeout=600,
                       env=dict(os.environ, PATH=bin_path()), cwd=TMP)
    expect(p.returncode == 0, (p.returncode, p.stderr.decode()[-1500:]))
    sensor = re.search(r"--sensor-name (\S+)", block).group(1)
    expect_one_runs_output(events, sensor)


@SUITE.test
def the_slurm_and_kubernetes_examples_run_as_written_for_every_index():
    slurm = doc_block("sh", "#SBATCH --array=0-3")
    slurm = slurm.replace("/srv/pcap/2026-12-01", archive()).replace("/srv/events/2026-12-01", path("slurm"))
    os.makedirs(path("slurm"), exist_ok=True)
    yaml = doc_block("yaml", "completionMode: Indexed")
    m = re.search(r"args:\n\s*- \|\n((?:\s{14}.*\n)+)", yaml)
    expect(m, "no `args: - |` script in the Job")
    job = "\n".join(line[14:] for line in m.group(1).splitlines())
    job = job.replace("/captures/2026-12-01", archive()).replace("/events/2026-12-01", path("k8s"))
    os.makedirs(path("k8s"), exist_ok=True)
    expect(f"completions: {N}" in yaml and f"/{N}\"" in job, "the Job's completions and --shard's N differ")
    for k in range(N):
        for script, env in ((slurm, {"SLURM_ARRAY_TASK_ID": str(k), "SLURM_ARRAY_TASK_COUNT": str(N)}),
                            (job, {"JOB_COMPLETION_INDEX": str(k)})):
            p = subprocess.run(["bash", "-c", script], capture_output=True, timeout=300,
                               env=dict(os.environ, PATH=bin_path(), **env))
            expect(p.returncode == 0, (env, p.stderr.decode()[-800:]))
    expect_one_runs_output(path("slurm"), "tap-dc1", mailbox=False)
    expect_one_runs_output(path("k8s"), "tap-dc1", mailbox=False)


# ---- bad --shard values --------------------------------------------------------------------

@SUITE.test
def a_malformed_shard_is_a_usage_error_that_says_what_is_wrong():
    cap = os.path.join(SAMPLES, "dovecot-pop3.pcap")
    cases = {"4/4": "K must be from 0 to 3", "5/4": "K must be from 0 to 3", "0/0": "N must be from 1 to 1024",
             "1/1025": "N must be from 1 to 1024", "/4": "was the variable holding K empty?",
             "x/4": "is not K/N", "1/x": "N must be a number", "1": "is not K/N", "": "is not K/N",
             "-1/4": "is not K/N", "1/4/2": "N must be a number", "0x1/4": "is not K/N",
             " 1/4": "is not K/N", "1/ 4": "N must be a number", "99999999999999999999/4": "K must be"}
    for arg, why in cases.items():
        out = path("never-written.json")
        r = SUITE.run("--shard", arg, "-r", cap, "-o", out)
        expect(r.code == 1, (arg, r.code, r.err))  # EXIT_USAGE (src/exitcode.h), as every bad option
        expect(f"--shard '{arg}'" in r.err and why in r.err and "Try 'popsift --help'" in r.err, (arg, r.err))
        expect(r.out == b"" and not os.path.exists(out), (arg, "something was written"))
    for good in ("0/1", "3/4", "1023/1024", "007/8"):
        SUITE.ok("-q", "--shard", good, "-r", cap, "-o", "/dev/null")


# ---- community_id --------------------------------------------------------------------------

def community_id(src, sport, dst, dport, seed=0, proto=6):
    """Community ID v1, written from the specification alone."""
    a, b = ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed
    if (a, sport) > (b, dport):
        a, b, sport, dport = b, a, dport, sport
    data = struct.pack("!H", seed) + a + b + struct.pack("!BBHH", proto, 0, sport, dport)
    return "1:" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def spec_vectors_hold():
    # community-id-spec's baseline (TCP rows), both seeds, IPv4 and IPv6
    expect(community_id("128.232.110.120", 34855, "66.35.250.204", 80) == "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "v4")
    expect(community_id("66.35.250.204", 80, "128.232.110.120", 34855, seed=1) ==
           "1:3V71V58M3Ksw/yuFALMcW0LAHvc=", "v4 seed 1")
    expect(community_id("2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25) ==
           "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "v6")


@SUITE.test
def community_id_is_the_specifications_for_every_event():
    spec_vectors_hold()
    caps = [os.path.join(SAMPLES, "dovecot-pop3.pcap"), os.path.join(CAPTURES, "suricata-verify-pop3.pcap"),
            generated()[1]]  # IPv6 with fragments: the real addresses, not the engine's mapped ones
    seen = 0
    for cap in caps:
        per_flow = collections.defaultdict(set)
        for e in parse_events(one_run(cap)):
            want = community_id(e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"])
            expect(e.get("community_id") == want, (cap, e["event_type"], e.get("community_id"), want))
            per_flow[e["flow_id"]].add(e["community_id"])
            seen += 1
        expect(all(len(v) == 1 for v in per_flow.values()), per_flow)
    expect(seen > 50 and any(":" in e["src_ip"] for e in parse_events(one_run(caps[2]))), seen)


def tshark_community_ids(cap):
    """{(client, client port, server, server port): id} as tshark computes it; Skip when it cannot."""
    if not shutil.which("tshark"):
        raise Skip("no tshark")
    protos = subprocess.run(["tshark", "-G", "protocols"], capture_output=True, text=True).stdout
    if "communityid" not in protos:
        raise Skip("this tshark has no Community ID dissector")
    p = subprocess.run(["tshark", "-n", "-r", cap, "--enable-protocol", "communityid", "-Y", "tcp",
                        "-T", "fields", "-E", "separator=\t", "-e", "ip.src", "-e", "ipv6.src", "-e",
                        "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e",
                        "communityid"], capture_output=True, text=True, timeout=120)
    expect(p.returncode == 0, p.stderr[-500:])
    out = {}
    for line in p.stdout.splitlines():
        s4, s6, sp, d4, d6, dp, cid = (line.split("\t") + [""] * 7)[:7]
        if cid:
            out[(s4 or s6, int(sp), d4 or d6, int(dp))] = cid
    return out


@SUITE.test
def community_id_is_tsharks():
    checked = 0
    for cap in (os.path.join(SAMPLES, "dovecot-sasl.pcap"), os.path.join(CAPTURES, "ndpi-pop3.pcap"),
                os.path.join(CAPTURES, "zeek-pop3-starttls.pcap")):
        theirs = tshark_community_ids(cap)
        for e in parse_events(one_run(cap)):
            key = (e["src_ip"], e["src_port"], e["dest_ip"], e["dest_port"])
            expect(key in theirs, (cap, key, "not in tshark's output"))
            expect(e["community_id"] == theirs[key], (cap, key, e["community_id"], theirs[key]))
            checked += 1
    expect(checked > 20, checked)
    return f"{checked} events"


# ---- sensor ---------------------------------------------------------------------------------

@SUITE.test
def every_event_names_its_sensor():
    cap = os.path.join(SAMPLES, "dovecot-sasl.pcap")
    name = "tap \u00e9 \"dc1\""  # any printable UTF-8, escaped as JSON escapes it
    evs = parse_events(SUITE.ok("-q", "--show-passwords", "--transactions", "--sensor-name", name,
                                "--mailbox-report", "-", "-r", cap).out)
    events = [e for e in evs if e["event_type"] != "mailbox"]
    expect(len(events) > 20 and all(e.get("sensor") == name for e in events),
           [e.get("sensor") for e in events][:5])
    types = {e["event_type"] for e in events}
    expect({"auth", "alert", "session", "command"} <= types, types)
    host = socket.gethostname()
    evs = parse_events(SUITE.ok("-q", "-r", cap).out)
    expect(evs and all(e.get("sensor") == host for e in evs), (host, [e.get("sensor") for e in evs][:3]))
    # popsift report keeps each event's sensor: two sensors' events concatenated
    a = SUITE.ok("-q", "--sensor-name", "a", "-r", cap).out
    b = SUITE.ok("-q", "--sensor-name", "b", "-r", cap).out
    again = SUITE.ok("report", "-q", stdin=a + b, env={"POPSIFT_REPORT_EVENTS": "1"}).out
    expect([e["sensor"] for e in parse_events(again)] == [e["sensor"] for e in parse_events(a + b)],
           "report changed a sensor")
    for bad in ("", "a\tb", "x" * 256, "\x7f"):
        r = SUITE.run("--sensor-name", bad, "-r", cap, "-o", "/dev/null")
        expect(r.code == 1 and "--sensor-name" in r.err, (bad, r.code, r.err))
    SUITE.ok("-q", "--sensor-name", "x" * 255, "-r", cap, "-o", "/dev/null")


if __name__ == "__main__":
    sys.exit(SUITE.main())
