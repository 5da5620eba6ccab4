/*
 * alerts.c - the audit policy applied to each login. Signatures are stable ids
 * (docs/events.md); severities follow Suricata's 1 (high) .. 3 (low).
 */
#include "alerts.h"

#include <string.h>

size_t alerts_for_auth(const struct ev_auth *a, struct alert_record out[ALERTS_PER_AUTH_MAX])
{
	size_t n = 0;
	if (a->cleartext) {
		out[n++] = (struct alert_record){
			.signature = "cleartext-password",
			.severity = 1,
			.description = "a reusable password or token crossed the network unencrypted",
			.username = a->username,
		};
	}
	if (a->stls_offered && (a->cleartext || strcmp(a->mechanism, "APOP") == 0)) {
		out[n++] = (struct alert_record){
			.signature = "stls-offered-not-used",
			.severity = 1,
			.description = "the server offered STLS but the client logged in without it "
				       "(misconfigured client, or STLS stripped on the path)",
			.username = a->username,
		};
	}
	/* [IN-USE], [LOGIN-DELAY], [SYS/...] and cancels are not wrong passwords. */
	if (a->result != AUTH_RESULT_FAILURE || (a->failure && strcmp(a->failure, "credentials") != 0))
		return n;
	bool apop = strcmp(a->mechanism, "APOP") == 0;
	out[n++] = (struct alert_record){
		.signature = apop ? "apop-failed" : "auth-failed",
		.severity = apop ? 2 : 3,
		.description = apop ? "an APOP login failed; its digest can be attacked offline"
				    : "a login attempt was refused",
		.username = a->username,
	};
	return n;
}
