/*
 * tls_fingerprint.c - JA3, JA3S and JA4 (tls_fingerprint.h). The strings
 * are hashed as they are written, so a hostile hello with thousands of
 * ciphers costs no unbounded buffer: only JA4's sorted lists are held, at
 * most one entry per two octets of a message already bounded by
 * TLS_HANDSHAKE_MAX.
 */
#include "tls_fingerprint.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fp_out {
	EVP_MD_CTX *md;
	char *str; /* NULL: hash only */
	size_t max, len;
	bool cut;
};

static const char hexdig[] = "0123456789abcdef";

static void out_put(struct fp_out *o, const char *s, size_t n)
{
	EVP_DigestUpdate(o->md, s, n);
	if (!o->str)
		return;
	size_t room = o->max - 1 - o->len, take = n < room ? n : room;
	memcpy(o->str + o->len, s, take);
	o->len += take;
	o->str[o->len] = '\0';
	if (take < n)
		o->cut = true;
}

static void out_dec(struct fp_out *o, unsigned v)
{
	char b[12];
	int k = snprintf(b, sizeof(b), "%u", v);
	out_put(o, b, (size_t)k);
}

static void out_hex4(struct fp_out *o, uint16_t v)
{
	char b[4] = { hexdig[v >> 12], hexdig[(v >> 8) & 15], hexdig[(v >> 4) & 15], hexdig[v & 15] };
	out_put(o, b, 4);
}

/* The values of a list of `width`-octet integers, GREASE removed, '-'-joined. */
static void out_list(struct fp_out *o, struct tls_rd list, size_t width)
{
	bool first = true;
	while (list.n >= width) {
		uint16_t v = (uint16_t)tls_rd_uint(&list, width);
		if (width == 2 && tls_is_grease(v))
			continue;
		if (!first)
			out_put(o, "-", 1);
		out_dec(o, v);
		first = false;
	}
}

/* The extension types of an extensions block, GREASE removed, '-'-joined. */
static void out_ext_types(struct fp_out *o, struct tls_rd exts)
{
	bool first = true;
	while (exts.n >= 4) {
		uint16_t type = tls_rd_u16(&exts);
		tls_rd_vec(&exts, 2);
		if (tls_is_grease(type))
			continue;
		if (!first)
			out_put(o, "-", 1);
		out_dec(o, type);
		first = false;
	}
}

static bool out_begin(struct fp_out *o, const EVP_MD *md, char *str, size_t max)
{
	memset(o, 0, sizeof(*o));
	o->md = EVP_MD_CTX_new();
	o->str = max ? str : NULL;
	o->max = max;
	if (o->str)
		o->str[0] = '\0';
	return o->md && EVP_DigestInit_ex(o->md, md, NULL) > 0;
}

/* Writes the first `hexlen` hex digits of the digest into hex (NUL-terminated). */
static void out_end(struct fp_out *o, char *hex, size_t hexlen)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	hex[0] = '\0';
	if (o->md && EVP_DigestFinal_ex(o->md, md, &mdlen) > 0) {
		for (size_t i = 0; i < hexlen / 2 && i < mdlen; i++) {
			hex[2 * i] = hexdig[md[i] >> 4];
			hex[2 * i + 1] = hexdig[md[i] & 15];
		}
		hex[hexlen < 2 * (size_t)mdlen ? hexlen : 2 * (size_t)mdlen] = '\0';
	}
	EVP_MD_CTX_free(o->md);
	o->md = NULL;
}

void tls_ja3(const struct tls_client_hello *ch, char hash[33], char *str, size_t strmax,
	     bool *cut)
{
	struct fp_out o;
	if (out_begin(&o, EVP_md5(), str, strmax)) {
		out_dec(&o, ch->legacy_version);
		out_put(&o, ",", 1);
		out_list(&o, ch->suites, 2);
		out_put(&o, ",", 1);
		out_ext_types(&o, ch->exts);
		out_put(&o, ",", 1);
		out_list(&o, ch->groups, 2);
		out_put(&o, ",", 1);
		out_list(&o, ch->point_formats, 1);
	}
	*cut = o.cut;
	out_end(&o, hash, 32);
}

void tls_ja3s(const struct tls_server_hello *sh, char hash[33], char *str, size_t strmax,
	      bool *cut)
{
	struct fp_out o;
	if (out_begin(&o, EVP_md5(), str, strmax)) {
		out_dec(&o, sh->legacy_version);
		out_put(&o, ",", 1);
		out_dec(&o, sh->cipher_suite);
		out_put(&o, ",", 1);
		out_ext_types(&o, sh->exts);
	}
	*cut = o.cut;
	out_end(&o, hash, 32);
}

static const char *ja4_version(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "13";
	case 0x0303:
		return "12";
	case 0x0302:
		return "11";
	case 0x0301:
		return "10";
	case 0x0300:
		return "s3";
	case 0x0002:
		return "s2";
	case 0xfeff:
		return "d1";
	case 0xfefd:
		return "d2";
	case 0xfefc:
		return "d3";
	default:
		return "00";
	}
}

static bool alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN value, "00" without one. */
static void ja4_alpn(const struct tls_client_hello *ch, char out[2])
{
	struct tls_rd list = ch->alpn;
	struct tls_rd name = tls_rd_vec(&list, 1);
	out[0] = out[1] = '0';
	if (name.bad || name.n == 0)
		return;
	uint8_t first = name.p[0], last = name.p[name.n - 1];
	if (alnum(first) && alnum(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else { /* the first and last digit of the value in hex */
		out[0] = hexdig[first >> 4];
		out[1] = hexdig[last & 15];
	}
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/* Collects the non-GREASE 2-octet values of list (ext: extension types). */
static size_t collect(struct tls_rd list, bool ext, uint16_t *out)
{
	size_t k = 0;
	while (list.n >= (ext ? 4u : 2u)) {
		uint16_t v = tls_rd_u16(&list);
		if (ext)
			tls_rd_vec(&list, 2);
		if (!tls_is_grease(v))
			out[k++] = v;
	}
	return k;
}

/* 12 hex digits of SHA-256 over the sorted values, ',' joined [+ "_" sigalgs]. */
static void ja4_hash(uint16_t *v, size_t n, const struct tls_rd *sigalgs, char out[13])
{
	struct fp_out o;
	if (n == 0) {
		memcpy(out, "000000000000", 13);
		return;
	}
	qsort(v, n, sizeof(*v), cmp_u16);
	if (out_begin(&o, EVP_sha256(), NULL, 0)) {
		for (size_t i = 0; i < n; i++) {
			if (i)
				out_put(&o, ",", 1);
			out_hex4(&o, v[i]);
		}
		struct tls_rd s = sigalgs ? *sigalgs : tls_rd_make(NULL, 0);
		for (bool first = true; s.n >= 2;) {
			uint16_t a = tls_rd_u16(&s);
			if (tls_is_grease(a))
				continue;
			out_put(&o, first ? "_" : ",", 1);
			out_hex4(&o, a);
			first = false;
		}
	}
	out_end(&o, out, 12);
}

void tls_ja4(const struct tls_client_hello *ch, char ja4[37])
{
	size_t cap = ch->suites.n / 2 + ch->exts.n / 4 + 1;
	uint16_t *v = malloc(cap * sizeof(*v));
	ja4[0] = '\0';
	if (!v)
		return;
	size_t nc = collect(ch->suites, false, v);
	size_t ne = collect(ch->exts, true, v + nc);
	char alpn[2], b[13], c[13];
	ja4_alpn(ch, alpn);
	/* The c part leaves SNI and ALPN out; the count in a keeps them. */
	size_t kept = 0;
	for (size_t i = 0; i < ne; i++)
		if (v[nc + i] != 0x0000 && v[nc + i] != 0x0010)
			v[nc + kept++] = v[nc + i];
	ja4_hash(v, nc, NULL, b);
	ja4_hash(v + nc, kept, &ch->sigalgs, c);
	free(v);
	uint16_t version = ch->max_version ? ch->max_version : ch->legacy_version;
	snprintf(ja4, 37, "t%s%c%02zu%02zu%c%c_%s_%s", ja4_version(version),
		 ch->sni_present ? 'd' : 'i', nc > 99 ? (size_t)99 : nc, ne > 99 ? (size_t)99 : ne,
		 alpn[0], alpn[1], b, c);
}
