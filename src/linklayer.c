/*
 * linklayer.c - link-layer decoding: Ethernet with any stack of 802.1Q/802.1ad
 * tags, Linux cooked SLL and SLL2, BSD NULL/LOOP, raw IP. Reads only through
 * the cursor, so a short frame is reported, never read past.
 */
#include "linklayer.h"

#include <pcap/dlt.h>

#include "../dissectors/cursor.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define LL_VLAN_DEPTH_MAX 8 /* stacked tags followed before giving up */

bool ll_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	default:
		return false;
	}
}

static enum ll_result ll_by_ethertype(uint16_t type, struct cursor *c, const uint8_t **ip,
				      size_t *iplen)
{
	if (c->short_read)
		return LL_TRUNCATED;
	*ip = c->p;
	*iplen = cur_left(c);
	if (type == ETHERTYPE_IPV4)
		return LL_IPV4;
	if (type == ETHERTYPE_IPV6)
		return LL_IPV6;
	return LL_OTHER;
}

static enum ll_result ll_ethernet(struct cursor *c, const uint8_t **ip, size_t *iplen)
{
	cur_skip(c, 12); /* destination and source MAC */
	uint16_t type = cur_be16(c);
	for (int depth = 0; depth < LL_VLAN_DEPTH_MAX; depth++) {
		if (type != ETHERTYPE_VLAN && type != ETHERTYPE_QINQ && type != ETHERTYPE_QINQ_OLD)
			break;
		cur_skip(c, 2); /* TCI */
		type = cur_be16(c);
	}
	return ll_by_ethertype(type, c, ip, iplen);
}

/* BSD loopback: a 4-byte address family, host order (NULL) or network order (LOOP). */
static enum ll_result ll_null(struct cursor *c, const uint8_t **ip, size_t *iplen)
{
	uint32_t af = cur_host32(c);
	if (c->short_read)
		return LL_TRUNCATED;
	if ((af & 0xffff) == 0 && af != 0)
		af = __builtin_bswap32(af); /* written by a host of the other byte order */
	*ip = c->p;
	*iplen = cur_left(c);
	if (af == 2)
		return LL_IPV4;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return LL_IPV6; /* Linux, NetBSD/OpenBSD, FreeBSD, Darwin */
	return LL_OTHER;
}

/* Raw IP: the version nibble says which. */
static enum ll_result ll_raw(struct cursor *c, const uint8_t **ip, size_t *iplen)
{
	struct cursor peek = *c; /* the nibble belongs to the IP header: read, not consumed */
	uint8_t version = cur_u8(&peek) >> 4;
	if (peek.short_read)
		return LL_TRUNCATED;
	*ip = c->p;
	*iplen = cur_left(c);
	switch (version) {
	case 4: return LL_IPV4;
	case 6: return LL_IPV6;
	default: return LL_OTHER;
	}
}

enum ll_result ll_strip(int dlt, const uint8_t *frame, size_t caplen, const uint8_t **ip,
			size_t *iplen)
{
	struct cursor c = cur_make(frame, caplen);
	uint16_t type;
	switch (dlt) {
	case DLT_EN10MB:
		return ll_ethernet(&c, ip, iplen);
	case DLT_LINUX_SLL: /* type, ARPHRD, addr len, 8 bytes addr, protocol */
		cur_skip(&c, 14);
		type = cur_be16(&c);
		return ll_by_ethertype(type, &c, ip, iplen);
	case DLT_LINUX_SLL2: /* protocol first, then 18 more bytes */
		type = cur_be16(&c);
		cur_skip(&c, 18);
		return ll_by_ethertype(type, &c, ip, iplen);
	case DLT_NULL:
	case DLT_LOOP:
		return ll_null(&c, ip, iplen);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return ll_raw(&c, ip, iplen);
	default:
		return LL_UNSUPPORTED;
	}
}
