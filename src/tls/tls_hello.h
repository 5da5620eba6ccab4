/*
 * tls_hello.h - parsers of the hello messages and EncryptedExtensions (RFC
 * 8446 §4.1.2-4.1.4, §4.3.1; RFC 5246 §7.4.1): fields and the extensions
 * popsift reports or fingerprints. Pointers point into the message given.
 * Internal to src/tls/.
 */
#ifndef POPSIFT_TLS_HELLO_H
#define POPSIFT_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls_wire.h"

enum tls_ext_type {
	TLS_EXT_SERVER_NAME = 0,
	TLS_EXT_SUPPORTED_GROUPS = 10,
	TLS_EXT_EC_POINT_FORMATS = 11,
	TLS_EXT_SIGNATURE_ALGORITHMS = 13,
	TLS_EXT_ALPN = 16,
	TLS_EXT_ENCRYPT_THEN_MAC = 22,
	TLS_EXT_EXTENDED_MASTER_SECRET = 23,
	TLS_EXT_SESSION_TICKET = 35,
	TLS_EXT_PRE_SHARED_KEY = 41,
	TLS_EXT_EARLY_DATA = 42,
	TLS_EXT_SUPPORTED_VERSIONS = 43
};

struct tls_client_hello {
	uint16_t legacy_version;
	const uint8_t *random; /* 32 octets */
	const uint8_t *session_id;
	size_t session_id_len;
	struct tls_rd suites; /* cipher_suites, 2 octets each */
	struct tls_rd exts;   /* the extensions block, empty when absent */
	bool sni_present;
	const uint8_t *sni; /* the first host_name, NULL if none */
	size_t sni_len;
	struct tls_rd alpn;	    /* ProtocolNameList */
	uint16_t max_version;	    /* highest supported_versions entry, 0 without */
	struct tls_rd groups;	    /* NamedGroupList */
	struct tls_rd point_formats; /* ECPointFormatList */
	struct tls_rd sigalgs;	    /* SignatureSchemeList */
	bool ticket;		    /* non-empty session_ticket */
	bool psk, early_data;
};

struct tls_server_hello {
	uint16_t legacy_version;
	const uint8_t *random;
	const uint8_t *session_id;
	size_t session_id_len;
	uint16_t cipher_suite;
	struct tls_rd exts;
	uint16_t selected_version; /* supported_versions, 0 without */
	bool hello_retry;	   /* the HelloRetryRequest random (RFC 8446 §4.1.3) */
	bool psk, etm, ems;
	const uint8_t *alpn; /* the protocol chosen, NULL if none */
	size_t alpn_len;
};

/* false when the message is malformed (fields past its end, bad vectors). */
bool tls_parse_client_hello(const uint8_t *p, size_t n, struct tls_client_hello *ch);
bool tls_parse_server_hello(const uint8_t *p, size_t n, struct tls_server_hello *sh);
/* EncryptedExtensions: the ALPN protocol chosen (NULL if none). */
bool tls_parse_encrypted_extensions(const uint8_t *p, size_t n, const uint8_t **alpn,
				    size_t *alpn_len);

#endif
