/*
 * jsonr.h - a small JSON reader for `popsift report` (evread.c): one line of
 * JSON parsed into a flat array of values, in document order, strings
 * unescaped in place into a copy of the line. Nothing is allocated per value:
 * the arrays are the reader's, reused from line to line. Jansson, which
 * builds a hash table per object, took nine tenths of a report's time on a
 * large input; this reads the same JSON (RFC 8259) several times faster.
 *
 * Bounded: nesting deeper than JR_DEPTH_MAX is refused, and so is anything
 * that is not JSON (a raw control character in a string, a lone surrogate, a
 * trailing comma, text after the value).
 */
#ifndef POPSIFT_JSONR_H
#define POPSIFT_JSONR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JR_DEPTH_MAX 32
#define JR_ERR_MAX 120

enum jr_type { JR_NULL, JR_FALSE, JR_TRUE, JR_INT, JR_REAL, JR_STRING, JR_ARRAY, JR_OBJECT };

struct jr_value {
	enum jr_type type;
	uint32_t next;   /* the index after this value and everything inside it */
	uint32_t n;      /* strings: octets (NULs may be among them); arrays, objects: members */
	const char *s;   /* strings: NUL-terminated */
	const char *key; /* a member of an object: its name (NUL-terminated); else NULL */
	long long i;     /* JR_INT */
};

struct jr {
	struct jr_value *v; /* v[0] is the document's value */
	size_t n, cap;
	char *buf;          /* the line's copy, strings unescaped into it */
	size_t cap_buf;
};

/* Parses text[0..len); false with a reason in err when it is not one JSON value. */
bool jr_parse(struct jr *r, const char *text, size_t len, char err[JR_ERR_MAX]);
void jr_free(struct jr *r);

/* The member `key` of an object (the last, if repeated); NULL when absent or o is no object. */
const struct jr_value *jr_get(const struct jr *r, const struct jr_value *o, const char *key);
/* The first member of an array or object, then the next; NULL at the end. */
const struct jr_value *jr_first(const struct jr *r, const struct jr_value *c);
const struct jr_value *jr_next(const struct jr *r, const struct jr_value *c, const struct jr_value *m);

#endif
