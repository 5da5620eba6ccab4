#!/usr/bin/env python3
"""Regenerates samples/mailbox/: real captures for mailbox reconstruction (issue 10).

    sudo samples/mailbox/make-mailbox-samples.py [--port 110] [--out DIR]

A private dovecot-pop3d (tests/dovecot/harness.py) on 127.0.0.1, real clients, tcpdump on lo:

  fetchmail-keep.pcap  fetchmail --keep polls alice twice; two messages arrive in between, and
                       the second poll reads only those (fetchmail's UIDL bookkeeping).
  dele.pcap            four poplib sessions of bob: DELE then drop the connection without QUIT
                       (not committed), DELE DELE RSET QUIT (nothing deleted), DELE QUIT
                       (committed), and a last UIDL that shows what is left.

Outputs: the two captures, expected.tsv (one line per session: UIDs listed, messages
retrieved with sha256, deletions and whether dovecot committed them, what the mailbox holds
afterwards, each fact checked against the client and the maildir), messages.tsv and
messages/<user>-<uid>.eml (every message as clients receive it, CRLF). What they hold:
samples/mailbox/README.md. Needs root, dovecot-pop3d, tcpdump, fetchmail, openssl. The outputs
are replaced only after every check has passed; everything started is stopped on exit.
"""
import argparse
import hashlib
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "dovecot"))
from harness import Dovecot, HarnessError, default_mail, publish, require  # noqa: E402


def note(n, subject, body):
    return (f"Return-Path: <alice@popsift.test>\n"
            f"From: Alice <alice@popsift.test>\n"
            f"To: Bob Builder <bob@popsift.test>\n"
            f"Subject: {subject}\n"
            f"Date: Tue, 14 Nov 2023 22:2{n}:00 +0000\n"
            f"Message-ID: <mailbox-bob-{n}@popsift.test>\n"
            f"\n{body}\n").encode()


MAIL = default_mail()
MAIL["bob"] = [note(1, "Bricks", "Bob,\n\nthe bricks arrive on Monday.\n\nAlice"),
               note(2, "Mortar", "Bob,\n\nand the mortar on Tuesday.\n\nAlice"),
               note(3, "Scaffolding", "Bob,\n\nscaffolding on Wednesday.\n.\nAlice")]
NEW_FOR_ALICE = [
    b"Return-Path: <bob@popsift.test>\nFrom: Bob Builder <bob@popsift.test>\n"
    b"To: Alice <alice@popsift.test>\nSubject: Tea moved to five\n"
    b"Date: Wed, 15 Nov 2023 09:00:00 +0000\nMessage-ID: <mailbox-new-1@popsift.test>\n\n"
    b"Alice,\n\nfive, not four.\n\nBob\n",
    b"Return-Path: <bob@popsift.test>\nFrom: Bob Builder <bob@popsift.test>\n"
    b"To: Alice <alice@popsift.test>\nSubject: Bring the report\n"
    b"Date: Wed, 15 Nov 2023 09:01:00 +0000\nMessage-ID: <mailbox-new-2@popsift.test>\n\n"
    b"Alice,\n\nplease bring the quarterly report.\n..and a pen.\n\nBob\n",
]


def die(why):
    sys.exit("make-mailbox-samples: " + why)


def check(cond, why):
    if not cond:
        die(why)


class Row:
    """One line of expected.tsv."""
    FIELDS = ("capture", "session", "client", "src_port", "user", "login", "uidl_listed",
              "retrieved", "deleted", "quit", "committed", "end", "mailbox_after")

    def __init__(self, **kw):
        self.v = kw

    def line(self):
        return "\t".join(str(self.v[f]) for f in self.FIELDS) + "\n"


def uidls(pairs):
    return ",".join(f"{n}:{u}" for n, u in pairs) or "-"


def on_server(dc, user):
    """n:uidl of what dovecot holds now (from the maildir, checked against the harness)."""
    files = dc.maildir_files(user)
    names = sorted(m.name for m in dc.mail[user])
    check(names == files, f"{user}'s maildir holds {files}, expected {names}")
    return uidls((n, m.uidl) for n, m in enumerate(dc.mail[user], 1))


def session_ends_logged(dc, user):
    """dovecot's log lines for the ends of `user`'s mail sessions (the mail process)."""
    return re.findall(rf"pop3\({user}\)<[^>]*><[^>]*>: Info: (?:Disconnected|Logged out).*$",
                      dc.log_tail(10000), re.M)


def wait_session_end(dc, user, n):
    """Waits until dovecot has logged the end of `user`'s n-th session; returns that line."""
    deadline = time.monotonic() + 10
    while len(ends := session_ends_logged(dc, user)) < n:
        check(time.monotonic() < deadline, f"dovecot logged {len(ends)} ends of {user}'s sessions")
        time.sleep(0.05)
    return ends[n - 1]


# ---- fetchmail-keep.pcap --------------------------------------------------------------

def fetchmail_poll(dc, expect_new):
    """One fetchmail --keep poll of alice; returns (uidl listed, [(cmd, n, Message)])."""
    code, log, delivered = dc.fetchmail("alice", "keep", keep=True, fetchall=False)
    check(code == 0, f"fetchmail exit {code}:\n{log}")
    check(len(delivered) == len(expect_new), f"fetchmail delivered {len(delivered)}:\n{log}")
    for m, d in zip(expect_new, delivered):
        check(d.endswith(m.lf), f"fetchmail delivered something else than {m}")
    listed = re.findall(r"POP3< (\d+) ([0-9a-f]{16})$", log, re.M)
    mail = dc.mail["alice"]
    check([(int(n), u) for n, u in listed] == [(i, m.uidl) for i, m in enumerate(mail, 1)],
          f"fetchmail's UIDL reply is not the mailbox: {listed}")
    reads = [(c, int(n)) for c, n in re.findall(r"POP3> (TOP|RETR) (\d+)", log)]
    want = [("TOP", mail.index(m) + 1) for m in expect_new]
    check(reads == want, f"fetchmail read {reads}, expected {want} (TOP n 99999999 with keep)")
    check("POP3> DELE" not in log and "POP3> QUIT" in log, f"fetchmail dialogue:\n{log}")
    return [(int(n), u) for n, u in listed], [(c, n, mail[n - 1]) for c, n in reads]


def capture_fetchmail(dc, stage):
    pcap = os.path.join(stage, "fetchmail-keep.pcap")
    td = dc.start_tcpdump(pcap)
    first = fetchmail_poll(dc, list(dc.mail["alice"]))
    after1 = on_server(dc, "alice")
    new = [dc.add_message("alice", lf) for lf in NEW_FOR_ALICE]
    second = fetchmail_poll(dc, new)
    after2 = on_server(dc, "alice")
    ports = dc.finish_capture(td, pcap, 2)
    rows = []
    for i, ((listed, reads), after) in enumerate(((first, after1), (second, after2)), 1):
        rows.append(Row(capture="fetchmail-keep.pcap", session=i, client="fetchmail --keep",
                        src_port=ports[i - 1], user="alice", login="USER", uidl_listed=uidls(listed),
                        retrieved=",".join(f"{c}:{n}:{m.uidl}:{m.sha256}" for c, n, m in reads),
                        deleted="-", quit="yes", committed="-", end="quit", mailbox_after=after))
    return rows


# ---- dele.pcap ------------------------------------------------------------------------

def bob_session(dc, label, retr=(), dele=(), rset=False, quit=True):
    """poplib: USER/PASS, UIDL, RETR, DELE, [RSET], then QUIT or a close without QUIT."""
    p = dc.pop3()
    port = p.sock.getsockname()[1]
    p.user("bob")
    p.pass_(dc.password("bob"))
    mail = list(dc.mail["bob"])
    listed = [(int(n), u.decode()) for n, u in (e.split() for e in p.uidl()[1])]
    check(listed == [(i, m.uidl) for i, m in enumerate(mail, 1)], f"({label}) UIDL {listed}")
    got = []
    for n in retr:
        _, lines, _ = p.retr(n)
        check(b"".join(x + b"\r\n" for x in lines) == mail[n - 1].crlf, f"({label}) RETR {n}")
        got.append(("RETR", n, mail[n - 1]))
    for n in dele:
        check(p.dele(n).startswith(b"+OK"), f"({label}) DELE {n}")
    if rset:
        check(p.rset().startswith(b"+OK"), f"({label}) RSET")
    committed = "-"
    if quit:
        reply = p.quit()
        if dele and not rset:
            check(reply == b"+OK Logging out, messages deleted.", f"({label}) QUIT: {reply!r}")
            dc.forget_deleted("bob", dele)
            committed = "yes"
        elif dele:
            check(reply == b"+OK Logging out.", f"({label}) QUIT: {reply!r}")
            committed = "no"
    else:
        p.close()  # FIN without QUIT: dovecot must not expunge
        committed = "no" if dele else "-"
    return dict(client="poplib", src_port=port, user="bob", login="USER",
                uidl_listed=uidls(listed),
                retrieved=",".join(f"{c}:{n}:{m.uidl}:{m.sha256}" for c, n, m in got) or "-",
                deleted=uidls((n, mail[n - 1].uidl) for n in dele),
                quit="yes" if quit else "no", committed=committed,
                end="quit" if quit else "fin")


def capture_dele(dc, stage):
    pcap = os.path.join(stage, "dele.pcap")
    td = dc.start_tcpdump(pcap)
    plan = [("drop", dict(retr=[1], dele=[1], quit=False)),
            ("rset", dict(dele=[1, 2], rset=True)),
            ("quit", dict(retr=[2], dele=[2])),
            ("after", dict())]
    sessions = []
    for i, (label, kw) in enumerate(plan, 1):
        s = bob_session(dc, label, **kw)
        # Checked once dovecot's mail process has ended the session (a dropped connection
        # is noticed a moment after the client closes).
        print(f"  ({label}) dovecot: {wait_session_end(dc, 'bob', i).split('Info: ')[1]}")
        s["mailbox_after"] = on_server(dc, "bob")
        sessions.append(s)
    ports = dc.finish_capture(td, pcap, len(plan))
    check(ports == [s["src_port"] for s in sessions], f"client ports {ports} differ")
    return [Row(capture="dele.pcap", session=i, **s) for i, s in enumerate(sessions, 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=110,
                    help="server port (default 110, which popsift follows without -p)")
    ap.add_argument("--out", default=HERE,
                    help="where the outputs go (default samples/mailbox/; another directory to "
                         "compare a new run with the committed captures)")
    args = ap.parse_args()
    require("make-mailbox-samples", ("tcpdump", "fetchmail"))
    try:
        with Dovecot(mail=MAIL, port=args.port, name="popsift-mailbox") as dc:
            stage = dc.tmpdir("out", mode=0o755)
            all_mail = {u: list(ms) for u, ms in dc.mail.items()}
            print("== fetchmail-keep.pcap")
            rows = capture_fetchmail(dc, stage)
            all_mail["alice"] = list(dc.mail["alice"])
            print("== dele.pcap")
            rows += capture_dele(dc, stage)
            write_outputs(stage, rows, all_mail, args.out)
    except HarnessError as e:
        die(str(e))


def write_outputs(stage, rows, all_mail, out):
    with open(os.path.join(stage, "expected.tsv"), "w") as f:
        f.write("#" + "\t".join(Row.FIELDS) + "\n")
        f.writelines(r.line() for r in rows)
    msgdir = os.path.join(stage, "messages")
    os.mkdir(msgdir)
    sums = []
    with open(os.path.join(stage, "messages.tsv"), "w") as f:
        f.write("#user\tuid\tuidl\tsize\tsha256\tfile\tsubject\n")
        for user in sorted(all_mail):
            for m in all_mail[user]:
                name = f"{user}-{m.uid}.eml"
                with open(os.path.join(msgdir, name), "wb") as g:
                    g.write(m.crlf)
                check(hashlib.sha256(m.crlf).hexdigest() == m.sha256, name)
                subject = re.search(rb"^Subject: (.*)$", m.lf, re.M).group(1).decode()
                f.write(f"{user}\t{m.uid}\t{m.uidl}\t{m.size}\t{m.sha256}\tmessages/{name}\t"
                        f"{subject}\n")
                sums.append(f"{m.sha256}  {name}\n")
    with open(os.path.join(msgdir, "SHA256SUMS"), "w") as f:
        f.writelines(sums)
    # Everything checked: replace the outputs.
    publish([(os.path.join(stage, n), n) for n in
             ("fetchmail-keep.pcap", "dele.pcap", "expected.tsv", "messages.tsv", "messages")], out)


if __name__ == "__main__":
    main()
