/*
 * handoff.c - the capture thread's side of the queue and the second thread's
 * loop (handoff.h).
 *
 * A dissector's event points into the dissector's memory and is valid only
 * during emit(), and the engine's flow changes with every packet: so each event
 * is copied whole into one ring record - the struct, the flow as it is now, and
 * every byte string and array it points to (the *_POINTERS lists of event.h),
 * re-pointed into the record. Message data is the bulk of a capture and needs
 * no flow: it goes as bare byte records. An event too big for the ring (a
 * session summary with a huge mailbox) is copied to the heap and the record
 * carries the pointer.
 */
#include "handoff.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define HANDOFF_RING (4u << 20)

enum rec_kind { REC_EVENT, REC_EVENT_HEAP, REC_DATA, REC_CLOSE, REC_CALL };

struct rec {
	enum rec_kind kind;
	void *session;
};

struct rec_event {
	struct rec r;
	struct flow flow;
	struct digest_note note;
	struct event ev;
	/* the bytes the event points to follow */
};

struct rec_heap {
	struct rec r;
	struct rec_event *ev;
};

struct rec_data {
	struct rec r;
	/* the message octets follow (the record's size says how many) */
};

struct rec_close {
	struct rec r;
	struct flow flow;
	struct digest_note note;
};

/* Run fn on the second thread, then wake the caller waiting for seq. */
struct rec_call {
	struct rec r;
	bool (*fn)(void *ctx, void *arg);
	void *arg;
	uint64_t seq;
};

/* The capture thread's sink for one session (capture thread only). */
struct handoff_sink {
	struct event_sink sink;
	struct handoff *h;
	void *session;
	const struct flow *flow;  /* the engine's, which it keeps updating */
	struct digest dg;         /* the message in progress, when hashed here */
	uint64_t passed;          /* its octets that went to the second thread */
	struct handoff_sink *next; /* on the spare list */
};

struct handoff {
	struct ring *ring;
	struct event_target target;
	struct handoff_config cfg;
	pthread_t thread;
	bool warned_oom;
	/* the capture thread's */
	uint64_t call_sent;
	void *data_of;                /* the last record is data of this session: extend it */
	struct handoff_sink *spare;   /* closed sinks, for the next sessions */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t call_done; /* under mu */
	bool call_result;
};

/* ---- copying an event into a record --------------------------------------- */

/* Where copies go; p NULL: only count the bytes they need. */
struct arena {
	uint8_t *p;
	size_t n;
};

static void *ar_take(struct arena *a, size_t n)
{
	size_t at = (a->n + 7) & ~(size_t)7;
	a->n = at + n;
	return a->p ? a->p + at : NULL;
}

static void ar_bytes(struct arena *a, struct bytes *b)
{
	if (!b->n)
		return;
	uint8_t *d = ar_take(a, b->n);
	if (d) {
		memcpy(d, b->p, b->n);
		b->p = d;
	}
}

static const char *ar_str(struct arena *a, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	char *d = ar_take(a, n);
	if (!d)
		return s;
	memcpy(d, s, n);
	return d;
}

static const struct bytes *ar_bytes_array(struct arena *a, const struct bytes *src, size_t n)
{
	if (!n)
		return src;
	struct bytes *d = ar_take(a, n * sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		struct bytes b = src[i];
		ar_bytes(a, &b);
		if (d)
			d[i] = b;
	}
	return d ? d : src;
}

static const uint8_t *ar_span(struct arena *a, const uint8_t *p, size_t n)
{
	struct bytes b = bytes_of(p, n);
	ar_bytes(a, &b);
	return b.p;
}

/*
 * One field of an event's *_POINTERS list (dissectors/event.h), copied into a:
 * x points at the struct that holds it.
 */
#define AR_STR(f, n) x->f = ar_str(a, x->f);
#define AR_BYTES(f, n) ar_bytes(a, &x->f);
#define AR_SPAN(f, n) x->f = ar_span(a, x->f, x->n);
#define AR_BYTES_ARRAY(f, n) x->f = ar_bytes_array(a, x->f, x->n);
#define AR_ENTRY_ARRAY(f, n) x->f = ar_mailbox(a, x->f, x->n);
#define AR_FIELD(kind, f, n) AR_##kind(f, n)

/* Copies every field that LIST names of the struct at p (or only counts them). */
#define AR_COPY(p, LIST) \
	do { \
		__auto_type x = (p); \
		(void)x; \
		LIST(AR_FIELD) \
	} while (0)

static const struct mailbox_entry *ar_mailbox(struct arena *a, const struct mailbox_entry *src, size_t n)
{
	if (!n)
		return src;
	struct mailbox_entry *d = ar_take(a, n * sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		struct mailbox_entry e = src[i];
		AR_COPY(&e, MAILBOX_ENTRY_POINTERS);
		if (d)
			d[i] = e;
	}
	return d ? d : src;
}

/* Copies everything e points to into a and points e at the copies (or only counts). */
static void ar_event(struct arena *a, struct event *e)
{
	switch (e->type) {
	case EV_AUTH: AR_COPY(&e->u.auth, EV_AUTH_POINTERS); break;
	case EV_MESSAGE_BEGIN: AR_COPY(&e->u.message_begin, EV_MESSAGE_BEGIN_POINTERS); break;
	case EV_MESSAGE_DATA: AR_COPY(&e->u.message_data, EV_MESSAGE_DATA_POINTERS); break;
	case EV_MESSAGE_END: AR_COPY(&e->u.message_end, EV_MESSAGE_END_POINTERS); break;
	case EV_TLS: AR_COPY(&e->u.tls, EV_TLS_POINTERS); break;
	case EV_COMMAND: AR_COPY(&e->u.command, EV_COMMAND_POINTERS); break;
	case EV_ANOMALY: AR_COPY(&e->u.anomaly, EV_ANOMALY_POINTERS); break;
	case EV_SESSION: AR_COPY(&e->u.session, EV_SESSION_POINTERS); break;
	case EV_TYPE_COUNT: break;
	}
}

/* ---- the capture thread's side --------------------------------------------- */

static void hs_fill(struct rec_event *re, const struct handoff_sink *hs, const struct event *ev,
		    const struct digest_note *note)
{
	re->r = (struct rec){ REC_EVENT, hs->session };
	re->flow = *hs->flow;
	re->note = note ? *note : (struct digest_note){ 0 };
	re->ev = *ev;
	struct arena a = { (uint8_t *)(re + 1), 0 };
	ar_event(&a, &re->ev);
}

static void hs_event(struct handoff_sink *hs, const struct event *ev, const struct digest_note *note)
{
	struct handoff *h = hs->h;
	h->data_of = NULL;
	struct event probe = *ev;
	struct arena count = { NULL, 0 };
	ar_event(&count, &probe);
	size_t need = sizeof(struct rec_event) + count.n;
	if (need <= ring_max_record(h->ring)) {
		hs_fill(ring_reserve(h->ring, need), hs, ev, note);
		ring_commit(h->ring, RING_NOW);
		return;
	}
	struct rec_event *re = malloc(need);
	if (!re) {
		if (!h->warned_oom)
			fprintf(stderr, "popsift: warning: out of memory: an event was lost\n");
		h->warned_oom = true;
		return;
	}
	hs_fill(re, hs, ev, note);
	struct rec_heap *rh = ring_reserve(h->ring, sizeof(*rh));
	*rh = (struct rec_heap){ { REC_EVENT_HEAP, hs->session }, re };
	ring_commit(h->ring, RING_NOW);
}

static void hs_data(struct handoff_sink *hs, const uint8_t *p, size_t n)
{
	struct handoff *h = hs->h;
	size_t max = ring_max_record(h->ring) - sizeof(struct rec_data);
	while (n) {
		size_t k = n < max ? n : max;
		uint8_t *to = h->data_of == hs->session ? ring_extend(h->ring, k) : NULL;
		if (!to) {
			struct rec_data *d = ring_reserve(h->ring, sizeof(*d) + k);
			d->r = (struct rec){ REC_DATA, hs->session };
			to = (uint8_t *)(d + 1);
		}
		memcpy(to, p, k);
		ring_commit(h->ring, RING_LAZY);
		h->data_of = hs->session;
		p += k;
		n -= k;
	}
}

/* The digest of the message hashed here, which ends now (with whatever reached it). */
static struct digest_note hs_digest(struct handoff_sink *hs)
{
	return (struct digest_note){ .upstream = true, .result = digest_end(&hs->dg) };
}

static void hs_begin(struct handoff_sink *hs, const struct event *ev)
{
	if (hs->dg.on) { /* a begin without an end: the first ends here, as an inline sink ends it */
		struct digest_note done = hs_digest(hs);
		struct event end = { .type = EV_MESSAGE_END };
		hs_event(hs, &end, &done);
	}
	struct handoff *h = hs->h;
	struct digest_note note = { .upstream = digest_upstream(h->cfg.share, ring_percent_full(h->ring)) &&
						digest_begin(&hs->dg) };
	hs->passed = 0;
	hs_event(hs, ev, &note);
}

/* A message hashed here: the second thread gets only its first cfg.head_max octets. */
static void hs_hashed_data(struct handoff_sink *hs, const uint8_t *p, size_t n)
{
	digest_update(&hs->dg, p, n);
	size_t k = hs->passed < hs->h->cfg.head_max ? hs->h->cfg.head_max - hs->passed : 0;
	if (k > n)
		k = n;
	if (k)
		hs_data(hs, p, k);
	hs->passed += k;
}

static void hs_emit(struct event_sink *sink, const struct event *ev)
{
	struct handoff_sink *hs = (struct handoff_sink *)sink;
	if (hs->h->cfg.drop_types & (1u << ev->type))
		return;
	switch (ev->type) {
	case EV_MESSAGE_DATA:
		if (hs->dg.on)
			hs_hashed_data(hs, ev->u.message_data.p, ev->u.message_data.n);
		else
			hs_data(hs, ev->u.message_data.p, ev->u.message_data.n);
		break;
	case EV_MESSAGE_BEGIN: hs_begin(hs, ev); break;
	case EV_MESSAGE_END: {
		struct digest_note note = hs->dg.on ? hs_digest(hs) : (struct digest_note){ 0 };
		hs_event(hs, ev, &note);
		break;
	}
	default: hs_event(hs, ev, NULL); break;
	}
}

struct event_sink *handoff_session_open(struct handoff *h, void *session, const struct flow *flow)
{
	struct handoff_sink *hs = h->spare;
	if (hs)
		h->spare = hs->next;
	else if (!(hs = calloc(1, sizeof(*hs))))
		return NULL;
	struct digest dg = hs->dg; /* its context is kept for reuse */
	*hs = (struct handoff_sink){ .sink.emit = hs_emit, .h = h, .session = session, .flow = flow };
	hs->dg = dg;
	hs->dg.on = false;
	return &hs->sink;
}

bool handoff_is_sink(const struct event_sink *sink)
{
	return sink->emit == hs_emit;
}

void handoff_session_close(struct event_sink *sink)
{
	struct handoff_sink *hs = (struct handoff_sink *)sink;
	struct handoff *h = hs->h;
	h->data_of = NULL;
	struct digest_note note = hs->dg.on ? hs_digest(hs) : (struct digest_note){ 0 };
	struct rec_close *c = ring_reserve(h->ring, sizeof(*c));
	*c = (struct rec_close){ { REC_CLOSE, hs->session }, *hs->flow, note };
	ring_commit(h->ring, RING_NOW);
	hs->next = h->spare;
	h->spare = hs;
}

bool handoff_call(struct handoff *h, bool (*fn)(void *ctx, void *arg), void *arg)
{
	uint64_t seq = ++h->call_sent;
	h->data_of = NULL;
	struct rec_call *c = ring_reserve(h->ring, sizeof(*c));
	*c = (struct rec_call){ { REC_CALL, NULL }, fn, arg, seq };
	ring_commit(h->ring, RING_URGENT);
	pthread_mutex_lock(&h->mu);
	while (h->call_done < seq)
		pthread_cond_wait(&h->cv, &h->mu);
	bool ok = h->call_result;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

static bool call_flush(void *ctx, void *arg)
{
	const struct event_target *t = arg;
	return t->flush(ctx);
}

bool handoff_flush(struct handoff *h)
{
	return handoff_call(h, call_flush, &h->target);
}

/* ---- the second thread ------------------------------------------------------ */

static void handoff_call_done(struct handoff *h, const struct rec_call *c)
{
	bool ok = c->fn(h->target.ctx, c->arg);
	pthread_mutex_lock(&h->mu);
	h->call_done = c->seq;
	h->call_result = ok;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static void handoff_apply(struct handoff *h, const struct rec *r, size_t n)
{
	const struct event_target *t = &h->target;
	switch (r->kind) {
	case REC_EVENT: {
		const struct rec_event *re = (const struct rec_event *)r;
		t->deliver(t->ctx, r->session, &re->flow, &re->ev, &re->note);
		break;
	}
	case REC_EVENT_HEAP: {
		struct rec_event *re = ((const struct rec_heap *)r)->ev;
		t->deliver(t->ctx, r->session, &re->flow, &re->ev, &re->note);
		free(re);
		break;
	}
	case REC_DATA: {
		struct event ev = { .type = EV_MESSAGE_DATA };
		ev.u.message_data.p = (const uint8_t *)((const struct rec_data *)r + 1);
		ev.u.message_data.n = n - sizeof(struct rec_data);
		t->deliver(t->ctx, r->session, NULL, &ev, NULL);
		break;
	}
	case REC_CLOSE: {
		const struct rec_close *c = (const struct rec_close *)r;
		t->end(t->ctx, r->session, &c->flow, &c->note);
		break;
	}
	case REC_CALL: handoff_call_done(h, (const struct rec_call *)r); break;
	}
}

static void *handoff_main(void *arg)
{
	struct handoff *h = arg;
	const void *r;
	size_t n;
	while ((r = ring_next(h->ring, &n)) != NULL) {
		handoff_apply(h, r, n);
		ring_release(h->ring);
	}
	h->target.flush(h->target.ctx); /* here: a write error's errno belongs to this thread */
	return NULL;
}

static void handoff_free(struct handoff *h)
{
	while (h->spare) {
		struct handoff_sink *next = h->spare->next;
		digest_free(&h->spare->dg);
		free(h->spare);
		h->spare = next;
	}
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	ring_free(h->ring);
	free(h);
}

struct handoff *handoff_start(const struct event_target *target, const struct handoff_config *cfg)
{
	struct handoff *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->target = *target;
	h->cfg = *cfg;
	h->ring = ring_new(HANDOFF_RING);
	if (!h->ring) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->cv, NULL);
	/* Signals (SIGINT, SIGHUP, SIGUSR1) stay with the capture thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int e = pthread_create(&h->thread, NULL, handoff_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		handoff_free(h);
		return NULL;
	}
	return h;
}

void handoff_stop(struct handoff *h)
{
	if (!h)
		return;
	ring_close(h->ring);
	pthread_join(h->thread, NULL);
	handoff_free(h);
}
