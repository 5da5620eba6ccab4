/*
 * test_tls_decrypt.c - the TLS stream layer on real sessions: the fixtures
 * of tests/tls/fixtures/ (python's ssl module on both ends, see
 * tests/tls/make-fixtures.py) for TLS 1.3, 1.2, 1.1 and 1.0, AEAD and CBC
 * suites with and without encrypt-then-MAC, HelloRetryRequest, KeyUpdate,
 * resumption by session id, ticket and PSK, rejected 0-RTT data, STLS,
 * self-signed and expired
 * certificates. With the key log the plaintext of each direction must be
 * exactly what the peer sent, in every chunking (whole, one octet at a time,
 * random pieces), with the same callbacks each time; the metadata must say
 * what openssl, tshark and the generator's own JA4 say; without the key log
 * the metadata must be the same and nothing decrypted. Then damage: a
 * flipped octet, a gap inside a record, a gap hiding record headers, each
 * costing the records it touches and not the session. Last, a session
 * carrying a message over 1 MB, generated when the test runs.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "tls_testlib.h"

static const char *const fixtures[] = {
	"tls13-aes128gcm",    "tls13-aes256gcm",	 "tls13-chacha20",
	"tls13-aes128ccm",    "tls13-keyupdate",	 "tls13-hrr",
	"tls13-resumed",      "tls13-stls",		 "tls12-aes128gcm",
	"tls12-aes256gcm",    "tls12-chacha20",		 "tls12-aes128ccm",
	"tls12-cbc-sha1-etm", "tls12-cbc-sha1",		 "tls12-cbc-sha256-etm",
	"tls12-cbc-sha384",   "tls12-resumed-sessionid", "tls12-resumed-ticket",
	"tls12-selfsigned",   "tls12-expired",		 "tls11-cbc-sha1-etm",
	"tls10-cbc-sha1-etm", "tls10-cbc-sha1",
};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static void check_plaintext(const struct tt_fixture *fx, const struct tt_rec *r)
{
	struct tt_entry c = tt_fixture_get(fx, 'c'), s = tt_fixture_get(fx, 's');
	assert_int_equal(r->plain[TLS_DIR_TO_SERVER].n, c.n);
	assert_memory_equal(r->plain[TLS_DIR_TO_SERVER].p, c.p, c.n);
	assert_int_equal(r->plain[TLS_DIR_TO_CLIENT].n, s.n);
	assert_memory_equal(r->plain[TLS_DIR_TO_CLIENT].p, s.p, s.n);
	assert_false(r->plain_before_meta);
	assert_int_equal(r->metas, 1);
}

static void check_no_anomaly(const char *name, const struct tt_rec *r)
{
	for (int a = 0; a < TLS_ANOM_COUNT; a++)
		if (r->anomalies[a])
			fail_msg("%s: anomaly %s", name, tls_anomaly_id((enum tls_anomaly)a));
}

/* The SANs as the fixture writes them: "dns:a,ip:b,email:c". */
static void san_text(const struct tls_cert *c, char *out, size_t max)
{
	size_t k = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < c->san_count; i++)
		k += (size_t)snprintf(out + k, max - k, "%s%s:%.*s", i ? "," : "",
				      tls_san_type_name(c->san[i].type), (int)c->san[i].len,
				      (const char *)c->san[i].value);
}

/* One key=value of the fixture against the metadata; false if key unknown. */
static bool meta_value(const struct tls_meta *m, const char *key, char *got, size_t max,
		       bool keyed)
{
	const struct tls_cert *c = &m->cert;
	char hex[65];
	if (!strcmp(key, "version"))
		snprintf(got, max, "0x%04x", m->version);
	else if (!strcmp(key, "cipher"))
		snprintf(got, max, "%s", m->cipher_suite_name);
	else if (!strcmp(key, "cipher_code"))
		snprintf(got, max, "0x%04x", m->cipher_suite);
	else if (!strcmp(key, "sni"))
		snprintf(got, max, "%.*s", (int)m->sni_len, (const char *)m->sni);
	else if (!strcmp(key, "alpn"))
		snprintf(got, max, "%.*s", (int)m->alpn_len, (const char *)m->alpn);
	else if (!strcmp(key, "ja3"))
		snprintf(got, max, "%s", m->ja3);
	else if (!strcmp(key, "ja3_string"))
		snprintf(got, max, "%s", m->ja3_string);
	else if (!strcmp(key, "ja3s"))
		snprintf(got, max, "%s", m->ja3s);
	else if (!strcmp(key, "ja3s_string"))
		snprintf(got, max, "%s", m->ja3s_string);
	else if (!strcmp(key, "ja4"))
		snprintf(got, max, "%s", m->ja4);
	else if (!strcmp(key, "resumed"))
		snprintf(got, max, "%d", m->resumed);
	else if (!strcmp(key, "resumption"))
		snprintf(got, max, "%s", tls_resumption_name(m->resumption));
	else if (!strcmp(key, "hello_retry"))
		snprintf(got, max, "%d", m->hello_retry);
	else if (!strcmp(key, "etm"))
		snprintf(got, max, "%d", m->encrypt_then_mac);
	else if (!strcmp(key, "subject"))
		snprintf(got, max, "%s", c->subject);
	else if (!strcmp(key, "issuer"))
		snprintf(got, max, "%s", c->issuer);
	else if (!strcmp(key, "serial"))
		snprintf(got, max, "%s", c->serial);
	else if (!strcmp(key, "not_before"))
		snprintf(got, max, "%lld", (long long)c->not_before);
	else if (!strcmp(key, "not_after"))
		snprintf(got, max, "%lld", (long long)c->not_after);
	else if (!strcmp(key, "sha256")) {
		tt_hex(c->sha256, 32, hex);
		snprintf(got, max, "%s", hex);
	} else if (!strcmp(key, "self_signed"))
		snprintf(got, max, "%d", c->self_signed);
	else if (!strcmp(key, "san"))
		san_text(c, got, max);
	else
		return false;
	(void)keyed;
	return true;
}

/* Keys whose value only keys reveal in TLS 1.3 (EncryptedExtensions, Certificate). */
static bool tls13_hidden(const char *key)
{
	static const char *const hidden[] = { "alpn",	     "subject",	    "issuer", "serial",
					      "not_before", "not_after",   "sha256", "self_signed",
					      "san" };
	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
		if (!strcmp(key, hidden[i]))
			return true;
	return false;
}

/* Every M line of the fixture against m. */
static void check_meta(const struct tt_fixture *fx, const char *name, const struct tls_meta *m,
		       bool keyed)
{
	struct tt_entry e = tt_fixture_get(fx, 'M');
	assert_non_null(e.p);
	char *text = strndup((const char *)e.p, e.n), *save = NULL;
	bool tls13 = m->version == 0x0304;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		assert_non_null(eq);
		*eq = '\0';
		char got[2048];
		if (!meta_value(m, line, got, sizeof(got), keyed))
			fail_msg("%s: unknown expectation %s", name, line);
		if (!keyed && tls13 && tls13_hidden(line))
			continue;
		if (strcmp(got, eq + 1))
			fail_msg("%s: %s is \"%s\", want \"%s\"", name, line, got, eq + 1);
	}
	free(text);
	if (keyed)
		assert_int_equal(m->decrypt, TLS_DECRYPT_ACTIVE);
	if (!keyed && tls13 && !m->resumed)
		assert_int_equal(m->cert_status, TLS_CERT_ENCRYPTED);
	if (m->resumed)
		assert_int_equal(m->cert_status, TLS_CERT_NOT_SENT);
	else if (keyed || !tls13)
		assert_int_equal(m->cert_status, TLS_CERT_PARSED);
}

static void every_fixture_decrypts_exactly_in_every_chunking(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFIXTURES; i++) {
		struct tt_fixture fx;
		struct tt_rec whole, r;
		tt_fixture_load(&fx, fixtures[i]);
		struct tls_keylog *kl = tt_fixture_keys(&fx);
		tt_run_fixture(&fx, kl, TT_WHOLE, 0, &whole);
		check_plaintext(&fx, &whole);
		check_no_anomaly(fixtures[i], &whole);
		/* Every protected record opened, nothing lost. */
		for (int d = 0; d < TLS_DIR_COUNT; d++) {
			assert_int_equal(whole.stats.plaintext_bytes[d], whole.plain[d].n);
			assert_int_equal(whole.stats.encrypted_bytes[d], 0);
			assert_int_equal(whole.stats.lost_bytes[d], 0);
			assert_true(whole.stats.records[d] >= 3);
		}
		check_meta(&fx, fixtures[i], &whole.meta, true);
		for (int how = 0; how < 4; how++) {
			tt_run_fixture(&fx, kl, how ? TT_RANDOM : TT_BYTES, (uint64_t)how * 1000003,
				       &r);
			check_plaintext(&fx, &r);
			if (strcmp((char *)r.log.p, (char *)whole.log.p))
				fail_msg("%s: chunking %d changed the callbacks:\n%s\n--- whole:\n%s",
					 fixtures[i], how, (char *)r.log.p, (char *)whole.log.p);
			tt_rec_free(&r);
		}
		tt_rec_free(&whole);
		tls_keylog_free(kl);
		tt_fixture_free(&fx);
	}
}

static void without_keys_the_metadata_is_the_same_and_nothing_decrypts(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFIXTURES; i++) {
		struct tt_fixture fx;
		struct tt_rec r;
		tt_fixture_load(&fx, fixtures[i]);
		tt_run_fixture(&fx, NULL, TT_RANDOM, 99, &r);
		assert_int_equal(r.plain[0].n + r.plain[1].n, 0);
		assert_true(r.stats.encrypted_bytes[TLS_DIR_TO_CLIENT] > tt_fixture_get(&fx, 's').n);
		assert_int_equal(r.stats.plaintext_bytes[TLS_DIR_TO_CLIENT], 0);
		assert_int_equal(r.metas, 1);
		assert_int_equal(r.meta.decrypt, TLS_DECRYPT_NO_KEYLOG);
		check_no_anomaly(fixtures[i], &r);
		check_meta(&fx, fixtures[i], &r.meta, false);
		tt_rec_free(&r);
		tt_fixture_free(&fx);
	}
}

static void the_stls_fixture_starts_tls_after_cleartext(void **state)
{
	(void)state;
	struct tt_fixture fx;
	tt_fixture_load(&fx, "tls13-stls");
	struct tt_entry a = tt_fixture_get(&fx, 'A');
	assert_non_null(a.p);
	assert_memory_equal(a.p, "STLS\r\n", 6);
	/* The layer is created when the upgrade is agreed and sees the TLS
	   octets only (tt_feed_fixture never feeds A/B): that is the contract. */
	struct tls_keylog *kl = tt_fixture_keys(&fx);
	struct tt_rec r;
	tt_run_fixture(&fx, kl, TT_BYTES, 0, &r);
	check_plaintext(&fx, &r);
	tt_rec_free(&r);
	/* Fed the cleartext too, the layer says it is not TLS. */
	struct tls_sink sink = tt_sink(&r);
	struct tls_stream *s = tls_stream_new(kl, &sink, 0);
	tls_stream_data(s, TLS_DIR_TO_SERVER, a.p, a.n);
	tls_stream_end(s);
	tls_stream_free(s);
	assert_int_equal(r.anomalies[TLS_ANOM_NOT_TLS], 1);
	tt_rec_free(&r);
	tls_keylog_free(kl);
	tt_fixture_free(&fx);
}

/* Runs entries of the fixture in the given order (indexes), whole. */
static void run_order(const struct tt_fixture *fx, const struct tls_keylog *kl,
		      const struct tt_entry *e, size_t n, struct tt_rec *r)
{
	struct tls_sink sink = tt_sink(r);
	struct tls_stream *s = tls_stream_new(kl, &sink, 0);
	for (size_t i = 0; i < n; i++)
		if (e[i].tag == 'C' || e[i].tag == 'S')
			tls_stream_data(s, e[i].tag == 'C' ? TLS_DIR_TO_SERVER : TLS_DIR_TO_CLIENT,
					e[i].p, e[i].n);
	tls_stream_end(s);
	tls_stream_free(s);
	check_plaintext(fx, r);
}

static void rejected_early_data_is_reported_and_skipped_before_or_after_the_hello(void **state)
{
	(void)state;
	struct tt_fixture fx;
	tt_fixture_load(&fx, "tls13-early-data");
	struct tls_keylog *kl = tt_fixture_keys(&fx);
	struct tt_rec r;
	/* As captured: the 0-RTT record right after the ClientHello. */
	run_order(&fx, kl, fx.e, fx.count, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_EARLY_DATA], 1);
	assert_int_equal(r.anomalies[TLS_ANOM_BAD_RECORD_MAC], 0);
	assert_true(r.meta.early_data_offered);
	assert_int_equal(r.meta.resumption, TLS_RESUME_PSK);
	tt_rec_free(&r);
	/* Delayed past the ServerHello: then it meets the handshake keys. */
	const struct tt_entry *c = &fx.e[0];
	assert_int_equal(c->tag, 'C');
	size_t ch = 5 + ((size_t)c->p[3] << 8 | c->p[4]);
	ch += 6; /* the ChangeCipherSpec that follows it */
	assert_true(c->n > ch && c->p[ch] == 23);
	struct tt_entry *order = calloc(fx.count + 1, sizeof(*order));
	order[0] = (struct tt_entry){ 'C', c->p, ch };
	order[1] = fx.e[1];
	order[2] = (struct tt_entry){ 'C', c->p + ch, c->n - ch };
	memcpy(order + 3, fx.e + 2, (fx.count - 2) * sizeof(*order));
	run_order(&fx, kl, order, fx.count + 1, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_EARLY_DATA], 1);
	assert_int_equal(r.anomalies[TLS_ANOM_BAD_RECORD_MAC], 0);
	tt_rec_free(&r);
	free(order);
	tls_keylog_free(kl);
	tt_fixture_free(&fx);
}

/* The length field of the record whose header is at w[off]. */
static size_t record_len(const uint8_t *w, size_t off)
{
	return (size_t)w[off + 3] << 8 | w[off + 4];
}

/* The record boundaries of direction dir's wire octets (offsets of headers). */
static size_t record_starts(const uint8_t *w, size_t n, size_t *starts, size_t max)
{
	size_t k = 0, off = 0;
	while (off + 5 <= n && k < max) {
		starts[k++] = off;
		off += 5 + record_len(w, off);
	}
	return k;
}

/* The fixture's wire octets of one direction, concatenated. */
static uint8_t *wire_of(const struct tt_fixture *fx, char tag, size_t *n)
{
	struct tt_buf b = { 0 };
	for (size_t i = 0; i < fx->count; i++)
		if (fx->e[i].tag == tag)
			tt_put(&b, fx->e[i].p, fx->e[i].n);
	*n = b.n;
	return b.p;
}

/*
 * Feeds the fixture with octets [from, to) of the server's stream replaced:
 * by a gap when flip is false, else left in with one octet flipped at from.
 */
static void run_damaged(const struct tt_fixture *fx, const struct tls_keylog *kl, size_t from,
			size_t to, bool flip, enum tt_chunking how, struct tt_rec *r)
{
	struct tls_sink sink = tt_sink(r);
	struct tls_stream *s = tls_stream_new(kl, &sink, 0);
	uint64_t rng = 12345, off = 0;
	for (size_t i = 0; i < fx->count; i++) {
		const struct tt_entry *e = &fx->e[i];
		if (e->tag == 'C')
			tt_feed(s, TLS_DIR_TO_SERVER, e->p, e->n, how, &rng);
		if (e->tag != 'S')
			continue;
		uint8_t *copy = malloc(e->n);
		memcpy(copy, e->p, e->n);
		size_t a = from > off ? from - off : 0, b = to > off ? to - off : 0;
		a = a < e->n ? a : e->n;
		b = b < e->n ? b : e->n;
		if (flip && from >= off && from < off + e->n)
			copy[from - off] ^= 0x40;
		if (flip || a == b) {
			tt_feed(s, TLS_DIR_TO_CLIENT, copy, e->n, how, &rng);
		} else {
			tt_feed(s, TLS_DIR_TO_CLIENT, copy, a, how, &rng);
			tls_stream_gap(s, TLS_DIR_TO_CLIENT, b - a);
			tt_feed(s, TLS_DIR_TO_CLIENT, copy + b, e->n - b, how, &rng);
		}
		free(copy);
		off += e->n;
	}
	tls_stream_end(s);
	tls_stream_stats(s, &r->stats);
	tls_stream_free(s);
}

/*
 * The server's plaintext must be the sent one with one hole: a prefix, then
 * a suffix, the hole at most `max_hole` octets, reported by the gap callback.
 */
static void check_one_hole(const struct tt_fixture *fx, const struct tt_rec *r, size_t max_hole,
			   const char *what)
{
	struct tt_entry s = tt_fixture_get(fx, 's');
	const struct tt_buf *got = &r->plain[TLS_DIR_TO_CLIENT];
	size_t x = 0;
	while (x < got->n && x < s.n && got->p[x] == s.p[x])
		x++;
	size_t tail = got->n - x;
	assert_true(tail <= s.n - x);
	if (tail == 0)
		fail_msg("%s: nothing after the hole was decrypted", what);
	if (memcmp(got->p + x, s.p + s.n - tail, tail))
		fail_msg("%s: after the hole the plaintext is not the sent one", what);
	size_t hole = s.n - got->n;
	if (hole == 0 || hole > max_hole)
		fail_msg("%s: hole of %zu octets (at most %zu)", what, hole, max_hole);
	if (r->gaps[TLS_DIR_TO_CLIENT] < hole)
		fail_msg("%s: gap told %llu < %zu", what,
			 (unsigned long long)r->gaps[TLS_DIR_TO_CLIENT], hole);
	/* The client's side never suffers. */
	struct tt_entry c = tt_fixture_get(fx, 'c');
	assert_int_equal(r->plain[TLS_DIR_TO_SERVER].n, c.n);
}

static const char *const damaged[] = { "tls13-chacha20", "tls12-aes128gcm", "tls12-cbc-sha1",
				       "tls10-cbc-sha1-etm" };
#define NDAMAGED (sizeof(damaged) / sizeof(damaged[0]))

/* One damage case: a fixture, its keys, the server's wire octets and records. */
struct dcase {
	struct tt_fixture fx;
	struct tls_keylog *kl;
	uint8_t *w;
	size_t n, k, big; /* octets, records, the largest record (the RETR reply's first) */
	size_t starts[256];
};

static void dcase_open(struct dcase *d, const char *name)
{
	tt_fixture_load(&d->fx, name);
	d->kl = tt_fixture_keys(&d->fx);
	d->w = wire_of(&d->fx, 'S', &d->n);
	d->k = record_starts(d->w, d->n, d->starts, 256);
	d->big = 0;
	for (size_t i = 0; i < d->k; i++)
		if (record_len(d->w, d->starts[i]) > record_len(d->w, d->starts[d->big]))
			d->big = i;
}

static void dcase_close(struct dcase *d)
{
	free(d->w);
	tls_keylog_free(d->kl);
	tt_fixture_free(&d->fx);
}

/* Damages octets [from, to) of case d (see run_damaged), whole and one octet at a time. */
static void run_both(struct dcase *d, size_t from, size_t to, bool flip, struct tt_rec r[2])
{
	for (int how = 0; how < 2; how++)
		run_damaged(&d->fx, d->kl, from, to, flip, how ? TT_BYTES : TT_WHOLE, &r[how]);
}

static void a_flipped_octet_costs_one_record(void **state)
{
	(void)state;
	for (size_t i = 0; i < NDAMAGED; i++) {
		struct dcase d;
		struct tt_rec r[2];
		dcase_open(&d, damaged[i]);
		run_both(&d, d.starts[d.big] + 100, 0, true, r);
		for (int how = 0; how < 2; how++) {
			assert_int_equal(r[how].anomalies[TLS_ANOM_BAD_RECORD_MAC], 1);
			/* TLS 1.0 CBC: the next record's IV is the broken one's last block. */
			check_one_hole(&d.fx, &r[how], 16384, damaged[i]);
			tt_rec_free(&r[how]);
		}
		dcase_close(&d);
	}
}

static void a_gap_inside_a_record_costs_that_record(void **state)
{
	(void)state;
	for (size_t i = 0; i < NDAMAGED; i++) {
		struct dcase d;
		struct tt_rec r;
		dcase_open(&d, damaged[i]);
		size_t at = d.starts[d.big];
		run_damaged(&d.fx, d.kl, at + 200, at + 1648, false, TT_RANDOM, &r);
		assert_int_equal(r.anomalies[TLS_ANOM_GAP], 1);
		assert_int_equal(r.stats.lost_bytes[TLS_DIR_TO_CLIENT], 1648 - 200);
		assert_int_equal(r.anomalies[TLS_ANOM_RESYNC], 0); /* framing never lost */
		assert_int_equal(r.anomalies[TLS_ANOM_BAD_RECORD_MAC], 0);
		/* TLS 1.0 CBC loses the next record too: its IV was the lost one's
		   last block. */
		check_one_hole(&d.fx, &r, 2 * 16384, damaged[i]);
		tt_rec_free(&r);
		dcase_close(&d);
	}
}

static void a_gap_hiding_record_headers_costs_the_records_it_touches(void **state)
{
	(void)state;
	for (size_t i = 0; i < NDAMAGED; i++) {
		struct dcase d;
		struct tt_rec r[2];
		dcase_open(&d, damaged[i]);
		/* From inside the big record to 3 octets into the record after the
		   next: two headers lost, three records touched. */
		assert_true(d.big + 2 < d.k);
		run_both(&d, d.starts[d.big] + 300, d.starts[d.big + 2] + 3, false, r);
		for (int how = 0; how < 2; how++) {
			assert_int_equal(r[how].anomalies[TLS_ANOM_RESYNC], 1);
			assert_int_equal(r[how].anomalies[TLS_ANOM_DECRYPTION_LOST], 0);
			assert_int_equal(r[how].anomalies[TLS_ANOM_BAD_RECORD_MAC], 0);
			check_one_hole(&d.fx, &r[how], 4 * 16384, damaged[i]);
			tt_rec_free(&r[how]);
		}
		dcase_close(&d);
	}
}

/* Runs tests/tls/make-fixtures.py --big into a fresh directory; returns its fixture path. */
static char *make_big_fixture(char *dir)
{
	assert_non_null(mkdtemp(dir));
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "python3 tests/tls/make-fixtures.py --big %s >/dev/null", dir);
	int rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc) != 0)
		fail_msg("tests/tls/make-fixtures.py --big failed (%d)", rc);
	char *path = malloc(strlen(dir) + 16);
	sprintf(path, "%s/big.fx", dir);
	return path;
}

static void a_message_over_one_megabyte_decrypts_and_survives_a_gap(void **state)
{
	(void)state;
	char dir[] = "/tmp/popsift-tls-big-XXXXXX";
	char *path = make_big_fixture(dir);
	struct tt_fixture fx;
	tt_fixture_load_path(&fx, path);
	struct tt_entry s = tt_fixture_get(&fx, 's');
	assert_true(s.n > 1024 * 1024);
	struct tls_keylog *kl = tt_fixture_keys(&fx);
	struct tt_rec whole, r;
	tt_run_fixture(&fx, kl, TT_WHOLE, 0, &whole);
	check_plaintext(&fx, &whole);
	check_no_anomaly("big", &whole);
	tt_run_fixture(&fx, kl, TT_RANDOM, 4242, &r);
	check_plaintext(&fx, &r);
	assert_string_equal((char *)r.log.p, (char *)whole.log.p);
	tt_rec_free(&r);
	/* A 40 000-octet hole in the middle: headers lost, the stream goes on. */
	size_t n, starts[1024];
	uint8_t *w = wire_of(&fx, 'S', &n);
	size_t k = record_starts(w, n, starts, 1024);
	assert_true(k > 40);
	run_damaged(&fx, kl, starts[30] + 5000, starts[30] + 45000, false, TT_WHOLE, &r);
	assert_int_equal(r.anomalies[TLS_ANOM_RESYNC], 1);
	check_one_hole(&fx, &r, 45000 + 2 * 16384, "big");
	tt_rec_free(&r);
	free(w);
	tt_rec_free(&whole);
	tls_keylog_free(kl);
	tt_fixture_free(&fx);
	unlink(path);
	rmdir(dir);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_fixture_decrypts_exactly_in_every_chunking),
		cmocka_unit_test(without_keys_the_metadata_is_the_same_and_nothing_decrypts),
		cmocka_unit_test(the_stls_fixture_starts_tls_after_cleartext),
		cmocka_unit_test(rejected_early_data_is_reported_and_skipped_before_or_after_the_hello),
		cmocka_unit_test(a_flipped_octet_costs_one_record),
		cmocka_unit_test(a_gap_inside_a_record_costs_that_record),
		cmocka_unit_test(a_gap_hiding_record_headers_costs_the_records_it_touches),
		cmocka_unit_test(a_message_over_one_megabyte_decrypts_and_survives_a_gap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
