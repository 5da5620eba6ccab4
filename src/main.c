/*
 * main.c - popsift's command line: parse options, wire capture -> reassembly
 * -> sessions -> output, report the run. Owns option parsing and exit codes;
 * every other decision lives in the module that owns it.
 *
 * Exit status (exitcode.h): 0 success (also when a capture was cut off
 * mid-packet: a warning says so and everything before the cut is reported),
 * EXIT_USAGE, EXIT_INPUT (input or output error), EXIT_INTERNAL; reading files
 * stopped by SIGINT or SIGTERM: 128 + the signal (130, 143), as shells expect;
 * events written into a pipe nobody reads any more: 141 (128 + SIGPIPE), what
 * the shell reports for `cat` in `cat big | head -1`.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../output/hashes.h"
#include "../output/output.h"
#include "../output/utf8.h"
#include "capfile.h"
#include "capture.h"
#include "exitcode.h"
#include "outpaths.h"
#include "reasm.h"
#include "report.h"
#include "session.h"
#include "shard.h"
#include "tls/tls_keylog.h"
#include "workers.h"

/* The Makefile's VERSION, the one place the version is written. */
#ifndef POPSIFT_VERSION
#error "POPSIFT_VERSION is not defined: build with the Makefile (it passes -DPOPSIFT_VERSION)"
#endif
#define DEFAULT_PORTS "109,110,995,1109"
#define DEFAULT_MAX_STREAMS 65536
#define OUTPUT_BUFFER (1 << 20)
#define DEFAULT_IDLE_TIMEOUT 600
#define SENSOR_NAME_MAX 255 /* --sensor-name: a DNS name's bound */

struct options {
	const char **inputs;
	size_t n_inputs;
	const char *iface;
	const char *filter;
	const char *user;
	bool promisc;
	bool detect;
	bool text;
	bool html; /* -T html: the HTML report (popsift report's) instead of events */
	const char *mailbox_report;
	unsigned idle_timeout;
	struct bf_policy bruteforce;
	const char *output;
	const char *hashes;
	const char *extract_dir;
	const char *mbox;
	uint8_t port_map[65536 / 8];
	unsigned max_streams;
	bool show_passwords;
	bool transactions;
	bool quiet;
	bool single_thread;
	const char **keylogs; /* --tls-keylog FILE, in order */
	size_t n_keylogs;
	unsigned buffer_kib; /* -B, live: 0 = LIVE_BUFFER_KIB */
	bool truncate;          /* --truncate: -o starts afresh when capturing live */
	unsigned workers;       /* --workers N: 1 is the single process (workers.h) */
	struct shard shard;     /* --shard K/N; n 0: all */
	const char *sensor;     /* --sensor-name; NULL: the host name */
	char hostname[SENSOR_NAME_MAX + 1];
};

static const char usage_text[] =
	"Usage: popsift [OPTIONS] -r FILE [-r FILE ...]\n"
	"       popsift [OPTIONS] -i IFACE [-f FILTER] [-Z USER]\n"
	"       popsift report [OPTIONS] [EVENTS.json ...]   (popsift report --help)\n"
	"\n"
	"Passive analyzer of POP3 and POP2 sessions in packet captures. Reassembles\n"
	"TCP with libnids, follows each session through its states and writes one\n"
	"JSON event per line: logins (auth), audit alerts (alert), retrieved messages\n"
	"(message), TLS sessions (tls: POP3S, STLS; decrypted with --tls-keylog) and\n"
	"one summary per connection (session).\n"
	"\n"
	"Input:\n"
	"  -r, --read FILE        read a pcap or pcapng capture, plain or compressed\n"
	"                         (gzip, zstd, lz4, xz: recognised by content); a file,\n"
	"                         a FIFO, /dev/fd/N or '-' (standard input), each read\n"
	"                         once. Repeat for several files: they are read as one\n"
	"                         capture in the order of their first packets, whatever\n"
	"                         the order given (a rotated capture's parts), with a\n"
	"                         warning where two overlap in time; a session that\n"
	"                         continues in the next file stays one session.\n"
	"                         SIGINT or SIGTERM stops the reading: open sessions\n"
	"                         end as \"interrupted\", exit status 130 or 143\n"
	"  -i, --interface IFACE  capture live on IFACE ('any' for all); until SIGINT or\n"
	"                         SIGTERM, which end every open session and exit 0;\n"
	"                         SIGHUP reopens the -o file (logrotate), SIGUSR1\n"
	"                         prints the statistics; output is line-buffered\n"
	"  -f, --filter EXPR      BPF filter (tcpdump's syntax): only matching frames\n"
	"                         are analysed; live, ANDed with the port filter\n"
	"      --promisc          put the interface in promiscuous mode (live only)\n"
	"  -Z, --user USER        drop root to USER once the capture is open (live only);\n"
	"                         -o, -x, --mbox and --hashes are then created as USER\n"
	"  -B, --buffer-size KIB  the kernel's capture ring in KiB, as tcpdump's -B (live\n"
	"                         only; default 65536, i.e. 64 MiB; whole 256 KiB blocks);\n"
	"                         a packet waits in it at most 100 ms on a quiet link\n"
	"  -p, --ports LIST       server ports to follow, comma-separated\n"
	"                         (default " DEFAULT_PORTS ": POP2, POP3, POP3S, KPOP)\n"
	"      --detect           also follow POP3/POP2 on any other TCP port, recognised\n"
	"                         by content (a +OK or '+ POP2' greeting answered by a\n"
	"                         POP command; caught mid-stream, a line only POP sends,\n"
	"                         such as RETR 1, UIDL or +OK 120 octets); slower:\n"
	"                         every TCP stream is reassembled\n"
	"      --max-streams N    TCP connections held open at once before the oldest\n"
	"                         is evicted (reported, never silent); default %u\n"
	"      --idle-timeout SEC end a session silent for SEC seconds of capture time\n"
	"                         (end_reason \"timeout\"); default %u\n"
	"      --single-thread    do everything on one thread; by default, with more\n"
	"                         than one CPU, hashing, -x/--mbox files and writing\n"
	"                         events run on a second thread (same output either way)\n"
	"      --workers N        analyse in N worker processes (1 to 64; default 1, one\n"
	"                         process), split by the pair of IP addresses: both\n"
	"                         directions and every connection between two hosts go\n"
	"                         to one worker. Files are read once and handed out over\n"
	"                         shared memory; live (-i), each worker captures in one\n"
	"                         kernel PACKET_FANOUT group that splits alike (needs\n"
	"                         root; not with -Z). One stream of events, whole lines;\n"
	"                         alerts, -T text and --mailbox-report are decided over\n"
	"                         all workers, as one process decides them. A worker\n"
	"                         that dies is reported and started again; its open\n"
	"                         sessions end as \"worker_lost\". Not with --hashes,\n"
	"                         --mbox or -T html (see popsift(1))\n"
	"      --shard K/N        analyse only shard K (0 to N-1) of N, N at most 1024:\n"
	"                         the connections whose address pair hashes to K. Both\n"
	"                         directions, every connection between two hosts and\n"
	"                         all fragments stay in one shard; frames that are not\n"
	"                         IP are shard 0's; the others' frames are skipped\n"
	"                         before reassembly (the summary counts them). N runs,\n"
	"                         one per K, over the same captures together write the\n"
	"                         events of one run (order aside) but for brute-force\n"
	"                         and password-spray alerts of clients spread over\n"
	"                         shards: 'popsift report' over their concatenated\n"
	"                         events gives those and the mailbox report. K from a\n"
	"                         job runner: --shard \"$JOB_COMPLETION_INDEX/4\"\n"
	"                         (Kubernetes), \"$SLURM_ARRAY_TASK_ID/4\" (a Slurm\n"
	"                         array numbered from 0); see docs/scaling.md\n"
	"\n"
	"Output:\n"
	"  -o, --output FILE      write events to FILE instead of standard output;\n"
	"                         reading files, FILE is truncated; capturing live (-i),\n"
	"                         appended to, so a restarted sensor keeps what it wrote\n"
	"      --truncate         with -i: start -o FILE afresh instead\n"
	"      --show-passwords   include cleartext passwords and tokens in auth events\n"
	"                         (they are never written otherwise)\n"
	"      --transactions     also write a command event per request and reply\n"
	"  -T, --format FORMAT    json (default): one event per line; text: a line per\n"
	"                         login (CLEARTEXT marked) and a table per server of\n"
	"                         users and mechanisms, for reading in a terminal;\n"
	"                         html: the HTML case report (as 'popsift report\n"
	"                         --html'), e.g. -T html -o case.html\n"
	"  -x, --extract DIR      write every retrieved message (POP3 RETR and TOP, POP2\n"
	"                         RETR, XTND XMIT) to DIR exactly as the client received\n"
	"                         it; the message event gives its path; files are mode\n"
	"                         0600, never overwritten, never through a symlink; DIR\n"
	"                         is created (mode 0700) if missing\n"
	"      --mbox FILE        also append every message to an mbox (mboxrd quoting)\n"
	"      --tls-keylog FILE  TLS session secrets in the NSS key log format\n"
	"                         (SSLKEYLOGFILE of curl, Firefox, Thunderbird, GnuTLS,\n"
	"                         python's keylog_filename); repeat for several files.\n"
	"                         TLS sessions (POP3S, STLS) whose secrets it holds are\n"
	"                         decrypted and read like cleartext (logins, messages,\n"
	"                         -x), their events marked tls.decrypted; secrets in a\n"
	"                         pcapng's Decryption Secrets Blocks need no option\n"
	"      --mailbox-report FILE  per (server, user), a timeline over all sessions:\n"
	"                         logins, uids listed and new, messages retrieved,\n"
	"                         deletions and whether they were committed (NDJSON,\n"
	"                         event_type mailbox, or text with -T text; '-'\n"
	"                         appends it to the events)\n"
	"      --hashes DIR/      the offline-crackable material of every challenge-\n"
	"                         response login, failed ones included, one file per\n"
	"                         cracker format, each line 'user:hash' (hashcat\n"
	"                         --username, John's user:hash): apop.hc20 (hashcat -m\n"
	"                         20), cram-md5.hc10200, netntlmv1.hc5500,\n"
	"                         netntlmv2.hc5600, krb5tgs.hc13100, digest-md5.john\n"
	"                         (John's dmd5), scram.popsift (popsift's record); and\n"
	"                         hashes.jsonl, one JSON line per hash line: file, line,\n"
	"                         user, server, client, time, flow_id. DIR is an existing\n"
	"                         directory or a path ending in '/' (created, mode 0700);\n"
	"                         the files of an earlier run in it are replaced\n"
	"      --hashes FILE      any other path: hashes.jsonl's records alone, the hash\n"
	"                         in each (one file never mixes cracker formats); files\n"
	"                         are mode 0600, never written through a symlink\n"
	"      --brute-force-failures N  alert brute-force after N failed logins from one\n"
	"                         client within the window (default %u; 0 turns it off)\n"
	"      --spray-users N    alert password-spray when logins for N different user\n"
	"                         names fail from one client within the window (default\n"
	"                         %u, at most 64; 0 turns it off)\n"
	"      --alert-window SEC the window of those two alerts, in capture time\n"
	"                         (default %u)\n"
	"      --sensor-name NAME the sensor field of every event (default: this\n"
	"                         host's name), so events of several sensors or shards\n"
	"                         keep saying where they were seen\n"
	"  -q, --quiet            no summary on standard error at the end\n"
	"\n"
	"  -h, --help             this help\n"
	"  -V, --version          print the version\n"
	"\n"
	"No output may be one of the captures read, nor two outputs one file: such a\n"
	"run is refused (exit 2) before anything is read or written, and every output\n"
	"is created or proven writable before the first packet is read.\n"
	"\n"
	"Exit status: 0 success (a capture cut off mid-packet is a warning: everything\n"
	"before the cut is reported), 1 usage error, 2 input or output error,\n"
	"3 internal error, 130/143 reading files stopped by SIGINT/SIGTERM, 141 the\n"
	"events' reader went away (e.g. | head). Event fields: docs/events.md and\n"
	"popsift(1).\n"
	"\n"
	"Example: popsift -r mail.pcap | jq 'select(.event_type==\"auth\")'\n";

static void usage(FILE *fp)
{
	fprintf(fp, usage_text, DEFAULT_MAX_STREAMS, DEFAULT_IDLE_TIMEOUT, BF_DEFAULT_FAILURES,
		BF_DEFAULT_USERS, BF_DEFAULT_WINDOW);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "popsift: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'popsift --help'.\n");
	va_end(ap);
	exit(EXIT_USAGE);
}

static unsigned long parse_number(const char *s, const char *what, unsigned long min,
				  unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || s[0] == '-')
		die_usage("invalid %s '%s' (expected a number from %lu to %lu)", what, s, min, max);
	return v;
}

static void parse_ports(struct options *o, const char *list)
{
	memset(o->port_map, 0, sizeof(o->port_map));
	char *copy = strdup(list);
	if (!copy)
		exit(EXIT_INTERNAL);
	char *save = NULL;
	int n = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned long port = parse_number(tok, "port", 1, 65535);
		o->port_map[port >> 3] |= (uint8_t)(1u << (port & 7));
		n++;
	}
	free(copy);
	if (n == 0)
		die_usage("no port in '%s'", list);
}

static void add_input(struct options *o, const char *path)
{
	const char **n = realloc(o->inputs, (o->n_inputs + 1) * sizeof(*n));
	if (!n)
		exit(EXIT_INTERNAL);
	o->inputs = n;
	o->inputs[o->n_inputs++] = path;
}

/* ---- TLS secrets: --tls-keylog files and pcapng Decryption Secrets Blocks ---- */

static void add_keylog(struct options *o, const char *path)
{
	const char **n = realloc(o->keylogs, (o->n_keylogs + 1) * sizeof(*n));
	if (!n)
		exit(EXIT_INTERNAL);
	o->keylogs = n;
	o->keylogs[o->n_keylogs++] = path;
}

/*
 * Reads every --tls-keylog file into one key store before any packet (NULL
 * when none was given). A file that cannot be read fails the run; one that
 * holds no secret, or lines that are not key log lines, is a warning.
 */
static bool load_keylogs(const struct options *o, struct tls_keylog **out)
{
	*out = NULL;
	if (!o->n_keylogs)
		return true;
	struct tls_keylog *kl = tls_keylog_new();
	if (!kl)
		exit(EXIT_INTERNAL);
	for (size_t i = 0; i < o->n_keylogs; i++) {
		struct tls_keylog_stats before, after;
		tls_keylog_stats(kl, &before);
		if (tls_keylog_load_file(kl, o->keylogs[i]) != 0) {
			fprintf(stderr, "popsift: cannot read TLS key log '%s': %s\n", o->keylogs[i],
				strerror(errno));
			tls_keylog_free(kl);
			return false;
		}
		tls_keylog_stats(kl, &after);
		if (after.secrets == before.secrets)
			fprintf(stderr, "popsift: warning: TLS key log '%s' holds no secret popsift uses\n",
				o->keylogs[i]);
		if (after.invalid > before.invalid)
			fprintf(stderr, "popsift: warning: TLS key log '%s': %llu lines are not key log "
				"lines (the first: line %llu); ignored\n", o->keylogs[i],
				(unsigned long long)(after.invalid - before.invalid),
				(unsigned long long)after.first_invalid);
	}
	*out = kl;
	return true;
}

/*
 * A pcapng Decryption Secrets Block (before the packets it decrypts): its TLS
 * key log lines join the store, made now if no --tls-keylog made it.
 */
static void add_secrets(struct tls_keylog **keys, uint32_t type, const uint8_t *data, size_t len)
{
	if (type != CAPFILE_SECRETS_TLS)
		return;
	if (!*keys && !(*keys = tls_keylog_new()))
		return;
	tls_keylog_add_text(*keys, (const char *)data, len);
}

/* TLS sessions and how many were read inside, when there were any. */
static void print_tls_summary(const struct session_table *t)
{
	if (!t->tls_sessions)
		return;
	fprintf(stderr, "popsift: %llu TLS sessions, %llu decrypted", (unsigned long long)t->tls_sessions,
		(unsigned long long)t->tls_decrypted);
	if (t->keys) {
		struct tls_keylog_stats st;
		tls_keylog_stats(t->keys, &st);
		fprintf(stderr, " (key store: secrets of %llu sessions)", (unsigned long long)st.sessions);
	}
	fputc('\n', stderr);
}
/* The help text above spells these out. */
_Static_assert(LIVE_BUFFER_KIB == 65536 && LIVE_BLOCK_TIMEOUT_MS == 100,
	       "update -B in the help text, docs/popsift.1 and docs/performance.md");

enum {
	OPT_SHOW_PASSWORDS = 256,
	OPT_TRANSACTIONS,
	OPT_MAX_STREAMS,
	OPT_HASHES,
	OPT_PROMISC,
	OPT_IDLE_TIMEOUT,
	OPT_MBOX,
	OPT_DETECT,
	OPT_MAILBOX_REPORT,
	OPT_BRUTE,
	OPT_SPRAY,
	OPT_WINDOW,
	OPT_SINGLE_THREAD,
	OPT_TLS_KEYLOG,
	/* inputs and outputs */
	OPT_TRUNCATE,
	OPT_WORKERS,
	/* splitting the work */
	OPT_SHARD,
	OPT_SENSOR_NAME,
};

static const struct option longopts[] = {
	{ "read", required_argument, NULL, 'r' },
	{ "interface", required_argument, NULL, 'i' },
	{ "filter", required_argument, NULL, 'f' },
	{ "user", required_argument, NULL, 'Z' },
	{ "buffer-size", required_argument, NULL, 'B' },
	{ "promisc", no_argument, NULL, OPT_PROMISC },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "detect", no_argument, NULL, OPT_DETECT },
	{ "format", required_argument, NULL, 'T' },
	{ "mailbox-report", required_argument, NULL, OPT_MAILBOX_REPORT },
	{ "brute-force-failures", required_argument, NULL, OPT_BRUTE },
	{ "spray-users", required_argument, NULL, OPT_SPRAY },
	{ "alert-window", required_argument, NULL, OPT_WINDOW },
	{ "output", required_argument, NULL, 'o' },
	{ "ports", required_argument, NULL, 'p' },
	{ "max-streams", required_argument, NULL, OPT_MAX_STREAMS },
	{ "show-passwords", no_argument, NULL, OPT_SHOW_PASSWORDS },
	{ "transactions", no_argument, NULL, OPT_TRANSACTIONS },
	{ "hashes", required_argument, NULL, OPT_HASHES },
	{ "extract", required_argument, NULL, 'x' },
	{ "mbox", required_argument, NULL, OPT_MBOX },
	{ "quiet", no_argument, NULL, 'q' },
	{ "single-thread", no_argument, NULL, OPT_SINGLE_THREAD },
	{ "tls-keylog", required_argument, NULL, OPT_TLS_KEYLOG },
	{ "truncate", no_argument, NULL, OPT_TRUNCATE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "sensor-name", required_argument, NULL, OPT_SENSOR_NAME },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* --shard K/N */
static void parse_shard(struct options *o, const char *text)
{
	char err[200];
	if (!shard_parse(text, &o->shard, err, sizeof(err)))
		die_usage("--shard %s", err);
}

/* --sensor-name: what every event's `sensor` says, so printable UTF-8 of bounded length. */
static const char *check_sensor_name(const char *name)
{
	size_t n = strlen(name);
	bool printable = n > 0 && n <= SENSOR_NAME_MAX && utf8_valid(name, n);
	for (size_t i = 0; printable && i < n; i++)
		printable = (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
	if (!printable)
		die_usage("--sensor-name '%s': give 1 to %d printable characters (UTF-8)", name,
			  SENSOR_NAME_MAX);
	return name;
}

/* The sensor name by default: the host name, "unknown" (with a warning) if there is none. */
static const char *default_sensor(struct options *o)
{
	if (gethostname(o->hostname, sizeof(o->hostname)) == 0 && o->hostname[0]) {
		o->hostname[sizeof(o->hostname) - 1] = 0;
		return o->hostname;
	}
	fprintf(stderr, "popsift: warning: no host name (%s): events say sensor \"unknown\"; "
			"name it with --sensor-name\n", strerror(errno));
	return "unknown";
}

/* One option getopt_long() returned. */
static void parse_option(struct options *o, int ch, char **argv)
{
	switch (ch) {
	case 'r': add_input(o, optarg); break;
	case 'i': o->iface = optarg; break;
	case 'f': o->filter = optarg; break;
	case 'Z': o->user = optarg; break;
	case 'B':
		o->buffer_kib = (unsigned)parse_number(optarg, "-B (KiB)", LIVE_BUFFER_KIB_MIN,
						       LIVE_BUFFER_KIB_MAX);
		break;
	case OPT_PROMISC: o->promisc = true; break;
	case OPT_DETECT: o->detect = true; break;
	case OPT_MAILBOX_REPORT: o->mailbox_report = optarg; break;
	case 'T':
		if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0 && strcmp(optarg, "html") != 0)
			die_usage("-T takes 'json', 'text' or 'html', not '%s'", optarg);
		o->text = strcmp(optarg, "text") == 0;
		o->html = strcmp(optarg, "html") == 0;
		break;
	case OPT_BRUTE:
		o->bruteforce.failures = (unsigned)parse_number(optarg, "--brute-force-failures", 0, 1000000);
		break;
	case OPT_SPRAY:
		o->bruteforce.users = (unsigned)parse_number(optarg, "--spray-users", 0, 64);
		break;
	case OPT_WINDOW:
		o->bruteforce.window = (unsigned)parse_number(optarg, "--alert-window", 1, 30 * 86400);
		break;
	case OPT_IDLE_TIMEOUT:
		o->idle_timeout = (unsigned)parse_number(optarg, "--idle-timeout", 1, 7 * 86400);
		break;
	case 'o': o->output = optarg; break;
	case 'p': parse_ports(o, optarg); break;
	case 'q': o->quiet = true; break;
	case OPT_SINGLE_THREAD: o->single_thread = true; break;
	case OPT_TLS_KEYLOG: add_keylog(o, optarg); break;
	case OPT_TRUNCATE: o->truncate = true; break;
	case OPT_WORKERS: o->workers = (unsigned)parse_number(optarg, "--workers", 1, WORKERS_MAX); break;
	case OPT_SHARD: parse_shard(o, optarg); break;
	case OPT_SENSOR_NAME: o->sensor = check_sensor_name(optarg); break;
	case OPT_MAX_STREAMS:
		o->max_streams = (unsigned)parse_number(optarg, "--max-streams", 16, 1u << 24);
		break;
	case OPT_SHOW_PASSWORDS: o->show_passwords = true; break;
	case OPT_TRANSACTIONS: o->transactions = true; break;
	case OPT_HASHES: o->hashes = optarg; break;
	case 'x': o->extract_dir = optarg; break;
	case OPT_MBOX: o->mbox = optarg; break;
	case 'h': usage(stdout); exit(0);
	case 'V': printf("popsift %s\n", POPSIFT_VERSION); exit(0);
	case ':': die_usage("option '%s' needs an argument", argv[optind - 1]); break;
	default: die_usage("unknown option '%s'", argv[optind - 1]); break;
	}
}

/* --workers N: what one writer per process cannot share (popsift(1), --workers). */
static void check_workers(const struct options *o)
{
	if (o->workers <= 1)
		return;
	if (o->hashes || o->mbox)
		die_usage("--workers cannot be combined with %s: it is one file every worker would "
			  "write (run popsift without --workers for it)", o->hashes ? "--hashes" : "--mbox");
	if (o->html)
		die_usage("--workers cannot be combined with -T html: write the events and run "
			  "'popsift report --html FILE' on them");
	if (o->user)
		die_usage("--workers cannot be combined with -Z: a worker started again needs root "
			  "to join the capture");
}

/* Options that make sense alone but not together. */
static void check_options(const struct options *o, int argc, char **argv)
{
	if (optind < argc)
		die_usage("unexpected argument '%s' (captures are given with -r)", argv[optind]);
	if (o->n_inputs == 0 && !o->iface)
		die_usage("no input: give a capture with -r FILE, or an interface with -i IFACE");
	if (o->n_inputs && o->iface)
		die_usage("-r and -i cannot be combined: read files or capture live, not both");
	if (!o->iface && (o->user || o->promisc))
		die_usage("-Z and --promisc apply to live capture (-i IFACE) only");
	if (!o->iface && o->buffer_kib)
		die_usage("-B applies to live capture (-i IFACE) only");
	size_t std_in = 0;
	for (size_t i = 0; i < o->n_inputs; i++)
		std_in += strcmp(o->inputs[i], "-") == 0;
	if (std_in > 1)
		die_usage("'-r -' is given %zu times: standard input can be read only once", std_in);
	check_workers(o);
}

static void parse_options(struct options *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->max_streams = DEFAULT_MAX_STREAMS;
	o->workers = 1;
	o->idle_timeout = DEFAULT_IDLE_TIMEOUT;
	o->bruteforce = (struct bf_policy){ BF_DEFAULT_FAILURES, BF_DEFAULT_USERS, BF_DEFAULT_WINDOW };
	parse_ports(o, DEFAULT_PORTS);
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":r:i:f:Z:B:o:p:x:T:qhV", longopts, NULL)) != -1)
		parse_option(o, ch, argv);
	check_options(o, argc, argv);
	if (!o->sensor)
		o->sensor = default_sensor(o);
}

/* -o: truncated when reading files; appended to live, unless --truncate. */
static FILE *open_output(const struct options *o)
{
	if (!o->output || strcmp(o->output, "-") == 0)
		return stdout;
	FILE *fp = fopen(o->output, o->iface && !o->truncate ? "a" : "w");
	if (!fp)
		fprintf(stderr, "popsift: cannot write events to '%s': %s\n", o->output, strerror(errno));
	return fp;
}

#define OUT_PATHS 5

/* Every path the run writes, for outpaths.h; standard output when events go there. */
static size_t output_paths(const struct options *o, struct outpath *p)
{
	size_t n = 0;
	p[n++] = (struct outpath){ "-o", o->output ? o->output : "-", OUTPATH_EVENTS };
	bool hashes_dir = o->hashes && hashes_is_dir(o->hashes); /* --hashes DIR/ */
	p[n++] = (struct outpath){ "--hashes", o->hashes, hashes_dir ? OUTPATH_DIR : OUTPATH_PRIVATE };
	p[n++] = (struct outpath){ "--mbox", o->mbox, OUTPATH_PRIVATE };
	bool report_file = o->mailbox_report && strcmp(o->mailbox_report, "-") != 0; /* "-": in the events */
	p[n++] = (struct outpath){ "--mailbox-report", report_file ? o->mailbox_report : NULL,
				   OUTPATH_REPORT };
	p[n++] = (struct outpath){ "-x", o->extract_dir, OUTPATH_DIR };
	return n;
}

static struct hashes_out *open_hashes(const char *path)
{
	char err[300];
	struct hashes_out *h = hashes_open(path, err, sizeof(err));
	if (!h)
		fprintf(stderr, "popsift: cannot write hashes to '%s': %s\n", path, err);
	return h;
}

/* Live: pcap_stats(), as capture.h defines its counters. */
static void print_kernel_counters(const struct capture_stats *cs)
{
	char iface[96];
	if (cs->iface_counted)
		snprintf(iface, sizeof(iface), ", %llu dropped by the interface",
			 (unsigned long long)cs->iface_dropped);
	else
		snprintf(iface, sizeof(iface), "; the interface's drops are counted with --promisc");
	fprintf(stderr, "popsift: kernel: %llu packets received, %llu dropped (ring full)%s\n",
		(unsigned long long)cs->kernel_received, (unsigned long long)cs->kernel_dropped, iface);
	if (cs->kernel_dropped)
		fprintf(stderr, "popsift: warning: the kernel dropped %llu packets; each session open "
				"then counts them in kernel_drops (a larger -B may help)\n",
			(unsigned long long)cs->kernel_dropped);
}

/* Files: what only reading files can say (the order, -f, cut frames). */
static void print_file_summary(const struct capture *cap, const struct capture_stats *cs,
			       const struct reasm_stats *rs, const struct options *o)
{
	bool reordered = false;
	for (size_t i = 0; i < o->n_inputs; i++)
		reordered |= capture_file_order(cap, i) != i;
	if (reordered) {
		fprintf(stderr, "popsift: files read in the order of their first packets (pcap_cnt counts in it):");
		for (size_t i = 0; i < o->n_inputs; i++)
			fprintf(stderr, "%s '%s'", i ? "," : "", o->inputs[capture_file_order(cap, i)]);
		fputc('\n', stderr);
	}
	if (o->filter)
		fprintf(stderr, "popsift: %llu packets did not match the filter (-f '%s')\n",
			(unsigned long long)cs->filtered, o->filter);
	if (cs->snaplen_cut)
		fprintf(stderr, "popsift: warning: %llu frames cut by the capture's snapshot length "
				"(%llu TCP segments of followed connections, %llu bytes of them not "
				"captured, reported as gaps; snaplen_cut in the session events): "
				"capture without a limit (tcpdump -s 0)\n",
			(unsigned long long)cs->snaplen_cut, (unsigned long long)rs->snaplen_cut,
			(unsigned long long)rs->snaplen_cut_bytes);
}

static void print_summary(const struct capture *cap, const struct session_table *t,
			  const struct output *out, const struct options *o)
{
	struct capture_stats cs;
	struct reasm_stats rs;
	capture_get_stats(cap, &cs);
	reasm_get_stats(&rs);
	char what[64];
	if (cs.live)
		snprintf(what, sizeof(what), "live capture");
	else
		snprintf(what, sizeof(what), "%u file%s", cs.files, cs.files == 1 ? "" : "s");
	fprintf(stderr,
		"popsift: %s, %llu packets, %llu bytes; %llu TCP sessions followed; "
		"%lu %s\n",
		what, (unsigned long long)cs.packets,
		(unsigned long long)cs.bytes, (unsigned long long)t->opened_total,
		output_events_written(out), output_events_noun(out));
	fprintf(stderr,
		"popsift: %llu picked up mid-stream, %llu bytes lost in gaps, %llu ended by port "
		"reuse, %llu IPv6 packets, %llu libnids warnings\n",
		(unsigned long long)rs.midstream, (unsigned long long)rs.gap_bytes,
		(unsigned long long)rs.port_reuse, (unsigned long long)rs.ipv6,
		(unsigned long long)rs.nids_warnings);
	if (cs.live)
		print_kernel_counters(&cs);
	else
		print_file_summary(cap, &cs, &rs, o);
	print_tls_summary(t);
	if (o->shard.n > 1)
		fprintf(stderr, "popsift: shard %u/%u: %llu of the %llu packets belong to the other "
				"shards' address pairs: skipped, not lost (their runs analyse them)\n",
			o->shard.k, o->shard.n, (unsigned long long)cs.shard_skipped,
			(unsigned long long)cs.packets);
	if (rs.half_open)
		fprintf(stderr, "popsift: %llu half-open connections (handshake never completed) not followed\n",
			(unsigned long long)rs.half_open);
	/* a capture that gave nothing, although --detect would have found POP */
	if (!t->opened_total && rs.look_like_pop)
		fprintf(stderr, "popsift: %llu%s connection%s on other ports look%s like POP: try --detect\n",
			(unsigned long long)rs.look_like_pop, rs.look_like_pop >= REASM_HINT_MAX ? " or more" : "",
			rs.look_like_pop == 1 ? "" : "s", rs.look_like_pop == 1 ? "s" : "");
	if (rs.evicted || rs.short_fragments || cs.truncated || rs.ipv6_fragments || rs.ipv6_unmapped)
		fprintf(stderr,
			"popsift: warning: %llu streams evicted (table full: raise --max-streams), "
			"%llu short IPv4 fragments dropped, %llu truncated frames, %llu IPv6 "
			"fragments and %llu IPv6 packets over the address limit not analysed\n",
			(unsigned long long)rs.evicted, (unsigned long long)rs.short_fragments,
			(unsigned long long)cs.truncated, (unsigned long long)rs.ipv6_fragments,
			(unsigned long long)rs.ipv6_unmapped);
}

/*
 * libnids' byte counters are rebased past REASM_REBASE_AT. POPSIFT_TEST_REBASE_AT
 * lowers the threshold so a test can prove the rebase on a small capture.
 */
static int rebase_threshold(void)
{
	const char *v = getenv("POPSIFT_TEST_REBASE_AT");
	long n = v ? strtol(v, NULL, 10) : 0;
	return n > 0 && n < REASM_REBASE_AT ? (int)n : REASM_REBASE_AT;
}

/* What the packet loop calls back into, live, between packets (SIGHUP, SIGUSR1). */
struct run_ctx {
	const struct options *o;
	struct capture *cap;
	struct session_table *sessions; /* NULL until the capture is read */
	struct output *out;
	FILE *fp;
	/* TLS secrets: --tls-keylog, then Decryption Secrets Blocks as files give them
	   (already while they are opened, before the session table exists). */
	struct tls_keylog *keys;
};

/* SIGHUP: logrotate moved the -o file; continue in a new one of the same name. */
static void on_reopen(void *ctx)
{
	struct run_ctx *r = ctx;
	if (!r->o->output || strcmp(r->o->output, "-") == 0)
		return;
	FILE *fp = fopen(r->o->output, "a");
	if (!fp) {
		fprintf(stderr, "popsift: warning: cannot reopen '%s': %s; still writing to the old file\n",
			r->o->output, strerror(errno));
		return;
	}
	setvbuf(fp, NULL, _IOLBF, 0);
	output_set_fp(r->out, fp);
	fclose(r->fp);
	r->fp = fp;
	capture_watch_output(fileno(fp));
}

static void on_report(void *ctx)
{
	struct run_ctx *r = ctx;
	print_summary(r->cap, r->sessions, r->out, r->o);
}

static void on_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len)
{
	struct run_ctx *r = ctx;
	add_secrets(&r->keys, type, data, len);
	if (r->sessions)
		r->sessions->keys = r->keys;
}

/*
 * POPSIFT_HASH_SHARING=always|never: whether the capture thread hashes messages
 * itself (output.h). For tests, which must see both paths give the same events;
 * by default it does when the output thread falls behind.
 */
static enum hash_sharing hash_sharing_from_env(void)
{
	const char *v = getenv("POPSIFT_HASH_SHARING");
	if (v && strcmp(v, "always") == 0)
		return HASH_SHARE_ALWAYS;
	if (v && strcmp(v, "never") == 0)
		return HASH_SHARE_NEVER;
	return HASH_SHARE_AUTO;
}

/* Live: what the kernel dropped while a session was open (session_table_count_drops). */
static uint64_t drops_between(void *ctx, const struct timeval *from, const struct timeval *to)
{
	return capture_drops_between(ctx, from, to);
}

/*
 * The exit status of a run that read everything it was going to: `sig` the
 * signal that stopped it early (capture_stop_signal()), `closed` whether the
 * output was written in full. A reader of the events that went away (| head)
 * is no error to report: the run stops quietly with 141.
 */
static int run_status(const struct options *o, int sig, bool captured, bool closed)
{
	if (sig == SIGPIPE || (!closed && capture_output_gone()))
		return 128 + SIGPIPE;
	if (!closed) {
		fprintf(stderr, "popsift: writing the output failed: %s\n", strerror(errno));
		return EXIT_INPUT;
	}
	if (!captured)
		return EXIT_INPUT;
	return sig && !o->iface ? 128 + sig : 0; /* live: a stop signal is how it ends */
}

/* Reads the capture into the engine; the sessions still open end with `why` the run stopped. */
static int analyse_run(const struct options *o, struct run_ctx *r, struct capture_hooks *hooks)
{
	bool captured = capture_run(r->cap, hooks);
	int sig = capture_stop_signal(r->cap);
	if (sig && !o->iface && sig != SIGPIPE)
		fprintf(stderr, "popsift: %s: reading stopped; open sessions end as \"interrupted\"\n",
			sig == SIGINT ? "SIGINT" : "SIGTERM");
	reasm_finish_as(sig && !o->iface ? END_INTERRUPTED : END_CAPTURE_END);
	output_flush(r->out); /* the summary counts every event, written by now */
	if (!o->quiet && sig != SIGPIPE && !capture_output_gone())
		print_summary(r->cap, r->sessions, r->out, o);
	bool closed = output_close(r->out);
	return run_status(o, sig, captured, closed);
}

/* Analyses the inputs; returns the exit status. r->fp may be replaced (SIGHUP). */
static int analyse(const struct options *o, struct run_ctx *r, struct capture_hooks *hooks,
		   struct hashes_out *hashes)
{
	static char outbuf[OUTPUT_BUFFER]; /* static: stdout may be flushed at exit */
	/* Offline: buffered, not per line. Live: each event as it happens. */
	setvbuf(r->fp, outbuf, o->iface ? _IOLBF : _IOFBF, sizeof(outbuf));
	capture_watch_output(fileno(r->fp));
	struct output_config oc = { .fp = r->fp, .show_passwords = o->show_passwords,
				    .transactions = o->transactions, .hashes = hashes,
				    .extract_dir = o->extract_dir, .mbox_path = o->mbox,
				    .bruteforce = o->bruteforce, .text = o->text,
				    .html = o->html, .html_path = o->output,
				    .mailbox_report = o->mailbox_report,
				    .threaded = !o->single_thread && sysconf(_SC_NPROCESSORS_ONLN) > 1,
				    .hash_sharing = hash_sharing_from_env() };
	r->out = output_open(&oc);
	if (!r->out)
		return EXIT_INPUT; /* output_open said why */
	struct session_table sessions;
	session_table_init(&sessions, r->out);
	sessions.frame = capture_frame_number(r->cap);
	sessions.keys = r->keys;
	sessions.sensor = o->sensor;
	if (o->iface)
		session_table_count_drops(&sessions, drops_between, r->cap);
	r->sessions = &sessions;
	struct reasm_config rc = { .port_map = o->port_map, .max_streams = o->max_streams,
				   .sessions = &sessions, .rebase_at = rebase_threshold(),
				   .idle_timeout = o->idle_timeout, .detect = o->detect };
	char err[256];
	if (!reasm_init(&rc, err, sizeof(err))) {
		fprintf(stderr, "popsift: %s\n", err);
		output_close(r->out);
		return EXIT_INTERNAL;
	}
	return analyse_run(o, r, hooks);
}

/* The CPUs this process may run on (taskset, cgroups' cpusets), at least 1. */
static unsigned workers_cpus(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	return (unsigned)CPU_COUNT(&set);
}

/*
 * --workers N: the workers' engine and output as analyse() sets up one
 * process's, with the cross-session alerts left to the parent (workers.h).
 */
static int analyse_workers(const struct options *o, struct run_ctx *r)
{
	static char outbuf[OUTPUT_BUFFER];
	setvbuf(r->fp, outbuf, o->iface ? _IOLBF : _IOFBF, sizeof(outbuf));
	capture_watch_output(fileno(r->fp));
	struct workers_config wc = { .n = o->workers, .keys = &r->keys, .cap = r->cap,
				     .paths = o->inputs, .n_paths = o->n_inputs,
				     .output_path = o->output, .quiet = o->quiet };
	/* An output thread per worker only where each worker has a second CPU for it. */
	wc.out = (struct output_config){ .show_passwords = o->show_passwords,
					 .transactions = o->transactions, .extract_dir = o->extract_dir,
					 .bruteforce = { 0, 0, o->bruteforce.window },
					 .threaded = !o->single_thread && workers_cpus() >= 2 * o->workers,
					 .hash_sharing = hash_sharing_from_env() };
	wc.reasm = (struct reasm_config){ .port_map = o->port_map, .max_streams = o->max_streams,
					  .rebase_at = rebase_threshold(),
					  .idle_timeout = o->idle_timeout, .detect = o->detect };
	wc.replay = (struct replay_config){ .fp = r->fp, .format = o->text ? REPLAY_TEXT : REPLAY_ALERTS,
					    .show_passwords = o->show_passwords,
					    .mailbox_report = o->mailbox_report,
					    .bruteforce = o->bruteforce };
	struct live_config lc = { .iface = o->iface, .filter = o->filter, .port_map = o->port_map,
				  .promisc = o->promisc, .detect = o->detect,
				  .buffer_kib = o->buffer_kib };
	if (o->iface)
		wc.live = &lc;
	wc.shard = o->iface && o->shard.n > 1 ? &o->shard : NULL;
	wc.sensor = o->sensor;
	return workers_run(&wc);
}

/* Files (every one opened and its first packet read) or the interface; NULL: *rc says why. */
static struct capture *open_input(const struct options *o, const struct capture_hooks *hooks,
				  int *rc)
{
	*rc = EXIT_INPUT;
	if (!o->iface) {
		struct file_config fc = { o->inputs, o->n_inputs, o->filter, hooks };
		bool usage_error = false;
		struct capture *c = capture_open(&fc, &usage_error);
		if (usage_error)
			*rc = EXIT_USAGE;
		return c;
	}
	struct live_config lc = { .iface = o->iface, .filter = o->filter, .port_map = o->port_map,
				  .promisc = o->promisc, .detect = o->detect, .user = o->user,
				  .buffer_kib = o->buffer_kib };
	return capture_open_live(&lc);
}

/* Closes -o and --hashes; a failure to write them in full makes the run's status 2. */
static int close_outputs(const struct options *o, FILE *fp, struct hashes_out *hashes, int rc)
{
	if (fp && fp != stdout && fclose(fp) != 0 && rc == 0) {
		fprintf(stderr, "popsift: writing events to '%s' failed: %s\n", o->output, strerror(errno));
		rc = EXIT_INPUT;
	}
	char err[300];
	if (!hashes_close(hashes, err, sizeof(err)) && rc == 0) {
		fprintf(stderr, "popsift: writing hashes to '%s' failed: %s\n", o->hashes, err);
		rc = EXIT_INPUT;
	}
	return rc;
}

/*
 * Evidence first: no output may be an input or another output (refused before
 * anything is opened), the inputs are opened and their first packets read,
 * every output is proven writable without truncating anything, and only then
 * are -o and --hashes opened for real.
 */
static int run(const struct options *o)
{
	struct outpath outs[OUT_PATHS];
	size_t n_outs = output_paths(o, outs);
	if (!outpaths_distinct(o->inputs, o->n_inputs, outs, n_outs))
		return EXIT_INPUT;
	struct run_ctx r = { .o = o };
	if (!load_keylogs(o, &r.keys))
		return EXIT_INPUT;
	struct capture_hooks hooks = { .reopen = on_reopen, .report = on_report,
				       .secrets = on_secrets, .ctx = &r };
	int rc;
	bool live_workers = o->iface && o->workers > 1; /* each worker opens its own capture */
	r.cap = live_workers ? NULL : open_input(o, &hooks, &rc);
	if (!r.cap && !live_workers) {
		tls_keylog_free(r.keys);
		return rc;
	}
	if (r.cap)
		capture_set_shard(r.cap, &o->shard);
	if (!o->quiet && r.cap)
		capture_show_progress(r.cap);
	struct hashes_out *hashes = NULL;
	rc = EXIT_INPUT;
	if (outpaths_writable(outs, n_outs) && (r.fp = open_output(o)) &&
	    (!o->hashes || (hashes = open_hashes(o->hashes))))
		rc = o->workers > 1 ? analyse_workers(o, &r) : analyse(o, &r, &hooks, hashes);
	rc = close_outputs(o, r.fp, hashes, rc);
	capture_close(r.cap);
	tls_keylog_free(r.keys);
	return rc;
}

int main(int argc, char **argv)
{
	output_run_child(); /* the attachment parser, when this process is one */
	/* `popsift report ...`: the reports rebuilt from events (src/report.c); no capture. */
	if (argc > 1 && strcmp(argv[1], "report") == 0)
		return report_main(argc - 1, argv + 1);
	struct options o;
	parse_options(&o, argc, argv);
	int rc = run(&o);
	free(o.inputs);
	free(o.keylogs);
	if (rc == 128 + SIGPIPE)
		signal(SIGPIPE, SIG_IGN); /* exit()'s flush of a dead standard output stays quiet */
	return rc;
}
