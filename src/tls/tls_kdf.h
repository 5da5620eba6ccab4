/*
 * tls_kdf.h - the key derivation functions TLS needs, all through OpenSSL's
 * EVP_KDF: the TLS 1.0-1.2 PRF ("TLS1-PRF", RFC 2246 §5 / RFC 5246 §5) and
 * TLS 1.3's HKDF-Expand-Label ("HKDF" in expand-only mode with the HkdfLabel
 * built here, RFC 8446 §7.1). Internal to src/tls/.
 */
#ifndef POPSIFT_TLS_KDF_H
#define POPSIFT_TLS_KDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_suites.h"

#define TLS_HASH_MAX 48 /* SHA-384 */

size_t tls_hash_len(enum tls_hash h);

/*
 * HKDF-Expand-Label(secret, label, context, outlen) with the "tls13 " prefix
 * added here. false when OpenSSL refuses (label too long, outlen too big).
 */
bool tls_hkdf_expand_label(enum tls_hash h, const uint8_t *secret, size_t slen, const char *label,
			   const uint8_t *context, size_t clen, uint8_t *out, size_t outlen);

/*
 * PRF(secret, label, seed) of TLS 1.2 with hash h, or of TLS 1.0/1.1 (MD5 and
 * SHA-1 halves) when legacy is true. false when OpenSSL refuses.
 */
bool tls_prf(bool legacy, enum tls_hash h, const uint8_t *secret, size_t slen, const char *label,
	     const uint8_t *seed, size_t seedlen, uint8_t *out, size_t outlen);

#endif
