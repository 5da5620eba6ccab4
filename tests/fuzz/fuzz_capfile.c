/*
 * fuzz_capfile.c - libFuzzer harness for the capture reader (src/capfile.c)
 * and the byte source under it (src/capsource.c: sniffing, the gzip, zstd,
 * lz4 and xz decoders, the window), with no engine behind them.
 *
 * Input: a flags byte, then a capture file (pcap, pcapng, or one of them
 * already compressed: the source sniffs it).
 *   bits 0-2: 1-4 also compress the file with gzip/zstd/lz4/xz (the libraries'
 *     encoders) and read it again: the packets, the end and its offset must be
 *     the same as from the file itself (when that was not compressed already).
 *   bits 3-5: the source hands out 0 (all), 1, 2, 3, 7, 64, 4096 or 65536 bytes
 *     per read, as a pipe would.
 *   bit 6: no secrets callback.
 * Every packet's bytes are read (ASan checks the pointer), its interface must
 * be known with the same link type, offsets must grow, a packet must fit the
 * block bounds, and the window must stay within CAPSRC_PEEK_MAX; libFuzzer's
 * -rss_limit_mb catches any other growth. Decoding stops after
 * FUZZ_DECODED_MAX bytes of decompressed stream, to keep bombs fast.
 */
#include <lz4frame.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "../../src/capfile.h"
#include "fuzz_input.h"

#define F_CODEC 0x07
#define F_CHUNK_SHIFT 3
#define F_NO_SECRETS 0x40
#define FUZZ_DECODED_MAX (16u << 20)

struct outcome {
	bool opened;
	enum capfile_result r;
	uint64_t err_offset;
	uint64_t packets;
	uint64_t digest; /* FNV-1a over every packet's header fields and bytes */
	enum capsrc_codec codec;
};

/* Nothing to set up once: every input gets its own reader. */
void fuzz_harness_init(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void on_secrets(void *ctx, uint32_t type, const uint8_t *p, size_t len, uint64_t off)
{
	uint64_t *h = ctx;
	*h = fnv(*h, &type, sizeof(type));
	*h = fnv(*h, p, len);
	*h = fnv(*h, &off, sizeof(off));
}

static void check_packet(struct capfile *cf, const struct capfile_packet *pkt, uint64_t *last_off,
			 struct outcome *o)
{
	const struct capfile_iface *ifc = capfile_iface(cf, pkt->iface);
	FUZZ_ASSERT(ifc && ifc->dlt == pkt->dlt);
	FUZZ_ASSERT(o->packets == 0 || pkt->offset > *last_off);
	FUZZ_ASSERT(pkt->caplen <= CAPSRC_PEEK_MAX);
	*last_off = pkt->offset;
	uint64_t h = o->digest;
	h = fnv(h, &pkt->ts, sizeof(pkt->ts));
	h = fnv(h, &pkt->caplen, sizeof(pkt->caplen));
	h = fnv(h, &pkt->len, sizeof(pkt->len));
	h = fnv(h, &pkt->dlt, sizeof(pkt->dlt));
	h = fnv(h, &pkt->iface, sizeof(pkt->iface));
	h = fnv(h, &pkt->offset, sizeof(pkt->offset));
	o->digest = fnv(h, pkt->data, pkt->caplen);
	o->packets++;
}

static void read_capture(const uint8_t *p, size_t n, size_t chunk, bool secrets, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	char err[CAPFILE_ERR_MAX];
	struct capsrc *src = capsrc_open_memory(p, n, chunk, err, sizeof(err));
	FUZZ_ASSERT(src != NULL);
	o->codec = capsrc_codec(src);
	struct capfile_config cfg = { secrets ? on_secrets : NULL, &o->digest };
	struct capfile *cf = capfile_open(src, &cfg, err, sizeof(err));
	if (!cf)
		return;
	o->opened = true;
	struct capfile_packet pkt;
	uint64_t last_off = 0;
	while ((o->r = capfile_next(cf, &pkt)) == CAPFILE_PACKET) {
		check_packet(cf, &pkt, &last_off, o);
		if (capsrc_offset(capfile_source(cf)) > FUZZ_DECODED_MAX)
			break;
	}
	if (o->r != CAPFILE_PACKET) {
		FUZZ_ASSERT(capfile_next(cf, &pkt) == o->r);
		FUZZ_ASSERT((o->r == CAPFILE_END) == (capfile_error(cf)[0] == '\0'));
		o->err_offset = capfile_error_offset(cf);
	}
	FUZZ_ASSERT(capsrc_window_size(capfile_source(cf)) <= CAPSRC_PEEK_MAX);
	capfile_close(cf);
}

/* The file compressed by the codec's own library, in a malloc the caller frees. */
static uint8_t *compress_as(unsigned c, const uint8_t *p, size_t n, size_t *out_n)
{
	size_t cap = n + n / 2 + 1024;
	uint8_t *out = malloc(cap);
	FUZZ_ASSERT(out != NULL);
	if (c == CAPSRC_GZIP) {
		z_stream z = { 0 };
		FUZZ_ASSERT(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
		z.next_in = (Bytef *)(uintptr_t)p;
		z.avail_in = (uInt)n;
		z.next_out = out;
		z.avail_out = (uInt)cap;
		FUZZ_ASSERT(deflate(&z, Z_FINISH) == Z_STREAM_END);
		*out_n = cap - z.avail_out;
		deflateEnd(&z);
	} else if (c == CAPSRC_ZSTD) {
		*out_n = ZSTD_compress(out, cap, p, n, 1);
		FUZZ_ASSERT(!ZSTD_isError(*out_n));
	} else if (c == CAPSRC_LZ4) {
		*out_n = LZ4F_compressFrame(out, cap, p, n, NULL);
		FUZZ_ASSERT(!LZ4F_isError(*out_n));
	} else {
		*out_n = 0;
		FUZZ_ASSERT(lzma_easy_buffer_encode(0, LZMA_CHECK_CRC32, NULL, p, n, out, out_n, cap) ==
			    LZMA_OK);
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[8] = { 0, 1, 2, 3, 7, 64, 4096, 65536 };
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	size_t chunk = chunks[(flags >> F_CHUNK_SHIFT) & 7];
	bool secrets = !(flags & F_NO_SECRETS);
	/* the file alone in an exact-size buffer: reading past it is caught */
	uint8_t *file = fuzz_dup(size > 1 ? data + 1 : (const uint8_t *)"", size > 1 ? size - 1 : 1);
	size_t n = size - 1;
	struct outcome plain;
	read_capture(file, n, chunk, secrets, &plain);
	unsigned c = flags & F_CODEC;
	if (c >= CAPSRC_GZIP && c < CAPSRC_CODEC_COUNT && plain.codec == CAPSRC_PLAIN) {
		size_t zn;
		uint8_t *z = compress_as(c, file, n, &zn);
		struct outcome packed;
		read_capture(z, zn, chunk, secrets, &packed);
		FUZZ_ASSERT(packed.codec == (enum capsrc_codec)c);
		FUZZ_ASSERT(packed.opened == plain.opened);
		FUZZ_ASSERT(packed.r == plain.r && packed.err_offset == plain.err_offset);
		FUZZ_ASSERT(packed.packets == plain.packets && packed.digest == plain.digest);
		free(z);
	}
	free(file);
	return 0;
}
