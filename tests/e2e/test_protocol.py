#!/usr/bin/env python3
"""End-to-end tests of POP3 protocol coverage through the real path (pcap ->
libnids -> dissector -> JSON) for cases no packaged server or client produces
here: KPOP, XTND XMIT, SCRAM, NTLM, RPOP, response codes. Their captures are
CRAFTED by tests/e2e/craft.py from the RFCs' own examples; the real-traffic
cases live in test_e2e.py. Usage: test_protocol.py POPSIFT [NAME...]
"""
import atexit
import base64
import hashlib
import hmac
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from craft import Capture, ntlm_authenticate, ntlm_challenge, ntlm_login_steps  # noqa: E402
from runner import CAPTURES, SAMPLES, Suite, bodies, expect  # noqa: E402

SUITE = Suite("protocol")
TMP = tempfile.mkdtemp(prefix="popsift-proto-")
atexit.register(shutil.rmtree, TMP, ignore_errors=True)


def sift(cap, *args):
    """The events of popsift -q ARGS on the crafted capture `cap` (exit 0)."""
    return SUITE.events(*args, "-r", cap.write(os.path.join(TMP, "crafted.pcap")), timeout=120)


def b64(b):
    return base64.b64encode(b).decode()


@SUITE.test
def kpop_v4_preamble_then_pop3_without_a_cleartext_password():
    ticket = b"\x01" * 40 + b"USER evil\r\nPASS stolen\r\n" + b"\x02" * 40  # never scanned
    steps = [("c", b"AUTHV0.1KPOPV0.1" + struct.pack("!I", len(ticket)) + ticket),
             ("s", b"+OK KPOP server ready\r\n"), ("c", b"USER joe\r\n"), ("s", b"+OK\r\n"),
             ("c", b"PASS dummy\r\n"), ("s", b"+OK joe has 0 messages\r\n"), ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
    evs = sift(Capture().session(steps, server=("10.2.0.1", 1109)), "--show-passwords")
    expect(all(e["app_proto"] == "kpop" for e in evs), [e["app_proto"] for e in evs])
    auth = bodies(evs, "auth")
    expect(len(auth) == 1 and auth[0]["mechanism"] == "KPOP" and auth[0]["username"] == "joe", auth)
    expect("password" not in auth[0] and not bodies(evs, "alert"), evs)
    s = bodies(evs, "session")[0]
    expect(s["authenticated"] and s["anomalies"] == [] and s["end_reason"] == "quit", s)


@SUITE.test
def kpop_v5_preamble_is_walked_by_length():
    apreq = b"\x6e\x82\x00\x10" + b"\x00" * 16
    steps = [("c", b"\0\0\0\x13KRB5_SENDAUTH_V1.0\0" + struct.pack("!I", 9) + b"KPOPV1.0\0"),
             ("s", b"\0"), ("c", struct.pack("!I", len(apreq)) + apreq),
             ("s", b"\0\0\0\0+OK ready\r\n"), ("c", b"USER joe\r\nPASS x\r\n"), ("s", b"+OK\r\n+OK\r\n")]
    evs = sift(Capture().session(steps, server=("10.2.0.1", 1109)))
    auth = bodies(evs, "auth")
    expect(auth[0]["mechanism"] == "KPOP" and auth[0]["result"] == "success", auth)
    expect(bodies(evs, "session")[0]["anomalies"] == [], bodies(evs, "session"))


@SUITE.test
def kpop_port_without_preamble_reports_the_password():
    steps = [("s", b"+OK ready\r\n"), ("c", b"USER joe\r\nPASS hunter2\r\n"), ("s", b"+OK\r\n+OK\r\n")]
    evs = sift(Capture().session(steps, server=("10.2.0.1", 1109)), "--show-passwords")
    expect(bodies(evs, "auth")[0]["password"] == "hunter2", bodies(evs, "auth"))
    expect("cleartext-password" in [a["signature"] for a in bodies(evs, "alert")], evs)
    expect("kpop.preamble_missing" in bodies(evs, "session")[0]["anomalies"], bodies(evs, "session"))


@SUITE.test
def xtnd_xmit_submission_is_a_message_from_the_client():
    body = b"To: bob@example.org\r\nSubject: hi\r\n\r\n.leading dot\r\nbye\r\n"
    stuffed = body.replace(b"\r\n.", b"\r\n..")
    steps = [("s", b"+OK QPOP ready\r\n"), ("c", b"USER a\r\nPASS b\r\n"), ("s", b"+OK\r\n+OK\r\n"),
             ("c", b"XTND XMIT\r\n"), ("s", b"+OK Start sending message.\r\n"),
             ("c", stuffed + b".\r\n"), ("s", b"+OK Message sent successfully\r\n"),
             ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
    evs = sift(Capture().session(steps))
    m = bodies(evs, "message")
    expect(len(m) == 1 and m[0]["command"] == "XTND XMIT" and m[0]["complete"], m)
    expect(m[0]["size"] == len(body) and m[0]["sha256"] == hashlib.sha256(body).hexdigest(), m)
    expect(bodies(evs, "session")[0]["messages_submitted"] == 1, bodies(evs, "session"))


@SUITE.test
def scram_sha_256_record_verifies_with_the_password():
    # RFC 7677 §3 example exchange (user "user", password "pencil").
    cfirst = b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    sfirst = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    cfinal = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    sfinal = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    steps = [("s", b"+OK ready\r\n"), ("c", b"AUTH SCRAM-SHA-256 " + b64(cfirst).encode() + b"\r\n"),
             ("s", b"+ " + b64(sfirst).encode() + b"\r\n"), ("c", b64(cfinal).encode() + b"\r\n"),
             ("s", b"+ " + b64(sfinal).encode() + b"\r\n"), ("c", b"\r\n"), ("s", b"+OK\r\n")]
    evs = sift(Capture().session(steps), "--show-passwords")
    a = bodies(evs, "auth")[0]
    expect(a["mechanism"] == "SCRAM-SHA-256" and a["username"] == "user" and a["result"] == "success", a)
    expect(a["hash_format"] == "scram", a)
    _, _, mech, user, iters, salt, authmsg, proof = a["hash"].split("$")
    salted = hashlib.pbkdf2_hmac("sha256", b"pencil", base64.b64decode(salt), int(iters))
    ckey = hmac.new(salted, b"Client Key", "sha256").digest()
    csig = hmac.new(hashlib.sha256(ckey).digest(), base64.b64decode(authmsg), "sha256").digest()
    got = bytes(x ^ y for x, y in zip(base64.b64decode(proof), csig))
    expect(got == ckey, "ClientProof does not verify with the password")


@SUITE.test
def ntlm_type3_names_are_decoded_and_v2_line_is_written():
    chal = bytes.fromhex("0123456789abcdef")
    type2 = ntlm_challenge(chal)
    user, dom, ws = "Zoë".encode("utf-16le"), "CORP".encode("utf-16le"), "PC1".encode("utf-16le")
    lm = b"\0" * 24
    nt = bytes(range(16)) + b"\x01\x01\0\0\0\0\0\0" + b"\x11" * 40  # NTProofStr + blob
    type3 = ntlm_authenticate(lm, nt, dom, user, ws)
    steps = ntlm_login_steps(type2, type3, b"-ERR [AUTH] logon failure\r\n")
    evs = sift(Capture().session(steps), "--show-passwords")
    a = bodies(evs, "auth")[0]
    expect(a["username"] == "Zoë" and a["realm"] == "CORP" and a["workstation"] == "PC1", a)
    expect(a["hashcat_mode"] == 5600 and a["result"] == "failure", a)
    expect(a["hash"] == "Zoë::CORP:0123456789abcdef:" + bytes(range(16)).hex() + ":" + nt[16:].hex(), a["hash"])


@SUITE.test
def rpop_and_response_codes_through_the_real_path():
    steps = [("s", b"+OK ready\r\n"), ("c", b"USER mrose\r\n"), ("s", b"+OK\r\n"),
             ("c", b"RPOP rose\r\n"), ("s", b"-ERR [IN-USE] maildrop locked\r\n"),
             ("c", b"USER a\r\nPASS b\r\n"), ("s", b"+OK\r\n-ERR [SYS/TEMP] try later\r\n")]
    evs = sift(Capture().session(steps))
    auths = bodies(evs, "auth")
    expect(auths[0]["mechanism"] == "RPOP" and auths[0]["trusted_user"] == "rose", auths)
    expect(auths[0]["failure"] == "in-use" and auths[0]["response_code"] == "IN-USE", auths)
    expect(auths[1]["failure"] == "system", auths)
    sigs = [a["signature"] for a in bodies(evs, "alert")]
    expect("auth-failed" not in sigs and sigs == ["cleartext-password"], sigs)


@SUITE.test
def transactions_pair_every_command_and_redact_secrets():
    dovecot = os.path.join(SAMPLES, "dovecot-pop3.pcap")
    cmds = bodies(SUITE.events("--transactions", "-r", dovecot), "command")
    reqs = [c["request"] for c in cmds]
    expect("PASS <redacted>" in reqs and not any("wonderland" in r for r in reqs), reqs)
    expect(any(r.startswith("RETR") and c["result"] == "success" for r, c in zip(reqs, cmds)), reqs)
    out = SUITE.ok("-q", "--transactions", "--show-passwords", "-r", dovecot).out
    expect(b'"request":"PASS wonderland"' in out, "password not shown with --show-passwords")


@SUITE.test
def detect_finds_pop_on_other_ports_and_not_redis():
    pop3 = [("s", b"+OK ready\r\n"), ("c", b"USER a\r\nPASS b\r\n"), ("s", b"+OK\r\n+OK\r\n"),
            ("c", b"RETR 1\r\n"), ("s", b"+OK\r\nhello\r\n.\r\n")]
    pop2 = [("s", b"+ POP2 host ready\r\n"), ("c", b"HELO bob secret\r\n"), ("s", b"#0\r\n"),
            ("c", b"QUIT\r\n"), ("s", b"+ bye\r\n")]
    smtp = [("s", b"220 mx ESMTP\r\n"), ("c", b"EHLO x\r\n"), ("s", b"250 ok\r\n")]
    cap = Capture().session(pop3, server=("10.2.0.1", 2110)).session(
        pop2, client=("10.1.0.2", 40002), server=("10.2.0.2", 2109)).session(
        smtp, client=("10.1.0.3", 40003), server=("10.2.0.3", 25))
    expect(sift(cap) == [], "followed a port that is not POP's without --detect")
    evs = sift(cap, "--detect")
    protos = sorted({(e["dest_port"], e["app_proto"]) for e in evs})
    expect(protos == [(2109, "pop2"), (2110, "pop3")], protos)
    expect(len(bodies(evs, "message")) == 1 and len(bodies(evs, "auth")) == 2, evs)
    out = SUITE.ok("-q", "--detect", "-r", os.path.join(CAPTURES, "zeek-redis-50-pings.pcap")).out
    expect(out == b"", out[:300])


@SUITE.test
def brute_force_and_password_spray_alert_once_per_window():
    cap = Capture()
    for i in range(12):  # one client, one user, twelve wrong passwords
        cap.session([("s", b"+OK ready\r\n"), ("c", b"USER admin\r\nPASS guess%d\r\n" % i),
                     ("s", b"+OK\r\n-ERR [AUTH] no\r\n")], client=("10.9.9.9", 41000 + i))
    for i in range(6):  # another client, one password, six users
        cap.session([("s", b"+OK ready\r\n"), ("c", b"USER user%d\r\nPASS Summer2026\r\n" % i),
                     ("s", b"+OK\r\n-ERR [AUTH] no\r\n")], client=("10.8.8.8", 42000 + i))
    evs = sift(cap)
    alerts = [(e["src_ip"], e["alert"]["signature"]) for e in evs if e["event_type"] == "alert"]
    expect(alerts.count(("10.9.9.9", "brute-force")) == 1, alerts)
    expect(alerts.count(("10.8.8.8", "password-spray")) == 1, alerts)
    expect(("10.9.9.9", "password-spray") not in alerts and ("10.8.8.8", "brute-force") not in alerts, alerts)
    quiet = [e for e in sift(cap, "--brute-force-failures", "0", "--spray-users", "0")
             if e["event_type"] == "alert" and e["alert"]["signature"] in ("brute-force", "password-spray")]
    expect(quiet == [], quiet)


if __name__ == "__main__":
    sys.exit(SUITE.main())
