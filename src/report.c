/*
 * report.c - `popsift report [OPTIONS] [EVENTS...]`: reads popsift's own
 * NDJSON events (files, standard input, FIFOs; gzip, zstd, lz4 or xz by
 * content, through capsource.h), from one run or many concatenated, and
 * writes what a capture run over all of it would have written: the
 * cross-session alerts, the -T text summary, the --mailbox-report, the HTML
 * report. The records come from output/evread.c, the writers and the alert
 * policy are the capture run's own (output/replay.c).
 *
 * Owns the command line of the subcommand, the line splitting (bounded:
 * REPORT_LINE_MAX) and what is said about the input on standard error. The
 * TLS layer's numbers behind a tls event's names come from report_tls.c.
 */
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../output/evread.h"
#include "../output/json.h"
#include "../output/replay.h"
#include "capsource.h"
#include "exitcode.h"
#include "report_tls.h"

#define REPORT_LINE_MAX (64u << 20) /* the longest event read (a session listing 100,000 uids) */
#define REPORT_ERRORS_SHOWN 5       /* bad lines named one by one; then only counted */
#define REPORT_OUTPUT_BUFFER (1 << 20)

struct report_opts {
	struct replay_config rc;
	const char *output;
	bool quiet;
	const char **inputs;
	size_t n_inputs;
};

/* What the input held, for the closing lines on standard error. */
struct report_count {
	unsigned long lines, events, alerts_skipped, other;
	unsigned long invalid, newer, unversioned, no_listing, cleartext, passwords;
	long long newest;
};

static const char report_usage_text[] =
	"Usage: popsift report [OPTIONS] [EVENTS.json ...]\n"
	"\n"
	"Reads popsift's JSON events (files, or standard input when none or '-' is\n"
	"given; gzip, zstd, lz4 and xz are recognised by content), of one run or of\n"
	"many concatenated, and writes what one capture run over all of them would\n"
	"have written. By default: the cross-session alert events (brute-force,\n"
	"password-spray), decided over the whole input.\n"
	"\n"
	"  -o, --output FILE      write to FILE instead of standard output\n"
	"  -T, --format FORMAT    json (default): the alert events; text: the -T text\n"
	"                         summary (a line per login, a table per server)\n"
	"      --mailbox-report FILE  the mailbox report, as the capture run's option\n"
	"                         ('-' appends it to the output)\n"
	"      --html FILE        a self-contained HTML report: summary, timeline per\n"
	"                         server and user, logins, alerts, mailboxes, messages\n"
	"  -x, --extract DIR      where the capture run's -x wrote the messages: the\n"
	"                         HTML report links them, relative to its own directory\n"
	"      --show-passwords   show the passwords the events carry (written with\n"
	"                         --show-passwords) in the text and HTML reports\n"
	"      --brute-force-failures N, --spray-users N, --alert-window SEC\n"
	"                         the thresholds of the alerts, as for a capture run\n"
	"  -q, --quiet            no summary on standard error\n"
	"  -h, --help             this help\n"
	"\n"
	"Exit status: 0 success, 1 usage error, 2 an input could not be read, held\n"
	"lines that are not popsift events, or events of a newer schema_version\n"
	"(reported and skipped, never guessed at); the reports cover the rest.\n";

__attribute__((format(printf, 1, 2), noreturn)) static void report_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "popsift report: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'popsift report --help'.\n");
	va_end(ap);
	exit(EXIT_USAGE);
}

static unsigned report_number(const char *s, const char *what, unsigned long min, unsigned long max)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || s[0] == '-')
		report_die("invalid %s '%s' (expected a number from %lu to %lu)", what, s, min, max);
	return (unsigned)v;
}

enum {
	ROPT_MAILBOX = 256,
	ROPT_HTML,
	ROPT_SHOW_PASSWORDS,
	ROPT_BRUTE,
	ROPT_SPRAY,
	ROPT_WINDOW,
};

static const struct option report_longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'T' },
	{ "mailbox-report", required_argument, NULL, ROPT_MAILBOX },
	{ "html", required_argument, NULL, ROPT_HTML },
	{ "extract", required_argument, NULL, 'x' },
	{ "show-passwords", no_argument, NULL, ROPT_SHOW_PASSWORDS },
	{ "brute-force-failures", required_argument, NULL, ROPT_BRUTE },
	{ "spray-users", required_argument, NULL, ROPT_SPRAY },
	{ "alert-window", required_argument, NULL, ROPT_WINDOW },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void report_option(struct report_opts *o, int ch, char **argv)
{
	switch (ch) {
	case 'o': o->output = optarg; break;
	case 'T':
		if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
			report_die("-T takes 'json' or 'text', not '%s' (the HTML report: --html FILE)", optarg);
		o->rc.format = strcmp(optarg, "text") == 0 ? REPLAY_TEXT : REPLAY_ALERTS;
		break;
	case ROPT_MAILBOX: o->rc.mailbox_report = optarg; break;
	case ROPT_HTML: o->rc.html = optarg; break;
	case 'x': o->rc.extract_dir = optarg; break;
	case ROPT_SHOW_PASSWORDS: o->rc.show_passwords = true; break;
	case ROPT_BRUTE:
		o->rc.bruteforce.failures = report_number(optarg, "--brute-force-failures", 0, 1000000);
		break;
	case ROPT_SPRAY: o->rc.bruteforce.users = report_number(optarg, "--spray-users", 0, 64); break;
	case ROPT_WINDOW:
		o->rc.bruteforce.window = report_number(optarg, "--alert-window", 1, 30 * 86400);
		break;
	case 'q': o->quiet = true; break;
	case 'h': fputs(report_usage_text, stdout); exit(0);
	case ':': report_die("option '%s' needs an argument", argv[optind - 1]);
	default: report_die("unknown option '%s'", argv[optind - 1]);
	}
}

/*
 * POPSIFT_REPORT_EVENTS=1: write every event again instead of the alerts, as
 * this popsift writes it, alerts derived anew. For tests: the events of a
 * capture run read back and written again must be the same bytes, which
 * proves evread.c reads every field the writers use.
 */
static void report_parse(struct report_opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof(*o));
	o->rc.bruteforce = (struct bf_policy){ BF_DEFAULT_FAILURES, BF_DEFAULT_USERS, BF_DEFAULT_WINDOW };
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, ":o:T:x:qh", report_longopts, NULL)) != -1)
		report_option(o, ch, argv);
	const char *echo = getenv("POPSIFT_REPORT_EVENTS");
	if (echo && strcmp(echo, "1") == 0)
		o->rc.format = REPLAY_EVENTS;
	o->inputs = (const char **)argv + optind;
	o->n_inputs = (size_t)(argc - optind);
}

/* One line of input, told to the reader and the replay. */
static void report_line(struct evread *er, struct replay *rp, struct report_count *c, const char *name,
			const char *line, size_t n)
{
	while (n && (line[n - 1] == '\r' || line[n - 1] == ' '))
		n--;
	c->lines++;
	if (n == 0)
		return;
	struct evread_event ev;
	char err[EVREAD_ERR_MAX];
	enum evread_kind k = evread_line(er, line, n, &ev, err);
	if (k == EVR_INVALID || k == EVR_NEWER) {
		unsigned long *count = k == EVR_INVALID ? &c->invalid : &c->newer;
		if (c->invalid + c->newer < REPORT_ERRORS_SHOWN)
			fprintf(stderr, "popsift report: %s, line %lu: %s: skipped\n", name, c->lines, err);
		(*count)++;
		c->newest = ev.schema > c->newest ? ev.schema : c->newest;
		return;
	}
	c->events++;
	c->unversioned += ev.schema == 0;
	c->no_listing += k == EVR_SESSION && !ev.has_listing;
	c->passwords += k == EVR_AUTH && ev.has_password;
	c->cleartext += k == EVR_AUTH && ev.u.auth.cleartext;
	c->alerts_skipped += k == EVR_ALERT;
	c->other += k == EVR_OTHER;
	replay_event(rp, &ev);
}

/* A line longer than REPORT_LINE_MAX: said, and skipped to its end. */
static enum capsrc_status report_skip_long(struct capsrc *s, struct report_count *c, const char *name)
{
	if (c->invalid + c->newer < REPORT_ERRORS_SHOWN)
		fprintf(stderr, "popsift report: %s, line %lu: longer than %u MiB: skipped\n", name,
			c->lines + 1, REPORT_LINE_MAX >> 20);
	c->invalid++;
	c->lines++;
	for (;;) {
		const uint8_t *p;
		size_t avail;
		enum capsrc_status st = capsrc_peek(s, 1, &p, &avail);
		const uint8_t *nl = avail ? memchr(p, '\n', avail) : NULL;
		capsrc_consume(s, nl ? (size_t)(nl - p) + 1 : avail);
		if (nl || st != CAPSRC_OK)
			return st;
	}
}

/*
 * The next line: *p and *n (its newline excluded) valid until the next peek,
 * *take the octets to consume for it. *take == 0: the input ended. A line
 * of REPORT_LINE_MAX octets without its end: CAPSRC_ERROR.
 */
static enum capsrc_status report_next(struct capsrc *s, const uint8_t **p, size_t *n, size_t *take)
{
	size_t need = 1, scanned = 0, avail = 0;
	for (;;) {
		enum capsrc_status st = capsrc_peek(s, need, p, &avail);
		const uint8_t *nl = avail > scanned ? memchr(*p + scanned, '\n', avail - scanned) : NULL;
		if (nl) {
			*n = (size_t)(nl - *p);
			*take = *n + 1;
			return CAPSRC_OK;
		}
		if (st != CAPSRC_OK || avail >= REPORT_LINE_MAX) {
			*n = *take = avail; /* the last line, unterminated; or one too long */
			return avail >= REPORT_LINE_MAX ? CAPSRC_ERROR : st;
		}
		scanned = avail;
		need = avail * 2 < REPORT_LINE_MAX ? avail * 2 : REPORT_LINE_MAX;
	}
}

/* Every line of one input; false when it could not be read to its end. */
static bool report_input(const char *path, struct evread *er, struct replay *rp, struct report_count *c)
{
	char err[CAPSRC_ERR_MAX];
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	struct capsrc *s = capsrc_open(path, err, sizeof(err));
	if (!s) {
		fprintf(stderr, "popsift report: cannot read '%s': %s\n", name, err);
		return false;
	}
	enum capsrc_status st;
	for (;;) {
		const uint8_t *p;
		size_t n, take;
		st = report_next(s, &p, &n, &take);
		if (st == CAPSRC_ERROR && n >= REPORT_LINE_MAX) {
			st = report_skip_long(s, c, name);
			if (st != CAPSRC_OK)
				break;
			continue;
		}
		if (n)
			report_line(er, rp, c, name, (const char *)p, n);
		capsrc_consume(s, take);
		if (st != CAPSRC_OK || take == 0)
			break;
	}
	bool ok = st == CAPSRC_OK || st == CAPSRC_END;
	if (!ok)
		fprintf(stderr, "popsift report: reading '%s' failed: %s\n", name, capsrc_error(s));
	capsrc_close(s);
	return ok;
}

/* What was read, and what was not, on standard error. */
static void report_summary(const struct report_opts *o, const struct report_count *c, size_t inputs)
{
	if (c->invalid)
		fprintf(stderr, "popsift report: %lu line%s not popsift events: skipped\n", c->invalid,
			c->invalid == 1 ? "" : "s");
	if (c->newer)
		fprintf(stderr, "popsift report: %lu event%s of schema_version %lld, newer than this popsift "
			"reads (%d): skipped, not guessed at; use a newer popsift\n", c->newer,
			c->newer == 1 ? "" : "s", c->newest, JSON_SCHEMA_VERSION);
	if (c->no_listing)
		fprintf(stderr, "popsift report: warning: %lu session event%s without a listing (written "
			"by popsift 0.1.0): their uids_listed and new_uids are unknown\n", c->no_listing,
			c->no_listing == 1 ? "" : "s");
	if (o->rc.show_passwords && c->cleartext && !c->passwords)
		fprintf(stderr, "popsift report: warning: --show-passwords, but the events carry no password "
			"(they were written without --show-passwords)\n");
	if (!o->quiet)
		fprintf(stderr, "popsift report: %zu input%s, %lu lines, %lu events read (%lu alert events "
			"derived again from their logins and TLS sessions)\n", inputs, inputs == 1 ? "" : "s", c->lines,
			c->events, c->alerts_skipped);
}

static FILE *report_output(const char *path)
{
	if (!path || strcmp(path, "-") == 0)
		return stdout;
	FILE *fp = fopen(path, "w");
	if (!fp)
		fprintf(stderr, "popsift report: cannot write '%s': %s\n", path, strerror(errno));
	return fp;
}

int report_main(int argc, char **argv)
{
	static char outbuf[REPORT_OUTPUT_BUFFER]; /* static: stdout may be flushed at exit */
	struct report_opts o;
	report_parse(&o, argc, argv);
	static const char *const stdin_only[] = { "-" };
	const char *const *inputs = o.n_inputs ? o.inputs : stdin_only;
	size_t n_inputs = o.n_inputs ? o.n_inputs : 1;
	FILE *fp = report_output(o.output);
	if (!fp)
		return EXIT_INPUT;
	setvbuf(fp, outbuf, _IOFBF, sizeof(outbuf));
	o.rc.fp = fp;
	struct evread *er = evread_new();
	struct replay *rp = er ? replay_open(&o.rc) : NULL;
	if (!rp) {
		evread_free(er);
		return er ? EXIT_INPUT : EXIT_INTERNAL;
	}
	struct report_tls_names names = { 0 };
	evread_set_tls_names(er, &(struct evread_tls_names){ report_tls_version, report_tls_suite, &names });
	struct report_count c = { 0 };
	bool ok = true;
	for (size_t i = 0; i < n_inputs; i++)
		ok = report_input(inputs[i], er, rp, &c) && ok;
	evread_free(er);
	report_tls_names_free(&names);
	if (!replay_close(rp) || (fp != stdout ? fclose(fp) != 0 : fflush(fp) != 0)) {
		fprintf(stderr, "popsift report: writing the output failed: %s\n", strerror(errno));
		ok = false;
	}
	report_summary(&o, &c, n_inputs);
	return ok && !c.invalid && !c.newer ? 0 : EXIT_INPUT;
}
