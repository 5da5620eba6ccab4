/*
 * digest.c - a message's SHA-256 (digest.h), through OpenSSL's EVP API, and
 * the rule that decides which thread computes it.
 */
#include "digest.h"

#include <openssl/evp.h>

/*
 * The output thread is behind when its queue is half full: then the capture
 * thread, which is waiting for room anyway, does the hashing of the message
 * that begins now and passes on only its first octets.
 */
#define DIGEST_SHARE_PERCENT 50

bool digest_upstream(enum hash_sharing share, unsigned queue_percent_full)
{
	switch (share) {
	case HASH_SHARE_NEVER: return false;
	case HASH_SHARE_ALWAYS: return true;
	case HASH_SHARE_AUTO: break;
	}
	return queue_percent_full >= DIGEST_SHARE_PERCENT;
}

bool digest_begin(struct digest *d)
{
	if (!d->md)
		d->md = EVP_MD_CTX_new();
	d->size = 0;
	d->on = d->md && EVP_DigestInit_ex(d->md, EVP_sha256(), NULL);
	return d->on;
}

void digest_update(struct digest *d, const void *p, size_t n)
{
	EVP_DigestUpdate(d->md, p, n);
	d->size += n;
}

struct digest_result digest_end(struct digest *d)
{
	struct digest_result r = { .size = d->size };
	unsigned int len = 0;
	EVP_DigestFinal_ex(d->md, r.sha256, &len);
	d->on = false;
	return r;
}

void digest_free(struct digest *d)
{
	EVP_MD_CTX_free(d->md);
	d->md = NULL;
	d->on = false;
}

void digest_hex(const struct digest_result *r, char out[DIGEST_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < DIGEST_LEN; i++) {
		out[2 * i] = hex[r->sha256[i] >> 4];
		out[2 * i + 1] = hex[r->sha256[i] & 15];
	}
	out[DIGEST_HEX_LEN] = 0;
}
