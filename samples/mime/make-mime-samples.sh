#!/usr/bin/env bash
# Regenerates samples/mime/: a real POP3 capture of MIME mail (mime-pop3.pcap) retrieved from a
# private dovecot-pop3d by three real clients (python3 poplib, curl, fetchmail), and the ground
# truth: messages/mime-<n>.eml as a client receives each message (CRLF, dot-stuffing removed),
# messages/attachments/* (each attachment's decoded octets) and messages/SHA256SUMS.
# What the capture holds: samples/mime/README.md. The approach is the one of
# samples/make-dovecot-samples.sh (samples/README-dovecot.md).
#
# Run as root on Debian 12: dovecot must bind port 110 and tcpdump must capture on lo. The server
# listens on 127.0.0.5 (any 127/8 address is on lo) and tcpdump filters on it, so another test
# server on 127.0.0.1:110 neither disturbs nor leaks into the capture. Nothing outside a
# mktemp -d work dir and samples/mime/ is touched; outputs are replaced only after every check.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PORT=110
HOST=127.0.0.5
USER_NAME=mime
USER_PASS=mimepw
FETCH_LIMIT=1000000 # fetchmail skips the several-MB message 6 (poplib fetches it)

die() {
	echo "make-mime-samples: $*" >&2
	exit 1
}

need() { # command apt-package
	command -v "$1" >/dev/null 2>&1 || die "$1 not found; apt-get install $2"
}

need dovecot dovecot-core
[[ -x /usr/lib/dovecot/pop3 && -x /usr/lib/dovecot/pop3-login ]] ||
	die "dovecot has no POP3 service; apt-get install dovecot-pop3d"
need tcpdump tcpdump
need curl curl
need fetchmail fetchmail
need python3 python3
need ss iproute2
need sha256sum coreutils
[[ $(id -u) == 0 ]] || die "run as root (port 110 and capturing on lo need it)"
if [[ -n $(ss -Hltn "sport = :$PORT" | awk -v h="$HOST" '$4 ~ "^(" h "|0.0.0.0|\\*|\\[::\\]):"') ]]; then
	die "something already listens on $HOST:$PORT (or on all addresses); stop it first"
fi

WORK=$(mktemp -d /tmp/popsift-mime.XXXXXX)
chmod 755 "$WORK" # dovecot's auth (user dovecot) and mail (user nobody) processes get into it
DOVECOT_PID=
TCPDUMP_PID=

cleanup() {
	local rc=$?
	if [[ -n $TCPDUMP_PID ]]; then
		kill -INT "$TCPDUMP_PID" 2>/dev/null || true
		wait "$TCPDUMP_PID" 2>/dev/null || true
	fi
	if [[ -n $DOVECOT_PID ]]; then
		kill -TERM "$DOVECOT_PID" 2>/dev/null || true
		wait "$DOVECOT_PID" 2>/dev/null || true
	fi
	if [[ $rc != 0 ]]; then
		echo "make-mime-samples: FAILED; work dir kept for inspection: $WORK" >&2
		[[ -f $WORK/dovecot.log ]] && tail -n 20 "$WORK/dovecot.log" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Mail: written by make-messages.py (deterministic), stored the way dovecot stores it (LF).

MSGS=$WORK/msgs
python3 "$HERE/make-messages.py" "$MSGS"
N_MSGS=$(find "$MSGS" -maxdepth 1 -name 'mime-*.lf' | wc -l)
[[ $N_MSGS == 6 ]] || die "make-messages.py wrote $N_MSGS messages, expected 6"

MAILUID=$(id -u nobody)
MAILGID=$(id -g nobody)
mkdir -p "$WORK/run" "$WORK/state" "$WORK/home"
printf '%s:%s\n' "$USER_NAME" "$USER_PASS" >"$WORK/passwd"
chmod 644 "$WORK/passwd"

# new/ under increasing names plus a pre-written dovecot-uidlist: POP3 numbers = our numbers,
# and UIDL replies do not depend on the clock (as in make-dovecot-samples.sh).
md=$WORK/home/$USER_NAME/Maildir
mkdir -p "$md/cur" "$md/new" "$md/tmp"
printf '3 V1700000000 N%d G0123456789abcdef0123456789abcdef\n' $((N_MSGS + 1)) >"$md/dovecot-uidlist"
for ((i = 1; i <= N_MSGS; i++)); do
	name=$((1700000000 + i)).M${i}P1.popsift
	cp "$MSGS/mime-$i.lf" "$md/new/$name"
	touch -d "@$((1700000000 + i))" "$md/new/$name"
	printf '%d :%s\n' "$i" "$name" >>"$md/dovecot-uidlist"
done
chown -R "$MAILUID:$MAILGID" "$WORK/home/$USER_NAME"

CONF=$WORK/dovecot.conf
cat >"$CONF" <<EOF
# Private dovecot for popsift's MIME sample capture, written by samples/mime/make-mime-samples.sh.
instance_name = popsift-mime-samples
base_dir = $WORK/run
state_dir = $WORK/state
log_path = $WORK/dovecot.log
protocols = pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv

passdb {
  driver = passwd-file
  args = scheme=PLAIN $WORK/passwd
}
userdb {
  driver = static
  args = uid=$MAILUID gid=$MAILGID home=$WORK/home/%u
}

service pop3-login {
  inet_listener pop3 {
    address = $HOST
    port = $PORT
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF

dovecot -F -c "$CONF" &
DOVECOT_PID=$!
for ((i = 0; ; i++)); do
	[[ -n $(ss -Hltn "src $HOST:$PORT") ]] && break
	kill -0 "$DOVECOT_PID" 2>/dev/null || { DOVECOT_PID=; die "dovecot did not start"; }
	((i < 100)) || die "dovecot is not listening on $HOST:$PORT after 10 s"
	sleep 0.1
done

# ---------------------------------------------------------------------------------------------
# Capture.

CAP=$WORK/mime-pop3.pcap
ERR=$WORK/tcpdump.err
# -B and --immediate-mode: see samples/README-dovecot.md (drops in bulk transfers; lost tail).
tcpdump -i lo -s 0 -B 65536 --immediate-mode -U -w "$CAP" "host $HOST and tcp port $PORT" 2>"$ERR" &
TCPDUMP_PID=$!
for ((i = 0; ; i++)); do
	grep -q 'listening on' "$ERR" && break
	kill -0 "$TCPDUMP_PID" 2>/dev/null || { TCPDUMP_PID=; cat "$ERR" >&2; die "tcpdump failed"; }
	((i < 100)) || die "tcpdump is not listening after 10 s"
	sleep 0.1
done

echo "== (a) python3 poplib: RETR 1-6, TOP 1 0, TOP 3 10"
python3 "$HERE/mime-sessions.py" "$HOST" "$PORT" "$USER_NAME" "$USER_PASS" "$MSGS"

echo "== (b) curl: RETR 1-5 over one connection"
args=()
for n in 1 2 3 4 5; do
	args+=("pop3://$HOST:$PORT/$n" -o "$WORK/curl-$n.eml")
done
curl -sS --max-time 30 -u "$USER_NAME:$USER_PASS" "${args[@]}"
for n in 1 2 3 4 5; do
	cmp -s "$WORK/curl-$n.eml" "$MSGS/mime-$n.eml" || die "curl: message $n differs from mime-$n.eml"
done
echo "(b) curl received mime-1..5.eml exactly"

echo "== (c) fetchmail: every message below $FETCH_LIMIT octets, kept on the server"
FMHOME=$WORK/fetchmail
mkdir -p "$FMHOME/out"
printf 'poll %s protocol pop3 port %s user "%s" password "%s"\n' "$HOST" "$PORT" "$USER_NAME" \
	"$USER_PASS" >"$FMHOME/rc"
chmod 600 "$FMHOME/rc"
rc=0
HOME=$FMHOME FETCHMAILHOME=$FMHOME fetchmail -f "$FMHOME/rc" --nosyslog --nodetach --auth password --sslproto '' \
	--keep --fetchall --limit "$FETCH_LIMIT" --timeout 30 \
	--mda "/bin/sh -c 'cat >$FMHOME/out/msg.\$\$'" "$HOST" >"$FMHOME/log" 2>&1 || rc=$?
sed 's/^/(c) /' "$FMHOME/log" | grep -v 'Running as root' || true
[[ $rc == 0 ]] || die "fetchmail: exit $rc"
n=$(find "$FMHOME/out" -type f | wc -l)
[[ $n == 5 ]] || die "fetchmail delivered $n messages, expected 5"
echo "(c) fetchmail delivered 5 messages"

sleep 1 # let the closing FIN/ACKs reach tcpdump
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" || true
TCPDUMP_PID=
dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$ERR")
[[ -n $dropped ]] || { cat "$ERR" >&2; die "tcpdump printed no drop count"; }
[[ $dropped == 0 ]] || die "tcpdump dropped $dropped packets; rerun on a quieter machine"
sed -n 's/^/  tcpdump: /; /captured/p' "$ERR"
n=$(tcpdump -nn -r "$CAP" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null | wc -l)
[[ $n == 3 ]] || die "the capture holds $n connections, expected 3"

# ---------------------------------------------------------------------------------------------
# Everything checked: replace the outputs.

# mime-6.eml (3 MB) is not kept: make-messages.py writes it again, byte for byte, and its digest
# is in SHA256SUMS (the tests regenerate it and check that digest).
OUT=$HERE/messages
(cd "$MSGS" && sha256sum -- mime-*.eml attachments/* >SHA256SUMS)
rm -rf "$OUT"
mkdir -p "$OUT/attachments"
cp "$MSGS"/mime-[1-5].eml "$MSGS/SHA256SUMS" "$OUT/"
cp "$MSGS"/attachments/* "$OUT/attachments/"
cp "$CAP" "$HERE/mime-pop3.pcap"
chmod 644 "$HERE/mime-pop3.pcap" "$OUT"/*.eml "$OUT"/SHA256SUMS "$OUT"/attachments/*
echo "== wrote $HERE/mime-pop3.pcap and $OUT/"
