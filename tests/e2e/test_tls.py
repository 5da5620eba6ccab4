#!/usr/bin/env python3
"""TLS through the whole path (pcap -> libnids -> session layer -> TLS stream -> POP3
dissector -> JSON), on captures CRAFTED from the TLS fixtures of tests/tls/fixtures/: each is
a real TLS session between python's ssl module on both ends (tests/tls/make-fixtures.py
says how), with its key log; here its bytes are put into TCP segments (craft.py).

Every fixture's session is read with its keys and compared with the same POP3 dialogue sent
in clear: the logins, passwords and messages must be the same events, the password no
cleartext on the wire; the tls event must say what the fixture's metadata says (which came
from the openssl command line and tshark, not from popsift). Without keys: the metadata and
alerts alone. Then the session layer's own cases: STLS with no TLS after it, TLS on 110
without STLS, a lost segment, a pick-up mid-stream, keys in a pcapng Decryption Secrets
Block, JA3/JA3S against tshark, the -T text table, key log errors.

The same against a real dovecot and real clients: tests/e2e/test_tls_live.py.
Usage: test_tls.py POPSIFT [NAME...]
"""
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import MSS, Capture  # noqa: E402
from runner import CAPTURES, ROOT, Skip, Suite, bodies, expect, of_type  # noqa: E402

SUITE = Suite("tls")
FIXTURES = os.path.join(ROOT, "tests", "tls", "fixtures")
MAGIC = b"PSTLSFX1"
WORK = tempfile.mkdtemp(prefix="popsift-tls-")
# The fixtures that make no POP3 events with their keys (the cipher is not one popsift decrypts).
UNDECRYPTED = {"tls12-aria-unsupported": "unsupported-cipher"}
VERSION_NAMES = {"0x0301": "TLS 1.0", "0x0302": "TLS 1.1", "0x0303": "TLS 1.2", "0x0304": "TLS 1.3"}


def read_fixture(path):
    """[(tag, bytes)] of a fixture file (format in make-fixtures.py's docstring)."""
    with open(path, "rb") as f:
        d = f.read()
    expect(d[:8] == MAGIC, f"{path}: not a fixture")
    out, p = [], 8
    while p < len(d):
        n = struct.unpack(">I", d[p + 1:p + 5])[0]
        out.append((d[p:p + 1].decode(), d[p + 5:p + 5 + n]))
        p += 5 + n
    return out


class Fixture:
    def __init__(self, path):
        self.name = os.path.basename(path)[:-3]
        self.entries = read_fixture(path)
        tags = {t: d for t, d in self.entries}
        self.keys = tags["K"]
        self.meta = dict(line.split("=", 1) for line in tags["M"].decode().splitlines())
        self.client, self.server = tags["c"], tags["s"]
        self.stls = any(t in ("A", "B") for t, _ in self.entries)

    def wire_steps(self):
        """The session as it crossed the wire: cleartext preamble (STLS) and TLS records."""
        side = {"A": "c", "B": "s", "C": "c", "S": "s"}
        return [(side[t], d) for t, d in self.entries if t in side]

    def clear_steps(self):
        """The same POP3 dialogue in clear: the STLS preamble, then each client line and the
        server's answer to it (a RETR's runs to its terminating dot line)."""
        steps = [({"A": "c", "B": "s"}[t], d) for t, d in self.entries if t in ("A", "B")]
        lines = [l + b"\r\n" for l in self.client.split(b"\r\n")[:-1]]
        srv = self.server
        first = srv.index(b"\r\n") + 2
        steps.append(("s", srv[:first]))
        srv = srv[first:]
        for line in lines:
            end = srv.index(b"\r\n.\r\n") + 5 if line.startswith(b"RETR") else srv.index(b"\r\n") + 2
            steps += [("c", line), ("s", srv[:end])]
            srv = srv[end:]
        expect(srv == b"", f"{self.name}: the server's bytes do not split into replies")
        return steps

    def message(self):
        """The RETR body as the client received it (dot-stuffing removed: there is none)."""
        start = self.server.index(b"octets\r\n") + 8
        return self.server[start:self.server.index(b"\r\n.\r\n", start) + 2]


def fixtures():
    return [Fixture(os.path.join(FIXTURES, n)) for n in sorted(os.listdir(FIXTURES)) if n.endswith(".fx")]


def cert_time(fx):
    """A capture time at which every CA-signed fixture certificate is valid."""
    return max(int(f.meta["not_before"]) for f in fx if "sha256" in f.meta
               and int(f.meta["not_after"]) > 1700000000) + 86400


_CORPUS = {}


def corpus():
    """One capture holding every fixture twice: over TLS (client port 41000+i; 995, or 110 for
    STLS) and in clear (client port 42000+i, port 110); with the key log of all of them."""
    if _CORPUS:
        return _CORPUS
    fx = fixtures()
    cap = Capture()
    cap.t = float(cert_time(fx))
    ports = {}
    for i, f in enumerate(fx):
        cap.session(f.wire_steps(), client=("10.1.0.1", 41000 + i), server=("10.2.0.1", 110 if f.stls else 995))
        cap.session(f.clear_steps(), client=("10.1.0.1", 42000 + i), server=("10.2.0.1", 110))
        ports[f.name] = (41000 + i, 42000 + i)
    path = cap.write(os.path.join(WORK, "fixtures.pcap"))
    keys = os.path.join(WORK, "fixtures.keys")
    with open(keys, "wb") as out:
        out.write(b"# every fixture's key log\n" + b"".join(f.keys for f in fx))
    _CORPUS.update(fx=fx, pcap=path, keys=keys, ports=ports, time=cap.t)
    return _CORPUS


def of_port(evs, port):
    return [e for e in evs if e["src_port"] == port]


def login_and_mail(evs):
    """What must be the same inside TLS and in clear: logins and messages."""
    auths = [(a["mechanism"], a["username"], a.get("password"), a["result"]) for a in bodies(evs, "auth")]
    msgs = [(m["command"], m["number"], m["size"], m["sha256"], m["complete"]) for m in bodies(evs, "message")]
    return auths, msgs


def with_keys(*extra):
    c = corpus()
    return SUITE.events("--show-passwords", "--tls-keylog", c["keys"], "-r", c["pcap"], *extra)


@SUITE.test
def every_fixture_read_with_its_keys_gives_what_the_same_dialogue_in_clear_gives():
    c = corpus()
    evs = with_keys()
    checked = 0
    for f in c["fx"]:
        tls_port, clear_port = c["ports"][f.name]
        inside, clear = of_port(evs, tls_port), of_port(evs, clear_port)
        t = bodies(inside, "tls")
        expect(len(t) == 1, (f.name, t))
        t = t[0]
        if f.name in UNDECRYPTED:
            expect(not t["decrypted"] and t["decryption"] == UNDECRYPTED[f.name], (f.name, t))
            expect(not of_type(inside, "auth"), f.name)
            continue
        expect(t["decrypted"] and t["decryption"] == "active", (f.name, t))
        got, want = login_and_mail(inside), login_and_mail(clear)
        expect(got == want and want[0] == [("USER", "alice", "wonderland", "success")], (f.name, got, want))
        expect(want[1] and want[1][0][3] == hashlib.sha256(f.message()).hexdigest(), (f.name, want))
        # Read inside TLS: no cleartext on the wire, no alert for it; every event marked.
        expect([a["cleartext"] for a in bodies(inside, "auth")] == [False], f.name)
        expect([a["cleartext"] for a in bodies(clear, "auth")] == [True], f.name)
        sigs = [a["signature"] for a in bodies(inside, "alert")]
        expect("cleartext-password" not in sigs, (f.name, sigs))
        expect("cleartext-password" in [a["signature"] for a in bodies(clear, "alert")], f.name)
        for e in inside:
            if e["event_type"] in ("auth", "message", "session"):
                expect(e.get("tls") == {"decrypted": True}, (f.name, e))
        expect(all("tls" not in e for e in clear if e["event_type"] != "tls"), f.name)
        s = bodies(inside, "session")[0]
        expect(s["tls"] and s["encrypted"] != f.stls and s["state"] == "UPDATE", (f.name, s))
        checked += 1
    expect(checked >= 20, checked)
    return f"{checked} fixtures"


@SUITE.test
def the_tls_event_says_what_openssl_and_tshark_say():
    c = corpus()
    evs = with_keys()
    for f in c["fx"]:
        t = bodies(of_port(evs, c["ports"][f.name][0]), "tls")[0]
        m = f.meta
        expect(t["version"] == VERSION_NAMES[m["version"]] and t["cipher_suite"] == m["cipher"], (f.name, t))
        expect(t["sni"] == m["sni"] and t["ja3"]["hash"] == m["ja3"] and t["ja3s"]["hash"] == m["ja3s"]
               and t["ja4"] == m["ja4"], (f.name, t, m))
        expect(t.get("command") == ("STLS" if f.stls else None), (f.name, t))
        expect(t["resumed"] == (m["resumed"] == "1"), (f.name, t, m))
        expect(t.get("alpn") == m["alpn"] and t.get("resumption", "none") == m.get("resumption", "none"),
               (f.name, t, m))
        if "sha256" in m:
            cert = t["certificate"]
            sans = ",".join(f"{k}:{v}" for k, vs in cert["san"].items() for v in vs)
            expect(cert and cert["serial"] == m["serial"] and cert["sha256"] == m["sha256"]
                   and cert["self_signed"] == (m["self_signed"] == "1") and cert["subject"] == m["subject"]
                   and cert["issuer"] == m["issuer"] and sorted(sans.split(",")) == sorted(m["san"].split(",")),
                   (f.name, cert, m))
        else:
            expect(t["certificate"] is None and t["certificate_status"] == "not-sent" and t["resumed"],
                   (f.name, t, m))


@SUITE.test
def without_keys_the_metadata_and_alerts_alone():
    c = corpus()
    evs = SUITE.events("-r", c["pcap"])
    for f in c["fx"]:
        inside = of_port(evs, c["ports"][f.name][0])
        t = bodies(inside, "tls")[0]
        expect(not t["decrypted"] and t["decryption"] == "no-keylog", (f.name, t))
        expect(not of_type(inside, "auth") and not of_type(inside, "message"), f.name)
        expect(all("tls" not in e for e in inside if e["event_type"] != "tls"), f.name)
        s = bodies(inside, "session")[0]
        expect(s["state"] == "TLS" and s["tls"], (f.name, s))
        if m13(f) and not t["resumed"]:
            expect(t["certificate"] is None and t["certificate_status"] == "encrypted", (f.name, t))
        sigs = sorted(a["signature"] for a in bodies(inside, "alert"))
        want = []
        if f.meta["version"] in ("0x0301", "0x0302"):
            want.append("tls-weak-version")
        if not m13(f) and "sha256" in f.meta:
            if int(f.meta["not_after"]) < c["time"]:
                want.append("tls-certificate-expired")
            if f.meta["self_signed"] == "1":
                want.append("tls-self-signed")
        expect(sigs == sorted(want), (f.name, sigs, want))
    return "alerts as the fixtures' certificates and versions call for"


def m13(f):
    return f.meta["version"] == "0x0304"


@SUITE.test
def a_certificate_not_yet_valid_at_the_captures_time_is_an_alert():
    f = Fixture(os.path.join(FIXTURES, "tls12-aes128gcm.fx"))
    cap = Capture()
    cap.t = float(int(f.meta["not_before"]) - 86400)
    path = cap.session(f.wire_steps(), server=("10.2.0.1", 995)).write(os.path.join(WORK, "early.pcap"))
    sigs = [a["signature"] for a in bodies(SUITE.events("-r", path), "alert")]
    expect(sigs == ["tls-certificate-not-yet-valid"], sigs)


@SUITE.test
def a_weak_cipher_is_an_alert():
    evs = SUITE.events("-r", os.path.join(CAPTURES, "ndpi-pop3-stls.pcap"))
    alerts = bodies(evs, "alert")
    expect([a["signature"] for a in alerts] == ["tls-weak-version", "tls-weak-cipher"], alerts)
    expect("RC4" in alerts[1]["description"], alerts)


def clear_session(steps, port=110):
    cap = Capture()
    return cap.session(steps, server=("10.2.0.1", port))


@SUITE.test
def stls_accepted_but_no_tls_after_it_resumes_text():
    steps = [("s", b"+OK ready\r\n"), ("c", b"STLS\r\n"), ("s", b"+OK go ahead\r\n"),
             ("c", b"USER bob\r\n"), ("s", b"+OK\r\n"), ("c", b"PASS builder\r\n"), ("s", b"+OK in\r\n"),
             ("c", b"QUIT\r\n"), ("s", b"+OK bye\r\n")]
    path = clear_session(steps).write(os.path.join(WORK, "stls-no-tls.pcap"))
    evs = SUITE.events("--show-passwords", "-r", path)
    t = bodies(evs, "tls")
    expect(t == [{"command": "STLS", "result": "success"}], t)
    a = bodies(evs, "auth")
    expect(len(a) == 1 and a[0]["password"] == "builder" and a[0]["cleartext"], a)
    s = bodies(evs, "session")[0]
    expect(s["anomalies"] == ["pop3.stls_without_tls"] and not s["tls"] and s["state"] == "UPDATE", s)


@SUITE.test
def stls_refused_is_a_tls_event_of_its_own():
    steps = [("s", b"+OK ready\r\n"), ("c", b"STLS\r\n"), ("s", b"-ERR not here\r\n"), ("c", b"QUIT\r\n"),
             ("s", b"+OK bye\r\n")]
    evs = SUITE.events("-r", clear_session(steps).write(os.path.join(WORK, "stls-refused.pcap")))
    expect(bodies(evs, "tls") == [{"command": "STLS", "result": "failure"}], evs)
    expect(not bodies(evs, "session")[0]["tls"], evs)


@SUITE.test
def tls_on_110_without_stls_is_an_anomaly_and_is_read():
    f = Fixture(os.path.join(FIXTURES, "tls12-aes128gcm.fx"))
    cap = Capture()
    cap.t = float(int(f.meta["not_before"]) + 86400)
    path = cap.session(f.wire_steps(), server=("10.2.0.1", 110)).write(os.path.join(WORK, "tls110.pcap"))
    keys = os.path.join(WORK, "tls110.keys")
    with open(keys, "wb") as out:
        out.write(f.keys)
    evs = SUITE.events("--tls-keylog", keys, "-r", path)
    s = bodies(evs, "session")[0]
    expect(s["anomalies"] == ["pop3.tls_without_stls"] and s["encrypted"] and s["state"] == "UPDATE", s)
    t = bodies(evs, "tls")[0]
    expect("command" not in t and t["decrypted"], t)
    # On a port popsift was told to follow, TLS is expected: no anomaly there.
    evs = SUITE.events("-p", "2110", "-r", cap_with_port(f, 2110))
    expect(bodies(evs, "session")[0]["anomalies"] == [] and bodies(evs, "tls"), evs)


def cap_with_port(f, port):
    cap = Capture()
    cap.t = float(int(f.meta["not_before"]) + 86400)
    return cap.session(f.wire_steps(), server=("10.2.0.1", port)).write(os.path.join(WORK, f"p{port}.pcap"))


@SUITE.test
def a_lost_segment_costs_the_records_it_touches_not_the_session():
    f = Fixture(os.path.join(FIXTURES, "tls13-aes128gcm.fx"))
    steps = f.wire_steps()
    # The record that carries the message spans two segments (MSS 1400): lose its second.
    big = max(range(len(steps)), key=lambda i: len(steps[i][1]) if steps[i][0] == "s" else 0)
    expect(len(steps[big][1]) > MSS, "the message record fits one segment")
    before = sum((len(d) + MSS - 1) // MSS for _, d in steps[:big])
    lost = 3 + 2 * (before + 1)  # handshake, then a data frame and its ACK per chunk
    cap = Capture()
    cap.t = float(int(f.meta["not_before"]) + 86400)
    cap.session(steps, server=("10.2.0.1", 995))
    del cap.frames[lost]
    path = cap.write(os.path.join(WORK, "lost.pcap"))
    keys = os.path.join(WORK, "lost.keys")
    with open(keys, "wb") as out:
        out.write(f.keys)
    evs = SUITE.events("--show-passwords", "--transactions", "--tls-keylog", keys, "-r", path)
    a = bodies(evs, "auth")
    expect(len(a) == 1 and a[0]["password"] == "wonderland", a)
    # The lost record held the RETR's whole reply: no message, the RETR unanswered ...
    expect(not of_type(evs, "message"), evs)
    cmds = [(c["request"], c["result"]) for c in bodies(evs, "command")]
    expect(cmds[-2:] == [("RETR 1", "unknown"), ("QUIT", "success")], cmds)
    # ... and what followed the hole was still read: QUIT acknowledged, deletions committed.
    s = bodies(evs, "session")[0]
    expect(s["end_reason"] == "quit" and s["deletions_committed"] is True and s["gaps"] == 1, s)
    expect("tls.gap" in s["anomalies"] and "stream.gap" in s["anomalies"], s)


@SUITE.test
def picked_up_mid_stream_on_995_is_tls_without_a_handshake():
    f = Fixture(os.path.join(FIXTURES, "tls12-aes128gcm.fx"))
    steps = f.wire_steps()
    cap = Capture()
    cap.session(steps, server=("10.2.0.1", 995))
    skip = 3 + 2 * sum((len(d) + MSS - 1) // MSS for _, d in steps[:4])
    cap.frames = cap.frames[skip:]
    path = cap.write(os.path.join(WORK, "midstream.pcap"))
    keys = os.path.join(WORK, "mid.keys")
    with open(keys, "wb") as out:
        out.write(f.keys)
    evs = SUITE.events("--tls-keylog", keys, "-r", path)
    s = bodies(evs, "session")
    expect(len(s) == 1 and s[0]["partial"] and s[0]["encrypted"] and s[0]["state"] == "TLS", s)
    t = bodies(evs, "tls")
    expect(len(t) == 1 and not t[0]["decrypted"] and t[0]["decryption"] == "no-handshake", t)
    expect(not of_type(evs, "auth"), evs)


@SUITE.test
def keys_in_a_decryption_secrets_block_need_no_option():
    if not shutil.which("editcap"):
        raise Skip("editcap not found (wireshark-common)")
    c = corpus()
    dsb = os.path.join(WORK, "fixtures-dsb.pcapng")
    subprocess.run(["editcap", "--inject-secrets", "tls," + c["keys"], c["pcap"], dsb], check=True,
                   capture_output=True, timeout=60)
    want = with_keys()
    got = SUITE.events("--show-passwords", "-r", dsb)
    strip = lambda evs: [{k: v for k, v in e.items() if k != "pcap_file"} for e in evs]  # noqa: E731
    expect(strip(got) == strip(want), "events differ with the keys in the capture")
    expect(sum(t.get("decrypted", False) for t in bodies(got, "tls")) >= 20, bodies(got, "tls"))


def tshark_hashes(pcap, extra=()):
    """{client port: (ja3, ja3s)} as tshark computes them."""
    out = {}
    for htype, field, idx in (("1", "tls.handshake.ja3", 0), ("2", "tls.handshake.ja3s", 1)):
        r = subprocess.run(["tshark", "-n", "-r", pcap, *extra, "-Y", f"tls.handshake.type == {htype}",
                            "-T", "fields", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", field],
                           check=True, capture_output=True, timeout=120).stdout.decode()
        for line in r.splitlines():
            sport, dport, h = line.split("\t")
            port = int(sport) if htype == "1" else int(dport)
            got = out.setdefault(port, [None, None])
            if got[idx] is None:  # the first hello: after a HelloRetryRequest a second one comes
                got[idx] = h.split(",")[0]
    return out


@SUITE.test
def ja3_and_ja3s_are_tsharks():
    if not shutil.which("tshark"):
        raise Skip("tshark not found")
    c = corpus()
    caps = [(c["pcap"], ["-d", "tcp.port==110,pop"]),
            (os.path.join(CAPTURES, "zeek-pop3-starttls.pcap"), []),
            (os.path.join(CAPTURES, "ndpi-pop3-stls.pcap"), []),
            (os.path.join(CAPTURES, "ndpi-pops.pcapng"), [])]
    n = 0
    for pcap, extra in caps:
        want = tshark_hashes(pcap, extra)
        for e in of_type(SUITE.events("-r", pcap), "tls"):
            t = e["tls"]
            if "ja3" not in t:
                continue  # an STLS with no TLS after it
            expect(want.get(e["src_port"]) == [t["ja3"]["hash"], t["ja3s"]["hash"]],
                   (pcap, e["src_port"], want.get(e["src_port"]), t["ja3"], t["ja3s"]))
            n += 1
    expect(n >= 25, n)
    return f"{n} sessions"


@SUITE.test
def text_summary_has_a_tls_table_per_server():
    c = corpus()
    out = SUITE.ok("-q", "-T", "text", "-r", c["pcap"]).out.decode()
    expect("TLS on server 10.2.0.1:995" in out and "TLS on server 10.2.0.1:110" in out, out[-3000:])
    expect("TLS_AES_128_GCM_SHA256" in out and "TLS 1.0" in out, out[-3000:])
    expect("SELF-SIGNED" in out and "EXPIRED at the capture's time" in out, out[-3000:])


@SUITE.test
def extraction_inside_tls_is_byte_exact():
    c = corpus()
    xdir = os.path.join(WORK, "x")
    evs = with_keys("-x", xdir)
    f = next(f for f in c["fx"] if f.name == "tls12-cbc-sha384")
    m = bodies(of_port(evs, c["ports"][f.name][0]), "message")
    with open(os.path.join(xdir, m[0]["path"]), "rb") as fh:
        expect(fh.read() == f.message(), "the extracted file is not the message")


@SUITE.test
def key_log_problems_are_said():
    missing = SUITE.run("-q", "--tls-keylog", os.path.join(WORK, "nope"), "-r", corpus()["pcap"])
    expect(missing.code == 2 and "cannot read TLS key log" in missing.err and not missing.out, missing.err)
    junk = os.path.join(WORK, "junk.keys")
    with open(junk, "w") as f:
        f.write("CLIENT_RANDOM zz\nhello\n")
    r = SUITE.run("-q", "--tls-keylog", junk, "-r", corpus()["pcap"])
    expect(r.code == 0 and "holds no secret" in r.err and "2 lines are not key log lines" in r.err, r.err)


if __name__ == "__main__":
    try:
        sys.exit(SUITE.main())
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
