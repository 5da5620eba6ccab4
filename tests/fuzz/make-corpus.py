#!/usr/bin/env python3
"""Builds the committed seed corpora tests/fuzz/corpus/<harness>/ from the
project's own captures (samples/*.pcap, samples/pop2/*.pcap,
tests/e2e/captures/*.pcap*), in the input formats of tests/fuzz/fuzz_input.h
and fuzz_capture.c, plus a few hand-made seeds for what no capture holds
(KPOP preambles, SCRAM, NTLM, GSSAPI, XOAUTH2, OAUTHBEARER).

  pop3, pop2, kpop  one seed per TCP connection: its payload in capture order,
                    one chunk per segment, retransmissions dropped, a hole as a
                    gap marker; long segments keep their first and last 512 bytes
  sasl              one seed per AUTH exchange found in the POP3 streams, as wire
                    text (named mechanism) and decoded (the harness re-encodes)
  capture           per connection: its frames ("frames" mode) and a small pcap
                    file of them ("file" mode); the pcapng capture cut short

Deterministic: the same captures give the same files (named by SHA-1).
Usage: make fuzz-corpus   (or python3 tests/fuzz/make-corpus.py [--check])
"""
import base64
import glob
import hashlib
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MAGIC = b"FPC0"
GAP = b"GAP!"
SEED_MAX = 24 * 1024          # bytes per seed
HARNESS_MAX = 320 * 1024      # bytes per harness corpus (all under 2 MB together)
POP3_PORTS = {110, 995}
POP2_PORTS = {109}
KPOP_PORTS = {1109}

# fuzz_input.h flags
F_CLIENT_FIRST, F_PARTIAL = 0x01, 0x02
END_FIN = 1 << 4
# fuzz_sasl.c flags
S_SERVER_FIRST, S_NAMED, S_ENCODE = 0x20, 0x40, 0x80
# fuzz_capture.c flags and link types (ll_types[] order)
C_FILE, C_FIX_CSUM = 0x08, 0x10
LL_INDEX = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 101: 5, 12: 5, 228: 6, 229: 7}


# ---- reading captures ------------------------------------------------------

def read_pcap(data):
    """(linktype, [(ts_us, frame)]) of a pcap or pcapng file."""
    magic = data[:4]
    if magic == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(data)
    for endian, ns in (("<", False), (">", False)):
        m = struct.unpack(endian + "I", magic)[0]
        if m in (0xA1B2C3D4, 0xA1B23C4D):
            ns = m == 0xA1B23C4D
            break
    else:
        raise ValueError("not a capture")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0xFFFF
    off, frames = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frames.append((sec * 1000000 + (frac // 1000 if ns else frac), data[off:off + incl]))
        off += incl
    return linktype, frames


def read_pcapng(data):
    off, endian, linktypes, frames = 0, "<", [], []
    while off + 12 <= len(data):
        btype = struct.unpack(endian + "I", data[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            endian = "<" if data[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack(endian + "I", data[off + 4:off + 8])[0]
        body = data[off + 8:off + blen - 4]
        if btype == 1:
            linktypes.append(struct.unpack(endian + "H", body[:2])[0])
        elif btype == 6:
            _iface, hi, lo, cap, _orig = struct.unpack(endian + "IIIII", body[:20])
            frames.append(((hi << 32 | lo), body[20:20 + cap]))
        elif btype == 3:
            frames.append((0, body[4:]))
        if blen < 12:
            break
        off += blen
    return (linktypes[0] if linktypes else 1), frames


def ip_of(linktype, f):
    """The IP packet inside frame f, or None."""
    if linktype == 1:
        off, etype = 14, f[12:14]
        while etype in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
            etype, off = f[off + 2:off + 4], off + 4
        return f[off:] if etype in (b"\x08\x00", b"\x86\xdd") else None
    if linktype == 113:
        return f[16:]
    if linktype == 276:
        return f[20:]
    if linktype in (0, 108):
        return f[4:]
    return f


def tcp_of(ip):
    """(src, dst, sport, dport, seq, flags, payload) or None."""
    if not ip:
        return None
    if ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        if ip[9] != 6 or struct.unpack(">H", ip[6:8])[0] & 0x3FFF:
            return None
        src, dst, t = ip[12:16], ip[16:20], ip[ihl:total]
    elif ip[0] >> 4 == 6:
        if ip[6] != 6:
            return None
        plen = struct.unpack(">H", ip[4:6])[0]
        src, dst, t = ip[8:24], ip[24:40], ip[40:40 + plen]
    else:
        return None
    if len(t) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", t[:8])
    thl = (t[12] >> 4) * 4
    return src, dst, sport, dport, seq, t[13], t[thl:]


def connections(path):
    """{key: dict(server_port, frames=[(ts, frame)], segs=[(dir, seq, flags, payload)])}"""
    data = open(path, "rb").read()
    linktype, frames = read_pcap(data)
    conns = {}
    for ts, f in frames:
        t = tcp_of(ip_of(linktype, f))
        if not t:
            continue
        src, dst, sport, dport, seq, flags, payload = t
        known = POP3_PORTS | POP2_PORTS | KPOP_PORTS
        if dport in known:
            key, d = (src, sport, dst, dport), 0
        elif sport in known:
            key, d = (dst, dport, src, sport), 1
        else:
            continue
        c = conns.setdefault(key, dict(port=key[3], frames=[], segs=[], linktype=linktype))
        c["frames"].append((ts, f))
        c["segs"].append((d, seq, flags, payload))
    return linktype, data, conns


# ---- stream seeds (pop3, pop2, kpop) ----------------------------------------

def shorten(p):
    return p if len(p) <= 1024 else p[:512] + p[-512:]


def stream_chunks(c):
    """[(dir, bytes or ('gap', n))] in capture order, retransmissions dropped."""
    nxt, out = [None, None], []
    for d, seq, flags, payload in c["segs"]:
        if flags & 0x02:  # SYN
            nxt[d] = (seq + 1) & 0xFFFFFFFF
            continue
        if not payload:
            continue
        if nxt[d] is None:
            nxt[d] = seq
        delta = (seq - nxt[d]) & 0xFFFFFFFF
        if delta >= 0x80000000:  # starts before what we have: overlap or retransmission
            skip = (nxt[d] - seq) & 0xFFFFFFFF
            if skip >= len(payload):
                continue
            payload, seq = payload[skip:], nxt[d]
        elif delta:
            out.append((d, ("gap", delta)))
        out.append((d, payload))
        nxt[d] = (seq + len(payload)) & 0xFFFFFFFF
    return out


def encode_stream(chunks, partial):
    if not chunks:
        return None
    first = chunks[0][0]
    flags = (F_CLIENT_FIRST if first == 0 else 0) | (F_PARTIAL if partial else 0) | END_FIN
    out, cur, began = bytearray([flags]), first, False
    for d, p in chunks:
        if began:
            out += MAGIC
            if d == cur:  # same direction again: an empty chunk switches and back
                out += MAGIC
            cur = d
        began = True
        if isinstance(p, tuple):
            out += GAP + struct.pack("<I", min(p[1], 0xFFFFFFFF))
        else:
            if MAGIC in p:
                return None
            out += shorten(p)
        if len(out) > SEED_MAX:
            break
    return bytes(out)


# ---- SASL seeds -------------------------------------------------------------

def lines_in_order(chunks):
    """Complete lines of both directions, in the order they ended."""
    buf, out = [b"", b""], []
    for d, p in chunks:
        if isinstance(p, tuple):
            buf[d] = b""
            continue
        buf[d] += p
        while b"\n" in buf[d]:
            line, buf[d] = buf[d].split(b"\n", 1)
            out.append((d, line.rstrip(b"\r")))
    return out


def sasl_seeds(chunks):
    seeds, ex = [], None
    for d, line in lines_in_order(chunks):
        if d == 0 and ex is None and line[:5].upper() == b"AUTH ":
            parts = line[5:].split(b" ", 1)
            ex = dict(mech=parts[0], steps=[(0, parts[1])] if len(parts) > 1 else [])
        elif ex is not None and d == 1 and (line.startswith(b"+ ") or line == b"+"):
            ex["steps"].append((1, line[2:]))
        elif ex is not None and d == 0:
            ex["steps"].append((0, line))
        elif ex is not None and d == 1:
            seeds.extend(encode_sasl(ex["mech"], ex["steps"]))
            ex = None
    return seeds


def encode_sasl(mech, steps, wire=True):
    """The exchange as wire text (named mechanism) and, when base64, decoded."""
    out = []
    if not steps:
        return out
    variants = [(S_NAMED, [s for _, s in steps])]
    try:
        variants.append((S_NAMED | S_ENCODE,
                         [base64.b64decode(s, validate=True) if s not in (b"=", b"*") else b""
                          for _, s in steps]))
    except Exception:  # noqa: BLE001 - not base64: the wire variant only
        pass
    for flags, texts in variants:
        flags |= S_SERVER_FIRST if steps[0][0] == 1 else 0
        seed = bytearray([flags]) + mech
        cur = None
        for (d, _), t in zip(steps, texts):
            seed += MAGIC
            if cur is not None and d == cur:
                seed += MAGIC
            elif cur is None and (d == 1) != bool(flags & S_SERVER_FIRST):
                seed += MAGIC
            seed += t
            cur = d
        if MAGIC not in mech and all(MAGIC not in t for t in texts):
            out.append(bytes(seed))
    return out


def handmade_sasl():
    """Exchanges for mechanisms no capture holds (decoded; the harness encodes)."""
    ex = []
    ex.append((b"SCRAM-SHA-256", [
        (0, b"n,,n=alice,r=rOprNGfwEbeRWgbNEkqO"),
        (1, b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"),
        (0, b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
        (1, b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")]))
    ex.append((b"SCRAM-SHA-1-PLUS", [(0, b"p=tls-unique,a=bob,n=bob,r=abc"), (1, b"r=abcdef,s=c2FsdA==,i=1")]))
    t1 = b"NTLMSSP\x00" + struct.pack("<I", 1) + struct.pack("<I", 0xE2088297) + bytes(16)
    t2 = (b"NTLMSSP\x00" + struct.pack("<I", 2) + struct.pack("<HHI", 6, 6, 56) +
          struct.pack("<I", 0xE2898215) + b"\x01\x23\x45\x67\x89\xab\xcd\xef" + bytes(8) +
          struct.pack("<HHI", 0, 0, 62) + bytes(8) + b"D\x00O\x00M\x00")
    dom, user, ws = "DOMAIN".encode("utf-16-le"), "user".encode("utf-16-le"), "WS".encode("utf-16-le")
    lm, nt = bytes(24), bytes(range(48))
    base = 64
    fields, payload = [], b""
    for blob in (lm, nt, dom, user, ws, b""):
        fields.append(struct.pack("<HHI", len(blob), len(blob), base + len(payload)))
        payload += blob
    t3 = b"NTLMSSP\x00" + struct.pack("<I", 3) + b"".join(fields) + struct.pack("<I", 0xE2888215) + payload
    ex.append((b"NTLM", [(0, t1), (1, t2), (0, t3)]))
    ex.append((b"GSSAPI", [(0, b"\x60\x82\x01\x00\x06\x09\x2a\x86\x48\x86\xf7\x12\x01\x02\x02\x01\x00\x6e\x81\xf0"),
                          (1, b""), (0, b""), (1, b"\x05\x04\x01\xff\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                                                 b"\x07\x00\x10\x00"),
                          (0, b"\x05\x04\x00\xff\x00\x0c\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00")]))
    ex.append((b"XOAUTH2", [(0, b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01")]))
    ex.append((b"OAUTHBEARER", [(0, b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01"
                                    b"auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\x01\x01")]))
    ex.append((b"KERBEROS_V4", [(1, b"\x01\x02\x03\x04"), (0, b"\x04\x08" + bytes(30)), (1, bytes(8)), (0, bytes(16))]))
    ex.append((b"DIGEST-MD5", [(1, b'realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth-int,auth-conf",'
                                   b'algorithm=md5-sess,charset=utf-8'),
                              (0, b'charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",'
                                  b'nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="pop/elwood.innosoft.com",'
                                  b'response=d388dad90d4bbd760a152321f2143af7,qop=auth-conf')]))
    seeds = []
    for mech, steps in ex:
        flags = S_NAMED | S_ENCODE | (S_SERVER_FIRST if steps[0][0] == 1 else 0)
        seed, cur = bytearray([flags]) + mech, None
        for d, t in steps:
            seed += MAGIC
            if cur is not None and d == cur:
                seed += MAGIC
            seed += t
            cur = d
        seeds.append(bytes(seed))
    return seeds


# ---- KPOP seeds -------------------------------------------------------------

def handmade_kpop(pop3_streams):
    """v4 and v5 preambles followed by a real POP3 conversation."""
    pop3 = pop3_streams[0] if pop3_streams else [(1, b"+OK ready\r\n"), (0, b"USER a\r\n"), (1, b"+OK\r\n")]
    v4 = [(0, b"AUTHV0.1KPOPV0.1" + struct.pack(">I", 40) + bytes(range(40))), (1, struct.pack(">I", 8) + bytes(8))]
    v5 = [(0, struct.pack(">I", 0x13) + b"KRB5_SENDAUTH_V1.0\x00" + struct.pack(">I", 9) + b"KPOPV1.0\x00"),
          (1, b"\x00"), (0, struct.pack(">I", 32) + bytes(range(32))), (1, struct.pack(">I", 0)),
          (1, struct.pack(">I", 12) + bytes(12))]
    v5_refused = v5[:3] + [(1, struct.pack(">I", 20) + bytes(20))]
    seeds = []
    for pre in (v4, v5, v5_refused, v5[:2]):
        seeds.append(encode_stream(pre + pop3[:40], False))
    return [s for s in seeds if s]


# ---- capture seeds ----------------------------------------------------------

def time_byte(delta_us):
    ms = delta_us // 1000
    if ms < 200:
        return max(0, ms)
    return min(255, 199 + max(1, (ms // 1000) // 30))


def capture_seeds(linktype, conns):
    seeds = []
    idx = LL_INDEX.get(linktype)
    for c in conns.values():
        frames, size = [], 0
        for ts, f in c["frames"]:
            if size + len(f) > SEED_MAX or len(frames) >= 64:
                break
            frames.append((ts, f))
            size += len(f) + 5
        if not frames:
            continue
        if idx is not None and all(MAGIC not in f for _, f in frames):
            out, prev = bytearray([idx | C_FIX_CSUM]), frames[0][0]
            for i, (ts, f) in enumerate(frames):
                if i:
                    out += MAGIC
                out += bytes([time_byte(ts - prev)]) + f
                prev = ts
            seeds.append(bytes(out))
        pcap = bytearray(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        for ts, f in frames:
            pcap += struct.pack("<IIII", ts // 1000000, ts % 1000000, len(f), len(f)) + f
        seeds.append(bytes([C_FILE]) + bytes(pcap))
    return seeds


# ---- main -------------------------------------------------------------------

def main():
    sources = sorted(glob.glob(os.path.join(ROOT, "samples", "*.pcap")) +
                     glob.glob(os.path.join(ROOT, "samples", "pop2", "*.pcap")) +
                     glob.glob(os.path.join(ROOT, "tests", "e2e", "captures", "*.pcap")) +
                     glob.glob(os.path.join(ROOT, "tests", "e2e", "captures", "*.pcapng")))
    corp = {h: [] for h in ("pop3", "pop2", "kpop", "sasl", "capture")}
    pop3_streams = []
    for path in sources:
        linktype, data, conns = connections(path)
        for c in conns.values():
            chunks = stream_chunks(c)
            partial = not any(flags & 0x02 for _, _, flags, _ in c["segs"])
            seed = encode_stream(chunks, partial)
            if not seed:
                continue
            if c["port"] in POP2_PORTS:
                corp["pop2"].append(seed)
            elif c["port"] in KPOP_PORTS:
                corp["kpop"].append(seed)
            else:
                corp["pop3"].append(seed)
                pop3_streams.append([x for x in chunks if not isinstance(x[1], tuple)])
                corp["sasl"].extend(sasl_seeds(chunks))
        corp["capture"].extend(capture_seeds(linktype, conns))
        if data[:4] == b"\x0a\x0d\x0d\x0a":
            corp["capture"].append(bytes([C_FILE]) + data[:8192])
    corp["sasl"].extend(handmade_sasl())
    corp["kpop"].extend(handmade_kpop(pop3_streams))
    corp["pop3"].extend(corp["kpop"][-2:])  # a preamble where POP3 is expected

    check = "--check" in sys.argv
    total = 0
    for h, seeds in corp.items():
        d = os.path.join(HERE, "corpus", h)
        files, size = {}, 0
        # Smallest first, so the cap keeps the most variety.
        for s in sorted(set(seeds), key=lambda x: (len(x), x)):
            if size + len(s) > HARNESS_MAX:
                break
            files[hashlib.sha1(s).hexdigest()] = s
            size += len(s)
        total += size
        if check:
            have = set(os.listdir(d)) if os.path.isdir(d) else set()
            if have != set(files):
                print(f"make-corpus: {d} is out of date (make fuzz-corpus)")
                return 1
            continue
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, s in files.items():
            with open(os.path.join(d, name), "wb") as fp:
                fp.write(s)
        print(f"make-corpus: {h}: {len(files)} seeds, {size} bytes")
    print(f"make-corpus: {total} bytes in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
