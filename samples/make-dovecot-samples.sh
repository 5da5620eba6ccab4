#!/usr/bin/env bash
# Regenerates popsift's real POP3 captures from a private dovecot-pop3d and real clients on
# loopback: samples/dovecot-pop3.pcap (python3 poplib + one raw pipelined session),
# samples/dovecot-sasl.pcap (curl SASL logins) and samples/dovecot-messages/ (the mail as the
# clients receive it, CRLF, with SHA256SUMS). What each capture holds: samples/README-dovecot.md.
#
# Run as root on Debian 12: dovecot must bind 127.0.0.1:110 (the port popsift follows by default)
# and tcpdump must capture on lo. Nothing outside a mktemp -d work dir and samples/ is touched;
# outputs are replaced only after every check has passed.
set -euo pipefail

SAMPLES=$(cd "$(dirname "$0")" && pwd)
PORT=110
HOST=127.0.0.1

die() {
	echo "make-dovecot-samples: $*" >&2
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
need python3 python3
need ss iproute2
need sha256sum coreutils
[[ $(id -u) == 0 ]] || die "run as root (port 110 and capturing on lo need it)"
if [[ -n $(ss -Hltn "sport = :$PORT") ]]; then
	die "something already listens on port $PORT; stop it first"
fi

WORK=$(mktemp -d /tmp/popsift-dovecot.XXXXXX)
# dovecot's auth (user dovecot) and mail (user nobody) processes must get into it.
chmod 755 "$WORK"
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
		echo "make-dovecot-samples: FAILED; work dir kept for inspection: $WORK" >&2
		[[ -f $WORK/dovecot.log ]] && tail -n 20 "$WORK/dovecot.log" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
# bash runs the EXIT trap on these only if they turn into an ordinary exit.
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# Mail, stored the way dovecot stores it: LF line ends.

MSGS=$WORK/msgs # <user>-<n>.lf as stored, <user>-<n>.eml as clients receive it (CRLF)
mkdir -p "$MSGS"

cat >"$MSGS/alice-1.lf" <<'EOF'
Return-Path: <bob@popsift.test>
From: Bob Builder <bob@popsift.test>
To: Alice <alice@popsift.test>
Subject: Tea at four
Date: Tue, 14 Nov 2023 22:13:20 +0000
Message-ID: <sample-1@popsift.test>

Alice,

tea at four, as usual?

Bob
EOF

# Dot-led lines, including a lone ".", which the server must dot-stuff on the wire, plus 8-bit
# UTF-8 text (8bit transfer encoding, so the bytes above 0x7f go over the wire unchanged).
cat >"$MSGS/alice-2.lf" <<'EOF'
Return-Path: <bob@popsift.test>
From: Bob Builder <bob@popsift.test>
To: Alice <alice@popsift.test>
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and dotted lines
Date: Tue, 14 Nov 2023 22:13:21 +0000
Message-ID: <sample-2@popsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Grüße aus Köln! Schöne Grüße, naïve café, 日本語, Ελληνικά.
The next lines start with dots; the server must dot-stuff every one of them.
.hidden
..double
.
. a dot and a space
...
.
End of the dotted section. Tschüß.
EOF

# About 20 KB so that RETR spans several TCP segments; a few dot-led lines sit deep inside it.
{
	cat <<'EOF'
Return-Path: <bob@popsift.test>
From: Bob Builder <bob@popsift.test>
To: Alice <alice@popsift.test>
Subject: Quarterly report (long)
Date: Tue, 14 Nov 2023 22:13:22 +0000
Message-ID: <sample-3@popsift.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

EOF
	for i in $(seq 1 300); do
		if ((i % 97 == 0)); then
			printf '.line %03d starts with a dot and must be stuffed on the wire.........\n' "$i"
		else
			printf 'Line %03d: the quick brown fox jumps over the lazy dog 0123456789.\n' "$i"
		fi
	done
	printf 'End of report.\n'
} >"$MSGS/alice-3.lf"

cat >"$MSGS/bob-1.lf" <<'EOF'
Return-Path: <alice@popsift.test>
From: Alice <alice@popsift.test>
To: Bob Builder <bob@popsift.test>
Subject: Re: Tea at four
Date: Tue, 14 Nov 2023 22:14:00 +0000
Message-ID: <sample-4@popsift.test>
In-Reply-To: <sample-1@popsift.test>

Yes, four it is.

Alice
EOF

for f in "$MSGS"/*.lf; do
	sed 's/$/\r/' "$f" >"${f%.lf}.eml"
done

# ---------------------------------------------------------------------------------------------
# Private dovecot instance.

MAILUID=$(id -u nobody)
MAILGID=$(id -g nobody)
mkdir -p "$WORK/run" "$WORK/state" "$WORK/home"
printf 'alice:wonderland\nbob:builder\n' >"$WORK/passwd"
chmod 644 "$WORK/passwd" # read by the auth process as user dovecot

# Messages go into new/ under increasing maildir names, and a pre-written dovecot-uidlist pins
# both their UIDs (so POP3 numbers = our numbers) and the UIDVALIDITY (so UIDL replies are the
# same on every run instead of depending on the clock).
make_maildir() { # user message-count
	local md=$WORK/home/$1/Maildir i name
	mkdir -p "$md/cur" "$md/new" "$md/tmp"
	printf '3 V1700000000 N%d G0123456789abcdef0123456789abcdef\n' $(($2 + 1)) >"$md/dovecot-uidlist"
	for ((i = 1; i <= $2; i++)); do
		name=$((1700000000 + i)).M${i}P1.popsift
		cp "$MSGS/$1-$i.lf" "$md/new/$name"
		touch -d "@$((1700000000 + i))" "$md/new/$name"
		printf '%d :%s\n' "$i" "$name" >>"$md/dovecot-uidlist"
	done
	chown -R "$MAILUID:$MAILGID" "$WORK/home/$1"
}
make_maildir alice 3
make_maildir bob 1

CONF=$WORK/dovecot.conf
cat >"$CONF" <<EOF
# Private dovecot for popsift's sample captures, written by samples/make-dovecot-samples.sh.
instance_name = popsift-samples
base_dir = $WORK/run
state_dir = $WORK/state
log_path = $WORK/dovecot.log
protocols = pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login cram-md5 digest-md5 apop
auth_verbose = yes
auth_failure_delay = 0
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv

# APOP, CRAM-MD5 and DIGEST-MD5 need the plaintext password on the server.
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

# auth_failure_delay = 0 alone does not stop the per-IP penalty of 2-15 s after a failed login;
# closing off the penalty socket does.
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

start_capture() { # pcap-file
	local err=$WORK/tcpdump.err i
	# -B: without a bigger buffer tcpdump drops packets during bulk transfers on lo.
	# --immediate-mode: otherwise the last buffered second (a whole session) is lost on stop.
	tcpdump -i lo -s 0 -B 65536 --immediate-mode -U -w "$1" "tcp port $PORT" 2>"$err" &
	TCPDUMP_PID=$!
	for ((i = 0; ; i++)); do
		grep -q 'listening on' "$err" && return 0
		kill -0 "$TCPDUMP_PID" 2>/dev/null || { TCPDUMP_PID=; cat "$err" >&2; die "tcpdump failed"; }
		((i < 100)) || die "tcpdump is not listening after 10 s"
		sleep 0.1
	done
}

stop_capture() {
	local err=$WORK/tcpdump.err dropped
	sleep 1 # let the closing FIN/ACKs reach tcpdump
	kill -INT "$TCPDUMP_PID"
	wait "$TCPDUMP_PID" || true
	TCPDUMP_PID=
	dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$err")
	[[ -n $dropped ]] || { cat "$err" >&2; die "tcpdump printed no drop count"; }
	[[ $dropped == 0 ]] || die "tcpdump dropped $dropped packets; rerun on a quieter machine"
	sed -n 's/^/  tcpdump: /; /captured/p' "$err"
}

syn_count() { # pcap-file
	tcpdump -nn -r "$1" 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn' 2>/dev/null | wc -l
}

CAP=$WORK/cap
mkdir -p "$CAP"

echo "== dovecot-pop3.pcap"
start_capture "$CAP/dovecot-pop3.pcap"
python3 "$SAMPLES/dovecot/pop3-sessions.py" "$HOST" "$PORT" "$MSGS"
stop_capture
n=$(syn_count "$CAP/dovecot-pop3.pcap")
[[ $n == 5 ]] || die "dovecot-pop3.pcap holds $n connections, expected 5"

# curl always picks SASL when the server offers it, so each login option gives one mechanism.
curl_session() { # label ok|denied|cancelled user:password curl-options...
	local label=$1 want=$2 cred=$3 out=$WORK/curl-$1.out rc=0
	shift 3
	curl -sS --max-time 10 -u "$cred" "$@" -o "$out" "pop3://$HOST:$PORT/1" 2>"$out.err" || rc=$?
	case $want in
	ok)
		[[ $rc == 0 ]] || { cat "$out.err" >&2; die "curl ($label): exit $rc"; }
		cmp -s "$out" "$MSGS/alice-1.eml" || die "curl ($label): RETR 1 differs from alice-1.eml"
		echo "($label) RETR 1 = alice-1.eml"
		;;
	denied | cancelled)
		# 67 = CURLE_LOGIN_DENIED, also used when curl itself aborts the exchange with "*".
		[[ $rc == 67 ]] || { cat "$out.err" >&2; die "curl ($label): exit $rc, expected 67"; }
		if [[ $want == cancelled ]]; then
			grep -q 'cancelled' "$out.err" || die "curl ($label): $(cat "$out.err")"
		fi
		echo "($label) $want as expected: $(cat "$out.err")"
		;;
	esac
}

echo "== dovecot-sasl.pcap"
start_capture "$CAP/dovecot-sasl.pcap"
curl_session a ok alice:wonderland --login-options AUTH=PLAIN
curl_session b ok alice:wonderland --login-options AUTH=LOGIN
curl_session c ok alice:wonderland --login-options AUTH=CRAM-MD5
# curl 7.88 rejects dovecot's quoted algorithm="md5-sess" and cancels; (e) does it properly.
curl_session d cancelled alice:wonderland --login-options AUTH=DIGEST-MD5
python3 "$SAMPLES/dovecot/digest-md5-session.py" "$HOST" "$PORT" alice wonderland \
	"$MSGS/alice-1.eml" | sed 's/^/(e) /'
curl_session f denied alice:wrong-password --login-options AUTH=PLAIN
curl_session g ok alice:wonderland --login-options AUTH=PLAIN --sasl-ir
stop_capture
n=$(syn_count "$CAP/dovecot-sasl.pcap")
[[ $n == 7 ]] || die "dovecot-sasl.pcap holds $n connections, expected 7"

# ---------------------------------------------------------------------------------------------
# Everything checked: replace the outputs.

OUT=$SAMPLES/dovecot-messages
rm -rf "$OUT"
mkdir -p "$OUT"
for f in "$MSGS"/*.eml; do
	cp "$f" "$OUT/"
done
(cd "$OUT" && sha256sum -- *.eml >SHA256SUMS)
cp "$CAP/dovecot-pop3.pcap" "$CAP/dovecot-sasl.pcap" "$SAMPLES/"
chmod 644 "$SAMPLES/dovecot-pop3.pcap" "$SAMPLES/dovecot-sasl.pcap" "$OUT"/*
echo "== wrote $SAMPLES/dovecot-pop3.pcap, $SAMPLES/dovecot-sasl.pcap, $OUT/"
