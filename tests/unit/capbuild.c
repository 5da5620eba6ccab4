/*
 * capbuild.c - pcap/pcapng builders and compressors for the capture reader's
 * unit tests; see capbuild.h.
 */
#include "capbuild.h"

#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "capbuild: out of memory\n");
		abort();
	}
	return p;
}

struct bb bb_new(bool big_endian)
{
	return (struct bb){ .p = xmalloc(256), .cap = 256, .big_endian = big_endian };
}

void bb_free(struct bb *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

void bb_put(struct bb *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		while (b->n + n > b->cap)
			b->cap *= 2;
		uint8_t *q = xmalloc(b->cap);
		memcpy(q, b->p, b->n);
		free(b->p);
		b->p = q;
	}
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

/* v's low `bytes` bytes in the builder's byte order. */
static void bb_int(struct bb *b, uint64_t v, unsigned bytes)
{
	uint8_t tmp[8];
	for (unsigned i = 0; i < bytes; i++)
		tmp[b->big_endian ? bytes - 1 - i : i] = (uint8_t)(v >> (8 * i));
	bb_put(b, tmp, bytes);
}

void bb_u8(struct bb *b, uint8_t v)
{
	bb_put(b, &v, 1);
}

void bb_u16(struct bb *b, uint16_t v)
{
	bb_int(b, v, 2);
}

void bb_u32(struct bb *b, uint32_t v)
{
	bb_int(b, v, 4);
}

void bb_u64(struct bb *b, uint64_t v)
{
	bb_int(b, v, 8);
}

void bb_pad4(struct bb *b)
{
	static const uint8_t zero[3];
	bb_put(b, zero, (4 - b->n % 4) % 4);
}

void pcap_header(struct bb *b, uint32_t magic, uint16_t major, uint16_t minor, uint32_t snaplen,
		 uint32_t linktype)
{
	bb_u32(b, magic);
	bb_u16(b, major);
	bb_u16(b, minor);
	bb_u32(b, 0); /* thiszone */
	bb_u32(b, 0); /* sigfigs */
	bb_u32(b, snaplen);
	bb_u32(b, linktype);
}

void pcap_record(struct bb *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
		 const void *data)
{
	bb_u32(b, sec);
	bb_u32(b, frac);
	bb_u32(b, caplen);
	bb_u32(b, len);
	bb_put(b, data, caplen);
}

size_t ng_begin(struct bb *b, uint32_t type)
{
	size_t start = b->n;
	bb_u32(b, type);
	bb_u32(b, 0); /* the length, written by ng_end() */
	return start;
}

void ng_end(struct bb *b, size_t start)
{
	bb_pad4(b);
	uint32_t len = (uint32_t)(b->n - start + 4);
	bb_u32(b, len);
	struct bb at = { b->p + start + 4, 0, 4, b->big_endian };
	bb_int(&at, len, 4); /* fits: `at` has room for exactly these 4 bytes */
}

void ng_opt(struct bb *b, uint16_t code, const void *v, uint16_t len)
{
	bb_u16(b, code);
	bb_u16(b, len);
	bb_put(b, v, len);
	bb_pad4(b);
}

void ng_shb(struct bb *b)
{
	size_t s = ng_begin(b, 0x0a0d0d0a);
	bb_u32(b, 0x1a2b3c4d);
	bb_u16(b, 1);
	bb_u16(b, 0);
	bb_u64(b, UINT64_MAX); /* section length unknown */
	ng_end(b, s);
}

void ng_idb(struct bb *b, uint16_t linktype, uint32_t snaplen, int tsresol, bool has_offset,
	    int64_t tsoffset)
{
	size_t s = ng_begin(b, 1);
	bb_u16(b, linktype);
	bb_u16(b, 0);
	bb_u32(b, snaplen);
	if (tsresol >= 0) {
		uint8_t r = (uint8_t)tsresol;
		ng_opt(b, 9, &r, 1);
	}
	if (has_offset) {
		struct bb v = bb_new(b->big_endian);
		bb_u64(&v, (uint64_t)tsoffset);
		ng_opt(b, 14, v.p, 8);
		bb_free(&v);
	}
	if (tsresol >= 0 || has_offset)
		ng_opt(b, 0, NULL, 0);
	ng_end(b, s);
}

/* What enhanced and obsolete packet blocks end with: time, lengths, the packet. */
static void ng_packet(struct bb *b, uint64_t t, uint32_t caplen, uint32_t len, const void *data)
{
	bb_u32(b, (uint32_t)(t >> 32));
	bb_u32(b, (uint32_t)t);
	bb_u32(b, caplen);
	bb_u32(b, len);
	bb_put(b, data, caplen);
}

void ng_epb(struct bb *b, uint32_t iface, uint64_t t, uint32_t caplen, uint32_t len,
	    const void *data)
{
	size_t s = ng_begin(b, 6);
	bb_u32(b, iface);
	ng_packet(b, t, caplen, len, data);
	ng_end(b, s);
}

void ng_spb(struct bb *b, uint32_t len, const void *data, uint32_t stored)
{
	size_t s = ng_begin(b, 3);
	bb_u32(b, len);
	bb_put(b, data, stored);
	ng_end(b, s);
}

void ng_opb(struct bb *b, uint16_t iface, uint64_t t, uint32_t caplen, uint32_t len,
	    const void *data)
{
	size_t s = ng_begin(b, 2);
	bb_u16(b, iface);
	bb_u16(b, 0); /* drops */
	ng_packet(b, t, caplen, len, data);
	ng_end(b, s);
}

void ng_dsb(struct bb *b, uint32_t type, const void *secrets, uint32_t len)
{
	size_t s = ng_begin(b, 10);
	bb_u32(b, type);
	bb_u32(b, len);
	bb_put(b, secrets, len);
	ng_end(b, s);
}

static uint8_t *gzip_bytes(const void *p, size_t n, size_t *out_n)
{
	z_stream z = { 0 };
	if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	size_t cap = deflateBound(&z, (uLong)n) + 32;
	uint8_t *out = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		abort();
	*out_n = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

uint8_t *compress_with(enum capsrc_codec c, const void *p, size_t n, size_t *out_n)
{
	uint8_t *out = NULL;
	size_t cap;
	switch (c) {
	case CAPSRC_GZIP:
		return gzip_bytes(p, n, out_n);
	case CAPSRC_ZSTD:
		cap = ZSTD_compressBound(n);
		out = xmalloc(cap);
		*out_n = ZSTD_compress(out, cap, p, n, 3);
		if (ZSTD_isError(*out_n))
			abort();
		return out;
	case CAPSRC_LZ4:
		cap = LZ4F_compressFrameBound(n, NULL);
		out = xmalloc(cap);
		*out_n = LZ4F_compressFrame(out, cap, p, n, NULL);
		if (LZ4F_isError(*out_n))
			abort();
		return out;
	case CAPSRC_XZ:
		cap = lzma_stream_buffer_bound(n);
		out = xmalloc(cap);
		*out_n = 0;
		if (lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, p, n, out, out_n, cap) !=
		    LZMA_OK)
			abort();
		return out;
	default:
		out = xmalloc(n);
		memcpy(out, p, n);
		*out_n = n;
		return out;
	}
}
