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

size_t alerts_derive(struct bruteforce *bf, const struct flow *f, const struct ev_auth *a,
		     struct alert_record out[ALERTS_MAX])
{
	size_t n = alerts_for_auth(a, out);
	if (a->result != AUTH_RESULT_FAILURE || (a->failure && strcmp(a->failure, "credentials") != 0))
		return n;
	size_t k = bf_failure(bf, f->client_ip, a->username, f->now.tv_sec, out + n);
	for (size_t i = n; i < n + k; i++)
		out[i].cross_session = true;
	return n + k;
}
