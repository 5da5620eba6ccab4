#!/usr/bin/env bash
# make-pop2-samples.sh - regenerate samples/pop2/pop2.pcap and samples/pop2/expected.tsv.
#
# Captures eight POP2 (RFC 937) sessions between the project's test peers
# (tests/peers/pop2_server.py and pop2_client.py) on loopback port 109. Debian has no
# POP2 software, so both ends are ours. Needs root (port 109, tcpdump), python3, tcpdump.
#
# expected.tsv is built from the SERVER's retrieval log (the bytes it really sent), and
# every client's saved message is checked against it. The pcap and expected.tsv are only
# replaced when everything succeeded, including "0 packets dropped by kernel".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
peers=$root/tests/peers
mail=$here/mail
port=109

work=$(mktemp -d)
tcpdump_pid=
server_pid=

# Stop whatever is still running and drop the scratch dir - on success and on failure.
cleanup() {
    local rc=$?
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [[ -n $tcpdump_pid ]] && kill -0 "$tcpdump_pid" 2>/dev/null; then
        kill -INT "$tcpdump_pid" 2>/dev/null || true
        wait "$tcpdump_pid" 2>/dev/null || true
    fi
    if (( rc != 0 )); then
        echo "make-pop2-samples: FAILED (rc=$rc); last log lines:" >&2
        tail -n 20 "$work"/*.err >&2 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

die() { echo "make-pop2-samples: $*" >&2; exit 1; }

# Wait up to ~10 s for a condition (a command) to become true.
wait_for() {
    local i
    for (( i = 0; i < 100; i++ )); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (port $port, tcpdump)"
command -v tcpdump >/dev/null || die "tcpdump not installed"
# A stray listener would answer instead of our server (or bind would fail mid-run).
[[ -z $(ss -Htln "sport = :$port") ]] || die "something already listens on port $port"

# --- capture -------------------------------------------------------------------------
# -B 64 MiB and immediate mode: without them tcpdump drops packets during the large
# messages or loses the last session when it is stopped (tests/dovecot/README.md, tcpdump).
tcpdump -i lo -s 0 -B 65536 --immediate-mode -U -w "$work/pop2.pcap" "tcp port $port" \
    2>"$work/tcpdump.err" &
tcpdump_pid=$!
wait_for grep -qs 'listening on' "$work/tcpdump.err" || die "tcpdump did not start"

# --- server --------------------------------------------------------------------------
# Sequential service, so the server's connection index is the session's order in the
# capture. --max-conn makes it exit by itself after the last session.
nsessions=8
python3 "$peers/pop2_server.py" "$mail/users.json" --listen "127.0.0.1:$port" \
    --hostname popsift.test --max-conn "$nsessions" --log "$work/server.tsv" \
    --ready-file "$work/server.ready" --verbose 2>"$work/server.err" &
server_pid=$!
wait_for test -s "$work/server.ready" || die "server did not start"

# --- sessions ------------------------------------------------------------------------
# session INDEX EXPECTED_RC USER PASSWORD ACTION...
# Client exit codes: 0 ok, 3 server said "-", 4 server closed early (see pop2_client.py).
: >"$work/client.tsv"
session() {
    local idx=$1 want=$2 user=$3 pass=$4 rc=0
    shift 4
    python3 "$peers/pop2_client.py" -p "$port" -o "$work/client-$idx" 127.0.0.1 \
        "$user" "$pass" "$@" >"$work/client-$idx.out" 2>"$work/client-$idx.err" || rc=$?
    (( rc == want )) || die "session $idx: client exit $rc, expected $want" \
        "($(cat "$work/client-$idx.err"))"
    # Prefix the client's lines with session and user, matching the server log layout.
    while IFS=$'\t' read -r folder msg size got sha status; do
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
            "$idx" "$user" "$folder" "$msg" "$size" "$got" "$sha" "$status"
    done <"$work/client-$idx.out" >>"$work/client.tsv"
}

alice_pw='open sesame\x'      # sent as HELO alice open\ sesame\\x
# (a) INBOX #3: keep 1, delete 2, keep 3 (the ~10 KB one); the last ACKS answers =0.
session 1 0 alice "$alice_pw" read retr acks retr ackd retr acks quit
# (b) wrong password (the right one minus "\x"): "-" and close.
session 2 3 alice 'open sesame' read
# (c) INBOX is #2 now (2 was deleted at QUIT of (a)); FOLD archive #2, fetch its first.
session 3 0 alice "$alice_pw" fold:archive read retr acks quit
# (d) empty mailbox: #0, READ =0.
session 4 0 bob bobpw read quit
# (e) NACK: the same message is sent twice.
session 5 0 carol carolpw read retr nack retr acks quit
# (f) dot-leading lines, a lone ".", UTF-8 and a raw latin-1 0xE9 byte.
session 6 0 dave davepw read retr acks quit
# (g) explicit READ 2.
session 7 0 carol carolpw read:2 retr acks quit
# (h) the server cuts the connection 4321 octets into a ~9 KB message (cut_after in
#     users.json); the client sees a short read and an EOF.
session 8 4 frank frankpw read retr acks quit

wait "$server_pid" || die "server exited with $?"
server_pid=

# --- stop the capture ----------------------------------------------------------------
sleep 1          # let the last FIN/ACKs reach the capture
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true     # tcpdump exits non-zero on SIGINT on some versions
tcpdump_pid=
drops=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$work/tcpdump.err")
[[ -n $drops ]] || die "no drop count in tcpdump output: $(cat "$work/tcpdump.err")"
(( drops == 0 )) || die "tcpdump: $drops packets dropped by kernel"

# --- checks --------------------------------------------------------------------------
# The client's view (sizes, octets received, sha256) must equal what the server sent.
diff -u "$work/server.tsv" "$work/client.tsv" >&2 \
    || die "client-received messages differ from the server log"
# ...and the saved files must hash to the logged values (guards the client's file writing).
while IFS=$'\t' read -r idx _ folder msg _ _ sha _; do
    found=0
    for f in "$work/client-$idx"/*-"$folder-$msg.eml"; do
        [[ -e $f ]] || continue
        [[ $(sha256sum <"$f" | cut -d' ' -f1) == "$sha" ]] && found=1
    done
    (( found )) || die "session $idx: no saved file for $folder/$msg with sha256 $sha"
done <"$work/server.tsv"
[[ $(wc -l <"$work/server.tsv") -eq 9 ]] || die "expected 9 retrievals, got $(wc -l <"$work/server.tsv")"

# --- publish -------------------------------------------------------------------------
{
    printf '#session\tuser\tfolder\tmsg\tsize\tsent\tsha256\tstatus\n'
    cat "$work/server.tsv"
} >"$here/expected.tsv"
cp "$work/pop2.pcap" "$here/pop2.pcap"
echo "make-pop2-samples: wrote $here/pop2.pcap ($(grep -c . "$work/server.tsv") retrievals," \
     "$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$work/tcpdump.err") packets)"
