#!/usr/bin/env python3
"""End-to-end tests of -x/--extract DIR and --mbox FILE (issue 5): the built popsift binary on
real captures (pcap -> libnids -> dissector -> JSON -> files).

Every test recomputes what the events claim (path, size, sha256, attachments) from the files
popsift wrote, and compares with ground truth the capture scripts stored: samples/mime/messages/
(dovecot + poplib, curl, fetchmail; samples/mime/README.md), samples/pop2/expected.tsv, and
popgen's manifest for generated captures (one of them with a 200 MB message).
Usage: test_extract.py POPSIFT_BINARY [NAME...]
Prints one line per test and closes with 'extract: N passed, N failed'.
"""
import hashlib
import mailbox
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import Capture  # noqa: E402
from runner import CAPTURES, SAMPLES, Suite, expect, of_type, pcap_records  # noqa: E402
from runner import popgen as popgen_rows  # noqa: E402

SUITE = Suite("extract")
MIME = os.path.join(SAMPLES, "mime")
MIME_PCAP = os.path.join(MIME, "mime-pop3.pcap")
POP2 = os.path.join(SAMPLES, "pop2")

# extract.h: <time>_<flow_id>_<client>.<port>_<server>.<port>_<number>.<cmd>[.partial][.<k>].eml
NAME_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z_\d+_[0-9A-Za-z.-]+\.\d+_[0-9A-Za-z.-]+\.\d+_\d+"
                     r"\.(retr|top|xmit)(\.partial)?(\.\d+)?\.eml$")


def extract(*args):
    """The message events of popsift -q ARGS, which must exit 0 and write nothing on stderr."""
    return of_type(SUITE.ok("-q", *args, quiet_stderr=True).events, "message")


def refused(*args):
    """popsift -q ARGS, whatever its exit: (exit status, message events, stderr)."""
    r = SUITE.run("-q", *args)
    return r.code, of_type(r.events, "message"), r.err


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sums(path):
    out = {}
    with open(path) as f:
        for line in f:
            digest, name = line.rstrip("\n").split("  ", 1)
            out[name] = digest
    return out


_generated = []


def stored(name):
    """A message or attachment of samples/mime as stored; the 3 MB mime-6.eml, which is not
    kept in the repository, is written again by make-messages.py (deterministic)."""
    path = os.path.join(MIME, "messages", name)
    if not os.path.exists(path):
        if not _generated:
            _generated.append(tempfile.TemporaryDirectory())
            subprocess.run([sys.executable, os.path.join(MIME, "make-messages.py"), _generated[0].name],
                           check=True)
        path = os.path.join(_generated[0].name, name)
    with open(path, "rb") as f:
        return f.read()


def check_files(d, msgs):
    """Asserts that each event's path/size/sha256 describe its file in d exactly, that every
    file is a regular 0600 file with a name made of numbers and addresses, and that d holds
    nothing else. Returns {path: event}."""
    by_path = {}
    for e in msgs:
        m = e["message"]
        expect("path" in m and "extract_error" not in m, m)
        name = m["path"]
        expect(NAME_RE.match(name) and "/" not in name, name)
        expect(name not in by_path, f"two events name {name}")
        full = os.path.join(d, name)
        st = os.lstat(full)
        expect(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, (name, oct(st.st_mode)))
        expect(st.st_size == m["size"], (name, st.st_size, m["size"]))
        expect(sha256_file(full) == m["sha256"], f"{name}: sha256 differs from the event")
        expect(("partial" in name.split(".")) == (not m["complete"]), (name, m["complete"]))
        expect((".top." in name) == (m["command"] == "TOP"), (name, m["command"]))
        by_path[name] = e
    expect(sorted(os.listdir(d)) == sorted(by_path), "DIR holds files no event names")
    return by_path


def user_sessions(msgs):
    """flow_id -> the client that made it, by the order the connections appear (README.md)."""
    order = []
    for e in msgs:
        if e["flow_id"] not in order:
            order.append(e["flow_id"])
    return dict(zip(order, ("poplib", "curl", "fetchmail")))


# ---- real traffic: dovecot + poplib, curl, fetchmail (samples/mime) -------------------------

@SUITE.test
def ground_truth_files_match_their_sha256sums():
    for name, digest in sums(os.path.join(MIME, "messages", "SHA256SUMS")).items():
        expect(hashlib.sha256(stored(name)).hexdigest() == digest, f"SHA256SUMS stale for {name}")
    expect(len(stored("mime-6.eml")) == 3103484, "make-messages.py no longer writes mime-6.eml")


@SUITE.test
def every_retrieved_message_is_a_file_equal_to_the_stored_message():
    truth = sums(os.path.join(MIME, "messages", "SHA256SUMS"))
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "x")
        msgs = extract("-x", d, "-r", MIME_PCAP)
        files = check_files(d, msgs)
        clients = user_sessions(msgs)
        got = {}
        for name, e in files.items():
            m = e["message"]
            expect(m["complete"], m)
            data = open(os.path.join(d, name), "rb").read()
            want = stored(f"mime-{m['number']}.eml")
            if m["command"] == "RETR":
                expect(m["sha256"] == truth[f"mime-{m['number']}.eml"], (name, m))
                expect(m["size"] == m["announced_size"] == len(want), m)
            else:  # TOP n k: the header, the empty line and k body lines of the stored message
                expect(want.startswith(data) and data.endswith(b"\r\n"), f"{name} is not a TOP of it")
            got.setdefault(clients[e["flow_id"]], []).append((m["command"], m["number"]))
        expect(got["poplib"] == [("RETR", n) for n in range(1, 7)] + [("TOP", 1), ("TOP", 3)], got)
        expect(got["curl"] == [("RETR", n) for n in range(1, 6)], got)
        expect(got["fetchmail"] == [("RETR", n) for n in range(1, 6)], got)
        big = [m["message"] for m in msgs if m["message"]["number"] == 6]
        expect(len(big) == 1 and big[0]["size"] > 3_000_000, big)
        # TOP 3 10 stops after the tenth body line, dot-stuffed lines included.
        top3 = [e for e in files.values() if e["message"]["command"] == "TOP" and e["message"]["number"] == 3]
        body = open(os.path.join(d, top3[0]["message"]["path"]), "rb").read().split(b"\r\n\r\n", 1)[1]
        expect(body.count(b"\r\n") == 10 and body.startswith(b"..two dots\r\n.\r\n"), body[:80])


@SUITE.test
def attachments_digests_equal_the_original_files():
    truth = sums(os.path.join(MIME, "messages", "SHA256SUMS"))
    originals = {"chart.png": "attachments/chart.png", "Übersicht.csv": "attachments/uebersicht.csv",
                 "forwarded.eml": "attachments/forwarded.eml"}
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "x")
        msgs = extract("-x", d, "-r", MIME_PCAP)
        firsts = [e["message"] for e in msgs if e["message"]["command"] == "RETR" and e["message"]["number"] == 1]
        expect(len(firsts) == 3, len(firsts))
        for m in firsts:
            atts = m["attachments"]
            expect([a["filename"] for a in atts] == list(originals), atts)
            expect([a["content_type"] for a in atts] == ["image/png", "text/csv", "message/rfc822"], atts)
            for a in atts:
                path = os.path.join(MIME, "messages", originals[a["filename"]])
                expect(a["sha256"] == truth[originals[a["filename"]]], a)
                expect(a["size"] == os.path.getsize(path), a)
        others = [e["message"] for e in msgs if e["message"]["number"] != 1 or e["message"]["command"] == "TOP"]
        expect(all(m["attachments"] == [] for m in others), "attachments where there are none")


@SUITE.test
def headers_are_decoded_with_the_raw_form_beside_even_without_extraction():
    msgs = extract("-r", MIME_PCAP)
    first = {}
    for e in msgs:
        first.setdefault((e["message"]["command"], e["message"]["number"]), e["message"])
    expect(all("path" not in m and "attachments" not in m for m in first.values()), "file fields without -x")
    h = first[("RETR", 2)]["headers"]
    expect(h["subject"] == "日本語の件名 und Grüße aus Köln", h)
    expect(h["subject_raw"] == "=?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN?= =?UTF-8?Q?_und_Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=", h)
    expect(h["from"] == "Ælfríður Ólafsdóttir <aelfridur@popsift.test>", h)
    expect(h["to"] == "André Grün <andre@popsift.test>, Mime Tester <mime@popsift.test>", h)
    expect(h["to_raw"].startswith("=?ISO-8859-1?Q?Andr=E9_Gr=FCn?="), h)
    expect(h["date"] == "Tue, 14 Nov 2023 10:00:02 +0000" and h["message_id"] == "<mime-2@popsift.test>", h)
    expect("date_raw" not in h and "message_id_raw" not in h, h)
    h = first[("RETR", 1)]["headers"]
    expect(h["cc"] == "Audit <audit@popsift.test>, René <rene@popsift.test>" and "cc_raw" in h, h)
    expect(h["subject"] == "Quarterly figures, with attachments" and "subject_raw" not in h, h)
    # 8-bit header bytes: raw UTF-8 passes through; a raw ISO-8859-1 byte is decoded, and the
    # raw form keeps it as \xNN (docs/events.md).
    h = first[("RETR", 4)]["headers"]
    expect(h["subject"] == "Überweisung bestätigt" and "subject_raw" not in h, h)
    expect(h["from"] == "René Lefèvre <rene@popsift.test>", h)
    expect(h["from_raw"] == "Ren\\xe9 Lef\\xe8vre <rene@popsift.test>", h)
    h = first[("RETR", 5)]["headers"]  # empty body
    expect(h["subject"] == "(no body)" and first[("RETR", 5)]["size"] == len(stored("mime-5.eml")), h)
    expect(first[("TOP", 1)]["headers"]["from"] == "Jörg Müller <joerg@popsift.test>", first[("TOP", 1)])


@SUITE.test
def every_capture_in_the_repository_extracts_files_that_match_their_events():
    caps = [os.path.join(CAPTURES, c) for c in sorted(os.listdir(CAPTURES))
            if c.endswith((".pcap", ".pcapng"))]
    caps += [os.path.join(SAMPLES, c) for c in ("dovecot-pop3.pcap", "dovecot-sasl.pcap")]
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, c in enumerate(caps):
            d = os.path.join(tmp, str(i))
            # POP3S (ndpi-pops.pcapng) is on 995; by the file's name, not its path, which may
            # hold "pops" anywhere (a checkout under /home/.../popsift).
            args = ["-p", "995"] if "pops" in os.path.basename(c) else []
            msgs = extract(*args, "-x", d, "-r", c)
            if msgs:
                check_files(d, msgs)
            total += len(msgs)
    expect(total > 60, total)


# ---- path safety -----------------------------------------------------------------------------

@SUITE.test
def a_missing_dir_is_created_0700_and_files_are_0600():
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "new")
        msgs = extract("-x", d, "-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
        expect(stat.S_IMODE(os.lstat(d).st_mode) == 0o700, oct(os.lstat(d).st_mode))
        check_files(d, msgs)
        expect(len(msgs) == 6, len(msgs))


@SUITE.test
def a_second_run_into_the_same_dir_adds_files_and_changes_none():
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "x")
        first = extract("-x", d, "-r", MIME_PCAP)
        before = {n: sha256_file(os.path.join(d, n)) for n in os.listdir(d)}
        second = extract("-x", d, "-r", MIME_PCAP)
        paths = [e["message"]["path"] for e in second]
        expect(not set(paths) & set(before), "a second run reused a name")
        expect(all(re.search(r"\.2\.eml$", p) for p in paths), paths[:3])
        check_files(d, first + second)
        expect(all(sha256_file(os.path.join(d, n)) == h for n, h in before.items()), "a file changed")


@SUITE.test
def symlinks_planted_where_files_would_go_are_not_followed():
    with tempfile.TemporaryDirectory() as tmp:
        learn = os.path.join(tmp, "learn")
        msgs = extract("-x", learn, "-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
        names = [e["message"]["path"] for e in msgs]
        d = os.path.join(tmp, "x")
        os.mkdir(d, 0o700)
        victim = os.path.join(tmp, "victim")
        with open(victim, "wb") as f:
            f.write(b"do not touch")
        os.symlink(victim, os.path.join(d, names[0]))                       # to an existing file
        os.symlink(os.path.join(tmp, "created"), os.path.join(d, names[1]))  # dangling
        os.symlink("/etc/passwd", os.path.join(d, names[2]))
        again = extract("-x", d, "-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
        expect(open(victim, "rb").read() == b"do not touch", "the victim was written through a symlink")
        expect(not os.path.exists(os.path.join(tmp, "created")), "a dangling symlink was followed")
        new = [e["message"]["path"] for e in again]
        expect(not set(new) & set(names[:3]), "an event names a planted symlink")
        for n in names[:3]:
            expect(os.path.islink(os.path.join(d, n)), f"{n}: planted symlink replaced")
        for e in again:
            full = os.path.join(d, e["message"]["path"])
            expect(not os.path.islink(full) and sha256_file(full) == e["message"]["sha256"], e["message"])


@SUITE.test
def a_dir_that_is_a_symlink_is_refused_with_exit_2():
    with tempfile.TemporaryDirectory() as tmp:
        real = os.path.join(tmp, "real")
        os.mkdir(real)
        link = os.path.join(tmp, "link")
        os.symlink(real, link)
        code, msgs, err = refused("-x", link, "-r", MIME_PCAP)
        expect(code == 2 and "symbolic link" in err and link in err, (code, err))
        expect(msgs == [] and os.listdir(real) == [], "something was extracted")


@SUITE.test
def a_file_or_a_missing_parent_as_dir_is_refused_with_exit_2():
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain")
        open(plain, "w").close()
        code, _, err = refused("-x", plain, "-r", MIME_PCAP)
        expect(code == 2 and plain in err, (code, err))
        deep = os.path.join(tmp, "no", "such")
        code, _, err = refused("-x", deep, "-r", MIME_PCAP)
        expect(code == 2 and deep in err and not os.path.exists(os.path.join(tmp, "no")), (code, err))


@SUITE.test
def a_failed_write_is_reported_in_the_event_on_stderr_and_in_the_exit_status():
    def small_files():  # files above 1 MiB fail with EFBIG instead of killing popsift
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "x")
        r = SUITE.run("-q", "-x", d, "-r", MIME_PCAP, preexec_fn=small_files)
        expect(r.code == 2 and "File too large" in r.err and r.err.count("warning") == 1, (r.code, r.err))
        msgs = [e["message"] for e in of_type(r.events, "message")]
        failed = [m for m in msgs if "extract_error" in m]
        expect(len(failed) == 1 and failed[0]["number"] == 6, failed)
        expect(failed[0]["extract_error"] == "File too large" and failed[0]["complete"], failed)
        expect(os.path.getsize(os.path.join(d, failed[0]["path"])) == 1 << 20, "short file")
        expect(len(msgs) == 18 and all(sha256_file(os.path.join(d, m["path"])) == m["sha256"]
                                       for m in msgs if m is not failed[0]), "the other files")


# ---- incomplete messages, other protocols and addresses --------------------------------------

@SUITE.test
def a_message_cut_by_the_end_of_the_capture_is_written_partial():
    header, recs = pcap_records(MIME_PCAP)
    big = stored("mime-6.eml")
    with tempfile.TemporaryDirectory() as tmp:
        # Keep the capture up to the middle of the several-MB RETR 6 of the poplib session.
        total, cut = 0, None
        for i, r in enumerate(recs):
            total += len(r)
            if total > 24 + 1_800_000:
                cut = i
                break
        pcap = os.path.join(tmp, "cut.pcap")
        with open(pcap, "wb") as f:
            f.write(header + b"".join(recs[:cut]))
        d = os.path.join(tmp, "x")
        code, msgs, err = refused("-x", d, "-r", pcap)
        expect(code == 0, (code, err))
        check_files(d, msgs)
        last = msgs[-1]["message"]
        expect(last["number"] == 6 and last["complete"] is False, last)
        expect(".retr.partial.eml" in last["path"] and 0 < last["size"] < len(big), last)
        expect(big.startswith(open(os.path.join(d, last["path"]), "rb").read()), "not a prefix of mime-6")
        expect(all(m["message"]["complete"] for m in msgs[:-1]), "an earlier message incomplete")


def popgen(tmp, name, *args):
    """A popgen capture and every message of its manifest: (pcap, [{client, cmd, number,
    size, sha256, wire}])."""
    pcap, rows = popgen_rows(tmp, name, *args)
    return pcap, [{"client": r["client"], "cmd": c, "number": n, "size": size, "sha256": sha, "wire": wire}
                  for r in rows for c, n, size, sha, wire in r["msgs"]]


@SUITE.test
def gaps_give_partial_files_that_still_match_their_events():
    with tempfile.TemporaryDirectory() as tmp:
        pcap, recs = popgen(tmp, "gaps", "-s", "3", "-n", "6", "--drop", "7", "--msg-max", "64K")
        d = os.path.join(tmp, "x")
        msgs = extract("-x", d, "-r", pcap)
        check_files(d, msgs)
        expect(any(not m["message"]["complete"] for m in msgs), "no message was hit by a gap")
        whole = {r["sha256"] for r in recs if r["wire"] == "ok"}
        for e in msgs:
            if e["message"]["complete"]:
                expect(e["message"]["sha256"] in whole, e["message"])


@SUITE.test
def ipv6_sessions_give_valid_names():
    with tempfile.TemporaryDirectory() as tmp:
        pcap, recs = popgen(tmp, "v6", "-s", "4", "-n", "3", "--ipv6", "--msg-max", "32K")
        d = os.path.join(tmp, "x")
        msgs = extract("-x", d, "-r", pcap)
        check_files(d, msgs)
        expect(msgs and all(":" in e["src_ip"] for e in msgs), "not an IPv6 capture")
        expect(all(":" not in e["message"]["path"] for e in msgs), "a colon in a name")
        expect(sorted(e["message"]["sha256"] for e in msgs) == sorted(r["sha256"] for r in recs), "digests")


@SUITE.test
def pop2_files_are_exactly_the_counted_octets():
    rows = []
    with open(os.path.join(POP2, "expected.tsv")) as f:
        for line in f:
            if not line.startswith("#"):
                rows.append(line.rstrip("\n").split("\t"))
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "x")
        msgs = extract("-x", d, "-r", os.path.join(POP2, "pop2.pcap"))
        check_files(d, msgs)
        got = [(e["message"]["folder"], e["message"]["number"], e["message"]["size"],
                e["message"]["sha256"], e["message"]["complete"]) for e in msgs]
        want = [(r[2], int(r[3]), int(r[5]), r[6], r[7] == "complete") for r in rows]
        expect(got == want, (got, want))
        expect(all("INBOX" not in e["message"]["path"] and "archive" not in e["message"]["path"]
                   for e in msgs), "a folder name (message content) in a file name")


# ---- malformed mail ------------------------------------------------------------------------

def crafted(path, steps, close=True):
    """One connection 10.9.0.1:40001 -> 10.9.0.2:110 carrying steps [('c'|'s', bytes)],
    written to path (tests/e2e/craft.py)."""
    Capture().session(steps, client=("10.9.0.1", 40001), server=("10.9.0.2", 110), close=close).write(path)


# The greeting and a USER/PASS login, before what a crafted session is about.
LOGIN = [("s", b"+OK ready\r\n"), ("c", b"USER u\r\n"), ("s", b"+OK\r\n"), ("c", b"PASS p\r\n"),
         ("s", b"+OK\r\n")]


def dot_stuff(msg):
    return b"".join(b"." + l if l.startswith(b".") else l for l in msg.splitlines(keepends=True))


HOSTILE = [
    # a header section far beyond popsift's 64 KiB header copy, with no empty line at all
    b"Subject: huge\r\nX-Pad: " + b"a" * 100_000 + b"\r\nmore\r\n",
    # broken MIME: NUL and 8-bit bytes in headers, a boundary that never closes, bad base64
    b"From: \x00\xff<x@y>\r\nSubject: =?utf-8?B?!!!?=\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
    b"--zz\r\nContent-Disposition: attachment; filename=\"a\x00b\xff.bin\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n@@@@not base64@@@@\r\n.\r\n--zz\r\n",
    # 2000 nested multiparts
    b"MIME-Version: 1.0\r\n" + b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i)
                                       for i in range(2000)) + b"\r\ninner\r\n",
    # no header at all: the message starts with the empty line
    b"\r\njust a body\r\n",
]


@SUITE.test
def malformed_mail_never_loses_the_file_or_the_event():
    turns = LOGIN[:]
    for n, msg in enumerate(HOSTILE, 1):
        turns += [("c", b"RETR %d\r\n" % n), ("s", b"+OK %d octets\r\n" % len(msg) + dot_stuff(msg) + b".\r\n")]
    turns += [("c", b"QUIT\r\n"), ("s", b"+OK bye\r\n")]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "hostile.pcap")
        crafted(pcap, turns)
        d = os.path.join(tmp, "x")
        mbox = os.path.join(tmp, "out.mbox")
        msgs = extract("-x", d, "--mbox", mbox, "-r", pcap)
        check_files(d, msgs)
        expect([e["message"]["number"] for e in msgs] == [1, 2, 3, 4], msgs)
        for e, want in zip(msgs, HOSTILE):
            expect(open(os.path.join(d, e["message"]["path"]), "rb").read() == want, e["message"]["number"])
            expect(e["message"]["complete"] and isinstance(e["message"]["attachments"], list), e["message"])
        expect(msgs[0]["message"]["headers"]["subject"] == "huge", msgs[0]["message"]["headers"])
        expect(msgs[3]["message"]["headers"] == {}, msgs[3]["message"]["headers"])
        expect(len(mailbox.mbox(mbox)) == 4, "mbox entries")


@SUITE.test
def a_message_that_exhausts_the_mime_parser_keeps_its_file_and_event():
    # 300000 header lines: GMime would hold ~150 MB of header objects. The parser child hits
    # its memory limit (release builds; ASan builds run it without one) and popsift goes on.
    bomb = b"Subject: bomb\r\n" + b"a: b\r\n" * 300_000 + b"\r\nbody\r\n"
    turns = LOGIN + [("c", b"RETR 1\r\n"), ("s", b"+OK\r\n" + bomb + b".\r\n"),
                     ("c", b"RETR 2\r\n"), ("s", b"+OK\r\nSubject: after\r\n\r\nfine\r\n.\r\n"),
                     ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "bomb.pcap")
        crafted(pcap, turns)
        d = os.path.join(tmp, "x")
        msgs = extract("-x", d, "-r", pcap)  # exit 0, nothing on stderr
        check_files(d, msgs)
        first, second = (e["message"] for e in msgs)
        expect(first["size"] == len(bomb) and first["headers"] == {"subject": "bomb"}, first["headers"])
        expect(first["attachments"] == [] and first.get("attachments_error") in
               (None, "the MIME parser reached its memory limit or crashed"), first)
        expect(second["headers"] == {"subject": "after"} and "attachments_error" not in second, second)


@SUITE.test
def a_message_cut_by_an_rst_is_written_partial():
    msg = b"Subject: cut\r\n\r\n" + b"line of the body\r\n" * 500
    turns = LOGIN + [("c", b"RETR 7\r\n"), ("s", b"+OK %d octets\r\n" % len(msg) + msg[:5000])]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "rst.pcap")
        crafted(pcap, turns, close="rst")
        d = os.path.join(tmp, "x")
        msgs = extract("-x", d, "-r", pcap)
        check_files(d, msgs)
        m = msgs[0]["message"] if len(msgs) == 1 else msgs
        expect(m["number"] == 7 and m["complete"] is False and m["path"].endswith("_7.retr.partial.eml"), m)
        expect(open(os.path.join(d, m["path"]), "rb").read() == msg[:5000], "not the octets received")
        expect(m["headers"] == {"subject": "cut"}, m["headers"])


# ---- mbox ----------------------------------------------------------------------------------

def unmbox(data):
    """An mboxrd entry's octets back to the message as on the wire (CRLF, unquoted)."""
    return re.sub(rb"(?m)^>(>*From )", rb"\1", data).replace(b"\n", b"\r\n")


@SUITE.test
def mbox_is_read_by_pythons_mailbox_module_and_holds_the_same_messages():
    with tempfile.TemporaryDirectory() as tmp:
        d, path = os.path.join(tmp, "x"), os.path.join(tmp, "out.mbox")
        msgs = extract("-x", d, "--mbox", path, "-r", MIME_PCAP)
        expect(stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode))
        mb = mailbox.mbox(path)
        keys = mb.keys()
        expect(len(keys) == len(msgs) == 18, (len(keys), len(msgs)))
        for k, e in zip(keys, msgs):
            m = e["message"]
            data = open(os.path.join(d, m["path"]), "rb").read()
            expect(unmbox(mb.get_bytes(k)) == data, f"entry {k} differs from {m['path']}")
            sep = mb.get_message(k).get_from()
            expect(f"flow={e['flow_id']} " in sep and f"client={e['src_ip']}.{e['src_port']} " in sep
                   and f"server={e['dest_ip']}.{e['dest_port']} " in sep
                   and f"command={m['command']} number={m['number']}" in sep, sep)
            expect(re.match(r"popsift \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} ", sep), sep)
        # mboxrd: the body's "From " lines were quoted, so they did not split entries.
        raw = open(path, "rb").read()
        expect(b"\n>From the archive" in raw and b"\n>>From an already" in raw and b"\n>>>From twice" in raw,
               "mboxrd quoting")
        # Without -x the same entries come from a spool file; a second run appends.
        solo = os.path.join(tmp, "solo.mbox")
        extract("--mbox", solo, "-r", MIME_PCAP)
        extract("--mbox", solo, "-r", MIME_PCAP)
        body = lambda b: re.sub(rb"(?m)^From popsift .*\n", b"", b)
        expect(body(open(solo, "rb").read()) == body(raw) * 2, "spooled mbox differs")
        expect(len(mailbox.mbox(solo)) == 36, "second run did not append")


@SUITE.test
def an_mbox_that_is_a_symlink_is_refused_with_exit_2():
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "target")
        link = os.path.join(tmp, "link.mbox")
        os.symlink(target, link)
        code, msgs, err = refused("--mbox", link, "-r", MIME_PCAP)
        expect(code == 2 and "symbolic link" in err and link in err and msgs == [], (code, err))
        expect(not os.path.exists(target), "written through the symlink")


# ---- memory: a 200 MB message streams to disk ----------------------------------------------

def peak_rss_kb(*args):
    """Peak RSS of popsift and of its MIME parser child (wait4 folds a waited-for child's peak
    into its parent's). Under ASan, freed memory waits in a quarantine of up to 256 MB, which
    is ASan's memory, not popsift's: it is kept to 1 MB here."""
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=1"
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([SUITE.popsift, "-q", *args], stdout=subprocess.DEVNULL, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        err.seek(0)
        expect(os.waitstatus_to_exitcode(status) == 0, err.read().decode("utf-8", "replace"))
    return usage.ru_maxrss


@SUITE.test
def a_200_mb_message_streams_to_disk_without_raising_peak_memory():
    with tempfile.TemporaryDirectory() as tmp:
        small, _ = popgen(tmp, "small", "-s", "2", "-n", "1", "-c", "1", "--msg-min", "100K", "--msg-max", "100K")
        base = peak_rss_kb("-x", os.path.join(tmp, "xs"), "-r", small)
        pcap, recs = popgen(tmp, "big", "-s", "2", "-n", "1", "-c", "1", "--msg-min", "200M", "--msg-max", "200M")
        d = os.path.join(tmp, "xb")
        peak = peak_rss_kb("-x", d, "-r", pcap)
        os.unlink(pcap)
        files = os.listdir(d)
        expect(len(files) == len(recs) >= 1 and all(r["size"] >= 200 << 20 for r in recs), (files, recs))
        for r in recs:
            match = [f for f in files if f"_{r['number']}.{r['cmd'].lower()}.eml" in f]
            expect(len(match) == 1, (match, r))
            full = os.path.join(d, match[0])
            expect(os.path.getsize(full) == r["size"] and sha256_file(full) == r["sha256"], r)
            os.unlink(full)
        expect(peak - base <= 5 * 1024, f"peak RSS {peak} KB vs {base} KB for a 100 KB message")


if __name__ == "__main__":
    sys.exit(SUITE.main())
