/*
 * sasl_gssapi.c - the Kerberos family: GSSAPI (RFC 4752, Kerberos V5 per
 * RFC 4121 and RFC 1964, token framing per RFC 2743 §3.1) and KERBEROS_V4
 * (RFC 1731).
 *
 * Owns bounded DER reading of what Kerberos leaves in the clear: the AP-REQ's
 * ticket realm, service principal and encrypted part, and the 4-byte security
 * layer negotiation of RFC 4752 §3.1, which both sides wrap with conf_flag
 * FALSE and which is therefore readable in an unsealed Wrap token.
 *
 * The client principal travels encrypted: there is no user name to report.
 * The ticket is encrypted with the service's key; for etype 23 (RC4-HMAC) the
 * key is the service account's NT hash and needs no salt, so the ticket is
 * written as a hashcat -m 13100 "Kerberoast" line
 *   $krb5tgs$23$*$<realm>$<service principal>*$<checksum hex>$<edata2 hex>
 * (the account-name slot stays empty: that name is not on the wire). AES
 * tickets (17, 18) need the account name as salt, so they yield no line.
 */
#include "sasl_priv.h"

#include "cursor.h"

struct der {
	const uint8_t *p;
	size_t n;
};

/*
 * Takes the next TLV (single-byte tag) off the front of *d: its tag into *tag,
 * its contents into *val. Returns false, leaving *d as it was, when the length
 * does not fit (indefinite and over-long length forms included).
 */
static bool der_next(struct der *d, uint8_t *tag, struct der *val)
{
	struct cursor c = cur_make(d->p, d->n);
	uint8_t t = cur_u8(&c);
	size_t len = cur_u8(&c);
	if (len & 0x80) {
		size_t k = len & 0x7f;
		if (k == 0 || k > 4)
			return false;
		len = 0;
		for (size_t i = 0; i < k; i++)
			len = len << 8 | cur_u8(&c);
	}
	const uint8_t *v = cur_bytes(&c, len);
	if (c.short_read)
		return false;
	*tag = t;
	*val = (struct der){ v, len };
	d->p = c.p;
	d->n = cur_left(&c);
	return true;
}

/* Takes the next TLV off *d when its tag is `tag`; otherwise *d stays as it was. */
static bool der_take(struct der *d, uint8_t tag, struct der *val)
{
	struct der rest = *d;
	uint8_t t;
	if (!der_next(&rest, &t, val) || t != tag)
		return false;
	*d = rest;
	return true;
}

/* Finds the element tagged `tag` among a SEQUENCE's contents. */
static bool der_find(struct der seq, uint8_t tag, struct der *val)
{
	while (seq.n) {
		uint8_t t;
		if (!der_next(&seq, &t, val))
			return false;
		if (t == tag)
			return true;
	}
	return false;
}

/* ---- GSSAPI -------------------------------------------------------------- */

struct gss_st {
	uint8_t srv_mask;  /* layers the server offered (1 none, 2 integrity, 4 privacy) */
	uint8_t cli_layer; /* the one the client chose */
	bool have_srv, have_cli;
};

enum { GSS_TOK_AP_REQ = 0x0100, GSS_TOK_AP_REP = 0x0200, GSS_TOK_ERROR = 0x0300,
       GSS_TOK_WRAP_1964 = 0x0201 };

/* Kerberos V5 and the OID Microsoft's early clients used in its place. */
static const uint8_t krb5_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
static const uint8_t krb5_ms_oid[] = { 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02 };

/*
 * Unframes an RFC 2743 §3.1 token: [APPLICATION 0] { OID, TOK_ID(2), body }.
 * Returns 1 for Kerberos V5 (with *tok and *body set), 0 for another mechanism,
 * -1 when malformed.
 */
static int gss_unframe(const uint8_t *d, size_t n, unsigned *tok, struct der *body)
{
	struct der all = { d, n }, in, oid;
	if (!der_take(&all, 0x60, &in) || !der_take(&in, 0x06, &oid))
		return -1;
	bool krb5 = (oid.n == sizeof(krb5_oid) && memcmp(oid.p, krb5_oid, oid.n) == 0) ||
		    (oid.n == sizeof(krb5_ms_oid) && memcmp(oid.p, krb5_ms_oid, oid.n) == 0);
	if (!krb5)
		return 0;
	struct cursor c = cur_make(in.p, in.n);
	*tok = cur_be16(&c);
	if (c.short_read)
		return -1;
	*body = (struct der){ c.p, cur_left(&c) };
	return 1;
}

/* PrincipalName ::= SEQUENCE { name-type [0], name-string [1] SEQUENCE OF GeneralString } */
static bool krb_principal(struct der sn, struct sasl_line *out)
{
	struct der pn, ns, strs, c;
	if (!der_take(&sn, 0x30, &pn) || !der_find(pn, 0xa1, &ns) || !der_take(&ns, 0x30, &strs))
		return false;
	for (bool first = true; strs.n; first = false) {
		if (!der_take(&strs, 0x1b, &c))
			return false;
		if (!first)
			sl_str(out, "/");
		sl_mem(out, c.p, c.n);
	}
	return !out->full;
}

/* EncryptedData ::= SEQUENCE { etype [0], kvno [1] OPTIONAL, cipher [2] OCTET STRING } */
static bool krb_roast(struct sasl *s, struct der realm, struct sasl_line *spn, struct der ep)
{
	struct der eseq, et, ev, c, cipher;
	if (!der_take(&ep, 0x30, &eseq) || !der_find(eseq, 0xa0, &et) ||
	    !der_take(&et, 0x02, &ev) || !der_find(eseq, 0xa2, &c) || !der_take(&c, 0x04, &cipher))
		return false;
	/* RC4-HMAC only; hashcat wants at least 32 bytes after the 16-byte checksum. */
	if (ev.n != 1 || ev.p[0] != 23 || cipher.n < 16 + 32)
		return true;
	struct bytes rb = bytes_of(realm.p, realm.n), sb = bytes_of(spn->p, spn->n);
	struct sasl_line l = { 0 };
	l.full = sasl_has_byte(rb, '*') || sasl_has_byte(rb, '$') || sasl_has_byte(sb, '*');
	sl_str(&l, "$krb5tgs$23$*$");
	sl_bytes(&l, rb);
	sl_str(&l, "$");
	sl_bytes(&l, sb);
	sl_str(&l, "*$");
	sl_hex(&l, cipher.p, 16);
	sl_str(&l, "$");
	sl_hex(&l, cipher.p + 16, cipher.n - 16);
	sasl_set_hash(s, &l, "hashcat", 13100);
	return true;
}

/* AP-REQ ::= [APPLICATION 14] SEQUENCE { ..., ticket [3] Ticket, ... } */
static bool krb_ap_req(struct sasl *s, struct der ap)
{
	struct der apreq, seq, t, tkt, tseq, r, realm, sn, ep;
	if (!der_take(&ap, 0x6e, &apreq) || !der_take(&apreq, 0x30, &seq) ||
	    !der_find(seq, 0xa3, &t) || !der_take(&t, 0x61, &tkt) || !der_take(&tkt, 0x30, &tseq) ||
	    !der_find(tseq, 0xa1, &r) || !der_take(&r, 0x1b, &realm) ||
	    !der_find(tseq, 0xa2, &sn) || !der_find(tseq, 0xa3, &ep))
		return false;
	bstr_set(&s->realm, realm.p, realm.n, SASL_FIELD_MAX);
	struct sasl_line spn = { 0 };
	bool ok = krb_principal(sn, &spn) && krb_roast(s, realm, &spn, ep);
	free(spn.p);
	return ok;
}

/*
 * RFC 4121 §4.2.6.2 Wrap token: 05 04 flags ff EC(2) RRC(2) SND_SEQ(8), then
 * the data rotated right by RRC; unsealed, it is plaintext | EC-byte checksum.
 * Copies up to `cap` plaintext bytes. Returns 1, 0 when sealed, -1 malformed.
 */
static int gss_unwrap_cfx(const uint8_t *d, size_t n, uint8_t *pt, size_t cap, size_t *ptn)
{
	struct cursor c = cur_make_at(d, n, 2); /* past TOK_ID */
	uint8_t flags = cur_u8(&c), filler = cur_u8(&c);
	size_t ec = cur_be16(&c), rrc = cur_be16(&c);
	cur_skip(&c, 8); /* SND_SEQ */
	if (c.short_read || filler != 0xff)
		return -1;
	if (flags & 0x02)
		return 0;
	const uint8_t *data = c.p;
	size_t len = cur_left(&c);
	if (ec > len)
		return -1;
	*ptn = len - ec < cap ? len - ec : cap;
	for (size_t i = 0; i < *ptn; i++)
		pt[i] = data[(i + rrc) % len];
	return 1;
}

/*
 * RFC 1964 §1.2.2 / RFC 4757 §7.3 Wrap body (after TOK_ID 02 01): SGN_ALG(2)
 * SEAL_ALG(2, ff ff = none) ff ff SND_SEQ(8) SGN_CKSUM(8; 20 for DES3-KD)
 * confounder(8) data padding(1..8 bytes of its length). Same contract as above.
 */
static int gss_unwrap_1964(struct der b, uint8_t *pt, size_t cap, size_t *ptn)
{
	struct cursor c = cur_make(b.p, b.n);
	uint16_t sgn_alg = cur_be16(&c), seal_alg = cur_be16(&c), filler = cur_be16(&c);
	if (c.short_read || filler != 0xffff)
		return -1;
	if (seal_alg != 0xffff)
		return 0;
	cur_skip(&c, 8 + (sgn_alg >> 8 == 0x04 ? 20 : 8) + 8); /* SND_SEQ, SGN_CKSUM, confounder */
	size_t len = cur_left(&c);
	if (c.short_read || len == 0)
		return -1;
	size_t pad = c.p[len - 1];
	if (pad < 1 || pad > 8 || pad > len)
		return -1;
	*ptn = len - pad < cap ? len - pad : cap;
	memcpy(pt, c.p, *ptn);
	return 1;
}

/*
 * The unwrapped layer message: mask(1) max-size(3) [authzid]. The server's
 * mask offers layers, the client's picks one and may name an authzid.
 */
static void gss_layer_msg(struct sasl *s, enum dir dir, int r, const uint8_t *pt, size_t n,
			  const struct sasl_msg *m)
{
	struct gss_st *st = s->st;
	if (r == 0)
		return; /* sealed against RFC 4752: the choice stays unknown */
	if (r < 0 || n < 4) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, dir, m->d, m->n);
		return;
	}
	if (dir == DIR_TO_CLIENT) {
		st->srv_mask = pt[0];
		st->have_srv = true;
		return;
	}
	st->cli_layer = pt[0];
	st->have_cli = true;
	if (n > 4)
		bstr_set(&s->authzid, pt + 4, n - 4, SASL_FIELD_MAX);
}

/* One GSSAPI token from either side. */
static void gss_token(struct sasl *s, enum dir dir, struct sasl_msg *m)
{
	uint8_t pt[4 + SASL_FIELD_MAX];
	size_t ptn = 0;
	unsigned tok = 0;
	struct der body;
	struct cursor c = cur_make(m->d, m->n);
	if (cur_be16(&c) == 0x0504 && !c.short_read) { /* RFC 4121 Wrap: TOK_ID 05 04, no framing */
		int r = gss_unwrap_cfx(m->d, m->n, pt, sizeof(pt), &ptn);
		gss_layer_msg(s, dir, r, pt, ptn, m);
		return;
	}
	int f = m->d[0] == 0x60 ? gss_unframe(m->d, m->n, &tok, &body) : -1;
	if (f == 0 || tok == GSS_TOK_AP_REP || tok == GSS_TOK_ERROR)
		return; /* another GSS mechanism, or nothing in the clear */
	if (f == 1 && tok == GSS_TOK_WRAP_1964) {
		int r = gss_unwrap_1964(body, pt, sizeof(pt), &ptn);
		gss_layer_msg(s, dir, r, pt, ptn, m);
		return;
	}
	bool ok = f == 1 && tok == GSS_TOK_AP_REQ && dir == DIR_TO_SERVER && krb_ap_req(s, body);
	if (!ok)
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, dir, m->d, m->n);
}

static void gss_client(struct sasl *s, struct sasl_msg *m)
{
	if (m->n)
		gss_token(s, DIR_TO_SERVER, m);
}

static void gss_server(struct sasl *s, struct sasl_msg *m)
{
	/* Empty: the "+ " inviting the AP-REQ. 0x6f/0x7e: a bare AP-REP or KRB-ERROR. */
	if (m->n && m->d[0] != 0x6f && m->d[0] != 0x7e)
		gss_token(s, DIR_TO_CLIENT, m);
}

/*
 * A layer other than "none" wraps the rest of the connection. Known when the
 * client's choice was readable, or when the server offered no "none" at all;
 * otherwise assume none (false), since reading on costs only anomalies while
 * stopping would lose a clear-text session.
 */
static bool gss_layer(const struct sasl *s)
{
	const struct gss_st *st = s->st;
	if (st->have_cli)
		return (st->cli_layer & 0x06) != 0;
	return st->have_srv && !(st->srv_mask & 0x01);
}

const struct sasl_mech sasl_mech_gssapi = {
	"GSSAPI", sizeof(struct gss_st), gss_client, gss_server, gss_layer, NULL,
};

/* ---- KERBEROS_V4 ------------------------------------------------------------ */

#define KRB4_REALM_SZ 40 /* REALM_SZ in krb.h, the NUL included */

struct krb4_st {
	bool seen_req;
};

/*
 * RFC 1731 §2: S sends a 4-byte nonce; C sends krb_mk_req()'s AUTH_MSG_APPL_REQUEST
 * (pvno 4, type 6 | byte-order bit, kvno, realm NUL-terminated, lengths, ticket,
 * authenticator): the realm is in the clear. All later messages are encrypted.
 */
static void krb4_client(struct sasl *s, struct sasl_msg *m)
{
	struct krb4_st *st = s->st;
	if (m->n == 0 || st->seen_req)
		return;
	st->seen_req = true;
	struct cursor c = cur_make(m->d, m->n);
	uint8_t pvno = cur_u8(&c), type = cur_u8(&c);
	cur_skip(&c, 1); /* kvno */
	size_t max = cur_left(&c) < KRB4_REALM_SZ ? cur_left(&c) : KRB4_REALM_SZ;
	const uint8_t *realm = c.p, *nul = max ? memchr(realm, 0, max) : NULL;
	if (c.short_read || pvno != 4 || (type & 0xfe) != 6 || !nul) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, m->d, m->n);
		return;
	}
	bstr_set(&s->realm, realm, (size_t)(nul - realm), SASL_FIELD_MAX);
}

static void krb4_server(struct sasl *s, struct sasl_msg *m)
{
	if (s->challenges == 1 && m->n != 4)
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_CLIENT, m->d, m->n);
}

const struct sasl_mech sasl_mech_kerberos_v4 = {
	"KERBEROS_V4", sizeof(struct krb4_st), krb4_client, krb4_server, NULL, NULL,
};
