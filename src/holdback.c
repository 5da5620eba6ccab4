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
	hb->slot = calloc(slots, sizeof(*hb->slot)); /* pages are touched only as handshakes arrive */
	hb->tag = calloc(slots, sizeof(*hb->tag));
	return hb->slot != NULL && hb->tag != NULL;
}

static uint32_t holdback_hash(const struct ipv4_tuple *t)
{
	uint64_t h = ((uint64_t)t->saddr << 32 | t->daddr) * 0x9e3779b97f4a7c15ULL;
	h ^= ((uint64_t)t->sport << 16 | t->dport) * 0xc2b2ae3d27d4eb4fULL;
	return (uint32_t)(h >> 32 ^ h);
}

/*
 * The slot holding client -> server tuple t, or NULL. Every packet of a
 * connection libnids does not know is looked up here, both ways (its last
 * ACKs, after libnids freed it, among them): the tags, 4 bytes a slot, answer
 * most of those without touching the slots' 12 MB (docs/performance.md, Issue 20).
 */
static struct holdback_slot *holdback_find(struct holdback *hb, const struct ipv4_tuple *t)
{
	if (!hb->held)
		return NULL;
	uint32_t h = holdback_hash(t), i = h & hb->mask;
	for (uint32_t k = 0; k < 2; k++) {
		uint32_t j = (i ^ k) & hb->mask;
		struct holdback_slot *s = &hb->slot[j];
		if (hb->tag[j] == (h | 1) && s->used && ipv4_same(&s->t, t))
			return s;
	}
	return NULL;
}

static void holdback_forget(struct holdback *hb, struct holdback_slot *s)
{
	s->used = false;
	hb->tag[s - hb->slot] = 0;
	hb->held--;
}

/* A handshake given up unfinished: counted as half-open. */
static void holdback_drop(struct holdback *hb, struct holdback_slot *s)
{
	holdback_forget(hb, s);
	(*hb->given_up)++;
}

/* A slot for a new handshake: a free one, else one still without SYN-ACK, which gives way. */
static struct holdback_slot *holdback_victim(struct holdback *hb, const struct ipv4_tuple *t)
{
	uint32_t i = holdback_hash(t) & hb->mask;
	struct holdback_slot *a = &hb->slot[i], *b = &hb->slot[(i ^ 1) & hb->mask];
	struct holdback_slot *s = !a->used ? a : !b->used ? b : a->synack_len && !b->synack_len ? b : a;
	if (s->used)
		holdback_drop(hb, s);
	return s;
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
				     .syn_seq = g->seq };
	hb->tag[s - hb->slot] = holdback_hash(&g->t) | 1;
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
	free(hb->tag);
	hb->slot = NULL;
	hb->tag = NULL;
	hb->held = 0;
}
