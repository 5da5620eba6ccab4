/*
 * bstr.h - small owned byte strings and byte-level helpers shared by dissectors.
 * Owns nothing global; every copy is bounded by the caller's limit.
 */
#ifndef POPSIFT_BSTR_H
#define POPSIFT_BSTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* An owned copy of wire bytes. */
struct bstr {
	uint8_t *p;
	size_t n;
};

/*
 * Replaces *s with a copy of at most `max` bytes of src. Returns false (leaving
 * *s empty) only when out of memory.
 */
static inline bool bstr_set(struct bstr *s, const uint8_t *src, size_t n, size_t max)
{
	if (n > max)
		n = max;
	uint8_t *p = n ? malloc(n) : NULL;
	free(s->p);
	s->p = NULL;
	s->n = 0;
	if (n && !p)
		return false;
	if (n)
		memcpy(p, src, n);
	s->p = p;
	s->n = n;
	return true;
}

static inline void bstr_free(struct bstr *s)
{
	free(s->p);
	s->p = NULL;
	s->n = 0;
}

static inline struct bytes bstr_bytes(const struct bstr *s)
{
	return (struct bytes){ s->p, s->n };
}

/* True when bytes p[0..n) begin with the ASCII word w, compared case-insensitively. */
static inline bool bytes_has_prefix_ci(const uint8_t *p, size_t n, const char *w)
{
	size_t wn = strlen(w);
	return n >= wn && strncasecmp((const char *)p, w, wn) == 0;
}

/* True when the ASCII word w occurs in p[0..n), compared case-insensitively. */
static inline bool memmem_ci(const uint8_t *p, size_t n, const char *w)
{
	size_t wn = strlen(w);
	for (size_t i = 0; i + wn <= n; i++)
		if (strncasecmp((const char *)p + i, w, wn) == 0)
			return true;
	return false;
}

/*
 * Parses a decimal number at the start of p[0..n) (after any spaces). Returns
 * false when there is none or it overflows 32 bits.
 */
static inline bool bytes_to_u32(const uint8_t *p, size_t n, uint32_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	while (i < n && p[i] == ' ')
		i++;
	if (i == n || p[i] < '0' || p[i] > '9')
		return false;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(p[i] - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

#endif
