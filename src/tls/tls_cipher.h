/*
 * tls_cipher.h - record protection of one direction: opens (authenticates and
 * decrypts) one TLS record with the keys of one epoch, through OpenSSL's EVP
 * ciphers and EVP_MAC HMAC. Internal to src/tls/.
 *
 *   TLS 1.3 AEAD (RFC 8446 §5.2-5.3): nonce = iv XOR seq, AAD = the header,
 *     the content type inside, zero padding stripped.
 *   TLS 1.2 AES-GCM/CCM (RFC 5288, 6655): 4-octet salt + 8-octet explicit nonce.
 *   TLS 1.2 ChaCha20-Poly1305 (RFC 7905): nonce = iv XOR seq.
 *   CBC with HMAC, MAC-then-encrypt (RFC 5246 §6.2.3.2) or encrypt-then-MAC
 *     (RFC 7366); TLS 1.1+ explicit IV, TLS 1.0 chained IV (RFC 2246 §6.2.3.2).
 */
#ifndef POPSIFT_TLS_CIPHER_H
#define POPSIFT_TLS_CIPHER_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_suites.h"

#define TLS_KEY_MAX 32 /* AES-256, ChaCha20 */
#define TLS_IV_MAX 16  /* a CBC block */

enum tls_prot {
	TLS_PROT_TLS13,	       /* AEAD, TLS 1.3 */
	TLS_PROT_AEAD_EXPLICIT, /* GCM and CCM of TLS 1.2 */
	TLS_PROT_AEAD_XOR,     /* ChaCha20-Poly1305 of TLS 1.2 */
	TLS_PROT_CBC,	       /* MAC-then-encrypt */
	TLS_PROT_CBC_ETM,      /* encrypt-then-MAC */
	TLS_PROT_COUNT
};

struct tls_cipher {
	enum tls_prot prot;
	enum tls_bulk bulk;
	EVP_CIPHER_CTX *ctx;
	EVP_MAC_CTX *mac; /* CBC suites */
	size_t mac_len;
	size_t block;		/* CBC block size */
	bool chained_iv;	/* TLS 1.0 CBC: the IV is the last block before */
	bool iv_lost;		/* ... and that block was lost in a gap */
	uint8_t iv[TLS_IV_MAX]; /* TLS 1.3 and ChaCha: 12; GCM/CCM salt: 4; CBC 1.0 */
	size_t iv_len;
};

/* The key material a suite needs (RFC 5246 §6.3 key_block parts). */
struct tls_key_sizes {
	size_t key, iv, mac; /* iv: the implicit part only */
};
/* false when popsift cannot decrypt this bulk cipher / version. */
bool tls_cipher_sizes(const struct tls_suite *s, uint16_t version, struct tls_key_sizes *ks);

/*
 * Sets c up for suite s at `version` with the given keys (lengths as
 * tls_cipher_sizes() says; mac_key NULL for AEAD). etm: RFC 7366 negotiated.
 * false when out of memory or OpenSSL refuses; c is then freed.
 */
bool tls_cipher_init(struct tls_cipher *c, const struct tls_suite *s, uint16_t version, bool etm,
		     const uint8_t *key, const uint8_t *iv, const uint8_t *mac_key);
void tls_cipher_free(struct tls_cipher *c);

/*
 * Opens the record with header hdr[5] and body in[0..n) as record number seq.
 * On success returns true with the content type in *type (TLS 1.3: the inner
 * one) and the plaintext in out[0..*out_len) (out has room for n octets). A
 * record that fails authentication, padding or length checks returns false.
 * Does not change c: a caller may try several sequence numbers.
 */
bool tls_cipher_open(struct tls_cipher *c, uint64_t seq, const uint8_t hdr[5], const uint8_t *in,
		     size_t n, uint8_t *out, size_t *out_len, uint8_t *type);
/* Called once per record read with c (opened or not): TLS 1.0's IV chaining. */
void tls_cipher_advance(struct tls_cipher *c, const uint8_t *in, size_t n);
/* A record was lost: with a chained IV the next record cannot be opened. */
void tls_cipher_lose(struct tls_cipher *c);

#endif
