#!/usr/bin/env python3
"""The --hashes DIR files, fed as they are to the crackers people use: hashcat
(Debian's package, on the CPU through pocl) and John the Ripper. Each
successful challenge-response login of the samples must be cracked from a
small word list, under the user name popsift wrote in front of its line:

  APOP          samples/dovecot-pop3.pcap   alice / wonderland      hashcat -m 20
  CRAM-MD5      samples/dovecot-sasl.pcap   alice / wonderland      hashcat -m 10200
  DIGEST-MD5    samples/dovecot-sasl.pcap   alice / wonderland      John's dmd5
  NetNTLMv1/v2  CRAFTED here (no packaged server speaks NTLM to a packaged client;
                the responses are computed from the password below)  hashcat -m 5500 / 5600

Debian's john (1.9.0, not "jumbo") has no dmd5 format. When a jumbo john is
found (JOHN=/path/to/john, or john on PATH that lists dmd5) it cracks
digest-md5.john; otherwise the DIGEST-MD5 line is checked against the word
list by RFC 2831's computation, as John's dmd5 does, and the run says so.
Usage: test_crackers.py POPSIFT [NAME...]
"""
import ctypes
import ctypes.util
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from craft import Capture, ntlm_authenticate, ntlm_challenge, ntlm_login_steps  # noqa: E402
from runner import SAMPLES, Suite, expect  # noqa: E402

SUITE = Suite("crackers")
TMP = tempfile.mkdtemp(prefix="popsift-crack-")
NTLM_PASSWORD = "Crafted-NTLM-2026"
PASSWORDS = {"alice": "wonderland", "bob": "builder", "ntlm1user": NTLM_PASSWORD, "ntlm2user": NTLM_PASSWORD}
WORDS = ["123456", "password", "wrong-secret", "builder", "wonderland", NTLM_PASSWORD, "letmein"]

_crypto = ctypes.CDLL(ctypes.util.find_library("crypto"))


def md4(data):
    """OpenSSL's MD4 (python's hashlib lacks it under OpenSSL 3)."""
    out = ctypes.create_string_buffer(16)
    _crypto.MD4(data, ctypes.c_size_t(len(data)), out)
    return out.raw


def des_block(key7, block):
    """DES-ECB of one block under a 56-bit key, as NTLMv1 uses it."""
    bits = int.from_bytes(key7, "big")
    key8 = bytes((((bits >> (49 - 7 * i)) & 0x7F) << 1) for i in range(8))
    sched = ctypes.create_string_buffer(128)
    out = ctypes.create_string_buffer(8)
    _crypto.DES_set_key_unchecked(key8, sched)
    _crypto.DES_ecb_encrypt(block, out, sched, 1)
    return out.raw


def ntlm_session(cap, user, domain, password, v2, port):
    """A crafted AUTH NTLM login whose response is computed from the password; the server accepts."""
    chal = os.urandom(8)
    type2 = ntlm_challenge(chal)
    nthash = md4(password.encode("utf-16le"))
    if v2:
        key = hmac.new(nthash, (user.upper() + domain).encode("utf-16le"), hashlib.md5).digest()
        blob = b"\x01\x01\0\0\0\0\0\0" + b"\x11" * 8 + os.urandom(8) + b"\0" * 12
        nt = hmac.new(key, chal + blob, hashlib.md5).digest() + blob
        lm = b"\0" * 24
    else:
        k = nthash + b"\0" * 5
        nt = b"".join(des_block(k[i:i + 7], chal) for i in (0, 7, 14))
        lm = nt
    type3 = ntlm_authenticate(lm, nt, domain.encode("utf-16le"), user.encode("utf-16le"), b"P\0C\0")
    steps = ntlm_login_steps(type2, type3, b"+OK logged in\r\n") + [("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
    return cap.session(steps, client=("10.1.0.7", port))


_hashes = {}


def hash_dir():
    """popsift --hashes DIR/ over the samples and the crafted NTLM logins; (dir, sidecar records)."""
    if not _hashes:
        cap = Capture()
        ntlm_session(cap, "ntlm1user", "CORP", NTLM_PASSWORD, False, 40101)
        ntlm_session(cap, "ntlm2user", "CORP", NTLM_PASSWORD, True, 40102)
        ntlm = cap.write(os.path.join(TMP, "ntlm-crafted.pcap"))
        out = os.path.join(TMP, "hashes") + "/"
        p = subprocess.run([SUITE.popsift, "-q", "--hashes", out, "-r", os.path.join(SAMPLES, "dovecot-pop3.pcap"),
                            "-r", os.path.join(SAMPLES, "dovecot-sasl.pcap"), "-r", ntlm],
                           capture_output=True, timeout=120)
        expect(p.returncode == 0, p.stderr)
        with open(os.path.join(out, "hashes.jsonl")) as f:
            _hashes["records"] = [json.loads(line) for line in f]
        _hashes["dir"] = out
    return _hashes["dir"], _hashes["records"]


def wordlist():
    path = os.path.join(TMP, "words.txt")
    with open(path, "w") as f:
        f.write("\n".join(WORDS) + "\n")
    return path


def successes(records, name):
    """(user, line text) of each successful login's line in file `name`."""
    lines = open(os.path.join(hash_dir()[0], name), encoding="utf-8", errors="surrogateescape").read().splitlines()
    got = [(r["user"], lines[r["line"] - 1]) for r in records if r.get("file") == name and r["result"] == "success"]
    expect(got, f"no successful login in {name}: {records}")
    return got


def hashcat_cracks(name, mode):
    """Runs hashcat on the file as popsift wrote it; every successful login's line must be cracked."""
    d, records = hash_dir()
    want = successes(records, name)
    pot = os.path.join(TMP, f"{mode}.pot")
    base = ["hashcat", "-m", str(mode), "--username", "--potfile-path", pot, "--quiet", "--force"]
    p = subprocess.run(base + ["-a", "0", os.path.join(d, name), wordlist()], capture_output=True, timeout=900)
    expect(p.returncode in (0, 1), (p.returncode, p.stdout[-800:], p.stderr[-800:]))  # 1: some not cracked
    p = subprocess.run(base + ["--show", os.path.join(d, name)], capture_output=True, timeout=300)
    shown = p.stdout.decode("utf-8", "surrogateescape").splitlines()
    shown_ci = [x.lower() for x in shown]  # hashcat shows NetNTLMv2's user in upper case
    for user, line in want:
        expect((line + ":" + PASSWORDS[user]).lower() in shown_ci, (user, line, shown))
        expect(line.startswith(user + ":"), line)


@SUITE.test
def hashcat_cracks_apop_from_apop_hc20():
    hashcat_cracks("apop.hc20", 20)


@SUITE.test
def hashcat_cracks_cram_md5_from_cram_md5_hc10200():
    hashcat_cracks("cram-md5.hc10200", 10200)


@SUITE.test
def hashcat_cracks_netntlmv1_from_netntlmv1_hc5500():
    hashcat_cracks("netntlmv1.hc5500", 5500)


@SUITE.test
def hashcat_cracks_netntlmv2_from_netntlmv2_hc5600():
    hashcat_cracks("netntlmv2.hc5600", 5600)


def jumbo_john():
    """A John the Ripper that knows dmd5 (jumbo), or None: Debian's john 1.9.0 does not."""
    for cand in (os.environ.get("JOHN"), shutil.which("john")):
        if not cand or not os.path.exists(cand):
            continue
        p = subprocess.run([cand, "--list=formats"], capture_output=True, timeout=60)
        if b"dmd5" in p.stdout.lower():
            return cand
    return None


def dmd5_matches(line, password):
    """RFC 2831 §2.1.2.1 over John's dmd5 line: $DIGEST-MD5$user$realm$nonce$uri$cnonce$nc$qop$response[$authzid]."""
    f = line.split("$")
    user, realm, nonce, uri, cnonce, nc, qop, response = f[2:10]
    authzid = f[10] if len(f) > 10 else ""
    a1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).digest() + f":{nonce}:{cnonce}".encode()
    if authzid:
        a1 += f":{authzid}".encode()
    a2 = f"AUTHENTICATE:{uri}" + (":00000000000000000000000000000000" if qop in ("auth-int", "auth-conf") else "")
    h = lambda b: hashlib.md5(b).hexdigest()  # noqa: E731
    return h(f"{h(a1)}:{nonce}:{nc}:{cnonce}:{qop}:{h(a2.encode())}".encode()) == response


@SUITE.test
def john_cracks_digest_md5_from_digest_md5_john():
    d, records = hash_dir()
    want = successes(records, "digest-md5.john")
    john = jumbo_john()
    if john is None:
        print("note: no John the Ripper with dmd5 here (Debian's john 1.9.0 has none); "
              "digest-md5.john checked by RFC 2831's computation instead", file=sys.stderr)
        for user, line in want:
            expect(line.startswith(user + ":"), line)
            cracked = [w for w in WORDS if dmd5_matches(line[len(user) + 1:], w)]
            expect(cracked == [PASSWORDS[user]], (line, cracked))
        return
    pot = os.path.join(TMP, "john.pot")
    home = os.path.join(TMP, "john-home")
    os.makedirs(home, exist_ok=True)
    base = [john, "--format=dmd5", f"--pot={pot}"]
    subprocess.run(base + [f"--wordlist={wordlist()}", os.path.join(d, "digest-md5.john")],
                   capture_output=True, timeout=600, cwd=home)
    p = subprocess.run(base + ["--show", os.path.join(d, "digest-md5.john")], capture_output=True, timeout=60, cwd=home)
    shown = p.stdout.decode().splitlines()
    for user, _ in want:
        expect(f"{user}:{PASSWORDS[user]}" in shown, (user, shown))


@SUITE.test
def sidecar_maps_every_line_to_its_login():
    d, records = hash_dir()
    files = {r["file"] for r in records}
    expect(files == {"apop.hc20", "cram-md5.hc10200", "digest-md5.john", "netntlmv1.hc5500", "netntlmv2.hc5600"},
           files)
    for r in records:
        lines = open(os.path.join(d, r["file"]), encoding="utf-8").read().splitlines()
        expect(lines[r["line"] - 1] == r["user"] + ":" + r["hash"], (r, lines))
        expect(r["dest_port"] == 110 and r["src_ip"] and r["flow_id"] and r["timestamp"].endswith("Z"), r)
    for name in files:  # one format per file: every line the same mode, nothing else
        modes = {(r["hash_format"], r.get("hashcat_mode")) for r in records if r["file"] == name}
        n = len(open(os.path.join(d, name)).read().splitlines())
        expect(len(modes) == 1 and n == sum(1 for r in records if r["file"] == name), (name, modes, n))


if __name__ == "__main__":
    sys.exit(SUITE.main())
