#!/usr/bin/env python3
"""Writes the mail of samples/mime/ deterministically (same bytes on every run).

Usage: make-messages.py OUTDIR
Writes OUTDIR/mime-<n>.lf (as dovecot stores it: LF line ends), OUTDIR/mime-<n>.eml (as a
POP3 client receives it: CRLF) and OUTDIR/attachments/<name> (each attachment's decoded
octets, the ground truth for the attachment digests). What each message tests:
samples/mime/README.md.
"""
import base64
import os
import random
import struct
import sys
import zlib

out = sys.argv[1]
os.makedirs(os.path.join(out, "attachments"), exist_ok=True)


def png(width, height):
    """A small deterministic RGB gradient PNG (real PNG: opens in any viewer)."""
    raw = b"".join(b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, (x ^ y) & 0xFF))
                                       for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def b64_lines(data):
    text = base64.b64encode(data).decode()
    return "".join(text[i:i + 76] + "\n" for i in range(0, len(text), 76))


def save_attachment(name, data):
    with open(os.path.join(out, "attachments", name), "wb") as f:
        f.write(data)


def save(n, text):
    data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    assert b"\r" not in data, n
    with open(os.path.join(out, f"mime-{n}.lf"), "wb") as f:
        f.write(data)
    with open(os.path.join(out, f"mime-{n}.eml"), "wb") as f:
        f.write(data.replace(b"\n", b"\r\n"))


# 1: multipart/mixed with a text body and three attachments: a base64 PNG, a base64 CSV
# with an RFC 2231 UTF-8 file name, and an attached message (message/rfc822).
chart = png(48, 32)
save_attachment("chart.png", chart)
csv = "Quartal;Umsatz\r\nQ1;1.234\r\nQ2;2.345\r\nÜbertrag;3.579\r\n".encode("utf-8")
save_attachment("uebersicht.csv", csv)  # sent as "Übersicht.csv" (RFC 2231)
forwarded_lf = """From: Carol <carol@popsift.test>
To: Mime Tester <mime@popsift.test>
Subject: The original note
Date: Mon, 13 Nov 2023 09:00:00 +0000
Message-ID: <mime-1-inner@popsift.test>

This message travels as an attachment.
"""
save_attachment("forwarded.eml", forwarded_lf.replace("\n", "\r\n").encode())
save(1, f"""Return-Path: <joerg@popsift.test>
From: =?UTF-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@popsift.test>
To: Mime Tester <mime@popsift.test>
Cc: Audit <audit@popsift.test>, =?ISO-8859-1?Q?Ren=E9?= <rene@popsift.test>
Subject: Quarterly figures, with attachments
Date: Tue, 14 Nov 2023 10:00:01 +0000
Message-ID: <mime-1@popsift.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_popsift_mixed_1"

This is a multi-part message in MIME format.

--=_popsift_mixed_1
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Please find the chart, the overview and the original note attached.

--=_popsift_mixed_1
Content-Type: image/png; name="chart.png"
Content-Disposition: attachment; filename="chart.png"
Content-Transfer-Encoding: base64

{b64_lines(chart)}
--=_popsift_mixed_1
Content-Type: text/csv; charset=utf-8
Content-Disposition: attachment; filename*=utf-8''%C3%9Cbersicht.csv
Content-Transfer-Encoding: base64

{b64_lines(csv)}
--=_popsift_mixed_1
Content-Type: message/rfc822
Content-Disposition: attachment; filename="forwarded.eml"

{forwarded_lf}
--=_popsift_mixed_1--
""")

# 2: RFC 2047 encoded words: a UTF-8 subject in B and Q form across a fold, an encoded display
# name in From (UTF-8, base64) and in To (ISO-8859-1, Q).
save(2, """Return-Path: <aelfridur@popsift.test>
From: =?UTF-8?B?w4ZsZnLDrcOwdXIgw5NsYWZzZMOzdHRpcg==?= <aelfridur@popsift.test>
To: =?ISO-8859-1?Q?Andr=E9_Gr=FCn?= <andre@popsift.test>, Mime Tester <mime@popsift.test>
Subject: =?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN?=
 =?UTF-8?Q?_und_Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=
Date: Tue, 14 Nov 2023 10:00:02 +0000
Message-ID: <mime-2@popsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Only the headers of this message are encoded.
""")

# 3: many lines that start with ".", which dovecot dot-stuffs on the wire, and "From " lines
# that an mbox must quote (mboxrd: one more '>' for every /^>*From /).
lines = []
for i in range(1, 201):
    lines.append([f".line {i:03d} starts with a dot", "..two dots", ".", ". dot space",
                  f"plain line {i:03d}"][i % 5])
lines[10] = "From the archive: this line must be quoted in an mbox"
lines[11] = ">From an already quoted line"
lines[12] = ">>From twice quoted"
lines[13] = "From"
lines[14] = "Fro"
save(3, """Return-Path: <dots@popsift.test>
From: Dot Stuffer <dots@popsift.test>
To: Mime Tester <mime@popsift.test>
Subject: Two hundred dotted lines
Date: Tue, 14 Nov 2023 10:00:03 +0000
Message-ID: <mime-3@popsift.test>

""" + "\n".join(lines) + "\n.\n")

# 4: an 8-bit body (UTF-8 and a raw ISO-8859-1 byte, no transfer encoding) and 8-bit headers
# (a raw UTF-8 subject, a raw ISO-8859-1 display name).
save(4, b"""Return-Path: <rene@popsift.test>
From: Ren\xe9 Lef\xe8vre <rene@popsift.test>
To: Mime Tester <mime@popsift.test>
Subject: \xc3\x9cberweisung best\xc3\xa4tigt
Date: Tue, 14 Nov 2023 10:00:04 +0000
Message-ID: <mime-4@popsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln, \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e, \xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac.
A stray ISO-8859-1 byte: caf\xe9.
""")

# 5: an empty body: the header section and its empty line, nothing after it.
save(5, """Return-Path: <empty@popsift.test>
From: Empty <empty@popsift.test>
To: Mime Tester <mime@popsift.test>
Subject: (no body)
Date: Tue, 14 Nov 2023 10:00:05 +0000
Message-ID: <mime-5@popsift.test>

""")

# 6: several MB: 40000 lines of seeded pseudo-text (about 2.6 MB), some led by dots.
rng = random.Random(20231114)
words = ("popsift passive capture analyzer message octet stream segment mailbox retrieve "
         "forensic digest header body attachment loopback dovecot client server").split()
body = []
for i in range(40000):
    line = " ".join(rng.choice(words) for _ in range(9))
    body.append(("." if i % 997 == 0 else "") + f"{i:05d} {line}")
save(6, """Return-Path: <bulk@popsift.test>
From: Bulk Sender <bulk@popsift.test>
To: Mime Tester <mime@popsift.test>
Subject: A message of several megabytes
Date: Tue, 14 Nov 2023 10:00:06 +0000
Message-ID: <mime-6@popsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

""" + "\n".join(body) + "\n")
