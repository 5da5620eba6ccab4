"""Rewrites of capture files into the forms popsift must read as well as the common
one: classic pcap and pcapng in big-endian byte order. Used by the capture-reader
suite (tests/e2e/test_capfile.py) and the capture-reader fuzz corpus
(tests/fuzz/make-capfile-corpus.py).
"""
import struct


def big_endian_pcap(data):
    """A little-endian classic pcap's bytes, rewritten big-endian (packet bytes untouched)."""
    out = bytearray(struct.pack(">IHHiIII", *struct.unpack_from("<IHHiIII", data, 0)))
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, length = struct.unpack_from("<IIII", data, off)
        out += struct.pack(">IIII", sec, frac, caplen, length) + data[off + 16:off + 16 + caplen]
        off += 16 + caplen
    return bytes(out)


def _be_idb_options(opts):
    """The IDB options the reader uses (if_name, if_tsresol, if_tsoffset), big-endian."""
    out, off = bytearray(), 0
    while off + 4 <= len(opts):
        code, n = struct.unpack_from("<HH", opts, off)
        val = opts[off + 4:off + 4 + n]
        off += 4 + (n + 3) // 4 * 4
        if code == 0:
            break
        if code == 14:
            val = struct.pack(">q", struct.unpack("<q", val)[0])
        if code in (2, 9, 14):
            out += struct.pack(">HH", code, n) + val + b"\0" * ((4 - n % 4) % 4)
    return bytes(out + struct.pack(">HH", 0, 0))


def big_endian_pcapng(data):
    """A little-endian pcapng's bytes (editcap's) rewritten big-endian: SHB, IDBs, EPBs."""
    out, off = bytearray(), 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        body = data[off + 8:off + blen - 4]
        off += blen
        if btype == 0x0A0D0D0A:
            nb = struct.pack(">IHHq", 0x1A2B3C4D, 1, 0, -1)
        elif btype == 1:
            lt, _, snap = struct.unpack_from("<HHI", body)
            nb = struct.pack(">HHI", lt, 0, snap) + _be_idb_options(body[8:])
        elif btype == 6:
            fields = struct.unpack_from("<IIIII", body)
            nb = struct.pack(">IIIII", *fields) + body[20:20 + (fields[3] + 3) // 4 * 4]
        else:
            continue
        out += struct.pack(">II", btype, len(nb) + 12) + nb + struct.pack(">I", len(nb) + 12)
    return bytes(out)
