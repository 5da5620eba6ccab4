/*
 * ipmap.h - IPv6 through an IPv4-only reassembler: each IPv6 address gets a
 * synthetic IPv4 address from 240.0.0.0/4 (reserved, never seen on real
 * networks), and events map it back to the real IPv6 address.
 */
#ifndef POPSIFT_IPMAP_H
#define POPSIFT_IPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPMAP_MAX 1048576 /* distinct IPv6 addresses mapped at most */
#define IPMAP_PACKET_MAX 65535

/* Result of translating one IPv6 packet. */
enum ipmap_result {
	IPMAP_OK,         /* *out holds an IPv4 packet carrying the same TCP segment */
	IPMAP_NOT_TCP,    /* no TCP inside (after the extension headers) */
	IPMAP_FRAGMENT,   /* an IPv6 fragment: not reassembled, counted */
	IPMAP_TRUNCATED,  /* headers cut short */
	IPMAP_FULL        /* too many distinct addresses */
};

void ipmap_init(void);
void ipmap_free(void);
/*
 * Translates IPv6 packet ip6[0..len) into an IPv4 packet in out (at least
 * IPMAP_PACKET_MAX bytes); *outlen is its length. Extension headers
 * (hop-by-hop, routing, destination options, AH) are skipped.
 */
enum ipmap_result ipmap_v6_to_v4(const uint8_t *ip6, size_t len, uint8_t *out, size_t *outlen);
/* The IPv6 address behind synthetic IPv4 address v4 (network order); false if none. */
bool ipmap_lookup(uint32_t v4, uint8_t v6[16]);
/* True when v4 (network order) is one of ours. */
bool ipmap_is_synthetic(uint32_t v4);

#endif
