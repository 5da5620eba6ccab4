/*
 * text.c - the human summary (-T text), a writer (writer.h) of logins and
 * alerts: a header naming the columns (times are UTC), one line per login as it
 * happens, one per alert a login line does not already show (brute-force,
 * password-spray, stls-offered-not-used), then per server a table of the users
 * and mechanisms seen, sorted, and the alerts counted. Owns the table's data
 * (one row per server, user and mechanism); passwords appear only with
 * --show-passwords, as in JSON. Also the --mailbox-report's text form.
 */
#include "text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "utf8.h"

#define TEXT_FIELD_MAX 256 /* longest user name shown in full */

/* The alerts shown as lines of their own: the others are visible in the login lines. */
static const char *const text_alerts[] = { "brute-force", "password-spray", "stls-offered-not-used" };
#define TEXT_N_ALERTS (sizeof(text_alerts) / sizeof(text_alerts[0]))

struct text_row {
	char *server;     /* "ip:port" */
	char *proto;
	char *user;
	char *mechanism;
	unsigned ok, failed, unknown;
	bool cleartext;
};

struct text_out {
	struct writer w; /* first: output.c sees only this */
	FILE *fp;
	bool show_passwords;
	struct text_row *rows;
	size_t n, cap;
	unsigned long n_alerts[TEXT_N_ALERTS];
};

/* A capture time as the summary shows it, in UTC (the header says so). */
static void text_time(const struct timeval *tv, char *buf, size_t n)
{
	struct tm tm;
	time_t sec = tv->tv_sec;
	gmtime_r(&sec, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
}

/* "ip:port", IPv6 addresses in brackets. */
static void text_endpoint(char *buf, size_t n, const char *ip, unsigned port)
{
	snprintf(buf, n, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
}

/* Wire bytes made printable: the \xNN rule, and control characters escaped too. */
static char *text_str(struct bytes b)
{
	size_t n = b.n < TEXT_FIELD_MAX ? b.n : TEXT_FIELD_MAX;
	char *esc = malloc(UTF8_ESCAPED_MAX(n));
	if (!esc)
		return strdup("?");
	size_t len = utf8_escape(b.p, n, esc);
	char *out = malloc(len * 4 + 4); /* each character may become \xNN */
	if (!out) {
		free(esc);
		return strdup("?");
	}
	/* Control characters would move a terminal's cursor: show them as \xNN. */
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)esc; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)sprintf(out + o, "\\x%02x", *p);
		else
			out[o++] = (char)*p;
	}
	memcpy(out + o, b.n > n ? "..." : "", b.n > n ? 4 : 1);
	free(esc);
	return out;
}

static struct text_row *text_row(struct text_out *t, const char *server, const char *proto,
				 const char *user, const char *mech)
{
	for (size_t i = 0; i < t->n; i++) {
		struct text_row *r = &t->rows[i];
		if (!strcmp(r->server, server) && !strcmp(r->user, user) && !strcmp(r->mechanism, mech))
			return r;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct text_row *rows = realloc(t->rows, cap * sizeof(*rows));
		if (!rows)
			return NULL;
		t->rows = rows;
		t->cap = cap;
	}
	struct text_row *r = &t->rows[t->n++];
	*r = (struct text_row){ strdup(server), strdup(proto), strdup(user), strdup(mech), 0, 0, 0, false };
	return r;
}

static void text_auth(struct writer *w, const struct flow *f, const struct ev_auth *a)
{
	struct text_out *t = (struct text_out *)w;
	char when[32], client[80], server[80];
	text_time(&f->now, when, sizeof(when));
	text_endpoint(client, sizeof(client), f->client_ip, f->client_port);
	text_endpoint(server, sizeof(server), f->server_ip, f->server_port);
	char *user = text_str(a->username);
	fprintf(t->fp, "%s  %-21s -> %-21s %-4s  %-12s %-24s %-7s%s", when, client, server, f->app_proto,
		a->mechanism, user[0] ? user : "-", auth_result_name(a->result), a->cleartext ? "  CLEARTEXT" : "");
	if (a->result == AUTH_RESULT_FAILURE && a->failure && strcmp(a->failure, "credentials") != 0)
		fprintf(t->fp, "  (%s)", a->failure);
	if (t->show_passwords && a->cleartext) {
		char *pw = text_str(a->password);
		fprintf(t->fp, "  password=%s", pw);
		free(pw);
	}
	fputc('\n', t->fp);
	atomic_fetch_add_explicit(&t->w.events, 1, memory_order_relaxed);
	struct text_row *r = text_row(t, server, f->app_proto, user, a->mechanism);
	free(user);
	if (!r)
		return;
	r->ok += a->result == AUTH_RESULT_SUCCESS;
	r->failed += a->result == AUTH_RESULT_FAILURE;
	r->unknown += a->result == AUTH_RESULT_UNKNOWN;
	r->cleartext |= a->cleartext;
}

/* Which of text_alerts[] a signature is, or TEXT_N_ALERTS for one not shown. */
static size_t text_alert_kind(const char *signature)
{
	for (size_t i = 0; i < TEXT_N_ALERTS; i++)
		if (strcmp(signature, text_alerts[i]) == 0)
			return i;
	return TEXT_N_ALERTS;
}

/* A cross-session alert's evidence: failures, window, times, the users tried. */
static void text_alert_counts(FILE *fp, const struct alert_counts *k)
{
	char first[32], last[32];
	text_time(&k->first, first, sizeof(first));
	text_time(&k->last, last, sizeof(last));
	fprintf(fp, "  %u failed logins, %s to %s (window %u s); %u user%s:", k->failures, first, last,
		k->window, k->users_total, k->users_total == 1 ? "" : "s");
	for (size_t i = 0; i < k->n_users; i++) {
		char *u = text_str(k->users[i]);
		fprintf(fp, "%s%s", i ? ", " : " ", u[0] ? u : "-");
		free(u);
	}
	if (k->users_total > k->n_users)
		fprintf(fp, ", ...");
}

/* One line per alert the login lines do not show, in the same columns. */
static void text_alert(struct writer *w, const struct flow *f, const struct alert_record *a)
{
	struct text_out *t = (struct text_out *)w;
	size_t kind = text_alert_kind(a->signature);
	if (kind == TEXT_N_ALERTS)
		return;
	t->n_alerts[kind]++;
	char when[32], client[80], server[80];
	text_time(&f->now, when, sizeof(when));
	text_endpoint(client, sizeof(client), f->client_ip, f->client_port);
	text_endpoint(server, sizeof(server), f->server_ip, f->server_port);
	fprintf(t->fp, "%s  %-21s -> %-21s %-4s  ALERT %s", when, client, server, f->app_proto,
		a->signature);
	if (a->username.n) {
		char *u = text_str(a->username);
		fprintf(t->fp, "  user %s", u);
		free(u);
	}
	if (a->counts)
		text_alert_counts(t->fp, a->counts);
	fputc('\n', t->fp);
	atomic_fetch_add_explicit(&t->w.events, 1, memory_order_relaxed);
}

static int text_by_server_user(const void *x, const void *y)
{
	const struct text_row *a = x, *b = y;
	int c = strcmp(a->server, b->server);
	if (!c)
		c = strcmp(a->user, b->user);
	return c ? c : strcmp(a->mechanism, b->mechanism);
}

/* The closing table: per server, each user's mechanisms and outcomes. */
static void text_table(struct text_out *t)
{
	qsort(t->rows, t->n, sizeof(*t->rows), text_by_server_user);
	int uw = 4;
	for (size_t i = 0; i < t->n; i++)
		uw = (int)strlen(t->rows[i].user) > uw ? (int)strlen(t->rows[i].user) : uw;
	uw = uw > 40 ? 40 : uw;
	for (size_t i = 0; i < t->n; i++) {
		const struct text_row *r = &t->rows[i];
		if (i == 0 || strcmp(r->server, t->rows[i - 1].server) != 0)
			fprintf(t->fp, "\nserver %s (%s)\n  %-*s  %-14s %6s %6s %7s  %s\n", r->server, r->proto, uw,
				"user", "mechanism", "ok", "failed", "unknown", "cleartext");
		fprintf(t->fp, "  %-*s  %-14s %6u %6u %7u  %s\n", uw, r->user[0] ? r->user : "-", r->mechanism,
			r->ok, r->failed, r->unknown, r->cleartext ? "YES" : "no");
	}
}

/* The alerts shown, counted. */
static void text_alert_totals(const struct text_out *t)
{
	const char *sep = "\nalerts:";
	for (size_t i = 0; i < TEXT_N_ALERTS; i++) {
		if (!t->n_alerts[i])
			continue;
		fprintf(t->fp, "%s %s %lu", sep, text_alerts[i], t->n_alerts[i]);
		sep = ",";
	}
	if (strcmp(sep, ",") == 0)
		fputc('\n', t->fp);
}

/* The end of the input: the table, and the alerts counted. */
static void text_finish(struct writer *w)
{
	struct text_out *t = (struct text_out *)w;
	if (t->n)
		text_table(t);
	else
		fprintf(t->fp, "no logins seen\n");
	text_alert_totals(t);
	if (ferror(t->fp))
		fprintf(stderr, "popsift: writing the summary failed\n");
}

static bool text_flush(struct writer *w)
{
	struct text_out *t = (struct text_out *)w;
	return fflush(t->fp) == 0 && !ferror(t->fp);
}

static void text_set_fp(struct writer *w, FILE *fp)
{
	((struct text_out *)w)->fp = fp;
}

static void text_free(struct writer *w)
{
	struct text_out *t = (struct text_out *)w;
	for (size_t i = 0; i < t->n; i++) {
		free(t->rows[i].server);
		free(t->rows[i].proto);
		free(t->rows[i].user);
		free(t->rows[i].mechanism);
	}
	free(t->rows);
	free(t);
}

static const struct writer_ops text_ops = {
	.auth = text_auth,
	.alert = text_alert,
	.flush = text_flush,
	.set_fp = text_set_fp,
	.finish = text_finish,
	.free = text_free,
};

struct writer *text_writer_open(FILE *fp, bool show_passwords)
{
	struct text_out *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->w.ops = &text_ops;
	t->fp = fp;
	t->show_passwords = show_passwords;
	fprintf(fp, "%-19s  %-21s    %-21s %-4s  %-12s %-24s %s\n", "time (UTC)", "client", "server",
		"app", "mechanism", "user", "result");
	return &t->w;
}

/* One session of a mailbox's timeline: logins, then what it did to messages. */
static void text_report_session(FILE *fp, const struct mbr_session *s)
{
	char start[32];
	text_time(&s->start, start, sizeof(start));
	fprintf(fp, "  %s  %-22s %s", start, s->client, s->app_proto[0] ? s->app_proto : "pop3");
	for (size_t i = 0; i < s->n_logins; i++)
		fprintf(fp, "%s%s %s", i ? ", " : "  login ", s->logins[i].mechanism,
			auth_result_name(s->logins[i].result));
	fputc('\n', fp);
	size_t listed = 0, fresh = 0, marked = 0;
	for (size_t i = 0; i < s->n_listed; i++) {
		listed += s->listed[i].uid != NULL;
		fresh += s->listed[i].uid && s->listed[i].is_new;
		marked += s->listed[i].marked;
	}
	fprintf(fp, "      listed %zu uid%s, %zu new\n", listed, listed == 1 ? "" : "s", fresh);
	for (size_t i = 0; i < s->n_retrieved; i++) {
		const struct mbr_retrieval *r = &s->retrieved[i];
		fprintf(fp, "      %-4s %-5u %-24s %8llu octets  sha256 %.16s...%s\n", r->command, r->number,
			r->uid ? r->uid : "-", (unsigned long long)r->size, r->sha256,
			r->complete ? "" : "  INCOMPLETE");
	}
	if (marked) {
		static const char *const fate[] = { "capture ended first: unknown", "committed", "NOT committed" };
		fprintf(fp, "      marked for deletion:");
		for (size_t i = 0; i < s->n_listed; i++)
			if (s->listed[i].marked)
				fprintf(fp, " %u(%s)", s->listed[i].number, s->listed[i].uid ? s->listed[i].uid : "-");
		fprintf(fp, " -> %s\n", fate[s->committed]);
	}
}

bool text_mailbox_report(FILE *fp, const struct mbr_mailbox *boxes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct mbr_mailbox *b = &boxes[i];
		fprintf(fp, "%smailbox %s on %s: %zu session%s, %zu message%s known by uid\n", i ? "\n" : "",
			b->user, b->server, b->n_sessions, b->n_sessions == 1 ? "" : "s", b->n_messages,
			b->n_messages == 1 ? "" : "s");
		for (size_t k = 0; k < b->n_sessions; k++)
			text_report_session(fp, &b->sessions[k]);
		for (size_t k = 0; k < b->n_messages; k++) {
			const struct mbr_message *m = &b->messages[k];
			if (m->deleted)
				fprintf(fp, "  uid %s: retrieved %u time%s, deletion %s\n", m->uid, m->times_retrieved,
					m->times_retrieved == 1 ? "" : "s", m->deleted);
		}
	}
	return fflush(fp) == 0 && !ferror(fp);
}
