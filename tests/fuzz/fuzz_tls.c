/*
 * fuzz_tls.c - libFuzzer harness for the TLS stream layer (src/tls/): record
 * framing and resynchronisation, handshake framing, the hello, certificate
 * and extension parsers, JA3/JA4, the key log parser, key derivation and
 * record decryption, both directions in any interleaving and chunking, with
 * gaps. Input: fuzz_input.h's format, with the flags byte read as
 *   bit 0  the first chunk is the client's (fuzz_input.h)
 *   bit 1  TLS_START_MIDSTREAM
 *   bit 2  the first non-empty chunk is key log text (it takes one turn of the
 *          alternating directions): seeds made from the fixtures carry their
 *          keys, so mutations reach decrypted handshakes and KeyUpdates
 *   bit 3  run the input again, fed one octet at a time, and abort if any
 *          callback differs (also when POPSIFT_FUZZ_DIFF=1)
 * Checks the contract of tls.h: metadata exactly once, before any plaintext;
 * plaintext only with keys; samples within TLS_SAMPLE_MAX; enums in range;
 * every octet handed over is read (so ASan checks the pointers).
 * Seeds: tests/fuzz/corpus/tls/ (tests/tls/make-fixtures.py --fuzz-corpus).
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/tls/tls.h"
#include "../../src/tls/tls_keylog.h"
#include "fuzz_input.h"

#define F_MIDSTREAM 0x02
#define F_KEYS 0x04
#define F_DIFF 0x08

/* What a run said, as a running hash (inputs may make megabytes of it). */
struct tally {
	uint64_t hash;
	unsigned metas;
	bool keys;
	uint64_t plain;
};

static void mix(struct tally *t, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 0x100000001b3ULL;
}

static void mix_u64(struct tally *t, uint64_t v)
{
	mix(t, &v, sizeof(v));
}

static void on_meta(void *ctx, const struct tls_meta *m)
{
	struct tally *t = ctx;
	FUZZ_ASSERT(t->metas == 0);
	FUZZ_ASSERT(m->cert_status < TLS_CERT_STATUS_COUNT && m->decrypt < TLS_DECRYPT_COUNT);
	FUZZ_ASSERT(m->resumption < TLS_RESUME_COUNT);
	FUZZ_ASSERT(m->sni_len <= TLS_SNI_MAX && m->alpn_len <= TLS_ALPN_MAX);
	FUZZ_ASSERT(m->cert.san_count <= TLS_SAN_MAX);
	FUZZ_ASSERT(strlen(m->ja3) < sizeof(m->ja3) && strlen(m->ja4) < sizeof(m->ja4));
	t->metas++;
	mix(t, m->sni, m->sni_len);
	mix(t, m->alpn, m->alpn_len);
	mix(t, m->ja3_string, strlen(m->ja3_string));
	mix(t, m->ja4, strlen(m->ja4));
	mix(t, m->cert.subject, strlen(m->cert.subject));
	for (unsigned i = 0; i < m->cert.san_count; i++)
		mix(t, m->cert.san[i].value, m->cert.san[i].len);
	mix_u64(t, (uint64_t)m->version << 32 | (uint64_t)m->cipher_suite << 16 |
			   (uint64_t)m->decrypt << 8 | m->cert_status);
}

static void on_plain(void *ctx, enum tls_dir dir, const uint8_t *p, size_t n)
{
	struct tally *t = ctx;
	FUZZ_ASSERT(t->metas == 1 && t->keys && n > 0 && dir < TLS_DIR_COUNT);
	t->plain += n;
	mix_u64(t, 0x10 + dir);
	mix(t, p, n);
}

static void on_gap(void *ctx, enum tls_dir dir, uint64_t lost)
{
	struct tally *t = ctx;
	FUZZ_ASSERT(lost > 0 && dir < TLS_DIR_COUNT);
	mix_u64(t, 0x20 + dir);
	mix_u64(t, lost);
}

static void on_anomaly(void *ctx, enum tls_dir dir, enum tls_anomaly a, uint64_t detail,
		       const uint8_t *sample, size_t n)
{
	struct tally *t = ctx;
	FUZZ_ASSERT(a < TLS_ANOM_COUNT && dir < TLS_DIR_COUNT && n <= TLS_SAMPLE_MAX);
	FUZZ_ASSERT(tls_anomaly_id(a)[0] == 't');
	mix_u64(t, 0x30 + a);
	mix_u64(t, detail);
	mix(t, sample, n);
}

static void on_alert(void *ctx, enum tls_dir dir, uint8_t level, uint8_t desc)
{
	struct tally *t = ctx;
	mix_u64(t, 0x40 + dir);
	mix_u64(t, (uint64_t)level << 8 | desc);
}

/* One run over the input; one_octet: every data chunk fed an octet at a time. */
static struct tally run(const uint8_t *data, size_t size, bool one_octet)
{
	struct fuzz_reader rd;
	struct fuzz_chunk c;
	uint8_t flags;
	struct tally t = { .hash = 0xcbf29ce484222325ULL };
	if (!fuzz_begin(&rd, data, size, &flags))
		return t;
	struct tls_keylog *kl = NULL;
	if ((flags & F_KEYS) && fuzz_next(&rd, &c)) {
		kl = tls_keylog_new();
		if (!c.gap)
			tls_keylog_add_text(kl, (const char *)c.p, c.n);
		free(c.p);
		t.keys = true;
	}
	struct tls_sink sink = { &t, on_meta, on_plain, on_gap, on_anomaly, on_alert };
	struct tls_stream *s =
		tls_stream_new(kl, &sink, (flags & F_MIDSTREAM) ? TLS_START_MIDSTREAM : 0);
	FUZZ_ASSERT(s);
	while (fuzz_next(&rd, &c)) {
		enum tls_dir dir = c.dir == DIR_TO_SERVER ? TLS_DIR_TO_SERVER : TLS_DIR_TO_CLIENT;
		if (c.gap)
			tls_stream_gap(s, dir, c.gap_bytes);
		else if (!one_octet)
			tls_stream_data(s, dir, c.p, c.n);
		else
			for (size_t i = 0; i < c.n; i++)
				tls_stream_data(s, dir, c.p + i, 1);
		free(c.p);
	}
	tls_stream_end(s);
	FUZZ_ASSERT(t.metas == 1);
	tls_stream_free(s);
	tls_keylog_free(kl);
	return t;
}

/* Nothing to set up once: every input gets its own reader. */
void fuzz_harness_init(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tally whole = run(data, size, false);
	const char *env = getenv("POPSIFT_FUZZ_DIFF");
	bool diff = (size && (data[0] & F_DIFF)) || (env && !strcmp(env, "1"));
	if (diff) {
		struct tally octets = run(data, size, true);
		FUZZ_ASSERT(octets.hash == whole.hash && octets.plain == whole.plain);
	}
	return 0;
}
