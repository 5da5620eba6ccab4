/*
 * alerts.h - the audit policy: which logins raise which alert (docs/events.md).
 */
#ifndef POPSIFT_ALERTS_H
#define POPSIFT_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "records.h"

#define ALERTS_PER_AUTH_MAX 3
#define ALERTS_PER_TLS_MAX 4

/* Fills out[] with the alerts one login raises; returns how many. */
size_t alerts_for_auth(const struct ev_auth *a, struct alert_record out[ALERTS_PER_AUTH_MAX]);
/*
 * Fills out[] with the alerts one TLS session raises (its version, cipher
 * suite and certificate; the certificate's dates against `now`, the capture's
 * time of the handshake); returns how many.
 */
size_t alerts_for_tls(const struct ev_tls *t, int64_t now, struct alert_record out[ALERTS_PER_TLS_MAX]);

#endif
