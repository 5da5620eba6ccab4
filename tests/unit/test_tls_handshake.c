/*
 * test_tls_handshake.c - the handshake side of the TLS stream layer, on
 * hellos built here field by field: JA4 against the worked example of
 * FoxIO's technical_details/JA4.md (t13d1516h2_8daaf6152771_e5627efa2ab1,
 * and 6d807ffa2a79 without signature algorithms), its ALPN rules, JA3 with
 * GREASE removed, SNI bounds, a hello fragmented over records, a certificate
 * chain above 64 KB cut with its leaf kept, an oversized message skipped,
 * malformed and foreign input (SSL 2.0 hello, plain text, heartbeat,
 * application data before any handshake, a second ClientHello), and the
 * cipher suite table.
 */
#include <openssl/evp.h>

#include "tls_testlib.h"

/* --- building hellos ---------------------------------------------------- */

static void put_int(struct tt_buf *b, uint32_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		uint8_t o = (uint8_t)(v >> (8 * i));
		tt_put(b, &o, 1);
	}
}

/* Opens a vector with a `width`-octet length; close_vec() fills it in. */
static size_t open_vec(struct tt_buf *b, int width)
{
	put_int(b, 0, width);
	return b->n;
}

static void close_vec(struct tt_buf *b, size_t at, int width)
{
	size_t len = b->n - at;
	for (int i = 0; i < width; i++)
		b->p[at - 1 - i] = (uint8_t)(len >> (8 * i));
}

static void ext(struct tt_buf *b, uint16_t type, const char *data, size_t n)
{
	put_int(b, type, 2);
	put_int(b, (uint32_t)n, 2);
	tt_put(b, data, n);
}

static void ext_list16(struct tt_buf *b, uint16_t type, const uint16_t *v, size_t n, int width)
{
	put_int(b, type, 2);
	size_t outer = open_vec(b, 2), inner = open_vec(b, width);
	for (size_t i = 0; i < n; i++)
		put_int(b, v[i], 2);
	close_vec(b, inner, width);
	close_vec(b, outer, 2);
}

static void ext_sni(struct tt_buf *b, const char *name, size_t n)
{
	put_int(b, 0x0000, 2);
	size_t outer = open_vec(b, 2), list = open_vec(b, 2);
	put_int(b, 0, 1);
	put_int(b, (uint32_t)n, 2);
	tt_put(b, name, n);
	close_vec(b, list, 2);
	close_vec(b, outer, 2);
}

static void ext_alpn(struct tt_buf *b, const char *first, size_t n)
{
	put_int(b, 0x0010, 2);
	size_t outer = open_vec(b, 2), list = open_vec(b, 2);
	put_int(b, (uint32_t)n, 1);
	tt_put(b, first, n);
	put_int(b, 8, 1);
	tt_put(b, "http/1.1", 8);
	close_vec(b, list, 2);
	close_vec(b, outer, 2);
}

struct hello_opts {
	bool no_sigalgs; /* signature_algorithms with an empty list */
	const char *alpn;
	size_t alpn_len;
	const char *sni;
	size_t sni_len;
};

/*
 * The ClientHello of JA4.md's example: its 15 ciphers and 16 extensions in
 * their original order, with GREASE values added that JA4 and JA3 ignore.
 * Returns the handshake message (type, length, body).
 */
static struct tt_buf client_hello(const struct hello_opts *o)
{
	static const uint16_t ciphers[] = { 0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b,
					    0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
					    0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
	static const uint16_t sigalgs[] = { 0x0403, 0x0804, 0x0401, 0x0503,
					    0x0805, 0x0501, 0x0806, 0x0601 };
	static const uint16_t versions[] = { 0x2a2a, 0x0304, 0x0303 };
	static const uint16_t groups[] = { 0x3a3a, 0x001d, 0x0017, 0x0018 };
	struct tt_buf b = { 0 };
	put_int(&b, 1, 1);
	size_t msg = open_vec(&b, 3);
	put_int(&b, 0x0303, 2);
	for (int i = 0; i < 32; i++)
		put_int(&b, (uint32_t)(0x40 + i), 1);
	put_int(&b, 0, 1); /* session id */
	size_t cs = open_vec(&b, 2);
	for (size_t i = 0; i < sizeof(ciphers) / 2; i++)
		put_int(&b, ciphers[i], 2);
	close_vec(&b, cs, 2);
	tt_put(&b, "\x01\x00", 2); /* compression: null */
	size_t exts = open_vec(&b, 2);
	ext(&b, 0x1a1a, "", 0);
	ext(&b, 0x001b, "\x02\x00\x02", 3);
	ext_sni(&b, o->sni ? o->sni : "example.com", o->sni ? o->sni_len : 11);
	ext(&b, 0x0033, "\x00\x00", 2);
	ext_alpn(&b, o->alpn ? o->alpn : "h2", o->alpn ? o->alpn_len : 2);
	ext(&b, 0x4469, "\x00\x03\x02h2", 6);
	ext(&b, 0x0017, "", 0);
	ext(&b, 0x002d, "\x01\x01", 2);
	ext_list16(&b, 0x000d, sigalgs, o->no_sigalgs ? 0 : 8, 2);
	ext(&b, 0x0005, "\x01\x00\x00\x00\x00", 5);
	ext(&b, 0x0023, "", 0);
	ext(&b, 0x0012, "", 0);
	ext_list16(&b, 0x002b, versions, 3, 1);
	ext(&b, 0xff01, "\x00", 1);
	ext(&b, 0x000b, "\x01\x00", 2);
	ext_list16(&b, 0x000a, groups, 4, 2);
	ext(&b, 0x0015, "\0\0\0\0\0\0\0\0", 8);
	ext(&b, 0x2a2a, "", 0);
	close_vec(&b, exts, 2);
	close_vec(&b, msg, 3);
	return b;
}

/* Wraps handshake octets in records of at most frag octets. */
static struct tt_buf records(uint8_t type, const uint8_t *p, size_t n, size_t frag)
{
	struct tt_buf b = { 0 };
	for (size_t off = 0; off < n; off += frag) {
		size_t k = n - off < frag ? n - off : frag;
		put_int(&b, type, 1);
		put_int(&b, 0x0303, 2);
		put_int(&b, (uint32_t)k, 2);
		tt_put(&b, p + off, k);
	}
	return b;
}

/* The metadata after the client sent the hello in records of frag octets. */
static void hello_meta(const struct tt_buf *hello, size_t frag, enum tt_chunking how,
		       struct tt_rec *r)
{
	struct tt_buf rec = records(22, hello->p, hello->n, frag);
	struct tls_sink sink = tt_sink(r);
	struct tls_stream *s = tls_stream_new(NULL, &sink, 0);
	uint64_t rng = 77;
	tt_feed(s, TLS_DIR_TO_SERVER, rec.p, rec.n, how, &rng);
	tls_stream_end(s);
	tls_stream_free(s);
	tt_buf_free(&rec);
}

static void md5_hex(const char *s, char out[33])
{
	uint8_t md[16];
	unsigned len = 0;
	EVP_Digest(s, strlen(s), md, &len, EVP_md5(), NULL);
	tt_hex(md, 16, out);
}

/* --- tests ----------------------------------------------------------------- */

static void ja4_of_the_specs_example_is_the_specs_fingerprint(void **state)
{
	(void)state;
	struct hello_opts o = { 0 };
	struct tt_buf h = client_hello(&o);
	struct tt_rec r;
	hello_meta(&h, 16384, TT_WHOLE, &r);
	assert_string_equal(r.meta.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	assert_int_equal(r.meta.client_max_version, 0x0304);
	tt_rec_free(&r);
	tt_buf_free(&h);
}

static void ja4_without_signature_algorithms_hashes_the_extensions_alone(void **state)
{
	(void)state;
	struct hello_opts o = { .no_sigalgs = true };
	struct tt_buf h = client_hello(&o);
	struct tt_rec r;
	hello_meta(&h, 16384, TT_WHOLE, &r);
	assert_string_equal(r.meta.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
	tt_rec_free(&r);
	tt_buf_free(&h);
}

static void ja4_alpn_falls_back_to_hex_for_non_alphanumeric_values(void **state)
{
	(void)state;
	static const struct {
		const char *alpn;
		size_t n;
		const char *want;
	} cases[] = {
		{ "\xab", 1, "ab" },	     { "\xab\xcd", 2, "ad" }, { "\x30\xab", 2, "3b" },
		{ "\x30\x31\xab\xcd", 4, "3d" }, { "\x30\xab\xcd\x31", 4, "01" }, { "x", 1, "xx" },
		{ "http/1.1", 8, "h1" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hello_opts o = { .alpn = cases[i].alpn, .alpn_len = cases[i].n };
		struct tt_buf h = client_hello(&o);
		struct tt_rec r;
		hello_meta(&h, 16384, TT_WHOLE, &r);
		assert_memory_equal(r.meta.ja4 + 8, cases[i].want, 2);
		tt_rec_free(&r);
		tt_buf_free(&h);
	}
}

static void ja3_leaves_grease_out_and_hashes_the_documented_string(void **state)
{
	(void)state;
	struct hello_opts o = { 0 };
	struct tt_buf h = client_hello(&o);
	struct tt_rec r;
	hello_meta(&h, 16384, TT_WHOLE, &r);
	const char *want = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-"
			   "156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,"
			   "29-23-24,0";
	char md5[33];
	md5_hex(want, md5);
	assert_string_equal(r.meta.ja3_string, want);
	assert_string_equal(r.meta.ja3, md5);
	assert_false(r.meta.ja3_truncated);
	assert_true(r.meta.sni_present);
	assert_memory_equal(r.meta.sni, "example.com", 11);
	assert_int_equal(r.meta.alpn_offered_len, 11);
	assert_memory_equal(r.meta.alpn_offered, "h2,http/1.1", 11);
	tt_rec_free(&r);
	tt_buf_free(&h);
}

static void a_hello_fragmented_over_records_gives_the_same_metadata(void **state)
{
	(void)state;
	struct hello_opts o = { 0 };
	struct tt_buf h = client_hello(&o);
	struct tt_rec whole, r;
	hello_meta(&h, 16384, TT_WHOLE, &whole);
	for (size_t frag = 1; frag < 60; frag += 13) {
		hello_meta(&h, frag, frag % 2 ? TT_BYTES : TT_RANDOM, &r);
		assert_memory_equal(&r.meta, &whole.meta, sizeof(r.meta));
		assert_string_equal((char *)r.log.p, (char *)whole.log.p);
		tt_rec_free(&r);
	}
	tt_rec_free(&whole);
	tt_buf_free(&h);
}

static void a_record_ending_right_after_a_message_header_is_handled(void **state)
{
	(void)state;
	/* Found by fuzz_tls: a header ending a record left a buffer sized for
	   its short message, which the next, longer message overflowed. */
	struct hello_opts o = { 0 };
	struct tt_buf h = client_hello(&o);
	struct tt_buf rec = { 0 }, part;
	part = records(22, (const uint8_t *)"\x00\x00\x00\x02", 4, 16384); /* HelloRequest */
	tt_put(&rec, part.p, part.n);
	tt_buf_free(&part);
	struct tt_buf body = { 0 };
	tt_put(&body, "xx", 2);
	tt_put(&body, h.p, 10);
	part = records(22, body.p, body.n, 16384);
	tt_put(&rec, part.p, part.n);
	tt_buf_free(&part);
	part = records(22, h.p + 10, h.n - 10, 16384);
	tt_put(&rec, part.p, part.n);
	tt_buf_free(&part);
	struct tt_rec r;
	struct tls_sink sink = tt_sink(&r);
	struct tls_stream *s = tls_stream_new(NULL, &sink, 0);
	tls_stream_data(s, TLS_DIR_TO_SERVER, rec.p, rec.n);
	tls_stream_end(s);
	tls_stream_free(s);
	assert_string_equal(r.meta.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	tt_rec_free(&r);
	tt_buf_free(&body);
	tt_buf_free(&rec);
	tt_buf_free(&h);
}

static void a_long_server_name_is_kept_to_its_bound(void **state)
{
	(void)state;
	char name[300];
	memset(name, 'a', sizeof(name));
	struct hello_opts o = { .sni = name, .sni_len = sizeof(name) };
	struct tt_buf h = client_hello(&o);
	struct tt_rec r;
	hello_meta(&h, 16384, TT_WHOLE, &r);
	assert_int_equal(r.meta.sni_len, TLS_SNI_MAX);
	assert_true(r.meta.sni_present);
	tt_rec_free(&r);
	tt_buf_free(&h);
}

static void a_malformed_hello_is_an_anomaly(void **state)
{
	(void)state;
	struct hello_opts o = { 0 };
	struct tt_buf h = client_hello(&o);
	/* Lengthen the message by one octet past its extensions. */
	tt_put(&h, "", 1);
	h.p[3]++;
	struct tt_rec r;
	hello_meta(&h, 16384, TT_WHOLE, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_HANDSHAKE_MALFORMED], 1);
	assert_false(r.meta.client_hello);
	tt_rec_free(&r);
	tt_buf_free(&h);
}

/* The server's clear handshake octets of a fixture (up to its ChangeCipherSpec). */
static struct tt_buf server_handshake(const struct tt_fixture *fx)
{
	struct tt_buf w = { 0 }, hs = { 0 };
	for (size_t i = 0; i < fx->count; i++)
		if (fx->e[i].tag == 'S')
			tt_put(&w, fx->e[i].p, fx->e[i].n);
	for (size_t off = 0; off + 5 <= w.n && w.p[off] == 22;) {
		size_t n = (size_t)w.p[off + 3] << 8 | w.p[off + 4];
		tt_put(&hs, w.p + off + 5, n);
		off += 5 + n;
	}
	tt_buf_free(&w);
	return hs;
}

/* The message of that type in handshake octets (pointer into hs). */
static const uint8_t *find_message(const struct tt_buf *hs, uint8_t type, size_t *len)
{
	for (size_t off = 0; off + 4 <= hs->n;) {
		size_t n = (size_t)hs->p[off + 1] << 16 | (size_t)hs->p[off + 2] << 8 | hs->p[off + 3];
		if (hs->p[off] == type) {
			*len = 4 + n;
			return hs->p + off;
		}
		off += 4 + n;
	}
	fail_msg("no handshake message of type %u", type);
	return NULL;
}

/* A TLS 1.2 fixture's server handshake, to rebuild flights from its messages. */
struct srv {
	struct tt_fixture fx;
	struct tt_buf hs;
	const uint8_t *sh, *cert; /* ServerHello, Certificate (pointers into hs) */
	size_t sh_len, cert_len;
};

static void srv_open(struct srv *v)
{
	tt_fixture_load(&v->fx, "tls12-aes128gcm");
	v->hs = server_handshake(&v->fx);
	v->sh = find_message(&v->hs, 2, &v->sh_len);
	v->cert = find_message(&v->hs, 11, &v->cert_len);
}

static void srv_close(struct srv *v)
{
	tt_buf_free(&v->hs);
	tt_fixture_free(&v->fx);
}

/* A new server flight: the fixture's ServerHello. */
static struct tt_buf srv_flight(const struct srv *v)
{
	struct tt_buf flight = { 0 };
	tt_put(&flight, v->sh, v->sh_len);
	return flight;
}

/* Runs a fixture's ClientHello, then the given server handshake octets. */
static void run_server_flight(const struct tt_fixture *fx, const struct tt_buf *flight,
			      struct tt_rec *r)
{
	struct tls_sink sink = tt_sink(r);
	struct tls_stream *s = tls_stream_new(NULL, &sink, 0);
	struct tt_entry ch = tt_fixture_get(fx, 'C');
	tls_stream_data(s, TLS_DIR_TO_SERVER, ch.p, ch.n);
	struct tt_buf rec = records(22, flight->p, flight->n, 16384);
	uint64_t rng = 5;
	tt_feed(s, TLS_DIR_TO_CLIENT, rec.p, rec.n, TT_RANDOM, &rng);
	tls_stream_end(s);
	tls_stream_free(s);
	tt_buf_free(&rec);
}

static void a_chain_above_64_kb_is_cut_and_its_leaf_still_read(void **state)
{
	(void)state;
	struct srv v;
	srv_open(&v);
	/* The leaf, then three 30000-octet entries: 90 KB in all. */
	const uint8_t *leaf = v.cert + 4 + 3;
	size_t leaf_len = 3 + ((size_t)leaf[0] << 16 | (size_t)leaf[1] << 8 | leaf[2]);
	struct tt_buf flight = srv_flight(&v);
	put_int(&flight, 11, 1);
	size_t msg = open_vec(&flight, 3), list = open_vec(&flight, 3);
	tt_put(&flight, leaf, leaf_len);
	uint8_t *filler = calloc(1, 30000);
	for (int i = 0; i < 3; i++) {
		put_int(&flight, 30000, 3);
		tt_put(&flight, filler, 30000);
	}
	close_vec(&flight, list, 3);
	close_vec(&flight, msg, 3);
	tt_put(&flight, "\x0e\x00\x00\x00", 4); /* ServerHelloDone */
	struct tt_rec r;
	run_server_flight(&v.fx, &flight, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_CERT_CHAIN_TOO_LONG], 1);
	assert_int_equal(r.anomalies[TLS_ANOM_HANDSHAKE_MALFORMED], 0);
	assert_int_equal(r.meta.cert_status, TLS_CERT_PARSED);
	assert_int_equal(r.meta.cert.chain_length, 3); /* leaf + two whole fillers in 64 KB */
	char subject[TLS_DN_MAX];
	assert_true(tt_fixture_meta(&v.fx, "subject", subject, sizeof(subject)));
	assert_string_equal(r.meta.cert.subject, subject);
	free(filler);
	tt_rec_free(&r);
	tt_buf_free(&flight);
	srv_close(&v);
}

/* The certificate status after the fixture's ServerHello and `msg`. */
static enum tls_cert_status status_after(const struct srv *v, const char *msg, size_t n,
					 unsigned *unparsable)
{
	struct tt_buf flight = srv_flight(v);
	tt_put(&flight, msg, n);
	struct tt_rec r;
	run_server_flight(&v->fx, &flight, &r);
	enum tls_cert_status st = r.meta.cert_status;
	*unparsable = r.anomalies[TLS_ANOM_CERT_UNPARSABLE];
	tt_rec_free(&r);
	tt_buf_free(&flight);
	return st;
}

static void certificate_messages_without_a_usable_certificate_say_why(void **state)
{
	(void)state;
	struct srv v;
	srv_open(&v);
	unsigned bad;
	/* An empty certificate_list. */
	assert_int_equal(status_after(&v, "\x0b\x00\x00\x03\x00\x00\x00", 7, &bad),
			 TLS_CERT_EMPTY);
	assert_int_equal(bad, 0);
	/* One 4-octet "certificate" OpenSSL cannot read. */
	assert_int_equal(status_after(&v, "\x0b\x00\x00\x0a\x00\x00\x07\x00\x00\x04junk",
				      14, &bad),
			 TLS_CERT_UNPARSABLE);
	assert_int_equal(bad, 1);
	/* A list longer than its message. */
	assert_int_equal(status_after(&v, "\x0b\x00\x00\x03\x00\x00\x09", 7, &bad),
			 TLS_CERT_UNPARSABLE);
	/* RFC 8879 CompressedCertificate. */
	assert_int_equal(status_after(&v, "\x19\x00\x00\x02" "ab", 6, &bad),
			 TLS_CERT_COMPRESSED);
	assert_string_equal(tls_cert_status_name(TLS_CERT_COMPRESSED), "compressed");
	srv_close(&v);
}

static void an_oversized_message_is_skipped_and_the_next_one_read(void **state)
{
	(void)state;
	struct srv v;
	srv_open(&v);
	struct tt_buf flight = srv_flight(&v);
	put_int(&flight, 12, 1); /* a ServerKeyExchange of 70 000 octets */
	put_int(&flight, 70000, 3);
	uint8_t *big = calloc(1, 70000);
	tt_put(&flight, big, 70000);
	tt_put(&flight, v.cert, v.cert_len);
	struct tt_rec r;
	run_server_flight(&v.fx, &flight, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_HANDSHAKE_TOO_LONG], 1);
	assert_int_equal(r.meta.cert_status, TLS_CERT_PARSED);
	free(big);
	tt_rec_free(&r);
	tt_buf_free(&flight);
	srv_close(&v);
}

/* The anomalies of the client sending `data` first. */
static void client_sends(const char *data, size_t n, struct tt_rec *r)
{
	struct tls_sink sink = tt_sink(r);
	struct tls_stream *s = tls_stream_new(NULL, &sink, 0);
	tls_stream_data(s, TLS_DIR_TO_SERVER, (const uint8_t *)data, n);
	tls_stream_end(s);
	tls_stream_free(s);
}

static void foreign_first_octets_say_what_they_are(void **state)
{
	(void)state;
	struct tt_rec r;
	client_sends("+OK POP3 server ready\r\n", 23, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_NOT_TLS], 1);
	assert_int_equal(r.meta.decrypt, TLS_DECRYPT_NO_KEYLOG);
	tt_rec_free(&r);
	client_sends("\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10", 11, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_SSLV2_HELLO], 1);
	assert_int_equal(r.anomalies[TLS_ANOM_NOT_TLS], 0);
	tt_rec_free(&r);
}

static void a_heartbeat_and_early_application_data_are_reported(void **state)
{
	(void)state;
	struct tt_rec r;
	client_sends("\x18\x03\x03\x00\x03\x01\x40\x00", 8, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_HEARTBEAT], 1);
	tt_rec_free(&r);
	client_sends("\x17\x03\x03\x00\x05hello\x17\x03\x03\x00\x05again", 20, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_UNEXPECTED_MESSAGE], 1);
	assert_int_equal(r.plain[0].n, 0);
	tt_rec_free(&r);
}

static void a_second_client_hello_is_a_renegotiation(void **state)
{
	(void)state;
	struct hello_opts o = { 0 };
	struct tt_buf h = client_hello(&o);
	struct tt_buf twice = { 0 };
	tt_put(&twice, h.p, h.n);
	tt_put(&twice, h.p, h.n);
	struct tt_rec r;
	hello_meta(&twice, 16384, TT_WHOLE, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_RENEGOTIATION], 1);
	assert_string_equal(r.meta.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	tt_rec_free(&r);
	tt_buf_free(&twice);
	tt_buf_free(&h);
}

static void an_unsupported_cipher_is_said_not_guessed(void **state)
{
	(void)state;
	struct tt_fixture fx;
	tt_fixture_load(&fx, "tls12-aria-unsupported");
	struct tls_keylog *kl = tt_fixture_keys(&fx);
	struct tt_rec r;
	tt_run_fixture(&fx, kl, TT_WHOLE, 0, &r);
	assert_int_equal(r.meta.decrypt, TLS_DECRYPT_UNSUPPORTED);
	assert_int_equal(r.anomalies[TLS_ANOM_UNSUPPORTED_CIPHER], 2); /* one per direction */
	assert_int_equal(r.anomalies[TLS_ANOM_BAD_RECORD_MAC], 0);
	assert_string_equal(r.meta.cipher_suite_name, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384");
	assert_int_equal(r.meta.cert_status, TLS_CERT_PARSED);
	assert_int_equal(r.plain[0].n + r.plain[1].n, 0);
	tt_rec_free(&r);
	tls_keylog_free(kl);
	tt_fixture_free(&fx);
}

static void the_suite_table_names_and_judges_suites(void **state)
{
	(void)state;
	assert_string_equal(tls_suite_name(0x1301), "TLS_AES_128_GCM_SHA256");
	assert_string_equal(tls_suite_name(0xc02f), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	assert_string_equal(tls_suite_name(0x0000), "TLS_NULL_WITH_NULL_NULL");
	assert_null(tls_suite_name(0x0a0a)); /* GREASE */
	assert_null(tls_suite_name(0xffff));
	assert_int_equal(tls_suite_weakness(0x0001), TLS_WEAK_NULL);
	assert_int_equal(tls_suite_weakness(0x0003), TLS_WEAK_EXPORT | TLS_WEAK_RC4);
	assert_int_equal(tls_suite_weakness(0x000a), TLS_WEAK_3DES);
	assert_int_equal(tls_suite_weakness(0x0009), TLS_WEAK_DES);
	assert_int_equal(tls_suite_weakness(0x0018), TLS_WEAK_RC4 | TLS_WEAK_ANON);
	assert_int_equal(tls_suite_weakness(0x1302), 0);
	assert_string_equal(tls_version_name(0x0301), "TLS 1.0");
	assert_string_equal(tls_version_name(0x7f1c), "unknown");
	assert_string_equal(tls_alert_name(40), "handshake_failure");
	assert_string_equal(tls_anomaly_id(TLS_ANOM_GAP), "tls.gap");
	assert_true(strlen(tls_anomaly_why(TLS_ANOM_GAP)) > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ja4_of_the_specs_example_is_the_specs_fingerprint),
		cmocka_unit_test(ja4_without_signature_algorithms_hashes_the_extensions_alone),
		cmocka_unit_test(ja4_alpn_falls_back_to_hex_for_non_alphanumeric_values),
		cmocka_unit_test(ja3_leaves_grease_out_and_hashes_the_documented_string),
		cmocka_unit_test(a_hello_fragmented_over_records_gives_the_same_metadata),
		cmocka_unit_test(a_record_ending_right_after_a_message_header_is_handled),
		cmocka_unit_test(a_long_server_name_is_kept_to_its_bound),
		cmocka_unit_test(a_malformed_hello_is_an_anomaly),
		cmocka_unit_test(a_chain_above_64_kb_is_cut_and_its_leaf_still_read),
		cmocka_unit_test(certificate_messages_without_a_usable_certificate_say_why),
		cmocka_unit_test(an_oversized_message_is_skipped_and_the_next_one_read),
		cmocka_unit_test(foreign_first_octets_say_what_they_are),
		cmocka_unit_test(a_heartbeat_and_early_application_data_are_reported),
		cmocka_unit_test(a_second_client_hello_is_a_renegotiation),
		cmocka_unit_test(an_unsupported_cipher_is_said_not_guessed),
		cmocka_unit_test(the_suite_table_names_and_judges_suites),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
