/*
 * cursor.h - bounds-checked reads of binary fields: packet headers in the engine,
 * NTLM, GSSAPI and Kerberos blobs and the KPOP preamble in the dissectors
 * (tcpdump's GET_* guarantee without longjmp). The first short read sets a
 * sticky flag; later reads return 0 (or NULL), so a parser checks `short_read`
 * once, after reading a whole header. Every binary parser reads through it:
 * no hand-written byte readers.
 */
#ifndef POPSIFT_CURSOR_H
#define POPSIFT_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;
	const uint8_t *end;
	bool short_read;
};

static inline struct cursor cur_make(const uint8_t *p, size_t n)
{
	return (struct cursor){ p, n ? p + n : p, false }; /* no arithmetic on an empty NULL view */
}

static inline size_t cur_left(const struct cursor *c)
{
	return (size_t)(c->end - c->p);
}

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (c->short_read || n > cur_left(c)) {
		c->short_read = true;
		c->p = c->end;
		return false;
	}
	if (n)
		c->p += n;
	return true;
}

/* Reads no further than n more bytes: a length field says the data ends
   before the capture does (link-layer padding). */
static inline void cur_limit(struct cursor *c, size_t n)
{
	if (n < cur_left(c))
		c->end = c->p + n;
}

/* A cursor over p[0..n) that starts at offset off (short at once when off > n). */
static inline struct cursor cur_make_at(const uint8_t *p, size_t n, size_t off)
{
	struct cursor c = cur_make(p, n);
	cur_skip(&c, off);
	return c;
}

/* The next n bytes, in place; a short read (check short_read) when fewer are left. */
static inline const uint8_t *cur_bytes(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p;
	return cur_skip(c, n) ? p : NULL;
}

static inline uint8_t cur_u8(struct cursor *c)
{
	const uint8_t *p = c->p;
	return cur_skip(c, 1) ? p[0] : 0;
}

static inline uint16_t cur_be16(struct cursor *c)
{
	const uint8_t *p = c->p;
	return cur_skip(c, 2) ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint16_t cur_le16(struct cursor *c)
{
	const uint8_t *p = c->p;
	return cur_skip(c, 2) ? (uint16_t)(p[1] << 8 | p[0]) : 0;
}

static inline uint32_t cur_be32(struct cursor *c)
{
	const uint8_t *p = c->p;
	return cur_skip(c, 4) ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline uint32_t cur_le32(struct cursor *c)
{
	const uint8_t *p = c->p;
	return cur_skip(c, 4) ? (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0] : 0;
}

static inline uint32_t cur_host32(struct cursor *c)
{
	const uint8_t *p = c->p;
	uint32_t v = 0;
	if (cur_skip(c, 4))
		__builtin_memcpy(&v, p, 4);
	return v;
}

#endif
