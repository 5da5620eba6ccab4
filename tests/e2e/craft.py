#!/usr/bin/env python3
"""Writes small crafted captures for protocol cases no packaged peer can produce
(KPOP, XTND XMIT, SCRAM, NTLM against dovecot 2.3, POP3 on odd ports): a TCP
conversation with handshake, in-order segments and FIN, as Ethernet/IPv4 pcap.
Every capture made with it is CRAFTED, not real traffic, and named so.
"""
import base64
import socket
import struct

MSS = 1400


def _csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + tcp


class Capture:
    """Collects frames; write() saves them as a pcap (DLT_EN10MB)."""

    def __init__(self):
        self.frames = []
        self.t = 1700000000.0

    def _add(self, frame):
        self.t += 0.001
        self.frames.append((self.t, frame))

    def session(self, steps, client=("10.1.0.1", 40001), server=("10.2.0.1", 110), close=True):
        """steps: [('c'|'s', bytes)], in the order they crossed the wire. close: True ends
        with FIN from both sides, "rst" with a RST from the server, False leaves it open."""
        (ci, cp), (si, sp) = client, server
        cseq, sseq = 1000, 5000
        self._add(_frame(ci, si, cp, sp, cseq, 0, 0x02))
        self._add(_frame(si, ci, sp, cp, sseq, cseq + 1, 0x12))
        cseq += 1
        sseq += 1
        self._add(_frame(ci, si, cp, sp, cseq, sseq, 0x10))
        for who, data in steps:
            for off in range(0, len(data), MSS):
                chunk = data[off:off + MSS]
                if who == "c":
                    self._add(_frame(ci, si, cp, sp, cseq, sseq, 0x18, chunk))
                    cseq += len(chunk)
                    self._add(_frame(si, ci, sp, cp, sseq, cseq, 0x10))
                else:
                    self._add(_frame(si, ci, sp, cp, sseq, cseq, 0x18, chunk))
                    sseq += len(chunk)
                    self._add(_frame(ci, si, cp, sp, cseq, sseq, 0x10))
        if close == "rst":
            self._add(_frame(si, ci, sp, cp, sseq, cseq, 0x04))
        elif close:
            self._add(_frame(ci, si, cp, sp, cseq, sseq, 0x11))
            self._add(_frame(si, ci, sp, cp, sseq, cseq + 1, 0x11))
            self._add(_frame(ci, si, cp, sp, cseq + 1, sseq + 1, 0x10))
        return self

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
            for t, frame in self.frames:
                sec = int(t)
                f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(frame), len(frame)))
                f.write(frame)
        return path


# --- NTLM over AUTH NTLM (RFC 5034 SASL framing; [MS-NLMP] messages) -----------------

def _ntlm_secbuf(data, offset):
    return struct.pack("<HHI", len(data), len(data), offset)


def ntlm_challenge(chal):
    """An NTLM CHALLENGE_MESSAGE (type 2) carrying the 8-octet server challenge."""
    return b"NTLMSSP\0" + struct.pack("<I", 2) + _ntlm_secbuf(b"", 48) + \
        struct.pack("<I", 0x00088201) + chal + b"\0" * 16


def ntlm_authenticate(lm, nt, domain, user, workstation):
    """An NTLM AUTHENTICATE_MESSAGE (type 3); names are UTF-16LE bytes."""
    off, payload, hdr = 72, b"", b""
    for f in (lm, nt, domain, user, workstation):
        hdr += _ntlm_secbuf(f, off + len(payload))
        payload += f
    return b"NTLMSSP\0" + struct.pack("<I", 3) + hdr + _ntlm_secbuf(b"", off + len(payload)) + \
        struct.pack("<I", 0x00088201) + b"\0" * 8 + payload


def ntlm_login_steps(type2, type3, final):
    """The steps of an AUTH NTLM exchange (for Capture.session), ending with the server's `final`."""
    def b64(b):
        return base64.b64encode(b)
    return [("s", b"+OK ready\r\n"), ("c", b"AUTH NTLM\r\n"), ("s", b"+ \r\n"),
            ("c", b64(b"NTLMSSP\0\x01\0\0\0\x07\x82\x08\0") + b"\r\n"),
            ("s", b"+ " + b64(type2) + b"\r\n"), ("c", b64(type3) + b"\r\n"), ("s", final)]
