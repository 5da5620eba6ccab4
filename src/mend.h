/*
 * mend.h - what the engine does about what libnids loses (docs/libnids.md,
 * What it loses): connections picked up mid-stream, holes filled, counters
 * rebased, port reuse, fragments too short for libnids to read safely.
 * Handshakes held back are holdback.h's; the idle sweep is reasm.c's.
 */
#ifndef POPSIFT_MEND_H
#define POPSIFT_MEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/*
 * The first data packet g of a connection libnids does not know: feeds the
 * handshake libnids missed, derived from g's sequence numbers, so the rest of
 * the connection is reassembled from here on; the session is `partial`
 * (docs/libnids.md, Mid-stream). The caller says which side sent g: the
 * followed port, or with --detect the line that proved the connection POP.
 */
void mend_pickup(struct reasm *r, const struct segment *g, bool from_client);

/*
 * A new SYN on the 4-tuple of stream ts, with another sequence number: the
 * old connection is over. Ends its session (end_reason port-reuse) and frees
 * the stream, which libnids would otherwise keep and the new SYN be ignored
 * (docs/libnids.md, Port reuse). Between packets only.
 */
void mend_port_reuse(struct reasm *r, struct tcp_stream *ts);

/*
 * Closes the holes that stall half h of stream ts (docs/libnids.md, Holes)
 * once they are real: the receiver acknowledged past them, or the data queued
 * behind them nears libnids' limit, or (at_end) nothing more will come. The
 * filler's bytes reach the session as a gap, never as data. May end the
 * session (a FIN queued behind the hole): check the generation after.
 */
void mend_holes(struct reasm *r, struct tcp_stream *ts, struct half_stream *h, bool at_end);

void mend_rebase_now(struct reasm *r, struct half_stream *h, struct half_stream *snd);

/*
 * libnids counts a half's bytes in ints (docs/libnids.md, Data contract):
 * long before they overflow, the origin moves. h receives what snd sends.
 * Inline: this runs for every packet of a followed stream.
 */
static inline void mend_rebase(struct reasm *r, struct half_stream *h, struct half_stream *snd)
{
	if (h->count >= r->cfg.rebase_at && h->offset > 0)
		mend_rebase_now(r, h, snd);
}

/*
 * Feeds an IPv4 fragment (total bytes long, header ihl; caplen captured, at
 * most total): whole, padded when shorter than its headers, or not at all
 * when the capture cut it (docs/libnids.md, Fragments).
 */
void mend_fragment(struct reasm *r, const uint8_t *ip, size_t caplen, size_t total, size_t ihl);

#endif
