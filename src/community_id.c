/*
 * community_id.c - Community ID v1: SHA-1 over seed, the two endpoints in a
 * canonical order (the smaller address first, the smaller port first when the
 * addresses are equal), the protocol and one byte of padding, then the ports;
 * every field in network order; base64 of the digest after "1:".
 */
#include "community_id.h"

#include <openssl/evp.h>
#include <string.h>

void community_id_v1(uint16_t seed, const uint8_t *saddr, const uint8_t *daddr, size_t addr_len,
		     uint8_t proto, uint16_t sport, uint16_t dport, char out[COMMUNITY_ID_LEN])
{
	int order = memcmp(saddr, daddr, addr_len);
	if (order > 0 || (order == 0 && sport > dport)) {
		const uint8_t *a = saddr;
		saddr = daddr;
		daddr = a;
		uint16_t p = sport;
		sport = dport;
		dport = p;
	}
	uint8_t in[2 + 16 + 16 + 2 + 4], *w = in;
	*w++ = (uint8_t)(seed >> 8);
	*w++ = (uint8_t)seed;
	memcpy(w, saddr, addr_len);
	w += addr_len;
	memcpy(w, daddr, addr_len);
	w += addr_len;
	*w++ = proto;
	*w++ = 0;
	*w++ = (uint8_t)(sport >> 8);
	*w++ = (uint8_t)sport;
	*w++ = (uint8_t)(dport >> 8);
	*w++ = (uint8_t)dport;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(in, (size_t)(w - in), digest, &n, EVP_sha1(), NULL);
	memcpy(out, "1:", 2);
	EVP_EncodeBlock((unsigned char *)out + 2, digest, (int)n);
}
