/*
 * handoff.c - the capture thread's side and the output thread's loop
 * (handoff.h).
 *
 * A dissector's event points into the dissector's memory and is valid only
 * during emit(), and the engine's flow changes with every packet: so each event
 * is copied whole into one ring record - the struct, the flow as it is now, and
 * every byte string and array it points to, re-pointed into the record. Message
 * data is the bulk of a capture and needs no flow: it goes as bare byte records.
 * An event too big for the ring (a session summary with a huge mailbox) is
 * copied to the heap and the record carries the pointer.
 */
#include "handoff.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define HANDOFF_RING (4u << 20)

enum rec_kind { REC_EVENT, REC_EVENT_HEAP, REC_DATA, REC_CLOSE, REC_FLUSH, REC_SET_FP };

struct rec {
	enum rec_kind kind;
	struct out_session *s;
};

struct rec_event {
	struct rec r;
	struct flow flow;
	struct prehash ph;
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
	struct prehash ph;
};

struct rec_ctl {
	struct rec r;
	FILE *fp;
	uint64_t seq;
};

struct handoff {
	struct ring *ring;
	struct output *o;
	pthread_t thread;
	bool want_commands;
	enum hash_sharing share;
	bool warned_oom;
	uint64_t ctl_sent; /* capture thread only */
	struct out_session *data_of; /* the last record is data of this session: extend it */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t ctl_done; /* under mu */
	bool ctl_result;
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
		    const struct prehash *ph)
{
	re->r = (struct rec){ REC_EVENT, hs->s };
	re->flow = *hs->flow;
	re->ph = ph ? *ph : (struct prehash){ 0 };
	re->ev = *ev;
	struct arena a = { (uint8_t *)(re + 1), 0 };
	ar_event(&a, &re->ev);
}

static void hs_event(struct handoff_sink *hs, const struct event *ev, const struct prehash *ph)
{
	struct handoff *h = hs->h;
	h->data_of = NULL;
	struct event probe = *ev;
	struct arena count = { NULL, 0 };
	ar_event(&count, &probe);
	size_t need = sizeof(struct rec_event) + count.n;
	if (need <= ring_max_record(h->ring)) {
		hs_fill(ring_reserve(h->ring, need), hs, ev, ph);
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
	hs_fill(re, hs, ev, ph);
	struct rec_heap *rh = ring_reserve(h->ring, sizeof(*rh));
	*rh = (struct rec_heap){ { REC_EVENT_HEAP, hs->s }, re };
	ring_commit(h->ring, RING_NOW);
}

static void hs_data(struct handoff_sink *hs, const uint8_t *p, size_t n)
{
	struct handoff *h = hs->h;
	size_t max = ring_max_record(h->ring) - sizeof(struct rec_data);
	while (n) {
		size_t k = n < max ? n : max;
		uint8_t *to = h->data_of == hs->s ? ring_extend(h->ring, k) : NULL;
		if (!to) {
			struct rec_data *d = ring_reserve(h->ring, sizeof(*d) + k);
			d->r = (struct rec){ REC_DATA, hs->s };
			to = (uint8_t *)(d + 1);
		}
		memcpy(to, p, k);
		ring_commit(h->ring, RING_LAZY);
		h->data_of = hs->s;
		p += k;
		n -= k;
	}
}

/* Whether the capture thread hashes the message that begins now. */
static bool hs_share(struct handoff_sink *hs)
{
	struct handoff *h = hs->h;
	if (h->share == HASH_SHARE_NEVER ||
	    (h->share == HASH_SHARE_AUTO && ring_percent_full(h->ring) < 50))
		return false;
	if (!hs->md)
		hs->md = EVP_MD_CTX_new();
	return hs->md && EVP_DigestInit_ex(hs->md, EVP_sha256(), NULL);
}

/* The digest of the message hashed here, which ends now (with whatever reached it). */
static struct prehash hs_digest(struct handoff_sink *hs)
{
	struct prehash ph = { .on = true, .size = hs->size };
	unsigned int len = 0;
	EVP_DigestFinal_ex(hs->md, ph.sha256, &len);
	hs->hashing = false;
	return ph;
}

static void hs_begin(struct handoff_sink *hs, const struct event *ev)
{
	if (hs->hashing) { /* a begin without an end: the first ends here, as output.c does it */
		struct prehash done = hs_digest(hs);
		struct event end = { .type = EV_MESSAGE_END };
		hs_event(hs, &end, &done);
	}
	struct prehash ph = { .on = hs_share(hs) };
	hs->hashing = ph.on;
	hs->size = hs->passed = 0;
	hs_event(hs, ev, &ph);
}

/* A message hashed here: the output thread gets only the octets its header copy keeps. */
static void hs_hashed_data(struct handoff_sink *hs, const uint8_t *p, size_t n)
{
	EVP_DigestUpdate(hs->md, p, n);
	hs->size += n;
	size_t k = OUTPUT_HEADER_MAX - hs->passed;
	if (k > n)
		k = n;
	if (k)
		hs_data(hs, p, k);
	hs->passed += k;
}

static void hs_emit(struct event_sink *sink, const struct event *ev)
{
	struct handoff_sink *hs = (struct handoff_sink *)sink;
	switch (ev->type) {
	case EV_MESSAGE_DATA:
		if (hs->hashing)
			hs_hashed_data(hs, ev->u.message_data.p, ev->u.message_data.n);
		else
			hs_data(hs, ev->u.message_data.p, ev->u.message_data.n);
		break;
	case EV_MESSAGE_BEGIN: hs_begin(hs, ev); break;
	case EV_MESSAGE_END: {
		struct prehash ph = hs->hashing ? hs_digest(hs) : (struct prehash){ 0 };
		hs_event(hs, ev, &ph);
		break;
	}
	case EV_COMMAND:
		if (hs->h->want_commands)
			hs_event(hs, ev, NULL);
		break;
	default: hs_event(hs, ev, NULL); break;
	}
}

struct event_sink *handoff_session(struct handoff *h, struct handoff_sink *hs, struct out_session *s,
				   const struct flow *flow)
{
	hs->sink.emit = hs_emit;
	hs->h = h;
	hs->s = s;
	hs->flow = flow;
	hs->hashing = false;
	return &hs->sink;
}

bool handoff_owns(const struct event_sink *sink)
{
	return sink->emit == hs_emit;
}

void handoff_session_close(struct event_sink *sink)
{
	struct handoff_sink *hs = (struct handoff_sink *)sink;
	hs->h->data_of = NULL;
	struct prehash ph = hs->hashing ? hs_digest(hs) : (struct prehash){ 0 };
	struct rec_close *c = ring_reserve(hs->h->ring, sizeof(*c));
	*c = (struct rec_close){ { REC_CLOSE, hs->s }, *hs->flow, ph };
	ring_commit(hs->h->ring, RING_NOW);
}

/* Queues a control record and waits until the output thread has done it. */
static bool handoff_ctl(struct handoff *h, enum rec_kind kind, FILE *fp)
{
	uint64_t seq = ++h->ctl_sent;
	h->data_of = NULL;
	struct rec_ctl *c = ring_reserve(h->ring, sizeof(*c));
	*c = (struct rec_ctl){ { kind, NULL }, fp, seq };
	ring_commit(h->ring, RING_URGENT);
	pthread_mutex_lock(&h->mu);
	while (h->ctl_done < seq)
		pthread_cond_wait(&h->cv, &h->mu);
	bool ok = h->ctl_result;
	pthread_mutex_unlock(&h->mu);
	return ok;
}

bool handoff_flush(struct handoff *h)
{
	return handoff_ctl(h, REC_FLUSH, NULL);
}

void handoff_set_fp(struct handoff *h, FILE *fp)
{
	handoff_ctl(h, REC_SET_FP, fp);
}

/* ---- the output thread ------------------------------------------------------ */

static void handoff_ctl_done(struct handoff *h, const struct rec_ctl *c)
{
	bool ok = true;
	if (c->r.kind == REC_FLUSH)
		ok = output_apply_flush(h->o);
	else
		output_apply_fp(h->o, c->fp);
	pthread_mutex_lock(&h->mu);
	h->ctl_done = c->seq;
	h->ctl_result = ok;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
}

static void handoff_apply(struct handoff *h, const struct rec *r, size_t n)
{
	switch (r->kind) {
	case REC_EVENT: {
		const struct rec_event *re = (const struct rec_event *)r;
		output_deliver(r->s, &re->flow, &re->ev, &re->ph);
		break;
	}
	case REC_EVENT_HEAP: {
		struct rec_event *re = ((const struct rec_heap *)r)->ev;
		output_deliver(r->s, &re->flow, &re->ev, &re->ph);
		free(re);
		break;
	}
	case REC_DATA: {
		struct event ev = { .type = EV_MESSAGE_DATA };
		ev.u.message_data.p = (const uint8_t *)((const struct rec_data *)r + 1);
		ev.u.message_data.n = n - sizeof(struct rec_data);
		output_deliver(r->s, NULL, &ev, NULL);
		break;
	}
	case REC_CLOSE: {
		const struct rec_close *c = (const struct rec_close *)r;
		output_session_end(r->s, &c->flow, &c->ph);
		break;
	}
	case REC_FLUSH:
	case REC_SET_FP: handoff_ctl_done(h, (const struct rec_ctl *)r); break;
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
	output_apply_flush(h->o); /* here: a write error's errno belongs to this thread */
	return NULL;
}

static void handoff_free(struct handoff *h)
{
	pthread_cond_destroy(&h->cv);
	pthread_mutex_destroy(&h->mu);
	ring_free(h->ring);
	free(h);
}

struct handoff *handoff_start(struct output *o, bool want_commands, enum hash_sharing share)
{
	struct handoff *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->o = o;
	h->want_commands = want_commands;
	h->share = share;
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
