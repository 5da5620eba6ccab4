/*
 * test_tls_anomalies.c - the TLS layer's anomalies (src/tls/tls_anomalies.def) are
 * reported as popsift's (dissectors/anomalies.def), which repeats them: every one
 * maps to the anomaly of the same id and the same meaning, and no two to one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../../dissectors/anomaly.h"
#include "../../src/session_tls.h"
#include "../../src/tls/tls.h"

static const char *const popsift_whys[] = {
#define ANOMALY(e, id, why) [e] = why,
#include "../../dissectors/anomalies.def"
#undef ANOMALY
};

static void every_tls_anomaly_is_popsifts_of_the_same_id_and_meaning(void **unused)
{
	(void)unused;
	int used[ANOM_COUNT] = { 0 };
	for (unsigned a = 0; a < TLS_ANOM_COUNT; a++) {
		enum anomaly p = session_tls_anomaly_of(a);
		assert_true((unsigned)p < ANOM_COUNT);
		assert_string_equal(anomaly_id(p), tls_anomaly_id((enum tls_anomaly)a));
		assert_string_equal(popsift_whys[p], tls_anomaly_why((enum tls_anomaly)a));
		assert_int_equal(used[p]++, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_tls_anomaly_is_popsifts_of_the_same_id_and_meaning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
