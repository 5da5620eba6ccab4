/*
 * workers_order.c - the merge of workers_order.h: a FIFO of copied lines per
 * worker, the smallest head handed on when no worker can still undercut it.
 */
#include "workers_order.h"

#include <stdlib.h>
#include <string.h>

#include "workers.h"

struct wline {
	uint64_t key;
	size_t n;
	char text[];
};

struct wqueue {
	struct wline **v;
	size_t head, len, cap;
	uint64_t last_key;
	uint64_t synced;
	bool ended;
};

struct worder {
	unsigned n;
	struct wqueue q[WORKERS_MAX];
	size_t bytes;
	uint64_t forced;
	worder_deliver_fn deliver;
	void *ctx;
};

struct worder *worder_new(unsigned n, worder_deliver_fn deliver, void *ctx)
{
	struct worder *o = calloc(1, sizeof(*o));
	if (o) {
		o->n = n;
		o->deliver = deliver;
		o->ctx = ctx;
	}
	return o;
}

static bool wq_push(struct wqueue *q, struct wline *l)
{
	if (q->head + q->len == q->cap) {
		if (q->head) { /* room at the front: move down */
			memmove(q->v, q->v + q->head, q->len * sizeof(*q->v));
			q->head = 0;
		} else {
			size_t cap = q->cap ? q->cap * 2 : 64;
			struct wline **v = realloc(q->v, cap * sizeof(*v));
			if (!v)
				return false;
			q->v = v;
			q->cap = cap;
		}
	}
	q->v[q->head + q->len++] = l;
	return true;
}

/* The worker whose head line is smallest; -1 when every queue is empty. */
static int wo_smallest(const struct worder *o)
{
	int best = -1;
	for (unsigned k = 0; k < o->n; k++) {
		const struct wqueue *q = &o->q[k];
		if (q->len && (best < 0 || q->v[q->head]->key < o->q[best].v[o->q[best].head]->key))
			best = (int)k;
	}
	return best;
}

/* No worker but `best` can still write a line keyed below `key`. */
static bool wo_safe(const struct worder *o, unsigned best, uint64_t key)
{
	for (unsigned k = 0; k < o->n; k++) {
		const struct wqueue *q = &o->q[k];
		if (k != best && !q->len && !q->ended && q->synced < key)
			return false;
	}
	return true;
}

static void wo_pop(struct worder *o, unsigned k)
{
	struct wqueue *q = &o->q[k];
	struct wline *l = q->v[q->head++];
	q->len--;
	o->bytes -= l->n;
	o->deliver(o->ctx, l->text, l->n);
	free(l);
}

static void wo_release(struct worder *o, bool all)
{
	int k;
	while ((k = wo_smallest(o)) >= 0) {
		uint64_t key = o->q[k].v[o->q[k].head]->key;
		bool full = o->bytes > WORDER_BYTES_MAX;
		if (!all && !full && !wo_safe(o, (unsigned)k, key))
			return;
		o->forced += full && !all;
		wo_pop(o, (unsigned)k);
	}
}

void worder_line(struct worder *o, unsigned k, const char *line, size_t n, uint64_t key)
{
	struct wqueue *q = &o->q[k];
	key = key ? key : q->last_key;
	q->last_key = key;
	struct wline *l = malloc(sizeof(*l) + n + 1);
	if (!l || !wq_push(q, l)) {
		free(l);
		o->deliver(o->ctx, line, n); /* out of memory: on at once, out of order */
		return;
	}
	l->key = key;
	l->n = n;
	memcpy(l->text, line, n);
	l->text[n] = '\0';
	o->bytes += n;
	wo_release(o, false);
}

void worder_synced(struct worder *o, unsigned k, uint64_t frame)
{
	o->q[k].synced = frame;
	wo_release(o, false);
}

void worder_ended(struct worder *o, unsigned k, bool ended)
{
	o->q[k].ended = ended;
	wo_release(o, false);
}

void worder_drain(struct worder *o)
{
	wo_release(o, true);
}

uint64_t worder_forced(const struct worder *o)
{
	return o->forced;
}

void worder_free(struct worder *o)
{
	if (!o)
		return;
	for (unsigned k = 0; k < o->n; k++) {
		struct wqueue *q = &o->q[k];
		for (size_t i = 0; i < q->len; i++)
			free(q->v[q->head + i]);
		free(q->v);
	}
	free(o);
}
