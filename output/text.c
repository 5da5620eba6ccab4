/*
 * text.c - the human summary (-T text), a writer (writer.h) of logins,
 * alerts and TLS sessions: a header naming the columns (times are UTC), one
 * line per login as it happens, one per alert a login line does not already
 * show (brute-force, password-spray, stls-offered-not-used), then per server a
 * table of the users and mechanisms seen, sorted, the alerts counted, and per
 * server that spoke TLS a table of its versions and cipher suites and its
 * certificates' expiry. Owns the tables' data (one row per server, user and
 * mechanism; per server, version and cipher; per server and certificate);
 * passwords appear only with
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

/* TLS sessions of one server with one version and cipher suite. */
struct text_tls_row {
	char *server;
	char *version;
	char *cipher;
	unsigned sessions, decrypted;
};

/* One certificate one server presented; expiry as of the capture's time. */
struct text_cert_row {
	char *server;
	char sha256[65];
	char *subject, *issuer;
	int64_t not_after;
	bool self_signed, expired, not_yet_valid;
};

struct text_out {
	struct writer w; /* first: output.c sees only this */
	FILE *fp;
	bool show_passwords;
	struct text_row *rows;
	size_t n, cap;
	struct text_tls_row *tls;
	size_t n_tls, cap_tls;
	struct text_cert_row *certs;
	size_t n_certs, cap_certs;
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
	bool clear = auth_cleartext_on_wire(a, f);
	fprintf(t->fp, "%s  %-21s -> %-21s %-4s  %-12s %-24s %-7s%s", when, client, server, f->app_proto,
		a->mechanism, user[0] ? user : "-", auth_result_name(a->result), clear ? "  CLEARTEXT" : "");
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
	r->cleartext |= clear;
}

/* Room for one more element of an array of `size`-octet rows; false when out of memory. */
static bool text_room(void **rows, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 16;
	void *r = realloc(*rows, c * size);
	if (!r)
		return false;
	*rows = r;
	*cap = c;
	return true;
}

static void text_tls_count(struct text_out *t, const char *server, const struct ev_tls *e)
{
	for (size_t i = 0; i < t->n_tls; i++) {
		struct text_tls_row *r = &t->tls[i];
		if (!strcmp(r->server, server) && !strcmp(r->version, e->version_name) &&
		    !strcmp(r->cipher, e->cipher_suite)) {
			r->sessions++;
			r->decrypted += e->decrypted;
			return;
		}
	}
	if (!text_room((void **)&t->tls, t->n_tls, &t->cap_tls, sizeof(*t->tls)))
		return;
	t->tls[t->n_tls++] = (struct text_tls_row){ strdup(server), strdup(e->version_name),
						    strdup(e->cipher_suite), 1, e->decrypted };
}

static void text_cert_seen(struct text_out *t, const char *server, const struct ev_tls *e, int64_t now)
{
	struct text_cert_row *r = NULL;
	for (size_t i = 0; i < t->n_certs && !r; i++)
		if (!strcmp(t->certs[i].server, server) && !strcmp(t->certs[i].sha256, e->sha256))
			r = &t->certs[i];
	if (!r) {
		if (!text_room((void **)&t->certs, t->n_certs, &t->cap_certs, sizeof(*t->certs)))
			return;
		r = &t->certs[t->n_certs++];
		*r = (struct text_cert_row){ .server = strdup(server),
					     .subject = text_str(bytes_of(e->subject, strlen(e->subject))),
					     .issuer = text_str(bytes_of(e->issuer, strlen(e->issuer))),
					     .not_after = e->not_after, .self_signed = e->self_signed };
		snprintf(r->sha256, sizeof(r->sha256), "%s", e->sha256);
	}
	r->expired |= now > e->not_after;
	r->not_yet_valid |= now < e->not_before;
}

/* A TLS session: counted in its server's table of versions, ciphers and certificates. */
static void text_tls(struct writer *w, const struct flow *f, const struct ev_tls *e)
{
	struct text_out *t = (struct text_out *)w;
	if (!e->handshake || !e->server_hello)
		return;
	char server[80];
	snprintf(server, sizeof(server), strchr(f->server_ip, ':') ? "[%s]:%u" : "%s:%u", f->server_ip,
		 f->server_port);
	text_tls_count(t, server, e);
	if (e->sha256)
		text_cert_seen(t, server, e, f->now.tv_sec);
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

static int text_tls_order(const void *x, const void *y)
{
	const struct text_tls_row *a = x, *b = y;
	int c = strcmp(a->server, b->server);
	if (!c)
		c = strcmp(a->version, b->version);
	return c ? c : strcmp(a->cipher, b->cipher);
}

static void text_certificates(struct text_out *t, const char *server)
{
	for (size_t i = 0; i < t->n_certs; i++) {
		const struct text_cert_row *c = &t->certs[i];
		if (strcmp(c->server, server) != 0)
			continue;
		char until[32];
		struct tm tm;
		time_t sec = (time_t)c->not_after;
		if (!gmtime_r(&sec, &tm) || !strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S", &tm))
			snprintf(until, sizeof(until), "%lld", (long long)c->not_after);
		fprintf(t->fp, "  certificate %s\n    issuer %s, valid until %s UTC%s%s%s\n", c->subject,
			c->issuer, until, c->self_signed ? ", SELF-SIGNED" : "",
			c->expired ? ", EXPIRED at the capture's time" : "",
			c->not_yet_valid ? ", NOT YET VALID at the capture's time" : "");
	}
}

/* Per server that spoke TLS: its versions and cipher suites, then its certificates. */
static void text_tls_table(struct text_out *t)
{
	qsort(t->tls, t->n_tls, sizeof(*t->tls), text_tls_order);
	for (size_t i = 0; i < t->n_tls; i++) {
		const struct text_tls_row *r = &t->tls[i];
		bool first = i == 0 || strcmp(r->server, t->tls[i - 1].server) != 0;
		if (first)
			fprintf(t->fp, "\nTLS on server %s\n  %-8s %-48s %8s %9s\n", r->server, "version",
				"cipher suite", "sessions", "decrypted");
		fprintf(t->fp, "  %-8s %-48s %8u %9u\n", r->version, r->cipher, r->sessions, r->decrypted);
		if (i + 1 == t->n_tls || strcmp(r->server, t->tls[i + 1].server) != 0)
			text_certificates(t, r->server);
	}
}

/* The end of the input: the tables. */
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
	if (t->n_tls)
		text_tls_table(t);
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
	for (size_t i = 0; i < t->n_tls; i++) {
		free(t->tls[i].server);
		free(t->tls[i].version);
		free(t->tls[i].cipher);
	}
	free(t->tls);
	for (size_t i = 0; i < t->n_certs; i++) {
		free(t->certs[i].server);
		free(t->certs[i].subject);
		free(t->certs[i].issuer);
	}
	free(t->certs);
	free(t);
}

static const struct writer_ops text_ops = {
	.auth = text_auth,
	.tls = text_tls,
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
