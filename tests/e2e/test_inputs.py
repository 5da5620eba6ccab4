#!/usr/bin/env python3
"""End-to-end tests of what popsift reads and where it writes (issue 14: every capture
a user has, read whole; nothing of theirs ever overwritten). Each defect 0.1.0 had is a
test here that fails on 0.1.0:

- an output naming a capture (-o, --hashes, --mbox, --mailbox-report, standard output
  appended to it; through a symlink or hard link) or another output is refused with
  exit 2 before anything is read or written, the capture untouched;
- FIFOs, /dev/fd/N (-r <(zcat x.gz)) and standard input are read once, whole;
- gzip, zstd, lz4 and xz captures are recognised by content, whatever their names;
- a pcapng mixing link types gives the union of its parts' events;
- rotated parts given in any order give the events of the whole capture; files that
  overlap in time are reported;
- SIGINT/SIGTERM while reading stop it: whole lines, open sessions 'interrupted', the
  summary, exit 130/143; a closed standard output stops the run at once, quietly, 141;
- frames cut by the snapshot length are read as captured, counted in the summary and
  in the session (snaplen_cut), their missing bytes reported as gaps;
- a --mailbox-report into a missing directory and an -x into an unwritable one fail
  before the capture is read; -o appends when live (--truncate starts afresh);
- -f works with -r (per link type); an invalid filter is a usage error;
- every event carries pcap_cnt, the frame of its last packet as tshark numbers it
  (sessions also pcap_cnt_first), counted over all files in the order read.

And the issue's "done when": every capture of the project rewritten as pcapng,
compressed with each codec, given through a FIFO, and cut into rotated parts given in
reverse yields the events of the original (pcap_file aside).

Usage: test_inputs.py POPSIFT [TEST...]
"""
import atexit
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import (CAPTURES, ROOT, SAMPLES, Skip, Suite, expect, of_type, parse_events,  # noqa: E402
                    pcap_records, popgen, wait_for)

SUITE = Suite("inputs")
TMP = tempfile.mkdtemp(prefix="popsift-inputs-")
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
DOVECOT = os.path.join(SAMPLES, "dovecot-pop3.pcap")
CODECS = {"gzip": ["gzip", "-c"], "zstd": ["zstd", "-q", "-c"], "lz4": ["lz4", "-q", "-c"],
          "xz": ["xz", "-c"]}
OPTS = ["--show-passwords", "--transactions"]  # every event popsift can write
FIFO_TIMEOUT = 60  # a reader that opens a FIFO twice waits for ever on the second open
_seq = [0]


def tmp(name):
    _seq[0] += 1
    return os.path.join(TMP, f"{_seq[0]}-{name}")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def copy(src, name=None):
    dst = tmp(name or os.path.basename(src))
    shutil.copyfile(src, dst)
    return dst


def captures():
    """Every capture of the project."""
    found = sorted(glob.glob(os.path.join(SAMPLES, "**", "*.pcap*"), recursive=True))
    found += sorted(glob.glob(os.path.join(CAPTURES, "*.pcap*")))
    expect(len(found) >= 19, f"only {len(found)} captures found")
    return found


def masked(evs, *fields):
    """Events as sorted-key JSON lines without pcap_file (and `fields`)."""
    out = []
    for e in evs:
        e = dict(e)
        for k in ("pcap_file",) + fields:
            e.pop(k, None)
        out.append(json.dumps(e, sort_keys=True))
    return out


def same_events(got, want, what, *fields):
    a, b = masked(got, *fields), masked(want, *fields)
    for i, (x, y) in enumerate(zip(a, b)):
        expect(x == y, f"{what}: event {i + 1} differs:\n  got  {x[:400]}\n  want {y[:400]}")
    expect(len(a) == len(b), f"{what}: {len(a)} events, want {len(b)}")


class Feeder:
    """Writes `data` into a FIFO (created here) from a thread, optionally holding it open
    after `hold_after` bytes until release(); never blocks the test on a dead reader."""

    def __init__(self, data, hold_after=None):
        self.path = tmp("fifo")
        os.mkfifo(self.path)
        self.data, self.hold_after = data, hold_after
        self.written = 0
        self.held = threading.Event()
        self.go_on = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _write(self, f, chunk):
        for i in range(0, len(chunk), 65536):
            f.write(chunk[i:i + 65536])
            self.written += len(chunk[i:i + 65536])

    def _run(self):
        try:
            with open(self.path, "wb", buffering=0) as f:
                cut = len(self.data) if self.hold_after is None else self.hold_after
                self._write(f, self.data[:cut])
                self.held.set()
                if self.hold_after is not None:
                    self.go_on.wait(120)
                    self._write(f, self.data[cut:])
                self.done.set()
        except (BrokenPipeError, OSError):
            self.held.set()

    def release(self):
        self.go_on.set()
        self.thread.join(FIFO_TIMEOUT)


def compress(path, codec, name=None):
    dst = tmp(name or os.path.basename(path) + "." + codec)
    with open(dst, "wb") as f:
        subprocess.run(CODECS[codec] + [path], stdout=f, check=True)
    return dst


def editcap(*args):
    subprocess.run(["editcap", *args], check=True, capture_output=True)


def pcapng(path):
    out = tmp(os.path.basename(path) + ".pcapng")
    editcap("-F", "pcapng", path, out)
    return out


def rotated_parts(path, parts=3):
    """path cut by editcap -c into `parts` files (fewer for tiny captures), in order."""
    n = int(subprocess.run(["capinfos", "-M", "-c", "-T", "-r", path], capture_output=True,
                           text=True, check=True).stdout.split()[-1])
    d = tmp("rotated")
    os.mkdir(d)
    editcap("-c", str(max(1, -(-n // parts))), path, os.path.join(d, "part.pcap"))
    return sorted(glob.glob(os.path.join(d, "part_*")))


def inputs_args(paths):
    return [a for p in paths for a in ("-r", p)]


# ---- nothing of theirs overwritten -------------------------------------------------------

@SUITE.test
def outputs_naming_the_capture_are_refused_and_it_is_untouched():
    cap = copy(DOVECOT, "case.pcap")
    link = tmp("link.pcap")
    os.symlink(cap, link)
    hard = tmp("hard.pcap")
    os.link(cap, hard)
    before = sha(cap)
    for opts in (["-o", cap], ["-o", link], ["-o", hard], ["--hashes", cap],
                 ["--mbox", cap], ["--mailbox-report", cap], ["--mailbox-report", link]):
        r = SUITE.run("-r", cap, *opts)
        expect(r.code == 2, f"{opts}: exit {r.code}: {r.err}")
        expect("refusing" in r.err and not r.out, f"{opts}: {r.err} {r.out[:200]}")
        expect(sha(cap) == before, f"{opts}: the capture changed")
    r = SUITE.run("-r", link, "-o", hard)
    expect(r.code == 2 and sha(cap) == before, f"through both links: exit {r.code}")


@SUITE.test
def standard_output_appended_to_the_capture_is_refused():
    cap = copy(DOVECOT, "case.pcap")
    before = sha(cap)
    with open(cap, "ab") as out:
        p = subprocess.run([SUITE.popsift, "-r", cap], stdout=out, stderr=subprocess.PIPE,
                           timeout=120)
    expect(p.returncode == 2 and b"standard output" in p.stderr, f"exit {p.returncode}: {p.stderr}")
    expect(sha(cap) == before, "events were appended to the capture")


@SUITE.test
def outputs_naming_each_other_are_refused_before_anything_is_written():
    for a, b in ((["-o"], ["--hashes"]), (["--mbox"], ["--mailbox-report"]),
                 (["-o"], ["--mailbox-report"])):
        existing = tmp("existing.json")
        open(existing, "w").write("kept\n")
        r = SUITE.run("-r", DOVECOT, *a, existing, *b, existing)
        expect(r.code == 2 and "same file" in r.err, f"{a} {b}: exit {r.code}: {r.err}")
        expect(open(existing).read() == "kept\n", f"{a} {b}: the file was written")
        new = tmp("new.json")
        r = SUITE.run("-r", DOVECOT, *a, new, *b, os.path.join(os.path.dirname(new), ".",
                                                            os.path.basename(new)))
        expect(r.code == 2 and not os.path.exists(new), f"{a} {b} (a new name): exit {r.code}")
    r = SUITE.run("-r", DOVECOT, "-o", "/dev/null", "--hashes", "/dev/null")
    expect(r.code == 0, f"a device may be shared: exit {r.code}: {r.err}")


@SUITE.test
def a_report_into_a_missing_directory_fails_before_reading():
    report = os.path.join(tmp("missing-dir"), "report.json")
    r = SUITE.run("-r", DOVECOT, "--mailbox-report", report)
    expect(r.code == 2 and "--mailbox-report" in r.err, f"exit {r.code}: {r.err}")
    expect(not r.out and "events written" not in r.err, "the capture was read first")


@SUITE.test
def an_unwritable_extraction_directory_fails_before_reading():
    # /proc/PID is a directory no file can be created in, even by root
    r = SUITE.run("-r", DOVECOT, "-x", f"/proc/{os.getpid()}")
    expect(r.code == 2 and "-x" in r.err, f"exit {r.code}: {r.err}")
    expect(not r.out and "events written" not in r.err, "the capture was read first")


@SUITE.test
def output_files_are_truncated_when_reading_files():
    out = tmp("events.json")
    open(out, "w").write('{"old": 1}\n' * 1000)
    SUITE.ok("-q", "-r", DOVECOT, "-o", out)
    evs = [json.loads(l) for l in open(out)]
    expect(evs and all("event_type" in e for e in evs), "the old content stayed")


def live_run(out, *extra):
    """popsift -i lo -o out for a moment, stopped by SIGTERM; returns its exit status."""
    p = subprocess.Popen([SUITE.popsift, "-q", "-i", "lo", "-p", "1", "-o", out, *extra],
                         stderr=subprocess.PIPE)

    def ready():
        if p.poll() is not None:
            raise AssertionError(f"popsift exited {p.returncode}: {p.stderr.read()}")
        with open(f"/proc/{p.pid}/status") as f:
            caught = int(re.search(r"SigCgt:\s*([0-9a-f]+)", f.read())[1], 16)
        return caught & (1 << 14)
    wait_for(ready, 20, "popsift to capture")
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    return p.returncode


@SUITE.test
def live_output_is_appended_to_unless_truncate():
    if os.geteuid() != 0:
        raise Skip("capturing on lo needs root")
    out = tmp("eve.json")
    open(out, "w").write('{"kept": 1}\n')
    expect(live_run(out) == 0, "live run failed")
    expect(open(out).read().startswith('{"kept": 1}\n'), "a restarted sensor lost its events")
    expect(live_run(out, "--truncate") == 0, "live run with --truncate failed")
    expect("kept" not in open(out).read(), "--truncate kept the old events")


# ---- every capture read whole ------------------------------------------------------------

@SUITE.test
def fifo_dev_fd_and_standard_input_are_read_once():
    want = SUITE.events("-r", DOVECOT)
    f = Feeder(open(DOVECOT, "rb").read())
    same_events(SUITE.events("-r", f.path, timeout=FIFO_TIMEOUT), want, "FIFO")
    gz = compress(DOVECOT, "gzip")
    r = subprocess.run(["bash", "-c", f'"$0" -q -r <(zcat "$1")', SUITE.popsift, gz],
                       capture_output=True, timeout=FIFO_TIMEOUT)
    expect(r.returncode == 0, r.stderr)
    same_events(parse_events(r.stdout), want, "-r <(zcat x.gz)")
    same_events(SUITE.events("-r", "-", stdin=open(DOVECOT, "rb").read()), want, "standard input")


@SUITE.test
def compressed_captures_are_recognised_by_content():
    want = SUITE.events("-r", DOVECOT)
    for codec in CODECS:
        z = compress(DOVECOT, codec, name=f"capture-{codec}.pcap")  # a misleading name
        same_events(SUITE.events("-r", z), want, codec)


@SUITE.test
def mixed_link_types_give_the_union_of_their_events():
    parts = [popgen(TMP, f"mixed-{lt}", "-s", str(20 + i), "-n", "4", "--msg-max", "32K",
                    "--linktype", lt)[0] for i, lt in enumerate(("eth", "sll2", "vlan"))]
    mixed = tmp("mixed.pcapng")
    subprocess.run(["mergecap", "-F", "pcapng", "-w", mixed, *parts], check=True)
    got = SUITE.events(*OPTS, "-r", mixed)
    want = [e for p in parts for e in SUITE.events(*OPTS, "-r", p)]
    expect(sorted(masked(got, "pcap_cnt", "pcap_cnt_first")) ==
           sorted(masked(want, "pcap_cnt", "pcap_cnt_first")),
           f"{len(got)} events from the merged file, {len(want)} from its parts")
    expect(len(of_type(got, "session")) == 12, "not every session")


@SUITE.test
def rotated_parts_in_any_order_give_the_events_of_the_whole():
    cap, _ = popgen(TMP, "rotated", "-s", "31", "-n", "12", "-c", "6", "--msg-max", "64K")
    want = SUITE.events(*OPTS, "-r", cap)
    parts = rotated_parts(cap, parts=11)
    expect(len(parts) >= 10, f"{len(parts)} parts")
    # tcpdump -C's names, as a shell glob sorts them: cap, cap1, cap10, cap2, ...
    named = []
    for i, p in enumerate(parts):
        named.append(os.path.join(os.path.dirname(p), "cap" + (str(i) if i else "")))
        os.rename(p, named[-1])
    glob_order = sorted(named)
    expect(glob_order != named, "the glob order is the time order")
    for order, name in ((named[::-1], "reversed"), (glob_order, "as a glob sorts them")):
        r = SUITE.ok("-q", *OPTS, *inputs_args(order))
        same_events(r.events, want, name)


@SUITE.test
def files_that_overlap_in_time_are_reported():
    a, _ = popgen(TMP, "overlap-a", "-s", "41", "-n", "3")
    b, _ = popgen(TMP, "overlap-b", "-s", "42", "-n", "3")  # the same start time
    r = SUITE.ok("-r", a, "-r", b)
    expect("overlap in time" in r.err, r.err)
    parts = rotated_parts(a)
    r = SUITE.ok("-r", parts[1], "-r", parts[0])
    expect("overlap" not in r.err, f"rotated parts reported as overlapping: {r.err}")


@SUITE.test
def standard_input_given_twice_is_a_usage_error():
    r = SUITE.run("-r", "-", "-r", "-", stdin=b"")
    expect(r.code == 1 and "standard input" in r.err, f"exit {r.code}: {r.err}")


# ---- stopping ---------------------------------------------------------------------------

def stop_while_reading(sig):
    """popsift reading a FIFO that holds the first half of a capture of long sessions,
    stopped by `sig` while it waits for the rest."""
    cap, _ = popgen(TMP, f"stop-{sig}", "-s", "51", "-n", "8", "-c", "8", "--msg-max", "64K")
    data = open(cap, "rb").read()
    header, recs = pcap_records(cap)
    half = len(header) + sum(len(r) for r in recs[:len(recs) // 2])
    f = Feeder(data, hold_after=half)
    out = tmp("stopped.json")
    p = subprocess.Popen([SUITE.popsift, "-r", f.path, "-o", out], stderr=subprocess.PIPE)
    expect(f.held.wait(FIFO_TIMEOUT), "popsift did not read the first half")
    time.sleep(1.0)  # what the FIFO still holds is read, then popsift waits for more
    p.send_signal(sig)
    try:
        p.wait(30)
    finally:
        p.kill()
        f.release()
    return p.returncode, p.stderr.read().decode(errors="replace"), out


@SUITE.test
def sigint_and_sigterm_stop_the_reading_cleanly():
    for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        code, err, out = stop_while_reading(sig)
        expect(code == status, f"{sig.name}: exit {code}, want {status}: {err}")
        expect("events written" in err and "reading stopped" in err, f"no summary: {err}")
        with open(out, "rb") as fh:
            evs = parse_events(fh.read(), out)  # every line whole
        ended = [e["session"]["end_reason"] for e in of_type(evs, "session")]
        expect("interrupted" in ended, f"{sig.name}: end reasons {ended}")


def read_one_line_and_close(argv, feeder, ignore_sigpipe):
    pre = (lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN)) if ignore_sigpipe else None
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pre)
    watchdog = threading.Timer(FIFO_TIMEOUT, p.kill)
    watchdog.start()
    try:
        first = p.stdout.readline()
        p.stdout.close()
        p.wait(FIFO_TIMEOUT)
    finally:
        watchdog.cancel()
        p.kill()
        feeder.release()
    return first, p.returncode, p.stderr.read().decode(errors="replace")


@SUITE.test
def a_closed_standard_output_stops_the_run_at_once_and_quietly():
    cap, _ = popgen(TMP, "epipe", "--short", "-n", "60000", "-c", "64", "-s", "61")
    data = open(cap, "rb").read()
    for extra in ([], ["--single-thread"]):
        for ignore in (False, True):
            f = Feeder(data)
            first, code, err = read_one_line_and_close([SUITE.popsift, "-r", f.path, *extra],
                                                       f, ignore)
            what = f"{extra} SIGPIPE {'ignored' if ignore else 'default'}"
            expect(json.loads(first)["event_type"], what)
            expect(code == 141, f"{what}: exit {code}: {err}")
            expect(err == "", f"{what}: not quiet: {err}")
            expect(not f.done.is_set(), f"{what}: the whole capture was read first")


# ---- cut frames -------------------------------------------------------------------------

@SUITE.test
def frames_cut_by_the_snapshot_length_are_reported_and_their_loss_counted():
    cut = tmp("s80.pcap")
    editcap("-F", "pcap", "-s", "80", DOVECOT, cut)
    _, recs = pcap_records(cut)
    missing = 0
    for rec in recs:
        caplen, length = int.from_bytes(rec[8:12], "little"), int.from_bytes(rec[12:16], "little")
        missing += length - caplen
    r = SUITE.ok("-r", cut)
    gaps = int(re.search(r"(\d+) bytes lost in gaps", r.err)[1])
    expect("frames cut by the capture's snapshot length" in r.err, r.err)
    expect(gaps >= 0.9 * missing, f"{gaps} bytes lost in gaps, {missing} not captured")
    sessions = [s["session"] for s in of_type(r.events, "session")]
    expect(sum(s.get("snaplen_cut", 0) for s in sessions) >= 20, sessions)
    expect(all(not m["complete"] for m in (e["message"] for e in of_type(r.events, "message"))),
           "a message passes for complete")
    whole = SUITE.events("-r", DOVECOT)
    expect(not any("snaplen_cut" in s["session"] for s in of_type(whole, "session")),
           "snaplen_cut in a capture nothing was cut from")


# ---- -f with -r ---------------------------------------------------------------------------

@SUITE.test
def filters_apply_to_files_per_link_type():
    evs = SUITE.events("-r", DOVECOT)
    ports = sorted({e["src_port"] for e in evs})
    one = SUITE.events("-r", DOVECOT, "-f", f"tcp port {ports[0]}")
    expect({e["src_port"] for e in one} == {ports[0]}, f"{len(one)} events")
    same_events(one, [e for e in evs if e["src_port"] == ports[0]], "-f one client")
    parts = [popgen(TMP, f"filter-{lt}", "-s", str(70 + i), "-n", "3", "--linktype", lt)[0]
             for i, lt in enumerate(("eth", "sll2"))]
    mixed = tmp("filter-mixed.pcapng")
    subprocess.run(["mergecap", "-F", "pcapng", "-w", mixed, *parts], check=True)
    both = SUITE.events("-r", mixed, "-f", "tcp")
    expect(len(of_type(both, "session")) == 6, "-f tcp lost the SLL2 interface's sessions")


@SUITE.test
def an_invalid_filter_is_a_usage_error_before_reading():
    r = SUITE.run("-r", DOVECOT, "-f", "tcp port")
    expect(r.code == 1 and "filter" in r.err and not r.out, f"exit {r.code}: {r.err}")


# ---- pcap_cnt ---------------------------------------------------------------------------

def tshark_frames(path):
    """{frame number: (epoch microseconds, {ports})} as tshark reads the file."""
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number", "-e",
                          "frame.time_epoch", "-e", "tcp.srcport", "-e", "tcp.dstport"],
                         capture_output=True, text=True, check=True).stdout
    frames = {}
    for line in out.splitlines():
        num, t, *ports = line.split("\t")
        sec, _, frac = t.partition(".")
        frames[int(num)] = (int(sec) * 10**6 + int((frac + "000000")[:6]),
                            {int(p) for p in ports if p})
    return frames


def micros(ts):
    """An event's ISO timestamp as epoch microseconds."""
    import calendar
    day, _, rest = ts.rstrip("Z").partition("T")
    hms, _, us = rest.partition(".")
    t = calendar.timegm(time.strptime(day + " " + hms, "%Y-%m-%d %H:%M:%S"))
    return t * 10**6 + int(us)


def check_pcap_cnt(path, evs):
    """Each event's pcap_cnt is a frame of its flow sent at the event's time; an event
    a session's end brings out (its capture ended, it timed out) comes after that frame."""
    frames = tshark_frames(path)
    late = {e["flow_id"] for e in of_type(evs, "session")
            if e["session"]["end_reason"] in ("capture-end", "timeout", "evicted", "interrupted")}
    for e in evs:
        n = e["pcap_cnt"]
        expect(n in frames, f"pcap_cnt {n} beyond the capture")
        t, ports = frames[n]
        expect({e["src_port"], e["dest_port"]} == ports, f"frame {n} is not of the flow: {e}")
        if e["event_type"] == "session":
            t0, _ = frames[e["pcap_cnt_first"]]
            expect(t0 == micros(e["session"]["start"]), f"pcap_cnt_first {e}")
            expect(t <= micros(e["timestamp"]), f"a session's last frame after its end: {e}")
        elif e["flow_id"] in late:
            expect(t <= micros(e["timestamp"]), f"frame {n} after the event: {e}")
        else:
            expect(t == micros(e["timestamp"]), f"frame {n} is not the event's packet: {e}")


@SUITE.test
def pcap_cnt_is_the_frame_of_the_events_last_packet_as_tshark_numbers_it():
    n = 0
    for cap in captures():
        evs = SUITE.events(*OPTS, "-r", cap)
        expect(all("pcap_cnt" in e for e in evs), f"{cap}: an event without pcap_cnt")
        check_pcap_cnt(cap, evs)
        n += len(evs)
    expect(n > 500, f"only {n} events checked")
    return f"{n} events checked against tshark"


@SUITE.test
def pcap_cnt_counts_over_all_files_in_the_order_read():
    cap, _ = popgen(TMP, "count", "-s", "81", "-n", "6", "-c", "3")
    want = SUITE.events("-r", cap)
    parts = rotated_parts(cap)
    r = SUITE.ok("-r", parts[2], "-r", parts[0], "-r", parts[1])
    same_events(r.events, want, "parts given out of order")  # pcap_cnt included
    expect("in the order of their first packets" in r.err, r.err)
    check_pcap_cnt(cap, r.events)


# ---- done when ----------------------------------------------------------------------------

def variants(cap):
    """(name, popsift input arguments, FIFO feeder or None) of one capture."""
    ng = cap if open(cap, "rb").read(4) == b"\x0a\x0d\x0d\x0a" else pcapng(cap)
    out = [("pcapng", ["-r", ng], None)]
    out += [(codec, ["-r", compress(ng, codec)], None) for codec in CODECS]
    f = Feeder(open(cap, "rb").read())
    out.append(("FIFO", ["-r", f.path], f))
    out.append(("rotated, reversed", inputs_args(rotated_parts(cap)[::-1]), None))
    return out


@SUITE.test
def every_capture_in_every_form_gives_the_events_of_the_original():
    n = 0
    for cap in captures():
        want = SUITE.events(*OPTS, "-r", cap)
        for name, args, feeder in variants(cap):
            try:
                r = SUITE.run("-q", *OPTS, *args, timeout=FIFO_TIMEOUT)
            finally:
                if feeder:
                    feeder.release()
            what = f"{os.path.relpath(cap, ROOT)} ({name})"
            expect(r.code == 0, f"{what}: exit {r.code}: {r.err}")
            same_events(r.events, want, what)
            n += 1
    return f"{n} variants"


if __name__ == "__main__":
    sys.exit(SUITE.main(timed=True))
