/*
 * ipmap.c - IPv6 to synthetic IPv4 and back (see ipmap.h).
 *
 * libnids has no IPv6 at all, so IPv6 TCP is rewritten as IPv4 TCP with
 * addresses drawn in order from 240.0.0.0/4 and remembered in an
 * open-addressing table (bounded by IPMAP_MAX). The TCP segment is copied
 * unchanged: checksums are not verified by our libnids configuration.
 */
#include "ipmap.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "../dissectors/cursor.h"
#include "ipv4.h"

#define SYNTH_NET 0xf0000000u /* 240.0.0.0/4 */
#define SYNTH_MASK 0xf0000000u
#define TABLE_SIZE (IPMAP_MAX * 2) /* power of two, load at most 1/2 */

struct ipmap_slot {
	uint8_t v6[16];
	uint32_t v4; /* host order; 0 = empty */
};

static struct ipmap_slot *table;
static uint8_t (*by_index)[16]; /* v6 address of synthetic host number i */
static uint32_t used;

void ipmap_init(void)
{
	used = 0;
}

void ipmap_free(void)
{
	free(table);
	free(by_index);
	table = NULL;
	by_index = NULL;
	used = 0;
}

static uint32_t ipmap_hash(const uint8_t v6[16])
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 16; i++)
		h = (h ^ v6[i]) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32));
}

/* The synthetic address for v6 (network order), assigned on first sight; 0 when full. */
static uint32_t ipmap_get(const uint8_t v6[16])
{
	if (!table) {
		table = calloc(TABLE_SIZE, sizeof(*table));
		by_index = calloc(IPMAP_MAX + 1, sizeof(*by_index));
		if (!table || !by_index)
			return 0;
	}
	uint32_t i = ipmap_hash(v6) & (TABLE_SIZE - 1);
	for (;; i = (i + 1) & (TABLE_SIZE - 1)) {
		if (table[i].v4 == 0)
			break;
		if (memcmp(table[i].v6, v6, 16) == 0)
			return htonl(table[i].v4);
	}
	if (used >= IPMAP_MAX)
		return 0;
	used++;
	memcpy(table[i].v6, v6, 16);
	table[i].v4 = SYNTH_NET | used;
	memcpy(by_index[used], v6, 16);
	return htonl(table[i].v4);
}

bool ipmap_is_synthetic(uint32_t v4)
{
	return (ntohl(v4) & SYNTH_MASK) == SYNTH_NET && by_index;
}

bool ipmap_lookup(uint32_t v4, uint8_t v6[16])
{
	uint32_t n = ntohl(v4) & ~SYNTH_MASK;
	if (!ipmap_is_synthetic(v4) || n == 0 || n > used)
		return false;
	memcpy(v6, by_index[n], 16);
	return true;
}

/* Walks the extension headers; returns the upper-layer protocol (or -1 / -2). */
static int ipmap_skip_ext(struct cursor *c, uint8_t next)
{
	for (int depth = 0; depth < 16; depth++) {
		switch (next) {
		case 0:   /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
			next = cur_u8(c);
			cur_skip(c, (size_t)cur_u8(c) * 8 + 6);
			break;
		case 51:  /* AH: length in 4-octet units, minus 2 */
			next = cur_u8(c);
			cur_skip(c, ((size_t)cur_u8(c) + 2) * 4 - 2);
			break;
		case 44:
			return -2; /* fragment */
		default:
			return c->short_read ? -1 : next;
		}
	}
	return -1;
}

enum ipmap_result ipmap_v6_to_v4(const uint8_t *ip6, size_t len, uint8_t *out, size_t *outlen)
{
	struct cursor c = cur_make(ip6, len);
	cur_skip(&c, 4);
	uint16_t payload = cur_be16(&c);
	uint8_t next = cur_u8(&c);
	cur_skip(&c, 1); /* hop limit */
	const uint8_t *src = cur_bytes(&c, 16), *dst = cur_bytes(&c, 16);
	if (c.short_read)
		return IPMAP_TRUNCATED;
	cur_limit(&c, payload); /* link-layer padding after the packet */
	int proto = ipmap_skip_ext(&c, next);
	if (proto == -2)
		return IPMAP_FRAGMENT;
	if (proto < 0 || c.short_read)
		return IPMAP_TRUNCATED;
	if (proto != 6)
		return IPMAP_NOT_TCP;
	size_t tcp_len = cur_left(&c);
	if (tcp_len + 20 > IPMAP_PACKET_MAX)
		return IPMAP_TRUNCATED;
	const uint8_t *tcp = cur_bytes(&c, tcp_len);
	uint32_t s4 = ipmap_get(src), d4 = ipmap_get(dst);
	if (!s4 || !d4)
		return IPMAP_FULL;
	memset(out, 0, 20);
	out[0] = 0x45;
	put_be16(out + 2, (uint16_t)(tcp_len + 20));
	out[8] = 64;
	out[9] = 6;
	memcpy(out + 12, &s4, 4);
	memcpy(out + 16, &d4, 4);
	memcpy(out + 20, tcp, tcp_len);
	ipv4_set_checksum(out);
	*outlen = tcp_len + 20;
	return IPMAP_OK;
}
