/*
 * test_community_id.c - Community ID v1 against the specification's published
 * baseline (community-id-spec, baseline/baseline_deflt.json and
 * baseline_seed1.json, the TCP rows), in both directions.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/community_id.h"

static void check(const char *sa, const char *da, uint16_t sp, uint16_t dp, uint16_t seed,
		  const char *want)
{
	int family = strchr(sa, ':') ? AF_INET6 : AF_INET;
	size_t len = family == AF_INET6 ? 16 : 4;
	uint8_t s[16], d[16];
	assert_int_equal(inet_pton(family, sa, s), 1);
	assert_int_equal(inet_pton(family, da, d), 1);
	char got[COMMUNITY_ID_LEN];
	community_id_v1(seed, s, d, len, 6, sp, dp, got);
	assert_string_equal(got, want);
	community_id_v1(seed, d, s, len, 6, dp, sp, got); /* the reply direction: the same id */
	assert_string_equal(got, want);
}

static void tcp_over_ipv4_matches_the_published_baseline(void **unused)
{
	(void)unused;
	check("128.232.110.120", "66.35.250.204", 34855, 80, 0, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
	check("128.232.110.120", "66.35.250.204", 34855, 80, 1, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=");
}

static void tcp_over_ipv6_matches_the_published_baseline(void **unused)
{
	(void)unused;
	check("2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 0,
	      "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=");
	check("2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25, 1,
	      "1:eJYTW6AOzFLlSUoESovMjnu7rMw=");
}

static void equal_addresses_are_ordered_by_port(void **unused)
{
	(void)unused;
	uint8_t a[4] = { 10, 0, 0, 1 };
	char x[COMMUNITY_ID_LEN], y[COMMUNITY_ID_LEN];
	community_id_v1(0, a, a, 4, 6, 40000, 110, x);
	community_id_v1(0, a, a, 4, 6, 110, 40000, y);
	assert_string_equal(x, y);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_over_ipv4_matches_the_published_baseline),
		cmocka_unit_test(tcp_over_ipv6_matches_the_published_baseline),
		cmocka_unit_test(equal_addresses_are_ordered_by_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
