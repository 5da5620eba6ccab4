/*
 * jsonr.c - the JSON reader of jsonr.h: recursive descent over a copy of the
 * line, values appended to one array in document order, each container's
 * `next` marking where its members end.
 */
#include "jsonr.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jr_parser {
	struct jr *r;
	char *p, *end; /* the text being read (r->buf) */
	char *err;
	const char *key; /* the key of the value about to be read */
};

static bool jr_fail(struct jr_parser *q, const char *why)
{
	if (!q->err[0])
		snprintf(q->err, JR_ERR_MAX, "%s at octet %zu", why, (size_t)(q->p - q->r->buf) + 1);
	return false;
}

static void jr_space(struct jr_parser *q)
{
	while (q->p < q->end && (*q->p == ' ' || *q->p == '\t' || *q->p == '\n' || *q->p == '\r'))
		q->p++;
}

/* A new value at the end of the array; its index in *at. */
static struct jr_value *jr_add(struct jr_parser *q, enum jr_type t, size_t *at)
{
	struct jr *r = q->r;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct jr_value *v = cap < UINT32_MAX ? realloc(r->v, cap * sizeof(*v)) : NULL;
		if (!v)
			return jr_fail(q, "out of memory"), NULL;
		r->v = v;
		r->cap = cap;
	}
	*at = r->n++;
	struct jr_value *v = &r->v[*at];
	memset(v, 0, sizeof(*v));
	v->type = t;
	v->key = q->key;
	q->key = NULL;
	return v;
}

static int jr_hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Four hex digits at p (after "\u"); -1 when not. */
static long jr_u4(const char *p, const char *end)
{
	if (end - p < 4)
		return -1;
	long v = 0;
	for (int i = 0; i < 4; i++) {
		int h = jr_hex(p[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static char *jr_utf8(char *w, unsigned long c)
{
	if (c < 0x80) {
		*w++ = (char)c;
	} else if (c < 0x800) {
		*w++ = (char)(0xc0 | c >> 6);
		*w++ = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		*w++ = (char)(0xe0 | c >> 12);
		*w++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*w++ = (char)(0x80 | (c & 0x3f));
	} else {
		*w++ = (char)(0xf0 | c >> 18);
		*w++ = (char)(0x80 | ((c >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((c >> 6) & 0x3f));
		*w++ = (char)(0x80 | (c & 0x3f));
	}
	return w;
}

/* A \u escape at q->p (after the backslash and 'u'), a surrogate pair whole; written at *w. */
static bool jr_unicode(struct jr_parser *q, char **w)
{
	long c = jr_u4(q->p, q->end);
	if (c < 0)
		return jr_fail(q, "bad \\u escape");
	q->p += 4;
	if (c >= 0xdc00 && c <= 0xdfff)
		return jr_fail(q, "lone low surrogate");
	if (c >= 0xd800 && c <= 0xdbff) {
		long lo = q->end - q->p >= 6 && q->p[0] == '\\' && q->p[1] == 'u' ? jr_u4(q->p + 2, q->end) : -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return jr_fail(q, "lone high surrogate");
		q->p += 6;
		c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
	}
	*w = jr_utf8(*w, (unsigned long)c);
	return true;
}

/* A string at q->p (after its quote), unescaped in place; NUL-terminated. */
static bool jr_string(struct jr_parser *q, const char **s, uint32_t *n)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	char *start = q->p, *w = q->p;
	for (;;) {
		char *stop = q->p;
		while (stop < q->end && *stop != '"' && *stop != '\\' && (unsigned char)*stop >= 0x20)
			stop++;
		memmove(w, q->p, (size_t)(stop - q->p)); /* the plain run, moved down over escapes */
		w += stop - q->p;
		q->p = stop;
		if (q->p == q->end)
			return jr_fail(q, "unterminated string");
		if (*q->p == '"')
			break;
		if (*q->p != '\\')
			return jr_fail(q, "control character in a string");
		if (++q->p == q->end)
			return jr_fail(q, "unterminated string");
		const char *e = strchr(esc_in, *q->p);
		if (*q->p == 'u') {
			q->p++;
			if (!jr_unicode(q, &w))
				return false;
		} else if (e && *q->p) {
			*w++ = esc_out[e - esc_in];
			q->p++;
		} else {
			return jr_fail(q, "bad escape");
		}
	}
	*w = 0; /* over the closing quote at the latest: the text only shrinks */
	q->p++;
	*s = start;
	*n = (uint32_t)(w - start);
	return true;
}

static bool jr_number(struct jr_parser *q, struct jr_value *v)
{
	bool neg = q->p < q->end && *q->p == '-', real = false;
	q->p += neg;
	if (q->p == q->end || *q->p < '0' || *q->p > '9' || (*q->p == '0' && q->p + 1 < q->end &&
							       q->p[1] >= '0' && q->p[1] <= '9'))
		return jr_fail(q, "bad number");
	unsigned long long u = 0;
	bool big = false;
	for (; q->p < q->end && *q->p >= '0' && *q->p <= '9'; q->p++) {
		big |= u > (ULLONG_MAX - 9) / 10;
		u = u * 10 + (unsigned)(*q->p - '0');
	}
	if (q->p < q->end && *q->p == '.') {
		real = true;
		for (q->p++; q->p < q->end && *q->p >= '0' && *q->p <= '9'; q->p++)
			;
	}
	if (q->p < q->end && (*q->p == 'e' || *q->p == 'E')) {
		real = true;
		q->p++;
		q->p += q->p < q->end && (*q->p == '+' || *q->p == '-');
		for (; q->p < q->end && *q->p >= '0' && *q->p <= '9'; q->p++)
			;
	}
	if (q->p[-1] < '0' || q->p[-1] > '9')
		return jr_fail(q, "bad number");
	big |= u > (neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX);
	v->type = real || big ? JR_REAL : JR_INT;
	v->i = real || big ? 0 : neg ? (long long)(0 - u) : (long long)u;
	return true;
}

static bool jr_value(struct jr_parser *q, int depth);

/* The members of an array or object, after its opening bracket. */
static bool jr_members(struct jr_parser *q, size_t at, bool object, int depth)
{
	char close = object ? '}' : ']';
	jr_space(q);
	if (q->p < q->end && *q->p == close) {
		q->p++;
		return true;
	}
	for (;;) {
		jr_space(q);
		if (object) {
			uint32_t n;
			if (q->p == q->end || *q->p != '"')
				return jr_fail(q, "expected a member name");
			q->p++;
			if (!jr_string(q, &q->key, &n))
				return false;
			jr_space(q);
			if (q->p == q->end || *q->p++ != ':')
				return jr_fail(q, "expected ':'");
		}
		if (!jr_value(q, depth + 1))
			return false;
		q->r->v[at].n++;
		jr_space(q);
		if (q->p < q->end && *q->p == ',') {
			q->p++;
			continue;
		}
		if (q->p < q->end && *q->p == close) {
			q->p++;
			return true;
		}
		return jr_fail(q, object ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool jr_word(struct jr_parser *q, const char *w, enum jr_type t)
{
	size_t n = strlen(w);
	size_t at;
	if ((size_t)(q->end - q->p) < n || memcmp(q->p, w, n) != 0)
		return jr_fail(q, "unexpected text");
	q->p += n;
	struct jr_value *v = jr_add(q, t, &at);
	if (v)
		v->next = (uint32_t)at + 1;
	return v != NULL;
}

static bool jr_value(struct jr_parser *q, int depth)
{
	size_t at;
	jr_space(q);
	if (depth > JR_DEPTH_MAX)
		return jr_fail(q, "nested too deep");
	if (q->p == q->end)
		return jr_fail(q, "expected a value");
	switch (*q->p) {
	case 'n': return jr_word(q, "null", JR_NULL);
	case 't': return jr_word(q, "true", JR_TRUE);
	case 'f': return jr_word(q, "false", JR_FALSE);
	case '{':
	case '[': {
		bool object = *q->p++ == '{';
		if (!jr_add(q, object ? JR_OBJECT : JR_ARRAY, &at) || !jr_members(q, at, object, depth))
			return false;
		q->r->v[at].next = (uint32_t)q->r->n;
		return true;
	}
	case '"': {
		q->p++;
		struct jr_value *v = jr_add(q, JR_STRING, &at);
		if (!v || !jr_string(q, &q->r->v[at].s, &q->r->v[at].n))
			return false;
		q->r->v[at].next = (uint32_t)at + 1;
		return true;
	}
	default: {
		struct jr_value *v = jr_add(q, JR_INT, &at);
		if (!v || !jr_number(q, v))
			return false;
		v->next = (uint32_t)at + 1;
		return true;
	}
	}
}

bool jr_parse(struct jr *r, const char *text, size_t len, char err[JR_ERR_MAX])
{
	err[0] = 0;
	r->n = 0;
	if (len + 1 > r->cap_buf) {
		char *b = realloc(r->buf, len + 1);
		if (!b) {
			snprintf(err, JR_ERR_MAX, "out of memory");
			return false;
		}
		r->buf = b;
		r->cap_buf = len + 1;
	}
	memcpy(r->buf, text, len);
	r->buf[len] = 0;
	struct jr_parser q = { r, r->buf, r->buf + len, err, NULL };
	if (!jr_value(&q, 0))
		return false;
	jr_space(&q);
	return q.p == q.end || jr_fail(&q, "text after the value");
}

void jr_free(struct jr *r)
{
	free(r->v);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

const struct jr_value *jr_first(const struct jr *r, const struct jr_value *c)
{
	(void)r; /* the members follow their container */
	if (!c || (c->type != JR_ARRAY && c->type != JR_OBJECT) || c->n == 0)
		return NULL;
	return c + 1;
}

const struct jr_value *jr_next(const struct jr *r, const struct jr_value *c, const struct jr_value *m)
{
	const struct jr_value *n = &r->v[m->next];
	return n < &r->v[c->next] ? n : NULL;
}

const struct jr_value *jr_get(const struct jr *r, const struct jr_value *o, const char *key)
{
	if (!o || o->type != JR_OBJECT)
		return NULL;
	const struct jr_value *found = NULL;
	for (const struct jr_value *m = jr_first(r, o); m; m = jr_next(r, o, m))
		if (m->key[0] == key[0] && strcmp(m->key, key) == 0)
			found = m;
	return found;
}
