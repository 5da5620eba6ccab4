/*
 * ipv4.h - IPv4 and TCP headers: reading them through the bounded cursor
 * (dissectors/cursor.h), and writing the few packets the engine synthesises
 * (mid-stream handshakes, hole fillers, IPv6 translations, the libnids
 * self-check). Header-only: this is the per-packet path.
 */
#ifndef POPSIFT_IPV4_H
#define POPSIFT_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../dissectors/cursor.h"

#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define IPV4_MF 0x2000      /* more fragments */
#define IPV4_OFFMASK 0x1fff /* fragment offset */
#define IPV4_TCP_HEADERS 44 /* the most ipv4_tcp_segment() writes before the payload */

/* The fields of an IPv4 header the engine needs. */
struct ipv4_header {
	uint8_t version;
	uint8_t proto;
	size_t ihl;            /* header length in bytes, options included */
	size_t total;          /* total length: header and payload */
	uint16_t frag;         /* flags and fragment offset */
	uint32_t saddr, daddr; /* network order */
};

/*
 * Reads the fixed 20-byte header and leaves the cursor after it (before any
 * option). False when fewer than 20 bytes are there; the fields are not
 * checked (version, ihl and total are the caller's to judge).
 */
static inline bool ipv4_read(struct cursor *c, struct ipv4_header *h)
{
	uint8_t vihl = cur_u8(c);
	cur_skip(c, 1); /* type of service */
	h->total = cur_be16(c);
	cur_skip(c, 2); /* identification */
	h->frag = cur_be16(c);
	cur_skip(c, 1); /* time to live */
	h->proto = cur_u8(c);
	cur_skip(c, 2); /* header checksum */
	h->saddr = cur_host32(c);
	h->daddr = cur_host32(c);
	h->version = vihl >> 4;
	h->ihl = (size_t)(vihl & 15) * 4;
	return !c->short_read;
}

/* A connection's addresses and ports as one packet carries them: source is the sender. */
struct ipv4_tuple {
	uint32_t saddr, daddr; /* network order */
	uint16_t sport, dport;
};

/* A TCP segment as the engine handles it: read once per packet, or made up. */
struct segment {
	struct ipv4_tuple t;
	uint32_t seq, ack;
	uint8_t flags;
	size_t payload; /* bytes of data */
};

/*
 * Reads a TCP header into g (ports, sequence numbers, flags) and skips its
 * options, leaving the cursor on the payload. False when the header is cut
 * short or its data offset is below 20.
 */
static inline bool tcp_read(struct cursor *c, struct segment *g)
{
	g->t.sport = cur_be16(c);
	g->t.dport = cur_be16(c);
	g->seq = cur_be32(c);
	g->ack = cur_be32(c);
	size_t thl = (size_t)(cur_u8(c) >> 4) * 4;
	g->flags = cur_u8(c);
	cur_skip(c, 6); /* window, checksum, urgent pointer */
	if (c->short_read || thl < 20)
		return false;
	return cur_skip(c, thl - 20);
}

static inline struct ipv4_tuple ipv4_reverse(const struct ipv4_tuple *t)
{
	return (struct ipv4_tuple){ t->daddr, t->saddr, t->dport, t->sport };
}

static inline bool ipv4_same(const struct ipv4_tuple *a, const struct ipv4_tuple *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr && a->sport == b->sport &&
	       a->dport == b->dport;
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 791 header checksum over the 20-byte header h builds: libnids verifies it. */
static inline void ipv4_set_checksum(uint8_t *h)
{
	h[10] = h[11] = 0;
	struct cursor c = cur_make(h, 20);
	uint32_t sum = 0;
	for (int i = 0; i < 10; i++)
		sum += cur_be16(&c);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put_be16(h + 10, (uint16_t)~sum);
}

/*
 * Writes segment s into p, which has room for IPV4_TCP_HEADERS + s->payload
 * bytes: no options but a window scale of 14 on a SYN (the synthetic peer
 * then accepts whatever the capture holds), a window of 65535, and the
 * payload copied from data, or zeros when data is NULL. Returns its length.
 */
static inline size_t ipv4_tcp_segment(uint8_t *p, const struct segment *s, const uint8_t *data)
{
	size_t thl = s->flags & TCP_SYN ? 24 : 20;
	size_t payload = s->payload;
	size_t total = 20 + thl + payload;
	memset(p, 0, 20 + thl);
	p[0] = 0x45;
	put_be16(p + 2, (uint16_t)total);
	p[8] = 64;
	p[9] = 6; /* TCP */
	memcpy(p + 12, &s->t.saddr, 4);
	memcpy(p + 16, &s->t.daddr, 4);
	ipv4_set_checksum(p);
	uint8_t *tcp = p + 20;
	put_be16(tcp, s->t.sport);
	put_be16(tcp + 2, s->t.dport);
	put_be32(tcp + 4, s->seq);
	put_be32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)(thl / 4 << 4);
	tcp[13] = s->flags;
	put_be16(tcp + 14, 65535);
	if (s->flags & TCP_SYN)
		memcpy(tcp + 20, "\x03\x03\x0e\x01", 4); /* window scale 14, then NOP */
	if (data)
		memcpy(tcp + thl, data, payload);
	else
		memset(tcp + thl, 0, payload);
	return total;
}

#endif
