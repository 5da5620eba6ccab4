/*
 * mend.c - mending what libnids loses (mend.h): mid-stream pickup, hole
 * filling, counter rebase, port reuse, short fragments. Owns no state: it
 * works on the engine (struct reasm) and libnids' streams, and feeds libnids
 * through reasm.c, so it obeys engine.h's re-entrancy rule.
 */
#include "mend.h"

#include <string.h>

#define FILL_CHUNK 32768                 /* bytes per synthetic filler segment */
#define HOLE_QUEUE_LIMIT 32768           /* queued bytes behind a hole before we stop waiting */
#define FILL_SKIP_ABOVE (4 * FILL_CHUNK) /* a larger hole is jumped over, not filled */
#define HOLE_ROUNDS_MAX 1024             /* fillers per call at most: no endless loop */

void mend_pickup(struct reasm *r, const struct segment *g, bool from_client)
{
	struct ipv4_tuple c = from_client ? g->t : ipv4_reverse(&g->t);
	struct ipv4_tuple s = ipv4_reverse(&c);
	uint32_t cisn = from_client ? g->seq - 1 : g->ack - 1;
	uint32_t sisn = from_client ? g->ack - 1 : g->seq - 1;
	r->synthetic_handshake = true;
	reasm_inject(r, &(struct segment){ c, cisn, 0, TCP_SYN, 0 });
	reasm_inject(r, &(struct segment){ s, sisn, cisn + 1, TCP_SYN | TCP_ACK, 0 });
	reasm_inject(r, &(struct segment){ c, cisn + 1, sisn + 1, TCP_ACK, 0 });
	r->synthetic_handshake = false;
}

void mend_port_reuse(struct reasm *r, struct tcp_stream *ts)
{
	reasm_end(r, ts, END_REUSED, &r->hdr.ts);
	r->stats.port_reuse++;
	nids_free_tcp_stream(ts);
}

void mend_rebase_now(struct reasm *r, struct half_stream *h, struct half_stream *snd)
{
	int k = h->offset;
	h->count -= k;
	h->offset = 0;
	snd->first_data_seq += (u_int)k;
	r->stats.rebased++;
}

/* The sequence number of the next byte half h (sent by snd) expects. */
static uint32_t mend_expected(const struct half_stream *h, const struct half_stream *snd)
{
	return snd->first_data_seq + (uint32_t)h->count + (uint32_t)h->urg_count;
}

static struct half_stream *mend_peer(struct tcp_stream *ts, struct half_stream *h)
{
	return h == &ts->client ? &ts->server : &ts->client;
}

/*
 * Filling costs time in proportion to the hole, and a crafted capture claims
 * up to 2 GiB of hole per packet (a 250 KB capture took 10 s): all but one
 * filler's worth is jumped over by moving libnids' origin, as a rebase does,
 * and reported as a gap now. Returns the new next expected sequence number.
 */
static uint32_t mend_skip(struct reasm *r, struct tcp_stream *ts, struct half_stream *h,
			  uint32_t expected, uint32_t upto)
{
	if (!SEQ_LT(expected, upto) || upto - expected <= FILL_SKIP_ABOVE)
		return expected;
	enum dir dir = h == &ts->server ? DIR_TO_SERVER : DIR_TO_CLIENT;
	uint32_t skip = upto - expected - FILL_CHUNK;
	mend_peer(ts, h)->first_data_seq += skip;
	r->stats.gap_bytes += skip;
	session_gap(ts->user, dir, skip, &r->hdr.ts);
	return expected + skip;
}

/*
 * Feeds one filler of len bytes at `expected` into half h. libnids drops a
 * segment that ends before the receiver's last ACK or starts beyond its
 * window, so both are opened for the filler and restored after. False when
 * the filler ended the session (a FIN was queued behind the hole).
 */
static bool mend_filler(struct reasm *r, struct tcp_stream *ts, struct half_stream *h,
			uint32_t expected, uint32_t len)
{
	struct half_stream *snd = mend_peer(ts, h);
	enum dir dir = h == &ts->server ? DIR_TO_SERVER : DIR_TO_CLIENT;
	struct ipv4_tuple t = reasm_tuple(&ts->addr); /* client -> server */
	if (dir == DIR_TO_CLIENT)
		t = ipv4_reverse(&t);
	u_int saved_ack = h->ack_seq, saved_scale = h->wscale;
	u_short saved_window = h->window;
	h->ack_seq = expected;
	h->window = 65535;
	h->wscale = 1 << 14;
	session_expect_filler(ts->user, dir, len);
	r->stats.gap_bytes += len;
	uint64_t gen = r->generation;
	reasm_inject(r, &(struct segment){ t, expected, snd->ack_seq, TCP_ACK, len });
	if (!reasm_unchanged(r, gen))
		return false;
	h->ack_seq = SEQ_GT(saved_ack, h->ack_seq) ? saved_ack : h->ack_seq;
	h->window = saved_window;
	h->wscale = saved_scale;
	return true;
}

/*
 * Closes the hole in half h up to `upto` with fillers. False when the
 * session ended meanwhile (ts is then not to be touched).
 */
static bool mend_fill(struct reasm *r, struct tcp_stream *ts, struct half_stream *h, uint32_t upto)
{
	struct half_stream *snd = mend_peer(ts, h);
	uint32_t expected = mend_skip(r, ts, h, mend_expected(h, snd), upto);
	while (SEQ_LT(expected, upto)) {
		uint32_t len = upto - expected < FILL_CHUNK ? upto - expected : FILL_CHUNK;
		if (!mend_filler(r, ts, h, expected, len))
			return false;
		uint32_t now = mend_expected(h, snd);
		if (now == expected)
			break; /* libnids refused the filler: give up rather than loop */
		expected = now;
	}
	return true;
}

/*
 * A hole stalls half h when data is queued behind it. It is real (the
 * capture lost it, no retransmission will come) once the receiver
 * acknowledged past it; and waiting any longer would cost data once the
 * queue grows (libnids drops a queue over 64 KB).
 */
void mend_holes(struct reasm *r, struct tcp_stream *ts, struct half_stream *h, bool at_end)
{
	struct half_stream *snd = mend_peer(ts, h);
	for (int round = 0; round < HOLE_ROUNDS_MAX && h->list; round++) {
		uint32_t expected = mend_expected(h, snd);
		uint32_t next = h->list->seq;
		bool acked = SEQ_GT(h->ack_seq, expected);
		if (!at_end && !acked && h->rmem_alloc < HOLE_QUEUE_LIMIT)
			return;
		if (!SEQ_GT(next, expected))
			return;
		if (!mend_fill(r, ts, h, next))
			return; /* the session ended: ts is libnids' again */
		if (h->list && h->list->seq == next && mend_expected(h, snd) == expected)
			return; /* no progress */
	}
}

void mend_fragment(struct reasm *r, const uint8_t *ip, size_t caplen, size_t total, size_t ihl)
{
	if (total > caplen) {
		r->stats.short_fragments++; /* cut by the capture */
		return;
	}
	if (total >= ihl + 8) {
		reasm_feed(r, ip, caplen);
		return;
	}
	/*
	 * libnids reads the 8 bytes after a fragment's IP header even when the
	 * fragment is shorter (a last fragment may legitimately carry fewer):
	 * fed from a zero-padded copy, the over-read stays in our buffer.
	 */
	if (total > FRAGMENT_PAD_MAX) {
		r->stats.short_fragments++;
		return;
	}
	memset(r->frag_pad, 0, sizeof(r->frag_pad));
	memcpy(r->frag_pad, ip, total);
	reasm_feed(r, r->frag_pad, total);
}
