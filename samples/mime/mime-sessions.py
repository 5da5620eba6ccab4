#!/usr/bin/env python3
"""python3 poplib client of samples/mime/mime-pop3.pcap (session a), run by make-mime-samples.py.

Usage: mime-sessions.py HOST PORT USER PASSWORD MSGDIR
Logs in with USER/PASS, retrieves every message with RETR, then TOP 1 0 and TOP 3 10, and
QUITs. Exits non-zero if anything a client receives differs from MSGDIR/mime-<n>.eml (CRLF).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "dovecot"))
from harness import pop3_client  # noqa: E402

host, port, user, password, msgdir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


def fail(why):
    sys.exit("mime-sessions: " + why)


def stored(n):
    with open(f"{msgdir}/mime-{n}.eml", "rb") as f:
        return f.read()


def joined(lines):
    return b"".join(line + b"\r\n" for line in lines)


# The harness's client advertises an Ethernet-sized MSS in the SYN, so the multi-MB reply spans
# many segments (loopback's MTU is 64 KiB) as it would on a real network.
p = pop3_client(host, port, timeout=30)
print(f"(a) greeting: {p.getwelcome().decode()}")
p.user(user)
p.pass_(password)
count, _ = p.stat()
if count != 6:
    fail(f"(a) STAT says {count} messages, expected 6")
for n in range(1, count + 1):
    resp, lines, octets = p.retr(n)
    if joined(lines) != stored(n):
        fail(f"(a) RETR {n} differs from mime-{n}.eml")
    print(f"(a) RETR {n} = mime-{n}.eml ({octets} octets)")
for n, k in ((1, 0), (3, 10)):
    resp, lines, octets = p.top(n, k)
    got = joined(lines)
    if not stored(n).startswith(got):
        fail(f"(a) TOP {n} {k} is not a prefix of mime-{n}.eml")
    print(f"(a) TOP {n} {k} = the first {len(got)} octets of mime-{n}.eml")
p.quit()
