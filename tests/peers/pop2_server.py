#!/usr/bin/env python3
"""pop2_server.py - TEST PEER: a small RFC 937 (POP2) server for popsift's captures.

*** TEST PEER ONLY - NOT FOR PRODUCTION. ***
Cleartext passwords from a JSON file, no locking between processes, deletions kept in
memory only, no resource limits beyond a per-connection idle timeout.  It exists because
Debian packages no POP2 server and popsift needs real POP2 traffic on the wire.

It follows the server state table of RFC 937 strictly (see docs/protocol.md §6):

  LSTN  -> "+ POP2 <host> test server ready"                        -> AUTH
  AUTH  HELO user password -> "#nnn" (messages in INBOX)              -> MBOX
                              "-" and close on bad credentials
        QUIT               -> "+" and close
  MBOX  FOLD name          -> "#nnn", current message = 1             -> MBOX
        READ [n]           -> "=ccc" (0: no such message)             -> ITEM
        QUIT               -> "+" and close
  ITEM  READ [n], FOLD     as in MBOX
        RETR               -> exactly ccc octets of message data      -> NEXT
        QUIT               -> "+" and close
  NEXT  ACKS (keep, advance) / ACKD (delete, advance) / NACK (stay)
                           -> "=ccc" of the new current message       -> ITEM
  anything else            -> "-" and close  (QUIT in NEXT included: the table has no
                              QUIT row for NEXT)

Message data is sent with CRLF line ends, no terminator and no dot-stuffing; ccc counts
every octet sent (CRLF as 2).  In command arguments "\\ " means a space and "\\\\" a
backslash.  Deletions (ACKD) are applied on FOLD and on QUIT, never on an error or an
abrupt close, and persist in memory for later connections of the same server run.

Mailbox spec (see samples/pop2/mail/users.json):
  SPEC.json   {"hostname": optional, "users": {"name": {"password": "...",
                                                         "cut_after": optional int}}}
  <dir of SPEC>/<user>/<folder>/<file>   one message per file, files in name order;
                                         a missing directory is an empty folder.
Message files may use LF or CRLF; the server always sends CRLF, so ccc can differ from
the file size.

Retrieval log (--log): one TSV line per RETR, written from the exact bytes sent:
  session user folder msg size sent sha256 status
where size is the announced ccc, sent the octets actually written, sha256 the digest of
those octets, status "complete" or "truncated" (a cut_after / --cut-after cut).
"""

import argparse
import hashlib
import json
import os
import signal
import socket
import sys
import threading

MAX_CMD_LINE = 512          # RFC 937 "Sizes": command lines incl. CRLF
DEFAULT_CHUNK = 1024        # write size for message data (see send_data)


def unquote(arg):
    """Undo RFC 937 argument quoting: '\\ ' -> ' ', '\\\\' -> '\\'.

    Any other backslash is kept literally; the RFC defines only these two."""
    out, i = [], 0
    while i < len(arg):
        c = arg[i]
        if c == "\\" and i + 1 < len(arg) and arg[i + 1] in " \\":
            out.append(arg[i + 1])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_first(args):
    """Split at the first unquoted space: (first, rest) - rest is None if there is none.

    HELO needs this because the password is 'the rest of the line' and may itself hold
    quoted spaces; a plain str.split() would cut 'open\\ sesame' in two."""
    i = 0
    while i < len(args):
        if args[i] == "\\" and i + 1 < len(args):
            i += 2
            continue
        if args[i] == " ":
            return args[:i], args[i + 1:]
        i += 1
    return args, None


def to_crlf(data):
    """Normalise any mix of LF / CRLF to CRLF and make sure the message ends in CRLF."""
    data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


class Mailstore:
    """All users' folders, loaded once; deletions change the in-memory lists only."""

    def __init__(self, spec_path):
        with open(spec_path, "rb") as f:
            spec = json.load(f)
        base = os.path.dirname(os.path.abspath(spec_path))
        self.hostname = spec.get("hostname")
        self.lock = threading.Lock()
        self.users = {}
        for name, u in spec["users"].items():
            folders = {}
            udir = os.path.join(base, name)
            if os.path.isdir(udir):
                for folder in sorted(os.listdir(udir)):
                    fdir = os.path.join(udir, folder)
                    if folder.startswith(".") or not os.path.isdir(fdir):
                        continue
                    msgs = []
                    for fn in sorted(os.listdir(fdir)):
                        p = os.path.join(fdir, fn)
                        if fn.startswith(".") or not os.path.isfile(p):
                            continue   # e.g. .gitkeep
                        with open(p, "rb") as f:
                            msgs.append(to_crlf(f.read()))
                    folders[folder] = msgs
            folders.setdefault("INBOX", [])
            self.users[name] = {"password": u["password"],
                                "cut_after": u.get("cut_after"),
                                "folders": folders}

    def folder(self, user, name):
        """The message list of a folder (shared, mutable), or an empty list if unknown.

        INBOX is matched case-insensitively, as mail systems of the time did; other
        names exactly.  An unknown folder answers #0 rather than an error: RFC 937
        gives FOLD no error reply, only a count."""
        folders = self.users[user]["folders"]
        if name.upper() == "INBOX":
            name = "INBOX"
        return name, folders.get(name, [])


class Session:
    """One POP2 connection, driven by the RFC 937 server state table."""

    def __init__(self, server, conn, index):
        self.srv = server
        self.conn = conn
        self.index = index
        self.rfile = conn.makefile("rb")
        self.state = "AUTH"
        self.user = None
        self.folder = None
        self.msgs = []          # shared list of the current folder
        self.cur = 1            # current message number (1-based)
        self.deleted = set()    # message numbers ACKD'ed in the current folder

    # --- I/O -------------------------------------------------------------------------
    def trace(self, text):
        if self.srv.args.verbose:
            print(f"[{self.index}] {text}", file=sys.stderr, flush=True)

    def reply(self, line):
        self.trace(f"S: {line}")
        self.conn.sendall(line.encode("latin-1") + b"\r\n")

    def send_data(self, data):
        """Write message data in chunks.

        On loopback (MTU 64K, no segmentation offload step) one sendall() of 10 KB shows
        up as one 10 KB packet; writing in chunks with TCP_NODELAY gives the capture
        several segments, as a real network would."""
        chunk = self.srv.args.chunk
        for off in range(0, len(data), chunk):
            self.conn.sendall(data[off:off + chunk])

    # --- helpers ---------------------------------------------------------------------
    def size(self, n):
        return len(self.msgs[n - 1]) if 1 <= n <= len(self.msgs) else 0

    def open_folder(self, name):
        self.folder, self.msgs = self.srv.store.folder(self.user, name)
        self.cur = 1
        self.deleted = set()

    def flush_deletions(self):
        """Apply ACKD deletions to the folder (RFC 937: at FOLD or at session end)."""
        if not self.deleted:
            return
        with self.srv.store.lock:
            for n in sorted(self.deleted, reverse=True):
                del self.msgs[n - 1]
        self.trace(f"deleted {sorted(self.deleted)} from {self.user}/{self.folder}")
        self.deleted = set()

    def log_retrieval(self, sent_bytes, status):
        line = "\t".join([str(self.index), self.user, self.folder, str(self.cur),
                          str(self.size(self.cur)), str(len(sent_bytes)),
                          hashlib.sha256(sent_bytes).hexdigest(), status])
        self.srv.log(line)

    # --- state machine ---------------------------------------------------------------
    def run(self):
        host = self.srv.args.hostname or self.srv.store.hostname or socket.gethostname()
        self.reply(f"+ POP2 {host} test server ready")
        while True:
            raw = self.rfile.readline(MAX_CMD_LINE + 1)
            if not raw:
                self.trace("client closed")
                return                  # no QUIT: pending deletions are dropped
            if len(raw) > MAX_CMD_LINE or not raw.endswith(b"\n"):
                self.trace("over-long command line")
                return self.fail()
            line = raw.rstrip(b"\r\n").decode("latin-1")
            self.trace(f"C: {line}")
            verb, _, args = line.partition(" ")
            handler = getattr(self, f"do_{self.state}_{verb.upper()}", None)
            if handler is None or handler(args) is False:
                return self.fail()
            if self.state == "DONE":
                return

    def fail(self):
        """'-' and close: the RFC's answer to anything not in the table."""
        self.reply("-")

    def quit(self):
        self.flush_deletions()
        self.reply("+")
        self.state = "DONE"

    # AUTH
    def do_AUTH_HELO(self, args):
        user_q, pass_q = split_first(args)
        if pass_q is None:
            return False
        user, password = unquote(user_q), unquote(pass_q)
        u = self.srv.store.users.get(user)
        if u is None or u["password"] != password:
            self.trace(f"bad credentials for {user!r}")
            return False
        self.user = user
        self.open_folder("INBOX")
        self.reply(f"#{len(self.msgs)}")
        self.state = "MBOX"

    def do_AUTH_QUIT(self, args):
        self.quit()

    # MBOX
    def do_MBOX_FOLD(self, args):
        if not args:
            return False
        self.flush_deletions()
        self.open_folder(unquote(args))
        self.reply(f"#{len(self.msgs)}")
        self.state = "MBOX"

    def do_MBOX_READ(self, args):
        if args:
            if not args.isdigit():
                return False
            self.cur = int(args)
        self.reply(f"={self.size(self.cur)}")
        self.state = "ITEM"

    def do_MBOX_QUIT(self, args):
        self.quit()

    # ITEM
    do_ITEM_FOLD = do_MBOX_FOLD
    do_ITEM_READ = do_MBOX_READ
    do_ITEM_QUIT = do_MBOX_QUIT

    def do_ITEM_RETR(self, args):
        size = self.size(self.cur)
        if size == 0:
            return False        # RETR with no current message: '-' and close
        data = self.msgs[self.cur - 1]
        cut = self.srv.args.cut_after
        if self.srv.store.users[self.user]["cut_after"] is not None:
            cut = self.srv.store.users[self.user]["cut_after"]
        if cut is not None and cut < size:
            # Abrupt close in the middle of the data: send the first `cut` octets, log
            # exactly those, then close without any further reply.
            part = data[:cut]
            self.trace(f"S: <{cut} of {size} octets, then cut>")
            self.send_data(part)
            self.log_retrieval(part, "truncated")
            self.state = "DONE"
            return
        self.trace(f"S: <{size} octets>")
        self.send_data(data)
        self.log_retrieval(data, "complete")
        self.state = "NEXT"

    # NEXT
    def _ack(self, delete, advance):
        if delete:
            self.deleted.add(self.cur)
        if advance:
            self.cur += 1
        self.reply(f"={self.size(self.cur)}")
        self.state = "ITEM"

    def do_NEXT_ACKS(self, args):
        self._ack(delete=False, advance=True)

    def do_NEXT_ACKD(self, args):
        self._ack(delete=True, advance=True)

    def do_NEXT_NACK(self, args):
        self._ack(delete=False, advance=False)


class Server:
    def __init__(self, args):
        self.args = args
        self.store = Mailstore(args.spec)
        self.log_lock = threading.Lock()
        self.logf = open(args.log, "a", encoding="utf-8") if args.log else None

    def log(self, line):
        with self.log_lock:
            if self.logf:
                self.logf.write(line + "\n")
                self.logf.flush()   # the capture script reads it right after we exit
            self.trace_always(f"RETR-LOG {line}")

    def trace_always(self, text):
        if self.args.verbose:
            print(text, file=sys.stderr, flush=True)

    def handle(self, conn, index):
        with conn:
            conn.settimeout(self.args.timeout)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                Session(self, conn, index).run()
            except (OSError, socket.timeout) as e:
                print(f"[{index}] connection error: {e}", file=sys.stderr, flush=True)
            # A normal close() sends FIN; for a cut this is the "abrupt" end of the data.

    def serve(self):
        host, _, port = self.args.listen.rpartition(":")
        ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((host.strip("[]"), int(port)))
        ls.listen(16)
        if self.args.ready_file:
            # Lets the capture script wait for us without probing the port (a probe
            # would be an extra connection in the capture).
            with open(self.args.ready_file, "w") as f:
                f.write(f"{os.getpid()}\n")
        threads = []
        index = 0
        with ls:
            while self.args.max_conn == 0 or index < self.args.max_conn:
                conn, _peer = ls.accept()
                index += 1
                if self.args.threaded:
                    # daemon: SIGTERM must not wait for idle sessions to time out
                    t = threading.Thread(target=self.handle, args=(conn, index),
                                         daemon=True)
                    t.start()
                    threads.append(t)
                else:
                    self.handle(conn, index)
        for t in threads:
            t.join()


def main():
    ap = argparse.ArgumentParser(description="TEST PEER: minimal RFC 937 POP2 server "
                                 "(not for production)")
    ap.add_argument("spec", help="mailbox spec JSON (users; folders are <dir>/<user>/<folder>/)")
    ap.add_argument("--listen", default="127.0.0.1:109", help="host:port (default %(default)s)")
    ap.add_argument("--hostname", help="host name in the greeting (default: spec, then gethostname)")
    ap.add_argument("--max-conn", type=int, default=0,
                    help="exit after this many connections (0: run until SIGTERM)")
    ap.add_argument("--threaded", action="store_true", help="one thread per connection")
    ap.add_argument("--cut-after", type=int, metavar="BYTES",
                    help="close the connection after BYTES octets of any message "
                         "(a user's cut_after in the spec takes precedence)")
    ap.add_argument("--chunk", type=int, default=DEFAULT_CHUNK,
                    help="write size for message data (default %(default)s)")
    ap.add_argument("--timeout", type=float, default=30.0, help="idle timeout per connection")
    ap.add_argument("--log", help="append one TSV line per RETR to this file")
    ap.add_argument("--ready-file", help="write our PID here once listening")
    ap.add_argument("-v", "--verbose", action="store_true", help="trace the dialogue on stderr")
    args = ap.parse_args()

    # SIGTERM -> normal exit (closes the listening socket, flushes the log).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Server(args).serve()


if __name__ == "__main__":
    main()
