/*
 * test_tls_rfc8448.c - the TLS 1.3 key schedule and record decryption
 * against RFC 8448 §3 ("Simple 1-RTT Handshake"): the trace gives every
 * secret, key and IV and every record on the wire. The HKDF-Expand-Label of
 * src/tls/tls_kdf.c must derive the trace's keys from its secrets, and the
 * whole stream layer, given the trace's records and a key log built from its
 * traffic secrets, must decrypt the server's certificate, both 50-octet
 * application payloads (00 01 .. 31) and both close_notify alerts, in every
 * chunking.
 */
#include "tls_testlib.h"

#include "../../src/tls/tls_kdf.h"

/* RFC 8448 §3, the wire octets. */
static const char ch_record[] =
	"16 03 01 00 c4 01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2"
	"1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01"
	"00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00"
	"0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00"
	"23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e"
	"43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00"
	"03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06"
	"04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c"
	"00 02 40 01";

static const char sh_record[] =
	"16 03 03 00 5a 02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c"
	"d3 4c 95 93 0c 8a c5 cb 14 34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00"
	"2e 00 33 00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72"
	"e1 56 d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04";

/* EncryptedExtensions, Certificate, CertificateVerify, Finished. */
static const char flight_record[] =
	"17 03 03 02 a2 d1 ff 33 4a 56 f5 bf f6 59 4a 07 cc 87 b5 80 23 3f 50 0f"
	"45 e4 89 e7 f3 3a f3 5e df 78 69 fc f4 0a a4 0a a2 b8 ea 73 f8 48 a7 ca"
	"07 61 2e f9 f9 45 cb 96 0b 40 68 90 51 23 ea 78 b1 11 b4 29 ba 91 91 cd"
	"05 d2 a3 89 28 0f 52 61 34 aa dc 7f c7 8c 4b 72 9d f8 28 b5 ec f7 b1 3b"
	"d9 ae fb 0e 57 f2 71 58 5b 8e a9 bb 35 5c 7c 79 02 07 16 cf b9 b1 18 3e"
	"f3 ab 20 e3 7d 57 a6 b9 d7 47 76 09 ae e6 e1 22 a4 cf 51 42 73 25 25 0c"
	"7d 0e 50 92 89 44 4c 9b 3a 64 8f 1d 71 03 5d 2e d6 5b 0e 3c dd 0c ba e8"
	"bf 2d 0b 22 78 12 cb b3 60 98 72 55 cc 74 41 10 c4 53 ba a4 fc d6 10 92"
	"8d 80 98 10 e4 b7 ed 1a 8f d9 91 f0 6a a6 24 82 04 79 7e 36 a6 a7 3b 70"
	"a2 55 9c 09 ea d6 86 94 5b a2 46 ab 66 e5 ed d8 04 4b 4c 6d e3 fc f2 a8"
	"94 41 ac 66 27 2f d8 fb 33 0e f8 19 05 79 b3 68 45 96 c9 60 bd 59 6e ea"
	"52 0a 56 a8 d6 50 f5 63 aa d2 74 09 96 0d ca 63 d3 e6 88 61 1e a5 e2 2f"
	"44 15 cf 95 38 d5 1a 20 0c 27 03 42 72 96 8a 26 4e d6 54 0c 84 83 8d 89"
	"f7 2c 24 46 1a ad 6d 26 f5 9e ca ba 9a cb bb 31 7b 66 d9 02 f4 f2 92 a3"
	"6a c1 b6 39 c6 37 ce 34 31 17 b6 59 62 22 45 31 7b 49 ee da 0c 62 58 f1"
	"00 d7 d9 61 ff b1 38 64 7e 92 ea 33 0f ae ea 6d fa 31 c7 a8 4d c3 bd 7e"
	"1b 7a 6c 71 78 af 36 87 90 18 e3 f2 52 10 7f 24 3d 24 3d c7 33 9d 56 84"
	"c8 b0 37 8b f3 02 44 da 8c 87 c8 43 f5 e5 6e b4 c5 e8 28 0a 2b 48 05 2c"
	"f9 3b 16 49 9a 66 db 7c ca 71 e4 59 94 26 f7 d4 61 e6 6f 99 88 2b d8 9f"
	"c5 08 00 be cc a6 2d 6c 74 11 6d bd 29 72 fd a1 fa 80 f8 5d f8 81 ed be"
	"5a 37 66 89 36 b3 35 58 3b 59 91 86 dc 5c 69 18 a3 96 fa 48 a1 81 d6 b6"
	"fa 4f 9d 62 d5 13 af bb 99 2f 2b 99 2f 67 f8 af e6 7f 76 91 3f a3 88 cb"
	"56 30 c8 ca 01 e0 c6 5d 11 c6 6a 1e 2a c4 c8 59 77 b7 c7 a6 99 9b bf 10"
	"dc 35 ae 69 f5 51 56 14 63 6c 0b 9b 68 c1 9e d2 e3 1c 0b 3b 66 76 30 38"
	"eb ba 42 f3 b3 8e dc 03 99 f3 a9 f2 3f aa 63 97 8c 31 7f c9 fa 66 a7 3f"
	"60 f0 50 4d e9 3b 5b 84 5e 27 55 92 c1 23 35 ee 34 0b bc 4f dd d5 02 78"
	"40 16 e4 b3 be 7e f0 4d da 49 f4 b4 40 a3 0c b5 d2 af 93 98 28 fd 4a e3"
	"79 4e 44 f9 4d f5 a6 31 ed e4 2c 17 19 bf da bf 02 53 fe 51 75 be 89 8e"
	"75 0e dc 53 37 0d 2b";

static const char client_finished_record[] =
	"17 03 03 00 35 75 ec 4d c2 38 cc e6 0b 29 80 44 a7 1e 21 9c 56 cc 77 b0"
	"51 7f e9 b9 3c 7a 4b fc 44 d8 7f 38 f8 03 38 ac 98 fc 46 de b3 84 bd 1c"
	"ae ac ab 68 67 d7 26 c4 05 46";

static const char ticket_record[] =
	"17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24"
	"0e 6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a"
	"01 59 40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1"
	"70 ad 3c 73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0"
	"9c 30 ba 1e 62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15"
	"13 98 91 d5 e4 c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77"
	"f8 1b 5a b0 5b 94 c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3"
	"47 d1 43 f9 60 5d 64 f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74"
	"bc 26 97 68 7e 24 87 46 d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b"
	"3b 6c 67 79 b3 7b f1 59 85 68 4f";

static const char client_app_record[] =
	"17 03 03 00 43 a2 3f 70 54 b6 2c 94 d0 af fa fe 82 28 ba 55 cb ef ac ea"
	"42 f9 14 aa 66 bc ab 3f 2b 98 19 a8 a5 b4 6b 39 5b d5 4a 9a 20 44 1e 2b"
	"62 97 4e 1f 5a 62 92 a2 97 70 14 bd 1e 3d ea e6 3a ee bb 21 69 49 15 e4";

static const char server_app_record[] =
	"17 03 03 00 43 2e 93 7e 11 ef 4a c7 40 e5 38 ad 36 00 5f c4 a4 69 32 fc"
	"32 25 d0 5f 82 aa 1b 36 e3 0e fa f9 7d 90 e6 df fc 60 2d cb 50 1a 59 a8"
	"fc c4 9c 4b f2 e5 f0 a2 1c 00 47 c2 ab f3 32 54 0d d0 32 e1 67 c2 95 5d";

static const char client_alert_record[] =
	"17 03 03 00 13 c9 87 27 60 65 56 66 b7 4d 7f f1 15 3e fd 6d b6 d0 b0 e3";
static const char server_alert_record[] =
	"17 03 03 00 13 b5 8f d6 71 66 eb f5 99 d2 47 20 cf be 7e fa 7a 88 64 a9";

/* RFC 8448 §3, the secrets, as a key log under the ClientHello's random. */
static const char keylog[] =
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET "
	"cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\n"
	"SERVER_HANDSHAKE_TRAFFIC_SECRET "
	"cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
	"CLIENT_TRAFFIC_SECRET_0 "
	"cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n"
	"SERVER_TRAFFIC_SECRET_0 "
	"cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7 "
	"a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n";

/* HKDF-Expand-Label(secret, label, context, len) == want. */
static void check_label(const char *secret_hex, const char *label, const char *ctx_hex,
			const char *want_hex)
{
	size_t slen, clen, wlen;
	uint8_t *secret = tt_unhex(secret_hex, &slen);
	uint8_t *ctx = tt_unhex(ctx_hex, &clen);
	uint8_t *want = tt_unhex(want_hex, &wlen);
	uint8_t out[64];
	assert_true(tls_hkdf_expand_label(TLS_HASH_SHA256, secret, slen, label, ctx, clen, out,
					  wlen));
	assert_memory_equal(out, want, wlen);
	free(secret);
	free(ctx);
	free(want);
}

static void hkdf_expand_label_gives_the_traffic_keys_of_the_trace(void **state)
{
	(void)state;
	const char *s_hs = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
	const char *c_hs = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
	const char *s_ap = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
	const char *c_ap = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
	check_label(s_hs, "key", "", "3fce516009c21727d0f2e4e86ee403bc");
	check_label(s_hs, "iv", "", "5d313eb2671276ee13000b30");
	check_label(c_hs, "key", "", "dbfaa693d1762c5b666af5d950258d01");
	check_label(c_hs, "iv", "", "5bd3c71b836e0b76bb73265f");
	check_label(s_ap, "key", "", "9f02283b6c9c07efc26bb9f2ac92e356");
	check_label(s_ap, "iv", "", "cf782b88dd83549aadf1e984");
	check_label(c_ap, "key", "", "17422dda596ed5d9acd890e3c63f5051");
	check_label(c_ap, "iv", "", "5b78923dee08579033e523d9");
	check_label(s_hs, "finished", "",
		    "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8");
}

static void hkdf_expand_label_takes_a_context_the_way_derive_secret_needs(void **state)
{
	(void)state;
	/* Derive-Secret(early, "derived", "") and the client handshake secret. */
	check_label("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a", "derived",
		    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		    "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
	check_label("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
		    "c hs traffic",
		    "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8",
		    "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21");
}

/* Feeds the trace in its order, cut as `how` says. */
static void run_trace(struct tls_keylog *kl, enum tt_chunking how, uint64_t seed,
		      struct tt_rec *r)
{
	static const struct {
		enum tls_dir dir;
		const char *hex;
	} steps[] = {
		{ TLS_DIR_TO_SERVER, ch_record },	      { TLS_DIR_TO_CLIENT, sh_record },
		{ TLS_DIR_TO_CLIENT, flight_record },	      { TLS_DIR_TO_SERVER, client_finished_record },
		{ TLS_DIR_TO_CLIENT, ticket_record },	      { TLS_DIR_TO_SERVER, client_app_record },
		{ TLS_DIR_TO_CLIENT, server_app_record },     { TLS_DIR_TO_SERVER, client_alert_record },
		{ TLS_DIR_TO_CLIENT, server_alert_record },
	};
	struct tls_sink sink = tt_sink(r);
	struct tls_stream *s = tls_stream_new(kl, &sink, 0);
	uint64_t rng = seed | 1;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		size_t n;
		uint8_t *p = tt_unhex(steps[i].hex, &n);
		tt_feed(s, steps[i].dir, p, n, how, &rng);
		free(p);
	}
	tls_stream_end(s);
	r->final = *tls_stream_meta(s);
	tls_stream_free(s);
}

static void check_decrypted_trace(const struct tt_rec *r)
{
	uint8_t payload[50];
	for (int i = 0; i < 50; i++)
		payload[i] = (uint8_t)i;
	for (int d = 0; d < TLS_DIR_COUNT; d++) {
		assert_int_equal(r->plain[d].n, 50);
		assert_memory_equal(r->plain[d].p, payload, 50);
	}
	assert_int_equal(r->metas, 1);
	assert_false(r->plain_before_meta);
	const struct tls_meta *m = &r->meta;
	assert_int_equal(m->version, 0x0304);
	assert_int_equal(m->cipher_suite, 0x1301);
	assert_string_equal(m->cipher_suite_name, "TLS_AES_128_GCM_SHA256");
	assert_int_equal(m->decrypt, TLS_DECRYPT_ACTIVE);
	assert_true(m->sni_present);
	assert_int_equal(m->sni_len, 6);
	assert_memory_equal(m->sni, "server", 6);
	assert_int_equal(m->cert_status, TLS_CERT_PARSED);
	assert_string_equal(m->cert.subject, "CN=rsa");
	assert_string_equal(m->cert.issuer, "CN=rsa");
	assert_string_equal(m->cert.serial, "02");
	assert_int_equal(m->cert.not_before, 1469841839); /* 2016-07-30 01:23:59 UTC */
	assert_int_equal(m->cert.not_after, 1785374639);  /* 2026-07-30 01:23:59 UTC */
	assert_int_equal(m->cert.chain_length, 1);
	/* The ticket comes after the handshake: in the final metadata only. */
	assert_false(m->ticket_issued);
	assert_true(r->final.ticket_issued);
	assert_false(m->resumed);
	assert_int_equal(r->alerts, 2); /* close_notify each way */
	assert_int_equal(r->last_alert[0], 1);
	assert_int_equal(r->last_alert[1], 0);
	for (int a = 0; a < TLS_ANOM_COUNT; a++)
		if (r->anomalies[a])
			fail_msg("anomaly %s", tls_anomaly_id((enum tls_anomaly)a));
}

static void the_trace_decrypts_in_every_chunking(void **state)
{
	(void)state;
	struct tls_keylog *kl = tls_keylog_new();
	tls_keylog_add_text(kl, keylog, strlen(keylog));
	struct tt_rec whole, r;
	run_trace(kl, TT_WHOLE, 0, &whole);
	check_decrypted_trace(&whole);
	run_trace(kl, TT_BYTES, 0, &r);
	check_decrypted_trace(&r);
	assert_string_equal((char *)r.log.p, (char *)whole.log.p);
	tt_rec_free(&r);
	for (uint64_t seed = 1; seed <= 20; seed++) {
		run_trace(kl, TT_RANDOM, seed * 7919, &r);
		check_decrypted_trace(&r);
		assert_string_equal((char *)r.log.p, (char *)whole.log.p);
		tt_rec_free(&r);
	}
	tt_rec_free(&whole);
	tls_keylog_free(kl);
}

static void without_keys_the_certificate_is_encrypted_and_nothing_is_decrypted(void **state)
{
	(void)state;
	struct tt_rec r;
	run_trace(NULL, TT_WHOLE, 0, &r);
	assert_int_equal(r.metas, 1);
	assert_int_equal(r.meta.cert_status, TLS_CERT_ENCRYPTED);
	assert_int_equal(r.meta.decrypt, TLS_DECRYPT_NO_KEYLOG);
	assert_int_equal(r.meta.version, 0x0304);
	assert_int_equal(r.plain[0].n + r.plain[1].n, 0);
	assert_int_equal(r.alerts, 0);
	tt_rec_free(&r);
}

static void a_key_log_without_this_session_leaves_it_encrypted(void **state)
{
	(void)state;
	struct tls_keylog *kl = tls_keylog_new();
	const char other[] = "CLIENT_RANDOM "
			     "0000000000000000000000000000000000000000000000000000000000000000 "
			     "000000000000000000000000000000000000000000000000"
			     "000000000000000000000000000000000000000000000000\n";
	tls_keylog_add_text(kl, other, strlen(other));
	struct tt_rec r;
	run_trace(kl, TT_WHOLE, 0, &r);
	assert_int_equal(r.meta.decrypt, TLS_DECRYPT_NO_KEYS);
	assert_int_equal(r.meta.cert_status, TLS_CERT_ENCRYPTED);
	assert_int_equal(r.plain[0].n + r.plain[1].n, 0);
	tt_rec_free(&r);
	tls_keylog_free(kl);
}

static void a_wrong_secret_is_an_authentication_anomaly_not_a_crash(void **state)
{
	(void)state;
	char bad[sizeof(keylog)];
	memcpy(bad, keylog, sizeof(keylog));
	/* Flip one digit of the server handshake secret. */
	char *p = strstr(bad, "b67b7d69");
	assert_non_null(p);
	p[0] = 'c';
	struct tls_keylog *kl = tls_keylog_new();
	tls_keylog_add_text(kl, bad, strlen(bad));
	struct tt_rec r;
	run_trace(kl, TT_WHOLE, 0, &r);
	assert_true(r.anomalies[TLS_ANOM_BAD_RECORD_MAC] >= 1);
	assert_int_equal(r.plain[TLS_DIR_TO_CLIENT].n, 0);
	assert_int_equal(r.meta.cert_status, TLS_CERT_NONE);
	tt_rec_free(&r);
	tls_keylog_free(kl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hkdf_expand_label_gives_the_traffic_keys_of_the_trace),
		cmocka_unit_test(hkdf_expand_label_takes_a_context_the_way_derive_secret_needs),
		cmocka_unit_test(the_trace_decrypts_in_every_chunking),
		cmocka_unit_test(without_keys_the_certificate_is_encrypted_and_nothing_is_decrypted),
		cmocka_unit_test(a_key_log_without_this_session_leaves_it_encrypted),
		cmocka_unit_test(a_wrong_secret_is_an_authentication_anomaly_not_a_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
