/*
 * holdback.c - the table of handshakes held back from libnids (holdback.h).
 * Owns the slots and nothing else; a connection is keyed by its client ->
 * server tuple.
 */
#include "holdback.h"

#include <stdlib.h>
#include <string.h>

#define HOLDBACK_SLOTS_MIN 64        /* handshakes held back at once, at least ... */
#define HOLDBACK_SLOTS_MAX (1u << 16) /* ... and at most */

bool holdback_init(struct holdback *hb, unsigned max_streams, uint64_t *given_up)
{
	uint32_t slots = HOLDBACK_SLOTS_MIN;
	while (slots < max_streams && slots < HOLDBACK_SLOTS_MAX)
		slots *= 2;
	*hb = (struct holdback){ .mask = slots - 1, .given_up = given_up };
	hb->bucket = calloc(slots, sizeof(*hb->bucket));
	hb->slot = calloc(slots, sizeof(*hb->slot)); /* pages are touched only as slots are used */
	hb->spare = malloc(slots * sizeof(*hb->spare));
	if (!hb->bucket || !hb->slot || !hb->spare)
		return false;
	for (uint32_t k = 0; k < slots; k++)
		hb->spare[k] = slots - 1 - k;
	hb->n_spare = slots;
	return true;
}

static uint32_t holdback_hash(const struct ipv4_tuple *t)
{
	uint64_t h = ((uint64_t)t->saddr << 32 | t->daddr) * 0x9e3779b97f4a7c15ULL;
	h ^= ((uint64_t)t->sport << 16 | t->dport) * 0xc2b2ae3d27d4eb4fULL;
	return (uint32_t)(h >> 32 ^ h);
}

/*
 * The slot holding client -> server tuple t, or NULL. The table holds 8-byte
 * buckets pointing into a pool of slots: a SYN copied into a slot of a 12 MB
 * table scattered by hash cost a fifth of the capture thread's cache misses on
 * short sessions, while the pool hands back the slot freed last, still in the
 * cache (docs/performance.md, Issue 20). Every packet of a connection libnids
 * does not know comes here both ways: the tags answer without reading a slot,
 * and nothing is read while nothing is held.
 */
static struct holdback_slot *holdback_find(struct holdback *hb, const struct ipv4_tuple *t)
{
	if (!hb->held)
		return NULL;
	uint32_t h = holdback_hash(t), i = h & hb->mask;
	for (uint32_t k = 0; k < 2; k++) {
		const struct holdback_bucket *b = &hb->bucket[(i ^ k) & hb->mask];
		if (b->slot && b->tag == (h | 1)) {
			struct holdback_slot *s = &hb->slot[b->slot - 1];
			if (ipv4_same(&s->t, t))
				return s;
		}
	}
	return NULL;
}

/* The slot stays readable (the caller feeds from it) until the next handshake takes it. */
static void holdback_forget(struct holdback *hb, struct holdback_slot *s)
{
	s->used = false;
	hb->bucket[s->bucket].slot = 0;
	hb->spare[hb->n_spare++] = (uint32_t)(s - hb->slot);
	hb->held--;
}

/* A handshake given up unfinished: counted as half-open. */
static void holdback_drop(struct holdback *hb, struct holdback_slot *s)
{
	holdback_forget(hb, s);
	(*hb->given_up)++;
}

/*
 * A slot for a new handshake, in a free bucket, else in one whose handshake
 * has no SYN-ACK yet, which gives way.
 */
static struct holdback_slot *holdback_victim(struct holdback *hb, const struct ipv4_tuple *t)
{
	uint32_t h = holdback_hash(t), i = h & hb->mask, j = (i ^ 1) & hb->mask;
	struct holdback_bucket *a = &hb->bucket[i], *b = &hb->bucket[j];
	uint32_t at = !a->slot ? i : !b->slot ? j
		      : hb->slot[a->slot - 1].synack_len && !hb->slot[b->slot - 1].synack_len ? j : i;
	struct holdback_bucket *to = &hb->bucket[at];
	if (to->slot)
		holdback_drop(hb, &hb->slot[to->slot - 1]);
	uint32_t k = hb->spare[--hb->n_spare];
	to->tag = h | 1;
	to->slot = k + 1;
	hb->slot[k].bucket = at;
	return &hb->slot[k];
}

static enum holdback_verdict holdback_syn(struct holdback *hb, const struct segment *g,
					  const uint8_t *ip, size_t len)
{
	if (len > HOLDBACK_PKT_MAX || g->payload)
		return HOLDBACK_FEED;
	struct holdback_slot *s = holdback_find(hb, &g->t);
	if (s && s->syn_seq == g->seq)
		return HOLDBACK_KEPT; /* a retransmission: keep what was held (its SYN-ACK too) */
	if (!s) {
		s = holdback_victim(hb, &g->t);
		hb->held++;
	}
	*s = (struct holdback_slot){ .t = g->t, .used = true, .syn_len = (uint8_t)len,
				     .syn_seq = g->seq, .bucket = s->bucket };
	memcpy(s->syn, ip, len);
	return HOLDBACK_KEPT;
}

static enum holdback_verdict holdback_synack(struct holdback *hb, const struct segment *g,
					     const uint8_t *ip, size_t len,
					     const struct holdback_slot **slot)
{
	struct ipv4_tuple c = ipv4_reverse(&g->t);
	struct holdback_slot *s = holdback_find(hb, &c);
	if (!s || g->ack != s->syn_seq + 1)
		return HOLDBACK_FEED; /* not an answer to the SYN held: libnids ignores it too */
	if (len > HOLDBACK_PKT_MAX || g->payload) {
		holdback_forget(hb, s); /* too big to hold: libnids takes both now */
		*slot = s;
		return HOLDBACK_SYN_FIRST;
	}
	s->synack_len = (uint8_t)len;
	s->synack_seq = g->seq;
	memcpy(s->synack, ip, len);
	return HOLDBACK_KEPT;
}

enum holdback_verdict holdback_offer(struct holdback *hb, const struct segment *g,
				     const uint8_t *ip, size_t len,
				     const struct holdback_slot **slot)
{
	uint8_t f = g->flags & (TCP_SYN | TCP_ACK | TCP_RST);
	if (f == TCP_SYN)
		return holdback_syn(hb, g, ip, len);
	if (f == (TCP_SYN | TCP_ACK))
		return holdback_synack(hb, g, ip, len, slot);
	return HOLDBACK_FEED;
}

const struct holdback_slot *holdback_release(struct holdback *hb, const struct segment *g,
					     bool *ack_lost)
{
	bool from_client = true;
	struct holdback_slot *s = holdback_find(hb, &g->t);
	if (!s) {
		struct ipv4_tuple c = ipv4_reverse(&g->t);
		s = holdback_find(hb, &c);
		from_client = false;
	}
	if (!s)
		return NULL;
	if ((g->flags & TCP_RST) || !s->synack_len) {
		holdback_drop(hb, s);
		return NULL;
	}
	holdback_forget(hb, s);
	*ack_lost = !(from_client && (g->flags & TCP_ACK) && g->ack == s->synack_seq + 1);
	return s;
}

void holdback_free(struct holdback *hb)
{
	for (uint32_t i = 0; hb->slot && hb->held && i <= hb->mask; i++)
		if (hb->slot[i].used)
			holdback_drop(hb, &hb->slot[i]);
	free(hb->slot);
	free(hb->bucket);
	free(hb->spare);
	hb->slot = NULL;
	hb->bucket = NULL;
	hb->spare = NULL;
	hb->held = 0;
}
