#!/usr/bin/env python3
"""End-to-end tests of content detection (--detect) through the real path
(pcap -> libnids -> probes -> dissector -> JSON): KPOP on ports other than 1109,
recognised by its Kerberos sendauth preamble followed by POP3. The captures are
CRAFTED by tests/e2e/craft.py (no packaged peer speaks KPOP).
Usage: test_detect.py POPSIFT [NAME...]
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import Capture  # noqa: E402
from runner import Suite, expect  # noqa: E402

SUITE = Suite("detect")
TMP = tempfile.mkdtemp(prefix="popsift-detect-")

# A v4 ticket holding POP3-looking text: skipped by its length, never read as commands.
V4_TICKET = b"\x01" * 40 + b"USER evil\r\nPASS stolen\r\n" + b"\x02" * 40
KPOP_V4 = [("c", b"AUTHV0.1KPOPV0.1" + struct.pack("!I", len(V4_TICKET)) + V4_TICKET),
           ("s", b"+OK KPOP server ready\r\n"), ("c", b"USER joe\r\n"), ("s", b"+OK\r\n"),
           ("c", b"PASS dummy\r\n"), ("s", b"+OK joe has 1 message\r\n"),
           ("c", b"RETR 1\r\n"), ("s", b"+OK\r\nSubject: hi\r\n\r\nhello\r\n.\r\n"),
           ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
V5_APREQ = b"\x6e\x81\x90" + b"\x00" * 0x90
KPOP_V5 = [("c", b"\0\0\0\x13KRB5_SENDAUTH_V1.0\0" + struct.pack("!I", 9) + b"KPOPV1.0\0"),
           ("s", b"\0"), ("c", struct.pack("!I", len(V5_APREQ)) + V5_APREQ),
           ("s", b"\0\0\0\0+OK ready\r\n"), ("c", b"USER ann\r\nPASS x\r\n"), ("s", b"+OK\r\n+OK\r\n"),
           ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
POP3 = [("s", b"+OK ready\r\n"), ("c", b"USER bob\r\nPASS hunter2\r\n"), ("s", b"+OK\r\n+OK\r\n")]


def capture():
    cap = Capture().session(KPOP_V4, client=("10.1.0.1", 40001), server=("10.2.0.1", 4109))
    cap.session(KPOP_V5, client=("10.1.0.2", 40002), server=("10.2.0.2", 4110))
    cap.session(POP3, client=("10.1.0.3", 40003), server=("10.2.0.3", 4111))
    return cap.write(os.path.join(TMP, "kpop-odd-ports.pcap"))


def run(*args):
    p = subprocess.run([SUITE.popsift, "-q", "--show-passwords", *args, "-r", capture()],
                       capture_output=True, timeout=120)
    expect(p.returncode == 0 and p.stderr == b"", p.stderr)
    return p.stdout, [json.loads(line) for line in p.stdout.decode().splitlines()]


def by_port(evs, port, kind):
    return [e[kind] for e in evs if e["dest_port"] == port and e["event_type"] == kind]


@SUITE.test
def kpop_on_other_ports_is_followed_only_with_detect():
    raw, evs = run()
    expect(evs == [], "followed ports that are not POP's without --detect: %r" % evs[:3])
    raw, evs = run("--detect")
    protos = sorted({(e["dest_port"], e["app_proto"]) for e in evs})
    expect(protos == [(4109, "kpop"), (4110, "kpop"), (4111, "pop3")], protos)


@SUITE.test
def detected_kpop_logins_are_kerberos_not_cleartext_passwords():
    raw, evs = run("--detect")
    for port, user in ((4109, "joe"), (4110, "ann")):
        auth = by_port(evs, port, "auth")
        expect(len(auth) == 1 and auth[0]["mechanism"] == "KPOP" and auth[0]["username"] == user
               and auth[0]["result"] == "success" and "password" not in auth[0], auth)
        s = by_port(evs, port, "session")
        expect(len(s) == 1 and s[0]["authenticated"] and s[0]["anomalies"] == [], s)
    expect(b"stolen" not in raw and b"evil" not in raw, "the ticket was read as POP3")
    alerts = [(e["dest_port"], e["alert"]["signature"]) for e in evs if e["event_type"] == "alert"]
    expect(alerts == [(4111, "cleartext-password")], alerts)


@SUITE.test
def detected_kpop_session_carries_its_message():
    raw, evs = run("--detect")
    msgs = by_port(evs, 4109, "message")
    expect(len(msgs) == 1 and msgs[0]["size"] == len(b"Subject: hi\r\n\r\nhello\r\n")
           and msgs[0]["complete"], msgs)


if __name__ == "__main__":
    sys.exit(SUITE.main())
