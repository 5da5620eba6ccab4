/*
 * tls_names.c - the printable names of the TLS layer's codes: anomaly ids
 * (tls_anomalies.def), certificate status, SAN types, resumption and decryption
 * states, protocol versions and alert descriptions (RFC 8446 §6, RFC 5246
 * §7.2 and the IANA "TLS Alerts" registry). Tables are checked against their
 * enum's size at compile time.
 */
#include <stddef.h>

#include "tls.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *id, *why;
} anomalies[] = {
#define TLS_ANOMALY(e, id, why) { id, why },
#include "tls_anomalies.def"
#undef TLS_ANOMALY
};
_Static_assert(ARRAY_LEN(anomalies) == TLS_ANOM_COUNT, "one row per anomaly");

const char *tls_anomaly_id(enum tls_anomaly a)
{
	return (unsigned)a < TLS_ANOM_COUNT ? anomalies[a].id : "tls.unknown";
}

const char *tls_anomaly_why(enum tls_anomaly a)
{
	return (unsigned)a < TLS_ANOM_COUNT ? anomalies[a].why : "";
}

static const char *const cert_status_names[] = { "none",	"parsed",     "encrypted", "not-sent",
						  "empty",	"unparsable", "compressed" };
_Static_assert(ARRAY_LEN(cert_status_names) == TLS_CERT_STATUS_COUNT, "one name per status");

const char *tls_cert_status_name(enum tls_cert_status s)
{
	return (unsigned)s < TLS_CERT_STATUS_COUNT ? cert_status_names[s] : "unknown";
}

static const char *const san_names[] = { "dns", "ip", "email", "uri" };
_Static_assert(ARRAY_LEN(san_names) == TLS_SAN_TYPE_COUNT, "one name per SAN type");

const char *tls_san_type_name(enum tls_san_type t)
{
	return (unsigned)t < TLS_SAN_TYPE_COUNT ? san_names[t] : "unknown";
}

static const char *const resumption_names[] = { "none", "session-id", "ticket", "psk" };
_Static_assert(ARRAY_LEN(resumption_names) == TLS_RESUME_COUNT, "one name per resumption");

const char *tls_resumption_name(enum tls_resumption r)
{
	return (unsigned)r < TLS_RESUME_COUNT ? resumption_names[r] : "unknown";
}

static const char *const decrypt_names[] = { "no-keylog",	   "pending", "no-keys",
					      "no-handshake",	   "unsupported-cipher",
					      "active",		   "failed" };
_Static_assert(ARRAY_LEN(decrypt_names) == TLS_DECRYPT_COUNT, "one name per state");

const char *tls_decrypt_name(enum tls_decrypt d)
{
	return (unsigned)d < TLS_DECRYPT_COUNT ? decrypt_names[d] : "unknown";
}

const char *tls_version_name(uint16_t v)
{
	switch (v) {
	case 0x0300:
		return "SSL 3.0";
	case 0x0301:
		return "TLS 1.0";
	case 0x0302:
		return "TLS 1.1";
	case 0x0303:
		return "TLS 1.2";
	case 0x0304:
		return "TLS 1.3";
	default:
		return "unknown";
	}
}

static const struct {
	uint8_t code;
	const char *name;
} alerts[] = {
	{ 0, "close_notify" },
	{ 10, "unexpected_message" },
	{ 20, "bad_record_mac" },
	{ 21, "decryption_failed" },
	{ 22, "record_overflow" },
	{ 30, "decompression_failure" },
	{ 40, "handshake_failure" },
	{ 41, "no_certificate" },
	{ 42, "bad_certificate" },
	{ 43, "unsupported_certificate" },
	{ 44, "certificate_revoked" },
	{ 45, "certificate_expired" },
	{ 46, "certificate_unknown" },
	{ 47, "illegal_parameter" },
	{ 48, "unknown_ca" },
	{ 49, "access_denied" },
	{ 50, "decode_error" },
	{ 51, "decrypt_error" },
	{ 60, "export_restriction" },
	{ 70, "protocol_version" },
	{ 71, "insufficient_security" },
	{ 80, "internal_error" },
	{ 86, "inappropriate_fallback" },
	{ 90, "user_canceled" },
	{ 100, "no_renegotiation" },
	{ 109, "missing_extension" },
	{ 110, "unsupported_extension" },
	{ 111, "certificate_unobtainable" },
	{ 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 114, "bad_certificate_hash_value" },
	{ 115, "unknown_psk_identity" },
	{ 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

const char *tls_alert_name(uint8_t description)
{
	for (size_t i = 0; i < ARRAY_LEN(alerts); i++)
		if (alerts[i].code == description)
			return alerts[i].name;
	return "unknown";
}
