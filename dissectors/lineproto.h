/*
 * lineproto.h - the plumbing POP3 and POP2 share as line protocols: the
 * first-in first-out queue of client lines waiting for their replies, the
 * lookup of a line's command keyword in a protocol's command table, and the
 * two anomalies both report alike (bytes lost to a gap, client bytes after
 * QUIT). Each protocol keeps its own rules; only the mechanics live here.
 */
#ifndef POPSIFT_LINEPROTO_H
#define POPSIFT_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emit.h"

/* A client line waiting for its reply. */
struct lp_pending {
	int id;        /* the protocol's command id (enum pop3_cmd_id, enum pop2_cmd_id) */
	uint8_t *line; /* owned: released with lpq_release() */
	size_t n;
	size_t argoff; /* where the argument starts; == n when there is none */
};

/*
 * A ring of pending lines, grown on demand up to the protocol's bounds, so an
 * idle session costs a few bytes, not a full ring (100,000 concurrent sessions
 * must fit). Over a bound, the oldest line is dropped and reported. `bytes`
 * counts every line taken from the queue until it is released, so a command
 * whose multi-line reply is still being read keeps its share of the budget.
 */
struct lp_queue {
	struct lp_pending *ring;
	size_t cap, head, len, bytes;
	size_t max_lines, max_bytes; /* the protocol's bounds */
	enum anomaly overflow;       /* reported with each line dropped */
	struct event_sink *sink;
};

void lpq_init(struct lp_queue *q, struct event_sink *sink, size_t max_lines, size_t max_bytes,
	      enum anomaly overflow);
/* Releases every line still queued, and the ring. */
void lpq_free(struct lp_queue *q);

/* Entry i from the head (i < q->len). */
static inline struct lp_pending *lpq_at(const struct lp_queue *q, size_t i)
{
	return &q->ring[(q->head + i) % q->cap];
}

/*
 * Queues a copy of line[0..n) as command `id`, dropping (and reporting) the
 * oldest lines while a bound would be passed. Returns false when out of
 * memory: the line is not queued.
 */
bool lpq_push(struct lp_queue *q, int id, const uint8_t *line, size_t n);
/* Removes the head and hands it to the caller, who releases it. */
struct lp_pending lpq_pop(struct lp_queue *q);
/* Removes entry i (0 < i < len), keeping the others in order; the caller releases it. */
struct lp_pending lpq_take(struct lp_queue *q, size_t i);
/* Frees a line taken from q (lpq_pop, lpq_take) and gives its bytes back to the budget. */
void lpq_release(struct lp_queue *q, struct lp_pending *c);

static inline struct bytes lp_arg(const struct lp_pending *c)
{
	return bytes_of(c->line + c->argoff, c->n - c->argoff);
}

static inline bool lp_has_arg(const struct lp_pending *c)
{
	return c->argoff < c->n;
}

/*
 * One row of a line protocol's command table, generated from its .def file
 * (pop3_cmds.def, pop2_cmds.def). The last rows are pseudo-commands with an
 * empty keyword (UNKNOWN, and POP3's LOST), which no line matches.
 */
struct lp_cmd {
	const char *keyword;
	int reply;      /* what answers it: POP3's multi-line rule, POP2's reply kind */
	unsigned flags; /* POP3: valid only in TRANSACTION; POP2: the states it is valid in */
};

/*
 * The command of a line: the index in cmds[0..count) of its first word (the
 * bytes before the first space), compared case-insensitively, or count when
 * the word is none of them.
 */
int lp_command(const struct lp_cmd *cmds, int count, const uint8_t *line, size_t n);

/* Reports `missing` bytes lost in direction dir (the sample says how many). */
void lp_gap(struct event_sink *sink, enum dir dir, size_t missing);

/*
 * Client bytes after QUIT was acknowledged: reported once per session, with
 * no sample, since a report per chunk would depend on chunking. *reported
 * remembers it.
 */
void lp_after_quit(struct event_sink *sink, enum anomaly id, bool *reported);

#endif
