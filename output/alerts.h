/*
 * alerts.h - the audit policy: which logins raise which alert (docs/events.md).
 */
#ifndef POPSIFT_ALERTS_H
#define POPSIFT_ALERTS_H

#include <stddef.h>

#include "records.h"

#define ALERTS_PER_AUTH_MAX 3

/* Fills out[] with the alerts one login raises; returns how many. */
size_t alerts_for_auth(const struct ev_auth *a, struct alert_record out[ALERTS_PER_AUTH_MAX]);

#endif
