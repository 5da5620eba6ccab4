#!/usr/bin/env python3
"""Live capture end to end: popsift -i lo against a real dovecot-pop3d and real clients.

One private dovecot (tests/dovecot/harness.py) serves every test. The main test runs python3
poplib, curl and fetchmail (when installed) through USER/PASS, APOP, AUTH PLAIN/LOGIN/CRAM-MD5
and STLS while tcpdump and `popsift -i lo` capture at the same time; popsift's live events and
its events from tcpdump's file must both hold every login, outcome and message (sha256 of the
maildir file with CRLF), and must agree. Further tests: -Z (the uid and gid after the capture is
open), SIGTERM (exit 0, open sessions flushed with end_reason capture-end) and SIGHUP (the -o
file is reopened).

Needs root (capture on lo, dovecot's mail processes, -Z) and the packages of
scripts/install-deps.sh; run as another user, every test is skipped with that reason. Every
process a test starts is stopped by the harness, also when a test fails or the run is
interrupted.

Usage: test_live.py POPSIFT_BINARY [NAME...]
Prints one line per test and closes with 'live: N passed, N failed[, N skipped]'.
"""
import contextlib
import functools
import json
import os
import poplib
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import ROOT, SAMPLES, Skip, Suite, by_flow, expect, of_type, read_events, wait_for  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tests", "dovecot"))
from harness import Dovecot  # noqa: E402

SUITE = Suite("live")
DC = None  # the shared harness, while the suite runs
# SigCgt bits popsift's live loop sets once it runs: SIGHUP (1), SIGINT (2), SIGTERM (15).
LIVE_SIGNALS = (1 << 0) | (1 << 1) | (1 << 14)


@contextlib.contextmanager
def live_server():
    """The suite's fixture: one private dovecot for every test (skipped without root)."""
    global DC
    if os.geteuid() != 0:
        raise Skip("needs root (capture on lo with -i and tcpdump, dovecot's mail processes, -Z)")
    with Dovecot(name="popsift-live") as dc:
        DC = dc
        yield dc


def test(fn):
    """Registers a live test; whatever it left running is stopped after it (dovecot stays
    for the next one)."""
    @functools.wraps(fn)
    def wrapped():
        try:
            return fn()
        finally:
            DC.stop_clients()
    return SUITE.test(wrapped)


# ---- popsift --------------------------------------------------------------------------

def proc_status(pid):
    """/proc/PID/status as {field: value}."""
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def has_packet_socket(pid):
    """True if the process holds a socket (the capture's packet socket)."""
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)).startswith("socket:"):
                return True
        except OSError:
            pass
    return False


def start_popsift(events_path, *extra, quiet=True):
    """popsift -i lo -p PORT -o events_path, started through the harness (stopped by it)."""
    errpath = events_path + ".stderr"
    err = open(errpath, "wb")
    argv = [SUITE.popsift, "-i", "lo", "-p", str(DC.port), *(["-q"] if quiet else []),
            "-o", events_path, *extra]
    p = DC.spawn(argv, what="popsift", stdout=subprocess.DEVNULL, stderr=err)
    err.close()
    p.errpath = errpath
    return p


def stderr_of(p):
    with open(p.errpath, errors="replace") as f:
        return f.read()


def wait_popsift_ready(p, timeout=20):
    """Waits until popsift holds its packet socket and its live loop catches the stop and
    reopen signals (set after the capture, the filter, -Z and -o are done)."""
    def ready():
        if p.poll() is not None:
            raise AssertionError(f"popsift exited with {p.returncode}: {stderr_of(p)}")
        try:
            caught = int(proc_status(p.pid)["SigCgt"], 16)
            return caught & LIVE_SIGNALS == LIVE_SIGNALS and has_packet_socket(p.pid)
        except (OSError, KeyError):
            return False
    wait_for(ready, timeout, "popsift to open the capture")


def stop_popsift(p, sig=signal.SIGINT, timeout=15):
    """Stops popsift with `sig`; asserts it exits 0 by itself within `timeout` s."""
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        DC.stop(p, signal.SIGKILL)
        raise AssertionError(f"popsift did not exit within {timeout} s of signal {sig}")
    took = time.monotonic() - t0
    DC.stop(p)  # bookkeeping only: it has exited
    expect(p.returncode == 0, f"popsift exit {p.returncode} after signal {sig}: {stderr_of(p)}")
    return took


def events_of_port(evs, port):
    return [e for e in evs if e["src_port"] == port]


def session_seen(path, port):
    """The session event of the client port `port` once it is in the file, else None."""
    if not os.path.exists(path):
        return None
    for e in read_events(path):
        if e["event_type"] == "session" and e["src_port"] == port:
            return e
    return None


def events_of_file(pcap, out):
    """The events of popsift -r pcap -o out (exit 0)."""
    SUITE.ok("-q", "-p", str(DC.port), "-r", pcap, "-o", out, timeout=120)
    return read_events(out)


# ---- clients ----------------------------------------------------------------------------

class Expect:
    """What popsift must report for one client session.

    auths: [(mechanism, username, result)]; messages: [(command, number, Message)].
    """

    def __init__(self, label, port, auths, messages=(), deleted=0, end="quit", tls=False,
                 cleartext=False):
        self.label = label
        self.port = port  # the client's port, None when the client does not tell (fetchmail)
        self.auths = auths
        self.messages = list(messages)
        self.deleted = deleted
        self.end = end  # one end_reason, or a tuple of those that are all right
        self.tls = tls
        self.cleartext = cleartext  # a reusable password crossed the wire in the clear

    def __repr__(self):
        return f"<session {self.label}>"


def joined(lines):
    return b"".join(line + b"\r\n" for line in lines)


def retr(p, m):
    """RETR of message m (numbered by its place in the harness's mailbox) through poplib;
    checks the bytes against the maildir file."""
    n = DC.mail[m.user].index(m) + 1
    resp, lines, _ = p.retr(n)
    expect(joined(lines) == m.crlf, f"RETR {n}: poplib received other bytes than {m}")
    expect(resp.split()[1] == str(m.size).encode(), f"RETR {n}: {resp!r}, expected {m.size}")
    return ("RETR", n, m)


def local_port(p):
    return p.sock.getsockname()[1]


def poplib_user_pass(label, user, password, msgs=(), dele=()):
    """USER/PASS (wrong password: failure expected), RETR msgs, DELE dele, QUIT."""
    p = DC.pop3()
    try:
        port = local_port(p)
        p.user(user)
        ok = password == DC.password(user)
        if ok:
            p.pass_(password)
        else:
            try:
                p.pass_(password)
                raise AssertionError(f"({label}) PASS {password!r} was accepted")
            except poplib.error_proto:
                pass
        got = [retr(p, m) for m in msgs]
        if ok:
            expect(p.stat()[0] == len(DC.mail[user]), f"({label}) STAT")
        for n in dele:
            p.dele(n)
        p.quit()
    finally:
        p.close()
    return Expect(label, port, [("USER", user, "success" if ok else "failure")], got,
                  deleted=len(dele), cleartext=True)


def poplib_apop(label, user, msgs):
    p = DC.pop3()
    try:
        port = local_port(p)
        p.apop(user, DC.password(user))
        got = [retr(p, m) for m in msgs]
        p.quit()
    finally:
        p.close()
    return Expect(label, port, [("APOP", user, "success")], got)


def poplib_stls(label, user, msgs):
    """CAPA, STLS, then USER/PASS and RETR inside TLS: popsift sees only the upgrade."""
    p = DC.pop3()
    try:
        port = local_port(p)
        expect("STLS" in p.capa(), f"({label}) dovecot does not offer STLS")
        p.stls(DC.tls_context())
        p.user(user)
        p.pass_(DC.password(user))
        for m in msgs:
            retr(p, m)
        p.quit()
    finally:
        p.close()
    # QUIT travels inside TLS: popsift sees the connection end with FIN, or with RST when
    # dovecot's close_notify reaches the client's socket after poplib closed it.
    return Expect(label, port, [], [], end=("fin", "rst"), tls=True)


def curl(label, mechanism, user, m):
    """curl pop3://HOST:PORT/N with AUTH=mechanism: CAPA, AUTH, RETR N, QUIT."""
    n = DC.mail[user].index(m) + 1
    out = os.path.join(DC.work, "clients", f"curl-{label}.eml")
    code, stdout, stderr = DC.run(
        ["curl", "-sS", "--max-time", "20", "-u", f"{user}:{DC.password(user)}",
         "--login-options", f"AUTH={mechanism}", "-w", "%{local_port}", "-o", out,
         f"pop3://127.0.0.1:{DC.port}/{n}"], timeout=30)
    expect(code == 0, f"({label}) curl exit {code}: {stderr.decode(errors='replace')}")
    with open(out, "rb") as f:
        expect(f.read() == m.crlf, f"({label}) curl received other bytes than {m}")
    return Expect(label, int(stdout), [(mechanism, user, "success")], [("RETR", n, m)],
                  cleartext=mechanism in ("PLAIN", "LOGIN"))


def fetchmail(label, user, auth, keep, fetchall):
    """One fetchmail poll of every message of `user` (none seen before under this label)."""
    code, log, delivered = DC.fetchmail(user, label, keep=keep, fetchall=fetchall, auth=auth)
    mail = list(DC.mail[user])
    expect(code == 0, f"({label}) fetchmail exit {code}:\n{log}")
    expect(len(delivered) == len(mail), f"({label}) fetchmail delivered {len(delivered)}:\n{log}")
    for m, d in zip(mail, delivered):
        # fetchmail prepends its Received: header and hands the MDA LF line ends.
        expect(d.endswith(m.lf), f"({label}) fetchmail delivered something else than {m}")
    # With keep and without fetchall fetchmail reads with TOP n 99999999 (leaves it unseen).
    cmd = "TOP" if keep and not fetchall else "RETR"
    mech = {"password": "USER", "apop": "APOP", "cram-md5": "CRAM-MD5"}[auth]
    if not keep:
        DC.forget_deleted(user, range(1, len(mail) + 1))
    return Expect(label, None, [(mech, user, "success")],
                  [(cmd, n, m) for n, m in enumerate(mail, 1)],
                  deleted=0 if keep else len(mail), cleartext=auth == "password")


# ---- checking events ----------------------------------------------------------------------

def check_session(x, evs, where):
    """Asserts the events of one TCP connection against Expect x."""
    ctx = f"{where} {x.label}"
    ss = of_type(evs, "session")
    expect(len(ss) == 1, f"{ctx}: {len(ss)} session events")
    s = ss[0]["session"]
    if x.port is not None:
        expect(ss[0]["src_port"] == x.port, f"{ctx}: client port {ss[0]['src_port']} != {x.port}")
    auths = [(a["auth"]["mechanism"], a["auth"].get("username"), a["auth"]["result"])
             for a in of_type(evs, "auth")]
    expect(auths == x.auths, f"{ctx}: auth events {auths}, expected {x.auths}")
    for a in of_type(evs, "auth"):
        expect(a["auth"]["cleartext"] == x.cleartext, f"{ctx}: cleartext in {a['auth']}")
        expect("password" not in a["auth"], f"{ctx}: password shown without --show-passwords")
    msgs = [(m["message"]["command"], m["message"]["number"], m["message"]["sha256"],
             m["message"]["size"], m["message"]["complete"]) for m in of_type(evs, "message")]
    want = [(c, n, m.sha256, m.size, True) for c, n, m in x.messages]
    expect(msgs == want, f"{ctx}: messages {msgs}, expected {want}")
    tls = [(t["tls"]["command"], t["tls"]["result"]) for t in of_type(evs, "tls")]
    expect(tls == ([("STLS", "success")] if x.tls else []), f"{ctx}: tls events {tls}")
    ok_user = [u for _, u, r in x.auths if r == "success"]
    expect(s["authenticated"] == bool(ok_user), f"{ctx}: authenticated {s['authenticated']}")
    if ok_user:
        expect(s.get("username") == ok_user[-1], f"{ctx}: session username {s.get('username')}")
    expect(s["tls"] == x.tls, f"{ctx}: session tls {s['tls']}")
    expect(s["messages_retrieved"] == len(x.messages), f"{ctx}: messages_retrieved {s}")
    expect(s["messages_deleted"] == x.deleted, f"{ctx}: messages_deleted {s['messages_deleted']}")
    ends = x.end if isinstance(x.end, tuple) else (x.end,)
    expect(s["end_reason"] in ends, f"{ctx}: end_reason {s['end_reason']}, expected {x.end}")
    expect(s["gaps"] == 0 and s["anomalies"] == [], f"{ctx}: gaps/anomalies in {s}")
    alerts = [a["alert"]["signature"] for a in of_type(evs, "alert")]
    expect(("cleartext-password" in alerts) == x.cleartext, f"{ctx}: alerts {alerts}")
    failed = any(r == "failure" for _, _, r in x.auths)
    expect(("auth-failed" in alerts) == failed, f"{ctx}: alerts {alerts}")


def check_events(evs, sessions, where, live):
    """Every expected session, in order, and nothing else."""
    for e in evs:
        expect(e["dest_port"] == DC.port and e["src_ip"] == "127.0.0.1"
               and e["dest_ip"] == "127.0.0.1" and e["app_proto"] == "pop3"
               and e["proto"] == "TCP", f"{where}: stray event {e}")
        expect(("pcap_file" in e) != live, f"{where}: pcap_file in {e}")
        if e["event_type"] == "session":
            # Only a live capture knows what the kernel dropped; on loopback, nothing.
            drops = e["session"].get("kernel_drops")
            expect(drops == (0 if live else None), f"{where}: kernel_drops {drops} in {e}")
        expect(("pcap_cnt" in e) != live, f"{where}: pcap_cnt in {e}")
    flows = by_flow(evs)
    order = sorted(flows, key=lambda f: of_type(flows[f], "session")[0]["session"]["start"]
                   if of_type(flows[f], "session") else "")
    expect(len(order) == len(sessions),
           f"{where}: {len(order)} connections, expected {len(sessions)} {sessions}")
    for x, f in zip(sessions, order):
        check_session(x, flows[f], where)


def normalised(evs):
    """Events without what differs between two runs over the same packets."""
    out = []
    for e in evs:
        e = dict(e)
        for k in ("timestamp", "flow_id", "pcap_file", "pcap_cnt", "pcap_cnt_first"):
            e.pop(k, None)
        if e["event_type"] == "session":
            e["session"] = {k: v for k, v in e["session"].items()
                            if k not in ("start", "end", "kernel_drops")}
        out.append(json.dumps(e, sort_keys=True))
    return sorted(out)


# ---- tests ------------------------------------------------------------------------------

@test
def real_clients_seen_live_and_in_the_tcpdump_file():
    work = DC.tmpdir("main")
    live_path = os.path.join(work, "live.ndjson")
    pcap = os.path.join(work, "clients.pcap")
    ps = start_popsift(live_path)  # -q, as a service would run it
    td = DC.start_tcpdump(pcap)
    wait_popsift_ready(ps)
    alice = DC.mail["alice"]
    sessions = [
        poplib_user_pass("user-pass-wrong", "alice", "wrong-password"),
        poplib_user_pass("user-pass", "alice", "wonderland", msgs=alice),
        poplib_apop("apop", "alice", [alice[1]]),
        curl("curl-plain", "PLAIN", "alice", alice[0]),
        curl("curl-login", "LOGIN", "alice", alice[1]),
        curl("curl-cram-md5", "CRAM-MD5", "alice", alice[2]),
        poplib_stls("stls", "alice", [alice[0]]),
    ]
    if shutil.which("fetchmail"):
        sessions += [
            fetchmail("fetchmail-keep", "bob", "password", keep=True, fetchall=False),
            fetchmail("fetchmail-apop", "alice", "apop", keep=True, fetchall=True),
            fetchmail("fetchmail-cram-md5", "alice", "cram-md5", keep=True, fetchall=True),
        ]
    else:
        print("note live: fetchmail is not installed; its sessions are left out")
    bob = list(DC.mail["bob"])
    sessions.append(poplib_user_pass("dele-quit", "bob", "builder", msgs=[bob[0]], dele=[1]))
    DC.forget_deleted("bob", [1])
    expect(len(DC.maildir_files("bob")) == len(bob) - 1, "dovecot did not delete bob's message 1")
    if shutil.which("fetchmail"):
        sessions.append(fetchmail("fetchmail-flush", "bob", "password", keep=False,
                                  fetchall=True))
        expect(DC.maildir_files("bob") == [], "fetchmail's DELE+QUIT left mail behind")
    DC.reset_mailbox("bob")

    # On SIGINT popsift discards packets the kernel has captured but it has not read yet,
    # so wait until it has ended every session by itself before stopping it.
    wait_for(lambda: len(of_type(read_events(live_path), "session")) >= len(sessions), 15,
             f"{len(sessions)} session events in the live output")
    stop_popsift(ps, signal.SIGINT)
    stats = DC.stop_tcpdump(td)
    expect(stats["dropped"] == 0, f"tcpdump dropped packets: {stats}")

    live = read_events(live_path)
    check_events(live, sessions, "live", live=True)
    offline = events_of_file(pcap, os.path.join(work, "offline.ndjson"))
    check_events(offline, sessions, "tcpdump file", live=False)
    a, b = normalised(live), normalised(offline)
    expect(a == b, "live and offline events differ: "
           f"{sorted(set(a) - set(b))[:3]} / {sorted(set(b) - set(a))[:3]}")


@test
def dash_Z_runs_as_nobody_after_opening_the_capture():
    nobody = pwd.getpwnam("nobody")
    # popsift opens -o after it has dropped root (like tcpdump -Z -w), so the events file
    # must be creatable by nobody.
    out_dir = DC.tmpdir("dash-z", owner="nobody", mode=0o755)
    path = os.path.join(out_dir, "events.ndjson")
    # -x: the extracted file, and the MIME parser child (popsift run again), work as nobody
    ps = start_popsift(path, "-Z", "nobody", "-x", os.path.join(out_dir, "x"))
    wait_popsift_ready(ps)
    st = proc_status(ps.pid)
    ids = f"{nobody.pw_uid}\t{nobody.pw_uid}\t{nobody.pw_uid}\t{nobody.pw_uid}"
    gids = f"{nobody.pw_gid}\t{nobody.pw_gid}\t{nobody.pw_gid}\t{nobody.pw_gid}"
    expect(st["Uid"] == ids, f"Uid (real, effective, saved, fs) is {st['Uid']!r}, not nobody")
    expect(st["Gid"] == gids, f"Gid (real, effective, saved, fs) is {st['Gid']!r}, not nogroup")
    expect("0" not in st["Groups"].split(), f"supplementary groups still hold root: {st['Groups']}")
    expect(int(st["CapEff"], 16) == 0, f"effective capabilities left: {st['CapEff']}")
    expect(os.stat(path).st_uid == nobody.pw_uid, "the events file is not owned by nobody")
    # Still capturing as nobody, and extracting a message with attachments: its file and the
    # MIME parser child (popsift run again) work as nobody.
    with open(os.path.join(SAMPLES, "mime", "messages", "mime-1.eml"), "rb") as f:
        DC.reset_mailbox("alice", [f.read().replace(b"\r\n", b"\n")])
    try:
        x = poplib_user_pass("as-nobody", "alice", "wonderland", msgs=[DC.mail["alice"][0]])
        wait_for(lambda: session_seen(path, x.port), 10, "the session event")
    finally:
        DC.reset_mailbox("alice")
    stop_popsift(ps, signal.SIGINT)
    evs = events_of_port(read_events(path), x.port)
    check_session(x, evs, "-Z nobody")
    msgs = [e["message"] for e in evs if e["event_type"] == "message"]
    names = [a.get("filename") for m in msgs for a in m.get("attachments", [])]
    expect(msgs and all(m.get("path") and "attachments_error" not in m for m in msgs)
           and "chart.png" in names, f"-x as nobody: {msgs}")


@test
def sigterm_exits_0_and_flushes_the_open_session():
    work = DC.tmpdir("sigterm")
    path = os.path.join(work, "events.ndjson")
    ps = start_popsift(path, quiet=False)
    wait_popsift_ready(ps)
    p = DC.pop3()
    try:
        port = local_port(p)
        p.user("alice")
        p.pass_("wonderland")
        m = DC.mail["alice"][0]
        retr(p, m)
        # The login and the message are written at once (line-buffered), the session not yet.
        wait_for(lambda: len(events_of_port(read_events(path), port)) >= 3, 10,
                 "the auth and message events")
        expect(session_seen(path, port) is None, "session ended before SIGTERM")
        took = stop_popsift(ps, signal.SIGTERM)
        expect(took < 5, f"popsift took {took:.1f} s to stop")
    finally:
        p.close()  # the client leaves only now, after popsift is gone
    evs = events_of_port(read_events(path), port)
    x = Expect("held-open", port, [("USER", "alice", "success")], [("RETR", 1, m)],
               end="capture-end", cleartext=True)
    check_session(x, evs, "SIGTERM")
    s = of_type(evs, "session")[0]["session"]
    expect(s["state"] == "TRANSACTION", f"state {s['state']}")
    err = stderr_of(ps)
    expect("popsift: live capture," in err and ", 0 dropped (ring full)" in err,
           f"summary on stderr: {err}")


def packet_ring(pid):
    """ss's view of the process's packet socket: (tpacket version, {ring field: value})."""
    out = subprocess.run(["ss", "-0", "-e", "-p"], capture_output=True, text=True).stdout
    m = re.search(rf"pid={pid},.*?\n\s*ver:(\d+).*?\n\s*ring_rx\(([^)]*)\)", out, re.S)
    expect(m, f"no packet socket of pid {pid} in ss -0 -e -p:\n{out}")
    return int(m.group(1)), dict(kv.split(":") for kv in m.group(2).split(","))


@test
def dash_B_sizes_the_kernels_block_ring():
    # The ring as the kernel reports it, not as popsift asked: TPACKET_V3 (2 in the kernel's
    # numbering; immediate mode would give TPACKET_V2, 1, with no timeout), the 100 ms block
    # timeout, 256 KiB blocks, -B 2048 KiB = 8 of them; by default 64 MiB = 256.
    work = DC.tmpdir("ring")
    for n, (extra, blocks) in enumerate(((["-B", "2048"], "8"), ([], "256"))):
        path = os.path.join(work, f"events-{n}.ndjson")
        ps = start_popsift(path, *extra)
        wait_popsift_ready(ps)
        version, ring = packet_ring(ps.pid)
        stop_popsift(ps)
        expect(version == 2 and ring["tmo"] == "100" and ring["blk_size"] == "262144"
               and ring["blk_nr"] == blocks, f"popsift {extra}: version {version}, ring {ring}")
    for argv, says in ((["-r", "x.pcap", "-B", "1024"], "-B applies to live capture"),
                       (["-i", "lo", "-B", "0"], "invalid -B (KiB) '0'"),
                       (["-i", "lo", "-B", "2097152"], "invalid -B (KiB) '2097152'")):
        p = subprocess.run([SUITE.popsift, *argv], capture_output=True, text=True, timeout=10)
        expect(p.returncode == 1 and says in p.stderr, f"{argv}: exit {p.returncode}: {p.stderr}")


@test
def sighup_reopens_the_output_file():
    work = DC.tmpdir("sighup")
    path = os.path.join(work, "events.ndjson")
    rotated = path + ".1"
    ps = start_popsift(path)
    wait_popsift_ready(ps)
    alice = DC.mail["alice"]
    first = poplib_user_pass("before-hup", "alice", "wonderland", msgs=[alice[0]])
    wait_for(lambda: session_seen(path, first.port), 10, "the first session event")
    os.rename(path, rotated)  # what logrotate does
    ps.send_signal(signal.SIGHUP)
    wait_for(lambda: os.path.exists(path), 10, "popsift to reopen the events file")
    second = poplib_apop("after-hup", "alice", [alice[1]])
    wait_for(lambda: session_seen(path, second.port), 10, "the second session event")
    stop_popsift(ps, signal.SIGINT)
    old, new = read_events(rotated), read_events(path)
    expect({e["src_port"] for e in old} == {first.port}, f"rotated file: {old}")
    expect({e["src_port"] for e in new} == {second.port}, f"new file: {new}")
    check_session(first, old, "before SIGHUP")
    check_session(second, new, "after SIGHUP")


if __name__ == "__main__":
    sys.exit(SUITE.main(fixture=live_server, timed=True))
