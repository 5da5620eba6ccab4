#!/usr/bin/env python3
"""End-to-end tests of what issue 17 found missing for a demanding user, each
through a capture (pcap -> libnids -> dissector -> output): POP2 deletions and
--transactions, user names of failed logins, alert evidence, the text summary,
hash files a cracker reads as they are, IPv6 fragments, --detect on a capture
that starts mid-stream, and the hint that --detect would find POP.
Captures are the project's samples or CRAFTED here (tests/e2e/craft.py).
Usage: test_loose_ends.py POPSIFT [NAME...]
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from craft import Capture  # noqa: E402
from runner import CAPTURES, ROOT, SAMPLES, Suite, expect  # noqa: E402

SUITE = Suite("loose-ends")
TMP = tempfile.mkdtemp(prefix="popsift-loose-")


def popsift(*args, ok=True):
    """Runs popsift; returns the CompletedProcess (exit 0 required unless ok is False)."""
    p = subprocess.run([SUITE.popsift, *args], capture_output=True, timeout=300)
    if ok:
        expect(p.returncode == 0, f"exit {p.returncode}: {p.stderr[:500]!r}")
    return p


def events(*args):
    p = popsift("-q", *args)
    return [json.loads(line) for line in p.stdout.decode().splitlines()]


def crafted(cap, name):
    return cap.write(os.path.join(TMP, name))


def of(evs, t):
    return [e for e in evs if e["event_type"] == t]


# ---- POP2: deletions listed, commands written ---------------------------------

def pop2_two_folders():
    """ACKD in INBOX (committed by FOLD), ACKD in archive (committed by QUIT)."""
    steps = [("s", b"+ POP2 host ready\r\n"), ("c", b"HELO ann pw\r\n"), ("s", b"#2\r\n"),
             ("c", b"READ\r\n"), ("s", b"=5\r\n"), ("c", b"RETR\r\n"), ("s", b"hello"),
             ("c", b"ACKD\r\n"), ("s", b"=0\r\n"),
             ("c", b"FOLD archive\r\n"), ("s", b"#1\r\n"), ("c", b"READ\r\n"), ("s", b"=3\r\n"),
             ("c", b"RETR\r\n"), ("s", b"abc"), ("c", b"ACKD\r\n"), ("s", b"=0\r\n"),
             ("c", b"QUIT\r\n"), ("s", b"+ bye\r\n")]
    return crafted(Capture().session(steps, server=("10.2.0.9", 109)), "pop2-two-folders.pcap")


@SUITE.test
def pop2_applied_deletions_are_listed_by_folder_and_number():
    s = of(events("-r", pop2_two_folders()), "session")[0]["session"]
    expect(s["messages_deleted"] == 2 and s["deletions_committed"] is True, s)
    expect(s["marked_for_deletion"] == [{"number": 1, "folder": "INBOX"},
                                        {"number": 1, "folder": "archive"}], s["marked_for_deletion"])
    sample = of(events("-r", os.path.join(SAMPLES, "pop2", "pop2.pcap")), "session")
    first = min(sample, key=lambda e: e["session"]["start"])["session"]
    # samples/pop2/README.md: session 1 deletes INBOX message 2 at QUIT
    expect(first["marked_for_deletion"] == [{"number": 2, "folder": "INBOX"}], first)


@SUITE.test
def pop2_transactions_write_a_command_event_per_request():
    evs = events("--transactions", "-r", pop2_two_folders())
    cmds = [(c["command"]["request"], c["command"].get("reply"), c["command"]["result"])
            for c in of(evs, "command")]
    expect(cmds[:4] == [("HELO ann <redacted>", "#2", "success"), ("READ", "=5", "success"),
                        ("RETR", None, "success"), ("ACKD", "=0", "success")], cmds)
    expect(len(cmds) == 9 and cmds[-1] == ("QUIT", "+ bye", "success"), cmds)
    shown = [c["command"]["request"] for c in of(events("--transactions", "--show-passwords", "-r",
                                                         pop2_two_folders()), "command")]
    expect(shown[0] == "HELO ann pw", shown)


# ---- user names: tried ones kept, absent ones null ------------------------------

@SUITE.test
def failed_logins_name_the_user_tried_in_the_session():
    evs = events("-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"),
                 "-r", os.path.join(SAMPLES, "pop2", "pop2.pcap"))
    failed = [e for e in of(evs, "session") if not e["session"]["authenticated"]]
    expect(failed, "no failed session in the samples")
    for e in failed:
        tried = [a["auth"]["username"] for a in of(evs, "auth") if a["flow_id"] == e["flow_id"]]
        expect(tried and e["session"]["username"] == tried[-1], (e["session"], tried))


@SUITE.test
def no_name_sent_is_null_not_empty():
    evs = events("-r", os.path.join(SAMPLES, "dovecot-sasl.pcap"))
    cancelled = [a["auth"] for a in of(evs, "auth") if a["auth"].get("failure") == "cancelled"]
    expect(cancelled and all(a["username"] is None for a in cancelled), cancelled)
    # a session without any login: username present and null
    cap = Capture().session([("s", b"+OK ready\r\n"), ("c", b"CAPA\r\n"), ("s", b"+OK\r\nUSER\r\n.\r\n"),
                             ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")])
    s = of(events("-r", crafted(cap, "nologin.pcap")), "session")[0]["session"]
    expect("username" in s and s["username"] is None, s)


# ---- alerts across sessions carry their evidence ----------------------------------

def spray_and_brute():
    cap = Capture()
    for i in range(12):  # one client, six users, two wrong passwords each
        cap.session([("s", b"+OK ready\r\n"), ("c", b"USER user%d\r\nPASS guess%d\r\n" % (i % 6, i)),
                     ("s", b"+OK\r\n-ERR [AUTH] no\r\n")], client=("10.9.9.9", 41000 + i))
    return crafted(cap, "brute.pcap")


@SUITE.test
def brute_force_alert_names_every_user_with_counts_and_times():
    evs = events("-r", spray_and_brute())
    fails = [e for e in of(evs, "auth") if e["auth"]["result"] == "failure"]
    brute = [e for e in of(evs, "alert") if e["alert"]["signature"] == "brute-force"]
    expect(len(brute) == 1, brute)
    a = brute[0]["alert"]
    expect(a["users"] == ["user%d" % i for i in range(6)] and a["users_total"] == 6, a)
    expect("username" not in a, a)
    expect(a["failures"] == 10 and a["window"] == 300, a)
    expect(a["first"] == fails[0]["timestamp"] and a["last"] == fails[9]["timestamp"], (a, fails[9]))
    spray = [e["alert"] for e in of(evs, "alert") if e["alert"]["signature"] == "password-spray"]
    expect(len(spray) == 1 and spray[0]["failures"] == 5 and spray[0]["users_total"] == 5, spray)
    expect(spray[0]["first"] == fails[0]["timestamp"] and spray[0]["last"] == fails[4]["timestamp"], spray)



# ---- -T text says what it wrote, in which time zone, and shows the alerts ------

@SUITE.test
def text_summary_names_utc_counts_its_lines_and_shows_alerts():
    p = popsift("-T", "text", "-r", spray_and_brute())
    out, err = p.stdout.decode(), p.stderr.decode()
    expect(out.splitlines()[0].startswith("time (UTC)"), out[:300])
    expect("0 events written" not in err and "14 login and alert lines written" in err, err)
    lines = [l for l in out.splitlines() if "ALERT" in l]
    brute = [l for l in lines if "ALERT brute-force" in l]
    expect(len(brute) == 1 and "10 failed logins" in brute[0] and "6 users: user0, user1" in brute[0], lines)
    expect(len([l for l in lines if "ALERT password-spray" in l]) == 1, lines)
    expect("alerts: brute-force 1, password-spray 1" in out, out[-300:])
    zeek = popsift("-q", "-T", "text", "-r", os.path.join(CAPTURES, "zeek-pop3.pcap")).stdout.decode()
    stls = [l for l in zeek.splitlines() if "ALERT stls-offered-not-used" in l]
    expect(len(stls) == 3 and "user digitalinvestigator@networksims.com" in stls[0], zeek)



# ---- --hashes: one format per file ----------------------------------------------

@SUITE.test
def hashes_file_is_json_lines_and_never_mixes_cracker_formats():
    path = os.path.join(TMP, "hashes.jsonl")
    events("--hashes", path, "-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"),
           "-r", os.path.join(SAMPLES, "dovecot-sasl.pcap"))
    recs = [json.loads(line) for line in open(path)]
    kinds = sorted({(r["mechanism"], r["hash_format"]) for r in recs})
    expect(kinds == [("APOP", "hashcat"), ("CRAM-MD5", "hashcat"), ("DIGEST-MD5", "john")], kinds)
    expect(all("file" not in r and r["user"] == "alice" and r["hash"] for r in recs), recs)


@SUITE.test
def hashes_dir_holds_this_runs_files_only_and_refuses_a_symlink():
    d = os.path.join(TMP, "hdir")
    os.makedirs(d)
    with open(os.path.join(d, "apop.hc20"), "w") as f:
        f.write("stale:line\n")
    events("--hashes", d, "-r", os.path.join(SAMPLES, "dovecot-sasl.pcap"))
    expect(sorted(os.listdir(d)) == ["cram-md5.hc10200", "digest-md5.john", "hashes.jsonl"], os.listdir(d))
    expect(all(os.stat(os.path.join(d, f)).st_mode & 0o777 == 0o600 for f in os.listdir(d)), "mode")
    link = os.path.join(TMP, "hlink")
    os.symlink(d, link)
    p = popsift("-q", "--hashes", link + "/", "-r", os.path.join(SAMPLES, "dovecot-sasl.pcap"), ok=False)
    expect(p.returncode == 2 and b"symbolic link" in p.stderr and p.stdout == b"", (p.returncode, p.stderr))



# ---- IPv6 fragments are reassembled, as IPv4 ones are ----------------------------

def popgen(name, *args):
    """A generated capture and popgen's manifest: (pcap, [(client, user, password, result, [(sha, size)])])."""
    tool = os.path.join(ROOT, "build", "popgen")
    expect(os.path.exists(tool), f"{tool} missing: make tools")
    pcap, man = os.path.join(TMP, name + ".pcap"), os.path.join(TMP, name + ".tsv")
    subprocess.run([tool, "-o", pcap, "--manifest", man, *args], check=True, capture_output=True, timeout=300)
    rows, cols = [], None
    for line in open(man):
        f = line.rstrip("\n").split("\t")
        if line.startswith("#"):
            cols = line[1:].rstrip("\n").split("\t")
            continue
        c = dict(zip(cols, f))
        rest = f[cols.index("gaps") + 1:]
        msgs = [(rest[i + 3], int(rest[i + 2])) for i in range(0, len(rest) - 4, 5)]
        rows.append((c["client"], c["user"], c["password"], c["result"], c["mech"], msgs))
    return pcap, rows


@SUITE.test
def ipv6_fragments_are_reassembled_like_ipv4_ones():
    for variant in ("--ipv6", "--ipv6-ext"):
        pcap, rows = popgen("v6frag" + variant, "--seed", "9", "-n", "10", "-c", "3", "--msg-max", "20000",
                            "--fragment", variant)
        p = popsift("--show-passwords", "-r", pcap)
        evs = [json.loads(line) for line in p.stdout.decode().splitlines()]
        err = p.stderr.decode()
        expect("IPv6 fragments" not in err and "gaps" not in err.replace("0 bytes lost in gaps", ""), err)
        auths = {(a["auth"]["username"], a["auth"].get("password")) for a in of(evs, "auth")}
        for client, user, password, result, mech, msgs in rows:
            if mech in ("user", "plain") and result == "ok":
                expect((user, password) in auths, (user, auths))
            got = [(m["message"]["sha256"], m["message"]["size"]) for m in of(evs, "message")
                   if f"[{m['src_ip']}]:{m['src_port']}" == client]
            expect(got == msgs and all(m["message"]["complete"] for m in of(evs, "message")), (client, got, msgs))



# ---- --detect picks up a session whose capture starts mid-stream -----------------

MSG = b"From: a@example.org\r\nSubject: mid\r\n\r\nhello\r\n"


def midstream(port, skip, name):
    """A POP3 session on `port` whose capture starts after its first `skip` frames (handshake included)."""
    steps = [("s", b"+OK ready\r\n"), ("c", b"USER ann\r\n"), ("s", b"+OK\r\n"), ("c", b"PASS pw\r\n"),
             ("s", b"+OK logged in\r\n"), ("c", b"RETR 1\r\n"),
             ("s", b"+OK %d octets\r\n" % len(MSG) + MSG + b".\r\n"), ("c", b"QUIT\r\n"), ("s", b"+OK bye\r\n")]
    cap = Capture().session(steps, server=("10.2.0.5", port))
    cap.frames = cap.frames[skip:]
    return crafted(cap, name)


@SUITE.test
def detect_picks_up_a_midstream_session_on_a_pop_only_line():
    import hashlib

    def bodies(evs):
        return [(e["event_type"], e["app_proto"], e[e["event_type"]]) for e in evs]
    # 3 handshake frames, then two frames (data, ACK) per step: skip 5 steps, start at "RETR 1";
    # skip one more step and the capture starts at the server's "+OK n octets" reply.
    for skip, first in ((3 + 2 * 5, "client RETR"), (3 + 2 * 6, "server +OK octets")):
        pcap = midstream(2110, skip, "mid-%d.pcap" % skip)
        expect(events("-r", pcap) == [], "followed port 2110 without --detect")
        evs = events("--detect", "-r", pcap)
        s = of(evs, "session")
        expect(len(s) == 1 and s[0]["session"]["partial"] and s[0]["dest_port"] == 2110
               and s[0]["app_proto"] == "pop3" and s[0]["session"]["end_reason"] == "quit", (first, s))
        # the same as when the port is followed: picked up mid-stream alike
        on110 = events("-r", midstream(110, skip, "mid110-%d.pcap" % skip))
        expect(bodies(evs) == bodies(on110), (first, bodies(evs), bodies(on110)))
    msgs = [m["message"] for m in of(events("--detect", "-r", midstream(2110, 13, "mid-13.pcap")), "message")]
    expect(len(msgs) == 1 and msgs[0]["complete"] and msgs[0]["sha256"] == hashlib.sha256(MSG).hexdigest(), msgs)
    # a line other protocols also send is no proof: FTP's "USER x", Redis' bare "+OK"
    other = Capture().session([("c", b"USER anonymous\r\n"), ("s", b"+OK\r\n"), ("c", b"LIST\r\n"),
                               ("s", b"+OK\r\n")], server=("10.2.0.6", 2121))
    other.frames = other.frames[3:]
    expect(events("--detect", "-r", crafted(other, "mid-other.pcap")) == [], "picked up a non-POP stream")



# ---- the summary says when --detect would have found POP -------------------------

@SUITE.test
def summary_hints_at_detect_when_other_ports_look_like_pop():
    full = [("s", b"+OK ready\r\n"), ("c", b"USER ann\r\nPASS pw\r\n"), ("s", b"+OK\r\n+OK in\r\n"),
            ("c", b"UIDL\r\n"), ("s", b"+OK\r\n1 a\r\n.\r\n"), ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
    cap = Capture().session(full, server=("10.2.0.7", 2110)).session(
        full, client=("10.1.0.9", 40009), server=("10.2.0.8", 8110))
    pcap = crafted(cap, "hint.pcap")
    err = popsift("-r", pcap).stderr.decode()
    expect("2 connections on other ports look like POP: try --detect" in err, err)
    expect("look like POP" not in popsift("--detect", "-r", pcap).stderr.decode(), "hint with --detect")
    # a followed session: the capture gave something, no hint
    both = crafted(Capture().session(full, server=("10.2.0.7", 2110)).session(full, client=("10.1.0.9", 40010)),
                   "hint-followed.pcap")
    expect("look like POP" not in popsift("-r", both).stderr.decode(), "hint although a session was followed")
    mid = popsift("-r", midstream(2110, 13, "hint-mid.pcap")).stderr.decode()
    expect("1 connection on other ports looks like POP: try --detect" in mid, mid)
    redis = popsift("-r", os.path.join(CAPTURES, "zeek-redis-50-pings.pcap")).stderr.decode()
    expect("look like POP" not in redis and "looks like POP" not in redis, redis)



# ---- README's comparison table says what the tools do -----------------------------

def readme_row(label):
    for line in open(os.path.join(ROOT, "README.md")):
        if line.startswith("| " + label + " |"):
            return [c.strip() for c in line.strip().strip("|").split("|")][1:]
    raise AssertionError(f"no README row {label!r}")


@SUITE.test
def readme_comparison_cells_match_docs_comparison_sh():
    p = subprocess.run([os.path.join(ROOT, "docs", "comparison.sh"), SUITE.popsift], capture_output=True,
                       timeout=300, cwd=ROOT)
    out = p.stdout.decode()
    expect(p.returncode == 0 and "dsniff 2.4b1" in out, (p.returncode, out[:500], p.stderr[-500:]))

    def part(title):
        """The output under the heading that starts with title, without the heading."""
        return out.split("\n== " + title)[1].split("\n", 1)[1].split("\n== ")[0]
    cols = ["popsift", "tshark", "zeek", "suricata", "dsniff"]
    sasl = dict(zip(cols, readme_row("SASL mechanisms decoded")))
    creds = part("dsniff: SASL")
    # dsniff reported PLAIN (twice) and LOGIN logins of dovecot-sasl: the cell must say so
    expect(creds.count("username [alice]") == 3 and "PLAIN and LOGIN" in sasl["dsniff"], (creds, sasl))
    pipe = dict(zip(cols, readme_row("pipelining")))
    logins = part("dsniff: logins")
    expect("username [bob] password [builder]" in logins and pipe["dsniff"].startswith("yes"), (logins, pipe))
    pop2 = part("dsniff: POP2")
    expect("username" not in pop2 and dict(zip(cols, readme_row("POP2, KPOP")))["dsniff"].startswith("no"), pop2)
    mid = part("dsniff: a session the capture caught")
    expect("username" not in mid and "nothing reported" in dict(zip(cols, readme_row("gaps and mid-stream captures")))["dsniff"], mid)
    seg = part("tshark: the pipelined segment")
    expect(seg.split() == ["98", "USER"] and "first command of a segment" in pipe["tshark"], seg)



# ---- the service files work as written --------------------------------------------

CONTRIB = os.path.join(ROOT, "contrib")


@SUITE.test
def systemd_unit_verifies():
    import shutil
    expect(shutil.which("systemd-analyze"), "systemd-analyze missing (scripts/install-deps.sh)")
    d = tempfile.mkdtemp(dir=TMP)
    unit = open(os.path.join(CONTRIB, "systemd", "popsift@.service")).read()
    expect("install -d -o popsift -g popsift -m 0750 /var/log/popsift" in unit, "no log directory step")
    # the unit names /usr/local/bin/popsift (make install); here the binary under test
    path = os.path.join(d, "popsift@eth1.service")
    with open(path, "w") as f:
        f.write(unit.replace("/usr/local/bin/popsift", SUITE.popsift))
    # --man=no: the man page is installed by make install, not here
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True, timeout=120)
    expect(p.returncode == 0 and not p.stderr.strip(), p.stderr.decode())


def wait(pred, what, timeout=20):
    import time
    t0 = time.monotonic()
    while not pred():
        expect(time.monotonic() - t0 < timeout, f"timed out waiting for {what}")
        time.sleep(0.05)


@SUITE.test
def live_output_under_minus_z_needs_the_install_step_and_logrotate_snippet_rotates_it():
    """The README's live example and contrib/logrotate/popsift, with the user nobody for popsift."""
    import pwd
    import signal
    if os.geteuid() != 0:
        raise AssertionError("needs root (live capture, -Z, logrotate su)")
    base = tempfile.mkdtemp(dir=TMP)
    os.chmod(TMP, 0o755)
    os.chmod(base, 0o755)
    logdir = os.path.join(base, "log")
    os.makedirs(logdir)  # root's, 0755: as a directory made by hand
    argv = [SUITE.popsift, "-q", "-i", "lo", "-p", "65109", "-Z", "nobody", "-o", os.path.join(logdir, "lo.json")]
    p = subprocess.run(argv, capture_output=True, timeout=30)
    expect(p.returncode == 2 and b"Permission denied" in p.stderr, (p.returncode, p.stderr))
    os.rmdir(logdir)
    subprocess.run(["install", "-d", "-o", "nobody", "-g", "nogroup", "-m", "0750", logdir], check=True)
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        events = os.path.join(logdir, "lo.json")
        wait(lambda: os.path.exists(events) or proc.poll() is not None, "popsift to open its output")
        if proc.poll() is not None:
            raise AssertionError(f"popsift exited {proc.returncode}: {proc.stderr.read()!r}")
        expect(os.stat(events).st_uid == pwd.getpwnam("nobody").pw_uid, "output not created as the -Z user")
        conf = open(os.path.join(CONTRIB, "logrotate", "popsift")).read()
        conf = conf.replace("/var/log/popsift", logdir).replace("su popsift popsift", "su nobody nogroup")
        conf = conf.replace("systemctl reload 'popsift@*.service'", f"kill -HUP {proc.pid}")
        cpath = os.path.join(base, "logrotate.conf")
        with open(cpath, "w") as f:
            f.write(conf)
        state = os.path.join(base, "state")
        d = subprocess.run(["logrotate", "-d", "-s", state, cpath], capture_output=True, timeout=60)
        expect(d.returncode == 0 and b"error" not in d.stderr, d.stderr.decode())
        with open(events, "a"):
            pass
        os.utime(events)
        subprocess.run(["sh", "-c", f"echo x >> {events}"], check=True)  # notifempty
        r = subprocess.run(["logrotate", "-f", "-s", state, cpath], capture_output=True, timeout=60)
        expect(r.returncode == 0, r.stderr.decode())
        expect(os.path.exists(events + ".1"), os.listdir(logdir))
        wait(lambda: os.path.exists(events), "popsift to reopen its output after SIGHUP")
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
    expect(rc == 0, (rc, proc.stderr.read()))


if __name__ == "__main__":
    sys.exit(SUITE.main())
