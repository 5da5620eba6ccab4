/*
 * sasl.c - the SASL exchange (RFC 4422) as a passive observer sees it: base64
 * decoding, dispatch to the mechanism, and the simple mechanisms themselves:
 * PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), XOAUTH2 (Google),
 * OAUTHBEARER (RFC 7628, gs2 header per RFC 5801), CRAM-MD5 (RFC 2195),
 * EXTERNAL (RFC 4422 appendix A) and ANONYMOUS (RFC 4505).
 *
 * Owns the decoded view of one exchange: the mechanism, the user name, secret,
 * authzid, realm, workstation and cracking line it revealed. The other families
 * live in sasl_digest.c, sasl_ntlm.c, sasl_scram.c and sasl_gssapi.c behind the
 * hooks of sasl_priv.h. It knows nothing of POP3 framing (the caller strips
 * "AUTH", "+ " and line ends). Malformed base64 or mechanism data is an anomaly
 * emitted through the sink, never a failure.
 */
#include "sasl_priv.h"

#include <openssl/evp.h>

/* ---- shared helpers (sasl_priv.h) ------------------------------------- */

bool sasl_saslname(struct bytes in, struct bstr *out)
{
	uint8_t buf[SASL_FIELD_MAX];
	size_t w = 0;
	for (size_t i = 0; i < in.n; i++) {
		uint8_t c = in.p[i];
		if (c == '=') {
			if (in.n - i < 3)
				return false;
			if (memcmp(in.p + i + 1, "2C", 2) == 0)
				c = ',';
			else if (memcmp(in.p + i + 1, "3D", 2) == 0)
				c = '=';
			else
				return false;
			i += 2;
		}
		if (w < sizeof(buf))
			buf[w++] = c;
	}
	bstr_set(out, buf, w, SASL_FIELD_MAX);
	return true;
}

/* Makes room for k more bytes, or marks the line full. */
static bool sl_room(struct sasl_line *l, size_t k)
{
	if (l->full || k > SASL_HASH_MAX - l->n) {
		l->full = true;
		return false;
	}
	if (l->n + k <= l->cap)
		return true;
	size_t cap = l->cap ? l->cap : 256;
	while (cap < l->n + k)
		cap *= 2;
	uint8_t *p = realloc(l->p, cap);
	if (!p) {
		l->full = true;
		return false;
	}
	l->p = p;
	l->cap = cap;
	return true;
}

void sl_mem(struct sasl_line *l, const void *p, size_t n)
{
	if (n && sl_room(l, n)) {
		memcpy(l->p + l->n, p, n);
		l->n += n;
	}
}

void sl_str(struct sasl_line *l, const char *z)
{
	sl_mem(l, z, strlen(z));
}

void sl_hex(struct sasl_line *l, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (n > SASL_HASH_MAX / 2 || !sl_room(l, 2 * n)) {
		l->full = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		l->p[l->n++] = (uint8_t)hex[p[i] >> 4];
		l->p[l->n++] = (uint8_t)hex[p[i] & 15];
	}
}

void sl_b64(struct sasl_line *l, const uint8_t *p, size_t n)
{
	if (n > SASL_HASH_MAX || !sl_room(l, (n + 2) / 3 * 4 + 1)) {
		l->full = true;
		return;
	}
	/* EVP_EncodeBlock writes a NUL after the text: room for it was made above. */
	l->n += (size_t)EVP_EncodeBlock(l->p + l->n, p, (int)n);
}

void sasl_set_hash(struct sasl *s, struct sasl_line *l, const char *format, int mode)
{
	if (!l->full && l->n) {
		bstr_set(&s->hash, l->p, l->n, SASL_HASH_MAX);
		s->hash_format = format;
		s->hashcat_mode = mode;
	}
	free(l->p);
	*l = (struct sasl_line){ 0 };
}

/* ---- base64 ------------------------------------------------------------ */

static bool b64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* Returns the number of '=' pad characters, or -1 when p[0..n) is not base64. */
static int b64_check(const uint8_t *p, size_t n)
{
	if (n % 4 != 0)
		return -1;
	size_t pad = 0;
	while (pad < 2 && pad < n && p[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!b64_char(p[i]))
			return -1;
	return (int)pad;
}

/*
 * Decodes one SASL line into m (m->d NUL-terminated, caller frees). Returns
 * false when the text is not base64 (anomaly sent) or memory ran out. "=" alone
 * is RFC 5034's empty initial response.
 */
static bool sasl_decode(struct sasl *s, enum dir dir, const uint8_t *p, size_t n,
			struct sasl_msg *m)
{
	*m = (struct sasl_msg){ .wire = bytes_of(p, n) };
	size_t tn = n == 1 && p[0] == '=' ? 0 : n;
	int pad = b64_check(p, tn);
	if (pad < 0 || tn > INT32_MAX) { /* EVP_DecodeBlock takes an int */
		emit_anomaly(s->sink, ANOM_SASL_BAD_BASE64, dir, p, n);
		return false;
	}
	m->d = malloc(tn / 4 * 3 + 1);
	if (!m->d)
		return false;
	int len = tn ? EVP_DecodeBlock(m->d, p, (int)tn) : 0;
	if (len < pad) {
		free(m->d);
		m->d = NULL;
		emit_anomaly(s->sink, ANOM_SASL_BAD_BASE64, dir, p, n);
		return false;
	}
	m->n = (size_t)(len - pad); /* EVP_DecodeBlock counts the pad as zero bytes */
	m->d[m->n] = 0;
	return true;
}

/* ---- PLAIN, LOGIN ------------------------------------------------------ */

/* PLAIN (RFC 4616): [authzid] NUL authcid NUL passwd. */
static void plain_client(struct sasl *s, struct sasl_msg *m)
{
	if (m->n == 0)
		return; /* "=" or an empty answer to "+ ": the data comes next */
	const uint8_t *d = m->d;
	const uint8_t *nul1 = memchr(d, 0, m->n);
	const uint8_t *nul2 = nul1 ? memchr(nul1 + 1, 0, m->n - (size_t)(nul1 + 1 - d)) : NULL;
	if (!nul2) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, d, m->n);
		return;
	}
	bstr_set(&s->authzid, d, (size_t)(nul1 - d), SASL_FIELD_MAX);
	bstr_set(&s->user, nul1 + 1, (size_t)(nul2 - nul1 - 1), SASL_FIELD_MAX);
	bstr_set(&s->secret, nul2 + 1, m->n - (size_t)(nul2 + 1 - d), SASL_FIELD_MAX);
	s->cleartext = true;
}

/* LOGIN: ignore the challenge text; client responses 1 and 2 are user, password. */
static void login_client(struct sasl *s, struct sasl_msg *m)
{
	if (s->responses == 1) {
		bstr_set(&s->user, m->d, m->n, SASL_FIELD_MAX);
	} else if (s->responses == 2) {
		bstr_set(&s->secret, m->d, m->n, SASL_FIELD_MAX);
		s->cleartext = true;
	}
}

/* ---- XOAUTH2, OAUTHBEARER --------------------------------------------- */

/* Finds `key` (e.g. "user=") among ^A-separated fields; sets *v to its value. */
static bool bearer_kv(const uint8_t *d, size_t n, const char *key, struct bytes *v)
{
	size_t kn = strlen(key);
	size_t i = 0;
	while (i < n) {
		const uint8_t *end = memchr(d + i, 0x01, n - i);
		size_t fn = end ? (size_t)(end - d) - i : n - i;
		if (fn >= kn && memcmp(d + i, key, kn) == 0) {
			*v = bytes_of(d + i + kn, fn - kn);
			return true;
		}
		i += fn + 1;
	}
	return false;
}

/*
 * Takes the bearer token from "auth=Bearer T". Returns false without one, and
 * reports that unless the caller already reported the message.
 */
static bool bearer_token(struct sasl *s, const uint8_t *d, size_t n, bool report)
{
	struct bytes auth;
	if (!bearer_kv(d, n, "auth=", &auth)) {
		if (report)
			emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, d, n);
		return false;
	}
	if (auth.n > 7 && strncasecmp((const char *)auth.p, "Bearer ", 7) == 0)
		auth = bytes_of(auth.p + 7, auth.n - 7);
	bstr_set(&s->secret, auth.p, auth.n, SASL_FIELD_MAX);
	s->cleartext = true;
	return true;
}

/* XOAUTH2: user=U ^A auth=Bearer T ^A^A. An empty line acknowledges an error. */
static void xoauth2_client(struct sasl *s, struct sasl_msg *m)
{
	struct bytes user;
	if (m->n == 0 || !bearer_token(s, m->d, m->n, true))
		return;
	if (bearer_kv(m->d, m->n, "user=", &user))
		bstr_set(&s->user, user.p, user.n, SASL_FIELD_MAX);
}

bool sasl_gs2_header(const uint8_t *p, size_t n, struct bytes *authzid, size_t *len)
{
	const uint8_t *c1 = memchr(p, ',', n);
	if (!c1)
		return false;
	size_t f = (size_t)(c1 - p);
	bool flag_ok = (f == 1 && (p[0] == 'n' || p[0] == 'y')) || (f > 2 && p[0] == 'p' && p[1] == '=');
	size_t a = f + 1;
	const uint8_t *c2 = memchr(p + a, ',', n - a);
	if (!flag_ok || !c2)
		return false;
	size_t an = (size_t)(c2 - (p + a));
	if (an != 0 && (an < 2 || p[a] != 'a' || p[a + 1] != '='))
		return false;
	*authzid = an ? bytes_of(p + a + 2, an - 2) : BYTES_NONE;
	*len = a + an + 1;
	return true;
}

/* OAUTHBEARER (RFC 7628): gs2-header ^A host=H ^A port=P ^A auth=Bearer T ^A^A. */
static void oauthbearer_client(struct sasl *s, struct sasl_msg *m)
{
	if (m->n == 0 || (m->n == 1 && m->d[0] == 0x01))
		return; /* ^A alone: the client's acknowledgement of an error challenge */
	const uint8_t *sep = memchr(m->d, 0x01, m->n);
	struct bytes a = BYTES_NONE;
	size_t hl = 0;
	bool gs2 = sep && sasl_gs2_header(m->d, (size_t)(sep - m->d), &a, &hl) && m->d + hl == sep;
	/* A bad header is reported, but a token after it is still a live secret. */
	if (!gs2)
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, m->d, m->n);
	if (!bearer_token(s, m->d, m->n, gs2) || !gs2)
		return;
	/* RFC 7628 §3.1: the a= authzid names the user the token is for. */
	if (a.n && !sasl_saslname(a, &s->user))
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, a.p, a.n);
}

/* ---- CRAM-MD5 ---------------------------------------------------------- */

struct cram_st {
	struct bstr chal; /* the first challenge, base64 as on the wire */
	bool have_chal;
};

static void cram_server(struct sasl *s, struct sasl_msg *m)
{
	struct cram_st *c = s->st;
	if (c->have_chal)
		return; /* RFC 2195 has one challenge; a later line is not the salt */
	c->have_chal = m->wire.n <= SASL_MSG_MAX;
	bstr_set(&c->chal, m->wire.p, m->wire.n, SASL_MSG_MAX);
}

static bool is_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
			return false;
	return true;
}

/*
 * The response is "user SP hex32" with hex = HMAC-MD5(password, challenge). The
 * user may hold spaces, the digest never does: split at the last space.
 * hashcat -m 10200 takes both base64 strings exactly as on the wire.
 */
static void cram_client(struct sasl *s, struct sasl_msg *m)
{
	struct cram_st *c = s->st;
	const uint8_t *sp = m->n ? memrchr(m->d, ' ', m->n) : NULL;
	size_t hn = sp ? m->n - (size_t)(sp + 1 - m->d) : 0;
	if (!sp || hn != 32 || !is_hex(sp + 1, hn)) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, m->d, m->n);
		return;
	}
	bstr_set(&s->user, m->d, (size_t)(sp - m->d), SASL_FIELD_MAX);
	if (!c->have_chal)
		return;
	struct sasl_line l = { 0 };
	sl_str(&l, "$cram_md5$");
	sl_bytes(&l, bstr_bytes(&c->chal));
	sl_str(&l, "$");
	sl_bytes(&l, m->wire);
	sasl_set_hash(s, &l, "hashcat", 10200);
}

static void cram_free(void *st)
{
	bstr_free(&((struct cram_st *)st)->chal);
}

/* ---- EXTERNAL, ANONYMOUS ----------------------------------------------- */

/* EXTERNAL: the one client message is the authzid, empty ("=") for "derive it". */
static void external_client(struct sasl *s, struct sasl_msg *m)
{
	bstr_set(&s->authzid, m->d, m->n, SASL_FIELD_MAX);
}

/* ANONYMOUS (RFC 4505): free trace text, often an e-mail address. Not a secret. */
static void anonymous_client(struct sasl *s, struct sasl_msg *m)
{
	if (m->n)
		bstr_set(&s->user, m->d, m->n, SASL_FIELD_MAX);
}

/* ---- the exchange ------------------------------------------------------- */

static const struct sasl_mech mech_plain = { "PLAIN", 0, plain_client, NULL, NULL, NULL };
static const struct sasl_mech mech_login = { "LOGIN", 0, login_client, NULL, NULL, NULL };
static const struct sasl_mech mech_xoauth2 = { "XOAUTH2", 0, xoauth2_client, NULL, NULL, NULL };
static const struct sasl_mech mech_oauthbearer = { "OAUTHBEARER", 0, oauthbearer_client, NULL,
						   NULL, NULL };
static const struct sasl_mech mech_cram = { "CRAM-MD5", sizeof(struct cram_st), cram_client,
					    cram_server, NULL, cram_free };
static const struct sasl_mech mech_external = { "EXTERNAL", 0, external_client, NULL, NULL, NULL };
static const struct sasl_mech mech_anonymous = { "ANONYMOUS", 0, anonymous_client, NULL, NULL,
						 NULL };

/* Names a client may send, mapped to the family that decodes them. */
static const struct {
	const char *name;
	const struct sasl_mech *mech;
} sasl_names[] = {
	{ "PLAIN", &mech_plain },
	{ "LOGIN", &mech_login },
	{ "XOAUTH2", &mech_xoauth2 },
	{ "OAUTHBEARER", &mech_oauthbearer },
	{ "CRAM-MD5", &mech_cram },
	{ "EXTERNAL", &mech_external },
	{ "ANONYMOUS", &mech_anonymous },
	{ "DIGEST-MD5", &sasl_mech_digest_md5 },
	{ "NTLM", &sasl_mech_ntlm },
	{ "MSN", &sasl_mech_ntlm }, /* MSN's NTLM under another name (fetchmail) */
	{ "SCRAM-SHA-1", &sasl_mech_scram },
	{ "SCRAM-SHA-1-PLUS", &sasl_mech_scram },
	{ "SCRAM-SHA-256", &sasl_mech_scram },
	{ "SCRAM-SHA-256-PLUS", &sasl_mech_scram },
	{ "SCRAM-SHA-512", &sasl_mech_scram },
	{ "SCRAM-SHA-512-PLUS", &sasl_mech_scram },
	{ "GSSAPI", &sasl_mech_gssapi },
	{ "KERBEROS_V4", &sasl_mech_kerberos_v4 },
};

struct sasl *sasl_start(const uint8_t *mech, size_t n, struct event_sink *sink)
{
	struct sasl *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->sink = sink;
	if (n > SASL_MECH_MAX)
		n = SASL_MECH_MAX;
	for (size_t i = 0; i < n; i++)
		s->name[i] = (char)(mech[i] >= 'a' && mech[i] <= 'z' ? mech[i] - 32 : mech[i]);
	for (size_t i = 0; i < ARRAY_LEN(sasl_names); i++)
		if (strcmp(s->name, sasl_names[i].name) == 0)
			s->mech = sasl_names[i].mech;
	if (s->mech && s->mech->state_size) {
		s->st = calloc(1, s->mech->state_size);
		if (!s->st) {
			free(s);
			return NULL;
		}
	}
	return s;
}

void sasl_client(struct sasl *s, const uint8_t *b64, size_t n)
{
	s->responses++;
	if (n == 1 && b64[0] == '*') {
		s->cancelled = true; /* RFC 5034 §4; the server's -ERR ends the exchange */
		return;
	}
	struct sasl_msg m;
	if (!sasl_decode(s, DIR_TO_SERVER, b64, n, &m))
		return;
	if (s->mech)
		s->mech->client(s, &m);
	free(m.d);
}

void sasl_server(struct sasl *s, const uint8_t *b64, size_t n)
{
	s->challenges++;
	if (!s->mech || !s->mech->server)
		return; /* challenge text this mechanism does not need is not judged */
	struct sasl_msg m;
	if (!sasl_decode(s, DIR_TO_CLIENT, b64, n, &m))
		return;
	s->mech->server(s, &m);
	free(m.d);
}

void sasl_describe(const struct sasl *s, struct ev_auth *a)
{
	a->mechanism = s->name;
	a->username = bstr_bytes(&s->user);
	a->password = bstr_bytes(&s->secret);
	a->cleartext = s->cleartext;
	a->authzid = bstr_bytes(&s->authzid);
	a->realm = bstr_bytes(&s->realm);
	a->workstation = bstr_bytes(&s->workstation);
	a->hash = bstr_bytes(&s->hash);
	a->hash_format = s->hash.n ? s->hash_format : NULL;
	a->hashcat_mode = s->hash.n ? s->hashcat_mode : -1;
	if (s->cancelled)
		a->failure = "cancelled"; /* read only when the result is a failure */
}

bool sasl_security_layer(const struct sasl *s)
{
	return s->mech && s->mech->layer && s->mech->layer(s);
}

void sasl_free(struct sasl *s)
{
	if (!s)
		return;
	if (s->st && s->mech->free_state)
		s->mech->free_state(s->st);
	free(s->st);
	bstr_free(&s->user);
	bstr_free(&s->secret);
	bstr_free(&s->authzid);
	bstr_free(&s->realm);
	bstr_free(&s->workstation);
	bstr_free(&s->hash);
	free(s);
}
