/*
 * sasl_scram.c - SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS variants (RFC 5802,
 * RFC 7677; SCRAM-SHA-512 per draft-melnikov-scram-sha-512) as a passive
 * observer sees them.
 *
 * Owns the four SCRAM messages: client-first (gs2 header + "n=user,r=cnonce"),
 * server-first ("r=nonce,s=salt,i=iter"), client-final ("c=..,r=..,p=proof")
 * and server-final ("v=.." or "e=.."). Names are RFC 5801 saslnames ("=2C" is
 * ',', "=3D" is '='), decoded for the user and authzid fields.
 *
 * No cracker has a mode for a sniffed SCRAM exchange (hashcat 24100/24200/28600
 * take stored keys), so popsift writes its own record, hash_format "scram":
 *   $scram$<mech>$<user>$<iter>$<salt b64>$<AuthMessage b64>$<ClientProof b64>
 * <mech> is the mechanism name as sent (its hash: SHA-1, SHA-256, SHA-512);
 * <user> is the saslname as sent, with '$' further escaped as "=24"; <iter>
 * decimal; <salt> and <ClientProof> are the base64 texts from the wire;
 * AuthMessage = client-first-bare "," server-first "," client-final-without-proof
 * (RFC 5802 §3), base64-encoded here because it holds ',' and may hold '$'.
 * A candidate password P is right when, with H the mechanism's hash,
 *   SaltedPassword = PBKDF2-HMAC-H(P, salt, iter), ClientKey = HMAC(SaltedPassword,
 *   "Client Key"), ClientSignature = HMAC(H(ClientKey), AuthMessage) and
 *   ClientProof XOR ClientSignature == ClientKey.
 */
#include "sasl_priv.h"

struct scram_st {
	struct bstr bare;         /* client-first-message-bare */
	struct bstr user_wire;    /* the saslname as sent */
	struct bstr server_first; /* server-first-message */
	struct bytes salt, iter;  /* within server_first */
};

/* Finds attribute `a=` among the comma-separated fields of p[0..n). */
static bool scram_attr(const uint8_t *p, size_t n, char a, struct bytes *v)
{
	size_t i = 0;
	while (i < n) {
		const uint8_t *c = memchr(p + i, ',', n - i);
		size_t fn = c ? (size_t)(c - p) - i : n - i;
		if (fn >= 2 && p[i] == (uint8_t)a && p[i + 1] == '=') {
			*v = bytes_of(p + i + 2, fn - 2);
			return true;
		}
		i += fn + 1;
	}
	return false;
}

/* client-first: gs2-header client-first-message-bare. Returns false when malformed. */
static bool scram_client_first(struct sasl *s, struct scram_st *st, const uint8_t *d, size_t n)
{
	struct bytes authzid, user, nonce;
	size_t hl;
	if (!sasl_gs2_header(d, n, &authzid, &hl))
		return false;
	const uint8_t *bare = d + hl;
	size_t bn = n - hl;
	/* RFC 5802 §7: "m=" (reserved-mext) may come first; then n= and r=. */
	if (!scram_attr(bare, bn, 'n', &user) || !scram_attr(bare, bn, 'r', &nonce))
		return false;
	if (!sasl_saslname(user, &s->user))
		return false;
	if (authzid.n && !sasl_saslname(authzid, &s->authzid))
		return false;
	if (bn > SASL_MSG_MAX)
		return false; /* kept whole or not at all: it is part of AuthMessage */
	bstr_set(&st->user_wire, user.p, user.n, SASL_FIELD_MAX);
	bstr_set(&st->bare, bare, bn, SASL_MSG_MAX);
	return true;
}

static bool scram_digits(struct bytes b)
{
	if (b.n == 0 || b.n > 10)
		return false;
	for (size_t i = 0; i < b.n; i++)
		if (b.p[i] < '0' || b.p[i] > '9')
			return false;
	return true;
}

/* server-first: r=nonce,s=salt,i=iter. Kept whole: it is part of AuthMessage. */
static void scram_server(struct sasl *s, struct sasl_msg *m)
{
	struct scram_st *st = s->st;
	struct bytes r, salt, iter;
	if (m->n == 0 || (m->n >= 2 && (m->d[0] == 'v' || m->d[0] == 'e') && m->d[1] == '='))
		return; /* an empty "+ ", or server-final: nothing more to keep */
	if (m->n > SASL_MSG_MAX || !scram_attr(m->d, m->n, 'r', &r) ||
	    !scram_attr(m->d, m->n, 's', &salt) || !scram_attr(m->d, m->n, 'i', &iter) ||
	    salt.n == 0 || !scram_digits(iter)) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_CLIENT, m->d, m->n);
		return;
	}
	bstr_set(&st->server_first, m->d, m->n, SASL_MSG_MAX);
	st->salt = bytes_of(st->server_first.p + (salt.p - m->d), salt.n);
	st->iter = bytes_of(st->server_first.p + (iter.p - m->d), iter.n);
}

/* The saslname as sent, with '$' (the record's separator) escaped as "=24". */
static void scram_user_field(struct sasl_line *l, struct bytes u)
{
	for (size_t i = 0; i < u.n; i++) {
		if (u.p[i] == '$')
			sl_str(l, "=24");
		else
			sl_mem(l, u.p + i, 1);
	}
}

/* client-final: everything before ",p=" is signed; p= is the proof. */
static void scram_client_final(struct sasl *s, struct scram_st *st, const uint8_t *d, size_t n)
{
	const uint8_t *p = NULL;
	for (size_t i = n; i >= 3 && !p; i--)
		if (memcmp(d + i - 3, ",p=", 3) == 0)
			p = d + i - 3;
	if (!p || p + 3 == d + n) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, d, n);
		return;
	}
	if (!st->bare.n || !st->server_first.n)
		return; /* the capture lacks an earlier message: no record */
	struct sasl_line am = { 0 }, l = { 0 };
	sl_bytes(&am, bstr_bytes(&st->bare));
	sl_str(&am, ",");
	sl_bytes(&am, bstr_bytes(&st->server_first));
	sl_str(&am, ",");
	sl_mem(&am, d, (size_t)(p - d));
	sl_str(&l, "$scram$");
	sl_str(&l, s->name);
	sl_str(&l, "$");
	scram_user_field(&l, bstr_bytes(&st->user_wire));
	sl_str(&l, "$");
	sl_bytes(&l, st->iter);
	sl_str(&l, "$");
	sl_bytes(&l, st->salt);
	sl_str(&l, "$");
	sl_b64(&l, am.p, am.n);
	l.full |= am.full;
	sl_str(&l, "$");
	struct bytes proof = bytes_of(p + 3, (size_t)(d + n - (p + 3)));
	sl_bytes(&l, proof);
	l.full |= sasl_has_byte(st->salt, '$') || sasl_has_byte(proof, '$');
	free(am.p);
	sasl_set_hash(s, &l, "scram", -1);
}

static void scram_client(struct sasl *s, struct sasl_msg *m)
{
	struct scram_st *st = s->st;
	if (m->n == 0)
		return; /* the empty answer to server-final */
	if (m->n >= 2 && m->d[0] == 'c' && m->d[1] == '=') {
		scram_client_final(s, st, m->d, m->n);
		return;
	}
	if (!scram_client_first(s, st, m->d, m->n))
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, m->d, m->n);
}

static void scram_free(void *p)
{
	struct scram_st *st = p;
	bstr_free(&st->bare);
	bstr_free(&st->user_wire);
	bstr_free(&st->server_first);
}

const struct sasl_mech sasl_mech_scram = {
	"SCRAM", sizeof(struct scram_st), scram_client, scram_server, NULL, scram_free,
};
