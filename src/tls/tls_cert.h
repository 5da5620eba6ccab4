/*
 * tls_cert.h - the server certificate: the Certificate message's chain walked
 * (RFC 5246 §7.4.2, RFC 8446 §4.4.2) and its first (leaf) certificate parsed
 * by OpenSSL (d2i_X509), never by hand. Internal to src/tls/.
 */
#ifndef POPSIFT_TLS_CERT_H
#define POPSIFT_TLS_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

/*
 * Reads a Certificate message body (tls13: with its request context and
 * per-entry extensions). Fills out->chain_length with the entries found in
 * body[0..n) (n may be a cut prefix of the message), and the fields of the
 * first one. Returns the status: PARSED, EMPTY, or UNPARSABLE (also for a
 * list running past the message).
 */
enum tls_cert_status tls_cert_chain(const uint8_t *body, size_t n, bool tls13,
				    struct tls_cert *out);
/* Parses one DER certificate into out; false when OpenSSL refuses it. */
bool tls_cert_parse(const uint8_t *der, size_t n, struct tls_cert *out);

#endif
