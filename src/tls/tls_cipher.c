/*
 * tls_cipher.c - opens TLS records (tls_cipher.h). Every cipher and MAC is OpenSSL's
 * (EVP_CIPHER: AES-GCM, AES-CCM, ChaCha20-Poly1305, AES-CBC, 3DES-CBC;
 * EVP_MAC: HMAC); this file only builds nonces, additional data and MAC input
 * as the RFCs lay them out, and checks CBC padding. Passive decryption needs no
 * constant-time checks: nothing here answers a peer.
 */
#include "tls_cipher.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <string.h>

#define AEAD_TAG 16
#define AEAD_NONCE 12
#define EXPLICIT_NONCE 8 /* TLS 1.2 GCM/CCM, RFC 5288 §3 */

static const char *const bulk_names[TLS_BULK_COUNT] = {
	[TLS_BULK_AES_128_CBC] = "AES-128-CBC", [TLS_BULK_AES_256_CBC] = "AES-256-CBC",
	[TLS_BULK_AES_128_GCM] = "AES-128-GCM", [TLS_BULK_AES_256_GCM] = "AES-256-GCM",
	[TLS_BULK_AES_128_CCM] = "AES-128-CCM", [TLS_BULK_AES_256_CCM] = "AES-256-CCM",
	[TLS_BULK_CHACHA20_POLY1305] = "ChaCha20-Poly1305",
};

static bool bulk_is_cbc(enum tls_bulk b)
{
	return b == TLS_BULK_AES_128_CBC || b == TLS_BULK_AES_256_CBC;
}

static bool bulk_is_ccm(enum tls_bulk b)
{
	return b == TLS_BULK_AES_128_CCM || b == TLS_BULK_AES_256_CCM;
}

static size_t bulk_key_len(enum tls_bulk b)
{
	switch (b) {
	case TLS_BULK_AES_128_CBC:
	case TLS_BULK_AES_128_GCM:
	case TLS_BULK_AES_128_CCM:
		return 16;
	default:
		return 32;
	}
}

static size_t mac_len(enum tls_mac m)
{
	static const size_t len[TLS_MAC_COUNT] = {
		[TLS_MAC_MD5] = 16, [TLS_MAC_SHA1] = 20, [TLS_MAC_SHA256] = 32, [TLS_MAC_SHA384] = 48
	};
	return (unsigned)m < TLS_MAC_COUNT ? len[m] : 0;
}

static const char *mac_digest(enum tls_mac m)
{
	switch (m) {
	case TLS_MAC_MD5:
		return "MD5";
	case TLS_MAC_SHA1:
		return "SHA1";
	case TLS_MAC_SHA256:
		return "SHA256";
	default:
		return "SHA384";
	}
}

bool tls_cipher_sizes(const struct tls_suite *s, uint16_t version, struct tls_key_sizes *ks)
{
	/* SSL 3.0 MACs are not HMAC; anything above TLS 1.3 is unknown. */
	if (!s || s->bulk == TLS_BULK_NONE || version < 0x0301 || version > 0x0304)
		return false;
	bool cbc = bulk_is_cbc(s->bulk);
	if ((version == 0x0304) == (s->code >> 8 != 0x13))
		return false; /* TLS 1.3 suites only with TLS 1.3, and back */
	if (!cbc && version < 0x0303)
		return false; /* AEAD suites are TLS 1.2 and later */
	ks->key = bulk_key_len(s->bulk);
	ks->mac = cbc ? mac_len(s->mac) : 0;
	if (cbc)
		ks->iv = version == 0x0301 ? 16 : 0;
	else if (version == 0x0304 || s->bulk == TLS_BULK_CHACHA20_POLY1305)
		ks->iv = AEAD_NONCE;
	else
		ks->iv = 4;
	return !cbc || ks->mac;
}

static bool init_mac(struct tls_cipher *c, enum tls_mac m, const uint8_t *key)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return false;
	c->mac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	if (!c->mac)
		return false;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)mac_digest(m), 0),
		OSSL_PARAM_construct_end(),
	};
	return EVP_MAC_init(c->mac, key, c->mac_len, params) > 0;
}

/* Creates the EVP context with the key; the IV is given per record. */
static bool init_evp(struct tls_cipher *c, const uint8_t *key)
{
	EVP_CIPHER *ciph = EVP_CIPHER_fetch(NULL, bulk_names[c->bulk], NULL);
	c->ctx = EVP_CIPHER_CTX_new();
	bool ok = ciph && c->ctx && EVP_DecryptInit_ex(c->ctx, ciph, NULL, NULL, NULL) > 0;
	EVP_CIPHER_free(ciph);
	if (!ok)
		return false;
	if (bulk_is_cbc(c->bulk))
		return EVP_CIPHER_CTX_set_padding(c->ctx, 0) > 0 &&
		       EVP_DecryptInit_ex(c->ctx, NULL, NULL, key, NULL) > 0;
	if (EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_IVLEN, AEAD_NONCE, NULL) <= 0)
		return false;
	if (bulk_is_ccm(c->bulk) &&
	    EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG, NULL) <= 0)
		return false;
	return EVP_DecryptInit_ex(c->ctx, NULL, NULL, key, NULL) > 0;
}

bool tls_cipher_init(struct tls_cipher *c, const struct tls_suite *s, uint16_t version, bool etm,
		     const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key)
{
	struct tls_key_sizes ks;
	memset(c, 0, sizeof(*c));
	if (!tls_cipher_sizes(s, version, &ks))
		return false;
	c->bulk = s->bulk;
	c->iv_len = ks.iv;
	memcpy(c->iv, iv, ks.iv);
	if (bulk_is_cbc(s->bulk)) {
		c->prot = etm ? TLS_PROT_CBC_ETM : TLS_PROT_CBC;
		c->block = 16;
		c->chained_iv = version == 0x0301;
		c->mac_len = ks.mac;
	} else if (version == 0x0304) {
		c->prot = TLS_PROT_TLS13;
	} else {
		c->prot = s->bulk == TLS_BULK_CHACHA20_POLY1305 ? TLS_PROT_AEAD_XOR
								: TLS_PROT_AEAD_EXPLICIT;
	}
	bool ok = init_evp(c, key) && (!c->mac_len || init_mac(c, s->mac, mac_key));
	if (!ok)
		tls_cipher_free(c);
	return ok;
}

void tls_cipher_free(struct tls_cipher *c)
{
	EVP_CIPHER_CTX_free(c->ctx);
	EVP_MAC_CTX_free(c->mac);
	OPENSSL_cleanse(c->iv, sizeof(c->iv));
	memset(c, 0, sizeof(*c));
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* iv XOR the sequence number, right-aligned (RFC 8446 §5.3, RFC 7905 §2). */
static void xor_nonce(const struct tls_cipher *c, uint64_t seq, uint8_t nonce[AEAD_NONCE])
{
	memcpy(nonce, c->iv, AEAD_NONCE);
	for (int i = 0; i < 8; i++)
		nonce[AEAD_NONCE - 1 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* seq_num + type + version + length: TLS 1.2's AEAD data and MAC prefix. */
static void seq_header(uint8_t out[13], uint64_t seq, const uint8_t hdr[5], size_t len)
{
	put_be64(out, seq);
	out[8] = hdr[0];
	out[9] = hdr[1];
	out[10] = hdr[2];
	out[11] = (uint8_t)(len >> 8);
	out[12] = (uint8_t)len;
}

/* AEAD open of ct[0..n) with tag; plaintext into out. */
static bool aead_open(struct tls_cipher *c, const uint8_t *nonce, const uint8_t *aad, size_t aadlen,
		      const uint8_t *ct, size_t n, const uint8_t *tag, uint8_t *out)
{
	int l = 0, l2 = 0;
	EVP_CIPHER_CTX *x = c->ctx;
	if (bulk_is_ccm(c->bulk)) {
		/* CCM needs the tag and the total length before any data. */
		return EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG, (void *)tag) > 0 &&
		       EVP_DecryptInit_ex(x, NULL, NULL, NULL, nonce) > 0 &&
		       EVP_DecryptUpdate(x, NULL, &l, NULL, (int)n) > 0 &&
		       EVP_DecryptUpdate(x, NULL, &l, aad, (int)aadlen) > 0 &&
		       EVP_DecryptUpdate(x, out, &l, ct, (int)n) > 0;
	}
	return EVP_DecryptInit_ex(x, NULL, NULL, NULL, nonce) > 0 &&
	       EVP_DecryptUpdate(x, NULL, &l, aad, (int)aadlen) > 0 &&
	       EVP_DecryptUpdate(x, out, &l, ct, (int)n) > 0 &&
	       EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG, (void *)tag) > 0 &&
	       EVP_DecryptFinal_ex(x, out + l, &l2) > 0;
}

static bool open_tls13(struct tls_cipher *c, uint64_t seq, const uint8_t hdr[5], const uint8_t *in,
		       size_t n, uint8_t *out, size_t *out_len, uint8_t *type)
{
	uint8_t nonce[AEAD_NONCE];
	if (n < AEAD_TAG + 1)
		return false;
	xor_nonce(c, seq, nonce);
	size_t len = n - AEAD_TAG;
	if (!aead_open(c, nonce, hdr, 5, in, len, in + len, out))
		return false;
	/* TLSInnerPlaintext: content, type, zeros (RFC 8446 §5.4). */
	while (len && out[len - 1] == 0)
		len--;
	*type = len ? out[len - 1] : 0;
	*out_len = len ? len - 1 : 0;
	return true;
}

static bool open_tls12_aead(struct tls_cipher *c, uint64_t seq, const uint8_t hdr[5],
			    const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
	uint8_t nonce[AEAD_NONCE], aad[13];
	size_t skip = c->prot == TLS_PROT_AEAD_EXPLICIT ? EXPLICIT_NONCE : 0;
	if (n < skip + AEAD_TAG)
		return false;
	if (skip) {
		memcpy(nonce, c->iv, 4);
		memcpy(nonce + 4, in, EXPLICIT_NONCE);
	} else {
		xor_nonce(c, seq, nonce);
	}
	size_t len = n - skip - AEAD_TAG;
	seq_header(aad, seq, hdr, len);
	if (!aead_open(c, nonce, aad, sizeof(aad), in + skip, len, in + skip + len, out))
		return false;
	*out_len = len;
	return true;
}

/* HMAC(seq + type + version + length + data[, data2]) == expect. */
static bool mac_ok(struct tls_cipher *c, uint64_t seq, const uint8_t hdr[5], size_t len,
		   const uint8_t *data, size_t n, const uint8_t *expect)
{
	uint8_t pre[13], md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	seq_header(pre, seq, hdr, len);
	return EVP_MAC_init(c->mac, NULL, 0, NULL) > 0 && EVP_MAC_update(c->mac, pre, 13) > 0 &&
	       EVP_MAC_update(c->mac, data, n) > 0 &&
	       EVP_MAC_final(c->mac, md, &mdlen, sizeof(md)) > 0 && mdlen == c->mac_len &&
	       CRYPTO_memcmp(md, expect, mdlen) == 0;
}

/*
 * CBC-decrypts in[0..n) (explicit IV first unless chained) into out; returns
 * the plaintext length before padding removal, 0 when the record cannot be
 * CBC data (0 is never a valid result: padding_length takes an octet).
 */
static size_t cbc_decrypt(struct tls_cipher *c, const uint8_t *in, size_t n, uint8_t *out)
{
	const uint8_t *iv = c->iv;
	if (!c->chained_iv) {
		if (n < c->block)
			return 0;
		iv = in;
		in += c->block;
		n -= c->block;
	}
	int l = 0;
	if (n == 0 || n % c->block || EVP_DecryptInit_ex(c->ctx, NULL, NULL, NULL, iv) <= 0 ||
	    EVP_DecryptUpdate(c->ctx, out, &l, in, (int)n) <= 0 || (size_t)l != n)
		return 0;
	return n;
}

/*
 * Length of the content of p[0..n) = content, MAC (mac octets: MAC-then-
 * encrypt) and padding (RFC 5246 §6.2.3.2); SIZE_MAX if the padding is bad.
 */
static size_t strip_padding(const uint8_t *p, size_t n, size_t mac)
{
	size_t pad = p[n - 1];
	if (pad + 1 + mac > n)
		return SIZE_MAX;
	for (size_t i = n - 1 - pad; i < n - 1; i++)
		if (p[i] != pad)
			return SIZE_MAX;
	return n - 1 - pad - mac;
}

static bool open_cbc(struct tls_cipher *c, uint64_t seq, const uint8_t hdr[5], const uint8_t *in,
		     size_t n, uint8_t *out, size_t *out_len)
{
	size_t m = c->mac_len;
	if (c->prot == TLS_PROT_CBC_ETM) {
		/* RFC 7366 §3: the MAC covers the IV and ciphertext, checked first. */
		if (n <= m || !mac_ok(c, seq, hdr, n - m, in, n - m, in + n - m))
			return false;
		size_t len = cbc_decrypt(c, in, n - m, out);
		size_t content = len ? strip_padding(out, len, 0) : SIZE_MAX;
		if (content == SIZE_MAX)
			return false;
		*out_len = content;
		return true;
	}
	size_t len = cbc_decrypt(c, in, n, out);
	size_t content = len ? strip_padding(out, len, m) : SIZE_MAX;
	if (content == SIZE_MAX || !mac_ok(c, seq, hdr, content, out, content, out + content))
		return false;
	*out_len = content;
	return true;
}

bool tls_cipher_open(struct tls_cipher *c, uint64_t seq, const uint8_t hdr[5], const uint8_t *in,
		     size_t n, uint8_t *out, size_t *out_len, uint8_t *type)
{
	*type = hdr[0];
	switch (c->prot) {
	case TLS_PROT_TLS13:
		return open_tls13(c, seq, hdr, in, n, out, out_len, type);
	case TLS_PROT_AEAD_EXPLICIT:
	case TLS_PROT_AEAD_XOR:
		return open_tls12_aead(c, seq, hdr, in, n, out, out_len);
	case TLS_PROT_CBC:
	case TLS_PROT_CBC_ETM:
		return open_cbc(c, seq, hdr, in, n, out, out_len);
	default:
		return false;
	}
}

void tls_cipher_advance(struct tls_cipher *c, const uint8_t *in, size_t n)
{
	if (!c->chained_iv)
		return;
	/* The next IV is the last ciphertext block, the MAC excluded under ETM. */
	size_t end = c->prot == TLS_PROT_CBC_ETM ? (n >= c->mac_len ? n - c->mac_len : 0) : n;
	if (end >= c->block) {
		memcpy(c->iv, in + end - c->block, c->block);
		c->iv_lost = false;
	}
}

void tls_cipher_lose(struct tls_cipher *c)
{
	c->iv_lost = c->chained_iv;
}
