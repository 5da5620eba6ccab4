/*
 * tls_hello.c - ClientHello, ServerHello (and HelloRetryRequest) and
 * EncryptedExtensions parsers (tls_hello.h). Every read goes through
 * tls_wire.h's bounded reader; a vector running past its parent makes the
 * message malformed. Extensions popsift does not use are skipped by length.
 */
#include "tls_hello.h"

#include <string.h>

/* SHA-256("HelloRetryRequest"), the ServerHello.random of an HRR (RFC 8446 §4.1.3). */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c
};

/* server_name (RFC 6066 §3): the first host_name of the ServerNameList. */
static bool parse_sni(struct tls_rd d, struct tls_client_hello *ch)
{
	struct tls_rd list = tls_rd_vec(&d, 2);
	while (list.n && !list.bad) {
		uint8_t type = tls_rd_u8(&list);
		struct tls_rd name = tls_rd_vec(&list, 2);
		if (type == 0 && !list.bad && !ch->sni) {
			ch->sni = name.p;
			ch->sni_len = name.n;
		}
	}
	return !list.bad;
}

/* The highest entry of the ClientHello's supported_versions, GREASE ignored. */
static bool parse_versions(struct tls_rd d, struct tls_client_hello *ch)
{
	struct tls_rd v = tls_rd_vec(&d, 1);
	while (v.n >= 2) {
		uint16_t x = tls_rd_u16(&v);
		if (!tls_is_grease(x) && x > ch->max_version)
			ch->max_version = x;
	}
	return !v.bad && v.n == 0;
}

static bool ch_extension(struct tls_client_hello *ch, uint16_t type, struct tls_rd d)
{
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		ch->sni_present = true;
		return parse_sni(d, ch);
	case TLS_EXT_ALPN:
		ch->alpn = tls_rd_vec(&d, 2);
		return !ch->alpn.bad;
	case TLS_EXT_SUPPORTED_VERSIONS:
		return parse_versions(d, ch);
	case TLS_EXT_SUPPORTED_GROUPS:
		ch->groups = tls_rd_vec(&d, 2);
		return !ch->groups.bad;
	case TLS_EXT_EC_POINT_FORMATS:
		ch->point_formats = tls_rd_vec(&d, 1);
		return !ch->point_formats.bad;
	case TLS_EXT_SIGNATURE_ALGORITHMS:
		ch->sigalgs = tls_rd_vec(&d, 2);
		return !ch->sigalgs.bad;
	case TLS_EXT_SESSION_TICKET:
		ch->ticket = d.n > 0;
		return true;
	case TLS_EXT_PRE_SHARED_KEY:
		ch->psk = true;
		return true;
	case TLS_EXT_EARLY_DATA:
		ch->early_data = true;
		return true;
	default:
		return true;
	}
}

/* Walks an extensions block, calling each(ctx, type, data); false if malformed. */
static bool walk_extensions(struct tls_rd exts, bool (*each)(void *, uint16_t, struct tls_rd),
			    void *ctx)
{
	while (exts.n && !exts.bad) {
		uint16_t type = tls_rd_u16(&exts);
		struct tls_rd data = tls_rd_vec(&exts, 2);
		if (exts.bad || !each(ctx, type, data))
			return false;
	}
	return !exts.bad;
}

static bool ch_each(void *ctx, uint16_t type, struct tls_rd d)
{
	return ch_extension(ctx, type, d);
}

bool tls_parse_client_hello(const uint8_t *p, size_t n, struct tls_client_hello *ch)
{
	struct tls_rd r = tls_rd_make(p, n);
	memset(ch, 0, sizeof(*ch));
	ch->legacy_version = tls_rd_u16(&r);
	ch->random = tls_rd_take(&r, 32);
	struct tls_rd sid = tls_rd_vec(&r, 1);
	ch->session_id = sid.p;
	ch->session_id_len = sid.n;
	ch->suites = tls_rd_vec(&r, 2);
	struct tls_rd comp = tls_rd_vec(&r, 1);
	(void)comp;
	if (r.bad || sid.n > 32 || ch->suites.n % 2)
		return false;
	if (r.n) { /* extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.2) */
		ch->exts = tls_rd_vec(&r, 2);
		if (r.bad || r.n)
			return false;
	}
	return walk_extensions(ch->exts, ch_each, ch);
}

static bool sh_each(void *ctx, uint16_t type, struct tls_rd d)
{
	struct tls_server_hello *sh = ctx;
	switch (type) {
	case TLS_EXT_SUPPORTED_VERSIONS:
		sh->selected_version = tls_rd_u16(&d);
		return !d.bad;
	case TLS_EXT_PRE_SHARED_KEY:
		sh->psk = true;
		return true;
	case TLS_EXT_ENCRYPT_THEN_MAC:
		sh->etm = true;
		return true;
	case TLS_EXT_EXTENDED_MASTER_SECRET:
		sh->ems = true;
		return true;
	case TLS_EXT_ALPN: {
		struct tls_rd list = tls_rd_vec(&d, 2);
		struct tls_rd name = tls_rd_vec(&list, 1);
		if (name.bad)
			return false;
		sh->alpn = name.p;
		sh->alpn_len = name.n;
		return true;
	}
	default:
		return true;
	}
}

bool tls_parse_server_hello(const uint8_t *p, size_t n, struct tls_server_hello *sh)
{
	struct tls_rd r = tls_rd_make(p, n);
	memset(sh, 0, sizeof(*sh));
	sh->legacy_version = tls_rd_u16(&r);
	sh->random = tls_rd_take(&r, 32);
	struct tls_rd sid = tls_rd_vec(&r, 1);
	sh->session_id = sid.p;
	sh->session_id_len = sid.n;
	sh->cipher_suite = tls_rd_u16(&r);
	tls_rd_u8(&r); /* legacy_compression_method */
	if (r.bad || sid.n > 32)
		return false;
	if (r.n) {
		sh->exts = tls_rd_vec(&r, 2);
		if (r.bad || r.n)
			return false;
	}
	sh->hello_retry = memcmp(sh->random, hrr_random, 32) == 0;
	return walk_extensions(sh->exts, sh_each, sh);
}

struct ee_ctx {
	const uint8_t **alpn;
	size_t *alpn_len;
};

static bool ee_each(void *ctx, uint16_t type, struct tls_rd d)
{
	struct ee_ctx *e = ctx;
	if (type != TLS_EXT_ALPN)
		return true;
	struct tls_rd list = tls_rd_vec(&d, 2);
	struct tls_rd name = tls_rd_vec(&list, 1);
	if (name.bad)
		return false;
	*e->alpn = name.p;
	*e->alpn_len = name.n;
	return true;
}

bool tls_parse_encrypted_extensions(const uint8_t *p, size_t n, const uint8_t **alpn,
				    size_t *alpn_len)
{
	struct tls_rd r = tls_rd_make(p, n);
	struct tls_rd exts = tls_rd_vec(&r, 2);
	struct ee_ctx e = { alpn, alpn_len };
	*alpn = NULL;
	*alpn_len = 0;
	if (r.bad || r.n)
		return false;
	return walk_extensions(exts, ee_each, &e);
}
