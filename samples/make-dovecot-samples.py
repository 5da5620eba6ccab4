#!/usr/bin/env python3
"""Regenerates popsift's real POP3 captures from a private dovecot-pop3d and real clients on
loopback: samples/dovecot-pop3.pcap (python3 poplib + one raw pipelined session),
samples/dovecot-sasl.pcap (curl SASL logins) and samples/dovecot-messages/ (the mail as the
clients receive it, CRLF, with SHA256SUMS). What each capture holds: samples/README-dovecot.md.

    sudo samples/make-dovecot-samples.py [--out DIR]

The server is the one of the tests, tests/dovecot/harness.py, here on 127.0.0.1:110 (the port
popsift follows by default) without TLS; tcpdump captures on lo. Run as root on Debian 12.
Nothing outside the harness's temporary directory and the output directory is touched; the
outputs are replaced only after every check has passed. --out DIR writes them elsewhere, to
compare a new run with the committed captures.
"""
import argparse
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "dovecot"))
from harness import Dovecot, HarnessError, publish, require  # noqa: E402

PORT = 110


def lf(text):
    """A message as dovecot stores it (LF line ends)."""
    return text.encode("utf-8")


ALICE_1 = lf("""Return-Path: <bob@popsift.test>
From: Bob Builder <bob@popsift.test>
To: Alice <alice@popsift.test>
Subject: Tea at four
Date: Tue, 14 Nov 2023 22:13:20 +0000
Message-ID: <sample-1@popsift.test>

Alice,

tea at four, as usual?

Bob
""")

# Dot-led lines, including a lone ".", which the server must dot-stuff on the wire, plus 8-bit
# UTF-8 text (8bit transfer encoding, so the bytes above 0x7f go over the wire unchanged).
ALICE_2 = lf("""Return-Path: <bob@popsift.test>
From: Bob Builder <bob@popsift.test>
To: Alice <alice@popsift.test>
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and dotted lines
Date: Tue, 14 Nov 2023 22:13:21 +0000
Message-ID: <sample-2@popsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus Köln! Schöne Grüße, naïve café, 日本語, Ελληνικά.
The next lines start with dots; the server must dot-stuff every one of them.
.hidden
..double
.
. a dot and a space
...
.
End of the dotted section. Tschüß.
""")

# About 20 KB so that RETR spans several TCP segments; a few dot-led lines sit deep inside it.
ALICE_3 = lf("""Return-Path: <bob@popsift.test>
From: Bob Builder <bob@popsift.test>
To: Alice <alice@popsift.test>
Subject: Quarterly report (long)
Date: Tue, 14 Nov 2023 22:13:22 +0000
Message-ID: <sample-3@popsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

""" + "".join(f".line {i:03d} starts with a dot and must be stuffed on the wire.........\n"
              if i % 97 == 0 else
              f"Line {i:03d}: the quick brown fox jumps over the lazy dog 0123456789.\n"
              for i in range(1, 301)) + "End of report.\n")

BOB_1 = lf("""Return-Path: <alice@popsift.test>
From: Alice <alice@popsift.test>
To: Bob Builder <bob@popsift.test>
Subject: Re: Tea at four
Date: Tue, 14 Nov 2023 22:14:00 +0000
Message-ID: <sample-4@popsift.test>
In-Reply-To: <sample-1@popsift.test>

Yes, four it is.

Alice
""")

MAIL = {"alice": [ALICE_1, ALICE_2, ALICE_3], "bob": [BOB_1]}


def die(why):
    sys.exit("make-dovecot-samples: " + why)


def client(dc, script, *args, prefix=""):
    """Runs one of the client scripts of samples/dovecot/ to completion, printing what it
    prints (each line after `prefix`); dies if it fails."""
    code, out, err = dc.run([sys.executable, os.path.join(HERE, "dovecot", script), *args],
                            timeout=60)
    sys.stdout.write("".join(prefix + line + "\n" for line in out.decode("utf-8", "replace").splitlines()))
    if code != 0:
        die(f"{script} exit {code}: {err.decode('utf-8', 'replace')}")
    return out


def capture_pop3(dc, stage, msgdir):
    pcap = os.path.join(stage, "dovecot-pop3.pcap")
    print("== dovecot-pop3.pcap")
    td = dc.start_tcpdump(pcap)
    client(dc, "pop3-sessions.py", dc.host, str(dc.port), msgdir)
    dc.finish_capture(td, pcap, 5)


def curl_session(dc, msgdir, label, want, cred, *opts):
    """curl RETR 1 with login options `opts`; want: ok, denied or cancelled. curl always picks
    SASL when the server offers it, so each login option gives one mechanism."""
    out = os.path.join(dc.work, "clients", f"curl-{label}.out")
    code, _, err = dc.run(["curl", "-sS", "--max-time", "10", "-u", cred, *opts, "-o", out,
                           f"pop3://{dc.host}:{dc.port}/1"], timeout=30)
    err = err.decode("utf-8", "replace").strip()
    if want == "ok":
        if code != 0:
            die(f"curl ({label}): exit {code}: {err}")
        with open(out, "rb") as f, open(os.path.join(msgdir, "alice-1.eml"), "rb") as g:
            if f.read() != g.read():
                die(f"curl ({label}): RETR 1 differs from alice-1.eml")
        print(f"({label}) RETR 1 = alice-1.eml")
        return
    # 67 = CURLE_LOGIN_DENIED, also used when curl itself aborts the exchange with "*".
    if code != 67 or (want == "cancelled" and "cancelled" not in err):
        die(f"curl ({label}): exit {code}, expected 67 ({want}): {err}")
    print(f"({label}) {want} as expected: {err}")


def capture_sasl(dc, stage, msgdir):
    pcap = os.path.join(stage, "dovecot-sasl.pcap")
    print("== dovecot-sasl.pcap")
    td = dc.start_tcpdump(pcap)
    good, auth = "alice:wonderland", "--login-options"
    curl_session(dc, msgdir, "a", "ok", good, auth, "AUTH=PLAIN")
    curl_session(dc, msgdir, "b", "ok", good, auth, "AUTH=LOGIN")
    curl_session(dc, msgdir, "c", "ok", good, auth, "AUTH=CRAM-MD5")
    # curl 7.88 rejects dovecot's quoted algorithm="md5-sess" and cancels; (e) does it properly.
    curl_session(dc, msgdir, "d", "cancelled", good, auth, "AUTH=DIGEST-MD5")
    out = client(dc, "digest-md5-session.py", dc.host, str(dc.port), "alice", "wonderland",
                 os.path.join(msgdir, "alice-1.eml"), prefix="(e) ")
    if b"DIGEST-MD5 login ok" not in out:
        die("(e) the DIGEST-MD5 client did not log in")
    curl_session(dc, msgdir, "f", "denied", "alice:wrong-password", auth, "AUTH=PLAIN")
    curl_session(dc, msgdir, "g", "ok", good, auth, "AUTH=PLAIN", "--sasl-ir")
    dc.finish_capture(td, pcap, 7)


def write_messages(dc, msgdir):
    """<user>-<n>.eml: every message as a client receives it (CRLF), and SHA256SUMS."""
    os.mkdir(msgdir)
    sums = []
    for user in sorted(dc.mail):
        for n, m in enumerate(dc.mail[user], 1):
            name = f"{user}-{n}.eml"
            with open(os.path.join(msgdir, name), "wb") as f:
                f.write(m.crlf)
            sums.append(f"{hashlib.sha256(m.crlf).hexdigest()}  {name}\n")
    with open(os.path.join(msgdir, "SHA256SUMS"), "w") as f:
        f.writelines(sums)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=HERE, help="where the outputs go (default samples/)")
    args = ap.parse_args()
    require("make-dovecot-samples", ("tcpdump", "curl"))
    try:
        with Dovecot(mail=MAIL, port=PORT, tls=False, name="popsift-samples") as dc:
            stage = dc.tmpdir("out", mode=0o755)
            msgdir = os.path.join(stage, "dovecot-messages")
            write_messages(dc, msgdir)
            capture_pop3(dc, stage, msgdir)
            capture_sasl(dc, stage, msgdir)
            # Everything checked: the outputs are replaced.
            publish([(os.path.join(stage, n), n) for n in
                     ("dovecot-pop3.pcap", "dovecot-sasl.pcap", "dovecot-messages")], args.out)
    except (HarnessError, subprocess.SubprocessError) as e:
        die(str(e))


if __name__ == "__main__":
    main()
