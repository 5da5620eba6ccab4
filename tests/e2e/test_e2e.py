#!/usr/bin/env python3
"""End-to-end tests: the built popsift binary on real captures.

Every test runs the real path (pcap -> link layer -> libnids -> dissector ->
JSON) and asserts concrete events. Usage: test_e2e.py POPSIFT_BINARY [NAME...]
Prints one line per test and closes with 'N passed, N failed'.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import CAPTURES, ROOT, SAMPLES, Suite, bodies, expect, of_type, pcap_records, read_events  # noqa: E402

SUITE = Suite("e2e")
events = SUITE.events


def cap(name):
    return os.path.join(CAPTURES, name)


# ---- real captures from other projects' test suites ------------------------

@SUITE.test
def suricata_02_failed_then_successful_pass_and_the_6668_octet_retr():
    evs = events("--show-passwords", "-r", cap("suricata-verify-pop3-02.pcap"))
    auths = [(a["auth"]["username"], a["auth"]["password"], a["auth"]["result"])
             for a in of_type(evs, "auth")]
    expect(auths == [("test@tt.com", "123456", "failure"), ("test", "123456", "success")], auths)
    msgs = of_type(evs, "message")
    expect(len(msgs) == 1, msgs)
    m = msgs[0]["message"]
    # The server announces 6668 octets and then sends one more CRLF before the
    # terminator: a client holds 6670 octets (docs/protocol.md §1: the CRLF before
    # "." belongs to the message). popsift reports both.
    expect(m["command"] == "RETR" and m["number"] == 5 and m["announced_size"] == 6668, m)
    expect(m["size"] == 6670 and m["complete"] is True, m)
    sigs = [a["alert"]["signature"] for a in of_type(evs, "alert")]
    expect(sigs == ["cleartext-password", "auth-failed", "cleartext-password"], sigs)
    sessions = of_type(evs, "session")
    expect([s["session"]["end_reason"] for s in sessions] == ["quit", "quit"], sessions)
    expect(all(e["flow_id"] == msgs[0]["flow_id"] for e in evs[4:]), "flow_id differs within a session")


@SUITE.test
def suricata_pop3_has_49_tops():
    evs = events("-r", cap("suricata-verify-pop3.pcap"))
    tops = [m for m in of_type(evs, "message") if m["message"]["command"] == "TOP"]
    expect(len(tops) == 49, len(tops))
    expect(all(t["message"]["complete"] for t in tops), "a TOP incomplete")


@SUITE.test
def zeek_pop3_auth_plain_failure_then_success_and_three_retrs():
    evs = events("--show-passwords", "-r", cap("zeek-pop3.pcap"))
    auths = [(a["auth"]["mechanism"], a["auth"]["password"], a["auth"]["result"]) for a in of_type(evs, "auth")]
    expect(auths[0] == ("PLAIN", "napier", "failure"), auths)
    expect(("PLAIN", "napier123", "success") in auths, auths)
    msgs = [m["message"] for m in of_type(evs, "message")]
    expect([m["number"] for m in msgs] == [1, 2, 3] and all(m["complete"] for m in msgs), msgs)
    caps = of_type(evs, "session")[0]["session"]["capabilities"]
    expect("SASL PLAIN" in caps and "STLS" in caps, caps)


@SUITE.test
def suricata_xoauth2_reveals_user_and_bearer_token():
    evs = events("--show-passwords", "-r", cap("suricata-verify-pop3-auth-01.pcap"))
    a = of_type(evs, "auth")[0]["auth"]
    expect(a["mechanism"] == "XOAUTH2" and a["username"] == "joe.speedboat" and a["cleartext"], a)
    expect(a["password"] == "AAAAAAAAAAAAAAAAAAAAAAAAAAAA" and a["result"] == "success", a)


@SUITE.test
def redis_pings_give_no_events():
    r = SUITE.run("-q", "-r", cap("zeek-redis-50-pings.pcap"))
    expect(r.code == 0 and r.out == b"", (r.code, r.out))


@SUITE.test
def stls_is_reported_with_its_tls_session_and_parsing_stops():
    for name, version in (("zeek-pop3-starttls.pcap", "TLS 1.2"), ("ndpi-pop3-stls.pcap", "TLS 1.0")):
        evs = events("-r", cap(name))
        tls = of_type(evs, "tls")
        expect(len(tls) == 1 and tls[0]["tls"]["command"] == "STLS" and tls[0]["tls"]["result"] == "success"
               and tls[0]["tls"]["version"] == version and tls[0]["tls"]["decryption"] == "no-keylog",
               (name, tls))
        s = of_type(evs, "session")[0]["session"]
        expect(s["tls"] is True and s["encrypted"] is False and s["state"] == "TLS" and s["anomalies"] == [],
               (name, s))


@SUITE.test
def pop3s_on_995_is_followed_by_default_and_is_an_encrypted_session():
    evs = events("-r", cap("ndpi-pops.pcapng"))
    s = of_type(evs, "session")
    expect(len(s) == 1 and s[0]["session"]["encrypted"] is True and s[0]["session"]["tls"] is True, s)
    # The capture ends inside the server's Certificate record.
    expect(s[0]["session"]["anomalies"] == ["tls.record_truncated"], s)
    tls = bodies(evs, "tls")
    expect(len(tls) == 1 and "command" not in tls[0] and tls[0]["version"] == "TLS 1.2"
           and tls[0]["sni"] == "pop.secureserver.net" and tls[0]["certificate"] is None
           and tls[0]["certificate_status"] == "none", tls)


@SUITE.test
def passwords_only_with_show_passwords():
    out = SUITE.ok("-q", "-r", cap("suricata-verify-pop3-02.pcap")).out
    expect(b"123456" not in out and b'"password"' not in out, "password leaked")
    out = SUITE.ok("-q", "--show-passwords", "-r", cap("suricata-verify-pop3-02.pcap")).out
    expect(b'"password":"123456"' in out, "password missing with --show-passwords")


@SUITE.test
def non_utf8_bytes_are_escaped_and_output_is_valid_json():
    evs = events("-r", cap("suricata-verify-pop3-02.pcap"))
    g = of_type(evs, "session")[0]["session"]["greeting"]
    expect(g.startswith("+OK \\xd3") and "CMailServer" in g, g)


@SUITE.test
def envelope_matches_the_contract():
    evs = events("-r", cap("zeek-pop3.pcap"))
    for e in evs:
        for k in ("timestamp", "flow_id", "event_type", "src_ip", "src_port", "dest_ip",
                  "dest_port", "proto", "app_proto", "pcap_file"):
            expect(k in e, (k, e))
        expect(e["dest_port"] == 110 and e["proto"] == "TCP" and e["app_proto"] == "pop3", e)
        expect(e["timestamp"].endswith("Z") and len(e["timestamp"]) == 27, e["timestamp"])
        expect(e[e["event_type"]] is not None, e)


# ---- the project's own dovecot captures (samples/) -------------------------

def stored_sums():
    sums = {}
    with open(os.path.join(SAMPLES, "dovecot-messages", "SHA256SUMS")) as f:
        for line in f:
            digest, name = line.split()
            sums[name] = digest
    return sums


@SUITE.test
def dovecot_every_retrieved_message_matches_the_stored_file():
    sums = stored_sums()
    for name, digest in sums.items():
        with open(os.path.join(SAMPLES, "dovecot-messages", name), "rb") as f:
            expect(hashlib.sha256(f.read()).hexdigest() == digest, f"SHA256SUMS stale for {name}")
    evs = events("-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
    users = {}
    for e in evs:
        if e["event_type"] == "auth" and e["auth"]["result"] == "success":
            users[e["flow_id"]] = e["auth"]["username"]
    seen = 0
    for e in of_type(evs, "message"):
        m = e["message"]
        if m["command"] != "RETR":
            continue
        name = f'{users[e["flow_id"]]}-{m["number"]}.eml'
        expect(m["sha256"] == sums[name], (name, m))
        expect(m["complete"] is True, m)
        seen += 1
    expect(seen >= 5, seen)


@SUITE.test
def dovecot_user_pass_and_apop_success_and_failure():
    evs = events("-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
    got = [(a["auth"]["mechanism"], a["auth"]["username"], a["auth"]["result"]) for a in of_type(evs, "auth")]
    for want in [("USER", "alice", "failure"), ("USER", "alice", "success"),
                 ("APOP", "alice", "success"), ("APOP", "alice", "failure"), ("USER", "bob", "success")]:
        expect(want in got, (want, got))
    sigs = [a["alert"]["signature"] for a in of_type(evs, "alert")]
    expect("apop-failed" in sigs and "cleartext-password" in sigs, sigs)
    for s in of_type(evs, "session"):
        expect(s["session"]["apop_timestamp"].startswith("<"), s)


@SUITE.test
def dovecot_top_is_reported_as_top():
    evs = events("-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
    tops = [m["message"] for m in of_type(evs, "message") if m["message"]["command"] == "TOP"]
    expect(len(tops) >= 1 and all(t["complete"] for t in tops), tops)


@SUITE.test
def hashes_file_holds_crackable_apop_lines_that_recompute_from_the_password():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "hashes.txt")
        events("--hashes", path, "-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"))
        expect(os.stat(path).st_mode & 0o777 == 0o600, oct(os.stat(path).st_mode))
        # --hashes FILE: JSON lines, the hash in each (one file never mixes cracker formats)
        lines = [json.loads(line)["hash"] for line in open(path)]
    expect(len(lines) == 2, lines)
    # hashcat -m 20: md5($salt.$pass) written as digest:<timestamp>
    for line, secret in zip(lines, ("wonderland", "wrong-secret")):
        digest, salt = line.split(":", 1)
        expect(salt.startswith("<") and salt.endswith(">"), line)
        expect(hashlib.md5((salt + secret).encode()).hexdigest() == digest, (line, secret))


@SUITE.test
def real_cram_md5_and_digest_md5_lines_recompute_from_the_password():
    """dovecot + curl / an RFC 2831 client: the cracking lines are right."""
    import base64
    import hmac
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "hashes.txt")
        events("--hashes", path, "-r", os.path.join(SAMPLES, "dovecot-sasl.pcap"))
        lines = [json.loads(line)["hash"] for line in open(path)]
    cram = [l for l in lines if l.startswith("$cram_md5$")]
    dmd5 = [l for l in lines if l.startswith("$DIGEST-MD5$")]
    expect(len(cram) == 1 and len(dmd5) == 1, lines)
    # hashcat 10200: $cram_md5$b64(challenge)$b64("user hexdigest"), digest = HMAC-MD5(pw, challenge)
    _, _, chal, resp = cram[0].split("$")
    user, digest = base64.b64decode(resp).decode().split(" ")
    want = hmac.new(b"wonderland", base64.b64decode(chal), "md5").hexdigest()
    expect(user == "alice" and digest == want, (user, digest, want))
    # John dmd5: $DIGEST-MD5$user$realm$nonce$digest_uri$cnonce$nc$qop$response (RFC 2831 §2.1.2.1)
    f = dmd5[0].split("$")[2:]
    user, realm, nonce, uri, cnonce, nc, qop, response = f[:8]
    md5 = lambda b: hashlib.md5(b).digest()
    hexmd5 = lambda b: hashlib.md5(b).hexdigest()
    a1 = md5(f"{user}:{realm}:wonderland".encode()) + f":{nonce}:{cnonce}".encode()
    a2 = f"AUTHENTICATE:{uri}".encode()
    want = hexmd5(f"{hexmd5(a1)}:{nonce}:{nc}:{cnonce}:{qop}:{hexmd5(a2)}".encode())
    expect(response == want, (response, want))


@SUITE.test
def hashes_file_refuses_a_symlink():
    with tempfile.TemporaryDirectory() as d:
        target, link = os.path.join(d, "target"), os.path.join(d, "link")
        open(target, "w").write("keep me\n")
        os.symlink(target, link)
        r = SUITE.run("--hashes", link, "-r", cap("zeek-pop3.pcap"))
        expect(r.code == 2 and "symbolic link" in r.err and r.out == b"", (r.code, r.err))
        expect(open(target).read() == "keep me\n", "symlink target was written")


# ---- inputs and errors -----------------------------------------------------

@SUITE.test
def missing_file_is_one_clear_error_and_exit_2():
    r = SUITE.run("-r", "/nonexistent/x.pcap")
    expect(r.code == 2 and r.out == b"", (r.code, r.out))
    lines = r.err.strip().splitlines()
    expect(len(lines) == 1 and "/nonexistent/x.pcap" in lines[0] and "No such file" in lines[0], r.err)


@SUITE.test
def a_file_that_is_not_a_capture_is_exit_2_and_names_it():
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(b"this is not a capture at all\n" * 10)
        f.flush()
        r = SUITE.run("-r", f.name)
    expect(r.code == 2 and r.out == b"" and f.name in r.err, (r.code, r.err))


@SUITE.test
def a_bad_second_file_fails_before_any_output():
    r = SUITE.run("-r", cap("zeek-pop3.pcap"), "-r", "/nonexistent/y.pcap")
    expect(r.code == 2 and r.out == b"", (r.code, r.out[:100]))


@SUITE.test
def a_full_disk_is_exit_2_with_the_reason_on_either_thread():
    """The write error happens on the output thread; its errno must still reach the message."""
    for mode in ([], ["--single-thread"]):
        r = SUITE.run(*mode, "-q", "-r", cap("suricata-verify-pop3.pcap"), "-o", "/dev/full")
        expect(r.code == 2 and "No space left on device" in r.err, (mode, r.code, r.err))


@SUITE.test
def usage_errors_exit_1():
    for args in ([], ["-r"], ["--bogus"], ["-p", "0", "-r", "x"], ["stray"]):
        r = SUITE.run(*args)
        expect(r.code == 1 and r.out == b"" and "popsift:" in r.err, (args, r.code, r.err))


@SUITE.test
def help_mentions_every_option():
    r = SUITE.run("--help")
    text = r.out.decode()
    for opt in ("--read", "--output", "--ports", "--max-streams", "--show-passwords",
                "--transactions", "--quiet", "--help", "--version"):
        expect(opt in text, opt)
    expect(r.code == 0, r.code)


@SUITE.test
def truncated_capture_warns_and_reports_what_came_before():
    header, recs = pcap_records(cap("zeek-pop3.pcap"))
    with tempfile.NamedTemporaryFile(suffix=".pcap") as f:
        f.write(header + b"".join(recs[:-3]) + recs[-3][:30])
        f.flush()
        r = SUITE.ok("-r", f.name)
    expect("warning" in r.err and f.name in r.err, r.err)
    expect(len(of_type(r.events, "message")) == 3, "messages before the cut lost")


@SUITE.test
def rotated_capture_in_two_files_is_one_session():
    header, recs = pcap_records(cap("suricata-verify-pop3-02.pcap"))
    cut = len(recs) - 12  # inside the second session's RETR
    with tempfile.TemporaryDirectory() as d:
        a, b = os.path.join(d, "a.pcap"), os.path.join(d, "b.pcap")
        open(a, "wb").write(header + b"".join(recs[:cut]))
        open(b, "wb").write(header + b"".join(recs[cut:]))
        evs = events("-r", a, "-r", b)
    whole = events("-r", cap("suricata-verify-pop3-02.pcap"))
    strip = lambda evs: [{k: v for k, v in e.items() if k != "pcap_file"} for e in evs]
    expect(strip(evs) == strip(whole), "split capture differs from the whole one")
    expect(len(of_type(evs, "session")) == 2, "a session was split")
    expect(evs[-1]["pcap_file"].endswith("b.pcap"), evs[-1]["pcap_file"])


@SUITE.test
def standard_input_is_read_with_dash():
    with open(cap("zeek-pop3.pcap"), "rb") as f:
        evs = events("-r", "-", stdin=f.read())
    expect(len(of_type(evs, "message")) == 3, evs)


@SUITE.test
def output_file_gets_the_events():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "ev.json")
        r = SUITE.ok("-q", "-o", out, "-r", cap("zeek-pop3.pcap"))
        expect(r.out == b"", r.out[:200])
        lines = read_events(out)
        expect(len(of_type(lines, "session")) == 5, len(lines))
        r = SUITE.run("-q", "-o", os.path.join(d, "no/such/dir/x"), "-r", cap("zeek-pop3.pcap"))
        expect(r.code == 2 and "no/such/dir/x" in r.err, (r.code, r.err))


@SUITE.test
def summary_on_stderr_unless_quiet():
    err = SUITE.ok("-r", cap("zeek-pop3.pcap")).err
    expect("5 TCP sessions followed" in err, err)
    err = SUITE.ok("-q", "-r", cap("zeek-pop3.pcap")).err
    expect(err == "", err)


@SUITE.test
def docs_events_md_lists_every_anomaly_id():
    import re
    ids = re.findall(r'ANOMALY\(\w+, "([^"]+)"', open(os.path.join(ROOT, "dissectors", "anomalies.def")).read())
    doc = open(os.path.join(ROOT, "docs", "events.md")).read()
    missing = [i for i in ids if f"`{i}`" not in doc]
    expect(ids and not missing, missing)



@SUITE.test
def progress_bar_only_on_a_terminal():
    import pty
    master, slave = pty.openpty()
    p = subprocess.run([SUITE.popsift, "-o", os.devnull, "-r", cap("suricata-verify-pop3.pcap")],
                       stderr=slave, stdout=subprocess.DEVNULL, timeout=60)
    os.close(slave)
    out = b""
    try:
        while True:
            chunk = os.read(master, 4096)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(master)
    expect(p.returncode == 0 and b"\rpopsift: 100.0%" in out and b"MB/s" in out, out[-300:])
    err = SUITE.ok("-o", os.devnull, "-r", cap("suricata-verify-pop3.pcap")).err
    expect("\r" not in err and "%" not in err, err)


if __name__ == "__main__":
    sys.exit(SUITE.main())
