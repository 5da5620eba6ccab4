"""A successful AUTH DIGEST-MD5 session for samples/dovecot-sasl.pcap.

Usage: digest-md5-session.py HOST PORT USER PASSWORD EXPECTED-RETR-1-FILE

curl 7.88 cannot do DIGEST-MD5 against dovecot: it reads `algorithm=` up to the next comma,
gets `"md5-sess"` with the quotes dovecot puts around it, and cancels with `*`. mpop (GNU SASL)
can do it, but would be one more package to install; this client speaks RFC 2831 itself:
CAPA, AUTH DIGEST-MD5, response, empty answer to rspauth, RETR 1, QUIT.
"""
import base64
import hashlib
import os
import re
import socket
import sys

host, port, user, password, expected_file = sys.argv[1:6]
port = int(port)
DIGEST_URI = f"pop/{host}"


def fail(why):
    sys.exit("digest-md5-session: " + why)


def md5(data):
    return hashlib.md5(data).digest()


def hexmd5(data):
    return hashlib.md5(data).hexdigest().encode()


class Conn:
    def __init__(self):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                fail("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def send(self, line):
        self.sock.sendall(line + b"\r\n")

    def ok(self, line):
        self.send(line)
        reply = self.line()
        if not reply.startswith(b"+OK"):
            fail(f"{line!r}: {reply!r}")
        return reply

    def multiline(self):
        out = []
        while (line := self.line()) != b".":
            out.append(line[1:] if line.startswith(b".") else line)
        return out

    def challenge(self):
        reply = self.line()
        if not reply.startswith(b"+ "):
            fail(f"expected a SASL challenge, got {reply!r}")
        return base64.b64decode(reply[2:])


def parse(challenge):
    return {k.decode(): v.strip(b'"') for k, v in
            re.findall(rb'([\w-]+)=("(?:[^"\\]|\\.)*"|[^,]*)', challenge)}


c = Conn()
print("greeting:", c.line().decode())
c.ok(b"CAPA")
c.multiline()
c.send(b"AUTH DIGEST-MD5")
ch = parse(c.challenge())
if b"auth" not in ch.get("qop", b"").split(b","):
    fail(f"server offers no qop=auth: {ch!r}")

realm, nonce = ch.get("realm", b""), ch["nonce"]
cnonce = base64.b64encode(os.urandom(12))
nc, qop, uri = b"00000001", b"auth", DIGEST_URI.encode()
a1 = md5(b":".join([user.encode(), realm, password.encode()])) + b":" + nonce + b":" + cnonce


def digest(a2):
    return hexmd5(b":".join([hexmd5(a1), nonce, nc, cnonce, qop, hexmd5(a2)]))


resp = (b'username="%s",realm="%s",nonce="%s",cnonce="%s",nc=%s,qop=%s,'
        b'digest-uri="%s",response=%s,charset=utf-8'
        % (user.encode(), realm, nonce, cnonce, nc, qop, uri, digest(b"AUTHENTICATE:" + uri)))
c.send(base64.b64encode(resp))
rspauth = parse(c.challenge()).get("rspauth")
if rspauth != digest(b":" + uri):
    fail(f"wrong rspauth {rspauth!r}")
c.send(b"")
reply = c.line()
if not reply.startswith(b"+OK"):
    fail(f"DIGEST-MD5 login failed: {reply!r}")

c.ok(b"RETR 1")
with open(expected_file, "rb") as f:
    if b"".join(line + b"\r\n" for line in c.multiline()) != f.read():
        fail("RETR 1 differs from " + expected_file)
print("DIGEST-MD5 login ok, RETR 1 =", os.path.basename(expected_file))
c.ok(b"QUIT")
