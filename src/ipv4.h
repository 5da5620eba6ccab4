/*
 * ipv4.h - building the few IPv4/TCP packets the engine synthesises (mid-stream
 * handshakes, gap fillers, IPv6 translations) and reading TCP headers.
 */
#ifndef POPSIFT_IPV4_H
#define POPSIFT_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* RFC 791 header checksum over a 20-byte header: libnids verifies it. */
static inline void ipv4_set_checksum(uint8_t *h)
{
	h[10] = h[11] = 0;
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t ck = (uint16_t)~sum;
	h[10] = (uint8_t)(ck >> 8);
	h[11] = (uint8_t)ck;
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

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
