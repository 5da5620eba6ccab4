#!/usr/bin/env python3
"""End-to-end tests for POP2 (RFC 937): the built popsift binary on samples/pop2/pop2.pcap.

The capture holds eight sessions between the project's POP2 test peers
(samples/pop2/README.md); samples/pop2/expected.tsv is the server's own log of every
octet it sent after RETR. Every test runs the real path (pcap -> libnids -> pop2
dissector -> JSON) and compares with that ground truth.
Usage: test_pop2.py POPSIFT_BINARY [NAME...]
Prints one line per test and closes with 'pop2: N passed, N failed'.
"""
import functools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import SAMPLES, Suite, expect, of_type  # noqa: E402

POP2 = os.path.join(SAMPLES, "pop2")
PCAP = os.path.join(POP2, "pop2.pcap")
SUITE = Suite("pop2")


@functools.lru_cache(maxsize=None)
def sift(*args):
    """popsift -q ARGS -r pop2.pcap (exit 0, nothing on stderr), once per ARGS;
    returns (events, raw stdout)."""
    r = SUITE.ok("-q", *args, "-r", PCAP, quiet_stderr=True)
    return r.events, r.out


def sessions(evs):
    """Events grouped per connection, in the order the connections started (= expected.tsv's index)."""
    order = sorted(of_type(evs, "session"), key=lambda e: e["session"]["start"])
    return [[e for e in evs if e["flow_id"] == s["flow_id"]] for s in order]


def expected_rows():
    rows = []
    with open(os.path.join(POP2, "expected.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            idx, user, folder, msg, size, sent, sha, status = line.rstrip("\n").split("\t")
            rows.append((int(idx), user, folder, int(msg), int(size), int(sent), sha, status == "complete"))
    return rows


def passwords():
    with open(os.path.join(POP2, "mail", "users.json")) as f:
        return {u: v["password"] for u, v in json.load(f)["users"].items()}


# ---- messages ----------------------------------------------------------------

@SUITE.test
def every_retrieved_message_matches_the_servers_log():
    evs, _ = sift()
    got = []
    for idx, sess in enumerate(sessions(evs), 1):
        user = next((a["auth"]["username"] for a in of_type(sess, "auth")), None)
        for m in (e["message"] for e in of_type(sess, "message")):
            expect(m["command"] == "RETR", m)
            got.append((idx, user, m["folder"], m["number"], m["announced_size"], m["size"],
                        m["sha256"], m["complete"]))
    want = expected_rows()
    expect(len(want) == 9, want)
    expect(got == want, "\n  got  " + "\n  got  ".join(map(str, got)) +
           "\n  want " + "\n  want ".join(map(str, want)))


@SUITE.test
def the_cut_session_gives_an_incomplete_message_of_the_octets_sent():
    evs, _ = sift()
    cut = sessions(evs)[7]
    m = of_type(cut, "message")[0]["message"]
    expect(m["complete"] is False and m["size"] == 4321 and m["announced_size"] == 9065, m)
    s = of_type(cut, "session")[0]["session"]
    expect(s["end_reason"] == "fin" and s["state"] == "NEXT", s)
    expect(s["anomalies"] == ["pop2.message_truncated"], s["anomalies"])
    expect(s["messages_retrieved"] == 1 and s["gaps"] == 0, s)


@SUITE.test
def nack_gives_the_same_message_twice():
    evs, _ = sift()
    msgs = [e["message"] for e in of_type(sessions(evs)[4], "message")]
    expect(len(msgs) == 2 and msgs[0] == msgs[1] and msgs[0]["number"] == 1, msgs)


# ---- logins --------------------------------------------------------------------

@SUITE.test
def helo_logins_with_passwords_unquoted():
    evs, _ = sift("--show-passwords")
    pw = passwords()
    got = [(a["auth"]["mechanism"], a["auth"]["username"], a["auth"].get("password"),
            a["auth"]["cleartext"], a["auth"]["result"]) for a in of_type(evs, "auth")]
    want = [("HELO", "alice", pw["alice"], True, "success"),
            ("HELO", "alice", "open sesame", True, "failure"),
            ("HELO", "alice", pw["alice"], True, "success"),
            ("HELO", "bob", pw["bob"], True, "success"),
            ("HELO", "carol", pw["carol"], True, "success"),
            ("HELO", "dave", pw["dave"], True, "success"),
            ("HELO", "carol", pw["carol"], True, "success"),
            ("HELO", "frank", pw["frank"], True, "success")]
    expect(pw["alice"] == "open sesame\\x", pw["alice"])
    expect(got == want, got)
    replies = [a["auth"]["reply"] for a in of_type(evs, "auth")]
    expect(replies == ["#3", "-", "#2", "#0", "#3", "#1", "#3", "#1"], replies)


@SUITE.test
def passwords_only_with_show_passwords():
    _, out = sift()
    expect(b'"password"' not in out and b"sesame" not in out and b"bobpw" not in out, "password leaked")
    _, out = sift("--show-passwords")
    expect(b'"password":"open sesame\\\\x"' in out, "alice's password missing with --show-passwords")


@SUITE.test
def every_login_raises_a_cleartext_alert_and_the_wrong_password_auth_failed():
    evs, _ = sift()
    per = [[a["alert"]["signature"] for a in of_type(s, "alert")] for s in sessions(evs)]
    expect(per[1] == ["cleartext-password", "auth-failed"], per)
    expect(all(p == ["cleartext-password"] for i, p in enumerate(per) if i != 1), per)
    expect(of_type(sessions(evs)[1], "alert")[0]["alert"]["username"] == "alice", per)


# ---- envelope and session summaries --------------------------------------------

@SUITE.test
def every_event_is_pop2_on_port_109():
    evs, _ = sift()
    expect(len(evs) > 0, "no events")
    for e in evs:
        expect(e["app_proto"] == "pop2" and e["dest_port"] == 109 and e["proto"] == "TCP", e)


@SUITE.test
def session_summaries_follow_the_dialogue():
    evs, _ = sift()
    ss = [of_type(s, "session")[0]["session"] for s in sessions(evs)]
    expect(len(ss) == 8, len(ss))
    users = [s.get("username") for s in ss]
    # session 2's login failed: its username is the name it tried
    expect(users == ["alice", "alice", "alice", "bob", "carol", "dave", "carol", "frank"], users)
    expect([s["authenticated"] for s in ss] == [True, False] + [True] * 6, ss)
    expect([s["messages_retrieved"] for s in ss] == [3, 0, 1, 0, 2, 1, 1, 1], ss)
    expect([s["messages_deleted"] for s in ss] == [1, 0, 0, 0, 0, 0, 0, 0], ss)
    expect([s["end_reason"] for s in ss] == ["quit", "fin"] + ["quit"] * 5 + ["fin"], ss)
    expect([s["state"] for s in ss] == ["DONE", "AUTH"] + ["DONE"] * 5 + ["NEXT"], ss)
    expect([s.get("folders") for s in ss] ==
           [["INBOX"], None, ["INBOX", "archive"]] + [["INBOX"]] * 5, [s.get("folders") for s in ss])
    expect(all(s["greeting"] == "+ POP2 popsift.test test server ready" for s in ss), ss)
    expect(all(s["anomalies"] == [] for s in ss[:7]), [s["anomalies"] for s in ss])
    # HELO READ RETR ACKS RETR ACKD RETR ACKS QUIT: nine commands in session 1.
    expect(ss[0]["commands"] == 9 and ss[2]["commands"] == 6, ss)



if __name__ == "__main__":
    sys.exit(SUITE.main())
