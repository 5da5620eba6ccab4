#!/usr/bin/env python3
"""Generates the TLS fixtures of tests/unit/test_tls_*.c (tests/tls/fixtures/).

Each fixture is one TLS session between python's ssl module as client and as
server, over a pair of MemoryBIOs (no sockets): the bytes each side wrote, in
the order they crossed, the client's key log (keylog_filename), the
application data each side sent, and what the metadata must say. The
dialogue is POP3-shaped so the plaintext is what phase 2 will hand to the
POP3 dissector.

What the metadata must say comes from outside popsift: certificate fields
from the openssl command line, IANA cipher names from `openssl ciphers
-stdname`, JA3/JA3S from tshark's tls.handshake.ja3 on a pcap of the
session (written here), JA4 from a small implementation of FoxIO's
technical_details/JA4.md below, independent of the C one.

Certificates (a CA-signed one, a self-signed one, an expired one with a
UTF-8 organisation) are made with the openssl command line. Two things the
ssl module cannot do are done through ctypes on its own libssl: choosing
the TLS 1.3 cipher suite (SSL_CTX_set_ciphersuites) and sending a KeyUpdate
(SSL_key_update); the pointers are checked before use.

Fixture file: b"PSTLSFX1", then entries of tag (1 octet), length (4, big
endian), data. Tags: C/S wire octets client->server / server->client, in
order; A/B cleartext before TLS (STLS) client/server, not TLS; K key log; c/s
the application data each side sent; M lines "key=value" the metadata must
match.

  python3 tests/tls/make-fixtures.py              all fixtures, tests/tls/fixtures/
  python3 tests/tls/make-fixtures.py --only NAME  one of them
  python3 tests/tls/make-fixtures.py --big DIR    only the >1 MB one (a unit test
                                                  makes it at run time: not committed)
  python3 tests/tls/make-fixtures.py --bench N DIR  a TLS 1.3 AES-128-GCM stream
                                                  of N MB (the measurement)
  python3 tests/tls/make-fixtures.py --fuzz-corpus  seeds for tests/fuzz/fuzz_tls.c
                                                  from the committed fixtures
"""
import argparse
import ctypes
import datetime
import hashlib
import os
import re
import ssl
import struct
import subprocess
import sys
import tempfile
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from craft import Capture  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlsmem  # noqa: E402

MAGIC = b"PSTLSFX1"
HERE = os.path.dirname(os.path.abspath(__file__))
SNI = "pop.example.test"

# --- libssl through ctypes ---------------------------------------------------

LIBSSL = ctypes.CDLL("libssl.so.3")
LIBSSL.SSL_get_version.restype = ctypes.c_char_p
LIBSSL.SSL_get_version.argtypes = [ctypes.c_void_p]
LIBSSL.SSL_CTX_get_options.restype = ctypes.c_uint64
LIBSSL.SSL_CTX_get_options.argtypes = [ctypes.c_void_p]
LIBSSL.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
LIBSSL.SSL_CTX_ctrl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
LIBSSL.SSL_CTX_ctrl.restype = ctypes.c_long
LIBSSL.SSL_key_update.argtypes = [ctypes.c_void_p, ctypes.c_int]
LIBSSL.SSL_CTX_set_max_early_data.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
LIBSSL.SSL_get_SSL_CTX.restype = ctypes.c_void_p
LIBSSL.SSL_get_SSL_CTX.argtypes = [ctypes.c_void_p]
LIBSSL.SSL_write_early_data.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                        ctypes.POINTER(ctypes.c_size_t)]
SSL_CTRL_SET_GROUPS_LIST = 92
SSL_KEY_UPDATE_REQUESTED = 1
OP_NO_ENCRYPT_THEN_MAC = 1 << 19


def ctx_ptr(ctx):
    """The SSL_CTX* of an ssl.SSLContext (CPython's PySSLContext: after PyObject_HEAD)."""
    p = ctypes.c_void_p.from_address(id(ctx) + 16).value
    if LIBSSL.SSL_CTX_get_options(p) != ctx.options:
        raise SystemExit("make-fixtures: this python's SSLContext layout is not the expected one")
    return p


def ssl_ptr(obj):
    """The SSL* of an ssl.SSLObject (PySSLSocket: PyObject_HEAD, Socket, ssl)."""
    p = ctypes.c_void_p.from_address(id(obj._sslobj) + 24).value
    if LIBSSL.SSL_get_SSL_CTX(p) != ctx_ptr(obj.context):
        raise SystemExit("make-fixtures: this python's SSLObject layout is not the expected one")
    return p


# --- certificates ---------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_certs(d):
    """CA-signed, self-signed and expired server certificates in directory d."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "3650", "-subj", "/C=ZZ/O=popsift tests/CN=popsift test root", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
            "-subj", "/C=ZZ/O=popsift tests/CN=" + SNI, cwd=d)
    with open(os.path.join(d, "srv.ext"), "w") as f:
        f.write("subjectAltName = DNS:pop.example.test, DNS:mail.example.test, "
                "IP:192.0.2.10, email:postmaster@example.test\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial",
            "0x1234567890ABCDEF", "-days", "3650", "-sha256", "-extfile", "srv.ext",
            "-out", "srv.pem", cwd=d)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "self.key", "-out", "self.pem", "-days", "3650",
            "-subj", "/CN=self.example.test", "-addext", "subjectAltName=DNS:self.example.test",
            cwd=d)
    # An expired one: only `openssl ca` sets both dates in OpenSSL 3.0.
    for name, text in (("index.txt", ""), ("serial", "0A\n"), ("ca.cnf", CA_CNF)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "exp.key", "-out", "exp.csr",
            "-utf8", "-subj", "/O=B\u00fccher & Co/CN=expired.example.test", cwd=d)
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
            "-in", "exp.csr", "-out", "exp.pem", "-notext", "-utf8",
            "-startdate", "20200101000000Z", "-enddate", "20210101000000Z", cwd=d)
    return {"ca": ("srv.pem", "srv.key", False), "self": ("self.pem", "self.key", True),
            "expired": ("exp.pem", "exp.key", False)}


CA_CNF = """[ca]
default_ca = ca_default
[ca_default]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
organizationName = optional
commonName = supplied
"""


def x509_field(path, *args):
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", *args], check=True,
                         capture_output=True).stdout.decode("utf-8")
    return out.strip()


def cert_expect(path, self_signed):
    """What the metadata must say of certificate `path`, by the openssl command line."""
    nameopt = ["-nameopt", "oneline,-space_eq,-esc_msb,utf8"]
    subject = x509_field(path, "-subject", *nameopt).split("=", 1)[1]
    issuer = x509_field(path, "-issuer", *nameopt).split("=", 1)[1]
    serial = x509_field(path, "-serial").split("=", 1)[1]

    def epoch(s):
        t = datetime.datetime.strptime(s.split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
        return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())

    fp = x509_field(path, "-fingerprint", "-sha256").split("=", 1)[1].replace(":", "").lower()
    sans = []
    text = x509_field(path, "-ext", "subjectAltName")
    for part in re.split(r",\s*", text.split("\n", 1)[1].strip()) if "\n" in text else []:
        kind, value = part.split(":", 1)
        sans.append({"DNS": "dns", "IP Address": "ip", "email": "email", "URI": "uri"}[kind] +
                    ":" + value)
    return [("subject", subject), ("issuer", issuer), ("serial", serial),
            ("not_before", str(epoch(x509_field(path, "-startdate")))),
            ("not_after", str(epoch(x509_field(path, "-enddate")))), ("sha256", fp),
            ("self_signed", "1" if self_signed else "0"), ("san", ",".join(sans))]


# --- a session over memory BIOs ---------------------------------------------------

class Session:
    """One TLS connection between a client and a server SSLObject."""

    def __init__(self, cctx, sctx, tr, session=None):
        self.tr = tr
        self.cin, self.cout, self.sin, self.sout = (ssl.MemoryBIO() for _ in range(4))
        self.client = cctx.wrap_bio(self.cin, self.cout, server_hostname=SNI, session=session)
        self.server = sctx.wrap_bio(self.sin, self.sout, server_side=True)
        self.sent = {"c": bytearray(), "s": bytearray()}
        self.received = {"c": bytearray(), "s": bytearray()}

    def pump(self):
        moved = True
        while moved:
            moved = False
            data = self.cout.read()
            if data:
                self.tr.add(b"C", data)
                self.sin.write(data)
                moved = True
            data = self.sout.read()
            if data:
                self.tr.add(b"S", data)
                self.cin.write(data)
                moved = True

    def handshake(self):
        tlsmem.handshake(self.client, self.server, self.pump, "make-fixtures")
        self.drain()

    def drain(self):
        """Reads whatever each side has (tickets, key updates) until quiet."""
        for _ in range(8):
            for key, obj in (("c", self.client), ("s", self.server)):
                while True:
                    try:
                        data = obj.read(1 << 20)
                    except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                        break
                    if not data:
                        break
                    self.received[key] += data
            self.pump()

    def send(self, side, data):
        obj = self.client if side == "c" else self.server
        view = memoryview(data)
        while view:
            n = obj.write(view[:1 << 20])
            view = view[n:]
            self.pump()
            self.drain()
        self.sent[side] += data

    def close(self):
        for obj in (self.client, self.server):
            try:
                obj.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError, ssl.SSLError):
                pass
            self.pump()


class Transcript:
    def __init__(self):
        self.entries = []

    def add(self, tag, data):
        if data:
            self.entries.append((tag, bytes(data)))

    def wire(self, tag):
        return b"".join(d for t, d in self.entries if t == tag)

    def save(self, path):
        with open(path, "wb") as f:
            f.write(MAGIC)
            for tag, data in self.entries:
                f.write(tag + struct.pack(">I", len(data)) + data)


def dialogue(sess, message_size):
    """A POP3-shaped exchange; the message is message_size octets of text."""
    line = b"The quick brown fox jumps over the lazy dog, popsift test line.\r\n"
    body = (line * (message_size // len(line) + 1))[:message_size - 2] + b"\r\n"
    steps = [("s", b"+OK popsift TLS fixture ready\r\n"), ("c", b"USER alice\r\n"),
             ("s", b"+OK\r\n"), ("c", b"PASS wonderland\r\n"), ("s", b"+OK 1 message\r\n"),
             ("c", b"RETR 1\r\n"),
             ("s", b"+OK %d octets\r\n" % len(body) + b"Subject: fixture\r\n\r\n" + body + b".\r\n"),
             ("c", b"QUIT\r\n"), ("s", b"+OK bye\r\n")]
    for side, data in steps:
        sess.send(side, data)


# --- contexts ------------------------------------------------------------------------

VERSIONS = {"1.0": ssl.TLSVersion.TLSv1, "1.1": ssl.TLSVersion.TLSv1_1,
            "1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def contexts(cfg, certs, certdir, keylog):
    cert, key, _ = certs[cfg.get("cert", "ca")]
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(os.path.join(certdir, cert), os.path.join(certdir, key))
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    for ctx in (sctx, cctx):
        ctx.minimum_version = ctx.maximum_version = VERSIONS[cfg["version"]]
        if cfg["version"] != "1.3":
            # Old versions and suites need security level 0 on Debian 12.
            ctx.set_ciphers(cfg["suite"] + ":@SECLEVEL=0")
        else:
            LIBSSL.SSL_CTX_set_ciphersuites(ctx_ptr(ctx), cfg["suite"].encode())
        if cfg.get("no_etm"):
            ctx.options |= OP_NO_ENCRYPT_THEN_MAC
        if cfg.get("no_ticket"):
            ctx.options |= ssl.OP_NO_TICKET
        ctx.set_alpn_protocols(["pop3"])
    if cfg.get("early_data"):
        LIBSSL.SSL_CTX_set_max_early_data(ctx_ptr(sctx), 16384)
    if cfg.get("hrr"):
        # The client's first key share (X25519) is not one the server takes.
        LIBSSL.SSL_CTX_ctrl(ctx_ptr(sctx), SSL_CTRL_SET_GROUPS_LIST, 0, b"P-384")
        LIBSSL.SSL_CTX_ctrl(ctx_ptr(cctx), SSL_CTRL_SET_GROUPS_LIST, 0, b"X25519:P-384")
    cctx.keylog_filename = keylog
    return cctx, sctx


def run_session(cfg, cctx, sctx, session=None, message_size=2000):
    tr = Transcript()
    sess = Session(cctx, sctx, tr, session)
    if cfg.get("early_data") and session is not None:
        # 0-RTT data the server does not read (so it rejects it, RFC 8446
        # §4.2.10): on the wire, never in either side's plaintext.
        early = b"NOOP sent as 0-RTT data\r\n"
        written = ctypes.c_size_t(0)
        if LIBSSL.SSL_write_early_data(ssl_ptr(sess.client), early, len(early),
                                       ctypes.byref(written)) != 1:
            raise SystemExit("make-fixtures: SSL_write_early_data failed")
        sess.pump()
    if cfg.get("stls"):
        tr.add(b"B", b"+OK popsift\r\n")
        tr.add(b"A", b"STLS\r\n")
        tr.add(b"B", b"+OK Begin TLS negotiation\r\n")
    sess.handshake()
    dialogue(sess, message_size)
    if cfg.get("key_update"):
        LIBSSL.SSL_key_update(ssl_ptr(sess.client), SSL_KEY_UPDATE_REQUESTED)
        sess.send("c", b"NOOP\r\n")
        sess.send("s", b"+OK after a key update\r\n")
        sess.send("c", b"STAT\r\n")
        sess.send("s", b"+OK 1 %d\r\n" % message_size)
    sess.close()
    if sess.received["s"] != sess.sent["c"] or sess.received["c"] != sess.sent["s"]:
        raise SystemExit("make-fixtures: a side did not receive what the other sent")
    return sess, tr


# --- expectations from outside popsift -------------------------------------------------

def stdnames():
    """OpenSSL cipher name -> (IANA name, code), from `openssl ciphers -stdname`."""
    tls13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:" \
            "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
    out = subprocess.run(["openssl", "ciphers", "-V", "-stdname", "-ciphersuites", tls13,
                          "ALL:COMPLEMENTOFALL:@SECLEVEL=0"],
                         check=True, capture_output=True).stdout.decode()
    names = {}
    for line in out.splitlines():
        m = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+- (\S+)", line)
        if m:
            names[m.group(4)] = (m.group(3), int(m.group(1) + m.group(2), 16))
    return names


def session_capture(tr):
    """The session as an Ethernet/IPv4/TCP capture to port 995, for tshark."""
    steps = [(tag.decode().lower(), data) for tag, data in tr.entries if tag in (b"C", b"S")]
    return Capture().session(steps, client=("10.0.0.1", 40000), server=("10.0.0.2", 995),
                             close=False)


def tshark_ja3(tr):
    """(ja3, ja3 string, ja3s, ja3s string) as tshark computes them."""
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        session_capture(tr).write(f.name)
        out = []
        for htype, fields in (("1", ("tls.handshake.ja3", "tls.handshake.ja3_full")),
                              ("2", ("tls.handshake.ja3s", "tls.handshake.ja3s_full"))):
            res = subprocess.run(["tshark", "-n", "-r", f.name, "-d", "tcp.port==995,tls",
                                  "-Y", "tls.handshake.type == %s" % htype, "-T", "fields",
                                  "-e", fields[0], "-e", fields[1]],
                                 check=True, capture_output=True).stdout.decode().splitlines()
            if not res or "\t" not in res[0]:
                raise SystemExit("make-fixtures: tshark found no hello type %s" % htype)
            out += res[0].split("\t")[:2]
        return out


def client_hello(tr):
    """The first ClientHello message body, from the client's records."""
    wire, msg, off = tr.wire(b"C"), b"", 0
    while off + 5 <= len(wire) and wire[off] == 22:
        n = struct.unpack(">H", wire[off + 3:off + 5])[0]
        msg += wire[off + 5:off + 5 + n]
        off += 5 + n
        if len(msg) >= 4 and len(msg) >= 4 + int.from_bytes(msg[1:4], "big"):
            break
    return msg[4:4 + int.from_bytes(msg[1:4], "big")]


def ja4(ch):
    """FoxIO JA4 (technical_details/JA4.md) of a ClientHello body."""
    grease = lambda v: (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)
    p = 2 + 32
    p += 1 + ch[p]
    n = int.from_bytes(ch[p:p + 2], "big")
    ciphers = [int.from_bytes(ch[p + 2 + i:p + 4 + i], "big") for i in range(0, n, 2)]
    p += 2 + n
    p += 1 + ch[p]
    end = p + 2 + int.from_bytes(ch[p:p + 2], "big")
    p += 2
    exts, sigalgs, alpn, version = [], [], b"", int.from_bytes(ch[0:2], "big")
    while p < end:
        t, ln = int.from_bytes(ch[p:p + 2], "big"), int.from_bytes(ch[p + 2:p + 4], "big")
        data = ch[p + 4:p + 4 + ln]
        p += 4 + ln
        exts.append(t)
        if t == 13:
            sigalgs = [int.from_bytes(data[2 + i:4 + i], "big") for i in range(0, len(data) - 2, 2)]
        elif t == 16 and len(data) > 3:
            alpn = data[3:3 + data[2]]
        elif t == 43:
            vs = [int.from_bytes(data[1 + i:3 + i], "big") for i in range(0, data[0], 2)]
            version = max(v for v in vs if not grease(v))
    ciphers = [c for c in ciphers if not grease(c)]
    exts = [e for e in exts if not grease(e)]
    sigalgs = [s for s in sigalgs if not grease(s)]
    vname = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}.get(version, "00")
    if not alpn:
        a = "00"
    elif chr(alpn[0]).isalnum() and chr(alpn[-1]).isalnum() and alpn[0] < 128 and alpn[-1] < 128:
        a = chr(alpn[0]) + chr(alpn[-1])
    else:
        a = alpn.hex()[0] + alpn.hex()[-1]
    h = lambda s: hashlib.sha256(s.encode()).hexdigest()[:12]
    b = h(",".join("%04x" % c for c in sorted(ciphers))) if ciphers else "0" * 12
    rest = sorted(e for e in exts if e not in (0, 16))
    cs = ",".join("%04x" % e for e in rest)
    if sigalgs:
        cs += "_" + ",".join("%04x" % s for s in sigalgs)
    c = h(cs) if rest else "0" * 12
    return "t%s%s%02d%02d%s_%s_%s" % (vname, "d" if 0 in exts else "i", min(len(ciphers), 99),
                                      min(len(exts), 99), a, b, c)


# --- the fixtures ------------------------------------------------------------------------

FIXTURES = [
    {"name": "tls13-aes128gcm", "version": "1.3", "suite": "TLS_AES_128_GCM_SHA256"},
    {"name": "tls13-aes256gcm", "version": "1.3", "suite": "TLS_AES_256_GCM_SHA384"},
    {"name": "tls13-chacha20", "version": "1.3", "suite": "TLS_CHACHA20_POLY1305_SHA256",
     "message": 40000},
    {"name": "tls13-aes128ccm", "version": "1.3", "suite": "TLS_AES_128_CCM_SHA256"},
    {"name": "tls13-keyupdate", "version": "1.3", "suite": "TLS_AES_128_GCM_SHA256",
     "key_update": True},
    {"name": "tls13-hrr", "version": "1.3", "suite": "TLS_AES_256_GCM_SHA384", "hrr": True},
    {"name": "tls13-resumed", "version": "1.3", "suite": "TLS_AES_128_GCM_SHA256", "resume": True},
    {"name": "tls13-early-data", "version": "1.3", "suite": "TLS_AES_128_GCM_SHA256",
     "resume": True, "early_data": True},
    {"name": "tls13-stls", "version": "1.3", "suite": "TLS_CHACHA20_POLY1305_SHA256",
     "stls": True},
    {"name": "tls12-aes128gcm", "version": "1.2", "suite": "ECDHE-RSA-AES128-GCM-SHA256",
     "message": 40000},
    {"name": "tls12-aes256gcm", "version": "1.2", "suite": "ECDHE-RSA-AES256-GCM-SHA384"},
    {"name": "tls12-chacha20", "version": "1.2", "suite": "ECDHE-RSA-CHACHA20-POLY1305"},
    {"name": "tls12-aes128ccm", "version": "1.2", "suite": "AES128-CCM"},
    {"name": "tls12-cbc-sha1-etm", "version": "1.2", "suite": "ECDHE-RSA-AES128-SHA"},
    {"name": "tls12-cbc-sha1", "version": "1.2", "suite": "ECDHE-RSA-AES128-SHA", "no_etm": True,
     "message": 40000},
    {"name": "tls12-cbc-sha256-etm", "version": "1.2", "suite": "ECDHE-RSA-AES128-SHA256"},
    {"name": "tls12-cbc-sha384", "version": "1.2", "suite": "ECDHE-RSA-AES256-SHA384",
     "no_etm": True},
    {"name": "tls12-resumed-sessionid", "version": "1.2", "suite": "ECDHE-RSA-AES128-GCM-SHA256",
     "resume": True, "no_ticket": True},
    {"name": "tls12-resumed-ticket", "version": "1.2", "suite": "ECDHE-RSA-AES256-SHA384",
     "resume": True},
    {"name": "tls12-selfsigned", "version": "1.2", "suite": "ECDHE-ECDSA-AES128-GCM-SHA256",
     "cert": "self"},
    {"name": "tls12-expired", "version": "1.2", "suite": "ECDHE-RSA-AES128-GCM-SHA256",
     "cert": "expired"},
    {"name": "tls12-aria-unsupported", "version": "1.2", "suite": "ECDHE-ARIA256-GCM-SHA384"},
    {"name": "tls11-cbc-sha1-etm", "version": "1.1", "suite": "ECDHE-RSA-AES256-SHA"},
    {"name": "tls10-cbc-sha1-etm", "version": "1.0", "suite": "ECDHE-RSA-AES128-SHA",
     "message": 40000},
    {"name": "tls10-cbc-sha1", "version": "1.0", "suite": "AES256-SHA", "no_etm": True},
]


def expectations(cfg, sess, tr, certs, certdir, names):
    cipher = sess.client.cipher()[0]
    iana, code = names[cipher]
    ja3, ja3_full, ja3s, ja3s_full = tshark_ja3(tr)
    version = {"TLSv1.3": 0x0304, "TLSv1.2": 0x0303, "TLSv1.1": 0x0302, "TLSv1": 0x0301}
    m = [("version", "0x%04x" % version[sess.client.version()]), ("cipher", iana),
         ("cipher_code", "0x%04x" % code), ("sni", SNI), ("alpn", sess.client.selected_alpn_protocol()),
         ("ja3", ja3), ("ja3_string", ja3_full), ("ja3s", ja3s), ("ja3s_string", ja3s_full),
         ("ja4", ja4(client_hello(tr))), ("resumed", "1" if sess.client.session_reused else "0"),
         ("hello_retry", "1" if cfg.get("hrr") else "0")]
    if sess.client.session_reused:
        how = "psk" if cfg["version"] == "1.3" else ("session-id" if cfg.get("no_ticket") else "ticket")
        m.append(("resumption", how))
    else:
        cert, _, self_signed = certs[cfg.get("cert", "ca")]
        m += cert_expect(os.path.join(certdir, cert), self_signed)
    if cfg["version"] != "1.3" and "SHA" in cipher and "GCM" not in cipher and "CHACHA" not in cipher \
            and "CCM" not in cipher:
        m.append(("etm", "0" if cfg.get("no_etm") else "1"))
    return m


def make_one(cfg, certs, certdir, names, outdir, message_size=None, with_meta=True):
    """Writes fixture cfg["name"] into outdir; the message is message_size octets
    (default: cfg["message"], else 2000: one record; 40000 spans three)."""
    message_size = message_size or cfg.get("message", 2000)
    with tempfile.TemporaryDirectory() as tmp:
        keylog = os.path.join(tmp, "keylog")
        cctx, sctx = contexts(cfg, certs, certdir, keylog)
        session = None
        if cfg.get("resume"):
            first, _ = run_session(cfg, cctx, sctx)
            session = first.client.session
        sess, tr = run_session(cfg, cctx, sctx, session, message_size)
        if cfg.get("resume") and not sess.client.session_reused:
            raise SystemExit("make-fixtures: %s did not resume" % cfg["name"])
        with open(keylog, "rb") as f:
            keys = f.read()
    final = Transcript()
    final.entries = list(tr.entries)
    final.add(b"K", keys)
    final.add(b"c", sess.sent["c"])
    final.add(b"s", sess.sent["s"])
    if with_meta:
        meta = expectations(cfg, sess, tr, certs, certdir, names)
        final.add(b"M", "".join("%s=%s\n" % kv for kv in meta).encode("utf-8"))
    path = os.path.join(outdir, cfg["name"] + ".fx")
    final.save(path)
    return path


# --- seeds for the fuzz harness -------------------------------------------------------

FUZZ_SEEDS = [  # (fixture, with its keys)
    ("tls13-aes128gcm", True), ("tls13-keyupdate", True), ("tls13-hrr", True),
    ("tls13-resumed", True), ("tls13-aes128ccm", True), ("tls12-cbc-sha1-etm", True),
    ("tls12-cbc-sha384", True), ("tls10-cbc-sha1", True), ("tls12-resumed-ticket", True),
    ("tls12-aes128ccm", True), ("tls12-chacha20", True), ("tls12-expired", False),
    ("tls12-aria-unsupported", True), ("tls11-cbc-sha1-etm", False), ("tls13-early-data", True),
]
FPC, F_KEYS, F_MIDSTREAM = b"FPC0", 0x04, 0x02


def read_fixture(path):
    with open(path, "rb") as f:
        d = f.read()
    assert d[:8] == MAGIC
    out, p = [], 8
    while p < len(d):
        n = struct.unpack(">I", d[p + 1:p + 5])[0]
        out.append((d[p:p + 1], d[p + 5:p + 5 + n]))
        p += 5 + n
    return out


def fuzz_input(entries, keys, flags, gaps=False):
    """fuzz_input.h's format: flags, then chunks that alternate direction (a run of
    same-direction entries gets empty chunks between). gaps: entries may be gap markers."""
    chunks, turn = [], "C" if flags & 1 else "S"
    if keys is not None:
        chunks.append(keys)
        turn = "S" if turn == "C" else "C"
    for tag, data in entries:
        if tag.decode() != turn:
            chunks.append(b"")
            turn = tag.decode()
        chunks.append(data)
        turn = "S" if turn == "C" else "C"
    if any(FPC in c or (not gaps and c.startswith(b"GAP!")) for c in chunks):
        return None
    return bytes([flags]) + FPC.join(chunks)


def fuzz_corpus():
    outdir = os.path.join(HERE, "..", "fuzz", "corpus", "tls")
    os.makedirs(outdir, exist_ok=True)
    for name, with_keys in FUZZ_SEEDS:
        fx = read_fixture(os.path.join(HERE, "fixtures", name + ".fx"))
        wire = [(t, d) for t, d in fx if t in (b"C", b"S")]
        keys = next(d for t, d in fx if t == b"K") if with_keys else None
        seeds = {name: fuzz_input(wire, keys, F_KEYS if with_keys else 0)}
        if with_keys and name == "tls13-aes128gcm":
            # The server's stream picked up in its middle, no handshake.
            server = b"".join(d for t, d in wire if t == b"S")
            seeds[name + "-midstream"] = bytes([F_MIDSTREAM]) + FPC + server[len(server) // 2:]
            # A gap in the server's flight.
            cut = [(t, d) for t, d in wire]
            i = next(k for k, (t, d) in enumerate(cut) if t == b"S" and len(d) > 600)
            t, d = cut[i]
            cut[i:i + 1] = [(t, d[:300]), (t, b"GAP!" + struct.pack("<I", 200)), (t, d[500:])]
            seeds[name + "-gap"] = fuzz_input(cut, keys, F_KEYS, gaps=True)
        for seed, data in seeds.items():
            if data is None:
                print("make-fixtures: %s holds the separator; no seed" % seed)
                continue
            with open(os.path.join(outdir, seed), "wb") as f:
                f.write(data)
            print("make-fixtures: tests/fuzz/corpus/tls/%s (%d octets)" % (seed, len(data)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--big", metavar="DIR", help="only the >1 MB TLS 1.3 fixture, into DIR")
    ap.add_argument("--only", metavar="NAME", help="only this fixture (others are left alone)")
    ap.add_argument("--fuzz-corpus", action="store_true",
                    help="write tests/fuzz/corpus/tls/ from the committed fixtures")
    ap.add_argument("--bench", nargs=2, metavar=("MB", "DIR"),
                    help="one TLS 1.3 AES-128-GCM session carrying MB megabytes, into DIR")
    args = ap.parse_args()
    if args.fuzz_corpus:
        fuzz_corpus()
        return
    # TLS 1.0 and 1.1 are what some fixtures are about.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    with tempfile.TemporaryDirectory() as certdir:
        certs = make_certs(certdir)
        cfg13 = {"version": "1.3", "suite": "TLS_AES_128_GCM_SHA256"}
        if args.big:
            make_one(dict(cfg13, name="big"), certs, certdir, None, args.big,
                     message_size=1100 * 1024, with_meta=False)
            return
        if args.bench:
            make_one(dict(cfg13, name="bench"), certs, certdir, None, args.bench[1],
                     message_size=int(args.bench[0]) << 20, with_meta=False)
            return
        names = stdnames()
        outdir = os.path.join(HERE, "fixtures")
        os.makedirs(outdir, exist_ok=True)
        for cfg in FIXTURES:
            if args.only in (None, cfg["name"]):
                print("make-fixtures:", make_one(cfg, certs, certdir, names, outdir))


if __name__ == "__main__":
    main()
