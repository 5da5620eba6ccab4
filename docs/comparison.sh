#!/usr/bin/env bash
# docs/comparison.sh - the runs behind README.md's "How it compares" table: the
# tools Debian packages (dsniff, tshark) on the project's captures, each
# question answered by one command whose output is printed. Zeek, Suricata and
# NetworkMiner are not packaged for Debian 12: their cells cite their own
# documentation (README.md says where). Usage: docs/comparison.sh [POPSIFT]
# Needs: dsniff, tshark, python3 (apt-get install dsniff tshark).
set -uo pipefail
cd "$(dirname "$0")/.."
POPSIFT=${1:-build/popsift}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

say() { printf '\n== %s\n' "$*"; }
dsniff_creds() { dsniff -n -p "$1" 2>/dev/null | grep -E '^(username|-----|[0-9/]+ [0-9:]+ tcp)' ; }

echo "versions:"
dpkg-query -W -f '  ${Package} ${Version}\n' dsniff tshark 2>/dev/null
"$POPSIFT" --version | sed 's/^/  /'

# A mid-stream copy of a USER/PASS session: the capture starts after the handshake (CRAFTED).
python3 - "$TMP/midstream.pcap" <<'PY'
import sys
sys.path.insert(0, "tests/e2e")
from craft import Capture
steps = [("s", b"+OK ready\r\n"), ("c", b"USER ann\r\n"), ("s", b"+OK\r\n"), ("c", b"PASS secret\r\n"),
         ("s", b"+OK in\r\n"), ("c", b"QUIT\r\n"), ("s", b"+OK\r\n")]
cap = Capture().session(steps)
cap.frames = cap.frames[3:]  # no SYN, SYN-ACK, ACK
cap.write(sys.argv[1])
PY

say "dsniff: logins it reports (USER/PASS, APOP; session e of dovecot-pop3 sends USER and PASS in one segment)"
dsniff_creds samples/dovecot-pop3.pcap
say "dsniff: SASL (dovecot-sasl: PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5)"
dsniff_creds samples/dovecot-sasl.pcap
say "dsniff: POP2 (HELO user password on port 109)"
dsniff_creds samples/pop2/pop2.pcap
say "dsniff: a session the capture caught after its handshake"
dsniff_creds "$TMP/midstream.pcap"

say "tshark: dissectors named POP (POP2 and KPOP have none)"
tshark -G protocols 2>/dev/null | grep -iw -E 'pop|pop2|kpop' || true
say "tshark: credentials it reports (-z credentials)"
tshark -r samples/dovecot-pop3.pcap -q -z credentials 2>/dev/null
tshark -r samples/dovecot-sasl.pcap -q -z credentials 2>/dev/null
say "tshark: SASL lines as it dissects them (base64, not decoded)"
tshark -r samples/dovecot-sasl.pcap -Y pop.request -T fields -e pop.request.command -e pop.request.parameter 2>/dev/null | head -12
say "tshark: the pipelined segment of session e (USER bob, PASS builder, STAT, LIST, RETR 1, QUIT)"
tshark -r samples/dovecot-pop3.pcap -Y 'pop.request and tcp.srcport == 60702' -T fields -e frame.number -e pop.request.command 2>/dev/null
say "tshark: POP2 on port 109, first lines"
tshark -r samples/pop2/pop2.pcap -T fields -e _ws.col.Protocol -e _ws.col.Info 2>/dev/null | sed -n 4,6p
say "tshark: messages exported from POP (--export-objects imf), files written"
mkdir -p "$TMP/imf"
tshark -r samples/dovecot-pop3.pcap -o pop.desegment_data:TRUE --export-objects "imf,$TMP/imf" -q 2>/dev/null
ls "$TMP/imf" | wc -l
say "tshark: the mid-stream session (dissected per packet)"
tshark -r "$TMP/midstream.pcap" -Y pop.request -T fields -e pop.request.command -e pop.request.parameter 2>/dev/null

say "popsift: the same questions"
"$POPSIFT" -q -r samples/dovecot-pop3.pcap -r samples/dovecot-sasl.pcap -r samples/pop2/pop2.pcap \
  -r "$TMP/midstream.pcap" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event_type"] == "auth":
        a = e["auth"]
        print(e["pcap_file"].split("/")[-1], a["mechanism"], a["username"], a["result"], "hash" if "hash" in a else "")'
