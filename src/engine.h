/*
 * engine.h - the inside of the reassembly engine, shared by its driver
 * (reasm.c: libnids and its callbacks) and what mends libnids' losses
 * (mend.c). Nothing else includes it; the rest of popsift sees reasm.h.
 *
 * Re-entrancy, the one rule. Feeding libnids a packet (reasm_feed, or
 * reasm_inject for a synthetic one) runs reasm.c's callback for whatever the
 * packet completes, and that callback can end a session: a FIN released by a
 * hole filler, a reset, the eviction a new SYN causes when the stream table
 * is full, --detect deciding "not POP". libnids frees an ended stream when
 * the callback returns (back to its pool: the memory stays readable, but it
 * may be handed to the next connection). So whoever holds a stream or
 * session pointer across a feed takes the generation before and checks it
 * after:
 *
 *	uint64_t gen = r->generation;
 *	reasm_inject(r, &seg);
 *	if (!reasm_unchanged(r, gen))
 *		...the pointer may be stale: look the stream up again, or stop
 *
 * r->generation moves in one place, reasm_end(), the only function that ends
 * a session.
 */
#ifndef POPSIFT_ENGINE_H
#define POPSIFT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "holdback.h"
#include "ip6frag.h"
#include "ipmap.h"
#include "ipv4.h"
#include "nids_abi.h"
#include "reasm.h"
#include "session.h"

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)
#define FRAGMENT_PAD_MAX 64 /* a fragment shorter than its headers is padded up to this size */
/* Streams whose small receive buffers are kept between packets (reasm.c, reasm_keep) */
#define REASM_KEEP 256

/*
 * The engine. reasm.c holds the one instance: libnids' callbacks carry no
 * user pointer.
 */
struct reasm {
	struct reasm_config cfg;
	struct reasm_stats stats;
	struct pcap_pkthdr hdr;   /* of the packet being fed: libnids keeps a pointer to it,
				     even in nids_exit() */
	const char *pcap_file;    /* of the packet being fed; NULL when live */
	pcap_t *dead;             /* libnids' handle: pcap_open_dead(DLT_RAW) */
	bool synthetic_handshake; /* the JUST_EST now reported is one mend_pickup() made */
	const struct dissector *pickup; /* with it, --detect's choice by content (probe_pickup) */
	uint64_t hint[REASM_HINT_MAX]; /* connections on other ports that look like POP (no --detect) */
	size_t n_hint;
	bool warned_full;
	uint64_t generation;      /* sessions ended so far: see the re-entrancy rule above */
	time_t last_tick;         /* reasm_tick: the second last seen */
	time_t next_expiry;       /* reasm_expire: no session can be idle long enough before this */
	struct tcp_stream *keep[REASM_KEEP]; /* by hash of the pointer; NULL: free slot */
	struct holdback hold;
	struct ip6frag *ip6frag;  /* IPv6 datagrams being reassembled (ip6frag.h) */
	uint8_t pkt[IPMAP_PACKET_MAX];      /* synthetic segments */
	uint8_t v6_as_v4[IPMAP_PACKET_MAX]; /* an IPv6 packet, translated */
	uint8_t cut[IPMAP_PACKET_MAX];      /* a segment cut by the snapshot length, its length
					       field made what was captured */
	uint8_t frag_pad[FRAGMENT_PAD_MAX + 16]; /* a short fragment, padded (mend_fragment) */
};

/* Hands one IPv4 packet to libnids (its callbacks may run: the re-entrancy rule). */
void reasm_feed(struct reasm *r, const uint8_t *ip, size_t len);
/* Builds segment g (its payload zeros) and feeds it. */
void reasm_inject(struct reasm *r, const struct segment *g);
/*
 * Ends the session of stream ts, if it still has one, at time `at`, and moves
 * the generation. The stream itself stays libnids' to free (or the caller's,
 * between packets: nids_free_tcp_stream).
 */
void reasm_end(struct reasm *r, struct tcp_stream *ts, enum end_reason why, const struct timeval *at);

static inline bool reasm_unchanged(const struct reasm *r, uint64_t generation)
{
	return r->generation == generation;
}

/* True when `port` is a server port followed by port number. */
static inline bool reasm_followed(const struct reasm *r, uint16_t port)
{
	return r->cfg.port_map[port >> 3] & (1u << (port & 7));
}

/* libnids' key of a connection (client -> server) from ours, and back. */
static inline struct tuple4 reasm_key(const struct ipv4_tuple *t)
{
	return (struct tuple4){ t->sport, t->dport, t->saddr, t->daddr };
}

static inline struct ipv4_tuple reasm_tuple(const struct tuple4 *k)
{
	return (struct ipv4_tuple){ k->saddr, k->daddr, k->source, k->dest };
}

#endif
