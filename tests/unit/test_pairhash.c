/*
 * test_pairhash.c - the address-pair hash: symmetric, the same from a whole
 * packet as from its addresses, equal to the formula a BPF fanout program
 * computes (checked against values worked out by hand), and spread evenly.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/pairhash.h"

static void addr(const char *text, uint8_t *out, size_t *len)
{
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	*len = family == AF_INET6 ? 16 : 4;
	assert_int_equal(inet_pton(family, text, out), 1);
}

static void both_directions_hash_alike(void **unused)
{
	(void)unused;
	const char *pairs[][2] = { { "10.0.0.1", "192.0.2.7" }, { "2001:db8::1", "2001:db8:ffff::42" } };
	for (size_t i = 0; i < 2; i++) {
		uint8_t a[16], b[16];
		size_t n;
		addr(pairs[i][0], a, &n);
		addr(pairs[i][1], b, &n);
		assert_int_equal(pairhash(a, b, n), pairhash(b, a, n));
	}
}

static void the_formula_is_the_documented_one(void **unused)
{
	(void)unused;
	uint8_t a[16], b[16];
	size_t n;
	addr("10.0.0.1", a, &n);  /* 0x0a000001 */
	addr("192.0.2.7", b, &n); /* 0xc0000207 */
	uint32_t x = 0x0a000001u ^ 0xc0000207u, h = x * 0x9E3779B1u;
	assert_int_equal(pairhash(a, b, n), h ^ (h >> 16));
	/* and one worked out by hand: x = 1 gives h = 0x9E3779B1, h ^ h>>16 = 0x9E37E786 */
	addr("0.0.0.1", a, &n);
	addr("0.0.0.0", b, &n);
	assert_int_equal(pairhash(a, b, n), 0x9E37E786u);
}

static void a_packet_hashes_as_its_addresses(void **unused)
{
	(void)unused;
	uint8_t v4[20] = { 0x45 }, v6[40] = { 0x60 };
	memcpy(v4 + 12, "\x0a\x00\x00\x01\xc0\x00\x02\x07", 8);
	uint32_t h;
	assert_true(pairhash_packet(v4, sizeof(v4), &h));
	assert_int_equal(h, pairhash(v4 + 12, v4 + 16, 4));
	for (int i = 0; i < 32; i++)
		v6[8 + i] = (uint8_t)(i * 37 + 1);
	assert_true(pairhash_packet(v6, sizeof(v6), &h));
	assert_int_equal(h, pairhash(v6 + 8, v6 + 24, 16));
	assert_false(pairhash_packet(v4, 19, &h));
	assert_false(pairhash_packet(v6, 39, &h));
	uint8_t arp[28] = { 0x00 };
	assert_false(pairhash_packet(arp, sizeof(arp), &h));
}

static void many_clients_of_one_server_spread_evenly(void **unused)
{
	(void)unused;
	unsigned count[4] = { 0 };
	uint8_t server[4] = { 192, 0, 2, 1 }, client[4] = { 10, 0, 0, 0 };
	for (unsigned i = 0; i < 4000; i++) {
		client[2] = (uint8_t)(i >> 8);
		client[3] = (uint8_t)i;
		count[pairhash_bucket(pairhash(client, server, 4), 4)]++;
	}
	for (int k = 0; k < 4; k++) /* 1000 each if perfect: within 10% */
		assert_in_range(count[k], 900, 1100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(both_directions_hash_alike),
		cmocka_unit_test(the_formula_is_the_documented_one),
		cmocka_unit_test(a_packet_hashes_as_its_addresses),
		cmocka_unit_test(many_clients_of_one_server_spread_evenly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
