/*
 * tls_suites.c - the cipher suite table built from tls_suites.def, looked up by
 * halving (the rows are sorted by code), and the public name and weakness
 * queries of tls.h.
 */
#include "tls_suites.h"

#include <stddef.h>

#include "tls.h"

#define W_NULL TLS_WEAK_NULL
#define W_EXPORT TLS_WEAK_EXPORT
#define W_RC4 TLS_WEAK_RC4
#define W_DES TLS_WEAK_DES
#define W_3DES TLS_WEAK_3DES
#define W_ANON TLS_WEAK_ANON

static const struct tls_suite suites[] = {
#define TLS_SUITE(code, name, bulk, mac, prf, weak)                                      \
	{ code, name, TLS_BULK_##bulk, TLS_MAC_##mac, TLS_HASH_##prf, weak },
#include "tls_suites.def"
#undef TLS_SUITE
};

const struct tls_suite *tls_suite_find(uint16_t code)
{
	size_t lo = 0, hi = sizeof(suites) / sizeof(suites[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (suites[mid].code == code)
			return &suites[mid];
		if (suites[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *tls_suite_name(uint16_t code)
{
	const struct tls_suite *s = tls_suite_find(code);
	return s ? s->name : NULL;
}

unsigned tls_suite_weakness(uint16_t code)
{
	const struct tls_suite *s = tls_suite_find(code);
	return s ? s->weak : 0;
}
