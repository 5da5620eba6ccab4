/*
 * tls_handshake.h - handshake message framing of one direction (RFC 8446
 * §4, RFC 5246 §7.4): joins messages spread over records and splits records
 * holding several, streaming. A message is handed on whole, or, above
 * TLS_HANDSHAKE_MAX, cut to its first TLS_HANDSHAKE_MAX octets (the rest is
 * skipped, never buffered). Knows nothing of message contents.
 * Internal to src/tls/.
 */
#ifndef POPSIFT_TLS_HANDSHAKE_H
#define POPSIFT_TLS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_hs_type {
	TLS_HS_HELLO_REQUEST = 0,
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_HS_NEW_SESSION_TICKET = 4,
	TLS_HS_END_OF_EARLY_DATA = 5,
	TLS_HS_ENCRYPTED_EXTENSIONS = 8,
	TLS_HS_CERTIFICATE = 11,
	TLS_HS_SERVER_KEY_EXCHANGE = 12,
	TLS_HS_CERTIFICATE_REQUEST = 13,
	TLS_HS_SERVER_HELLO_DONE = 14,
	TLS_HS_CERTIFICATE_VERIFY = 15,
	TLS_HS_CLIENT_KEY_EXCHANGE = 16,
	TLS_HS_FINISHED = 20,
	TLS_HS_CERTIFICATE_STATUS = 22,
	TLS_HS_KEY_UPDATE = 24,
	TLS_HS_COMPRESSED_CERTIFICATE = 25,
	TLS_HS_MESSAGE_HASH = 254
};

/*
 * A message: body[0..len) kept, full_len as its header says (full_len > len
 * when it was cut at TLS_HANDSHAKE_MAX).
 */
typedef void (*tls_hs_fn)(void *ctx, uint8_t type, const uint8_t *body, size_t len,
			  size_t full_len);

struct tls_hs_reader {
	uint8_t hdr[4];
	size_t hdr_have;
	uint32_t len;  /* of the message being read */
	uint8_t *buf;  /* the body so far, when it spans records */
	size_t have;   /* octets of body read (kept or skipped) */
};

/* Feeds handshake-protocol octets (one record's worth, or part). */
void tls_hs_feed(struct tls_hs_reader *h, const uint8_t *p, size_t n, tls_hs_fn fn, void *ctx);
/* Forgets a half-read message (its record was lost). */
void tls_hs_reset(struct tls_hs_reader *h);
void tls_hs_free(struct tls_hs_reader *h);

#endif
