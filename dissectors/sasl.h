/*
 * sasl.h - what a passive observer recovers from a SASL exchange (RFC 4422),
 * independent of the protocol carrying it. POP3's AUTH (RFC 5034) feeds it the
 * initial response, each server challenge and each client response as the
 * base64 text seen on the wire; it decodes them per mechanism.
 */
#ifndef POPSIFT_SASL_H
#define POPSIFT_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define SASL_MECH_MAX 32     /* longest mechanism name kept (RFC 4422: 20) */
#define SASL_FIELD_MAX 1024  /* longest user name or secret kept */

struct sasl;

/* Starts an exchange for mechanism `mech`; NULL only when out of memory. */
struct sasl *sasl_start(const uint8_t *mech, size_t n, struct event_sink *sink);
/* A client line: the initial response or a response to a challenge. */
void sasl_client(struct sasl *s, const uint8_t *b64, size_t n);
/* A server challenge: the text after "+ ". */
void sasl_server(struct sasl *s, const uint8_t *b64, size_t n);
/*
 * Fills what the exchange revealed into *a: mechanism, username, password,
 * has_password, cleartext, authzid, realm, workstation, and hash/hash_format/
 * hashcat_mode for challenge-response mechanisms. Pointers stay valid until
 * sasl_free().
 */
void sasl_describe(const struct sasl *s, struct ev_auth *a);
/*
 * True when the exchange negotiated a SASL security layer (GSSAPI, or
 * DIGEST-MD5 with qop auth-int or auth-conf): after a successful final reply
 * the connection is no longer text (RFC 4422 §3.7).
 */
bool sasl_security_layer(const struct sasl *s);
void sasl_free(struct sasl *s);

#endif
