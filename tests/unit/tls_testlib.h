/*
 * tls_testlib.h - what the TLS unit tests (test_tls_*.c) share: a sink that
 * records everything the TLS stream layer says, ways to feed a session whole,
 * one octet at a time or in random pieces, and the fixture files of
 * tests/tls/fixtures/ (written by tests/tls/make-fixtures.py, format in its
 * header). Header-only (static functions) so that the tests/unit helper rule,
 * which links every other .c file of tests/unit into every test, is left alone.
 */
#ifndef POPSIFT_TLS_TESTLIB_H
#define POPSIFT_TLS_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../src/tls/tls.h"
#include "../../src/tls/tls_keylog.h"

#define TT_UNUSED __attribute__((unused))

/* A growing byte buffer. */
struct tt_buf {
	uint8_t *p;
	size_t n, cap;
};

static TT_UNUSED void tt_put(struct tt_buf *b, const void *p, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = 0;
}

static TT_UNUSED void tt_printf(struct tt_buf *b, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	tt_put(b, line, (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1);
}

static TT_UNUSED void tt_buf_free(struct tt_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Everything the layer said. `log` is every callback in order, one line
   each (plaintext only as its direction: the octets are in plain[]); two
   runs of the same input must give equal logs, however it was cut. */
struct tt_rec {
	struct tt_buf plain[TLS_DIR_COUNT];
	struct tt_buf log;
	struct tls_meta meta;  /* as the sink got it */
	struct tls_meta final; /* tls_stream_meta() after tls_stream_end() */
	struct tls_stream_stats stats; /* tls_stream_stats() then */
	unsigned metas;
	uint64_t gaps[TLS_DIR_COUNT];
	unsigned anomalies[TLS_ANOM_COUNT];
	unsigned alerts;
	uint8_t last_alert[2];
	bool plain_before_meta;
	unsigned long touched; /* sample octets read, so ASan checks them */
};

static void tt_meta(void *ctx, const struct tls_meta *m)
{
	struct tt_rec *r = ctx;
	r->meta = *m;
	r->metas++;
	tt_printf(&r->log, "meta v=%04x suite=%04x cert=%s decrypt=%s ja3=%s ja4=%s\n", m->version,
		  m->cipher_suite, tls_cert_status_name(m->cert_status),
		  tls_decrypt_name(m->decrypt), m->ja3, m->ja4);
}

static void tt_plain(void *ctx, enum tls_dir dir, const uint8_t *p, size_t n)
{
	struct tt_rec *r = ctx;
	if (!r->metas)
		r->plain_before_meta = true;
	tt_put(&r->plain[dir], p, n);
	tt_printf(&r->log, "plain %d\n", dir);
}

static void tt_gap(void *ctx, enum tls_dir dir, uint64_t lost)
{
	struct tt_rec *r = ctx;
	r->gaps[dir] += lost;
	tt_printf(&r->log, "gap %d %llu\n", dir, (unsigned long long)lost);
}

static void tt_anomaly(void *ctx, enum tls_dir dir, enum tls_anomaly a, uint64_t detail,
		       const uint8_t *sample, size_t n)
{
	struct tt_rec *r = ctx;
	assert_true(n <= TLS_SAMPLE_MAX);
	r->anomalies[a]++;
	tt_printf(&r->log, "anomaly %d %s %llu %zu\n", dir, tls_anomaly_id(a),
		  (unsigned long long)detail, n);
	for (size_t i = 0; i < n; i++)
		r->touched += sample[i];
}

static void tt_alert(void *ctx, enum tls_dir dir, uint8_t level, uint8_t desc)
{
	struct tt_rec *r = ctx;
	r->alerts++;
	r->last_alert[0] = level;
	r->last_alert[1] = desc;
	tt_printf(&r->log, "alert %d %u %u\n", dir, level, desc);
}

static TT_UNUSED struct tls_sink tt_sink(struct tt_rec *r)
{
	memset(r, 0, sizeof(*r));
	return (struct tls_sink){ r, tt_meta, tt_plain, tt_gap, tt_anomaly, tt_alert };
}

static TT_UNUSED void tt_rec_free(struct tt_rec *r)
{
	for (int d = 0; d < TLS_DIR_COUNT; d++)
		tt_buf_free(&r->plain[d]);
	tt_buf_free(&r->log);
}

/* --- fixtures ----------------------------------------------------------- */

struct tt_entry {
	char tag;
	const uint8_t *p;
	size_t n;
};

struct tt_fixture {
	uint8_t *file;
	size_t size;
	struct tt_entry *e;
	size_t count;
};

/* The directory of the fixtures: from the repository root (where make runs). */
static TT_UNUSED const char *tt_fixture_dir(void)
{
	return "tests/tls/fixtures";
}

static TT_UNUSED uint8_t *tt_read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run the tests from the repository root)", path);
	struct tt_buf b = { 0 };
	uint8_t chunk[65536];
	size_t k;
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tt_put(&b, chunk, k);
	fclose(f);
	*size = b.n;
	return b.p;
}

static TT_UNUSED void tt_fixture_load_path(struct tt_fixture *fx, const char *path)
{
	memset(fx, 0, sizeof(*fx));
	fx->file = tt_read_file(path, &fx->size);
	assert_true(fx->size >= 8 && memcmp(fx->file, "PSTLSFX1", 8) == 0);
	size_t off = 8;
	while (off + 5 <= fx->size) {
		size_t n = (size_t)fx->file[off + 1] << 24 | (size_t)fx->file[off + 2] << 16 |
			   (size_t)fx->file[off + 3] << 8 | fx->file[off + 4];
		assert_true(n <= fx->size - off - 5);
		fx->e = realloc(fx->e, (fx->count + 1) * sizeof(*fx->e));
		assert_non_null(fx->e);
		fx->e[fx->count++] = (struct tt_entry){ (char)fx->file[off], fx->file + off + 5, n };
		off += 5 + n;
	}
	assert_int_equal(off, fx->size);
}

static TT_UNUSED void tt_fixture_load(struct tt_fixture *fx, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.fx", tt_fixture_dir(), name);
	tt_fixture_load_path(fx, path);
}

static TT_UNUSED void tt_fixture_free(struct tt_fixture *fx)
{
	free(fx->file);
	free(fx->e);
	memset(fx, 0, sizeof(*fx));
}

/* The one entry with that tag (NULL n=0 if none). */
static TT_UNUSED struct tt_entry tt_fixture_get(const struct tt_fixture *fx, char tag)
{
	for (size_t i = 0; i < fx->count; i++)
		if (fx->e[i].tag == tag)
			return fx->e[i];
	return (struct tt_entry){ tag, NULL, 0 };
}

/* The value of `key` in the fixture's M lines, into out; false if absent. */
static TT_UNUSED bool tt_fixture_meta(const struct tt_fixture *fx, const char *key, char *out,
				      size_t max)
{
	struct tt_entry m = tt_fixture_get(fx, 'M');
	size_t klen = strlen(key);
	const char *p = (const char *)m.p, *end = p + m.n;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			size_t v = len - klen - 1 < max - 1 ? len - klen - 1 : max - 1;
			memcpy(out, p + klen + 1, v);
			out[v] = '\0';
			return true;
		}
		p += len + 1;
	}
	return false;
}

static TT_UNUSED struct tls_keylog *tt_fixture_keys(const struct tt_fixture *fx)
{
	struct tls_keylog *kl = tls_keylog_new();
	assert_non_null(kl);
	struct tt_entry k = tt_fixture_get(fx, 'K');
	tls_keylog_add_text(kl, (const char *)k.p, k.n);
	return kl;
}

/* --- feeding ------------------------------------------------------------- */

enum tt_chunking { TT_WHOLE, TT_BYTES, TT_RANDOM };

static TT_UNUSED uint32_t tt_rand(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return (uint32_t)*state;
}

/* Feeds p[0..n) of dir, cut as `how` says. Each piece is an exact-size heap
   copy, so ASan sees a read past it. */
static TT_UNUSED void tt_feed(struct tls_stream *s, enum tls_dir dir, const uint8_t *p, size_t n,
			      enum tt_chunking how, uint64_t *rng)
{
	size_t off = 0;
	while (off < n) {
		size_t k = n - off;
		if (how == TT_BYTES)
			k = 1;
		else if (how == TT_RANDOM)
			k = 1 + tt_rand(rng) % (k < 3000 ? k : 3000);
		uint8_t *copy = malloc(k);
		assert_non_null(copy);
		memcpy(copy, p + off, k);
		tls_stream_data(s, dir, copy, k);
		free(copy);
		off += k;
	}
}

/* Feeds every wire entry of the fixture in order (C and S; never A/B). */
static TT_UNUSED void tt_feed_fixture(struct tls_stream *s, const struct tt_fixture *fx,
				      enum tt_chunking how, uint64_t seed)
{
	uint64_t rng = seed | 1;
	for (size_t i = 0; i < fx->count; i++) {
		const struct tt_entry *e = &fx->e[i];
		if (e->tag == 'C' || e->tag == 'S')
			tt_feed(s, e->tag == 'C' ? TLS_DIR_TO_SERVER : TLS_DIR_TO_CLIENT, e->p, e->n,
				how, &rng);
	}
}

/* Runs the fixture through a fresh stream; keys may be NULL. */
static TT_UNUSED void tt_run_fixture(const struct tt_fixture *fx, const struct tls_keylog *keys,
				     enum tt_chunking how, uint64_t seed, struct tt_rec *r)
{
	struct tls_sink sink = tt_sink(r);
	struct tls_stream *s = tls_stream_new(keys, &sink, 0);
	assert_non_null(s);
	tt_feed_fixture(s, fx, how, seed);
	tls_stream_end(s);
	r->final = *tls_stream_meta(s);
	tls_stream_stats(s, &r->stats);
	tls_stream_free(s);
}

static TT_UNUSED void tt_hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Decodes a hex string with optional spaces; returns the octets (caller frees). */
static TT_UNUSED uint8_t *tt_unhex(const char *s, size_t *n)
{
	size_t len = strlen(s), k = 0;
	uint8_t *out = malloc(len / 2 + 1);
	assert_non_null(out);
	int hi = -1;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (v < 0)
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			out[k++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	*n = k;
	return out;
}

#endif
