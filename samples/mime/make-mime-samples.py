#!/usr/bin/env python3
"""Regenerates samples/mime/: a real POP3 capture of MIME mail (mime-pop3.pcap) retrieved from a
private dovecot-pop3d by three real clients (python3 poplib, curl, fetchmail), and the ground
truth: messages/mime-<n>.eml as a client receives each message (CRLF, dot-stuffing removed),
messages/attachments/* (each attachment's decoded octets) and messages/SHA256SUMS. What the
capture holds: samples/mime/README.md.

    sudo samples/mime/make-mime-samples.py [--out DIR]

The server is the one of the tests, tests/dovecot/harness.py: user mime, SASL PLAIN and LOGIN,
no TLS, on 127.0.0.5:110 (any 127/8 address is on lo), and tcpdump filters on that address, so
another test server on 127.0.0.1:110 neither disturbs nor leaks into the capture. Run as root
on Debian 12. The outputs are replaced only after every check has passed; --out DIR writes
them elsewhere, to compare a new run with the committed capture.
"""
import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "dovecot"))
from harness import Dovecot, HarnessError, publish, require  # noqa: E402

HOST, PORT = "127.0.0.5", 110
USER, PASSWORD = "mime", "mimepw"
N_MSGS = 6
FETCH_LIMIT = 1000000  # fetchmail skips the several-MB message 6 (poplib fetches it)


def die(why):
    sys.exit("make-mime-samples: " + why)


def check(cond, why):
    if not cond:
        die(why)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def session_poplib(dc, msgs):
    print("== (a) python3 poplib: RETR 1-6, TOP 1 0, TOP 3 10")
    code, out, err = dc.run([sys.executable, os.path.join(HERE, "mime-sessions.py"), dc.host,
                             str(dc.port), USER, PASSWORD, msgs], timeout=120)
    sys.stdout.write(out.decode("utf-8", "replace"))
    check(code == 0, f"mime-sessions.py exit {code}: {err.decode('utf-8', 'replace')}")


def session_curl(dc, msgs):
    print("== (b) curl: RETR 1-5 over one connection")
    args = []
    for n in range(1, 6):
        args += [f"pop3://{dc.host}:{dc.port}/{n}", "-o", os.path.join(dc.work, "clients", f"curl-{n}.eml")]
    code, _, err = dc.run(["curl", "-sS", "--max-time", "30", "-u", f"{USER}:{PASSWORD}", *args],
                          timeout=60)
    check(code == 0, f"curl exit {code}: {err.decode('utf-8', 'replace')}")
    for n in range(1, 6):
        got = read(os.path.join(dc.work, "clients", f"curl-{n}.eml"))
        check(got == read(os.path.join(msgs, f"mime-{n}.eml")), f"curl: message {n} differs from mime-{n}.eml")
    print("(b) curl received mime-1..5.eml exactly")


def session_fetchmail(dc):
    print(f"== (c) fetchmail: every message below {FETCH_LIMIT} octets, kept on the server")
    code, log, delivered = dc.fetchmail(USER, "mime", keep=True, fetchall=True, uidl=False,
                                        extra=("--limit", str(FETCH_LIMIT), "--timeout", "30"))
    sys.stdout.write("".join(f"(c) {line}\n" for line in log.splitlines() if "Running as root" not in line))
    check(code == 0, f"fetchmail: exit {code}")
    check(len(delivered) == 5, f"fetchmail delivered {len(delivered)} messages, expected 5")
    for m, d in zip(dc.mail[USER], delivered):
        # fetchmail prepends its Received: header and hands the MDA LF line ends.
        check(d.endswith(m.lf), f"fetchmail delivered something else than {m}")
    print("(c) fetchmail delivered 5 messages")


def ground_truth(msgs, dest):
    """messages/ as committed: mime-1..5.eml, attachments/ and SHA256SUMS of all of them and
    of mime-6.eml. mime-6.eml (3 MB) is not kept: make-messages.py writes it again, byte for
    byte, and the tests check it against its digest."""
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(msgs, "mime-*.eml")))
    names += sorted("attachments/" + n for n in os.listdir(os.path.join(msgs, "attachments")))
    os.makedirs(os.path.join(dest, "attachments"))
    with open(os.path.join(dest, "SHA256SUMS"), "w") as f:
        f.writelines(f"{hashlib.sha256(read(os.path.join(msgs, n))).hexdigest()}  {n}\n" for n in names)
    for n in names:
        if n != f"mime-{N_MSGS}.eml":
            shutil.copyfile(os.path.join(msgs, n), os.path.join(dest, n))
    return dest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=HERE, help="where the outputs go (default samples/mime/)")
    args = ap.parse_args()
    require("make-mime-samples", ("tcpdump", "curl", "fetchmail"))
    # The mail comes first: the harness stores it when it starts.
    scratch = tempfile.mkdtemp(prefix="popsift-mime-msgs-")
    try:
        msgs = os.path.join(scratch, "msgs")
        subprocess.run([sys.executable, os.path.join(HERE, "make-messages.py"), msgs], check=True)
        check(len(glob.glob(os.path.join(msgs, "mime-*.lf"))) == N_MSGS,
              f"make-messages.py did not write exactly {N_MSGS} messages")
        mail = [read(os.path.join(msgs, f"mime-{n}.lf")) for n in range(1, N_MSGS + 1)]
        with Dovecot(mail={USER: mail}, users={USER: PASSWORD}, host=HOST, port=PORT, tls=False,
                     mechanisms="plain login", name="popsift-mime-samples") as dc:
            stage = dc.tmpdir("out", mode=0o755)
            pcap = os.path.join(stage, "mime-pop3.pcap")
            td = dc.start_tcpdump(pcap, bpf=f"host {HOST} and tcp port {PORT}")
            session_poplib(dc, msgs)
            session_curl(dc, msgs)
            session_fetchmail(dc)
            dc.finish_capture(td, pcap, 3)
            # Everything checked: the outputs are replaced.
            publish([(pcap, "mime-pop3.pcap"),
                     (ground_truth(msgs, os.path.join(stage, "messages")), "messages")], args.out)
    except (HarnessError, subprocess.SubprocessError) as e:
        die(str(e))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
