/*
 * test_shard.c - --shard K/N (src/shard.c): what the option accepts and
 * refuses, and which shard owns a packet: exactly one of N, the same for both
 * directions and for every fragment of a datagram, shard 0 for what has no
 * address pair.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/pairhash.h"
#include "../../src/shard.h"

static void parses_k_of_n_and_refuses_the_rest(void **unused)
{
	(void)unused;
	struct shard s;
	char err[200];
	assert_true(shard_parse("3/4", &s, err, sizeof(err)));
	assert_int_equal(s.k, 3);
	assert_int_equal(s.n, 4);
	assert_true(shard_parse("0/1", &s, err, sizeof(err)));
	assert_true(shard_parse("1023/1024", &s, err, sizeof(err)));
	static const char *bad[] = { "4/4", "0/0", "0/1025", "/4", "4/", "", "1", "a/4", "1/b", "-1/4",
				     "1/-4", "+1/4", " 1/4", "1/4 ", "1/4/4", "18446744073709551617/4",
				     "1/18446744073709551617" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_false(shard_parse(bad[i], &s, err, sizeof(err)));
		assert_non_null(strstr(err, bad[i])); /* the message quotes what was given */
	}
}

/* An IPv4 header from a to b, with the fragment field `frag`. */
static void ipv4(uint8_t *p, const uint8_t a[4], const uint8_t b[4], uint16_t frag)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[6] = (uint8_t)(frag >> 8);
	p[7] = (uint8_t)frag;
	p[9] = 6;
	memcpy(p + 12, a, 4);
	memcpy(p + 16, b, 4);
}

static unsigned owner(const uint8_t *ip, size_t len, unsigned n)
{
	unsigned found = n, count = 0;
	for (unsigned k = 0; k < n; k++) {
		struct shard s = { k, n };
		if (shard_owns(&s, ip, len)) {
			found = k;
			count++;
		}
	}
	assert_int_equal(count, 1); /* one shard and one only */
	return found;
}

static void one_shard_owns_both_directions_and_every_fragment(void **unused)
{
	(void)unused;
	uint8_t p[20], q[20];
	unsigned seen = 0;
	for (unsigned i = 0; i < 64; i++) {
		const uint8_t a[4] = { 10, 0, (uint8_t)i, (uint8_t)(i + 1) }, b[4] = { 192, 0, 2, 10 };
		ipv4(p, a, b, 0x2000);  /* first fragment (MF) */
		ipv4(q, b, a, 0x0005);  /* the reply direction, a later fragment */
		unsigned k = owner(p, sizeof(p), 4);
		assert_int_equal(owner(q, sizeof(q), 4), k);
		uint32_t h;
		assert_true(pairhash_packet(p, sizeof(p), &h));
		assert_int_equal(k, pairhash_bucket(h, 4)); /* the workers' and the kernel's split */
		seen |= 1u << k;
	}
	assert_int_equal(seen, 0xf); /* 64 pairs use every shard */
	uint8_t v6[40] = { 0x60 };
	v6[8] = 0x20;
	v6[39] = 1;
	owner(v6, sizeof(v6), 4);
}

static void no_address_pair_is_shard_0s_and_no_sharding_owns_all(void **unused)
{
	(void)unused;
	uint8_t p[20];
	const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	ipv4(p, a, b, 0);
	assert_int_equal(owner(NULL, 0, 4), 0); /* not IP */
	assert_int_equal(owner(p, 19, 4), 0);   /* too short for both addresses */
	struct shard none = { 0, 0 }, one = { 0, 1 };
	assert_true(shard_owns(&none, p, sizeof(p)) && shard_owns(&one, p, sizeof(p)));
	assert_true(shard_owns(&none, NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_k_of_n_and_refuses_the_rest),
		cmocka_unit_test(one_shard_owns_both_directions_and_every_fragment),
		cmocka_unit_test(no_address_pair_is_shard_0s_and_no_sharding_owns_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
