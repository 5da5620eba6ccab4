/*
 * sasl.h - what a passive observer recovers from a SASL exchange (RFC 4422),
 * independent of the protocol carrying it. POP3's AUTH (RFC 5034) feeds it the
 * initial response, each server challenge and each client response as the
 * base64 text seen on the wire; it decodes them per mechanism.
 *
 * Mechanisms decoded: PLAIN, LOGIN, XOAUTH2, OAUTHBEARER, CRAM-MD5, EXTERNAL,
 * ANONYMOUS (sasl.c), DIGEST-MD5 (sasl_digest.c), NTLM and MSN (sasl_ntlm.c),
 * SCRAM-SHA-* (sasl_scram.c), GSSAPI and KERBEROS_V4 (sasl_gssapi.c).
 */
#ifndef POPSIFT_SASL_H
#define POPSIFT_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define SASL_MECH_MAX 32     /* longest mechanism name kept (RFC 4422: 20) */
#define SASL_FIELD_MAX 1024  /* longest user name or secret kept */
#define SASL_MSG_MAX 8192    /* longest decoded challenge/response copy kept (NTLM Type 3: a few KB) */
#define SASL_HASH_MAX 24576  /* longest cracking line built (an 8 KB message in hex, plus names) */

struct sasl;

/* Starts an exchange for mechanism `mech`; NULL only when out of memory. */
struct sasl *sasl_start(const uint8_t *mech, size_t n, struct event_sink *sink);
/* A client line: the initial response or a response to a challenge. */
void sasl_client(struct sasl *s, const uint8_t *b64, size_t n);
/* A server challenge: the text after "+ ". */
void sasl_server(struct sasl *s, const uint8_t *b64, size_t n);
/*
 * Fills what the exchange revealed into *a: mechanism, username, password,
 * cleartext, authzid, realm, workstation, and hash/hash_format/
 * hashcat_mode for challenge-response mechanisms. Pointers stay valid until
 * sasl_free().
 */
void sasl_describe(const struct sasl *s, struct ev_auth *a);
/*
 * True when the exchange negotiated a SASL security layer: after a successful
 * final reply the connection is no longer text (RFC 4422 §3.7). DIGEST-MD5:
 * the client chose qop auth-int or auth-conf. GSSAPI: the client's unwrapped
 * layer choice (RFC 4752 §3.1) is integrity or privacy, or, when that token was
 * unreadable, the server offered no "none" layer. Otherwise false.
 */
bool sasl_security_layer(const struct sasl *s);
void sasl_free(struct sasl *s);

#endif
