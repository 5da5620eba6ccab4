/*
 * jsonw.c - the streaming JSON writer of jsonw.h: punctuation, string escaping
 * and integer formatting, each as Jansson writes them.
 */
#include "jsonw.h"

#include <string.h>

#include "utf8.h"

/* What a byte needs inside a JSON string: nothing, a JSON escape, or a UTF-8 check. */
enum { PLAIN, ESCAPE, HIGH };

static const unsigned char byte_class[256] = {
	[0x00 ... 0x1f] = ESCAPE,
	['"'] = ESCAPE,
	['\\'] = ESCAPE,
	[0x80 ... 0xff] = HIGH,
};

/*
 * Room for n more bytes in fp's own buffer, or NULL: then the stdio call does
 * it. An event line is some 40 small pieces, and each fwrite/fputs costs 50-100
 * instructions of locking-free bookkeeping around a copy of a few bytes: half
 * the output thread on short sessions (docs/performance.md, Issue 20). glibc's
 * putc_unlocked writes into the buffer the same way. A line-buffered or
 * unbuffered stream (a terminal) keeps _IO_write_end at _IO_write_ptr, so it
 * always takes the stdio call, as putc_unlocked does.
 */
static inline char *room(FILE *fp, size_t n)
{
#ifdef __GLIBC__
	if ((size_t)(fp->_IO_write_end - fp->_IO_write_ptr) >= n)
		return fp->_IO_write_ptr;
#else
	(void)fp, (void)n;
#endif
	return NULL;
}

/* The bytes up to `end`, written at room()'s pointer, are now the stream's. */
static inline void commit(FILE *fp, char *end)
{
#ifdef __GLIBC__
	fp->_IO_write_ptr = end;
#else
	(void)fp, (void)end;
#endif
}

static inline void put_mem(FILE *fp, const void *p, size_t n)
{
	char *at = room(fp, n);
	if (!at) {
		fwrite_unlocked(p, 1, n, fp);
		return;
	}
	memcpy(at, p, n);
	commit(fp, at + n);
}

/* Before a value or a key: the comma if the container already holds a member. */
static inline void jw_sep(struct jw *w)
{
	if (w->comma)
		fputc_unlocked(',', w->fp);
	w->comma = true;
}

void jw_begin_object(struct jw *w)
{
	jw_sep(w);
	fputc_unlocked('{', w->fp);
	w->comma = false;
}

void jw_end_object(struct jw *w)
{
	fputc_unlocked('}', w->fp);
	w->comma = true;
}

void jw_begin_array(struct jw *w)
{
	jw_sep(w);
	fputc_unlocked('[', w->fp);
	w->comma = false;
}

void jw_end_array(struct jw *w)
{
	fputc_unlocked(']', w->fp);
	w->comma = true;
}

void jw_key(struct jw *w, const char *key)
{
	size_t n = strlen(key);
	char *p = room(w->fp, n + 4);
	if (!p) {
		jw_sep(w);
		fputc_unlocked('"', w->fp);
		put_mem(w->fp, key, n);
		put_mem(w->fp, "\":", 2);
		w->comma = false;
		return;
	}
	/* ,"key": in one copy */
	if (w->comma)
		*p++ = ',';
	*p++ = '"';
	memcpy(p, key, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	commit(w->fp, p);
	w->comma = false; /* the value that follows takes no comma */
}

/* One byte that needs a JSON escape. Jansson writes \u00XX in upper case. */
static void put_escape(FILE *fp, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *e = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f" :
			c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
	if (e) {
		put_mem(fp, e, 2);
		return;
	}
	char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
	put_mem(fp, u, sizeof(u));
}

/*
 * The inside of a string: p[0..n) escaped, each run of bytes that need nothing
 * in one fwrite. With `wire`, a byte that starts no valid UTF-8 sequence
 * becomes \xNN (utf8_escape()'s rule, lower-case hex), whose backslash the
 * JSON escaping then doubles: one pass gives what the two did.
 */
static void put_chars(FILE *fp, const uint8_t *p, size_t n, bool wire)
{
	static const char hex[] = "0123456789abcdef";
	if (n == 0)
		return; /* p may be NULL (BYTES_NONE) */
	size_t run = 0, i = 0;
	while (i < n) {
		unsigned char cls = byte_class[p[i]];
		if (cls == PLAIN || (cls == HIGH && !wire)) {
			i++;
			continue;
		}
		size_t len = cls == HIGH ? utf8_seq(p + i, n - i) : 0;
		if (len) {
			i += len;
			continue;
		}
		if (i > run)
			put_mem(fp, p + run, i - run);
		if (cls == ESCAPE) {
			put_escape(fp, p[i]);
		} else {
			char x[5] = { '\\', '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15] };
			put_mem(fp, x, sizeof(x));
		}
		run = ++i;
	}
	if (n > run)
		put_mem(fp, p + run, n - run);
}

void jw_stringn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	fputc_unlocked('"', w->fp);
	put_chars(w->fp, (const uint8_t *)s, n, false);
	fputc_unlocked('"', w->fp);
}

void jw_string(struct jw *w, const char *s)
{
	jw_stringn(w, s, strlen(s));
}

void jw_text(struct jw *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (s && utf8_valid(s, n))
		jw_stringn(w, s, n);
}

void jw_bytes_suffix(struct jw *w, struct bytes b, const char *suffix)
{
	jw_sep(w);
	fputc_unlocked('"', w->fp);
	put_chars(w->fp, b.p, b.n, true);
	if (suffix)
		put_chars(w->fp, (const uint8_t *)suffix, strlen(suffix), false);
	fputc_unlocked('"', w->fp);
}

void jw_bytes(struct jw *w, struct bytes b)
{
	jw_bytes_suffix(w, b, NULL);
}

/* Decimal digits of v, as %llu writes them: no printf in the hot path. */
static void put_digits(FILE *fp, unsigned long long v)
{
	char buf[20]; /* 2^64 - 1 has 20 digits */
	char *p = buf + sizeof(buf);
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_mem(fp, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_uint(struct jw *w, unsigned long long v)
{
	jw_sep(w);
	put_digits(w->fp, v);
}

void jw_int(struct jw *w, long long v)
{
	jw_sep(w);
	if (v < 0)
		fputc_unlocked('-', w->fp);
	/* Negated in unsigned arithmetic, so LLONG_MIN works too. */
	put_digits(w->fp, v < 0 ? -(unsigned long long)v : (unsigned long long)v);
}

void jw_bool(struct jw *w, bool v)
{
	jw_sep(w);
	if (v)
		put_mem(w->fp, "true", 4);
	else
		put_mem(w->fp, "false", 5);
}

void jw_null(struct jw *w)
{
	jw_sep(w);
	put_mem(w->fp, "null", 4);
}

void jw_raw(struct jw *w, const char *json)
{
	jw_sep(w);
	put_mem(w->fp, json, strlen(json));
}

void jw_field_text(struct jw *w, const char *key, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!s || !utf8_valid(s, n))
		return;
	jw_key(w, key);
	jw_stringn(w, s, n);
}

void jw_field_bytes(struct jw *w, const char *key, struct bytes b)
{
	jw_key(w, key);
	jw_bytes(w, b);
}

void jw_field_int(struct jw *w, const char *key, long long v)
{
	jw_key(w, key);
	jw_int(w, v);
}

void jw_field_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}
