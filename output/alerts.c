/*
 * alerts.c - the audit policy applied to each login and each TLS session.
 * Signatures are stable ids (docs/events.md); severities follow Suricata's
 * 1 (high) .. 3 (low).
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

/* SSL 3.0, TLS 1.0 and 1.1 (RFC 7568, RFC 8996): NULL for a version that is not weak. */
static const char *alerts_weak_version(uint16_t v)
{
	switch (v) {
	case 0x0300: return "SSL 3.0 was negotiated (broken: POODLE; RFC 7568 forbids it)";
	case 0x0301: return "TLS 1.0 was negotiated (deprecated by RFC 8996)";
	case 0x0302: return "TLS 1.1 was negotiated (deprecated by RFC 8996)";
	default: return NULL;
	}
}

/* The worst weakness of a cipher suite, its severity in *severity; NULL for none. */
static const char *alerts_weak_cipher(unsigned weak, int *severity)
{
	*severity = 1;
	if (weak & EV_TLS_WEAK_NULL)
		return "the cipher suite encrypts nothing (NULL)";
	if (weak & EV_TLS_WEAK_ANON)
		return "the cipher suite authenticates no server (anonymous key exchange)";
	if (weak & EV_TLS_WEAK_EXPORT)
		return "the cipher suite is export grade";
	*severity = 2;
	if (weak & EV_TLS_WEAK_DES)
		return "the cipher suite uses single DES";
	if (weak & EV_TLS_WEAK_RC4)
		return "the cipher suite uses RC4 (RFC 7465 forbids it)";
	if (weak & EV_TLS_WEAK_3DES)
		return "the cipher suite uses 3DES (64-bit blocks: Sweet32)";
	return NULL;
}

static size_t alerts_for_certificate(const struct ev_tls *t, int64_t now, struct alert_record *out)
{
	size_t n = 0;
	if (now > t->not_after)
		out[n++] = (struct alert_record){ .signature = "tls-certificate-expired", .severity = 2,
			.description = "the server's certificate had expired at the time of the capture" };
	else if (now < t->not_before)
		out[n++] = (struct alert_record){ .signature = "tls-certificate-not-yet-valid", .severity = 2,
			.description = "the server's certificate was not yet valid at the time of the capture" };
	if (t->self_signed)
		out[n++] = (struct alert_record){ .signature = "tls-self-signed", .severity = 3,
			.description = "the server's certificate is self-signed: nothing vouches for it" };
	return n;
}

size_t alerts_for_tls(const struct ev_tls *t, int64_t now, struct alert_record out[ALERTS_PER_TLS_MAX])
{
	size_t n = 0;
	if (!t->handshake || !t->server_hello)
		return 0;
	const char *why = alerts_weak_version(t->version);
	if (why)
		out[n++] = (struct alert_record){ .signature = "tls-weak-version",
			.severity = t->version == 0x0300 ? 1 : 2, .description = why };
	int severity;
	why = alerts_weak_cipher(t->cipher_weakness, &severity);
	if (why)
		out[n++] = (struct alert_record){ .signature = "tls-weak-cipher", .severity = severity,
						  .description = why };
	if (t->certificate_status && strcmp(t->certificate_status, "parsed") == 0)
		n += alerts_for_certificate(t, now, out + n);
	return n;
}

size_t alerts_derive(struct bruteforce *bf, const struct flow *f, const struct ev_auth *a,
		     struct alert_record out[ALERTS_MAX])
{
	/* A secret read inside decrypted TLS did not cross the network in clear (records.h). */
	struct ev_auth wire = *a;
	wire.cleartext = auth_cleartext_on_wire(a, f);
	wire.stls_offered = auth_stls_ignored(a, f);
	size_t n = alerts_for_auth(&wire, out);
	if (a->result != AUTH_RESULT_FAILURE || (a->failure && strcmp(a->failure, "credentials") != 0))
		return n;
	size_t k = bf_failure(bf, f->client_ip, a->username, f->now, out + n);
	for (size_t i = n; i < n + k; i++)
		out[i].cross_session = true;
	return n + k;
}
