/*
 * tls_kdf.c - TLS PRF and HKDF-Expand-Label through EVP_KDF (tls_kdf.h). No hash or
 * HMAC is computed here: OpenSSL does it all. The secrets passed in come from
 * the key log; nothing here keeps state.
 */
#include "tls_kdf.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <string.h>

static const char *hash_name(enum tls_hash h)
{
	return h == TLS_HASH_SHA384 ? "SHA384" : "SHA256";
}

size_t tls_hash_len(enum tls_hash h)
{
	return h == TLS_HASH_SHA384 ? 48 : 32;
}

/* Runs KDF `name` with params; false on any failure. */
static bool run_kdf(const char *name, const OSSL_PARAM *params, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, name, NULL);
	if (!kdf)
		return false;
	EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (!ctx)
		return false;
	bool ok = EVP_KDF_derive(ctx, out, outlen, params) > 0;
	EVP_KDF_CTX_free(ctx);
	return ok;
}

bool tls_hkdf_expand_label(enum tls_hash h, const uint8_t *secret, size_t slen, const char *label,
			   const uint8_t *context, size_t clen, uint8_t *out, size_t outlen)
{
	/* struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel */
	static const char prefix[] = "tls13 ";
	size_t llen = strlen(prefix) + strlen(label);
	uint8_t info[2 + 1 + 255 + 1 + 255];
	if (llen > 255 || clen > 255 || outlen > 0xffff)
		return false;
	size_t n = 0;
	info[n++] = (uint8_t)(outlen >> 8);
	info[n++] = (uint8_t)outlen;
	info[n++] = (uint8_t)llen;
	memcpy(info + n, prefix, strlen(prefix));
	n += strlen(prefix);
	memcpy(info + n, label, strlen(label));
	n += strlen(label);
	info[n++] = (uint8_t)clen;
	if (clen)
		memcpy(info + n, context, clen);
	n += clen;

	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hash_name(h), 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n),
		OSSL_PARAM_construct_end(),
	};
	return run_kdf("HKDF", params, out, outlen);
}

bool tls_prf(bool legacy, enum tls_hash h, const uint8_t *secret, size_t slen, const char *label,
	     const uint8_t *seed, size_t seedlen, uint8_t *out, size_t outlen)
{
	/* The PRF's seed is label + seed (RFC 5246 §5); 128 covers the longest use
	   (a label and two 32-octet randoms). */
	uint8_t full[128];
	size_t llen = strlen(label);
	if (llen + seedlen > sizeof(full))
		return false;
	memcpy(full, label, llen);
	memcpy(full + llen, seed, seedlen);
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						 (char *)(legacy ? "MD5-SHA1" : hash_name(h)), 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, slen),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full, llen + seedlen),
		OSSL_PARAM_construct_end(),
	};
	return run_kdf("TLS1-PRF", params, out, outlen);
}
