/*
 * holdback.h - handshakes held back from libnids. A SYN, and then the SYN-ACK
 * answering it, are kept here until a third packet shows the connection is
 * real; only then does libnids get them. Half-open connections (scans, SYN
 * floods, unanswered SYNs) thus never take a slot in libnids' stream table,
 * where they would evict established sessions: libnids evicts the oldest
 * stream whatever its state (docs/libnids.md, Stream table).
 *
 * A plain table: it knows nothing of libnids and feeds nothing. The caller
 * (reasm.c) feeds what a verdict says, from the slot returned.
 */
#ifndef POPSIFT_HOLDBACK_H
#define POPSIFT_HOLDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipv4.h"

#define HOLDBACK_PKT_MAX 80 /* a longer SYN or SYN-ACK (IP options, data) goes straight in */

/* One handshake libnids has not seen yet, its packets as captured. */
struct holdback_slot {
	struct ipv4_tuple t; /* client -> server, as the SYN was sent */
	bool used;
	uint8_t syn_len, synack_len; /* synack_len 0: no SYN-ACK yet */
	uint32_t bucket;             /* where the table points at it (holdback.c) */
	uint32_t syn_seq, synack_seq;
	uint8_t syn[HOLDBACK_PKT_MAX];
	uint8_t synack[HOLDBACK_PKT_MAX];
};

/* A place in the table: which slot holds the handshake whose tuple hashes to `tag`. */
struct holdback_bucket {
	uint32_t tag;  /* the tuple's hash | 1 */
	uint32_t slot; /* index in the pool + 1; 0: empty */
};

struct holdback {
	struct holdback_bucket *bucket; /* 2-way set-associative: mask + 1 buckets */
	struct holdback_slot *slot;     /* the pool: mask + 1 slots */
	uint32_t *spare;                /* pool slots free, a stack: the last freed is reused first */
	uint32_t n_spare;
	uint32_t mask;
	uint32_t held;      /* slots in use: at the end, no walk over a table that is empty */
	uint64_t *given_up; /* counts handshakes dropped unfinished (half-open) */
};

/* What to do with a SYN or SYN-ACK offered to holdback_offer(). */
enum holdback_verdict {
	HOLDBACK_FEED,     /* not held: feed it now */
	HOLDBACK_KEPT,     /* held: do not feed it */
	HOLDBACK_SYN_FIRST /* not held, its SYN was: feed (*slot)->syn, then it */
};

/*
 * Sized for max_streams concurrent connections (64 to 65536 slots, about
 * 11 MB at most, touched only as handshakes arrive). False when out of memory.
 * Unfinished handshakes will be counted in *given_up.
 */
bool holdback_init(struct holdback *hb, unsigned max_streams, uint64_t *given_up);
/* End of input: every handshake still held was never completed (counted), then freed. */
void holdback_free(struct holdback *hb);
/*
 * A packet of a connection libnids does not know, carrying a SYN or a
 * SYN-ACK: keep it, or say what to feed. Any other packet: HOLDBACK_FEED.
 * A slot returned stays readable until the next call.
 */
enum holdback_verdict holdback_offer(struct holdback *hb, const struct segment *g,
				     const uint8_t *ip, size_t len,
				     const struct holdback_slot **slot);
/*
 * Any other packet of a connection libnids does not know ends the wait. With
 * a SYN-ACK held, returns the slot (readable until the next call): feed its
 * SYN, its SYN-ACK and, when *ack_lost, the client's ACK the capture lost,
 * then this packet; the session starts as a complete one. Otherwise NULL:
 * a reset ends a handshake, a SYN never answered is forgotten.
 */
const struct holdback_slot *holdback_release(struct holdback *hb, const struct segment *g,
					     bool *ack_lost);

#endif
