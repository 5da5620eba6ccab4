/*
 * pairhash.c - the address-pair hash of pairhash.h. Kept to operations a
 * classic-BPF program has, so the kernel's fanout and popsift agree.
 */
#include "pairhash.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

uint32_t pairhash(const uint8_t *a, const uint8_t *b, size_t addr_len)
{
	uint32_t x = 0;
	for (size_t i = 0; i + 4 <= addr_len; i += 4)
		x ^= be32(a + i) ^ be32(b + i);
	uint32_t h = x * PAIRHASH_MUL;
	return h ^ (h >> 16);
}

bool pairhash_packet(const uint8_t *ip, size_t len, uint32_t *hash)
{
	if (len < 1)
		return false;
	switch (ip[0] >> 4) {
	case 4:
		if (len < 20)
			return false;
		*hash = pairhash(ip + 12, ip + 16, 4);
		return true;
	case 6:
		if (len < 40)
			return false;
		*hash = pairhash(ip + 8, ip + 24, 16);
		return true;
	default:
		return false;
	}
}
