/*
 * sasl_digest.c - DIGEST-MD5 (RFC 2831) as a passive observer sees it.
 *
 * Owns the parsing of the server's digest-challenge and the client's
 * digest-response (comma-separated directives, token or quoted-string values
 * with backslash escapes, whitespace tolerated around '=' and ','), and the
 * cracking line built from the response. Knows nothing of POP3.
 *
 * Everything but the password is in the response, so one observed exchange is
 * a John the Ripper "dmd5" line (DMD5_fmt_plug.c):
 *   $DIGEST-MD5$user$realm$nonce$digest_uri$cnonce$nc$qop$response[$authzid]
 * where response = hex(MD5(hex(MD5(A1)) ":" nonce ":" nc ":" cnonce ":" qop ":"
 * hex(MD5(A2)))), A1 = MD5(user ":" realm ":" pass) ":" nonce ":" cnonce
 * [":" authzid], A2 = "AUTHENTICATE:" digest-uri [":" 32 zeros for auth-int and
 * auth-conf]. The exchange's last challenge, rspauth=..., is answered by an
 * empty client line, which is not a response.
 */
#include "sasl_priv.h"

enum dig_key {
	DK_USERNAME,
	DK_REALM,
	DK_NONCE,
	DK_CNONCE,
	DK_NC,
	DK_QOP,
	DK_DIGEST_URI,
	DK_RESPONSE,
	DK_AUTHZID,
	DK_RSPAUTH,
	DK_COUNT
};

static const char *const dig_names[] = {
	[DK_USERNAME] = "username", [DK_REALM] = "realm",     [DK_NONCE] = "nonce",
	[DK_CNONCE] = "cnonce",     [DK_NC] = "nc",           [DK_QOP] = "qop",
	[DK_DIGEST_URI] = "digest-uri", [DK_RESPONSE] = "response", [DK_AUTHZID] = "authzid",
	[DK_RSPAUTH] = "rspauth",
};
_Static_assert(ARRAY_LEN(dig_names) == DK_COUNT, "directive names out of step");

/* The directives popsift uses; a challenge may repeat realm, only the last is kept. */
struct dig_fields {
	struct bytes v[DK_COUNT];
	bool set[DK_COUNT];
	bool repeated; /* a directive occurred twice (RFC 2831 §2.1.2: abort) */
};

struct digest_st {
	bool layer; /* the client chose qop auth-int or auth-conf */
};

static bool dig_lws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2616 token characters: no CTL and none of the separators. */
static bool dig_tchar(uint8_t c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", c);
}

static size_t dig_skip_lws(const uint8_t *d, size_t n, size_t i)
{
	while (i < n && dig_lws(d[i]))
		i++;
	return i;
}

/*
 * Reads a quoted-string starting after its opening quote at d[*i], removing
 * backslash escapes in place (the writer never passes the reader). Returns
 * false when the closing quote is missing: a truncated value.
 */
static bool dig_quoted(uint8_t *d, size_t n, size_t *i, struct bytes *val)
{
	size_t r = *i, w = *i;
	while (r < n && d[r] != '"') {
		if (d[r] == '\\' && n - r > 1)
			r++;
		d[w++] = d[r++];
	}
	if (r == n)
		return false;
	*val = bytes_of(d + *i, w - *i);
	*i = r + 1;
	return true;
}

/*
 * Reads the next directive `token [LWS] "=" [LWS] (token | quoted-string)`
 * from d[*i..n), skipping empty list elements. Returns 1 with *key and *val
 * set, 0 at the end of the data, -1 when the data is malformed or truncated.
 */
static int dig_directive(uint8_t *d, size_t n, size_t *i, struct bytes *key, struct bytes *val)
{
	size_t p = *i;
	while (p < n && (dig_lws(d[p]) || d[p] == ','))
		p++;
	if (p == n)
		return 0;
	size_t k0 = p;
	while (p < n && dig_tchar(d[p]))
		p++;
	*key = bytes_of(d + k0, p - k0);
	p = dig_skip_lws(d, n, p);
	if (key->n == 0 || p == n || d[p] != '=')
		return -1;
	p = dig_skip_lws(d, n, p + 1);
	if (p < n && d[p] == '"') {
		p++;
		if (!dig_quoted(d, n, &p, val))
			return -1;
	} else {
		size_t v0 = p;
		while (p < n && dig_tchar(d[p]))
			p++;
		*val = bytes_of(d + v0, p - v0);
	}
	p = dig_skip_lws(d, n, p);
	if (p < n && d[p] != ',')
		return -1;
	*i = p;
	return 1;
}

/* Parses a whole challenge or response. Returns false when malformed. */
static bool dig_parse(uint8_t *d, size_t n, struct dig_fields *f)
{
	*f = (struct dig_fields){ 0 };
	size_t i = 0;
	struct bytes key, val;
	int r;
	while ((r = dig_directive(d, n, &i, &key, &val)) == 1) {
		for (int k = 0; k < DK_COUNT; k++) {
			if (strlen(dig_names[k]) != key.n ||
			    strncasecmp((const char *)key.p, dig_names[k], key.n) != 0)
				continue;
			f->repeated |= f->set[k] && k != DK_REALM;
			f->v[k] = val;
			f->set[k] = true;
		}
	}
	return r == 0;
}

static bool dig_qop_is(struct bytes q, const char *name)
{
	return q.n == strlen(name) && strncasecmp((const char *)q.p, name, q.n) == 0;
}

/*
 * Builds the dmd5 line. A field holding '$' cannot be written in it: then no
 * line at all (the user name and realm are still reported).
 */
static void dig_hash(struct sasl *s, const struct dig_fields *f)
{
	static const enum dig_key order[] = { DK_USERNAME, DK_REALM,  DK_NONCE, DK_DIGEST_URI,
					      DK_CNONCE,   DK_NC,     DK_QOP,   DK_RESPONSE };
	/* RFC 2831 §2.1.2.1: a missing qop means "auth". */
	struct bytes qop = f->set[DK_QOP] ? f->v[DK_QOP] : bytes_of("auth", 4);
	struct sasl_line l = { 0 };
	sl_str(&l, "$DIGEST-MD5");
	for (size_t i = 0; i < ARRAY_LEN(order); i++) {
		struct bytes v = order[i] == DK_QOP ? qop : f->v[order[i]];
		l.full |= sasl_has_byte(v, '$');
		sl_str(&l, "$");
		sl_bytes(&l, v);
	}
	if (f->set[DK_AUTHZID] && f->v[DK_AUTHZID].n) {
		l.full |= sasl_has_byte(f->v[DK_AUTHZID], '$');
		sl_str(&l, "$");
		sl_bytes(&l, f->v[DK_AUTHZID]);
	}
	sasl_set_hash(s, &l, "john", -1);
}

static void digest_client(struct sasl *s, struct sasl_msg *m)
{
	struct digest_st *st = s->st;
	struct dig_fields f;
	if (m->n == 0)
		return; /* the empty answer to rspauth (or to an empty "+ ") */
	bool ok = dig_parse(m->d, m->n, &f);
	if (f.set[DK_USERNAME])
		bstr_set(&s->user, f.v[DK_USERNAME].p, f.v[DK_USERNAME].n, SASL_FIELD_MAX);
	if (f.set[DK_REALM])
		bstr_set(&s->realm, f.v[DK_REALM].p, f.v[DK_REALM].n, SASL_FIELD_MAX);
	if (f.set[DK_AUTHZID])
		bstr_set(&s->authzid, f.v[DK_AUTHZID].p, f.v[DK_AUTHZID].n, SASL_FIELD_MAX);
	static const enum dig_key need[] = { DK_USERNAME, DK_NONCE, DK_CNONCE, DK_NC,
					     DK_DIGEST_URI, DK_RESPONSE };
	for (size_t i = 0; i < ARRAY_LEN(need); i++)
		ok &= f.set[need[i]];
	ok &= !f.repeated && f.v[DK_RESPONSE].n == 32;
	if (!ok) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, m->d, m->n);
		return;
	}
	struct bytes qop = f.v[DK_QOP];
	st->layer = dig_qop_is(qop, "auth-int") || dig_qop_is(qop, "auth-conf");
	dig_hash(s, &f);
}

/* The first challenge must carry a nonce; the last is rspauth=. Nothing is kept. */
static void digest_server(struct sasl *s, struct sasl_msg *m)
{
	struct dig_fields f;
	if (m->n == 0)
		return;
	bool ok = dig_parse(m->d, m->n, &f);
	if (!ok || (!f.set[DK_NONCE] && !f.set[DK_RSPAUTH]))
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_CLIENT, m->d, m->n);
}

static bool digest_layer(const struct sasl *s)
{
	return ((const struct digest_st *)s->st)->layer;
}

const struct sasl_mech sasl_mech_digest_md5 = {
	"DIGEST-MD5", sizeof(struct digest_st), digest_client, digest_server, digest_layer, NULL,
};
