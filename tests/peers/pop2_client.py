#!/usr/bin/env python3
"""pop2_client.py - TEST PEER: a scripted RFC 937 (POP2) client for popsift's captures.

*** TEST PEER ONLY - NOT FOR PRODUCTION. *** (cleartext password on the command line)

Connects, reads the greeting, sends HELO, then performs the given actions in order, one
command at a time (POP2 has no pipelining):

  fold:NAME   FOLD NAME         expects #nnn
  read        READ              expects =ccc
  read:N      READ N            expects =ccc
  retr        RETR              reads exactly ccc octets (the last =ccc seen)
  acks        ACKS              expects =ccc
  ackd        ACKD              expects =ccc
  nack        NACK              expects =ccc
  quit        QUIT              expects +

User, password and folder names are quoted per RFC 937 ("\\" -> "\\\\", " " -> "\\ ").
The client tracks the folder and current message number the same way the server must
(1 after HELO/FOLD, READ n sets it, ACKS/ACKD advance, NACK does not) so that saved
messages are labelled like the server's retrieval log.

With --out, each retrieved message is written to OUTDIR/NN-FOLDER-MSG.eml (NN: retrieval
ordinal in this session, so a NACKed message fetched twice gives two files; a cut one
holds the partial data).  Either way one TSV line per RETR goes to stdout:
  folder msg size received sha256 status        (status: complete | truncated)

Exit status: 0 all actions done; 3 the server answered "-"; 4 the server closed the
connection early (including in the middle of message data); 1 anything else unexpected;
2 usage error (argparse).
"""

import argparse
import hashlib
import os
import socket
import sys


class ServerError(Exception):
    """The server replied '-' (RFC 937: an error, and it closes)."""


class ServerClosed(Exception):
    """The connection ended before the expected reply or data."""


class Protocol(Exception):
    """A reply that does not fit RFC 937."""


def quote(arg):
    """RFC 937 argument quoting: backslash first, so the added ones are not doubled."""
    return arg.replace("\\", "\\\\").replace(" ", "\\ ")


class Client:
    def __init__(self, args):
        self.args = args
        self.sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
        self.rfile = self.sock.makefile("rb")
        self.folder = "INBOX"
        self.cur = 1
        self.size = None        # last =ccc announced; RETR reads this many octets
        self.retrieved = 0

    def trace(self, text):
        if self.args.verbose:
            print(text, file=sys.stderr, flush=True)

    def send(self, line, shown=None):
        self.trace(f"C: {shown or line}")
        self.sock.sendall(line.encode("latin-1") + b"\r\n")

    def reply(self, want):
        """Read one reply line and check its first character against `want`."""
        raw = self.rfile.readline(513)
        if not raw:
            raise ServerClosed("connection closed while waiting for a reply")
        line = raw.rstrip(b"\r\n").decode("latin-1")
        self.trace(f"S: {line}")
        if line.startswith("-"):
            raise ServerError(line)
        if not line.startswith(want):
            raise Protocol(f"expected {want!r} reply, got {line!r}")
        return line

    def number(self, line):
        try:
            return int(line[1:].strip())
        except ValueError:
            raise Protocol(f"bad number in reply {line!r}")

    def counted(self, line):
        self.size = self.number(line)
        return self.size

    # --- actions ---------------------------------------------------------------------
    def helo(self):
        self.reply("+")
        self.send(f"HELO {quote(self.args.user)} {quote(self.args.password)}")
        self.number(self.reply("#"))
        self.folder, self.cur = "INBOX", 1

    def fold(self, name):
        self.send(f"FOLD {quote(name)}")
        self.number(self.reply("#"))
        self.folder, self.cur = name, 1

    def read(self, n=None):
        self.send("READ" if n is None else f"READ {n}")
        if n is not None:
            self.cur = n
        self.counted(self.reply("="))

    def ack(self, verb):
        self.send(verb)
        if verb != "NACK":
            self.cur += 1
        self.counted(self.reply("="))

    def retr(self):
        if self.size is None:
            raise Protocol("RETR before any =ccc reply")
        self.send("RETR")
        if self.size == 0:
            # No current message, so no data follows: RFC 937 servers answer "-" and
            # close.  reply() raises ServerError on "-", ServerClosed on EOF and
            # Protocol on anything else, so this never returns.
            self.reply("-")
        # Exactly ccc octets follow, with no terminator; read() returns short on EOF.
        data = self.rfile.read(self.size)
        status = "complete" if len(data) == self.size else "truncated"
        self.retrieved += 1
        if self.args.out:
            name = f"{self.retrieved:02d}-{self.folder}-{self.cur}.eml"
            os.makedirs(self.args.out, exist_ok=True)
            with open(os.path.join(self.args.out, name), "wb") as f:
                f.write(data)
        print("\t".join([self.folder, str(self.cur), str(self.size), str(len(data)),
                         hashlib.sha256(data).hexdigest(), status]), flush=True)
        if status == "truncated":
            raise ServerClosed(f"connection closed after {len(data)} of {self.size} octets")

    def quit(self):
        self.send("QUIT")
        self.reply("+")

    def run(self, actions):
        self.helo()
        for action in actions:
            verb, _, arg = action.partition(":")
            verb = verb.lower()
            if verb == "fold":
                self.fold(arg)
            elif verb == "read":
                self.read(int(arg) if arg else None)
            elif verb == "retr":
                self.retr()
            elif verb in ("acks", "ackd", "nack"):
                self.ack(verb.upper())
            elif verb == "quit":
                self.quit()
            else:
                raise Protocol(f"unknown action {action!r}")


def main():
    ap = argparse.ArgumentParser(description="TEST PEER: scripted RFC 937 POP2 client")
    ap.add_argument("host")
    ap.add_argument("user")
    ap.add_argument("password", help="plain password; quoted per RFC 937 when sent")
    ap.add_argument("actions", nargs="*",
                    help="fold:NAME read read:N retr acks ackd nack quit")
    ap.add_argument("-p", "--port", type=int, default=109)
    ap.add_argument("-o", "--out", help="directory for retrieved messages (default: don't save)")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("-v", "--verbose", action="store_true", help="trace the dialogue on stderr")
    # intermixed: options may follow the action list
    args = ap.parse_intermixed_args()

    try:
        client = Client(args)
    except OSError as e:
        print(f"pop2_client: connect: {e}", file=sys.stderr)
        return 1
    with client.sock:
        try:
            client.run(args.actions)
        except ServerError as e:
            print(f"pop2_client: server error: {e}", file=sys.stderr)
            return 3
        except ServerClosed as e:
            print(f"pop2_client: {e}", file=sys.stderr)
            return 4
        except (Protocol, ValueError, OSError) as e:
            print(f"pop2_client: {e}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
