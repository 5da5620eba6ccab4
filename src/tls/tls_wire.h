/*
 * tls_wire.h - bounds-checked reads of TLS's wire structures (RFC 8446 §3):
 * big-endian integers and length-prefixed vectors. The first short read sets
 * a sticky flag and later reads return 0 or empty vectors, so a parser checks
 * `bad` once after reading a structure. Internal to src/tls/.
 */
#ifndef POPSIFT_TLS_WIRE_H
#define POPSIFT_TLS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tls_rd {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static inline struct tls_rd tls_rd_make(const uint8_t *p, size_t n)
{
	return (struct tls_rd){ p, n, false };
}

/* The next n octets, or NULL (and bad) when fewer are left. */
static inline const uint8_t *tls_rd_take(struct tls_rd *r, size_t n)
{
	if (r->bad || n > r->n) {
		r->bad = true;
		r->n = 0;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	r->n -= n;
	return p;
}

static inline uint32_t tls_rd_uint(struct tls_rd *r, size_t width)
{
	const uint8_t *p = tls_rd_take(r, width);
	uint32_t v = 0;
	for (size_t i = 0; p && i < width; i++)
		v = v << 8 | p[i];
	return v;
}

static inline uint8_t tls_rd_u8(struct tls_rd *r)
{
	return (uint8_t)tls_rd_uint(r, 1);
}

static inline uint16_t tls_rd_u16(struct tls_rd *r)
{
	return (uint16_t)tls_rd_uint(r, 2);
}

/* A vector with a `width`-octet length prefix, as a reader of its own. */
static inline struct tls_rd tls_rd_vec(struct tls_rd *r, size_t width)
{
	size_t len = tls_rd_uint(r, width);
	const uint8_t *p = tls_rd_take(r, len);
	struct tls_rd v = tls_rd_make(p, p ? len : 0);
	v.bad = r->bad;
	return v;
}

/* RFC 8701 GREASE: 0x0A0A, 0x1A1A, ... 0xFAFA. */
static inline bool tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

#endif
