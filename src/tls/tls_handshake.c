/*
 * tls_handshake.c - handshake message framing (tls_handshake.h). A message
 * wholly inside one feed is handed on in place; one that spans feeds is
 * gathered in a buffer of exactly its kept size, freed once it is handed on.
 */
#include "tls_handshake.h"

#include <stdlib.h>
#include <string.h>

#include "tls.h"

static size_t kept_len(uint32_t len)
{
	return len < TLS_HANDSHAKE_MAX ? len : TLS_HANDSHAKE_MAX;
}

static void finish(struct tls_hs_reader *h, const uint8_t *body, tls_hs_fn fn, void *ctx)
{
	uint8_t type = h->hdr[0];
	size_t len = h->len;
	h->hdr_have = 0;
	h->have = 0;
	fn(ctx, type, body, kept_len((uint32_t)len), len);
}

/* Reads body octets; returns octets consumed. */
static size_t feed_body(struct tls_hs_reader *h, const uint8_t *p, size_t n, tls_hs_fn fn,
			void *ctx)
{
	size_t keep = kept_len(h->len);
	if (h->have == 0 && n >= h->len) {
		size_t len = h->len;
		finish(h, p, fn, ctx); /* whole here: no copy */
		return len;
	}
	size_t take = h->len - h->have < n ? h->len - h->have : n;
	if (take && h->have < keep) {
		if (!h->buf)
			h->buf = malloc(keep);
		size_t k = keep - h->have < take ? keep - h->have : take;
		if (h->buf)
			memcpy(h->buf + h->have, p, k);
	}
	h->have += take;
	if (h->have == h->len) {
		uint8_t *b = h->buf;
		h->buf = NULL;
		if (b) /* out of memory: the message is dropped */
			finish(h, b, fn, ctx);
		else
			h->hdr_have = h->have = 0;
		free(b);
	}
	return take;
}

void tls_hs_feed(struct tls_hs_reader *h, const uint8_t *p, size_t n, tls_hs_fn fn, void *ctx)
{
	while (n) {
		if (h->hdr_have < 4) {
			size_t take = 4 - h->hdr_have < n ? 4 - h->hdr_have : n;
			memcpy(h->hdr + h->hdr_have, p, take);
			h->hdr_have += take;
			p += take;
			n -= take;
			if (h->hdr_have < 4)
				return;
			h->len = (uint32_t)h->hdr[1] << 16 | (uint32_t)h->hdr[2] << 8 | h->hdr[3];
			h->have = 0;
			if (h->len == 0) {
				finish(h, p, fn, ctx);
				continue;
			}
			if (!n) /* the body comes with the next record */
				return;
		}
		size_t used = feed_body(h, p, n, fn, ctx);
		p += used;
		n -= used;
	}
}

void tls_hs_reset(struct tls_hs_reader *h)
{
	free(h->buf);
	h->buf = NULL;
	h->hdr_have = 0;
	h->have = 0;
}

void tls_hs_free(struct tls_hs_reader *h)
{
	tls_hs_reset(h);
}
