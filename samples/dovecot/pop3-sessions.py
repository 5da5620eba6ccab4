"""Client side of samples/dovecot-pop3.pcap, run by make-dovecot-samples.py.

Usage: pop3-sessions.py HOST PORT MSGDIR
Runs sessions (a)-(e) from README-dovecot.md against the private dovecot, one TCP connection
each, and exits non-zero if any reply differs from what the capture is documented to hold.
MSGDIR holds <user>-<n>.eml: the mail as a client must receive it (CRLF).
"""
import os
import poplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "dovecot"))
from harness import connect, pop3_client  # noqa: E402

host, port, msgdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def fail(why):
    sys.exit("pop3-sessions: " + why)


def expect(user, n):
    with open(f"{msgdir}/{user}-{n}.eml", "rb") as f:
        return f.read()


def joined(lines):
    return b"".join(line + b"\r\n" for line in lines)


def session(label):
    # The harness's clients advertise an Ethernet-sized MSS in the SYN: loopback's MTU is
    # 64 KiB, and without it a 20 KB RETR reply would be a single segment.
    p = pop3_client(host, port)
    print(f"({label}) greeting: {p.getwelcome().decode()}")
    return p


def must_fail(label, call, *args):
    try:
        resp = call(*args)
    except poplib.error_proto as e:
        print(f"({label}) failed as expected: {e.args[0].decode()}")
        return
    fail(f"({label}) expected a failure, got {resp!r}")


def check_retr(label, p, user, n):
    resp, lines, octets = p.retr(n)
    if joined(lines) != expect(user, n):
        fail(f"({label}) RETR {n} differs from {user}-{n}.eml")
    # dovecot's "+OK n octets" counts the message with CRLF and without dot-stuffing.
    if resp.split()[1] != str(octets).encode():
        fail(f"({label}) RETR {n} announced {resp!r} but carried {octets} octets")
    print(f"({label}) RETR {n} = {user}-{n}.eml ({octets} octets)")


def session_a():
    """USER/PASS with a wrong password, then QUIT."""
    p = session("a")
    p.user("alice")
    must_fail("a", p.pass_, "wrong-password")
    p.quit()


def session_b():
    """USER/PASS, STAT, LIST, UIDL, RETR of every message, TOP 1 0, QUIT."""
    p = session("b")
    p.user("alice")
    p.pass_("wonderland")
    count = p.stat()[0]
    if count != 3:
        fail(f"(b) STAT says {count} messages, expected 3")
    for n, entry in enumerate(p.list()[1], 1):
        if int(entry.split()[1]) != len(expect("alice", n)):
            fail(f"(b) LIST entry {entry!r} does not match alice-{n}.eml")
    print("(b) UIDL:", ", ".join(e.decode() for e in p.uidl()[1]))
    for n in range(1, count + 1):
        check_retr("b", p, "alice", n)
    head = expect("alice", 1).split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    if joined(p.top(1, 0)[1]) != head:
        fail("(b) TOP 1 0 is not the header of alice-1.eml")
    p.quit()


def session_c():
    """APOP, RETR 2, QUIT."""
    p = session("c")
    p.apop("alice", "wonderland")
    check_retr("c", p, "alice", 2)
    p.quit()


def session_d():
    """APOP with a wrong secret, then QUIT."""
    p = session("d")
    must_fail("d", p.apop, "alice", "wrong-secret")
    p.quit()


def session_e():
    """All commands in one write after the greeting; read until the server closes."""
    s = connect(host, port)
    data = b""
    while b"\r\n" not in data:
        data += s.recv(4096)
    print("(e) greeting:", data.split(b"\r\n")[0].decode())
    s.sendall(b"USER bob\r\nPASS builder\r\nSTAT\r\nLIST\r\nRETR 1\r\nQUIT\r\n")
    while chunk := s.recv(65536):
        data += chunk
    s.close()

    lines = data.split(b"\r\n")
    if lines.pop() != b"":
        fail("(e) the reply stream does not end with CRLF")
    lines.reverse()

    def status(cmd):
        line = lines.pop() if lines else b"<nothing>"
        if not line.startswith(b"+OK"):
            fail(f"(e) {cmd}: {line!r}")
        return line

    def body():
        out = []
        while lines and (line := lines.pop()) != b".":
            out.append(line[1:] if line.startswith(b".") else line)
        return out

    status("greeting")
    status("USER")
    status("PASS")
    if status("STAT").split()[1] != b"1":
        fail("(e) bob should have exactly one message")
    status("LIST")
    body()
    status("RETR")
    if joined(body()) != expect("bob", 1):
        fail("(e) RETR 1 differs from bob-1.eml")
    print("(e) RETR 1 = bob-1.eml")
    status("QUIT")
    if lines:
        fail(f"(e) unexpected extra replies {lines!r}")


session_a()
session_b()
session_c()
session_d()
session_e()
