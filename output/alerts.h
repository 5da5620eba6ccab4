/*
 * alerts.h - the audit policy: which logins raise which alert (docs/events.md),
 * of their own and across sessions (bruteforce.h). The one place alerts are
 * derived: the capture run (output.c) and `popsift report` (src/report.c) both
 * call alerts_derive() on every login, so their alerts cannot differ.
 */
#ifndef POPSIFT_ALERTS_H
#define POPSIFT_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "../src/flow.h"
#include "bruteforce.h"
#include "records.h"

#define ALERTS_PER_AUTH_MAX 3
#define ALERTS_PER_TLS_MAX 4
#define ALERTS_MAX (ALERTS_PER_AUTH_MAX + 2) /* with bf_failure()'s two */

/* Fills out[] with the alerts one login raises; returns how many. */
size_t alerts_for_auth(const struct ev_auth *a, struct alert_record out[ALERTS_PER_AUTH_MAX]);
/*
 * Fills out[] with the alerts one TLS session raises (its version, cipher
 * suite and certificate; the certificate's dates against `now`, the capture's
 * time of the handshake); returns how many.
 */
size_t alerts_for_tls(const struct ev_tls *t, int64_t now, struct alert_record out[ALERTS_PER_TLS_MAX]);

/*
 * Every alert one login in flow f raises, in the order they are written: its
 * own, then those across sessions, which bf (the input's failures so far)
 * decides and which are marked cross_session. Returns how many.
 */
size_t alerts_derive(struct bruteforce *bf, const struct flow *f, const struct ev_auth *a,
		     struct alert_record out[ALERTS_MAX]);

#endif
