#!/usr/bin/env python3
"""End-to-end tests of popsift's own capture reader (src/capfile.c over
src/capsource.c) against libpcap, through build/capdump (tests/e2e/capdump.c),
which prints every packet (interface, DLT, timestamp, lengths, SHA-256 of the
bytes) as either reader gives it.

For every capture of the project (samples/, tests/e2e/captures/) and a popgen
capture of every --linktype, popsift's reader must give exactly the packets
libpcap gives on the original: on the original itself, on its rewrite by
`editcap -F pcapng` and `-F nsecpcap`, on big-endian rewrites of both formats,
on rewrites cut to a snapshot length,
on the pcapng compressed by the gzip, zstd, lz4 and xz tools and fed through a
FIFO, through standard input and /dev/fd/N; and on a capture cut short, the
packets libpcap keeps. A pcapng merged by mergecap from an Ethernet, a Linux
SLL2 and an 802.1Q capture gives the union of their packets, each with its own
link type, and one of two Ethernet captures of different snapshot lengths the
union too (libpcap refuses both files). A TLS key log injected by editcap comes
back whole through the Decryption Secrets Block callback.

Usage: test_capfile.py POPSIFT [NAME...]; capdump is looked for beside POPSIFT.
"""
import atexit
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
POPGEN = os.path.join(ROOT, "build", "popgen")
sys.path.insert(0, HERE)
from runner import Suite, expect  # noqa: E402
import capforms  # noqa: E402

SUITE = Suite("capfile")
CAPDUMP = None  # beside the popsift under test
TMP = tempfile.mkdtemp(prefix="popsift-capfile-")
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
LINKTYPES = ["eth", "vlan", "qinq", "sll", "sll2", "null", "raw"]
CODECS = {"gzip": ["gzip", "-c"], "zstd": ["zstd", "-q", "-c"], "lz4": ["lz4", "-q", "-c"],
          "xz": ["xz", "-c"]}
_refs = {}
_seq = [0]


def tmp(name):
    _seq[0] += 1
    return os.path.join(TMP, f"{_seq[0]}-{name}")


def dump(reader, path, stdin=None, pass_fds=()):
    """capdump's packet lines, exit status and standard error."""
    p = subprocess.run([CAPDUMP, reader, path], stdin=stdin, capture_output=True, timeout=300,
                       pass_fds=pass_fds)
    return p.stdout.decode().splitlines(), p.returncode, p.stderr.decode()


def captures():
    """Every capture of the project, then a popgen capture of every link type."""
    found = sorted(glob.glob(os.path.join(ROOT, "samples", "**", "*.pcap*"), recursive=True))
    found += sorted(glob.glob(os.path.join(ROOT, "tests", "e2e", "captures", "*.pcap*")))
    expect(len(found) >= 19, f"only {len(found)} captures found")
    return found + [popgen(lt) for lt in LINKTYPES] + [popgen("eth", "--ipv6")]


def popgen(linktype, *extra, seed=1):
    out = os.path.join(TMP, f"popgen-{linktype}{''.join(extra)}-{seed}.pcap")
    if not os.path.exists(out):
        expect(os.path.exists(POPGEN), f"{POPGEN} missing: run make tools")
        subprocess.run([POPGEN, "-o", out, "-s", str(seed), "-n", "3", "--msg-max", "20K",
                        "--linktype", linktype, *extra], check=True, capture_output=True)
    return out


def reference(cap):
    """libpcap's reading of the original: the truth every variant must give."""
    if cap not in _refs:
        lines, rc, err = dump("libpcap", cap)
        expect(rc == 0, f"libpcap on {cap}: {rc} {err}")
        expect(lines, f"libpcap read no packet of {cap}")
        _refs[cap] = lines
    return _refs[cap]


def same(cap, variant, lines, rc, err, want=None):
    """Fails naming the first differing packet."""
    want = reference(cap) if want is None else want
    name = os.path.relpath(cap, ROOT)
    expect(rc == 0, f"{name} ({variant}): exit {rc}: {err.strip()}")
    for i, (a, b) in enumerate(zip(lines, want)):
        expect(a == b, f"{name} ({variant}) packet {i + 1}: {a!r} != libpcap {b!r}")
    expect(len(lines) == len(want), f"{name} ({variant}): {len(lines)} packets, libpcap {len(want)}")


def editcap(cap, fmt):
    out = tmp(os.path.basename(cap) + "." + fmt)
    subprocess.run(["editcap", "-F", fmt, cap, out], check=True, capture_output=True)
    return out


def is_pcapng(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x0a\x0d\x0d\x0a"


def big_endian_pcap(path):
    """A little-endian classic pcap rewritten big-endian (packet bytes untouched)."""
    data = open(path, "rb").read()
    expect(data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"), f"{path} is not little-endian pcap")
    dst = tmp(os.path.basename(path) + ".be.pcap")
    open(dst, "wb").write(capforms.big_endian_pcap(data))
    return dst


def big_endian_pcapng(path):
    """editcap's little-endian pcapng rewritten big-endian: SHB, IDBs and EPBs."""
    dst = tmp(os.path.basename(path) + ".be.pcapng")
    open(dst, "wb").write(capforms.big_endian_pcapng(open(path, "rb").read()))
    return dst


def compress(path, codec):
    dst = tmp(os.path.basename(path) + "." + codec)
    with open(dst, "wb") as f:
        subprocess.run(CODECS[codec] + [path], stdout=f, check=True)
    return dst


def through_fifo(path):
    """capdump reading `path`'s bytes from a FIFO that `cat` writes."""
    fifo = tmp("fifo")
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", 'cat "$1" > "$2"', "sh", path, fifo])
    try:
        return dump("capfile", fifo)
    finally:
        try:
            writer.wait(timeout=30)
        except subprocess.TimeoutExpired:
            writer.kill()
        os.unlink(fifo)


@SUITE.test
def classic_reader_gives_what_libpcap_gives_on_every_capture():
    for cap in captures():
        same(cap, "as is", *dump("capfile", cap))


@SUITE.test
def pcapng_rewrites_give_what_libpcap_gives_on_the_original():
    for cap in captures():
        ng = cap if is_pcapng(cap) else editcap(cap, "pcapng")
        same(cap, "pcapng", *dump("capfile", ng))


@SUITE.test
def captures_cut_by_a_snapshot_length_keep_both_lengths():
    cut_frames = 0
    for cap in captures():
        cut = tmp(os.path.basename(cap) + ".s80.pcap")
        subprocess.run(["editcap", "-F", "pcap", "-s", "80", cap, cut], check=True,
                       capture_output=True)
        want, rc, err = dump("libpcap", cut)
        expect(rc == 0, f"{cut}: {err}")
        cut_frames += sum(l.split()[3] != l.split()[4] for l in want)
        same(cap, "snaplen 80", *dump("capfile", cut), want=want)
        same(cap, "snaplen 80, pcapng", *dump("capfile", editcap(cut, "pcapng")), want=want)
    expect(cut_frames > 1000, f"only {cut_frames} frames cut to 80 bytes")


@SUITE.test
def nanosecond_rewrites_give_the_same_microseconds():
    for cap in captures():
        ns = editcap(cap, "nsecpcap")
        same(cap, "nsecpcap", *dump("capfile", ns))
        same(cap, "nsecpcap by libpcap", *dump("libpcap", ns))


@SUITE.test
def big_endian_rewrites_give_the_same_packets():
    for cap in captures():
        classic = editcap(cap, "pcap") if is_pcapng(cap) else cap
        be = big_endian_pcap(classic)
        same(cap, "big-endian pcap", *dump("capfile", be))
        same(cap, "big-endian pcap by libpcap", *dump("libpcap", be))
        ng = cap if is_pcapng(cap) else editcap(cap, "pcapng")
        same(cap, "big-endian pcapng", *dump("capfile", big_endian_pcapng(ng)))


@SUITE.test
def every_compression_through_a_fifo_gives_the_same_packets():
    for cap in captures():
        ng = cap if is_pcapng(cap) else editcap(cap, "pcapng")
        for codec in CODECS:
            lines, rc, err = through_fifo(compress(ng, codec))
            expect(f"capfile {codec}: end" in err, f"{cap} {codec}: {err}")
            same(cap, f"pcapng.{codec} through a FIFO", lines, rc, err)


@SUITE.test
def standard_input_and_dev_fd_are_read_once():
    for cap in captures()[:6]:
        z = compress(cap, "zstd")
        with open(z, "rb") as f:
            same(cap, "zstd on standard input", *dump("capfile", "-", stdin=f))
        gz = compress(editcap(cap, "pcapng"), "gzip")
        r, w = os.pipe()
        writer = subprocess.Popen(["cat", gz], stdout=w)
        os.close(w)
        try:
            same(cap, "gzip on /dev/fd/N", *dump("capfile", f"/dev/fd/{r}", pass_fds=(r,)))
        finally:
            os.close(r)
            writer.wait(timeout=30)


@SUITE.test
def a_capture_cut_short_keeps_what_libpcap_keeps():
    for cap in captures():
        data = open(cap, "rb").read()
        for frac in (0.37, 0.81):
            cut = tmp(os.path.basename(cap) + ".cut")
            open(cut, "wb").write(data[:int(len(data) * frac)])
            ours, rc, err = dump("capfile", cut)
            theirs, rc2, err2 = dump("libpcap", cut)
            expect(rc == 3 and "truncated" in err, f"{cut}: exit {rc}: {err}")
            expect(rc2 == 3 and "truncated" in err2, f"{cut}: libpcap exit {rc2}: {err2}")
            expect(ours == theirs, f"{cut}: {len(ours)} packets, libpcap {len(theirs)}")
            expect(ours == reference(cap)[:len(ours)], f"{cut}: not a prefix of the capture")
        zcut = tmp(os.path.basename(cap) + ".zst.cut")
        z = open(compress(cap, "zstd"), "rb").read()
        open(zcut, "wb").write(z[:len(z) // 2])
        ours, rc, err = dump("capfile", zcut)
        # exit 2 when not even the file header was decoded (zstd blocks are up to 128 KB)
        expect(rc in (2, 3) and "the zstd stream is cut short" in err, f"{zcut}: exit {rc}: {err}")
        expect(ours == reference(cap)[:len(ours)], f"{zcut}: not a prefix of the capture")


def strip_iface(line):
    return line.split(" ", 1)[1]


@SUITE.test
def mixed_link_types_give_the_union_each_with_its_link_type():
    parts = {"eth": popgen("eth", seed=11), "sll2": popgen("sll2", seed=12),
             "vlan": popgen("vlan", seed=13)}
    mixed = tmp("mixed.pcapng")
    subprocess.run(["mergecap", "-F", "pcapng", "-w", mixed, *parts.values()], check=True,
                   capture_output=True)
    lines, rc, err = dump("capfile", mixed)
    expect(rc == 0, f"exit {rc}: {err}")
    want = sorted(l for p in parts.values() for l in reference(p))
    expect(sorted(strip_iface(l) for l in lines) == sorted(strip_iface(l) for l in want),
           "the merged file's packets are not the union of its parts")
    dlts = {l.split()[1] for l in lines}
    expect(dlts == {"1", "276"}, f"link types {dlts}")
    for part, dlt in (("eth", "1"), ("sll2", "276"), ("vlan", "1")):
        mine = {strip_iface(l) for l in reference(parts[part])}
        expect(all(l.split()[1] == dlt for l in lines if strip_iface(l) in mine),
               f"{part}'s packets not all of DLT {dlt}")
    ifaces = {(l.split()[0], l.split()[1]) for l in lines}
    expect(len({i for i, _ in ifaces}) == len(ifaces), f"an interface with two link types: {ifaces}")
    # libpcap (1.10) gives up at the second interface: no packet at all from this file
    theirs, rc2, err2 = dump("libpcap", mixed)
    expect(rc2 == 3 and not theirs and "different from the type of the first interface" in err2,
           f"libpcap read the mixed file? exit {rc2}, {len(theirs)} packets: {err2}")


@SUITE.test
def interfaces_with_different_snapshot_lengths_are_all_read():
    a = os.path.join(ROOT, "tests", "e2e", "captures", "zeek-pop3.pcap")  # snaplen 65535
    b = os.path.join(ROOT, "samples", "dovecot-pop3.pcap")  # snaplen 262144
    merged = tmp("snaplens.pcapng")
    subprocess.run(["mergecap", "-F", "pcapng", "-w", merged, a, b], check=True,
                   capture_output=True)
    lines, rc, err = dump("capfile", merged)
    expect(rc == 0, f"exit {rc}: {err}")
    want = reference(a) + reference(b)
    expect(sorted(strip_iface(l) for l in lines) == sorted(strip_iface(l) for l in want),
           "the merged file's packets are not the union of its parts")
    # libpcap 1.10 refuses a second interface of the same link type but another snaplen
    theirs, rc2, err2 = dump("libpcap", merged)
    expect(rc2 == 3 and not theirs and "different from the snapshot length" in err2,
           f"libpcap read the file? exit {rc2}, {len(theirs)} packets: {err2}")


@SUITE.test
def a_tls_key_log_injected_by_editcap_comes_back_whole():
    keylog = tmp("keylog.txt")
    text = b"".join(b"CLIENT_RANDOM %064x %096x\n" % (i, i * 7) for i in range(5))
    open(keylog, "wb").write(text)
    cap = captures()[0]
    ng = tmp("with-secrets.pcapng")
    subprocess.run(["editcap", "--inject-secrets", f"tls,{keylog}", cap, ng], check=True,
                   capture_output=True)
    for path in (ng, compress(ng, "xz")):
        lines, rc, err = dump("capfile", path)
        secrets = [l for l in lines if l.startswith("secrets ")]
        expect(secrets == [f"secrets 544c534b {len(text)} {hashlib.sha256(text).hexdigest()}"],
               f"{path}: {secrets}")
        same(cap, "with a secrets block", [l for l in lines if l not in secrets], rc, err)


if __name__ == "__main__":
    CAPDUMP = os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), "capdump")
    if not os.path.exists(CAPDUMP):
        print(f"capfile: {CAPDUMP} missing: make tools (or make SAN=1 unit-bins)")
        print("capfile: 0 passed, 1 failed")
        sys.exit(1)
    sys.exit(SUITE.main())
