/*
 * tls_suites.h - the cipher suite table (tls_suites.def): IANA name, and for the
 * suites popsift decrypts the record cipher, MAC and PRF hash. Internal to
 * src/tls/.
 */
#ifndef POPSIFT_TLS_SUITES_H
#define POPSIFT_TLS_SUITES_H

#include <stdint.h>

enum tls_bulk {
	TLS_BULK_NONE, /* not decryptable by popsift */
	TLS_BULK_AES_128_CBC,
	TLS_BULK_AES_256_CBC,
	TLS_BULK_AES_128_GCM,
	TLS_BULK_AES_256_GCM,
	TLS_BULK_AES_128_CCM,
	TLS_BULK_AES_256_CCM,
	TLS_BULK_CHACHA20_POLY1305,
	TLS_BULK_COUNT
};

enum tls_mac {
	TLS_MAC_NONE,
	TLS_MAC_AEAD,
	TLS_MAC_MD5,
	TLS_MAC_SHA1,
	TLS_MAC_SHA256,
	TLS_MAC_SHA384,
	TLS_MAC_COUNT
};

enum tls_hash { TLS_HASH_SHA256, TLS_HASH_SHA384, TLS_HASH_COUNT };

struct tls_suite {
	uint16_t code;
	const char *name;
	enum tls_bulk bulk;
	enum tls_mac mac;
	enum tls_hash prf;
	unsigned weak; /* TLS_WEAK_* */
};

/* The row of code, or NULL when the registry has none. */
const struct tls_suite *tls_suite_find(uint16_t code);

#endif
