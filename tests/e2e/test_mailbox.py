#!/usr/bin/env python3
"""Issue 10, end to end: mailbox reconstruction from real dovecot sessions
(samples/mailbox/: fetchmail --keep twice, DELE then drop, DELE+RSET, DELE
then QUIT; expected.tsv was checked against the clients, dovecot's log and the
maildir when the captures were made). Also the text summary (-T text).
Usage: test_mailbox.py POPSIFT [NAME...]
"""
import csv
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import CAPTURES, SAMPLES, Suite, expect  # noqa: E402

SUITE = Suite("mailbox")
BOX = os.path.join(SAMPLES, "mailbox")


def text(*args):
    """What popsift -q ARGS writes on standard output (exit 0), as text."""
    return SUITE.ok("-q", *args, timeout=120).out.decode()


def expected():
    with open(os.path.join(BOX, "expected.tsv")) as f:
        rows = list(csv.DictReader((l.lstrip("#") for l in f), delimiter="\t"))
    return rows


def events():
    out = text("-r", os.path.join(BOX, "fetchmail-keep.pcap"), "-r", os.path.join(BOX, "dele.pcap"))
    return [json.loads(l) for l in out.splitlines()]


def pairs(field):
    return [] if field == "-" else [tuple(x.split(":")) for x in field.split(",")]


@SUITE.test
def every_session_shows_its_uids_retrievals_and_deletion_truth():
    evs = events()
    by_port = {}
    for e in evs:
        by_port.setdefault(e["src_port"], []).append(e)
    for row in expected():
        mine = by_port[int(row["src_port"])]
        s = [e["session"] for e in mine if e["event_type"] == "session"][0]
        msgs = [e["message"] for e in mine if e["event_type"] == "message"]
        got = [(m["command"], str(m["number"]), m["uid"], m["sha256"]) for m in msgs]
        expect(got == pairs(row["retrieved"]), (row["session"], got, row["retrieved"]))
        marked = [(str(d["number"]), d["uid"]) for d in s["marked_for_deletion"]]
        # expected.tsv lists the DELEs sent; a QUIT that committed nothing means RSET undid them
        undone = row["quit"] == "yes" and row["committed"] == "no"
        expect(marked == ([] if undone else pairs(row["deleted"])), (row["session"], marked, row["deleted"]))
        expect(s["messages_listed"] == len(pairs(row["uidl_listed"])), (row["session"], s["messages_listed"]))
        committed = s["deletions_committed"]
        if marked:  # the truth only matters where something stayed marked
            expect(committed is (row["committed"] == "yes"), (row["session"], committed, row["committed"]))
        expect(s["messages_deleted"] == (len(marked) if committed else 0), s)


@SUITE.test
def the_report_shows_new_uids_and_what_was_really_deleted():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "report.json")
        text("--mailbox-report", path, "-r", os.path.join(BOX, "fetchmail-keep.pcap"),
                "-r", os.path.join(BOX, "dele.pcap"))
        boxes = {b["user"]: b for b in (json.loads(l) for l in open(path))}
    alice, bob = boxes["alice"], boxes["bob"]
    expect(all(b["event_type"] == "mailbox" and b["server"] == "127.0.0.1" for b in (alice, bob)), boxes)
    first, second = alice["sessions"]
    expect(first["new_uids"] == ["000000016553f100", "000000026553f100", "000000036553f100"], first)
    # fetchmail --keep: the second poll takes only what UIDL shows as new
    expect(second["new_uids"] == ["000000046553f100", "000000056553f100"], second["new_uids"])
    expect([r["uid"] for r in second["retrieved"]] == second["new_uids"], second["retrieved"])
    fate = {m["uid"]: m["deleted"] for m in bob["messages"]}
    expect(fate == {"000000016553f100": "marked-not-committed", "000000026553f100": "committed",
                    "000000036553f100": None}, fate)
    expect([s["deletions_committed"] for s in bob["sessions"]][0] is False, bob["sessions"][0])
    times = {m["uid"]: m["times_retrieved"] for m in alice["messages"]}
    expect(set(times.values()) == {1}, times)


@SUITE.test
def a_message_whose_octets_differ_from_the_announced_size_says_so():
    out = text("-r", os.path.join(CAPTURES, "suricata-verify-pop3-02.pcap"))
    m = [json.loads(l)["message"] for l in out.splitlines() if '"event_type":"message"' in l][0]
    expect(m["announced_size"] == 6668 and m["size"] == 6670 and m["size_mismatch"] is True, m)
    out = text("-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
    msgs = [json.loads(l)["message"] for l in out.splitlines() if '"event_type":"message"' in l]
    retr = [m for m in msgs if m["command"] == "RETR"]
    expect(retr and not any(m.get("size_mismatch") for m in retr), retr)
    expect(any(m.get("list_size") == m["size"] for m in retr), "LIST sizes not carried")


@SUITE.test
def text_summary_lists_logins_and_a_table_per_server():
    out = text("-T", "text", "-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
    lines = out.splitlines()
    logins = [l for l in lines if " -> " in l]
    expect(len(logins) == 5, logins)
    expect(sum("CLEARTEXT" in l for l in logins) == 3 and "APOP" in out, logins)
    expect("server 127.0.0.1:110 (pop3)" in out and "wonderland" not in out, out)
    table = lines[lines.index("server 127.0.0.1:110 (pop3)") + 2:]
    expect([r.split()[:2] for r in table] == [["alice", "APOP"], ["alice", "USER"], ["bob", "USER"]], table)
    shown = text("-T", "text", "--show-passwords", "-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
    expect("password=wonderland" in shown and "{" not in shown, shown[:300])


@SUITE.test
def the_report_in_text_tells_the_same_story():
    out = text("-T", "text", "--mailbox-report", "-", "-r", os.path.join(BOX, "fetchmail-keep.pcap"),
                  "-r", os.path.join(BOX, "dele.pcap"))
    expect("mailbox alice on 127.0.0.1: 2 sessions, 5 messages known by uid" in out, out[-1500:])
    expect("listed 5 uids, 2 new" in out, out)
    expect("marked for deletion: 1(000000016553f100) -> NOT committed" in out, out)
    expect("marked for deletion: 2(000000026553f100) -> committed" in out, out)


if __name__ == "__main__":
    sys.exit(SUITE.main())
