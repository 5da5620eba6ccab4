/*
 * report_mailbox.c - gathers the --mailbox-report (see report_mailbox.h), a
 * writer (writer.h) of logins, messages and sessions that writes at the end.
 *
 * Owns the report's data: per open connection, the logins and retrievals seen
 * so far (held by flow_id until the session event names the user), then per
 * (server, user) the finished sessions. Its memory grows with the input (it is
 * a report over the whole input, asked for explicitly), never per byte.
 */
#include "report_mailbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define MBR_PENDING_SLOTS 4096 /* open connections hashed by flow_id (chained) */

struct mbr_pending {
	uint64_t flow_id;
	struct mbr_session s;
	struct mbr_pending *next;
};

/*
 * An index of strings over an array the report owns, by FNV-1a hash with
 * linear probing: the mailboxes by (server, user), a mailbox's messages by
 * uid. Without it, a report over 100,000 sessions spent its time in strcmp().
 */
struct mbr_index {
	size_t *slots; /* array indexes; SIZE_MAX: empty */
	size_t n, cap;
};

struct mailbox_report {
	struct writer w; /* first: output.c sees only this */
	const char *path;      /* "-": the events' stream */
	FILE *events_fp;
	mbr_format_fn format;
	struct mbr_pending *pending[MBR_PENDING_SLOTS];
	struct mbr_mailbox *boxes;
	size_t n_boxes, cap_boxes;
	struct mbr_index box_index;
	char **files;             /* the capture files named, escaped */
	size_t n_files;
	const char *last_file_ptr; /* the flow's pcap_file that gave last_file */
	const char *last_file;
};

static size_t mbr_hash(const char *a, const char *b)
{
	size_t h = 14695981039346656037ull;
	for (const char *p = a; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull; /* between the two parts */
	for (const char *p = b; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

/*
 * The slot of key (a, b): where `same(ctx, i)` holds for the index found
 * there, or the empty slot where it goes. Grows the table first; NULL when
 * out of memory. rehash(ctx, i) gives the hash of entry i.
 */
static size_t *mbr_index_slot(struct mbr_index *x, size_t h, bool (*same)(const void *ctx, size_t i),
			      size_t (*rehash)(const void *ctx, size_t i), const void *ctx)
{
	if ((x->n + 1) * 2 > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		size_t *slots = malloc(cap * sizeof(*slots));
		if (!slots)
			return NULL;
		memset(slots, 0xff, cap * sizeof(*slots));
		for (size_t i = 0; i < x->cap; i++) {
			if (x->slots[i] == SIZE_MAX)
				continue;
			size_t at = rehash(ctx, x->slots[i]) & (cap - 1);
			while (slots[at] != SIZE_MAX)
				at = (at + 1) & (cap - 1);
			slots[at] = x->slots[i];
		}
		free(x->slots);
		x->slots = slots;
		x->cap = cap;
	}
	size_t at = h & (x->cap - 1);
	while (x->slots[at] != SIZE_MAX && !same(ctx, x->slots[at]))
		at = (at + 1) & (x->cap - 1);
	return &x->slots[at];
}

/* Wire bytes as an owned, escaped C string (the \xNN rule of every output). */
static char *mbr_str(struct bytes b)
{
	char *s = malloc(UTF8_ESCAPED_MAX(b.n));
	if (s)
		utf8_escape(b.p, b.n, s);
	return s;
}

static void *mbr_grow(void *arr, size_t n, size_t size)
{
	/* Doubling on powers of two: n is the count before the new element. */
	if (n & (n - 1))
		return arr;
	return realloc(arr, (n ? n * 2 : 1) * size);
}

static struct mbr_pending **mbr_slot(struct mailbox_report *r, uint64_t flow_id)
{
	struct mbr_pending **pp = &r->pending[flow_id % MBR_PENDING_SLOTS];
	while (*pp && (*pp)->flow_id != flow_id)
		pp = &(*pp)->next;
	return pp;
}

static struct mbr_session *mbr_open(struct mailbox_report *r, const struct flow *f)
{
	struct mbr_pending **pp = mbr_slot(r, f->flow_id);
	if (*pp)
		return &(*pp)->s;
	struct mbr_pending *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->flow_id = f->flow_id;
	p->s.flow_id = f->flow_id;
	snprintf(p->s.client, sizeof(p->s.client), strchr(f->client_ip, ':') ? "[%s]:%u" : "%s:%u",
		 f->client_ip, f->client_port);
	*pp = p;
	return &p->s;
}

static void mbr_auth(struct writer *w, const struct flow *f, const struct ev_auth *a)
{
	struct mailbox_report *r = (struct mailbox_report *)w;
	struct mbr_session *s = mbr_open(r, f);
	struct mbr_login *l = s ? mbr_grow(s->logins, s->n_logins, sizeof(*l)) : NULL;
	if (!l)
		return;
	s->logins = l;
	l = &s->logins[s->n_logins++];
	snprintf(l->mechanism, sizeof(l->mechanism), "%s", a->mechanism);
	l->result = a->result;
	l->when = f->now;
}

static void mbr_message(struct writer *w, const struct flow *f, const struct message_record *m)
{
	struct mailbox_report *r = (struct mailbox_report *)w;
	struct mbr_session *s = mbr_open(r, f);
	struct mbr_retrieval *x = s ? mbr_grow(s->retrieved, s->n_retrieved, sizeof(*x)) : NULL;
	if (!x)
		return;
	s->retrieved = x;
	x = &s->retrieved[s->n_retrieved++];
	memset(x, 0, sizeof(*x));
	x->number = m->number;
	x->uid = m->uid_n ? mbr_str(bytes_of(m->uid, m->uid_n)) : NULL;
	snprintf(x->command, sizeof(x->command), "%s", m->command);
	x->size = m->size;
	memcpy(x->sha256, m->sha256, sizeof(x->sha256));
	x->complete = m->complete;
	x->when = f->now;
}

static void mbr_session_free(struct mbr_session *s)
{
	for (size_t i = 0; i < s->n_retrieved; i++)
		free(s->retrieved[i].uid);
	for (size_t i = 0; i < s->n_listed; i++)
		free(s->listed[i].uid);
	free(s->retrieved);
	free(s->listed);
	free(s->logins);
}

/* What mbr_box() looks for, for the index's callbacks. */
struct mbr_box_key {
	const struct mailbox_report *r;
	const char *server, *user;
};

static bool mbr_box_same(const void *ctx, size_t i)
{
	const struct mbr_box_key *k = ctx;
	const struct mbr_mailbox *b = &k->r->boxes[i];
	return strcmp(b->server, k->server) == 0 && strcmp(b->user, k->user) == 0;
}

static size_t mbr_box_hash(const void *ctx, size_t i)
{
	const struct mbr_box_key *k = ctx;
	return mbr_hash(k->r->boxes[i].server, k->r->boxes[i].user);
}

static struct mbr_mailbox *mbr_box(struct mailbox_report *r, const char *server, const char *user)
{
	struct mbr_box_key key = { r, server, user };
	size_t *slot = mbr_index_slot(&r->box_index, mbr_hash(server, user), mbr_box_same, mbr_box_hash, &key);
	if (!slot)
		return NULL;
	if (*slot != SIZE_MAX)
		return &r->boxes[*slot];
	if (r->n_boxes == r->cap_boxes) {
		size_t cap = r->cap_boxes ? r->cap_boxes * 2 : 16;
		struct mbr_mailbox *b = realloc(r->boxes, cap * sizeof(*b));
		if (!b)
			return NULL;
		r->boxes = b;
		r->cap_boxes = cap;
	}
	struct mbr_mailbox *b = &r->boxes[r->n_boxes];
	memset(b, 0, sizeof(*b));
	snprintf(b->server, sizeof(b->server), "%s", server);
	b->user = strdup(user);
	if (!b->user)
		return NULL;
	*slot = r->n_boxes++;
	r->box_index.n++;
	return b;
}

static void mbr_take_listing(struct mbr_session *s, const struct ev_session *ev)
{
	s->listed = ev->n_mailbox ? calloc(ev->n_mailbox, sizeof(*s->listed)) : NULL;
	for (size_t i = 0; s->listed && i < ev->n_mailbox; i++) {
		const struct mailbox_entry *e = &ev->mailbox[i];
		s->listed[i] = (struct mbr_listed){ e->number, e->uid.n ? mbr_str(e->uid) : NULL,
						    e->size, e->marked, false };
	}
	s->n_listed = s->listed ? ev->n_mailbox : 0;
}

/* The flow's capture file, interned for the report's life; NULL live (or out of memory). */
static const char *mbr_file(struct mailbox_report *r, const struct flow *f)
{
	if (!f->pcap_file || f->pcap_file == r->last_file_ptr)
		return f->pcap_file ? r->last_file : NULL;
	char *name = mbr_str(bytes_of(f->pcap_file, strlen(f->pcap_file)));
	if (!name)
		return NULL;
	size_t i = 0;
	while (i < r->n_files && strcmp(r->files[i], name) != 0)
		i++;
	char **files = i < r->n_files ? r->files : mbr_grow(r->files, r->n_files, sizeof(*files));
	if (!files) {
		free(name);
		return NULL;
	}
	r->files = files;
	if (i == r->n_files)
		r->files[r->n_files++] = name;
	else
		free(name);
	r->last_file_ptr = f->pcap_file;
	return r->last_file = r->files[i];
}

static void mbr_session(struct writer *w, const struct flow *f, const struct session_record *rec)
{
	struct mailbox_report *r = (struct mailbox_report *)w;
	const struct ev_session *ev = &rec->summary;
	struct mbr_session *pend = mbr_open(r, f);
	struct mbr_pending **pp = mbr_slot(r, f->flow_id);
	struct mbr_pending *p = *pp;
	if (!pend || !p)
		return;
	*pp = p->next;
	/* A session's username is also the name a failed login tried: only logged-in ones count. */
	char *user = ev->username.n && ev->authenticated ? mbr_str(ev->username) : NULL;
	struct mbr_mailbox *b = user ? mbr_box(r, f->server_ip, user) : NULL;
	struct mbr_session *arr = b ? mbr_grow(b->sessions, b->n_sessions, sizeof(*arr)) : NULL;
	free(user);
	if (!arr) { /* no user known: not part of any mailbox's history */
		mbr_session_free(&p->s);
		free(p);
		return;
	}
	b->sessions = arr;
	struct mbr_session *s = &b->sessions[b->n_sessions++];
	*s = p->s;
	free(p);
	/* Taken from the session's record, the one event that carries it (`popsift report`). */
	s->start = f->start;
	s->end = f->now;
	snprintf(s->app_proto, sizeof(s->app_proto), "%s", f->app_proto ? f->app_proto : "");
	s->committed = ev->deletions_committed;
	snprintf(s->end_reason, sizeof(s->end_reason), "%s", rec->end_reason);
	s->pcap_file = mbr_file(r, f);
	s->frame_first = f->pcap_cnt_first;
	s->frame_last = f->pcap_cnt;
	mbr_take_listing(s, ev);
}

static int mbr_by_start(const void *a, const void *b)
{
	const struct mbr_session *x = a, *y = b;
	if (x->start.tv_sec != y->start.tv_sec)
		return x->start.tv_sec < y->start.tv_sec ? -1 : 1;
	if (x->start.tv_usec != y->start.tv_usec)
		return x->start.tv_usec < y->start.tv_usec ? -1 : 1;
	return x->flow_id < y->flow_id ? -1 : x->flow_id > y->flow_id;
}

static int mbr_by_uid(const void *a, const void *b)
{
	return strcmp(((const struct mbr_message *)a)->uid, ((const struct mbr_message *)b)->uid);
}

struct mbr_msg_key {
	const struct mbr_mailbox *b;
	const char *uid;
};

static bool mbr_msg_same(const void *ctx, size_t i)
{
	const struct mbr_msg_key *k = ctx;
	return strcmp(k->b->messages[i].uid, k->uid) == 0;
}

static size_t mbr_msg_hash(const void *ctx, size_t i)
{
	const struct mbr_msg_key *k = ctx;
	return mbr_hash(k->b->messages[i].uid, "");
}

/* The box's message (by uid, through ix), added when new; NULL when out of memory. */
static struct mbr_message *mbr_msg(struct mbr_mailbox *b, struct mbr_index *ix, const char *uid)
{
	struct mbr_msg_key key = { b, uid };
	size_t *slot = mbr_index_slot(ix, mbr_hash(uid, ""), mbr_msg_same, mbr_msg_hash, &key);
	if (!slot)
		return NULL;
	if (*slot != SIZE_MAX)
		return &b->messages[*slot];
	struct mbr_message *m = mbr_grow(b->messages, b->n_messages, sizeof(*m));
	if (!m)
		return NULL;
	b->messages = m;
	m = &b->messages[b->n_messages];
	memset(m, 0, sizeof(*m));
	m->uid = uid;
	m->size = -1;
	*slot = b->n_messages++;
	ix->n++;
	return m;
}

/*
 * Walks the sessions in start order: a listed uid no earlier session listed is
 * new (the leave-on-server view), and each uid collects its fate: first seen,
 * retrievals, deletion marked and whether it was committed.
 */
static void mbr_summarise(struct mbr_mailbox *b)
{
	struct mbr_index ix = { 0 };
	for (size_t k = 0; k < b->n_sessions; k++) {
		struct mbr_session *s = &b->sessions[k];
		for (size_t i = 0; i < s->n_listed; i++) {
			struct mbr_listed *l = &s->listed[i];
			struct mbr_message *m = l->uid ? mbr_msg(b, &ix, l->uid) : NULL;
			if (!m)
				continue;
			l->is_new = m->first_flow == 0;
			if (l->is_new) {
				m->first_flow = s->flow_id;
				m->first_session = s; /* the sessions stay where they are from here on */
				m->first_seen = s->start;
			}
			m->size = l->size >= 0 ? l->size : m->size;
			if (l->marked)
				m->deleted = s->committed == COMMIT_YES ? "committed"
					     : (m->deleted ? m->deleted : s->committed == COMMIT_NO ? "marked-not-committed" : "marked-unknown");
		}
		for (size_t i = 0; i < s->n_retrieved; i++) {
			struct mbr_message *m = s->retrieved[i].uid ? mbr_msg(b, &ix, s->retrieved[i].uid) : NULL;
			if (m)
				m->times_retrieved++;
		}
	}
	free(ix.slots);
	if (b->n_messages) /* qsort's base may not be NULL, even for none */
		qsort(b->messages, b->n_messages, sizeof(*b->messages), mbr_by_uid);
}

/* The mailboxes, finished: sessions sorted by start, messages summarised by uid. */
static const struct mbr_mailbox *mbr_mailboxes(struct mailbox_report *r, size_t *n)
{
	for (size_t i = 0; i < r->n_boxes; i++) {
		qsort(r->boxes[i].sessions, r->boxes[i].n_sessions, sizeof(struct mbr_session), mbr_by_start);
		free(r->boxes[i].messages);
		r->boxes[i].messages = NULL;
		r->boxes[i].n_messages = 0;
		mbr_summarise(&r->boxes[i]);
	}
	*n = r->n_boxes;
	return r->boxes;
}

/* The end of the input: the report is written. */
static void mbr_finish(struct writer *w)
{
	struct mailbox_report *r = (struct mailbox_report *)w;
	FILE *fp = strcmp(r->path, "-") == 0 ? r->events_fp : fopen(r->path, "w");
	bool ok = fp != NULL;
	if (fp) {
		size_t n;
		const struct mbr_mailbox *boxes = mbr_mailboxes(r, &n);
		ok = r->format(fp, boxes, n);
		if (fp != r->events_fp)
			ok = fclose(fp) == 0 && ok;
	}
	if (!ok)
		fprintf(stderr, "popsift: --mailbox-report: writing '%s' failed: %s\n", r->path,
			strerror(errno));
}

static void mbr_set_fp(struct writer *w, FILE *fp)
{
	((struct mailbox_report *)w)->events_fp = fp;
}

static void mbr_free(struct writer *w)
{
	struct mailbox_report *r = (struct mailbox_report *)w;
	for (size_t i = 0; i < MBR_PENDING_SLOTS; i++) {
		for (struct mbr_pending *p = r->pending[i], *next; p; p = next) {
			next = p->next;
			mbr_session_free(&p->s);
			free(p);
		}
	}
	for (size_t i = 0; i < r->n_boxes; i++) {
		for (size_t k = 0; k < r->boxes[i].n_sessions; k++)
			mbr_session_free(&r->boxes[i].sessions[k]);
		free(r->boxes[i].sessions);
		free(r->boxes[i].messages);
		free(r->boxes[i].user);
	}
	free(r->boxes);
	free(r->box_index.slots);
	for (size_t i = 0; i < r->n_files; i++)
		free(r->files[i]);
	free(r->files);
	free(r);
}

static const struct writer_ops mbr_ops = {
	.auth = mbr_auth,
	.message = mbr_message,
	.session = mbr_session,
	.set_fp = mbr_set_fp,
	.finish = mbr_finish,
	.free = mbr_free,
};

struct writer *mbr_writer_open(const char *path, FILE *events_fp, mbr_format_fn format)
{
	struct mailbox_report *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->w.ops = &mbr_ops;
	r->path = path;
	r->events_fp = events_fp;
	r->format = format;
	return &r->w;
}
