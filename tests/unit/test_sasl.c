/*
 * test_sasl.c - the SASL mechanisms (dissectors/sasl*.c), driven through the
 * POP3 dissector with scripted AUTH exchanges. Every script runs in every
 * chunking (evlog.c), so each test also proves chunk-boundary safety.
 *
 * Each exchange is built from a KNOWN password with libcrypto, and each
 * cracking line popsift writes is proved by parsing its fields back out and
 * recomputing the mechanism's proof from the password: CRAM-MD5 (HMAC-MD5),
 * DIGEST-MD5 (RFC 2831 response), NetNTLMv1 (DESL), NetNTLMv2 (NTProofStr),
 * SCRAM (ClientProof XOR ClientSignature == ClientKey) and Kerberoast
 * (RC4-HMAC checksum). MD4, DES and RC4 come from OpenSSL's legacy provider;
 * without it those checks fall back to MS-NLMP test-vector constants or skip
 * with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/provider.h>

#include "evlog.h"

#define RUN(steps) evlog_run(&pop3_dissector, steps, sizeof(steps) / sizeof(steps[0]), 0)

static OSSL_PROVIDER *prov_legacy, *prov_default;

/* ---- helpers: encodings --------------------------------------------------- */

static char *b64(const void *p, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1);
	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Decodes base64 text s[0..n) into out; returns the decoded length. */
static size_t unb64(const char *s, size_t n, uint8_t *out)
{
	size_t pad = (n > 0 && s[n - 1] == '=') + (n > 1 && s[n - 2] == '=');
	int len = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	assert_true(len >= 0);
	return (size_t)len - pad;
}

static void tohex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = 0;
}

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* ASCII to UTF-16LE; returns the byte length. */
static size_t utf16(const char *s, uint8_t *out)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = (uint8_t)s[i];
		out[2 * i + 1] = 0;
	}
	return 2 * n;
}

static void md5(const void *p, size_t n, uint8_t out[16])
{
	assert_int_equal(EVP_Digest(p, n, out, NULL, EVP_md5(), NULL), 1);
}

static void hmac_md5(const void *k, size_t kn, const void *p, size_t n, uint8_t out[16])
{
	unsigned len = 0;
	assert_non_null(HMAC(EVP_md5(), k, (int)kn, p, n, out, &len));
	assert_int_equal(len, 16);
}

/* MD4 from the legacy provider; false when it is unavailable. */
static bool md4(const void *p, size_t n, uint8_t out[16])
{
	EVP_MD *m = EVP_MD_fetch(NULL, "MD4", "provider=legacy");
	if (!m)
		return false;
	bool ok = EVP_Digest(p, n, out, NULL, m, NULL) == 1;
	EVP_MD_free(m);
	return ok;
}

/* One block of a legacy-provider cipher (DES-ECB or RC4) over in[0..n). */
static bool legacy_crypt(const char *alg, const uint8_t *key, const uint8_t *in, size_t n,
			 uint8_t *out)
{
	EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, alg, "provider=legacy");
	if (!c)
		return false;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0;
	bool ok = EVP_EncryptInit_ex(ctx, c, NULL, key, NULL) == 1 &&
		  EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
		  EVP_EncryptUpdate(ctx, out, &l1, in, (int)n) == 1 &&
		  EVP_EncryptFinal_ex(ctx, out + l1, &l2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(c);
	return ok && (size_t)(l1 + l2) == n;
}

/* ---- helpers: scripts built at run time ----------------------------------- */

#define SC_MAX 64

struct script {
	struct step st[SC_MAX];
	char *own[SC_MAX];
	size_t n;
};

__attribute__((format(printf, 3, 4))) static void sc_add(struct script *sc, enum dir d,
							  const char *fmt, ...)
{
	assert_true(sc->n < SC_MAX);
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	sc->own[sc->n] = s;
	sc->st[sc->n] = (struct step){ d, s, strlen(s) };
	sc->n++;
}

#define SC_C(sc, ...) sc_add(sc, DIR_TO_SERVER, __VA_ARGS__)
#define SC_S(sc, ...) sc_add(sc, DIR_TO_CLIENT, __VA_ARGS__)

/* Client line "<base64 of p[0..n)>\r\n". */
static void sc_c64(struct script *sc, const void *p, size_t n)
{
	char *t = b64(p, n);
	SC_C(sc, "%s\r\n", t);
	free(t);
}

/* Server line "+ <base64 of p[0..n)>\r\n". */
static void sc_s64(struct script *sc, const void *p, size_t n)
{
	char *t = b64(p, n);
	SC_S(sc, "+ %s\r\n", t);
	free(t);
}

static char *sc_run(struct script *sc)
{
	char *log = evlog_run(&pop3_dissector, sc->st, sc->n, 0);
	for (size_t i = 0; i < sc->n; i++)
		free(sc->own[i]);
	sc->n = 0;
	return log;
}

/* The hash= value of the nth (from 0) auth line of a log; caller frees. */
static char *log_hash(const char *log, int nth)
{
	const char *line = log;
	for (;;) {
		line = strstr(line, "auth mech=");
		assert_non_null(line);
		if (nth-- == 0)
			break;
		line++;
	}
	const char *eol = strchr(line, '\n');
	const char *h = strstr(line, " hash=");
	if (!h || h > eol)
		fail_msg("no hash in line: %.*s", (int)(eol - line), line);
	h += 6;
	const char *end = strstr(h, " hash_format=");
	assert_non_null(end);
	return strndup(h, (size_t)(end - h));
}

/* Splits s in place at each `sep`; returns the number of fields. */
static int split(char *s, char sep, char **f, int max)
{
	int n = 0;
	f[n++] = s;
	for (char *p = s; *p && n < max; p++) {
		if (*p == sep) {
			*p = 0;
			f[n++] = p + 1;
		}
	}
	return n;
}

/* ---- PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, EXTERNAL, ANONYMOUS --------------- */

static void plain_reports_authzid_user_and_password(void **unused)
{
	(void)unused;
	struct script sc = { 0 };
	static const char creds[] = "admin\0tim\0tanstaaftanstaaf";
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH PLAIN\r\n");
	SC_S(&sc, "+ \r\n");
	sc_c64(&sc, creds, sizeof(creds) - 1);
	SC_S(&sc, "+OK welcome\r\n");
	char *log = sc_run(&sc);
	evlog_expect(log, "auth mech=PLAIN user=tim pass=tanstaaftanstaaf cleartext=1 result=success "
			  "reply=+OK welcome authzid=admin\n");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void login_takes_user_from_initial_response(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("AUTH LOGIN dGlt\r\n"), S("+ UGFzc3dvcmQ6\r\n"),
		C("dGFuc3RhYWY=\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=LOGIN user=tim pass=tanstaaf cleartext=1 result=success");
	free(log);
}

static void xoauth2_reveals_user_and_bearer_token_and_survives_error_flow(void **unused)
{
	(void)unused;
	struct script sc = { 0 };
	static const char ir[] = "user=someuser@example.com\1auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\1\1";
	static const char err[] = "{\"status\":\"401\",\"schemes\":\"bearer\",\"scope\":\"https://mail.google.com/\"}";
	char *t = b64(ir, sizeof(ir) - 1);
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH XOAUTH2 %s\r\n", t);
	sc_s64(&sc, err, sizeof(err) - 1);
	SC_C(&sc, "\r\n");
	SC_S(&sc, "-ERR [AUTH] invalid credentials\r\n");
	free(t);
	char *log = sc_run(&sc);
	evlog_expect(log, "auth mech=XOAUTH2 user=someuser@example.com pass=ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg cleartext=1 result=failure");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void oauthbearer_decodes_gs2_authzid_escapes_as_user(void **unused)
{
	(void)unused;
	struct script sc = { 0 };
	static const char ir[] = "n,a=us=2Cer=3Dx@example.com,\1host=server.example.com\1port=110\1auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\1\1";
	static const char err[] = "{\"status\":\"invalid_token\"}";
	char *t = b64(ir, sizeof(ir) - 1);
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH OAUTHBEARER %s\r\n", t);
	sc_s64(&sc, err, sizeof(err) - 1);
	SC_C(&sc, "AQ==\r\n"); /* ^A: the client acknowledges the error */
	SC_S(&sc, "-ERR\r\n");
	free(t);
	char *log = sc_run(&sc);
	evlog_expect(log, "auth mech=OAUTHBEARER user=us,er=x@example.com pass=vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg== cleartext=1 result=failure");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void oauthbearer_without_gs2_header_is_malformed_but_token_kept(void **unused)
{
	(void)unused;
	struct script sc = { 0 };
	static const char ir[] = "a=bob\1auth=Bearer x\1\1";
	char *t = b64(ir, sizeof(ir) - 1);
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH OAUTHBEARER %s\r\n", t);
	SC_S(&sc, "-ERR\r\n");
	free(t);
	char *log = sc_run(&sc);
	/* Reported once (not again by the token check), and the token is still revealed. */
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed dir=0"), 1);
	evlog_expect(log, "auth mech=OAUTHBEARER user= pass=x cleartext=1 result=failure");
	free(log);
}

static void external_and_anonymous_report_names_but_no_secret(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"),
		C("AUTH EXTERNAL =\r\n"), S("-ERR no certificate\r\n"),
		C("AUTH EXTERNAL Ym9i\r\n"), S("-ERR no certificate\r\n"),
		C("AUTH ANONYMOUS c2lyaGNAZXhhbXBsZS5jb20=\r\n"), S("+OK anonymous\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=EXTERNAL user= pass=- cleartext=0 result=failure reply=-ERR no certificate failure=credentials\n");
	evlog_expect(log, "auth mech=EXTERNAL user= pass=- cleartext=0 result=failure reply=-ERR no certificate authzid=bob failure=credentials\n");
	evlog_expect(log, "auth mech=ANONYMOUS user=sirhc@example.com pass=- cleartext=0 result=success");
	evlog_expect_not(log, "anomaly");
	free(log);
}

/* ---- CRAM-MD5 ---------------------------------------------------------------- */

/* Checks a $cram_md5$ line: the response's digest is HMAC-MD5(pass, challenge). */
static void cram_verify(const char *line, const char *user, const char *pass)
{
	char *copy = strdup(line), *f[5];
	assert_int_equal(split(copy, '$', f, 5), 4);
	assert_string_equal(f[1], "cram_md5");
	uint8_t chal[256], resp[256], mac[16];
	size_t cn = unb64(f[2], strlen(f[2]), chal);
	size_t rn = unb64(f[3], strlen(f[3]), resp);
	char want[300], hex[33];
	hmac_md5(pass, strlen(pass), chal, cn, mac);
	tohex(mac, 16, hex);
	snprintf(want, sizeof(want), "%s %s", user, hex);
	assert_int_equal(rn, strlen(want));
	assert_memory_equal(resp, want, rn);
	free(copy);
}

static void cram_md5_line_is_both_wire_strings_and_verifies(void **unused)
{
	(void)unused;
	/* RFC 2195 §2's example: tim / tanstaaftanstaaf. */
	static const char chal[] = "<1896.697170952@postoffice.reston.mci.net>";
	uint8_t mac[16];
	char hex[33], resp[64];
	hmac_md5("tanstaaftanstaaf", 16, chal, sizeof(chal) - 1, mac);
	tohex(mac, 16, hex);
	assert_string_equal(hex, "b913a602c7eda7a495b4e6e7334d3890");
	snprintf(resp, sizeof(resp), "tim %s", hex);
	char *c64 = b64(chal, sizeof(chal) - 1), *r64 = b64(resp, strlen(resp));
	struct script sc = { 0 };
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH CRAM-MD5\r\n");
	SC_S(&sc, "+ %s\r\n", c64);
	SC_C(&sc, "%s\r\n", r64);
	SC_S(&sc, "-ERR [AUTH] bad password\r\n"); /* a failed login keeps its material */
	char *log = sc_run(&sc);
	char want[512];
	snprintf(want, sizeof(want), "auth mech=CRAM-MD5 user=tim pass=- cleartext=0 result=failure "
		 "reply=-ERR [AUTH] bad password hash=$cram_md5$%s$%s hash_format=hashcat mode=10200 code=AUTH failure=credentials\n",
		 c64, r64);
	evlog_expect(log, want);
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	cram_verify(line, "tim", "tanstaaftanstaaf");
	free(line);
	free(log);
	free(c64);
	free(r64);
}

static void cram_md5_response_without_digest_is_malformed(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("AUTH CRAM-MD5\r\n"), S("+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n"),
		C("dGltIHh5eg==\r\n"), /* "tim xyz" */
		S("-ERR\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "anomaly sasl.malformed dir=0 sample=tim xyz\n");
	evlog_expect_not(log, "hash=");
	free(log);
}

/* ---- DIGEST-MD5 -------------------------------------------------------------- */

struct dmd5 {
	const char *user, *realm, *pass, *nonce, *cnonce, *nc, *qop, *uri, *authzid;
};

/* RFC 2831 §2.1.2.1 response (rspauth: §2.1.3, A2 without "AUTHENTICATE"). */
static void dmd5_compute(const struct dmd5 *d, bool rspauth, char out[33])
{
	char buf[1024], ha1[33], ha2[33];
	uint8_t h[16], a1[1024];
	snprintf(buf, sizeof(buf), "%s:%s:%s", d->user, d->realm, d->pass);
	md5(buf, strlen(buf), a1);
	int n = snprintf((char *)a1 + 16, sizeof(a1) - 16, ":%s:%s%s%s", d->nonce, d->cnonce,
			 d->authzid ? ":" : "", d->authzid ? d->authzid : "");
	md5(a1, 16 + (size_t)n, h);
	tohex(h, 16, ha1);
	bool layer = strcmp(d->qop, "auth") != 0;
	snprintf(buf, sizeof(buf), "%s:%s%s", rspauth ? "" : "AUTHENTICATE", d->uri,
		 layer ? ":00000000000000000000000000000000" : "");
	md5(buf, strlen(buf), h);
	tohex(h, 16, ha2);
	snprintf(buf, sizeof(buf), "%s:%s:%s:%s:%s:%s", ha1, d->nonce, d->nc, d->cnonce, d->qop, ha2);
	md5(buf, strlen(buf), h);
	tohex(h, 16, out);
}

/* Parses a $DIGEST-MD5$ line and checks its response against `pass`. */
static void dmd5_verify(const char *line, const char *pass, int want_fields)
{
	char *copy = strdup(line), *f[12];
	int n = split(copy, '$', f, 12);
	assert_int_equal(n, want_fields);
	assert_string_equal(f[1], "DIGEST-MD5");
	struct dmd5 d = { .user = f[2], .realm = f[3], .nonce = f[4], .uri = f[5], .cnonce = f[6],
			  .nc = f[7], .qop = f[8], .pass = pass, .authzid = n == 11 ? f[10] : NULL };
	char resp[33];
	dmd5_compute(&d, false, resp);
	assert_string_equal(resp, f[9]);
	free(copy);
}

static void digest_md5_test_helper_matches_rfc2831_example(void **unused)
{
	(void)unused;
	struct dmd5 d = { "chris", "elwood.innosoft.com", "secret", "OA6MG9tEQGm2hh",
			  "OA6MHXh6VqTrRk", "00000001", "auth", "imap/elwood.innosoft.com", NULL };
	char resp[33];
	dmd5_compute(&d, false, resp);
	assert_string_equal(resp, "d388dad90d4bbd760a152321f2143af7");
	dmd5_compute(&d, true, resp);
	assert_string_equal(resp, "ea40f60335c427b5527b84dbabcdfffd");
}

static void digest_md5_gives_john_line_that_verifies_and_rspauth_is_harmless(void **unused)
{
	(void)unused;
	struct dmd5 d = { "chris", "elwood.innosoft.com", "secret", "OA6MG9tEQGm2hh",
			  "OA6MHXh6VqTrRk", "00000001", "auth", "pop/elwood.innosoft.com", NULL };
	char resp[33], rsp[33], buf[1024];
	dmd5_compute(&d, false, resp);
	dmd5_compute(&d, true, rsp);
	struct script sc = { 0 };
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH DIGEST-MD5\r\n");
	snprintf(buf, sizeof(buf), "realm=\"elwood.innosoft.com\",nonce=\"OA6MG9tEQGm2hh\","
		 "qop=\"auth,auth-int,auth-conf\",cipher=\"3des,rc4\",maxbuf=2048,charset=utf-8,algorithm=md5-sess");
	sc_s64(&sc, buf, strlen(buf));
	snprintf(buf, sizeof(buf), "charset=utf-8,username=\"chris\",realm=\"elwood.innosoft.com\","
		 "nonce=\"OA6MG9tEQGm2hh\",nc=00000001,cnonce=\"OA6MHXh6VqTrRk\","
		 "digest-uri=\"pop/elwood.innosoft.com\",response=%s,qop=auth", resp);
	sc_c64(&sc, buf, strlen(buf));
	snprintf(buf, sizeof(buf), "rspauth=%s", rsp);
	sc_s64(&sc, buf, strlen(buf));
	SC_C(&sc, "\r\n");
	SC_S(&sc, "+OK maildrop locked\r\n");
	SC_C(&sc, "STAT\r\n");
	SC_S(&sc, "+OK 0 0\r\n");
	char *log = sc_run(&sc);
	snprintf(buf, sizeof(buf), "auth mech=DIGEST-MD5 user=chris pass=- cleartext=0 result=success "
		 "reply=+OK maildrop locked realm=elwood.innosoft.com hash=$DIGEST-MD5$chris$"
		 "elwood.innosoft.com$OA6MG9tEQGm2hh$pop/elwood.innosoft.com$OA6MHXh6VqTrRk$"
		 "00000001$auth$%s hash_format=john mode=-1\n", resp);
	evlog_expect(log, buf);
	evlog_expect(log, "state=TRANSACTION user=chris auth=1 sasl_layer=0");
	evlog_expect(log, "commands=2");
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	dmd5_verify(line, "secret", 10);
	free(line);
	free(log);
}

static void digest_md5_auth_conf_with_authzid_escapes_and_spaces_is_a_layer(void **unused)
{
	(void)unused;
	struct dmd5 d = { "ch\"ris", "elwood.innosoft.com", "s3cr3t!", "n0nce+/=", "cn0nce",
			  "00000001", "auth-conf", "pop/mail.example.com", "admin" };
	char resp[33], buf[1024];
	dmd5_compute(&d, false, resp);
	struct script sc = { 0 };
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH DIGEST-MD5\r\n");
	snprintf(buf, sizeof(buf), "nonce=\"n0nce+/=\", realm=\"elwood.innosoft.com\" , qop=\"auth-conf\","
		 "algorithm=md5-sess");
	sc_s64(&sc, buf, strlen(buf));
	snprintf(buf, sizeof(buf), " username = \"ch\\\"ris\" ,realm=\"elwood\\.innosoft.com\",,"
		 "nonce=\"n0nce+/=\",nc=00000001,cnonce=\"cn0nce\",digest-uri=\"pop/mail.example.com\","
		 "response=%s,qop=auth-conf,authzid=\"admin\",cipher=rc4 ", resp);
	sc_c64(&sc, buf, strlen(buf));
	SC_S(&sc, "+OK\r\n");
	SC_C(&sc, "garbage that is no longer text\r\n");
	char *log = sc_run(&sc);
	evlog_expect(log, "auth mech=DIGEST-MD5 user=ch\"ris pass=- cleartext=0 result=success reply=+OK "
			  "authzid=admin realm=elwood.innosoft.com hash=$DIGEST-MD5$ch\"ris$elwood.innosoft.com$"
			  "n0nce+/=$pop/mail.example.com$cn0nce$00000001$auth-conf$");
	evlog_expect(log, "state=SASL-LAYER user=ch\"ris auth=1 sasl_layer=1");
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	dmd5_verify(line, "s3cr3t!", 11);
	free(line);
	free(log);
}

static void digest_md5_truncated_or_garbage_is_malformed_without_crash(void **unused)
{
	(void)unused;
	struct script sc = { 0 };
	static const char trunc[] = "username=\"chris\",nonce=\"OA6MG9t";
	static const char noeq[] = "username\"chris\"";
	static const char junk[] = "\x01\x02\xff\xfe\"\\";
	static const char esc[] = "username=\"chris\\";
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH DIGEST-MD5\r\n");
	sc_s64(&sc, "realm=\"x", 8);
	sc_c64(&sc, trunc, sizeof(trunc) - 1);
	SC_S(&sc, "-ERR\r\n");
	SC_C(&sc, "AUTH DIGEST-MD5 ");
	SC_C(&sc, "%s\r\n", "dXNlcm5hbWU9ImNocmlzIg=="); /* username="chris": no response */
	SC_S(&sc, "-ERR\r\n");
	const char *bad[] = { noeq, junk, esc };
	size_t badn[] = { sizeof(noeq) - 1, sizeof(junk) - 1, sizeof(esc) - 1 };
	for (int i = 0; i < 3; i++) {
		char *t = b64(bad[i], badn[i]);
		SC_C(&sc, "AUTH DIGEST-MD5 %s\r\n", t);
		SC_S(&sc, "-ERR\r\n");
		free(t);
	}
	char *log = sc_run(&sc);
	evlog_expect(log, "anomaly sasl.malformed dir=1 sample=realm=\"x\n");
	evlog_expect(log, "anomaly sasl.malformed dir=0 sample=username=\"chris\",nonce=\"OA6MG9t\n");
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed"), 6);
	assert_int_equal(evlog_count(log, "auth mech=DIGEST-MD5 user=chris"), 2);
	assert_int_equal(evlog_count(log, "auth mech=DIGEST-MD5"), 5);
	evlog_expect_not(log, "hash=");
	free(log);
}

/* ---- NTLM ---------------------------------------------------------------------- */

/* MS-NLMP §4.2.1 common values. */
static const uint8_t ntlm_srvchal[8] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

struct blob {
	uint8_t p[4096];
	size_t n;
};

static void put(struct blob *b, const void *p, size_t n)
{
	assert_true(n <= sizeof(b->p) - b->n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_le(struct blob *b, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++) {
		uint8_t c = (uint8_t)(v >> (8 * i));
		put(b, &c, 1);
	}
}

static struct blob ntlm_type1(void)
{
	struct blob b = { .n = 0 };
	put(&b, "NTLMSSP\0", 8);
	put_le(&b, 1, 4);
	put_le(&b, 0xe2088297, 4);
	put(&b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	return b;
}

/* Type 2 with the given flags and target info (MS-NLMP §4.2.4.3 layout). */
static struct blob ntlm_type2(uint32_t flags, const struct blob *tinfo)
{
	struct blob b = { .n = 0 };
	uint8_t target[12];
	size_t tn = utf16("Server", target);
	put(&b, "NTLMSSP\0", 8);
	put_le(&b, 2, 4);
	put_le(&b, (uint32_t)tn, 2), put_le(&b, (uint32_t)tn, 2), put_le(&b, 56, 4);
	put_le(&b, flags, 4);
	put(&b, ntlm_srvchal, 8);
	put(&b, "\0\0\0\0\0\0\0\0", 8);
	put_le(&b, (uint32_t)tinfo->n, 2), put_le(&b, (uint32_t)tinfo->n, 2);
	put_le(&b, (uint32_t)(56 + tn), 4);
	put(&b, "\x06\x00\x70\x17\x00\x00\x00\x0f", 8); /* version */
	put(&b, target, tn);
	put(&b, tinfo->p, tinfo->n);
	return b;
}

/* Type 3 with buffers LM, NT, domain, user, workstation, in that order after a 64-byte header. */
static struct blob ntlm_type3(uint32_t flags, const struct blob *lm, const struct blob *nt,
			      const struct blob *dom, const struct blob *user, const struct blob *ws)
{
	const struct blob *bufs[] = { lm, nt, dom, user, ws };
	struct blob b = { .n = 0 };
	put(&b, "NTLMSSP\0", 8);
	put_le(&b, 3, 4);
	uint32_t off = 64;
	for (int i = 0; i < 5; i++) {
		put_le(&b, (uint32_t)bufs[i]->n, 2), put_le(&b, (uint32_t)bufs[i]->n, 2);
		put_le(&b, off, 4);
		off += (uint32_t)bufs[i]->n;
	}
	put_le(&b, 0, 2), put_le(&b, 0, 2), put_le(&b, off, 4); /* no session key */
	put_le(&b, flags, 4);
	for (int i = 0; i < 5; i++)
		put(&b, bufs[i]->p, bufs[i]->n);
	return b;
}

static struct blob blob_utf16(const char *s)
{
	struct blob b = { .n = 0 };
	b.n = utf16(s, b.p);
	return b;
}

static struct blob blob_str(const char *s)
{
	struct blob b = { .n = 0 };
	put(&b, s, strlen(s));
	return b;
}

/* Runs AUTH <mech> with Type 1/2/3 and the given final reply; returns the log. */
static char *ntlm_run(const char *mech, const struct blob *t2, const struct blob *t3,
		      const char *reply)
{
	struct script sc = { 0 };
	struct blob t1 = ntlm_type1();
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH %s\r\n", mech);
	SC_S(&sc, "+\r\n");
	sc_c64(&sc, t1.p, t1.n);
	sc_s64(&sc, t2->p, t2->n);
	sc_c64(&sc, t3->p, t3->n);
	SC_S(&sc, "%s\r\n", reply);
	return sc_run(&sc);
}

/* NTOWFv2 = HMAC-MD5(MD4(UTF16LE(pass)), UTF16LE(UPPER(user) domain)). */
static void ntowfv2(const char *pass, const char *user, const char *dom, uint8_t out[16])
{
	uint8_t u[256], nt[16];
	static const uint8_t vector[16] = { 0x0c, 0x86, 0x8a, 0x40, 0x3b, 0xfd, 0x7a, 0x93,
					    0xa3, 0x00, 0x1e, 0xf2, 0x2e, 0xf0, 0x2e, 0x3f };
	size_t un = utf16(pass, u);
	if (!md4(u, un, nt)) {
		/* Without MD4, only MS-NLMP §4.2.4's own values can be checked. */
		assert_string_equal(pass, "Password");
		print_message("MD4 unavailable: using MS-NLMP §4.2.4.1.1's NTOWFv2\n");
		memcpy(out, vector, 16);
		return;
	}
	char ud[128];
	snprintf(ud, sizeof(ud), "%s%s", user, dom);
	for (size_t i = 0; i < strlen(user); i++)
		ud[i] = (char)(ud[i] >= 'a' && ud[i] <= 'z' ? ud[i] - 32 : ud[i]);
	un = utf16(ud, u);
	hmac_md5(nt, 16, u, un, out);
}

/* Checks a NetNTLMv2 line: NTProofStr = HMAC-MD5(NTOWFv2, srvchal || blob). */
static void ntlmv2_verify(const char *line, const char *pass)
{
	char *copy = strdup(line), *f[8];
	assert_int_equal(split(copy, ':', f, 8), 6);
	assert_string_equal(f[1], "");
	uint8_t key[16], msg[4096], proof[16], want[16];
	ntowfv2(pass, f[0], f[2], key);
	size_t n = unhex(f[3], msg);
	assert_int_equal(n, 8);
	n += unhex(f[5], msg + 8);
	assert_int_equal(unhex(f[4], want), 16);
	hmac_md5(key, 16, msg, n, proof);
	assert_memory_equal(proof, want, 16);
	free(copy);
}

/* The MS-NLMP §4.2.4 exchange: NTLMv2, Unicode. */
static void ntlmv2_exchange(struct blob *t2, struct blob *t3, char proof_hex[33], char blob_hex[512])
{
	struct blob av = { .n = 0 }, temp = { .n = 0 }, nt = { .n = 0 }, lm = { .n = 0 };
	uint8_t dom[12], srv[12], key[16], proof[16], msg[512];
	put_le(&av, 2, 2), put_le(&av, (uint32_t)utf16("Domain", dom), 2), put(&av, dom, 12);
	put_le(&av, 1, 2), put_le(&av, (uint32_t)utf16("Server", srv), 2), put(&av, srv, 12);
	put_le(&av, 0, 4);
	*t2 = ntlm_type2(0xe28a8233, &av);
	put(&temp, "\x01\x01\0\0\0\0\0\0" "\0\0\0\0\0\0\0\0" "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa" "\0\0\0\0", 28);
	put(&temp, av.p, av.n);
	put_le(&temp, 0, 4);
	ntowfv2("Password", "User", "Domain", key);
	memcpy(msg, ntlm_srvchal, 8);
	memcpy(msg + 8, temp.p, temp.n);
	hmac_md5(key, 16, msg, 8 + temp.n, proof);
	tohex(proof, 16, proof_hex);
	tohex(temp.p, temp.n, blob_hex);
	put(&nt, proof, 16), put(&nt, temp.p, temp.n);
	put(&lm, "\x86\xc3\x50\x97\xac\x9c\xec\x10\x25\x54\x76\x4a\x57\xcc\xcc\x19", 16);
	put(&lm, "\xaa\xaa\xaa\xaa\xaa\xaa\xaa\xaa", 8);
	struct blob d = blob_utf16("Domain"), u = blob_utf16("User"), w = blob_utf16("COMPUTER");
	*t3 = ntlm_type3(0xe28a8235, &lm, &nt, &d, &u, &w);
}

static void ntlm_v2_gives_hashcat_5600_line_that_verifies(void **unused)
{
	(void)unused;
	struct blob t2, t3;
	char proof[33], blob[512], want[1024];
	ntlmv2_exchange(&t2, &t3, proof, blob);
	assert_string_equal(proof, "68cd0ab851e51c96aabc927bebef6a1c"); /* MS-NLMP §4.2.4.2.2 */
	char *log = ntlm_run("NTLM", &t2, &t3, "+OK User successfully logged on");
	snprintf(want, sizeof(want), "auth mech=NTLM user=User pass=- cleartext=0 result=success "
		 "reply=+OK User successfully logged on realm=Domain workstation=COMPUTER "
		 "hash=User::Domain:0123456789abcdef:%s:%s hash_format=hashcat mode=5600\n", proof, blob);
	evlog_expect(log, want);
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	ntlmv2_verify(line, "Password");
	free(line);
	free(log);
}

/* DESL (MS-NLMP §6): three DES keys from the 16-byte hash padded with 5 zeros. */
static bool desl(const uint8_t k16[16], const uint8_t chal[8], uint8_t out[24])
{
	uint8_t k21[21] = { 0 };
	memcpy(k21, k16, 16);
	for (int i = 0; i < 3; i++) {
		const uint8_t *b = k21 + 7 * i;
		uint8_t k[8] = { b[0], (uint8_t)(b[0] << 7 | b[1] >> 1), (uint8_t)(b[1] << 6 | b[2] >> 2),
				 (uint8_t)(b[2] << 5 | b[3] >> 3), (uint8_t)(b[3] << 4 | b[4] >> 4),
				 (uint8_t)(b[4] << 3 | b[5] >> 5), (uint8_t)(b[5] << 2 | b[6] >> 6),
				 (uint8_t)(b[6] << 1) };
		if (!legacy_crypt("DES-ECB", k, chal, 8, out + 8 * i))
			return false;
	}
	return true;
}

/* Checks a NetNTLMv1 line: NT response = DESL(MD4(UTF16LE(pass)), srvchal). */
static void ntlmv1_verify(const char *line, const char *pass)
{
	char *copy = strdup(line), *f[8];
	assert_int_equal(split(copy, ':', f, 8), 6);
	uint8_t u[256], nt[16], chal[8], want[24], got[24];
	assert_int_equal(unhex(f[5], chal), 8);
	assert_int_equal(unhex(f[4], want), 24);
	if (!md4(u, utf16(pass, u), nt) || !desl(nt, chal, got)) {
		print_message("MD4/DES unavailable (no legacy provider): NetNTLMv1 line not recomputed\n");
		free(copy);
		return;
	}
	assert_memory_equal(got, want, 24);
	free(copy);
}

static void ntlm_v1_via_auth_msn_with_oem_names_gives_5500_line(void **unused)
{
	(void)unused;
	/* MS-NLMP §4.2.2: NTLMv1 responses for "Password" and challenge 0123456789abcdef. */
	static const char lmhex[] = "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13";
	static const char nthex[] = "67c43011f30298a2ad35ece64f16331c44bdbed927841f94";
	struct blob empty = { .n = 0 }, lm = { .n = 0 }, nt = { .n = 0 };
	lm.n = unhex(lmhex, lm.p);
	nt.n = unhex(nthex, nt.p);
	struct blob d = blob_str("Domain"), u = blob_str("User"), w = blob_str("COMPUTER");
	struct blob t2 = ntlm_type2(0xe2028232, &empty); /* OEM: no NEGOTIATE_UNICODE */
	struct blob t3 = ntlm_type3(0xe2028232, &lm, &nt, &d, &u, &w);
	char *log = ntlm_run("MSN", &t2, &t3, "-ERR logon failure");
	char want[512];
	snprintf(want, sizeof(want), "auth mech=MSN user=User pass=- cleartext=0 result=failure "
		 "reply=-ERR logon failure realm=Domain workstation=COMPUTER "
		 "hash=User::Domain:%s:%s:0123456789abcdef hash_format=hashcat mode=5500 failure=credentials\n", lmhex, nthex);
	evlog_expect(log, want);
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	ntlmv1_verify(line, "Password");
	free(line);
	free(log);
}

static void ntlm_utf16_names_become_utf8_with_surrogates_and_fffd(void **unused)
{
	(void)unused;
	struct blob t2, t3, u = { .n = 0 }, d = blob_utf16("Domain"), w = { .n = 0 };
	char proof[33], blob[512];
	ntlmv2_exchange(&t2, &t3, proof, blob);
	struct blob lm = { .n = 0 }, nt = { .n = 0 };
	memcpy(nt.p, t3.p + 64 + 24, 16 + 28);
	nt.n = 16 + 28 + 4;
	memset(nt.p + 44, 0, 4);
	/* "Jü" + U+1F600 (a surrogate pair) + a lone low surrogate; workstation: an odd byte. */
	put(&u, "J\0\xfc\0\x3d\xd8\x00\xde\x00\xdc", 10);
	put(&w, "W\0X", 3);
	t3 = ntlm_type3(0xe28a8235, &lm, &nt, &d, &u, &w);
	char *log = ntlm_run("NTLM", &t2, &t3, "-ERR");
	evlog_expect(log, "auth mech=NTLM user=J\\xc3\\xbc\\xf0\\x9f\\x98\\x80\\xef\\xbf\\xbd pass=- "
			  "cleartext=0 result=failure reply=-ERR realm=Domain "
			  "workstation=W\\xef\\xbf\\xbd hash=J\\xc3\\xbc");
	evlog_expect_not(log, "anomaly");
	free(log);
}

/* Overwrites the u16/u32 at `at` of a message. */
static void poke(struct blob *b, size_t at, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b->p[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void ntlm_malformed_messages_are_anomalies_never_crashes(void **unused)
{
	(void)unused;
	struct blob t2, t3;
	char proof[33], blob[512];
	ntlmv2_exchange(&t2, &t3, proof, blob);
	struct blob bad[7] = { t3, t3, t3, t3, t3, t3, t3 };
	poke(&bad[0], 20 + 4, (uint32_t)t3.n, 4);  /* NT offset at the very end */
	poke(&bad[1], 36, 0xffff, 2);               /* user length huge */
	poke(&bad[2], 44 + 4, 0xffffffffu, 4);      /* workstation offset huge */
	bad[3].n = 40;                               /* cut inside the descriptors */
	poke(&bad[4], 20, 10, 2);                    /* NT response of 10 bytes */
	poke(&bad[5], 8, 7, 4);                      /* message type 7 */
	memcpy(bad[6].p, "NTLMSSQ", 7);              /* not NTLMSSP at all */
	struct script sc = { 0 };
	SC_S(&sc, "+OK ready\r\n");
	for (int i = 0; i < 7; i++) {
		SC_C(&sc, "AUTH NTLM\r\n");
		SC_S(&sc, "+\r\n");
		sc_c64(&sc, "NTLMSSP\0\1\0\0\0", 12);
		if (i == 0)
			sc_s64(&sc, t2.p, 20); /* a Type 2 too short for its challenge */
		else
			sc_s64(&sc, t2.p, t2.n);
		sc_c64(&sc, bad[i].p, bad[i].n);
		SC_S(&sc, "-ERR\r\n");
	}
	char *log = sc_run(&sc);
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed dir=1"), 1);
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed dir=0"), 7);
	assert_int_equal(evlog_count(log, "auth mech=NTLM"), 7);
	evlog_expect_not(log, "hash=");
	free(log);
}

/* ---- SCRAM -------------------------------------------------------------------- */

/*
 * Checks a $scram$ record: ClientProof XOR HMAC(H(ClientKey), AuthMessage) must
 * equal ClientKey, with SaltedPassword = PBKDF2(pass, salt, iter).
 */
static void scram_verify(const char *line, const char *pass, const char *want_am)
{
	char *copy = strdup(line), *f[10];
	assert_int_equal(split(copy, '$', f, 10), 8);
	assert_string_equal(f[1], "scram");
	const EVP_MD *md = strstr(f[2], "SHA-256") ? EVP_sha256() : EVP_sha1();
	size_t hn = (size_t)EVP_MD_get_size(md);
	uint8_t salt[256], am[4096], proof[64], salted[64], ckey[64], skey[64], sig[64];
	size_t sn = unb64(f[5], strlen(f[5]), salt);
	size_t an = unb64(f[6], strlen(f[6]), am);
	assert_int_equal(unb64(f[7], strlen(f[7]), proof), hn);
	if (want_am) {
		assert_int_equal(an, strlen(want_am));
		assert_memory_equal(am, want_am, an);
	}
	assert_int_equal(PKCS5_PBKDF2_HMAC(pass, (int)strlen(pass), salt, (int)sn, atoi(f[4]), md,
					   (int)hn, salted), 1);
	unsigned len;
	assert_non_null(HMAC(md, salted, (int)hn, (const uint8_t *)"Client Key", 10, ckey, &len));
	assert_int_equal(EVP_Digest(ckey, hn, skey, NULL, md, NULL), 1);
	assert_non_null(HMAC(md, skey, (int)hn, am, an, sig, &len));
	for (size_t i = 0; i < hn; i++)
		assert_int_equal(proof[i] ^ sig[i], ckey[i]);
	free(copy);
}

/* Runs a four-message SCRAM exchange; cf/sf/cl/sl are the messages, decoded. */
static char *scram_run(const char *mech, const char *cf, const char *sf, const char *cl,
		       const char *sl, const char *reply)
{
	struct script sc = { 0 };
	char *t = b64(cf, strlen(cf));
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH %s %s\r\n", mech, t);
	sc_s64(&sc, sf, strlen(sf));
	sc_c64(&sc, cl, strlen(cl));
	sc_s64(&sc, sl, strlen(sl));
	SC_C(&sc, "\r\n");
	SC_S(&sc, "%s\r\n", reply);
	free(t);
	return sc_run(&sc);
}

static void scram_sha1_rfc5802_example_gives_record_that_verifies(void **unused)
{
	(void)unused;
	static const char cf[] = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL";
	static const char sf[] = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096";
	static const char cl[] = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=";
	static const char am[] = "n=user,r=fyko+d2lbbFgONRv9qkxdawL,"
				 "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096,"
				 "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
	char *log = scram_run("SCRAM-SHA-1", cf, sf, cl, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", "+OK");
	char *am64 = b64(am, sizeof(am) - 1), want[1024];
	snprintf(want, sizeof(want), "auth mech=SCRAM-SHA-1 user=user pass=- cleartext=0 result=success "
		 "reply=+OK hash=$scram$SCRAM-SHA-1$user$4096$QSXCR+Q6sek8bf92$%s$"
		 "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts= hash_format=scram mode=-1\n", am64);
	evlog_expect(log, want);
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	scram_verify(line, "pencil", am);
	free(line);
	free(am64);
	free(log);
}

static void scram_sha256_rfc7677_example_with_dollar_in_nonce_verifies(void **unused)
{
	(void)unused;
	static const char cf[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
	static const char sf[] = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	static const char cl[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
	char *log = scram_run("scram-sha-256", cf, sf, cl,
			      "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", "+OK");
	evlog_expect(log, "auth mech=SCRAM-SHA-256 user=user pass=- cleartext=0 result=success reply=+OK "
			  "hash=$scram$SCRAM-SHA-256$user$4096$W22ZaJ0SNY7soEsUEjb6gQ==$");
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	scram_verify(line, "pencil", NULL);
	free(line);
	free(log);
}

/* Builds client-final for a known password, as a real client would. */
static void scram_client_final(const char *pass, const char *bare, const char *sf,
			       const char *salt, size_t sn, const char *nocproof, char *out, size_t cap)
{
	uint8_t salted[20], ckey[20], skey[20], sig[20], proof[20];
	unsigned len;
	char am[1024];
	snprintf(am, sizeof(am), "%s,%s,%s", bare, sf, nocproof);
	assert_int_equal(PKCS5_PBKDF2_HMAC(pass, (int)strlen(pass), (const uint8_t *)salt, (int)sn,
					   4096, EVP_sha1(), 20, salted), 1);
	HMAC(EVP_sha1(), salted, 20, (const uint8_t *)"Client Key", 10, ckey, &len);
	EVP_Digest(ckey, 20, skey, NULL, EVP_sha1(), NULL);
	HMAC(EVP_sha1(), skey, 20, (const uint8_t *)am, strlen(am), sig, &len);
	for (int i = 0; i < 20; i++)
		proof[i] = ckey[i] ^ sig[i];
	char *p64 = b64(proof, 20);
	snprintf(out, cap, "%s,p=%s", nocproof, p64);
	free(p64);
}

static void scram_failure_keeps_record_and_decodes_escaped_names(void **unused)
{
	(void)unused;
	static const char salt[] = "NaCl\x01\x02";
	char *s64 = b64(salt, 6), sf[256], cl[512];
	static const char bare[] = "n=us=2Cer$1,r=clientnonce";
	snprintf(sf, sizeof(sf), "r=clientnonceSERVER,s=%s,i=4096", s64);
	/* c= carries the gs2 header "n,a=ad=3Dmin," in base64. */
	scram_client_final("typo-pencil", bare, sf, salt, 6, "c=bixhPWFkPTNEbWluLA==,r=clientnonceSERVER",
			   cl, sizeof(cl));
	char *log = scram_run("SCRAM-SHA-1", "n,a=ad=3Dmin,n=us=2Cer$1,r=clientnonce", sf, cl,
			      "e=invalid-proof", "-ERR [AUTH] authentication failed");
	char want[512];
	snprintf(want, sizeof(want), "auth mech=SCRAM-SHA-1 user=us,er$1 pass=- cleartext=0 "
		 "result=failure reply=-ERR [AUTH] authentication failed authzid=ad=min "
		 "hash=$scram$SCRAM-SHA-1$us=2Cer=241$4096$%s$", s64);
	evlog_expect(log, want);
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	scram_verify(line, "typo-pencil", NULL);
	free(line);
	free(log);
	free(s64);
}

static void scram_malformed_messages_are_anomalies(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"),
		C("AUTH SCRAM-SHA-1 eCwsbj11c2VyLHI9YWJj\r\n"), /* "x,,n=user,r=abc": bad gs2 flag */
		S("-ERR\r\n"),
		C("AUTH SCRAM-SHA-1 biwsbj11PXNlcixyPWFiYw==\r\n"), /* "n,,n=u=ser,r=abc": bad escape */
		S("-ERR\r\n"),
		C("AUTH SCRAM-SHA-1 biwsbj11c2VyLHI9YWJj\r\n"), /* "n,,n=user,r=abc" */
		S("+ cj1hYmNkLHM9LGk9eA==\r\n"),                 /* "r=abcd,s=,i=x" */
		C("Yz1iaXdzLHI9YWJjZA==\r\n"),                  /* "c=biws,r=abcd": no proof */
		S("-ERR\r\n"),
	};
	char *log = RUN(s);
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed dir=0"), 3);
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed dir=1"), 1);
	evlog_expect_not(log, "hash=");
	free(log);
}

/* ---- GSSAPI, KERBEROS_V4 ------------------------------------------------------- */

/* A DER TLV: tag, definite length (long form when needed), contents. */
static struct blob tlv(uint8_t tag, const struct blob *c)
{
	struct blob b = { .n = 0 };
	put(&b, &tag, 1);
	if (c->n < 0x80) {
		put_le(&b, (uint32_t)c->n, 1);
	} else {
		uint8_t l[3] = { 0x82, (uint8_t)(c->n >> 8), (uint8_t)c->n };
		put(&b, l, 3);
	}
	put(&b, c->p, c->n);
	return b;
}

static struct blob tlv_raw(uint8_t tag, const void *p, size_t n)
{
	struct blob c = { .n = 0 };
	put(&c, p, n);
	return tlv(tag, &c);
}

/* [ctx] wrapping one element. */
static struct blob ctx(int n, const struct blob *e)
{
	return tlv((uint8_t)(0xa0 + n), e);
}

static struct blob der_int(uint8_t v)
{
	return tlv_raw(0x02, &v, 1);
}

/* SEQUENCE of up to 5 elements (NULL ends). */
static struct blob seq(const struct blob *a, const struct blob *b, const struct blob *c,
		       const struct blob *d, const struct blob *e)
{
	const struct blob *el[] = { a, b, c, d, e };
	struct blob s = { .n = 0 };
	for (int i = 0; i < 5 && el[i]; i++)
		put(&s, el[i]->p, el[i]->n);
	return tlv(0x30, &s);
}

static const uint8_t krb5_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };

/* RFC 2743 framing: [APPLICATION 0] { OID, TOK_ID, body }. */
static struct blob gss_frame(uint16_t tok, const struct blob *body)
{
	struct blob in = tlv_raw(0x06, krb5_oid, sizeof(krb5_oid));
	put_le(&in, (uint32_t)(tok >> 8 | (tok & 0xff) << 8), 2);
	put(&in, body->p, body->n);
	return tlv(0x60, &in);
}

/* RC4-HMAC (RFC 4757) encryption with key usage 2 (ticket): checksum || RC4(data). */
static bool rc4hmac_encrypt(const char *pass, const struct blob *plain, struct blob *out)
{
	uint8_t u[256], k[16], k1[16], k3[16], usage[4] = { 2, 0, 0, 0 };
	struct blob data = { .n = 0 };
	put(&data, "confound", 8);
	put(&data, plain->p, plain->n);
	if (!md4(u, utf16(pass, u), k))
		return false;
	hmac_md5(k, 16, usage, 4, k1);
	out->n = 16;
	hmac_md5(k1, 16, data.p, data.n, out->p);
	hmac_md5(k1, 16, out->p, 16, k3);
	if (!legacy_crypt("RC4", k3, data.p, data.n, out->p + 16))
		return false;
	out->n += data.n;
	return true;
}

/* Checks a $krb5tgs$23$ line: RC4-decrypting edata2 gives data whose HMAC is the checksum. */
static void krb5tgs_verify(const char *line, const char *svc_pass)
{
	char *copy = strdup(line), *f[10];
	assert_int_equal(split(copy, '$', f, 10), 8);
	uint8_t u[256], k[16], k1[16], k3[16], ck[16], usage[4] = { 2, 0, 0, 0 }, mac[16];
	uint8_t *ed = malloc(strlen(f[7])), *pt = malloc(strlen(f[7]));
	assert_int_equal(unhex(f[6], ck), 16);
	size_t en = unhex(f[7], ed);
	if (md4(u, utf16(svc_pass, u), k)) {
		hmac_md5(k, 16, usage, 4, k1);
		hmac_md5(k1, 16, ck, 16, k3);
		assert_true(legacy_crypt("RC4", k3, ed, en, pt));
		hmac_md5(k1, 16, pt, en, mac);
		assert_memory_equal(mac, ck, 16);
		assert_memory_equal(pt + 8, "\x63\x82", 2);
	}
	free(ed);
	free(pt);
	free(copy);
}

/* An AP-REQ for pop/mail.example.com@EXAMPLE.COM, ticket RC4-encrypted with svc_pass. */
static struct blob gss_ap_req(const char *svc_pass, bool *have_rc4)
{
	struct blob plain = { .n = 0 }, cipher = { .n = 0 };
	put(&plain, "\x63\x82\x00\x40", 4);
	for (int i = 0; i < 64; i++)
		put_le(&plain, (uint32_t)(i * 7), 1);
	*have_rc4 = rc4hmac_encrypt(svc_pass, &plain, &cipher);
	if (!*have_rc4)
		cipher = plain; /* no legacy provider: any bytes serve the parser */
	struct blob i2 = der_int(2), i5 = der_int(5), i14 = der_int(14), i23 = der_int(23);
	struct blob gs1 = tlv_raw(0x1b, "pop", 3), gs2 = tlv_raw(0x1b, "mail.example.com", 16);
	struct blob names = seq(&gs1, &gs2, NULL, NULL, NULL);
	struct blob c0 = ctx(0, &i2), c1 = ctx(1, &names), sname = seq(&c0, &c1, NULL, NULL, NULL);
	struct blob oc = tlv(0x04, &cipher), e0 = ctx(0, &i23), e1 = ctx(1, &i2), e2 = ctx(2, &oc);
	struct blob encpart = seq(&e0, &e1, &e2, NULL, NULL);
	struct blob realm = tlv_raw(0x1b, "EXAMPLE.COM", 11);
	struct blob t0 = ctx(0, &i5), t1 = ctx(1, &realm), t2 = ctx(2, &sname), t3 = ctx(3, &encpart);
	struct blob tseq = seq(&t0, &t1, &t2, &t3, NULL), ticket = tlv(0x61, &tseq);
	struct blob auth_c = tlv_raw(0x04, "opaque-authenticator-bytes", 26), a2 = ctx(2, &auth_c);
	struct blob auth = seq(&e0, &a2, NULL, NULL, NULL);
	struct blob opts = tlv_raw(0x03, "\x00\x20\x00\x00\x00", 5);
	struct blob r0 = ctx(0, &i5), r1 = ctx(1, &i14), r2 = ctx(2, &opts), r3 = ctx(3, &ticket);
	struct blob r4 = ctx(4, &auth), rseq = seq(&r0, &r1, &r2, &r3, &r4);
	struct blob apreq = tlv(0x6e, &rseq);
	return gss_frame(0x0100, &apreq);
}

/* RFC 4121 Wrap token, unsealed: header, then (plain | 12-byte checksum) rotated right by rrc. */
static struct blob cfx_wrap(uint8_t flags, const void *plain, size_t n, size_t rrc)
{
	struct blob b = { .n = 0 }, data = { .n = 0 };
	put(&data, plain, n);
	put(&data, "CHECKSUM-12B", 12);
	uint8_t hdr[16] = { 0x05, 0x04, flags, 0xff, 0, 12, 0, (uint8_t)rrc, 0, 0, 0, 0, 0, 0, 0, 1 };
	put(&b, hdr, 16);
	for (size_t i = 0; i < data.n; i++)
		b.p[16 + (i + rrc) % data.n] = data.p[i];
	b.n += data.n;
	return b;
}

/* RFC 1964/4757 Wrap token (RC4 layout), unsealed: confounder, data, one pad byte. */
static struct blob rfc1964_wrap(const void *plain, size_t n)
{
	struct blob body = { .n = 0 };
	put(&body, "\x11\x00\xff\xff\xff\xff", 6);
	put(&body, "SEQ-8-BYCKSUM-8BCONFOUND", 24);
	put(&body, plain, n);
	put(&body, "\x01", 1);
	return gss_frame(0x0201, &body);
}

static char *gss_run(const struct blob *srv_wrap, const struct blob *cli_wrap, bool *have_rc4)
{
	struct script sc = { 0 };
	struct blob ap = gss_ap_req("Svc-Pa55", have_rc4);
	struct blob aprep_body = tlv_raw(0x6f, "\x30\x03\x02\x01\x05", 5);
	struct blob aprep = gss_frame(0x0200, &aprep_body);
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH GSSAPI\r\n");
	SC_S(&sc, "+ \r\n");
	sc_c64(&sc, ap.p, ap.n);
	sc_s64(&sc, aprep.p, aprep.n);
	SC_C(&sc, "\r\n");
	sc_s64(&sc, srv_wrap->p, srv_wrap->n);
	sc_c64(&sc, cli_wrap->p, cli_wrap->n);
	SC_S(&sc, "+OK\r\n");
	SC_C(&sc, "STAT\r\n");
	return sc_run(&sc);
}

static void gssapi_reports_realm_authzid_kerberoast_line_and_no_layer(void **unused)
{
	(void)unused;
	struct blob srv = cfx_wrap(0x01, "\x07\x00\x10\x00", 4, 0);
	struct blob cli = cfx_wrap(0x00, "\x01\x00\x00\x00" "bob", 7, 5);
	bool rc4;
	char *log = gss_run(&srv, &cli, &rc4);
	evlog_expect(log, "auth mech=GSSAPI user= pass=- cleartext=0 result=success reply=+OK "
			  "authzid=bob realm=EXAMPLE.COM hash=$krb5tgs$23$*$EXAMPLE.COM$pop/mail.example.com*$");
	evlog_expect(log, "hash_format=hashcat mode=13100\n");
	evlog_expect(log, "state=TRANSACTION user= auth=1 sasl_layer=0");
	evlog_expect_not(log, "anomaly");
	char *line = log_hash(log, 0);
	if (rc4)
		krb5tgs_verify(line, "Svc-Pa55");
	else
		print_message("RC4/MD4 unavailable (no legacy provider): Kerberoast line not recomputed\n");
	free(line);
	free(log);
}

static void gssapi_privacy_layer_in_rfc1964_wrap_stops_text_parsing(void **unused)
{
	(void)unused;
	struct blob srv = rfc1964_wrap("\x06\x00\x10\x00", 4);
	struct blob cli = rfc1964_wrap("\x04\x00\x10\x00", 4);
	bool rc4;
	char *log = gss_run(&srv, &cli, &rc4);
	evlog_expect(log, "state=SASL-LAYER user= auth=1 sasl_layer=1");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void gssapi_sealed_choice_decided_by_server_offer(void **unused)
{
	(void)unused;
	struct blob sealed = cfx_wrap(0x02, "\x04\x00\x10\x00", 4, 0);
	struct blob only_layers = cfx_wrap(0x01, "\x06\x00\x10\x00", 4, 0);
	struct blob any = cfx_wrap(0x01, "\x07\x00\x10\x00", 4, 0);
	bool rc4;
	char *log = gss_run(&only_layers, &sealed, &rc4);
	evlog_expect(log, "sasl_layer=1");
	free(log);
	log = gss_run(&any, &sealed, &rc4);
	evlog_expect(log, "sasl_layer=0");
	free(log);
}

static void gssapi_garbage_and_truncated_tokens_are_malformed(void **unused)
{
	(void)unused;
	bool rc4;
	struct blob ap = gss_ap_req("x", &rc4);
	struct script sc = { 0 };
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH GSSAPI\r\n");
	SC_S(&sc, "+ \r\n");
	sc_c64(&sc, ap.p, ap.n / 2); /* cut in the middle */
	SC_S(&sc, "-ERR\r\n");
	SC_C(&sc, "AUTH GSSAPI\r\n");
	SC_S(&sc, "+ \r\n");
	sc_c64(&sc, "\x60\x84\xff\xff\xff\xff", 6); /* length far past the end */
	sc_s64(&sc, "\x05\x04\x01\xff\xff\xff\x00\x00", 8); /* wrap token cut short */
	sc_c64(&sc, "garbage!", 8);
	SC_S(&sc, "-ERR\r\n");
	char *log = sc_run(&sc);
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed dir=0"), 3);
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed dir=1"), 1);
	assert_int_equal(evlog_count(log, "auth mech=GSSAPI"), 2);
	free(log);
}

static void kerberos_v4_reveals_the_realm(void **unused)
{
	(void)unused;
	struct script sc = { 0 };
	struct blob req = { .n = 0 };
	static const char krb4[] = "\x04\x06\x01" "ATHENA.MIT.EDU\0" "\x08\x04" "TICKET!!AUTH";
	put(&req, krb4, sizeof(krb4) - 1);
	SC_S(&sc, "+OK ready\r\n");
	SC_C(&sc, "AUTH KERBEROS_V4\r\n");
	sc_s64(&sc, "\x12\x34\x56\x78", 4);
	sc_c64(&sc, req.p, req.n);
	sc_s64(&sc, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	sc_c64(&sc, "encrypted-reply!", 16);
	SC_S(&sc, "-ERR\r\n");
	SC_C(&sc, "AUTH KERBEROS_V4\r\n");
	sc_s64(&sc, "\x12\x34\x56", 3);
	sc_c64(&sc, "\x05\x06", 2);
	SC_S(&sc, "-ERR\r\n");
	char *log = sc_run(&sc);
	evlog_expect(log, "auth mech=KERBEROS_V4 user= pass=- cleartext=0 result=failure reply=-ERR realm=ATHENA.MIT.EDU failure=credentials\n");
	assert_int_equal(evlog_count(log, "anomaly sasl.malformed"), 2);
	free(log);
}

/* ---- base64 and unknown mechanisms ------------------------------------------------ */

static void misplaced_padding_and_bad_base64_are_anomalies(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"),
		C("AUTH PLAIN AB=C\r\n"), S("-ERR\r\n"),
		C("AUTH PLAIN ====\r\n"), S("-ERR\r\n"),
		C("AUTH PLAIN QUJD\tRA==\r\n"), S("-ERR\r\n"),
		C("AUTH CRAM-MD5\r\n"), S("+ not base64!\r\n"), C("*\r\n"), S("-ERR\r\n"),
		C("AUTH XFOO YWJj\r\n"), S("-ERR unknown mechanism\r\n"),
	};
	char *log = RUN(s);
	assert_int_equal(evlog_count(log, "anomaly sasl.bad_base64 dir=0"), 3);
	assert_int_equal(evlog_count(log, "anomaly sasl.bad_base64 dir=1"), 1);
	evlog_expect(log, "auth mech=XFOO user= pass=- cleartext=0 result=failure reply=-ERR unknown mechanism failure=credentials\n");
	free(log);
}

int main(void)
{
	prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_reports_authzid_user_and_password),
		cmocka_unit_test(login_takes_user_from_initial_response),
		cmocka_unit_test(xoauth2_reveals_user_and_bearer_token_and_survives_error_flow),
		cmocka_unit_test(oauthbearer_decodes_gs2_authzid_escapes_as_user),
		cmocka_unit_test(oauthbearer_without_gs2_header_is_malformed_but_token_kept),
		cmocka_unit_test(external_and_anonymous_report_names_but_no_secret),
		cmocka_unit_test(cram_md5_line_is_both_wire_strings_and_verifies),
		cmocka_unit_test(cram_md5_response_without_digest_is_malformed),
		cmocka_unit_test(digest_md5_test_helper_matches_rfc2831_example),
		cmocka_unit_test(digest_md5_gives_john_line_that_verifies_and_rspauth_is_harmless),
		cmocka_unit_test(digest_md5_auth_conf_with_authzid_escapes_and_spaces_is_a_layer),
		cmocka_unit_test(digest_md5_truncated_or_garbage_is_malformed_without_crash),
		cmocka_unit_test(ntlm_v2_gives_hashcat_5600_line_that_verifies),
		cmocka_unit_test(ntlm_v1_via_auth_msn_with_oem_names_gives_5500_line),
		cmocka_unit_test(ntlm_utf16_names_become_utf8_with_surrogates_and_fffd),
		cmocka_unit_test(ntlm_malformed_messages_are_anomalies_never_crashes),
		cmocka_unit_test(scram_sha1_rfc5802_example_gives_record_that_verifies),
		cmocka_unit_test(scram_sha256_rfc7677_example_with_dollar_in_nonce_verifies),
		cmocka_unit_test(scram_failure_keeps_record_and_decodes_escaped_names),
		cmocka_unit_test(scram_malformed_messages_are_anomalies),
		cmocka_unit_test(gssapi_reports_realm_authzid_kerberoast_line_and_no_layer),
		cmocka_unit_test(gssapi_privacy_layer_in_rfc1964_wrap_stops_text_parsing),
		cmocka_unit_test(gssapi_sealed_choice_decided_by_server_offer),
		cmocka_unit_test(gssapi_garbage_and_truncated_tokens_are_malformed),
		cmocka_unit_test(kerberos_v4_reveals_the_realm),
		cmocka_unit_test(misplaced_padding_and_bad_base64_are_anomalies),
	};
	int rc = cmocka_run_group_tests_name("sasl", tests, NULL, NULL);
	if (prov_legacy)
		OSSL_PROVIDER_unload(prov_legacy);
	if (prov_default)
		OSSL_PROVIDER_unload(prov_default);
	return rc;
}
