#!/usr/bin/env python3
"""
bench/tls.py - the TLS scenario of popsift's benchmark (`make bench`, `make bench-quick`).

What decryption costs: a message-heavy POP3S capture (TLS 1.3, TLS_AES_128_GCM_SHA256),
analysed with its key log, against the same dialogue in clear, analysed as it is. Target:
the TLS run takes at most 1.5 times the cleartext run (docs/tls.md, Cost).

The captures are generated once into build/bench/ (tls_<mode>.pcap, tls_<mode>.keys,
clear_<mode>.pcap, tls_<mode>.tsv: every message's size and SHA-256) and reused. Each session
is a real TLS 1.3 session between python's ssl module on both ends over memory BIOs: a real
handshake and key log; after it each side encrypts what it sends. Sessions one after the
other: greeting, USER/PASS, RETR of messages of 300 B .. 4 MB (log-uniform, fixed seed),
QUIT; the server's bytes in 1448-octet segments, ACKed every second one, as in clear.

Before timing, both runs' message events are checked against the manifest (every message,
complete, with its size and SHA-256; the TLS sessions all decrypted). Results are printed as
Markdown and written to build/bench/results-tls-<mode>.{md,json}.

    python3 bench/tls.py --quick|--full [--runs N] [--popsift BIN] [--cache DIR]
"""
import argparse
import hashlib
import json
import os
import random
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import run as bench  # noqa: E402  (bench/run.py: timing, page cache, machine)
sys.path.insert(0, os.path.join(ROOT, "tests", "tls"))
import tlsmem  # noqa: E402  (the handshake over memory BIOs, shared with make-fixtures.py)

SIZES = {"quick": 200 << 20, "full": 1 << 30}
SESSIONS = 16
MSS = 1448
TARGET = 1.5


# ---- one TLS 1.3 session over memory BIOs ------------------------------------------------

def contexts(certdir, keylog):
    cert, key = os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "3650", "-subj", "/CN=pop.bench.test", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.check_hostname = False
    cctx.verify_mode = ssl.CERT_NONE
    for ctx in (sctx, cctx):
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    cctx.keylog_filename = keylog
    return cctx, sctx


class TlsPair:
    """A client and a server SSLObject; after the handshake each only encrypts what it sends."""

    def __init__(self, cctx, sctx, emit):
        self.emit = emit  # emit(side, ciphertext)
        self.cin, self.cout, self.sin, self.sout = (ssl.MemoryBIO() for _ in range(4))
        self.client = cctx.wrap_bio(self.cin, self.cout, server_hostname="pop.bench.test")
        self.server = sctx.wrap_bio(self.sin, self.sout, server_side=True)
        tlsmem.handshake(self.client, self.server, self._pump, "bench/tls.py")

    def _pump(self):
        for side, out, into in (("c", self.cout, self.sin), ("s", self.sout, self.cin)):
            data = out.read()
            if data:
                self.emit(side, data)
                into.write(data)

    def send(self, side, data):
        obj, out = (self.client, self.cout) if side == "c" else (self.server, self.sout)
        view = memoryview(data)
        while view:
            n = obj.write(view[:1 << 20])
            view = view[n:]
            self.emit(side, out.read())


# ---- the capture ------------------------------------------------------------------------------

class Pcap:
    """Ethernet/IPv4/TCP frames of sessions one after the other (no checksums: popsift checks none)."""

    def __init__(self, path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.t = 1700000000.0

    def frame(self, src, dst, sport, dport, seq, ack, flags, payload=b""):
        self.t += 0.00001
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags,
                          65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000, 64, 6, 0, src, dst)
        n = 14 + 40 + len(payload)
        sec = int(self.t)
        self.f.write(struct.pack("<IIII", sec, int((self.t - sec) * 1e6), n, n))
        self.f.write(b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp)
        self.f.write(payload)

    def close(self):
        self.f.close()


class Conn:
    """One TCP connection in a Pcap: handshake, data in MSS segments with ACKs, FIN."""

    def __init__(self, pcap, n):
        self.p = pcap
        self.c = socket.inet_aton("10.1.%d.%d" % (n >> 8 & 255, n & 255))
        self.s = socket.inet_aton("10.2.0.1")
        self.cp, self.sp = 40000 + n % 20000, 995
        self.seq = {"c": 1000, "s": 5000}
        self.unacked = 0
        self._f("c", 0x02, seq=999)
        self._f("s", 0x12, seq=4999)
        self._f("c", 0x10)

    def _f(self, side, flags, payload=b"", seq=None):
        other = "s" if side == "c" else "c"
        src, dst, sp, dp = (self.c, self.s, self.cp, self.sp) if side == "c" else (self.s, self.c, self.sp, self.cp)
        self.p.frame(src, dst, sp, dp, self.seq[side] if seq is None else seq, self.seq[other], flags, payload)

    def send(self, side, data):
        for off in range(0, len(data), MSS):
            chunk = data[off:off + MSS]
            self._f(side, 0x18, chunk)
            self.seq[side] += len(chunk)
            self.unacked += 1
            if self.unacked == 2:
                self._f("s" if side == "c" else "c", 0x10)
                self.unacked = 0

    def close(self):
        self._f("c", 0x11)
        self.seq["c"] += 1
        self._f("s", 0x11)
        self.seq["s"] += 1
        self._f("c", 0x10)


LINES = b"".join(b"%07d the quick brown fox jumps over the lazy dog; a message read in TLS....\r\n" % i
                for i in range(1 << 16))  # 5 MB of 80-octet lines


def message(rng, session, number, size):
    """A message of about `size` octets; its first line makes it unique."""
    start = rng.randrange(1 << 16) * 80
    n = max(1, size // 80) * 80
    body = (LINES[start:] + LINES)[:n]
    return b"Message-ID: <%d.%d@bench.test>\r\nSubject: bench\r\n\r\n" % (session, number) + body


def dialogue(n, rng, budget):
    """(side, bytes) of one session, and its messages' (size, sha256)."""
    steps = [("s", b"+OK bench ready\r\n"), ("c", b"USER user%d\r\n" % n), ("s", b"+OK\r\n"),
             ("c", b"PASS secret%d\r\n" % n), ("s", b"+OK logged in\r\n")]
    msgs, k = [], 0
    while budget > 0:
        k += 1
        body = message(rng, n, k, int(300 * (4e6 / 300) ** rng.random()))
        budget -= len(body)
        msgs.append((len(body), hashlib.sha256(body).hexdigest()))
        steps += [("c", b"RETR %d\r\n" % k), ("s", b"+OK %d octets\r\n" % len(body) + body + b".\r\n")]
    steps += [("c", b"QUIT\r\n"), ("s", b"+OK bye\r\n")]
    return steps, msgs


def generate(mode, paths, cache):
    rng = random.Random(8)
    cctx, sctx = contexts(cache, paths["keys"])
    tls, clear = Pcap(paths["tls"] + ".tmp"), Pcap(paths["clear"] + ".tmp")
    manifest = []
    for n in range(SESSIONS):
        steps, msgs = dialogue(n, rng, SIZES[mode] // SESSIONS)
        manifest += msgs
        a, b = Conn(tls, n), Conn(clear, n)
        pair = TlsPair(cctx, sctx, a.send)
        for side, data in steps:
            pair.send(side, data)
            b.send(side, data)
        a.close()
        b.close()
    tls.close()
    clear.close()
    with open(paths["tsv"], "w") as f:
        f.writelines(f"{size}\t{sha}\n" for size, sha in manifest)
    os.rename(paths["tls"] + ".tmp", paths["tls"])
    os.rename(paths["clear"] + ".tmp", paths["clear"])


def ensure(mode, cache):
    base = os.path.join(cache, f"tls_{mode}")
    paths = {"tls": base + ".pcap", "keys": base + ".keys", "tsv": base + ".tsv",
             "clear": os.path.join(cache, f"clear_{mode}.pcap")}
    if not all(os.path.exists(p) for p in paths.values()):
        if os.path.exists(paths["keys"]):
            os.remove(paths["keys"])
        bench.log(f"generating the TLS and cleartext captures ({SIZES[mode] >> 20} MB of messages) ...")
        t = time.perf_counter()
        generate(mode, paths, cache)
        bench.log(f"  {os.path.getsize(paths['tls']) / 1e6:.0f} MB in {time.perf_counter() - t:.1f} s")
    return paths


def check(cmd, want):
    """popsift's message events against the manifest: (ok, text)."""
    p = subprocess.run(cmd, capture_output=True)
    got, decrypted = [], 0
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        if ev["event_type"] == "message" and ev["message"]["complete"]:
            got.append((ev["message"]["size"], ev["message"]["sha256"]))
        elif ev["event_type"] == "tls":
            decrypted += ev["tls"]["decrypted"]
    ok = p.returncode == 0 and sorted(got) == sorted(want)
    return ok, f"{len(got)}/{len(want)} messages complete with their size and SHA-256" + (
        f", {decrypted}/{SESSIONS} sessions decrypted" if "--tls-keylog" in cmd else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--full", action="store_const", dest="mode", const="full")
    g.add_argument("--quick", action="store_const", dest="mode", const="quick")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--popsift", default=os.path.join(ROOT, "build", "popsift"))
    ap.add_argument("--cache", default=bench.CACHE, help="where the captures and results go")
    ap.set_defaults(mode="quick")
    a = ap.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    paths = ensure(a.mode, a.cache)
    with open(paths["tsv"]) as f:
        want = [(int(s), h) for s, h in (line.split() for line in f)]
    cmds = {"clear": [a.popsift, "-q", "-r", paths["clear"], "-o", "/dev/null"],
            "tls": [a.popsift, "-q", "--tls-keylog", paths["keys"], "-r", paths["tls"], "-o", "/dev/null"]}
    checks = {}
    for name, cmd in cmds.items():
        ok, text = check([c for c in cmd if c not in ("-o", "/dev/null")], want)
        checks[name] = {"ok": ok, "text": text}
        bench.log(f"  output check ({name}): {'OK' if ok else 'FAILED'}: {text}")
    samples = {name: [] for name in cmds}
    for _ in range(a.runs):
        for name, cmd in cmds.items():
            bench.warm(paths[name])
            samples[name].append(bench.run_timed(cmd))
    rows = {}
    for name in cmds:
        wall = statistics.median(s[0] for s in samples[name])
        rows[name] = {"seconds": wall, "cpu_seconds": statistics.median(s[1] for s in samples[name]),
                      "rss_mb": statistics.median(s[2] for s in samples[name]) / 1024.0,
                      "mb_s": os.path.getsize(paths[name]) / 1e6 / wall,
                      "runs": [round(s[0], 4) for s in samples[name]]}
    ratio = rows["tls"]["seconds"] / rows["clear"]["seconds"]
    cpu_ratio = rows["tls"]["cpu_seconds"] / rows["clear"]["cpu_seconds"]
    mach = bench.machine()
    md = [f"## popsift TLS benchmark ({a.mode}), {mach['date']}", "",
          f"Machine: {mach['cpu']}, {mach['nproc']} cores ({mach['flags']}). Median of {a.runs} runs.", "",
          "| capture | popsift | seconds | MB/s | CPU s | peak RSS MB |", "|---|---|---:|---:|---:|---:|"]
    for name, what in (("clear", "-r clear"), ("tls", "--tls-keylog KEYS -r tls")):
        r = rows[name]
        md.append(f"| `{os.path.basename(paths[name])}` ({os.path.getsize(paths[name]) / 1e6:.0f} MB) | {what} | "
                  f"{r['seconds']:.3f} | {r['mb_s']:.0f} | {r['cpu_seconds']:.2f} | {r['rss_mb']:.1f} |")
    verdict = "met" if ratio <= TARGET else "NOT met"
    md += ["", f"TLS 1.3 AES-128-GCM with its keys / the same dialogue in clear: **{ratio:.2f}x** wall, "
               f"{cpu_ratio:.2f}x CPU (target <= {TARGET}x: {verdict}).", ""]
    md += [f"- output check ({n}): {'OK' if c['ok'] else 'FAILED'}: {c['text']}" for n, c in checks.items()]
    text = "\n".join(md) + "\n"
    print(text)
    with open(os.path.join(a.cache, f"results-tls-{a.mode}.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.cache, f"results-tls-{a.mode}.json"), "w") as f:
        json.dump({"mode": a.mode, "machine": mach, "rows": rows, "ratio": ratio, "cpu_ratio": cpu_ratio,
                   "target": TARGET, "checks": checks}, f, indent=1)
    if not all(c["ok"] for c in checks.values()):
        sys.exit("bench/tls.py: popsift's output did not match the manifest")


if __name__ == "__main__":
    main()
