/*
 * report_html.c - gathers the HTML case report (report_html.h), a writer
 * (writer.h) that writes one self-contained page at the end of the input
 * (the page itself: html_page.c).
 *
 * Owns the report's model: per session a row (times, client, user, outcome),
 * marks for the timeline (logins, retrievals), logins counted by mechanism
 * and outcome, cleartext credentials, failed logins and alerts grouped (by
 * client, server, user and kind, with a count and the first evidence), the
 * first HTML_ROWS_MAX messages, and the mailbox report's own model
 * (report_mailbox.c, fed the same records) for the mailbox view. Its memory
 * grows with the input (a report over the whole input), never per byte: what
 * the page lists one by one is bounded, the rest only counted.
 */
#include "report_html_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* ---- small containers ----------------------------------------------------- */

uint32_t html_hash(const void *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 16777619u;
	return h;
}

/* Grows *arr (elements of size) to hold n + 1; false when out of memory. */
bool html_grow(void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 64;
	void *p = realloc(*(void **)arr, c * size);
	if (!p)
		return false;
	*(void **)arr = p;
	*cap = c;
	return true;
}

/* The index of key in the map, or of a new entry made by `add`; SIZE_MAX when out of memory. */
size_t html_map_find(struct html_map *m, const char *key, size_t (*add)(void *ctx, const char *key),
		       const char *(*key_of)(void *ctx, size_t i), void *ctx)
{
	if (m->n * 2 >= m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		size_t *slots = malloc(cap * sizeof(*slots));
		if (!slots)
			return SIZE_MAX;
		for (size_t i = 0; i < cap; i++)
			slots[i] = SIZE_MAX;
		for (size_t i = 0; i < m->cap; i++) {
			if (m->slots[i] == SIZE_MAX)
				continue;
			const char *k = key_of(ctx, m->slots[i]);
			size_t at = html_hash(k, strlen(k)) & (cap - 1);
			while (slots[at] != SIZE_MAX)
				at = (at + 1) & (cap - 1);
			slots[at] = m->slots[i];
		}
		free(m->slots);
		m->slots = slots;
		m->cap = cap;
	}
	size_t at = html_hash(key, strlen(key)) & (m->cap - 1);
	while (m->slots[at] != SIZE_MAX) {
		if (strcmp(key_of(ctx, m->slots[at]), key) == 0)
			return m->slots[at];
		at = (at + 1) & (m->cap - 1);
	}
	size_t i = add(ctx, key);
	if (i != SIZE_MAX) {
		m->slots[at] = i;
		m->n++;
	}
	return i;
}

/*
 * Wire bytes (raw, or escaped already by the events) as owned printable text:
 * utf8.h's rule, then cut after `max` octets of that text (at a character's
 * start). Cut after escaping, never before: escaping is the same on both
 * kinds of input, so a capture run and `popsift report` cut at the same place.
 */
char *html_text(struct bytes b, size_t max)
{
	char *s = malloc(UTF8_ESCAPED_MAX(b.n) + 4);
	if (!s)
		return NULL;
	size_t len = utf8_escape(b.p, b.n, s);
	if (len > max) {
		while (max && ((unsigned char)s[max] & 0xc0) == 0x80)
			max--; /* not inside a character */
		memcpy(s + max, "\xe2\x80\xa6", 4); /* an ellipsis: cut here */
	}
	return s;
}

/* ---- groups: rows aggregated by a key ------------------------------------- */

static const char *group_key(void *ctx, size_t i)
{
	return ((struct html_groups *)ctx)->rows[i].key;
}

static size_t group_add(void *ctx, const char *key)
{
	struct html_groups *g = ctx;
	if (!html_grow(&g->rows, g->n, &g->cap, sizeof(*g->rows)))
		return SIZE_MAX;
	struct html_group *r = &g->rows[g->n];
	memset(r, 0, sizeof(*r));
	r->key = strdup(key);
	if (!r->key)
		return SIZE_MAX;
	return g->n++;
}

/*
 * The group of (a, b, c, d) in g: found, or new with those fields; NULL when
 * out of memory. Its count and times are the caller's to update.
 */
static struct html_group *group_of(struct html_groups *g, const char *a, const char *b, const char *c,
				   const char *d)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + strlen(d) + 4;
	char *key = malloc(n);
	if (!key)
		return NULL;
	snprintf(key, n, "%s\x1f%s\x1f%s\x1f%s", a, b, c, d);
	size_t i = html_map_find(&g->map, key, group_add, group_key, g);
	free(key);
	if (i == SIZE_MAX)
		return NULL;
	struct html_group *r = &g->rows[i];
	if (!r->count) {
		r->f[0] = strdup(a);
		r->f[1] = strdup(b);
		r->f[2] = strdup(c);
		r->f[3] = strdup(d);
	}
	return r;
}

static void group_note(struct html_group *r, const struct flow *f, int file)
{
	if (!r->count || timercmp(&f->now, &r->first, <)) {
		r->first = f->now;
		r->flow_id = f->flow_id;
		r->file = file;
		r->frame = f->pcap_cnt;
	}
	if (!r->count || timercmp(&f->now, &r->last, >))
		r->last = f->now;
	r->count++;
}

static void groups_free(struct html_groups *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->rows[i].key);
		for (int k = 0; k < 4; k++)
			free(g->rows[i].f[k]);
		free(g->rows[i].evidence);
	}
	free(g->rows);
	free(g->map.slots);
}

/* ---- what every record adds ------------------------------------------------ */

/* The index of the flow's capture file (-1: live), interned. */
static int html_file(struct html_report *h, const struct flow *f)
{
	if (!f->pcap_file)
		return -1;
	if (h->last_file_ptr == f->pcap_file)
		return h->last_file;
	int i = 0;
	while ((size_t)i < h->n_files && strcmp(h->files[i], f->pcap_file) != 0)
		i++;
	if ((size_t)i == h->n_files) {
		char *copy = html_text(bytes_of(f->pcap_file, strlen(f->pcap_file)), 4096);
		if (!copy || !html_grow(&h->files, h->n_files, &h->cap_files, sizeof(*h->files))) {
			free(copy);
			return -1;
		}
		h->files[h->n_files++] = copy;
	}
	h->last_file_ptr = f->pcap_file;
	h->last_file = i;
	return i;
}

static void html_span(struct html_report *h, const struct timeval *tv)
{
	if (!h->have_span || timercmp(tv, &h->t0, <))
		h->t0 = *tv;
	if (!h->have_span || timercmp(tv, &h->t1, >))
		h->t1 = *tv;
	h->have_span = true;
}

static void html_endpoint(char *out, size_t n, const char *ip, unsigned port)
{
	snprintf(out, n, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip, port);
}

static void html_mark(struct html_report *h, const struct flow *f, uint8_t kind)
{
	if (!html_grow(&h->marks, h->n_marks, &h->cap_marks, sizeof(*h->marks)))
		return;
	h->marks[h->n_marks++] = (struct html_mark){ f->flow_id, f->now, kind };
}

/* Logins counted by mechanism (escaped) and outcome. */
static void html_count_login(struct html_report *h, const char *mech, enum auth_result r, bool clear)
{
	size_t i = 0;
	while (i < h->n_mechs && strcmp(h->mechs[i].name, mech) != 0)
		i++;
	if (i == h->n_mechs) {
		if (i == HTML_MECHS_MAX)
			i--; /* the last row takes the rest */
		else
			snprintf(h->mechs[h->n_mechs++].name, sizeof(h->mechs[0].name), "%s", mech);
	}
	h->mechs[i].by_result[r < AUTH_RESULT_COUNT ? r : AUTH_RESULT_UNKNOWN]++;
	h->mechs[i].cleartext += clear;
}

static void html_note_user(struct html_report *h, const char *user);

static void html_auth(struct writer *w, const struct flow *f, const struct ev_auth *a)
{
	struct html_report *h = (struct html_report *)w;
	if (h->mbr->ops->auth)
		h->mbr->ops->auth(h->mbr, f, a);
	html_span(h, &f->now);
	char *mech = html_text(bytes_of(a->mechanism, strlen(a->mechanism)), 40);
	char *user = html_text(a->username, HTML_FIELD_MAX);
	char client[64], server[64];
	html_endpoint(server, sizeof(server), f->server_ip, f->server_port);
	snprintf(client, sizeof(client), "%s", f->client_ip);
	if (!mech || !user)
		goto done;
	h->logins++;
	h->by_result[a->result < AUTH_RESULT_COUNT ? a->result : AUTH_RESULT_UNKNOWN]++;
	bool clear = auth_cleartext_on_wire(a, f); /* not a secret read inside decrypted TLS */
	h->cleartext += clear;
	html_count_login(h, mech, a->result, clear);
	html_note_user(h, user);
	html_mark(h, f, (uint8_t)((a->result == AUTH_RESULT_SUCCESS ? MARK_LOGIN_OK
				   : a->result == AUTH_RESULT_FAILURE ? MARK_LOGIN_FAILED : MARK_LOGIN_UNKNOWN) |
				  (clear ? MARK_CLEARTEXT : 0)));
	int file = html_file(h, f);
	if (clear) {
		struct html_group *g = group_of(&h->creds, client, server, user, mech);
		if (g) {
			group_note(g, f, file);
			if (!g->evidence && h->show_passwords && a->password.n)
				g->evidence = html_text(a->password, HTML_FIELD_MAX);
		}
	}
	if (a->result == AUTH_RESULT_FAILURE) {
		const char *why = a->failure ? a->failure : "credentials";
		struct html_group *g = group_of(&h->failures, client, server, user, mech);
		if (g) {
			group_note(g, f, file);
			if (!g->evidence)
				g->evidence = html_text(a->reply, HTML_FIELD_MAX);
			if (!g->why[0])
				snprintf(g->why, sizeof(g->why), "%s", why);
		}
	}
done:
	free(mech);
	free(user);
}

static const char *user_key(void *ctx, size_t i)
{
	return ((struct html_report *)ctx)->users[i];
}

static size_t user_add(void *ctx, const char *key)
{
	struct html_report *h = ctx;
	if (!html_grow(&h->users, h->n_users, &h->cap_users, sizeof(*h->users)))
		return SIZE_MAX;
	h->users[h->n_users] = strdup(key);
	return h->users[h->n_users] ? h->n_users++ : SIZE_MAX;
}

static void html_note_user(struct html_report *h, const char *user)
{
	if (user[0])
		html_map_find(&h->user_map, user, user_add, user_key, h);
}

static void html_alert(struct writer *w, const struct flow *f, const struct alert_record *a)
{
	struct html_report *h = (struct html_report *)w;
	char *user = html_text(a->username, HTML_FIELD_MAX);
	char server[64];
	html_endpoint(server, sizeof(server), f->server_ip, f->server_port);
	struct html_group *g = user ? group_of(&h->alerts, a->signature, f->client_ip, server, user) : NULL;
	if (g) {
		group_note(g, f, html_file(h, f));
		g->severity = a->severity;
		if (!g->evidence)
			g->evidence = strdup(a->description);
	}
	h->n_alerts++;
	free(user);
}

static void html_message(struct writer *w, const struct flow *f, const struct message_record *m)
{
	struct html_report *h = (struct html_report *)w;
	if (h->mbr->ops->message)
		h->mbr->ops->message(h->mbr, f, m);
	html_span(h, &f->now);
	html_mark(h, f, MARK_RETRIEVAL);
	h->n_messages++;
	h->message_bytes += m->size;
	if (h->n_msgs >= HTML_ROWS_MAX ||
	    !html_grow(&h->msgs, h->n_msgs, &h->cap_msgs, sizeof(*h->msgs)))
		return;
	struct html_message *x = &h->msgs[h->n_msgs++];
	memset(x, 0, sizeof(*x));
	x->flow_id = f->flow_id;
	x->when = f->now;
	x->file = html_file(h, f);
	x->frame = f->pcap_cnt;
	html_endpoint(x->client, sizeof(x->client), f->client_ip, f->client_port);
	html_endpoint(x->server, sizeof(x->server), f->server_ip, f->server_port);
	snprintf(x->command, sizeof(x->command), "%s", m->command);
	x->number = m->number;
	x->size = m->size;
	x->complete = m->complete;
	memcpy(x->sha256, m->sha256, sizeof(x->sha256));
	x->uid = m->uid_n ? html_text(bytes_of(m->uid, m->uid_n), HTML_FIELD_MAX) : NULL;
	const char *from = m->headers.from.value, *subject = m->headers.subject.value;
	x->from = from ? html_text(bytes_of(from, strlen(from)), HTML_FIELD_MAX) : NULL;
	x->subject = subject ? html_text(bytes_of(subject, strlen(subject)), HTML_FIELD_MAX) : NULL;
	x->path = m->path ? strdup(m->path) : NULL;
}

/* A TLS session counted by its version (escaped: a name from the events is any text). */
static void html_count_tls(struct html_report *h, const struct ev_tls *t)
{
	const char *v = t->server_hello ? t->version_name : "no ServerHello";
	char *name = html_text(bytes_of(v, strlen(v)), sizeof(h->tls[0].name) - 4);
	if (!name)
		return;
	size_t i = 0;
	while (i < h->n_tls && strcmp(h->tls[i].name, name) != 0)
		i++;
	if (i == h->n_tls) {
		if (i == HTML_TLS_VERSIONS_MAX)
			i--; /* the last row takes the rest */
		else
			snprintf(h->tls[h->n_tls++].name, sizeof(h->tls[0].name), "%s", name);
	}
	free(name);
	h->tls[i].sessions++;
	h->tls[i].decrypted += t->decrypted;
	h->tls_sessions++;
}

/* An STLS command (refused, unanswered, or its TLS session), and every TLS session. */
static void html_tls(struct writer *w, const struct flow *f, const struct ev_tls *t)
{
	struct html_report *h = (struct html_report *)w;
	(void)f;
	if (t->command)
		h->stls[t->result < AUTH_RESULT_COUNT ? t->result : AUTH_RESULT_UNKNOWN]++;
	if (t->handshake)
		html_count_tls(h, t);
}

static const char *row_key(void *ctx, size_t i)
{
	return ((struct html_report *)ctx)->rows[i].key;
}

static size_t row_add(void *ctx, const char *key)
{
	struct html_report *h = ctx;
	if (!html_grow(&h->rows, h->n_rows, &h->cap_rows, sizeof(*h->rows)))
		return SIZE_MAX;
	struct html_row *r = &h->rows[h->n_rows];
	memset(r, 0, sizeof(*r));
	r->key = strdup(key);
	return r->key ? h->n_rows++ : SIZE_MAX;
}

/* The timeline row of (server, user); SIZE_MAX when out of memory. */
static size_t html_row(struct html_report *h, const char *server, const char *user)
{
	size_t n = strlen(server) + strlen(user) + 2;
	char *key = malloc(n);
	if (!key)
		return SIZE_MAX;
	snprintf(key, n, "%s\x1f%s", server, user);
	size_t i = html_map_find(&h->row_map, key, row_add, row_key, h);
	free(key);
	if (i != SIZE_MAX && !h->rows[i].server) {
		h->rows[i].server = strdup(server);
		h->rows[i].user = strdup(user);
		h->n_servers += html_server_new(h, server);
	}
	return i;
}

static void html_session_fill(struct html_session *s, const struct flow *f, const struct session_record *r)
{
	const struct ev_session *e = &r->summary;
	s->flow_id = f->flow_id;
	s->start = f->start;
	s->end = f->now;
	html_endpoint(s->client, sizeof(s->client), f->client_ip, f->client_port);
	snprintf(s->proto, sizeof(s->proto), "%s", f->app_proto ? f->app_proto : "pop3");
	snprintf(s->end_reason, sizeof(s->end_reason), "%s", r->end_reason);
	s->authenticated = e->authenticated;
	s->tls = r->tls || r->encrypted;
	s->committed = e->deletions_committed;
	s->retrieved = e->messages_retrieved;
	for (size_t i = 0; i < e->n_mailbox; i++)
		s->marked += e->mailbox[i].marked;
	s->anomalies = (uint32_t)r->n_anomalies;
	s->bytes = f->bytes[DIR_TO_SERVER] + f->bytes[DIR_TO_CLIENT];
}

static void html_session(struct writer *w, const struct flow *f, const struct session_record *r)
{
	struct html_report *h = (struct html_report *)w;
	if (h->mbr->ops->session)
		h->mbr->ops->session(h->mbr, f, r);
	html_span(h, &f->start);
	html_span(h, &f->now);
	char server[64];
	html_endpoint(server, sizeof(server), f->server_ip, f->server_port);
	char *user = html_text(r->summary.username, HTML_FIELD_MAX);
	size_t row = user ? html_row(h, server, user) : SIZE_MAX;
	free(user);
	if (row == SIZE_MAX || !html_grow(&h->sessions, h->n_sessions, &h->cap_sessions, sizeof(*h->sessions)))
		return;
	struct html_session *s = &h->sessions[h->n_sessions++];
	memset(s, 0, sizeof(*s));
	html_session_fill(s, f, r);
	s->row = (uint32_t)row;
	s->file = html_file(h, f);
	s->frame_first = f->pcap_cnt_first;
	s->frame_last = f->pcap_cnt;
	h->rows[row].sessions++;
	h->encrypted += s->tls;
}

/* ---- the writer ---------------------------------------------------------------- */

static void html_finish(struct writer *w)
{
	struct html_report *h = (struct html_report *)w;
	FILE *fp = h->path ? h->file : h->fp;
	/* The mailbox view: report_mailbox.c's model, written as HTML into memory. */
	h->mbr->ops->finish(h->mbr);
	fflush(h->mbox_fp);
	bool ok = html_page_write(h, fp);
	if (h->path) {
		ok = fclose(h->file) == 0 && ok;
		h->file = NULL;
	}
	if (!ok)
		fprintf(stderr, "popsift: the HTML report: writing '%s' failed: %s\n",
			h->path ? h->path : "the output", strerror(errno));
}

static bool html_flush(struct writer *w)
{
	struct html_report *h = (struct html_report *)w;
	return h->path || (fflush(h->fp) == 0 && !ferror(h->fp));
}

static void html_set_fp(struct writer *w, FILE *fp)
{
	((struct html_report *)w)->fp = fp;
}

static void html_free(struct writer *w)
{
	struct html_report *h = (struct html_report *)w;
	if (h->mbr)
		h->mbr->ops->free(h->mbr);
	if (h->mbox_fp)
		fclose(h->mbox_fp);
	free(h->mbox_html);
	if (h->file)
		fclose(h->file);
	groups_free(&h->creds);
	groups_free(&h->failures);
	groups_free(&h->alerts);
	for (size_t i = 0; i < h->n_msgs; i++) {
		free(h->msgs[i].uid);
		free(h->msgs[i].from);
		free(h->msgs[i].subject);
		free(h->msgs[i].path);
	}
	for (size_t i = 0; i < h->n_rows; i++) {
		free(h->rows[i].key);
		free(h->rows[i].server);
		free(h->rows[i].user);
	}
	for (size_t i = 0; i < h->n_users; i++)
		free(h->users[i]);
	for (size_t i = 0; i < h->n_files; i++)
		free(h->files[i]);
	for (size_t i = 0; i < h->n_server_names; i++)
		free(h->server_names[i]);
	free(h->server_names);
	free(h->server_map.slots);
	free(h->users);
	free(h->user_map.slots);
	free(h->row_map.slots);
	free(h->rows);
	free(h->files);
	free(h->msgs);
	free(h->marks);
	free(h->sessions);
	free(h->extract_dir);
	free(h->page_dir);
	free(h);
}

static const struct writer_ops html_ops = {
	.auth = html_auth,
	.alert = html_alert,
	.message = html_message,
	.tls = html_tls,
	.session = html_session,
	.flush = html_flush,
	.set_fp = html_set_fp,
	.finish = html_finish,
	.free = html_free,
};

struct writer *html_writer_open(const struct html_config *c)
{
	struct html_report *h = calloc(1, sizeof(*h));
	if (!h) {
		fprintf(stderr, "popsift: out of memory\n");
		return NULL;
	}
	h->w.ops = &html_ops;
	h->path = c->path;
	h->fp = c->fp;
	h->show_passwords = c->show_passwords;
	h->mbox_fp = open_memstream(&h->mbox_html, &h->mbox_len);
	h->mbr = h->mbox_fp ? mbr_writer_open("-", h->mbox_fp, html_mailboxes) : NULL;
	if (!h->mbr || !html_links_init(h, c)) {
		fprintf(stderr, "popsift: out of memory\n");
		html_free(&h->w);
		return NULL;
	}
	if (c->path && !(h->file = fopen(c->path, "w"))) {
		fprintf(stderr, "popsift: cannot write the HTML report to '%s': %s\n", c->path, strerror(errno));
		html_free(&h->w);
		return NULL;
	}
	return &h->w;
}
