#!/usr/bin/env python3
"""TLS against a real server and real clients: the project's private dovecot (tests/dovecot/
harness.py) with POP3S on port 995 and STLS on a port of its own, on 127.0.0.7; clients that
write key logs: python3's ssl (keylog_filename), curl (SSLKEYLOGFILE, OpenSSL) and mpop
(SSLKEYLOGFILE, GnuTLS); TLS 1.2 and 1.3, three cipher suites or more of each, CBC with and
without encrypt-then-MAC, resumed sessions, a message over 1 MB. tcpdump records it all.

Every dialogue also runs in clear, with the same client, on the STLS port; read with the key
logs, every TLS session must give the events its cleartext twin gives (logins, passwords,
messages and their sha256 = the maildir's, deletions), none of them cleartext on the wire.
The same with the keys in a pcapng Decryption Secrets Block and no --tls-keylog; JA3/JA3S
as tshark computes them; without keys, the metadata and the alerts; a segment removed from
the 1.3 MB message costs that message, not the session. A second dovecot (127.0.0.8) with an
expired certificate speaks TLS 1.0 (ssl_min_protocol and OpenSSL's security level lowered
on both sides): the alerts say so.

Needs root (dovecot's mail processes, tcpdump on lo) and dovecot, tcpdump, curl, mpop,
tshark, editcap (scripts/install-deps.sh); otherwise every test is skipped with the reason.
Usage: test_tls_live.py POPSIFT [NAME...]
"""
import base64
import contextlib
import hashlib
import json
import importlib.util
import os
import shutil
import ssl
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import ROOT, Skip, Suite, bodies, expect  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "dovecot"))
from harness import Dovecot, client_ports, connect, default_mail  # noqa: E402

SUITE = Suite("tls-live")
HOST = "127.0.0.7"      # POP3S on 995, STLS (and the cleartext twins) on a free port
SNI = "localhost"       # the certificate's name: python and curl send it (mpop sends the address)
OLD_HOST = "127.0.0.8"  # TLS 1.0 and an expired certificate, POP3S on 995
TOOLS = ("dovecot", "tcpdump", "curl", "mpop", "tshark", "editcap")
BIG = 1300 * 1024       # the message over 1 MB
# One login process for every connection (dovecot's "high-performance mode"): by default each
# connection gets a process of its own, with ticket keys and a session cache of its own, so no
# session could be resumed.
SHARED_LOGIN = "service pop3-login {\n  service_count = 0\n  process_min_avail = 1\n}\n"
R = {}                  # what the fixture made: captures, key logs, labels, mail


def libssl():
    """make-fixtures.py's ctypes handle on libssl: python cannot choose a TLS 1.3 suite."""
    spec = importlib.util.spec_from_file_location("make_fixtures",
                                                  os.path.join(ROOT, "tests", "tls", "make-fixtures.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def big_message():
    line = "Line %06d of a message over a megabyte, read inside TLS, byte for byte..........\n"
    body = "".join(line % i for i in range(BIG // 80 + 1))
    return ("From: Bob Builder <bob@popsift.test>\nTo: Alice <alice@popsift.test>\n"
            "Subject: over a megabyte\nMessage-ID: <big@popsift.test>\n\n" + body).encode()


# ---- a POP3 client over any socket -------------------------------------------------------

class Pop:
    def __init__(self, sock, greet=True):
        self.sock = sock
        self.f = sock.makefile("rb")
        self.port = sock.getsockname()[1]
        self.greeting = self.line() if greet else b""

    def line(self):
        line = self.f.readline()
        expect(line.endswith(b"\r\n"), f"connection closed: {line!r}")
        return line

    def cmd(self, text, multi=False):
        self.sock.sendall(text.encode() + b"\r\n")
        reply = self.line()
        body = b""
        if multi and reply.startswith(b"+OK"):
            while (line := self.line()) != b".\r\n":
                body += line
        return reply, body

    def close(self):
        self.f.close()
        self.sock.close()


def alice(p):
    p.cmd("CAPA", True)
    p.cmd("USER alice")
    expect(p.cmd("PASS wonderland")[0].startswith(b"+OK"), "alice's login failed")
    p.cmd("STAT")
    p.cmd("UIDL", True)
    for n in (1, 2):
        expect(p.cmd(f"RETR {n}", True)[0].startswith(b"+OK"), f"RETR {n}")
    p.cmd("TOP 3 5", True)
    p.cmd("QUIT")


def bob(p):
    plain = base64.b64encode(b"\0bob\0builder").decode()
    expect(p.cmd(f"AUTH PLAIN {plain}")[0].startswith(b"+OK"), "bob's login failed")
    p.cmd("LIST", True)
    p.cmd("RETR 1", True)
    p.cmd("DELE 2")
    p.cmd("QUIT")


def big(p):
    p.cmd("USER alice")
    p.cmd("PASS wonderland")
    reply, body = p.cmd("RETR 4", True)
    expect(len(body) > 1 << 20, f"RETR 4: {reply!r}, {len(body)} octets")
    p.cmd("RETR 1", True)
    p.cmd("QUIT")


def apop(p):
    """APOP: a challenge-response login, whose crackable line --hashes writes."""
    ts = p.greeting[p.greeting.index(b"<"):p.greeting.index(b">") + 1]
    expect(p.cmd("APOP alice " + hashlib.md5(ts + b"wonderland").hexdigest())[0].startswith(b"+OK"),
           "APOP failed")
    p.cmd("RETR 2", True)
    p.cmd("QUIT")


DIALOGUES = {"alice": alice, "bob": bob, "big": big, "apop": apop}


# ---- the runs ------------------------------------------------------------------------------

class Runs:
    """Runs the clients one after the other, remembering which label each connection is."""

    def __init__(self, dc, keys):
        self.dc, self.keys = dc, keys
        self.order = {}  # server port -> [label] in connection order
        self.ports = {}  # label -> client port (python's known at once, the others from the capture)
        self.mf = libssl()

    def _note(self, label, server_port, client_port=None):
        self.order.setdefault(server_port, []).append(label)
        if client_port:
            self.ports[label] = client_port

    def context(self, version, cipher=None, tls13=None, no_etm=False):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.dc.cert)
        ctx.minimum_version = ctx.maximum_version = version
        if cipher:
            ctx.set_ciphers(cipher)
        if tls13:
            self.mf.LIBSSL.SSL_CTX_set_ciphersuites(self.mf.ctx_ptr(ctx), tls13.encode())
        if no_etm:
            ctx.options |= self.mf.OP_NO_ENCRYPT_THEN_MAC
        ctx.keylog_filename = os.path.join(self.keys, "python.keys")
        return ctx

    def reset(self, dialogue):
        if dialogue == "bob":
            self.dc.reset_mailbox("bob")

    def python(self, label, mode, dialogue, ctx=None, session=None):
        """mode: pop3s, stls or clear. Returns the TLS session (for resumption)."""
        self.reset(dialogue)
        port = self.dc.pop3s_port if mode == "pop3s" else self.dc.port
        sock = connect(HOST, port)
        client_port = sock.getsockname()[1]
        tls = None
        if mode == "pop3s":
            tls = ctx.wrap_socket(sock, server_hostname=SNI, session=session)
            p = Pop(tls)
        else:
            p = Pop(sock)
            if mode == "stls":
                p.cmd("CAPA", True)
                expect(p.cmd("STLS")[0].startswith(b"+OK"), "STLS refused")
                p.f.close()
                tls = ctx.wrap_socket(sock, server_hostname=SNI, session=session)
                p = Pop(tls, greet=False)
        if session is not None:
            expect(tls.session_reused, f"{label}: the session was not resumed")
        DIALOGUES[dialogue](p)
        out = tls.session if tls else None
        p.close()
        self._note(label, port, client_port)
        return out

    def curl(self, label, mode, user, tls_args=()):
        self.reset(user)
        port = self.dc.pop3s_port if mode == "pop3s" else self.dc.port
        scheme = "pop3s" if mode == "pop3s" else "pop3"
        argv = ["curl", "-sS", "--cacert", self.dc.cert, "-u", f"{user}:{self.dc.password(user)}",
                "--resolve", f"{SNI}:{port}:{HOST}", "--login-options", "AUTH=PLAIN",
                *(["--ssl-reqd"] if mode == "stls" else []), *tls_args, f"{scheme}://{SNI}:{port}/1"]
        env = dict(os.environ, SSLKEYLOGFILE=os.path.join(self.keys, "curl.keys"))
        code, out, err = self.dc.run(argv, env=env)
        expect(code == 0 and out, f"{label}: curl exit {code}: {err.decode(errors='replace')}")
        self._note(label, port)

    def mpop(self, label, mode, user, priorities=None):
        self.reset(user)
        port = self.dc.pop3s_port if mode == "pop3s" else self.dc.port
        home = self.dc.tmpdir("mpop-" + label)
        box = os.path.join(home, "md")
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(box, d))
        conf = os.path.join(home, "mpoprc")
        with open(conf, "w") as f:
            f.write(f"account {label}\nhost {HOST}\nport {port}\nuser {user}\n"
                    f"password {self.dc.password(user)}\nauth user\nkeep on\nonly_new off\n"
                    f"uidls_file {home}/uidls\nreceived_header off\ndelivery maildir {box}\n"
                    f"tls {'off' if mode == 'clear' else 'on'}\ntls_trust_file {self.dc.cert}\n"
                    f"tls_starttls {'on' if mode == 'stls' else 'off'}\n"
                    + (f"tls_priorities {priorities}\n" if priorities else ""))
        os.chmod(conf, 0o600)
        env = dict(os.environ, SSLKEYLOGFILE=os.path.join(self.keys, "mpop.keys"))
        code, out, err = self.dc.run(["mpop", "-q", "-C", conf, label], env=env, timeout=60)
        expect(code == 0, f"{label}: mpop exit {code}: {err.decode(errors='replace')}")
        self._note(label, port)

    def assign(self, pcap):
        """Client ports of the clients that do not say theirs, from the capture's SYNs."""
        for port, labels in self.order.items():
            seen = client_ports(pcap, port)
            expect(len(seen) == len(labels), f"port {port}: {len(seen)} connections, {len(labels)} runs")
            for label, cp in zip(labels, seen):
                if label in self.ports:
                    expect(self.ports[label] == cp, f"{label}: connections out of order")
                self.ports[label] = cp


# TLS session label -> (its cleartext twin, version, cipher suite)
SESSIONS = {
    "py13-aes128": ("py-alice", "TLS 1.3", "TLS_AES_128_GCM_SHA256"),
    "py13-resumed": ("py-alice", "TLS 1.3", "TLS_AES_128_GCM_SHA256"),
    "py13-big": ("py-big", "TLS 1.3", "TLS_AES_128_GCM_SHA256"),
    "py13-apop": ("py-apop", "TLS 1.3", "TLS_AES_128_GCM_SHA256"),
    "py12-gcm-stls": ("py-alice", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    "py12-chacha": ("py-bob", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    "py12-resumed": ("py-bob", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    "py12-cbc384-big": ("py-big", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    "py12-cbc-noetm-stls": ("py-alice", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    "curl13-aes256": ("curl-alice", "TLS 1.3", "TLS_AES_256_GCM_SHA384"),
    "curl12-stls": ("curl-bob", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    "mpop13-chacha": ("mpop-alice", "TLS 1.3", "TLS_CHACHA20_POLY1305_SHA256"),
    "mpop12-stls": ("mpop-bob", "TLS 1.2", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
}


def traffic(runs):
    v12, v13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    for twin, dialogue in (("py-alice", "alice"), ("py-bob", "bob"), ("py-big", "big"), ("py-apop", "apop")):
        runs.python(twin, "clear", dialogue)
    c13 = runs.context(v13, tls13="TLS_AES_128_GCM_SHA256")
    first = runs.python("py13-aes128", "pop3s", "alice", c13)
    runs.python("py13-resumed", "pop3s", "alice", c13, session=first)
    runs.python("py13-big", "pop3s", "big", c13)
    runs.python("py13-apop", "pop3s", "apop", c13)
    runs.python("py12-gcm-stls", "stls", "alice", runs.context(v12, "ECDHE-ECDSA-AES128-GCM-SHA256"))
    c12 = runs.context(v12, "ECDHE-ECDSA-CHACHA20-POLY1305")
    first = runs.python("py12-chacha", "pop3s", "bob", c12)
    runs.python("py12-resumed", "pop3s", "bob", c12, session=first)
    runs.python("py12-cbc384-big", "pop3s", "big", runs.context(v12, "ECDHE-ECDSA-AES256-SHA384"))
    runs.python("py12-cbc-noetm-stls", "stls", "alice", runs.context(v12, "ECDHE-ECDSA-AES128-SHA", no_etm=True))
    runs.curl("curl-alice", "clear", "alice")
    runs.curl("curl13-aes256", "pop3s", "alice", ("--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"))
    runs.curl("curl-bob", "clear", "bob")
    runs.curl("curl12-stls", "stls", "bob", ("--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384"))
    runs.mpop("mpop-alice", "clear", "alice")
    runs.mpop("mpop13-chacha", "pop3s", "alice", "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305")
    runs.mpop("mpop-bob", "clear", "bob")
    runs.mpop("mpop12-stls", "stls", "bob", "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM")


def old_server_traffic(dc, keys):
    """TLS 1.0 with an expired certificate: both sides lower OpenSSL's security level."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # TLS 1.0 is deprecated: that is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1
    ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")
    ctx.keylog_filename = keys
    tls = ctx.wrap_socket(connect(OLD_HOST, 995), server_hostname="expired.localhost")
    p = Pop(tls)
    alice(p)
    p.close()


@contextlib.contextmanager
def live_tls():
    """The suite's fixture: every session is made here, once; the tests read the captures."""
    if os.geteuid() != 0:
        raise Skip("needs root (dovecot's mail processes, tcpdump on lo)")
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        raise Skip(f"{', '.join(missing)} not found: run scripts/install-deps.sh")
    mail = default_mail()
    mail["alice"].append(big_message())
    with Dovecot(name="popsift-tls", host=HOST, pop3s_port=995, mail=mail, extra_conf=SHARED_LOGIN) as dc:
        keys = dc.tmpdir("keys")
        pcap = os.path.join(dc.work, "tls.pcap")
        cap = dc.start_tcpdump(pcap, f"host {HOST}")
        runs = Runs(dc, keys)
        try:
            traffic(runs)
        finally:
            stats = dc.stop_tcpdump(cap)
        expect(stats["dropped"] == 0, f"tcpdump dropped packets: {stats}")
        runs.assign(pcap)
        R.update(dc=dc, pcap=pcap, keys=sorted(os.path.join(keys, k) for k in os.listdir(keys)),
                 ports=runs.ports, mail={u: list(ms) for u, ms in dc.mail.items()}, work=dc.work,
                 popsift_ports=f"{dc.port},995")
        with Dovecot(name="popsift-tls-old", host=OLD_HOST, pop3s_port=995, cert="expired",
                     extra_conf="ssl_min_protocol = TLSv1\nssl_cipher_list = ALL:@SECLEVEL=0\n") as old:
            old_pcap = os.path.join(dc.work, "old.pcap")
            old_keys = os.path.join(keys, "old.keys")
            cap = old.start_tcpdump(old_pcap, f"host {OLD_HOST}")
            try:
                old_server_traffic(old, old_keys)
            finally:
                old.stop_tcpdump(cap)
            R.update(old_pcap=old_pcap, old_keys=old_keys)
        yield


# ---- reading the captures ------------------------------------------------------------------

def popsift(pcap, *extra, keys=True):
    args = ["--show-passwords", "-p", R["popsift_ports"], "-r", pcap, *extra]
    for k in R["keys"] if keys else ():
        args += ["--tls-keylog", k]
    return SUITE.events(*args, timeout=300)


def of_label(evs, label):
    return [e for e in evs if e["src_port"] == R["ports"][label]]


def summary(evs):
    """What a session read inside TLS must share with its cleartext twin (an APOP digest and
    hash line differ: the challenge is new on every connection)."""
    auths = [(a["mechanism"], a["username"], a.get("password"), a["result"], a.get("hash_format"),
              a.get("hashcat_mode")) for a in bodies(evs, "auth")]
    msgs = [(m["command"], m["number"], m["size"], m["sha256"], m.get("uid"), m["complete"])
            for m in bodies(evs, "message")]
    s = bodies(evs, "session")
    expect(len(s) == 1, s)
    s = s[0]
    return auths, msgs, (s["authenticated"], s["username"], s["messages_retrieved"],
                         s["marked_for_deletion"], s["deletions_committed"], s["end_reason"])


_KEYED = []


def keyed():
    if not _KEYED:
        R["hashes"] = os.path.join(R["work"], "hashes.txt")
        _KEYED.append(popsift(R["pcap"], "-x", os.path.join(R["work"], "x"), "--hashes", R["hashes"]))
    return _KEYED[0]


@SUITE.test
def an_apop_login_inside_tls_gives_its_crackable_line():
    evs = of_label(keyed(), "py13-apop")
    a = bodies(evs, "auth")
    expect(len(a) == 1 and a[0]["mechanism"] == "APOP" and a[0]["hashcat_mode"] == 20, a)
    digest, salt = a[0]["hash"].split(":", 1)
    expect(hashlib.md5((salt + "wonderland").encode()).hexdigest() == digest, a[0]["hash"])
    with open(R["hashes"]) as f:  # --hashes FILE: one JSON record per crackable line
        lines = [json.loads(line)["hash"] for line in f]
    expect(a[0]["hash"] in lines, "the line is not in the --hashes file")


@SUITE.test
def every_tls_session_read_with_the_key_logs_gives_its_cleartext_twins_events():
    evs = keyed()
    notes = []
    for label, (twin, version, cipher) in SESSIONS.items():
        inside, clear = of_label(evs, label), of_label(evs, twin)
        t = bodies(inside, "tls")
        expect(len(t) == 1 and t[0]["version"] == version and t[0]["cipher_suite"] == cipher
               and t[0]["decrypted"], (label, t))
        got, want = summary(inside), summary(clear)
        expect(got == want, (label, got, want))
        notes.append(f"{label}: {len(got[0])} logins, {len(got[1])} messages")
        expect(want[0] and want[1], (label, want))
        expect(all(not a["cleartext"] for a in bodies(inside, "auth")), label)
        expect(all(a["cleartext"] == (a["mechanism"] != "APOP") for a in bodies(clear, "auth")), twin)
        expect("cleartext-password" not in [a["signature"] for a in bodies(inside, "alert")], label)
        expect(all(e.get("tls") == {"decrypted": True} for e in inside if e["event_type"] != "tls"), label)
    return "; ".join(notes)


@SUITE.test
def every_message_inside_tls_is_the_maildirs_byte_for_byte():
    evs = keyed()
    n = 0
    for label, (twin, _, _) in SESSIONS.items():
        user = "bob" if "bob" in twin else "alice"
        for m in bodies(of_label(evs, label), "message"):
            if m["command"] == "TOP":
                continue
            want = R["mail"][user][m["number"] - 1]  # bob's mailbox is reset before each dialogue
            expect(m["complete"] and m["sha256"] == want.sha256 and m["size"] == want.size, (label, m))
            with open(os.path.join(R["work"], "x", m["path"]), "rb") as f:
                expect(f.read() == want.crlf, (label, m["path"]))
            n += 1
    big = [m["size"] for label in SESSIONS for m in bodies(of_label(evs, label), "message")]
    expect(n >= 20 and max(big) > 1 << 20, f"{n} messages inside TLS, the largest {max(big, default=0)} octets")
    return f"{n} messages"


@SUITE.test
def resumed_sessions_say_so():
    evs = keyed()
    for label, kind in (("py13-resumed", "psk"), ("py12-resumed", None)):
        t = bodies(of_label(evs, label), "tls")[0]
        expect(t["resumed"] and (kind is None or t["resumption"] == kind)
               and t["certificate"] is None and t["certificate_status"] == "not-sent", (label, t))
        expect(bodies(of_label(evs, label), "auth"), label)


@SUITE.test
def the_cbc_sessions_ran_with_and_without_encrypt_then_mac():
    evs = keyed()
    etm = {label: bodies(of_label(evs, label), "tls")[0]["encrypt_then_mac"]
           for label in ("py12-cbc384-big", "py12-cbc-noetm-stls")}
    expect(etm == {"py12-cbc384-big": True, "py12-cbc-noetm-stls": False}, etm)


@SUITE.test
def keys_in_a_decryption_secrets_block_give_the_same_events():
    merged = os.path.join(R["work"], "all.keys")
    with open(merged, "wb") as out:
        for k in R["keys"]:
            with open(k, "rb") as f:
                out.write(f.read())
    dsb = os.path.join(R["work"], "tls-dsb.pcapng")
    subprocess.run(["editcap", "--inject-secrets", "tls," + merged, R["pcap"], dsb], check=True,
                   capture_output=True, timeout=120)
    got = popsift(dsb, keys=False)
    want = popsift(R["pcap"])
    strip = lambda evs: [{k: v for k, v in e.items() if k != "pcap_file"} for e in evs]  # noqa: E731
    expect(strip(got) == strip(want), "the events differ with the keys inside the capture")
    expect(sum(t.get("decrypted", False) for t in bodies(got, "tls")) == len(SESSIONS), bodies(got, "tls"))


@SUITE.test
def ja3_and_ja3s_are_tsharks():
    want = {}
    for htype, field in (("1", "tls.handshake.ja3"), ("2", "tls.handshake.ja3s")):
        out = subprocess.run(["tshark", "-n", "-r", R["pcap"], "-d", f"tcp.port=={R['dc'].port},pop",
                              "-Y", f"tls.handshake.type == {htype}", "-T", "fields", "-e", "tcp.srcport",
                              "-e", "tcp.dstport", "-e", field], check=True, capture_output=True,
                             timeout=120).stdout.decode()
        for line in out.splitlines():
            sport, dport, h = line.split("\t")
            want.setdefault(int(sport if htype == "1" else dport), {})[htype] = h
    n = 0
    for e in keyed():
        if e["event_type"] == "tls":
            t = e["tls"]
            expect(want[e["src_port"]] == {"1": t["ja3"]["hash"], "2": t["ja3s"]["hash"]},
                   (e["src_port"], want.get(e["src_port"]), t["ja3"], t["ja3s"]))
            n += 1
    expect(n == len(SESSIONS), n)
    return f"{n} sessions"


@SUITE.test
def without_keys_the_metadata_and_alerts():
    evs = popsift(R["pcap"], keys=False)
    for label, (twin, version, cipher) in SESSIONS.items():
        inside = of_label(evs, label)
        t = bodies(inside, "tls")[0]
        sni = HOST if label.startswith("mpop") else SNI
        expect(t["version"] == version and t["cipher_suite"] == cipher and not t["decrypted"]
               and t["sni"] == sni and t["decryption"] == "no-keylog", (label, t))
        expect(not bodies(inside, "auth") and not bodies(inside, "message"), label)
        s = bodies(inside, "session")[0]
        expect(s["state"] == "TLS" and s["tls"] and s["encrypted"] == ("stls" not in label), (label, s))
        sigs = [a["signature"] for a in bodies(inside, "alert")]
        if t["resumed"]:
            expect(t["certificate_status"] == "not-sent" and sigs == [], (label, t, sigs))
        elif version == "TLS 1.3":
            expect(t["certificate"] is None and t["certificate_status"] == "encrypted" and sigs == [],
                   (label, t, sigs))
        else:
            cert = t["certificate"]
            expect(cert["subject"] == "CN=localhost" and cert["self_signed"]
                   and "127.0.0.7" in cert["san"]["ip"] and sigs == ["tls-self-signed"], (label, cert, sigs))


@SUITE.test
def a_lost_segment_in_the_big_message_costs_that_message_not_the_session():
    port = R["ports"]["py13-big"]
    out = subprocess.run(["tshark", "-n", "-r", R["pcap"], "-Y", f"tcp.dstport == {port} and tcp.len > 1000",
                          "-T", "fields", "-e", "frame.number"], check=True, capture_output=True,
                         timeout=120).stdout.decode().split()
    expect(len(out) > 50, f"{len(out)} data frames in the big message's session")
    cut = os.path.join(R["work"], "lost.pcap")
    subprocess.run(["editcap", R["pcap"], cut, out[len(out) // 2]], check=True, capture_output=True, timeout=120)
    inside = of_label(popsift(cut), "py13-big")
    msgs = [(m["number"], m["complete"], m["sha256"]) for m in bodies(inside, "message")]
    want1 = R["mail"]["alice"][0].sha256
    expect(len(msgs) == 2 and msgs[0][:2] == (4, False) and msgs[1] == (1, True, want1), msgs)
    s = bodies(inside, "session")[0]
    expect(s["end_reason"] == "quit" and s["gaps"] == 1 and "tls.gap" in s["anomalies"], s)


@SUITE.test
def tls_1_0_with_an_expired_certificate_raises_its_alerts():
    evs = SUITE.events("-r", R["old_pcap"], timeout=120)
    t = bodies(evs, "tls")
    expect(len(t) == 1 and t[0]["version"] == "TLS 1.0"
           and t[0]["cipher_suite"] == "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", t)
    expect(t[0]["certificate"]["not_after"] == "2020-12-31T00:00:00Z", t)
    sigs = sorted(a["signature"] for a in bodies(evs, "alert"))
    expect(sigs == ["tls-certificate-expired", "tls-self-signed", "tls-weak-version"], sigs)
    # And with its key log, TLS 1.0's CBC is read too.
    evs = SUITE.events("--show-passwords", "--tls-keylog", R["old_keys"], "-r", R["old_pcap"], timeout=120)
    a = bodies(evs, "auth")
    expect(len(a) == 1 and a[0]["password"] == "wonderland" and not a[0]["cleartext"], a)
    expect(len(bodies(evs, "message")) == 3, bodies(evs, "message"))


@SUITE.test
def text_summary_tables_the_servers_tls():
    out = SUITE.ok("-q", "-T", "text", "-p", R["popsift_ports"], "-r", R["pcap"], "-r", R["old_pcap"],
                   timeout=300).out.decode()
    for want in (f"TLS on server {HOST}:995", f"TLS on server {OLD_HOST}:995", "TLS_AES_256_GCM_SHA384",
                 "TLS 1.0", "EXPIRED at the capture's time", "SELF-SIGNED"):
        expect(want in out, f"{want!r} missing from:\n{out[-3000:]}")


def suite_fixture():
    @contextlib.contextmanager
    def ctx():
        with live_tls():
            yield
    return ctx()


if __name__ == "__main__":
    sys.exit(SUITE.main(fixture=suite_fixture, timed=True))
