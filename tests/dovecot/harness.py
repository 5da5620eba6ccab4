"""A private dovecot-pop3d on loopback: the one set-up behind popsift's live tests
(tests/e2e/test_live.py) and the scripts that make the sample captures
(samples/make-dovecot-samples.py, samples/mime/make-mime-samples.py,
samples/mailbox/make-mailbox-samples.py).

    from harness import Dovecot
    with Dovecot() as dc:                 # temp dir, users, maildirs, cert, dovecot -F
        p = dc.pop3()                     # poplib.POP3 to dc.host:dc.port (MSS 1460)
        p.user("alice"); p.pass_(dc.password("alice"))
        m = dc.mail["alice"][0]           # Message: .crlf bytes, .sha256, .size, .uidl
        cap = dc.start_tcpdump(path)      # returns once tcpdump is listening
        stats = dc.stop_tcpdump(cap)      # {"captured": n, "dropped": n}
    # dovecot, tcpdump and every process started through dc.spawn() are stopped here,
    # also when the block raises, on Ctrl-C, SIGTERM and SIGHUP; the temp dir is removed
    # (kept when POPSIFT_KEEP_WORK=1).

By default: users alice/wonderland (3 messages) and bob/builder (2 messages); the maildir files
are stored with LF line ends the way dovecot stores them, and each Message carries the CRLF
bytes a client receives with their sha256. A pre-written dovecot-uidlist pins UIDs and
UIDVALIDITY, so UIDLs are the same on every run. dovecot listens on 127.0.0.1 on a free port
between 20000 and 32767 (never 110, which the sample scripts use; below the ephemeral range, so
no client port equals it) unless a port is given. It offers STLS with a self-signed certificate
for CN localhost and IP 127.0.0.1 (dc.cert) and the SASL mechanisms of MECHANISMS plus APOP.
Failed logins are answered at once: the auth penalty is switched off. The sample scripts pass
their own users, mail, address, port 110, mechanisms and tls=False.

Needs root (the mail processes run as nobody), dovecot-core, dovecot-pop3d and openssl;
tcpdump for the capture helpers, fetchmail for Dovecot.fetchmail(). Facts behind the setup:
tests/dovecot/README.md.
"""
import glob
import hashlib
import os
import poplib
import pwd
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CONF_TEMPLATE = os.path.join(HERE, "dovecot.conf.in")
HOST = "127.0.0.1"
USERS = {"alice": "wonderland", "bob": "builder"}
# "apop" turns on APOP (the greeting's timestamp); the others are what CAPA's SASL line offers.
MECHANISMS = "plain login cram-md5 digest-md5 apop"
UIDVALIDITY = 1700000000
# Loopback's MTU is 64 KiB; an Ethernet-sized MSS makes bulk replies span several segments.
MSS = 1460


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived while a harness was running (like KeyboardInterrupt)."""

    def __init__(self, signum):
        super().__init__(f"interrupted by signal {signum}")
        self.signum = signum


class HarnessError(Exception):
    pass


def _lf(text):
    return text.encode("utf-8")


def default_mail():
    """The mail every harness starts with: {user: [message as stored, LF line ends]}."""
    alice1 = _lf(
        "Return-Path: <bob@popsift.test>\n"
        "From: Bob Builder <bob@popsift.test>\n"
        "To: Alice <alice@popsift.test>\n"
        "Subject: Tea at four\n"
        "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
        "Message-ID: <live-1@popsift.test>\n"
        "\n"
        "Alice,\n\ntea at four, as usual?\n\nBob\n")
    # Dot-led lines (a lone "." included) that the server must dot-stuff, and 8-bit UTF-8.
    alice2 = _lf(
        "Return-Path: <bob@popsift.test>\n"
        "From: Bob Builder <bob@popsift.test>\n"
        "To: Alice <alice@popsift.test>\n"
        "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and dotted lines\n"
        "Date: Tue, 14 Nov 2023 22:13:21 +0000\n"
        "Message-ID: <live-2@popsift.test>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "Grüße aus Köln! 日本語, Ελληνικά.\n"
        ".hidden\n..double\n.\n. a dot and a space\n...\n.\nEnd. Tschüß.\n")
    # About 20 KB: the RETR reply spans many TCP segments; dot-led lines deep inside.
    lines = [f".line {i:03d} starts with a dot and must be stuffed on the wire........."
             if i % 97 == 0 else
             f"Line {i:03d}: the quick brown fox jumps over the lazy dog 0123456789."
             for i in range(1, 301)]
    alice3 = _lf(
        "Return-Path: <bob@popsift.test>\n"
        "From: Bob Builder <bob@popsift.test>\n"
        "To: Alice <alice@popsift.test>\n"
        "Subject: Quarterly report (long)\n"
        "Date: Tue, 14 Nov 2023 22:13:22 +0000\n"
        "Message-ID: <live-3@popsift.test>\n"
        "\n" + "\n".join(lines) + "\nEnd of report.\n")
    bob = [_lf(
        "Return-Path: <alice@popsift.test>\n"
        "From: Alice <alice@popsift.test>\n"
        "To: Bob Builder <bob@popsift.test>\n"
        f"Subject: Note {n}\n"
        f"Date: Tue, 14 Nov 2023 22:14:0{n} +0000\n"
        f"Message-ID: <live-bob-{n}@popsift.test>\n"
        "\n"
        f"Bob,\n\nnote number {n}.\n\nAlice\n") for n in (1, 2)]
    return {"alice": [alice1, alice2, alice3], "bob": bob}


class Message:
    """One message in a maildir: as stored (lf) and as every client receives it (crlf)."""

    def __init__(self, user, uid, lf, name):
        self.user = user
        self.uid = uid
        self.lf = lf
        self.name = name  # maildir file name
        self.crlf = lf.replace(b"\n", b"\r\n")
        self.size = len(self.crlf)  # what +OK n octets, LIST and STAT count
        self.sha256 = hashlib.sha256(self.crlf).hexdigest()
        self.uidl = f"{uid:08x}{UIDVALIDITY:08x}"  # pop3_uidl_format = %08Xu%08Xv

    def __repr__(self):
        return f"<Message {self.user} uid {self.uid} {self.size} octets>"


def connect(host, port, mss=MSS, timeout=10):
    """A TCP socket connected to host:port, advertising `mss` in its SYN (none: the default)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if mss:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        s.settimeout(timeout)
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def pop3_client(host, port, mss=MSS, timeout=10):
    """A python3 poplib client connected through connect() (greeting read)."""

    class POP3(poplib.POP3):
        def _create_socket(self, t):
            return connect(host, port, mss, timeout)

    return POP3(host, port, timeout)


def client_ports(pcap, port):
    """The client ports of the connections to `port` in a capture, in order of their SYNs."""
    out = subprocess.run(["tcpdump", "-nn", "-r", pcap,
                          f"tcp dst port {port} and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn"],
                         capture_output=True, text=True, check=True).stdout
    return [int(m.group(1)) for m in re.finditer(r"\.(\d+) > ", out)]


def require(who, tools):
    """For the sample scripts: exits, saying why, unless every tool is on PATH and this runs
    as root (dovecot's mail processes, port 110 and capturing on lo need it)."""
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        sys.exit(f"{who}: {', '.join(missing)} not found; run scripts/install-deps.sh")
    if os.geteuid() != 0:
        sys.exit(f"{who}: run as root (dovecot's mail processes, port 110 and capturing on lo)")


def publish(items, out):
    """For the sample scripts, once every check has passed: copies each (path, name) to
    out/name (a directory replaces the old one whole), every file readable by all (0644)."""
    os.makedirs(out, exist_ok=True)
    for src, name in items:
        dest = os.path.join(out, name)
        if os.path.isdir(src):
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest)
            for base, _, files in os.walk(dest):
                for f in files:
                    os.chmod(os.path.join(base, f), 0o644)
        else:
            shutil.copyfile(src, dest)
            os.chmod(dest, 0o644)
    print(f"== wrote into {out}/: {', '.join(name for _, name in items)}")


def free_port():
    """A TCP port nobody has bound on 127.0.0.1, chosen at random in 20000-32767."""
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(20000, 32768)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((HOST, port))
        except OSError:
            continue
        finally:
            s.close()
        if not _listening(port):
            return port
    raise HarnessError("no free port found in 20000-32767")


def _listening(port):
    """True if some socket listens on TCP `port` (any address), from /proc/net/tcp{,6}."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except FileNotFoundError:
            pass
    return False


class Dovecot:
    """Context manager: a private dovecot-pop3d and everything else a test starts.

    mail: {user: [bytes as stored]} (default_mail() when None); port: None = a free one;
    users: {user: password} (USERS when None); host: the loopback address it listens on;
    tls: offer STLS; mechanisms: dovecot's auth_mechanisms.
    For TLS tests (tests/e2e/test_tls.py): pop3s_port: also listen for POP3S (implicit TLS) on
    this port of host (0: a free one; dc.pop3s_port says which); extra_conf: configuration
    appended (e.g. "ssl_min_protocol = TLSv1"; a service block merges with the one above);
    cert: "self" (self-signed, valid for two days) or "expired" (self-signed, valid only in
    2020).
    """

    def __init__(self, mail=None, port=None, name="popsift-test", users=None, host=HOST,
                 tls=True, mechanisms=MECHANISMS, pop3s_port=None, extra_conf="", cert="self"):
        self.initial_mail = default_mail() if mail is None else mail
        self.users = dict(USERS if users is None else users)
        self.host = host
        self.tls = tls or pop3s_port is not None
        self.mechanisms = mechanisms
        self.want_pop3s = pop3s_port
        self.pop3s_port = None
        self.extra_conf = extra_conf
        self.cert_kind = cert
        self.want_port = port
        self.port = None
        self.name = name
        self.work = None
        self.mail = {}  # user -> [Message] in POP3 order (message number n = index + 1)
        self.procs = []  # (Popen, what) in start order
        self.dovecot = None
        self._old_handlers = {}
        self._next_uid = {}
        self._mailuid = pwd.getpwnam("nobody").pw_uid
        self._mailgid = pwd.getpwnam("nobody").pw_gid

    # ---- context manager -------------------------------------------------------------

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        try:
            self._setup()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        # A second Ctrl-C or SIGTERM must not cut the cleanup short: hold them until it is done.
        main = threading.current_thread() is threading.main_thread()
        held = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        if main:
            signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            self.stop_all()
            for sig, old in self._old_handlers.items():
                signal.signal(sig, old)
            self._old_handlers = {}
        finally:
            if main:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, held)
        if self.work and os.environ.get("POPSIFT_KEEP_WORK") != "1":
            shutil.rmtree(self.work, ignore_errors=True)
        return False

    @staticmethod
    def _on_signal(signum, frame):
        raise Interrupted(signum)

    # ---- setup ----------------------------------------------------------------------

    def _setup(self):
        for tool in ("dovecot", "openssl") if self.tls else ("dovecot",):
            if not shutil.which(tool):
                raise HarnessError(f"{tool} not found; run scripts/install-deps.sh")
        if not os.access("/usr/lib/dovecot/pop3", os.X_OK):
            raise HarnessError("dovecot has no POP3 service; apt-get install dovecot-pop3d")
        if os.geteuid() != 0:
            raise HarnessError("needs root: dovecot's mail processes run as nobody")
        self.work = tempfile.mkdtemp(prefix="popsift-dovecot-")
        # dovecot's auth (user dovecot) and mail (user nobody) processes must get into it.
        os.chmod(self.work, 0o755)
        for d in ("run", "state", "home", "tls", "clients"):
            os.mkdir(os.path.join(self.work, d))
        os.chmod(os.path.join(self.work, "clients"), 0o700)
        with open(os.path.join(self.work, "passwd"), "w") as f:
            f.writelines(f"{u}:{p}\n" for u, p in self.users.items())
        os.chmod(os.path.join(self.work, "passwd"), 0o644)
        for user in self.users:
            self.reset_mailbox(user)
        self.cert = None
        if self.tls:
            self._make_cert()
        for attempt in range(3):
            self.port = self.want_port or free_port()
            if self.want_port and _listening(self.port):
                raise HarnessError(f"something already listens on port {self.port}")
            if self.want_pop3s is not None:
                self.pop3s_port = self.want_pop3s or free_port()
            self._write_conf()
            if self._start_dovecot():
                return
            if self.want_port:
                break
        raise HarnessError("dovecot did not start:\n" + self.log_tail())

    def _make_cert(self):
        tls = os.path.join(self.work, "tls")
        self.cert = os.path.join(tls, "cert.pem")
        if self.cert_kind == "expired":
            self._make_expired_cert(tls)
            return
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"
             + ("" if self.host == HOST else ",IP:" + self.host),
             "-keyout", os.path.join(tls, "key.pem"), "-out", self.cert],
            check=True, capture_output=True, timeout=30)

    def _make_expired_cert(self, tls):
        """A self-signed certificate valid only in 2020: `openssl ca -selfsign` sets both
        dates (OpenSSL 3.0's req -x509 cannot)."""
        cnf = os.path.join(tls, "ca.cnf")
        with open(cnf, "w") as f:
            f.write("[ca]\ndefault_ca = ca_default\n[ca_default]\ndir = .\ndatabase = index.txt\n"
                    "new_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = any\n"
                    "unique_subject = no\ncopy_extensions = copy\n[any]\ncommonName = supplied\n")
        for name, text in (("index.txt", ""), ("serial", "1000\n")):
            with open(os.path.join(tls, name), "w") as f:
                f.write(text)
        key = os.path.join(tls, "key.pem")
        csr = os.path.join(tls, "cert.csr")
        for argv in (["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-subj", "/CN=expired.localhost", "-addext",
                      "subjectAltName=DNS:expired.localhost,IP:" + self.host, "-keyout", key, "-out", csr],
                     ["openssl", "ca", "-batch", "-config", cnf, "-selfsign", "-keyfile", key, "-in", csr,
                      "-out", self.cert, "-notext", "-startdate", "20200101000000Z",
                      "-enddate", "20201231000000Z"]):
            subprocess.run(argv, check=True, capture_output=True, timeout=30, cwd=tls)

    def _write_conf(self):
        with open(CONF_TEMPLATE) as f:
            conf = f.read()
        tls = ("ssl = yes\nssl_cert = <@WORK@/tls/cert.pem\nssl_key = <@WORK@/tls/key.pem"
               if self.tls else "ssl = no")
        conf = conf.replace("@TLS@", tls)
        values = {"WORK": self.work, "PORT": str(self.port), "HOST": self.host,
                  "POP3S_PORT": str(self.pop3s_port or 0),
                  "MECHANISMS": self.mechanisms, "MAILUID": str(self._mailuid),
                  "MAILGID": str(self._mailgid),
                  "INSTANCE": f"{self.name}-{os.getpid()}-{self.port}"}
        conf = re.sub(r"@([A-Z0-9_]+)@", lambda m: values[m.group(1)], conf) + self.extra_conf
        self.conf = os.path.join(self.work, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(conf)

    def _start_dovecot(self):
        """Starts dovecot -F; True once it greets on the port, False if it died."""
        self.dovecot = self.spawn(["dovecot", "-F", "-c", self.conf], what="dovecot",
                                  stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.dovecot.poll() is not None:
                self.procs.remove((self.dovecot, "dovecot"))
                self.dovecot = None
                return False
            if _listening(self.port):
                try:
                    with socket.create_connection((self.host, self.port), timeout=5) as s:
                        if s.recv(512).startswith(b"+OK"):
                            return True
                except OSError:
                    pass
            time.sleep(0.05)
        raise HarnessError(f"dovecot is not greeting on {self.host}:{self.port} after 15 s\n"
                           + self.log_tail())

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.work, "dovecot.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no dovecot.log)"

    # ---- users and mail ---------------------------------------------------------------

    def password(self, user):
        return self.users[user]

    def maildir(self, user):
        return os.path.join(self.work, "home", user, "Maildir")

    def reset_mailbox(self, user, mail=None):
        """(Re)creates `user`'s maildir with `mail` (default: the harness's initial mail).

        Call only while no session of that user is open. UIDs restart at 1.
        """
        mail = self.initial_mail.get(user, []) if mail is None else mail
        home = os.path.join(self.work, "home", user)
        shutil.rmtree(home, ignore_errors=True)
        md = self.maildir(user)
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, d))
        self.mail[user] = []
        self._next_uid[user] = 1
        uidlist = []
        for lf in mail:
            m = self._store(user, lf)
            uidlist.append(f"{m.uid} :{m.name}\n")
        # Pins the UIDs of the messages and the UIDVALIDITY (so UIDLs do not depend on the clock).
        with open(os.path.join(md, "dovecot-uidlist"), "w") as f:
            f.write(f"3 V{UIDVALIDITY} N{self._next_uid[user]} "
                    "G0123456789abcdef0123456789abcdef\n")
            f.writelines(uidlist)
        self._chown_tree(home)

    def _store(self, user, lf):
        uid = self._next_uid[user]
        self._next_uid[user] += 1
        # Names sort in UID order; dovecot gives new files their UIDs in that order.
        name = f"{UIDVALIDITY + uid}.M{uid}P1.popsift"
        path = os.path.join(self.maildir(user), "new", name)
        with open(path, "wb") as f:
            f.write(lf)
        os.utime(path, (UIDVALIDITY + uid, UIDVALIDITY + uid))
        m = Message(user, uid, lf, name)
        self.mail[user].append(m)
        return m

    def add_message(self, user, lf):
        """Delivers one more message into `user`'s maildir; dovecot gives it the next UID."""
        m = self._store(user, lf)
        path = os.path.join(self.maildir(user), "new", m.name)
        os.chown(path, self._mailuid, self._mailgid)
        return m

    def forget_deleted(self, user, numbers):
        """Tells the harness that messages `numbers` (1-based) were deleted and committed."""
        gone = {n - 1 for n in numbers}
        self.mail[user] = [m for i, m in enumerate(self.mail[user]) if i not in gone]

    def maildir_files(self, user):
        """Names of the message files now in `user`'s maildir (dovecot renames on move)."""
        md = self.maildir(user)
        return sorted(os.path.basename(p).split(":")[0]
                      for d in ("new", "cur") for p in glob.glob(os.path.join(md, d, "*")))

    def _chown_tree(self, top):
        for root, dirs, files in os.walk(top):
            os.chown(root, self._mailuid, self._mailgid)
            for f in files:
                os.chown(os.path.join(root, f), self._mailuid, self._mailgid)

    def tmpdir(self, name, owner=None, mode=0o700):
        """A fresh directory in the work dir, owned by `owner` (a user name) if given."""
        d = os.path.join(self.work, name)
        os.mkdir(d)
        if owner:
            pw = pwd.getpwnam(owner)
            os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(d, mode)
        return d

    # ---- processes --------------------------------------------------------------------

    def spawn(self, argv, what=None, **kw):
        """Starts argv in its own process group; it is stopped at the latest in __exit__."""
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append((p, what or os.path.basename(argv[0])))
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        """Sends `sig` to p, waits up to `timeout` s, then kills its process group.

        Returns p's exit status (negative: the signal that ended it).
        """
        if p.poll() is None:
            try:
                p.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # Not yet reaped, so its pid still names our process group.
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for f in (p.stdout, p.stderr, p.stdin):
            if f:
                f.close()
        self.procs = [(q, w) for q, w in self.procs if q is not p]
        return p.returncode

    def stop_clients(self, sig=signal.SIGKILL):
        """Stops every process started here but dovecot, the last started first."""
        for p, what in reversed(list(self.procs)):
            if p is not self.dovecot:
                self.stop(p, sig, timeout=5)

    def stop_all(self):
        """Stops every process started here, the last started first, dovecot last."""
        self.stop_clients(signal.SIGTERM)
        if self.dovecot is not None:
            self.stop(self.dovecot, signal.SIGTERM, timeout=10)
            self.dovecot = None

    def run(self, argv, timeout=30, env=None, input=None):
        """Runs a client to completion (killed after `timeout` s); returns
        (exit status, stdout bytes, stderr bytes)."""
        p = self.spawn(argv, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            out, err = p.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(p, signal.SIGKILL)
            raise HarnessError(f"{argv[0]} did not finish in {timeout} s")
        self.stop(p)
        return p.returncode, out, err

    # ---- tcpdump ----------------------------------------------------------------------

    def start_tcpdump(self, path, bpf=None):
        """tcpdump on lo for the server port into `path`; returns once it is listening.

        -B 65536 and --immediate-mode: without them tcpdump drops packets during bulk
        transfers and loses the last second of packets when stopped.
        """
        errpath = path + ".tcpdump-err"
        err = open(errpath, "wb")
        p = self.spawn(["tcpdump", "-i", "lo", "-s", "0", "-B", "65536", "--immediate-mode",
                        "-U", "-w", path, bpf or f"tcp port {self.port}"],
                       what="tcpdump", stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        p.errpath = errpath
        deadline = time.monotonic() + 15
        while True:
            with open(errpath, errors="replace") as f:
                text = f.read()
            if "listening on" in text:
                return p
            if p.poll() is not None:
                self.stop(p)
                raise HarnessError("tcpdump failed: " + text)
            if time.monotonic() > deadline:
                raise HarnessError("tcpdump is not listening after 15 s: " + text)
            time.sleep(0.05)

    def stop_tcpdump(self, p, settle=0.5):
        """Lets the last packets arrive, stops tcpdump with SIGINT and returns its counters
        {"captured", "received", "dropped"}. Raises if it printed no drop count."""
        time.sleep(settle)
        self.stop(p, signal.SIGINT)
        with open(p.errpath, errors="replace") as f:
            text = f.read()
        stats = {}
        for key, pattern in (("captured", r"^(\d+) packets? captured$"),
                             ("received", r"^(\d+) packets? received by filter$"),
                             ("dropped", r"^(\d+) packets? dropped by kernel$")):
            m = re.search(pattern, text, re.M)
            if not m:
                raise HarnessError(f"tcpdump printed no '{key}' count: {text}")
            stats[key] = int(m.group(1))
        return stats

    def finish_capture(self, p, pcap, connections, settle=1.0):
        """For the sample scripts: stop_tcpdump(), then checks that the kernel dropped nothing
        and that `pcap` holds exactly `connections` connections to the server. Prints a line
        of what it holds; returns the connections' client ports in order."""
        stats = self.stop_tcpdump(p, settle)
        if stats["dropped"]:
            raise HarnessError(f"tcpdump dropped packets: {stats}; rerun on a quieter machine")
        ports = client_ports(pcap, self.port)
        if len(ports) != connections:
            raise HarnessError(f"{pcap} holds {len(ports)} connections, not {connections}")
        print(f"  {os.path.basename(pcap)}: {stats['captured']} packets, {len(ports)} connections")
        return ports

    # ---- clients ----------------------------------------------------------------------

    def connect(self, mss=MSS, timeout=10):
        """A TCP socket connected to dovecot, advertising `mss` in its SYN."""
        return connect(self.host, self.port, mss, timeout)

    def pop3(self, mss=MSS, timeout=10):
        """A python3 poplib client connected to dovecot (greeting read)."""
        return pop3_client(self.host, self.port, mss, timeout)

    def tls_context(self):
        """An SSL context that trusts exactly the harness's certificate."""
        ctx = ssl.create_default_context(cafile=self.cert)
        return ctx

    def fetchmail(self, user, label, keep=True, fetchall=False, auth="password", timeout=60,
                  extra=(), uidl=True):
        """Runs fetchmail once against `user`'s mailbox, plaintext (no STLS).

        auth: "password" (USER/PASS), "apop", "cram-md5", ... With keep and without fetchall
        fetchmail 6.4 reads each new message with TOP n 99999999 (so the server does not mark
        it seen) and skips the UIDs it has seen; with fetchall it uses RETR; without keep it
        sends DELE after each message and QUIT commits.

        Each run label has its own FETCHMAILHOME (and so its own UIDL idfile): running the same
        label again continues where the last run left off (uidl=False: fetchmail keeps no UIDL
        list and sends no UIDL). Messages go to an MDA that stores each one as a file. Returns (exit status, verbose log text, [delivered bytes] of this
        run). fetchmail's status: 0 mail retrieved, 1 no new mail.
        """
        if not shutil.which("fetchmail"):
            raise HarnessError("fetchmail not found; apt-get install fetchmail")
        home = os.path.join(self.work, "clients", "fetchmail-" + label)
        box = os.path.join(home, "delivered")
        os.makedirs(box, exist_ok=True)
        os.chmod(home, 0o700)
        before = set(os.listdir(box))
        # APOP is a protocol to fetchmail, not an --auth value.
        method = "protocol apop" if auth == "apop" else f"protocol pop3 auth {auth}"
        rc = os.path.join(home, "fetchmailrc")
        with open(rc, "w") as f:
            f.write(
                "set no syslog\n"
                f'poll {self.host} service {self.port} {method}{" uidl" if uidl else ""}\n'
                f'  user "{user}" there with password "{self.users[user]}" is "root" here\n'
                f'  {"keep" if keep else "no keep"} {"fetchall" if fetchall else "no fetchall"}\n'
                # sslproto '': no opportunistic STLS, so the test can see the session.
                "  sslproto ''\n"
                # fetchmail hands the MDA command to /bin/sh: one file per message.
                f'  mda "cat > {box}/msg.$$"\n')
        os.chmod(rc, 0o600)
        env = dict(os.environ, FETCHMAILHOME=home, HOME=home, LC_ALL="C")
        code, out, err = self.run(["fetchmail", "-v", "-f", rc, "--idfile",
                                   os.path.join(home, "fetchids"), "--nodetach", *extra],
                                  timeout=timeout, env=env)
        new = sorted(set(os.listdir(box)) - before,
                     key=lambda n: os.stat(os.path.join(box, n)).st_mtime_ns)
        delivered = []
        for name in new:
            with open(os.path.join(box, name), "rb") as f:
                delivered.append(f.read())
        return code, (out + err).decode("utf-8", "replace"), delivered
