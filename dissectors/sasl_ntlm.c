/*
 * sasl_ntlm.c - NTLM over SASL ([MS-NLMP] messages, carried as [MS-POP3]
 * describes; also fetchmail's "AUTH MSN", the same exchange).
 *
 * Owns the parsing of the three NTLMSSP messages: Type 1 (negotiate, ignored),
 * Type 2 (the server's 8-byte challenge at offset 24, flags at 20) and Type 3
 * (security buffers {len u16le, maxlen u16le, offset u32le} at 12 LM, 20 NT,
 * 28 domain, 36 user, 44 workstation; flags at 60). Every offset and length is
 * checked against the message before use; a message that does not fit is an
 * anomaly. Names are UTF-16LE when NEGOTIATE_UNICODE is set, converted here to
 * UTF-8; otherwise OEM bytes, kept as sent.
 *
 * Cracking lines (hashcat): an NT response of 24 bytes is NetNTLMv1, -m 5500
 *   user::domain:LMresp48hex:NTresp48hex:srvchal16hex
 * and a longer one NetNTLMv2, -m 5600
 *   user::domain:srvchal16hex:NTProofStr32hex:rest-of-NT-response-hex
 */
#include "sasl_priv.h"

#include "cursor.h"

#define NTLM_NEGOTIATE_UNICODE 0x00000001u
#define NTLM_T3_HEADER 64 /* Type 3 up to and including its flags */

struct ntlm_st {
	uint8_t chal[8];   /* Type 2 server challenge */
	uint32_t flags;    /* Type 2 flags: what the server agreed to */
	bool have_chal;
};

/* What a Type 3 message carries, pointing into the decoded message. */
struct ntlm_auth {
	struct bytes lm, nt, domain, user, workstation;
	uint32_t flags;
};

/* The message type of an NTLMSSP message, or 0 when d[0..n) is not one. */
static uint32_t ntlm_type(const uint8_t *d, size_t n)
{
	struct cursor c = cur_make(d, n);
	const uint8_t *signature = cur_bytes(&c, 8);
	uint32_t type = cur_le32(&c);
	if (c.short_read || memcmp(signature, "NTLMSSP\0", 8) != 0)
		return 0;
	return type;
}

/*
 * Reads the security buffer described at offset `at`. Returns false when the
 * descriptor or the bytes it points to lie outside d[0..n). An empty buffer's
 * offset is not checked: some clients leave it 0 or past the end.
 */
static bool ntlm_secbuf(const uint8_t *d, size_t n, size_t at, struct bytes *out)
{
	struct cursor desc = cur_make_at(d, n, at);
	size_t len = cur_le16(&desc);
	cur_skip(&desc, 2); /* maxlen */
	size_t off = cur_le32(&desc);
	if (desc.short_read)
		return false;
	if (len == 0) {
		*out = BYTES_NONE;
		return true;
	}
	struct cursor buf = cur_make_at(d, n, off);
	const uint8_t *p = cur_bytes(&buf, len);
	if (buf.short_read)
		return false;
	*out = bytes_of(p, len);
	return true;
}

/*
 * Appends code point cp as UTF-8 to out[*w..cap). Returns false (nothing
 * written) when it does not fit: names are cut at a character boundary.
 */
static bool utf8_put(uint8_t *out, size_t cap, size_t *w, uint32_t cp)
{
	uint8_t b[4];
	size_t k;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		k = 4;
	}
	if (k > cap - *w)
		return false;
	memcpy(out + *w, b, k);
	*w += k;
	return true;
}

/*
 * Converts UTF-16LE to UTF-8 into *out (at most SASL_FIELD_MAX bytes). A lone
 * surrogate or a trailing odd byte becomes U+FFFD.
 */
static void ntlm_utf16(struct bytes in, struct bstr *out)
{
	uint8_t buf[SASL_FIELD_MAX];
	size_t w = 0;
	struct cursor c = cur_make(in.p, in.n);
	while (cur_left(&c) > 0) {
		uint32_t cp = 0xfffd;
		if (cur_left(&c) < 2) {
			cur_skip(&c, 1); /* a trailing odd byte */
		} else {
			uint32_t u = cur_le16(&c);
			cp = u;
			if (u >= 0xdc00 && u <= 0xdfff) {
				cp = 0xfffd;
			} else if (u >= 0xd800 && u <= 0xdbff) {
				struct cursor next = c;
				uint32_t lo = cur_le16(&next); /* 0 when there is none */
				bool pair = lo >= 0xdc00 && lo <= 0xdfff;
				cp = pair ? 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00) : 0xfffd;
				if (pair)
					c = next;
			}
		}
		if (!utf8_put(buf, sizeof(buf), &w, cp))
			break;
	}
	bstr_set(out, buf, w, SASL_FIELD_MAX);
}

static void ntlm_name(struct bytes in, bool unicode, struct bstr *out)
{
	if (unicode)
		ntlm_utf16(in, out);
	else
		bstr_set(out, in.p, in.n, SASL_FIELD_MAX);
}

/* Type 2: keep the challenge and the flags the server chose. */
static void ntlm_server(struct sasl *s, struct sasl_msg *m)
{
	struct ntlm_st *st = s->st;
	if (m->n == 0)
		return; /* the empty "+ " that invites the Type 1 message */
	struct cursor c = cur_make_at(m->d, m->n, 20);
	uint32_t flags = cur_le32(&c);
	const uint8_t *chal = cur_bytes(&c, 8);
	if (ntlm_type(m->d, m->n) != 2 || c.short_read) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_CLIENT, m->d, m->n);
		return;
	}
	st->flags = flags;
	memcpy(st->chal, chal, 8);
	st->have_chal = true;
}

/*
 * Parses a Type 3 message into *a. Its flags field exists only when no buffer
 * starts before offset 64 (the oldest clients end the header at 52); without
 * it, Type 2's flags decide the encoding. Returns false when malformed.
 */
static bool ntlm_parse_auth(const struct ntlm_st *st, const uint8_t *d, size_t n,
			    struct ntlm_auth *a)
{
	struct bytes *bufs[] = { &a->lm, &a->nt, &a->domain, &a->user, &a->workstation };
	size_t lowest = n;
	for (size_t i = 0; i < ARRAY_LEN(bufs); i++) {
		if (!ntlm_secbuf(d, n, 12 + 8 * i, bufs[i]))
			return false;
		if (bufs[i]->n && (size_t)(bufs[i]->p - d) < lowest)
			lowest = (size_t)(bufs[i]->p - d);
	}
	struct cursor c = cur_make_at(d, n, NTLM_T3_HEADER - 4);
	uint32_t flags = cur_le32(&c);
	a->flags = !c.short_read && lowest >= NTLM_T3_HEADER ? flags : st->flags;
	return true;
}

/* user::domain:LM:NT:chal (v1) or user::domain:chal:NTProofStr:blob (v2). */
static void ntlm_hash(struct sasl *s, const struct ntlm_st *st, const struct ntlm_auth *a)
{
	struct sasl_line l = { 0 };
	sl_bytes(&l, bstr_bytes(&s->user));
	sl_str(&l, "::");
	sl_bytes(&l, bstr_bytes(&s->realm));
	sl_str(&l, ":");
	if (a->nt.n == 24) {
		/* No 24-byte LM response: the NT one in its place keeps hashcat off the ESS path. */
		struct bytes lm = a->lm.n == 24 ? a->lm : a->nt;
		sl_hex(&l, lm.p, lm.n);
		sl_str(&l, ":");
		sl_hex(&l, a->nt.p, a->nt.n);
		sl_str(&l, ":");
		sl_hex(&l, st->chal, 8);
		sasl_set_hash(s, &l, "hashcat", 5500);
		return;
	}
	sl_hex(&l, st->chal, 8);
	sl_str(&l, ":");
	sl_hex(&l, a->nt.p, 16);
	sl_str(&l, ":");
	sl_hex(&l, a->nt.p + 16, a->nt.n - 16);
	sasl_set_hash(s, &l, "hashcat", 5600);
}

/*
 * Type 3: names and responses. An NT response shorter than NTLMv2's 16-byte
 * proof plus its blob header (28 bytes), other than v1's 24, cannot be cracked
 * and is malformed; an empty one is an anonymous login.
 */
static void ntlm_auth(struct sasl *s, struct ntlm_st *st, const uint8_t *d, size_t n)
{
	struct ntlm_auth a;
	if (!ntlm_parse_auth(st, d, n, &a) || (a.nt.n && a.nt.n != 24 && a.nt.n < 16 + 28)) {
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, d, n);
		return;
	}
	bool unicode = (a.flags & NTLM_NEGOTIATE_UNICODE) != 0;
	ntlm_name(a.user, unicode, &s->user);
	ntlm_name(a.domain, unicode, &s->realm);
	ntlm_name(a.workstation, unicode, &s->workstation);
	/* ':' separates hashcat's fields; Windows forbids it in user and domain names. */
	bool usable = !sasl_has_byte(bstr_bytes(&s->user), ':') &&
		      !sasl_has_byte(bstr_bytes(&s->realm), ':');
	if (st->have_chal && a.nt.n && usable)
		ntlm_hash(s, st, &a);
}

static void ntlm_client(struct sasl *s, struct sasl_msg *m)
{
	if (m->n == 0)
		return;
	switch (ntlm_type(m->d, m->n)) {
	case 1:
		break; /* negotiate: nothing a cracker needs */
	case 3:
		ntlm_auth(s, s->st, m->d, m->n);
		break;
	default:
		emit_anomaly(s->sink, ANOM_SASL_MALFORMED, DIR_TO_SERVER, m->d, m->n);
		break;
	}
}

const struct sasl_mech sasl_mech_ntlm = {
	"NTLM", sizeof(struct ntlm_st), ntlm_client, ntlm_server, NULL, NULL,
};
