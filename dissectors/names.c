/*
 * names.c - printable names for the enums shared by dissectors and output
 * (anomalies, auth results, end reasons). Owns nothing but the tables; the
 * anomaly ids come from anomalies.def.
 */
#include "anomaly.h"
#include "dissector.h"
#include "event.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *const anomaly_ids[] = {
#define ANOMALY(e, id, why) [e] = id,
#include "anomalies.def"
#undef ANOMALY
};

_Static_assert(ARRAY_LEN(anomaly_ids) == ANOM_COUNT, "anomaly table out of step");

const char *anomaly_id(enum anomaly a)
{
	return (unsigned)a < ANOM_COUNT ? anomaly_ids[a] : "unknown";
}

static const char *const auth_result_names[] = {
	[AUTH_RESULT_UNKNOWN] = "unknown",
	[AUTH_RESULT_SUCCESS] = "success",
	[AUTH_RESULT_FAILURE] = "failure",
};
_Static_assert(ARRAY_LEN(auth_result_names) == AUTH_RESULT_COUNT, "auth result names out of step");

const char *auth_result_name(enum auth_result r)
{
	return (unsigned)r < AUTH_RESULT_COUNT ? auth_result_names[r] : "unknown";
}

static const char *const end_reason_names[] = {
	[END_NONE] = "unknown",
	[END_FIN] = "fin",
	[END_RST] = "rst",
	[END_TIMEOUT] = "timeout",
	[END_CAPTURE_END] = "capture-end",
	[END_EVICTED] = "evicted",
	[END_REUSED] = "port-reuse",
	[END_INTERRUPTED] = "interrupted",
};
_Static_assert(ARRAY_LEN(end_reason_names) == END_REASON_COUNT, "end reason names out of step");

const char *end_reason_name(enum end_reason r)
{
	return (unsigned)r < END_REASON_COUNT ? end_reason_names[r] : "unknown";
}
