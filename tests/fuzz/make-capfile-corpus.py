#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_capfile (tests/fuzz/corpus/capfile/): the first
packets of a few project captures as classic pcap (micro and nano), pcapng
(both byte orders), with a TLS key log block, a mixed-link-type pcapng, a
hand-made pcapng with every block type the reader knows, and compressed copies.
Each seed is a flags byte (see fuzz_capfile.c) then the file. Needs editcap,
mergecap, gzip, zstd, lz4, xz and build/popgen (make tools).
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus", "capfile")
TMP = tempfile.mkdtemp(prefix="capfile-corpus-")
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import capforms  # noqa: E402


def run(*cmd, stdout=None):
    subprocess.run(cmd, check=True, stdout=stdout, stderr=subprocess.DEVNULL)


def first(capture, n, fmt="pcap", name=None):
    out = os.path.join(TMP, (name or os.path.basename(capture)) + f".{n}.{fmt}")
    run("editcap", "-F", fmt, "-r", capture, out, f"1-{n}")
    return out


def block(btype, body):
    body += b"\0" * ((4 - len(body) % 4) % 4)
    return struct.pack("<II", btype, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def every_block():
    """One of each block the reader knows, and some it skips."""
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    opts = struct.pack("<HHB3x", 9, 1, 0x80 | 20) + struct.pack("<HHq", 14, 8, -5)
    opts += struct.pack("<HH", 2, 4) + b"eth0" + struct.pack("<HH", 0, 0)
    idb0 = block(1, struct.pack("<HHI", 1, 0, 64) + opts)
    idb1 = block(1, struct.pack("<HHI", 276, 0, 0) + struct.pack("<HHB3x", 9, 1, 9) + b"\0" * 4)
    frame = bytes(range(60))
    epb = block(6, struct.pack("<IIIII", 1, 0, 123456789, 60, 60) + frame)
    spb = block(3, struct.pack("<I", 100) + frame + frame[:4])  # cut to the snaplen, 64
    opb = block(2, struct.pack("<HHIIII", 0, 0, 0, 99, 60, 1514) + frame)
    dsb = block(10, struct.pack("<II", 0x544C534B, 26) + b"CLIENT_RANDOM 00 11 22 33\n")
    nrb = block(4, struct.pack("<HH", 1, 8) + b"\x0a\0\0\x01ab\0\0" + struct.pack("<HH", 0, 0))
    isb = block(5, struct.pack("<III", 0, 0, 1) + struct.pack("<HH", 0, 0))
    custom = block(0x40000BAD, struct.pack("<I", 32473) + b"custom")
    return shb + dsb + idb0 + idb1 + epb + spb + opb + nrb + isb + custom


def seeds():
    zeek = os.path.join(ROOT, "tests", "e2e", "captures", "zeek-pop3.pcap")
    starttls = os.path.join(ROOT, "tests", "e2e", "captures", "zeek-pop3-starttls.pcap")
    pcap = first(zeek, 4)
    ng = first(zeek, 4, "pcapng")
    yield "pcap-le", 0, open(pcap, "rb").read()
    yield "pcap-nsec", 0, open(first(zeek, 3, "nsecpcap"), "rb").read()
    yield "pcap-null", 0, open(first(starttls, 3), "rb").read()
    yield "pcapng-le", 0, open(ng, "rb").read()
    yield "pcapng-be", 0x08, capforms.big_endian_pcapng(open(ng, "rb").read())
    yield "pcapng-every-block", 0x18, every_block()
    keylog = os.path.join(TMP, "keylog")
    open(keylog, "w").write("CLIENT_RANDOM %064x %096x\n" % (1, 2))
    dsb = os.path.join(TMP, "dsb.pcapng")
    run("editcap", "--inject-secrets", f"tls,{keylog}", pcap, dsb)
    yield "pcapng-secrets", 0, open(dsb, "rb").read()
    parts = []
    for lt in ("eth", "sll2", "vlan"):
        gen = os.path.join(TMP, f"gen-{lt}.pcap")
        run(os.path.join(ROOT, "build", "popgen"), "-o", gen, "-n", "1", "--short",
            "--linktype", lt, "-s", str(len(parts) + 1))
        parts.append(first(gen, 3, "pcap", lt))
    mixed = os.path.join(TMP, "mixed.pcapng")
    run("mergecap", "-F", "pcapng", "-w", mixed, *parts)
    yield "pcapng-mixed", 0, open(mixed, "rb").read()
    for codec, flag, tool in (("gzip", 1, ["gzip", "-c"]), ("zstd", 2, ["zstd", "-q", "-c"]),
                              ("lz4", 3, ["lz4", "-q", "-c"]), ("xz", 4, ["xz", "-c"])):
        z = os.path.join(TMP, "ng." + codec)
        with open(z, "wb") as f:
            run(*tool, ng, stdout=f)
        yield f"pcapng-{codec}", 0x20, open(z, "rb").read()
        yield f"pcapng-then-{codec}", flag, open(ng, "rb").read()


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.unlink(os.path.join(OUT, name))
    total = 0
    for name, flags, data in seeds():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(bytes([flags]) + data)
        total += 1 + len(data)
    print(f"make-capfile-corpus: {len(os.listdir(OUT))} seeds, {total} bytes in {OUT}")
    shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
