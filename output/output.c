/*
 * output.c - turns each session's event stream into records and hands every
 * record to every writer the run asked for (writer.h).
 *
 * Owns per-session output state: the message being streamed (its digest,
 * digest.h; its -x file or --mbox spool, written through a fixed buffer; a
 * bounded copy of its header section: a body is never held whole), the
 * anomalies seen (deduplicated, with a count and the first evidence sample),
 * and the alerts derived from logins (alerts.c, bruteforce.c). When a message
 * ends, its header copy and extracted file are handed to mime.c and the file to
 * mbox.c. Which writers run is decided once, in output_open(); how a record
 * looks is theirs. With cfg.threaded, all of it runs on the output thread
 * (handoff.h), whose event_target this file provides.
 */
#include "output.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "bruteforce.h"
#include "digest.h"
#include "extract.h"
#include "handoff.h"
#include "hashes.h"
#include "json.h"
#include "mbox.h"
#include "mime.h"
#include "report_html.h"
#include "report_mailbox.h"
#include "text.h"
#include "writer.h"

/* Octets of a message kept for its headers: up to the first empty line, at most this. */
#define OUT_HEADER_MAX OUTPUT_HEADER_MAX
#define OUT_HEADER_INITIAL 4096
#define OUT_WRITERS_MAX 4 /* events or text summary, mailbox report, hashes */

struct output {
	struct output_config cfg;
	struct writer *writers[OUT_WRITERS_MAX]; /* every record goes to each, in this order */
	size_t n_writers;
	bool commands;           /* command records are wanted (--transactions, and a writer takes them) */
	struct bruteforce *bf;   /* failures across sessions (brute force, spraying) */
	struct handoff *handoff; /* output on its own thread, or NULL: inline */
	/*
	 * With a handoff, sessions the output thread has finished come back to
	 * the capture thread through this stack for reuse: freeing them on the
	 * output thread would lock the capture thread's malloc arena for each.
	 */
	_Atomic(struct out_session *) returned;
	struct out_session *spare; /* the capture thread's own list of them */
	struct extract *extract; /* -x DIR, or NULL */
	struct mime_service *mime; /* with -x: lists the attachments of extracted messages */
	struct mbox *mbox;       /* --mbox FILE, or NULL */
	unsigned long file_failures; /* messages whose file or mbox entry failed */
	int write_errno;         /* why writing events or hashes first failed (errno is per thread) */
	int first_failure;       /* its errno */
};

/* The message being streamed in one session. */
struct out_message {
	bool active;
	struct digest dg;           /* its SHA-256, unless the capture thread computes it */
	struct message_record rec;
	char command[24];           /* rec.command: the event's string lives only during emit() */
	uint8_t folder[EV_FOLDER_MAX]; /* rec.folder and rec.uid, kept here for the same reason */
	uint8_t uid[EV_UID_MAX];
	struct timeval time;        /* capture time of the message's start */
	struct extract_file *file;  /* its -x file or --mbox spool; NULL for none */
	uint8_t *hdr;               /* bounded copy of the header section */
	size_t hdr_n, hdr_cap;
	bool hdr_done;              /* the empty line (or OUT_HEADER_MAX) was reached */
	bool upstream;              /* the capture thread hashes it; data is only its first octets */
};

struct out_session {
	struct event_sink sink; /* first: the dissector sees only this */
	struct output *o;
	/*
	 * The engine's flow; with a handoff, the copy in the record being written
	 * (the flow as it was when the event was emitted), NULL between records.
	 */
	const struct flow *flow;
	const struct digest_note *note; /* with the event being written: the capture thread's digest */
	struct out_message msg;
	struct anomaly_record *anoms;
	size_t n_anoms;
	struct out_session *next; /* on o->returned or o->spare */
};

static void out_sessions_free(struct out_session *s);
static struct handoff *out_start_thread(struct output *o);

static void out_free(struct output *o)
{
	extract_close(o->extract);
	mbox_close(o->mbox);
	for (size_t i = 0; i < o->n_writers; i++)
		o->writers[i]->ops->free(o->writers[i]);
	bf_free(o->bf);
	mime_service_free(o->mime);
	free(o);
}

static bool out_add_writer(struct output *o, struct writer *w)
{
	if (w)
		o->writers[o->n_writers++] = w;
	return w != NULL;
}

/*
 * The writers of the run, chosen here once: the events as JSON or, with -T
 * text or -T html, the summary or the HTML report instead; the mailbox report (in the same form) and the
 * hash file when asked for. False when out of memory.
 */
static bool out_open_writers(struct output *o)
{
	const struct output_config *c = &o->cfg;
	struct html_config hc = { .fp = c->fp, .page_path = c->html_path,
				  .show_passwords = c->show_passwords, .extract_dir = c->extract_dir };
	if (!out_add_writer(o, c->html ? html_writer_open(&hc)
			       : c->text ? text_writer_open(c->fp, c->show_passwords)
					 : json_writer_open(c->fp, c->show_passwords)))
		return false;
	mbr_format_fn report_format = c->text ? text_mailbox_report : json_mailbox_report;
	if (c->mailbox_report && !out_add_writer(o, mbr_writer_open(c->mailbox_report, c->fp, report_format)))
		return false;
	if (c->hashes && !out_add_writer(o, hashes_writer_open(c->hashes)))
		return false;
	for (size_t i = 0; i < o->n_writers; i++)
		o->commands |= c->transactions && o->writers[i]->ops->command;
	return true;
}

struct output *output_open(const struct output_config *cfg)
{
	struct output *o = calloc(1, sizeof(*o));
	if (!o) {
		fprintf(stderr, "popsift: out of memory\n");
		return NULL;
	}
	o->cfg = *cfg;
	mime_init();
	o->bf = bf_new(&cfg->bruteforce);
	if (!o->bf || !out_open_writers(o)) {
		fprintf(stderr, "popsift: out of memory\n");
		out_free(o);
		return NULL;
	}
	char err[600];
	if (cfg->extract_dir) {
		o->extract = extract_open(cfg->extract_dir, err, sizeof(err));
		if (!o->extract) {
			fprintf(stderr, "popsift: -x: %s\n", err);
			out_free(o);
			return NULL;
		}
		o->mime = mime_service_new();
		if (!o->mime) {
			fprintf(stderr, "popsift: out of memory\n");
			out_free(o);
			return NULL;
		}
	}
	if (cfg->mbox_path) {
		o->mbox = mbox_open(cfg->mbox_path, err, sizeof(err));
		if (!o->mbox) {
			fprintf(stderr, "popsift: --mbox: %s\n", err);
			out_free(o);
			return NULL;
		}
	}
	if (cfg->threaded) /* without a thread (cannot start one), output runs inline: same events */
		o->handoff = out_start_thread(o);
	return o;
}

/* Flushes every writer; on the output thread when there is one. */
static bool out_apply_flush(struct output *o)
{
	bool ok = true;
	for (size_t i = 0; i < o->n_writers; i++)
		if (o->writers[i]->ops->flush)
			ok = o->writers[i]->ops->flush(o->writers[i]) && ok;
	if (!ok && !o->write_errno)
		o->write_errno = errno ? errno : EIO;
	return ok;
}

bool output_flush(struct output *o)
{
	return o->handoff ? handoff_flush(o->handoff) : out_apply_flush(o);
}

/* output_set_fp() where the writing happens (handoff_call's signature). */
static bool out_apply_fp(void *ctx, void *fp)
{
	struct output *o = ctx;
	out_apply_flush(o);
	for (size_t i = 0; i < o->n_writers; i++)
		if (o->writers[i]->ops->set_fp)
			o->writers[i]->ops->set_fp(o->writers[i], fp);
	return true;
}

void output_set_fp(struct output *o, FILE *fp)
{
	if (o->handoff)
		handoff_call(o->handoff, out_apply_fp, fp);
	else
		out_apply_fp(o, fp);
}

bool output_close(struct output *o)
{
	if (!o)
		return true;
	handoff_stop(o->handoff); /* everything queued is written first */
	o->handoff = NULL;
	out_sessions_free(o->spare);
	out_sessions_free(atomic_exchange(&o->returned, NULL));
	for (size_t i = 0; i < o->n_writers; i++) /* what comes last: the summary's table, the report */
		if (o->writers[i]->ops->finish)
			o->writers[i]->ops->finish(o->writers[i]);
	bool ok = output_flush(o);
	int e = o->write_errno ? o->write_errno : errno;
	if (o->mbox && !mbox_close(o->mbox)) {
		fprintf(stderr, "popsift: --mbox: writing '%s' failed: %s\n", o->cfg.mbox_path,
			strerror(errno));
		e = errno;
		ok = false;
	}
	o->mbox = NULL;
	if (o->file_failures) {
		fprintf(stderr, "popsift: %lu message%s not extracted in full (extract_error in their "
			"events)\n", o->file_failures, o->file_failures == 1 ? "" : "s");
		e = o->first_failure;
		ok = false;
	}
	out_free(o);
	errno = e;
	return ok;
}

void output_run_child(void)
{
	mime_service_child();
}

unsigned long output_events_written(const struct output *o)
{
	unsigned long n = 0;
	for (size_t i = 0; i < o->n_writers; i++)
		n += atomic_load_explicit(&o->writers[i]->events, memory_order_relaxed);
	return n;
}

const char *output_events_noun(const struct output *o)
{
	return o->cfg.text ? "login and alert lines written (-T text; times in UTC)" : "events written";
}

/* Hands a record to every writer that takes records of its kind. */
#define OUT_WRITE(o, op, f, rec) \
	do { \
		for (size_t i_ = 0; i_ < (o)->n_writers; i_++) \
			if ((o)->writers[i_]->ops->op) \
				(o)->writers[i_]->ops->op((o)->writers[i_], (f), (rec)); \
	} while (0)

/* A login, then the alerts it raises (alerts.h: the same for `popsift report`). */
static void out_auth(struct out_session *s, const struct ev_auth *a)
{
	OUT_WRITE(s->o, auth, s->flow, a);
	struct alert_record alerts[ALERTS_MAX];
	size_t n = alerts_derive(s->o->bf, s->flow, a, alerts);
	for (size_t i = 0; i < n; i++)
		OUT_WRITE(s->o, alert, s->flow, &alerts[i]);
}

/* A TLS session (or an STLS that led to none), then the alerts its handshake raises. */
static void out_tls(struct out_session *s, const struct ev_tls *t)
{
	OUT_WRITE(s->o, tls, s->flow, t);
	struct alert_record alerts[ALERTS_PER_TLS_MAX];
	size_t n = alerts_for_tls(t, s->flow->now.tv_sec, alerts);
	for (size_t i = 0; i < n; i++)
		OUT_WRITE(s->o, alert, s->flow, &alerts[i]);
}

/* errno as the event's extract_error text. */
static const char *out_errtext(int e)
{
	const char *t = strerrordesc_np(e);
	return t ? t : "unknown error";
}

/* A message's file or mbox entry failed: said once a run on stderr, and in its event. */
static void out_file_failed(struct out_session *s, int e, const char *what)
{
	struct output *o = s->o;
	if (s->msg.rec.extract_error)
		return; /* counted already */
	s->msg.rec.extract_error = out_errtext(e);
	if (o->file_failures++ == 0) {
		o->first_failure = e;
		fprintf(stderr, "popsift: warning: a message could not be %s: %s (later failures are "
			"only in the message events' extract_error)\n", what, out_errtext(e));
	}
}

/* What the message's file is for, to name a failure. */
static const char *out_file_kind(const struct out_session *s)
{
	return s->o->extract ? "extracted" : "spooled for the mbox";
}

/* Opens where the message's octets go: a named file in -x DIR, or a spool for --mbox. */
static void out_message_file(struct out_session *s)
{
	struct out_message *m = &s->msg;
	if (s->o->extract) {
		struct extract_name n = { s->flow, m->time, m->rec.number, m->rec.command };
		m->file = extract_file_create(s->o->extract, &n);
	} else if (s->o->mbox) {
		m->file = extract_spool_create();
	} else {
		return;
	}
	if (!m->file)
		out_file_failed(s, errno, out_file_kind(s));
}

static void out_message_finish(struct out_session *s, bool complete);

static void out_message_begin(struct out_session *s, const struct ev_message_begin *b)
{
	struct out_message *m = &s->msg;
	if (m->active)
		out_message_finish(s, false); /* a begin without an end: never lose the first */
	/* Hashed here, or on the capture thread: decided there, once (digest.h). */
	m->upstream = s->note && s->note->upstream;
	if (!m->upstream && !digest_begin(&m->dg))
		return;
	memset(&m->rec, 0, sizeof(m->rec));
	snprintf(m->command, sizeof(m->command), "%s", b->command);
	m->rec.command = m->command;
	m->rec.number = b->number;
	m->rec.dir = b->dir;
	m->rec.announced = b->announced;
	m->rec.folder_n = b->folder.n < EV_FOLDER_MAX ? b->folder.n : EV_FOLDER_MAX;
	if (m->rec.folder_n)
		memcpy(m->folder, b->folder.p, m->rec.folder_n);
	m->rec.folder = m->folder;
	m->rec.uid_n = b->uid.n < EV_UID_MAX ? b->uid.n : EV_UID_MAX;
	if (m->rec.uid_n)
		memcpy(m->uid, b->uid.p, m->rec.uid_n);
	m->rec.uid = m->uid;
	m->rec.list_size = b->list_size;
	m->time = s->flow->now;
	m->hdr_n = 0;
	m->hdr_done = false;
	m->active = true;
	out_message_file(s);
}

/* Where the header section ends in hdr[from..n): the offset after its empty line, or 0. */
static size_t out_header_end(const uint8_t *hdr, size_t from, size_t n)
{
	if (from == 0 && n && (hdr[0] == '\n' || (n > 1 && hdr[0] == '\r' && hdr[1] == '\n')))
		return SIZE_MAX; /* the message starts with the empty line: no headers */
	for (const uint8_t *p = hdr + from; p < hdr + n; p++) {
		p = memchr(p, '\n', (size_t)(hdr + n - p));
		if (!p)
			break;
		size_t i = (size_t)(p - hdr) + 1;
		if (i < n && hdr[i] == '\n')
			return i + 1;
		if (i + 1 < n && hdr[i] == '\r' && hdr[i + 1] == '\n')
			return i + 2;
	}
	return 0;
}

/* Keeps the header section (bounded, see OUT_HEADER_MAX); no work once it is complete. */
static void out_header_copy(struct out_message *m, const uint8_t *p, size_t n)
{
	size_t take = OUT_HEADER_MAX - m->hdr_n;
	if (take > n)
		take = n;
	if (m->hdr_n + take > m->hdr_cap) {
		size_t cap = m->hdr_cap ? m->hdr_cap : OUT_HEADER_INITIAL;
		while (cap < m->hdr_n + take)
			cap *= 2;
		if (cap > OUT_HEADER_MAX)
			cap = OUT_HEADER_MAX;
		uint8_t *h = realloc(m->hdr, cap);
		if (!h) {
			m->hdr_done = true; /* headers from what was kept */
			return;
		}
		m->hdr = h;
		m->hdr_cap = cap;
	}
	memcpy(m->hdr + m->hdr_n, p, take);
	/* The empty line may straddle spans: look again at the last three octets kept. */
	size_t from = m->hdr_n > 3 ? m->hdr_n - 3 : 0;
	m->hdr_n += take;
	size_t end = out_header_end(m->hdr, from, m->hdr_n);
	if (end == SIZE_MAX) {
		m->hdr_n = 0;
		m->hdr_done = true;
	} else if (end) {
		m->hdr_n = end;
		m->hdr_done = true;
	} else if (m->hdr_n == OUT_HEADER_MAX) {
		/* Cut by the bound: a value cut short is not reported, so drop the partial line. */
		const uint8_t *lf = memrchr(m->hdr, '\n', m->hdr_n);
		m->hdr_n = lf ? (size_t)(lf - m->hdr) + 1 : 0;
		m->hdr_done = true;
	}
}

static void out_message_data(struct out_session *s, const struct ev_message_data *d)
{
	struct out_message *m = &s->msg;
	if (!m->active)
		return;
	if (!m->upstream)
		digest_update(&m->dg, d->p, d->n);
	if (!m->hdr_done)
		out_header_copy(m, d->p, d->n);
	if (m->file && !extract_file_write(m->file, d->p, d->n))
		out_file_failed(s, extract_file_error(m->file), out_file_kind(s));
}

/*
 * Whether GMime must read the message back to list its attachments. A message
 * whose whole header section was kept and never mentions a multipart or
 * message/ type, a Content-Disposition, or a name/filename parameter is one
 * part that is not an attachment (mime.c: mime_is_attachment), so the parse
 * (a quarter of -x's time on text messages) would find nothing.
 */
static bool out_may_have_attachments(const struct out_message *m)
{
	static const char *const hints[] = { "multipart", "message/", "disposition", "name" };
	const uint8_t *h = m->hdr;
	size_t n = m->hdr_n;
	/* only a header section kept whole, up to its empty line, can tell */
	bool whole = n >= 2 && h[n - 1] == '\n' &&
		     (h[n - 2] == '\n' || (n >= 3 && h[n - 2] == '\r' && h[n - 3] == '\n'));
	if (!m->hdr_done || !whole)
		return true;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
		size_t k = strlen(hints[i]);
		for (size_t at = 0; at + k <= n; at++)
			if (strncasecmp((const char *)h + at, hints[i], k) == 0)
				return true;
	}
	return false;
}

/* After the last octet: the file flushed (renamed .partial if cut short), parsed, mboxed. */
static void out_message_file_done(struct out_session *s)
{
	struct out_message *m = &s->msg;
	if (!extract_file_finish(m->file, m->rec.complete)) {
		out_file_failed(s, extract_file_error(m->file), out_file_kind(s));
		m->rec.path = extract_file_name(m->file);
		return; /* a short file is neither parsed nor copied */
	}
	m->rec.path = extract_file_name(m->file);
	int fd = extract_file_fd(m->file);
	if (s->o->extract) {
		if (out_may_have_attachments(m))
			m->rec.attachments_error = mime_attachments_parse(
				s->o->mime, fd, m->rec.size, &m->rec.attachments, &m->rec.n_attachments,
				&m->rec.attachments_truncated);
		m->rec.has_attachments = true;
	}
	if (s->o->mbox) {
		struct mbox_entry e = { s->flow, m->time, m->rec.command, m->rec.number,
					m->rec.complete };
		if (!mbox_append(s->o->mbox, &e, fd, m->rec.size))
			out_file_failed(s, errno, "appended to the mbox");
	}
}

/*
 * Size evidence: a whole message whose octets differ from what the server
 * announced or listed. TOP's announced size is the whole message's, not the
 * part that was sent, so it proves nothing.
 */
static bool out_size_mismatch(const struct message_record *m)
{
	bool mismatch = m->complete && ((m->announced >= 0 && (uint64_t)m->announced != m->size) ||
					(m->list_size >= 0 && (uint64_t)m->list_size != m->size));
	return mismatch && strcmp(m->command, "TOP") != 0;
}

/* The one digest of the message that ends now: the capture thread's, or the one made here. */
static struct digest_result out_message_digest(struct out_session *s)
{
	struct out_message *m = &s->msg;
	if (!m->upstream)
		return digest_end(&m->dg);
	if (s->note && s->note->upstream)
		return s->note->result;
	/* The capture thread always sends its digest with the end: never here, but never garbage. */
	if (!digest_begin(&m->dg))
		return (struct digest_result){ 0 };
	return digest_end(&m->dg);
}

static void out_message_finish(struct out_session *s, bool complete)
{
	struct out_message *m = &s->msg;
	if (!m->active)
		return;
	struct digest_result d = out_message_digest(s);
	m->rec.size = d.size;
	digest_hex(&d, m->rec.sha256);
	m->rec.complete = complete;
	m->rec.size_mismatch = out_size_mismatch(&m->rec);
	if (m->file)
		out_message_file_done(s);
	mime_headers_parse(m->hdr, m->hdr_n, &m->rec.headers);
	OUT_WRITE(s->o, message, s->flow, &m->rec);
	extract_file_close(m->file);
	m->file = NULL;
	mime_headers_free(&m->rec.headers);
	mime_attachments_free(m->rec.attachments, m->rec.n_attachments);
	m->rec.attachments = NULL;
	m->rec.n_attachments = 0;
	free(m->hdr); /* an idle session keeps no header buffer */
	m->hdr = NULL;
	m->hdr_n = m->hdr_cap = 0;
	m->active = false;
}

static void out_message_end(struct out_session *s, const struct ev_message_end *e)
{
	out_message_finish(s, e->complete);
}

/* Keeps one record per anomaly id: a count and the first sample. */
static void out_anomaly(struct out_session *s, const struct ev_anomaly *a)
{
	for (size_t i = 0; i < s->n_anoms; i++) {
		if (s->anoms[i].id == a->id) {
			s->anoms[i].count++;
			return;
		}
	}
	struct anomaly_record *n = realloc(s->anoms, (s->n_anoms + 1) * sizeof(*n));
	if (!n)
		return;
	s->anoms = n;
	struct anomaly_record *r = &s->anoms[s->n_anoms++];
	r->id = a->id;
	r->dir = a->dir;
	r->count = 1;
	r->sample_n = a->sample.n < ANOMALY_SAMPLE_MAX ? a->sample.n : ANOMALY_SAMPLE_MAX;
	if (r->sample_n)
		memcpy(r->sample, a->sample.p, r->sample_n);
}

/*
 * The dissector's summary, with why the session ended, its anomalies and its
 * TLS: a session whose TLS could not be read ends in state "TLS", whatever
 * the dissector saw before it.
 */
static void out_session_summary(struct out_session *s, const struct ev_session *e)
{
	const struct flow *f = s->flow;
	struct session_record r = {
		.summary = *e,
		.tls = f->tls != FLOW_TLS_NONE,
		.encrypted = f->tls_implicit,
		.end_reason = e->quit ? "quit" : end_reason_name(f->end_reason),
		.anomalies = s->anoms,
		.n_anomalies = s->n_anoms,
	};
	if (f->tls == FLOW_TLS_PENDING || f->tls == FLOW_TLS_ENCRYPTED)
		r.summary.state = "TLS";
	OUT_WRITE(s->o, session, s->flow, &r);
}

static void out_emit(struct event_sink *sink, const struct event *ev)
{
	struct out_session *s = (struct out_session *)sink;
	switch (ev->type) {
	case EV_AUTH: out_auth(s, &ev->u.auth); break;
	case EV_MESSAGE_BEGIN: out_message_begin(s, &ev->u.message_begin); break;
	case EV_MESSAGE_DATA: out_message_data(s, &ev->u.message_data); break;
	case EV_MESSAGE_END: out_message_end(s, &ev->u.message_end); break;
	case EV_TLS: out_tls(s, &ev->u.tls); break;
	case EV_COMMAND:
		if (s->o->commands)
			OUT_WRITE(s->o, command, s->flow, &ev->u.command);
		break;
	case EV_ANOMALY: out_anomaly(s, &ev->u.anomaly); break;
	case EV_SESSION: out_session_summary(s, &ev->u.session); break;
	case EV_TYPE_COUNT: break;
	}
}

/* A session struct for the capture thread: a returned one (its digest context kept), or new. */
static struct out_session *out_session_get(struct output *o)
{
	if (!o->spare)
		o->spare = atomic_exchange(&o->returned, NULL);
	struct out_session *s = o->spare;
	if (!s)
		return calloc(1, sizeof(*s));
	o->spare = s->next;
	struct digest dg = s->msg.dg;
	memset(s, 0, sizeof(*s));
	s->msg.dg = dg;
	return s;
}

static void out_session_put(struct output *o, struct out_session *s)
{
	s->next = atomic_load(&o->returned);
	while (!atomic_compare_exchange_weak(&o->returned, &s->next, s))
		;
}

static void out_sessions_free(struct out_session *s)
{
	while (s) {
		struct out_session *next = s->next;
		digest_free(&s->msg.dg);
		free(s);
		s = next;
	}
}

struct event_sink *output_session_open(struct output *o, const struct flow *flow)
{
	struct out_session *s = o->handoff ? out_session_get(o) : calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sink.emit = out_emit;
	s->o = o;
	s->flow = flow;
	if (!o->handoff)
		return &s->sink;
	s->flow = NULL; /* each event brings the flow it was emitted with */
	struct event_sink *sink = handoff_session_open(o->handoff, s, flow);
	if (!sink)
		out_sessions_free(s);
	return sink;
}

/* The session's last record: a message still open is written, incomplete. */
static void out_session_end(struct out_session *s)
{
	out_message_finish(s, false);
	free(s->anoms);
	s->anoms = NULL;
}

void output_session_close(struct event_sink *sink)
{
	if (!sink)
		return;
	if (handoff_is_sink(sink)) {
		handoff_session_close(sink);
		return;
	}
	struct out_session *s = (struct out_session *)sink;
	out_session_end(s);
	out_sessions_free(s);
}

/* ---- the output thread's side (handoff.h's event_target) ------------------ */

static void out_deliver(void *ctx, void *session, const struct flow *f, const struct event *ev,
			const struct digest_note *note)
{
	(void)ctx;
	struct out_session *s = session;
	s->flow = f;
	s->note = note;
	out_emit(&s->sink, ev);
	s->flow = NULL;
	s->note = NULL;
}

static void out_end(void *ctx, void *session, const struct flow *f, const struct digest_note *note)
{
	struct out_session *s = session;
	s->flow = f;
	s->note = note;
	out_session_end(s);
	out_session_put(ctx, s);
}

static bool out_flush_target(void *ctx)
{
	return out_apply_flush(ctx);
}

/* The output thread; NULL when it cannot start (then output runs inline). */
static struct handoff *out_start_thread(struct output *o)
{
	const struct event_target target = { o, out_deliver, out_end, out_flush_target };
	struct handoff_config hc = {
		/* --transactions' commands are the only events a run may not want at all */
		.drop_types = o->commands ? 0 : 1u << EV_COMMAND,
		/* hashing may move to the capture thread only when no file needs every octet here */
		.share = o->cfg.extract_dir || o->cfg.mbox_path ? HASH_SHARE_NEVER : o->cfg.hash_sharing,
		.head_max = OUT_HEADER_MAX,
	};
	return handoff_start(&target, &hc);
}
