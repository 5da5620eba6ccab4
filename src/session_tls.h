/*
 * session_tls.h - the layer beneath a session's dissector (session_tls.c):
 * whether the connection's bytes are TLS, and if so the TLS stream that reads
 * them. Private to session.c, which hands every byte and gap of a session to
 * it once the session has its dissector.
 */
#ifndef POPSIFT_SESSION_TLS_H
#define POPSIFT_SESSION_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

/*
 * The session has its dissector. by_port: chosen by the server port, so the
 * first bytes may be TLS (a ClientHello); otherwise chosen by content
 * (--detect): a cleartext greeting proved POP.
 */
void session_tls_open(struct session *s, bool by_port);
/* The connection's next bytes in dir, in order. */
void session_tls_data(struct session *s, enum dir dir, const uint8_t *p, size_t n);
/* n octets of dir were lost on the wire here. */
void session_tls_gap(struct session *s, enum dir dir, size_t n);
/* No more bytes: what is held or pending is settled (before the dissector's end()). */
void session_tls_end(struct session *s);
void session_tls_free(struct session *s);
/* session_info.handover: the dissector gives the rest of the connection to the layer beneath. */
void session_tls_handover(void *engine, enum dir dir, size_t used);
/* The popsift anomaly a TLS layer anomaly (an enum tls_anomaly) is reported as. */
enum anomaly session_tls_anomaly_of(unsigned tls_anomaly);

#endif
