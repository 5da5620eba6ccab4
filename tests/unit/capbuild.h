/*
 * capbuild.h - builds small pcap and pcapng files byte by byte, in either byte
 * order, and compresses bytes with each codec capsource.c reads (gzip, zstd,
 * lz4 frame, xz) through the libraries' own encoders: the inputs of
 * test_capfile.c and test_capsource.c. Aborts when out of memory.
 */
#ifndef POPSIFT_TEST_CAPBUILD_H
#define POPSIFT_TEST_CAPBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../src/capsource.h"

struct bb {
	uint8_t *p;
	size_t n, cap;
	bool big_endian; /* how bb_u16/32/64 write */
};

struct bb bb_new(bool big_endian);
void bb_free(struct bb *b);
void bb_put(struct bb *b, const void *p, size_t n);
void bb_u8(struct bb *b, uint8_t v);
void bb_u16(struct bb *b, uint16_t v);
void bb_u32(struct bb *b, uint32_t v);
void bb_u64(struct bb *b, uint64_t v);
void bb_pad4(struct bb *b);

/* Classic pcap: the file header, then records. */
void pcap_header(struct bb *b, uint32_t magic, uint16_t major, uint16_t minor, uint32_t snaplen,
		 uint32_t linktype);
void pcap_record(struct bb *b, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
		 const void *data);

/* pcapng: ng_begin() opens a block (type, length to come), ng_end() pads it and closes it. */
size_t ng_begin(struct bb *b, uint32_t type);
void ng_end(struct bb *b, size_t start);
void ng_opt(struct bb *b, uint16_t code, const void *v, uint16_t len);
void ng_shb(struct bb *b);
/* An IDB without options, or with if_tsresol (tsresol >= 0) and if_tsoffset (when has_offset). */
void ng_idb(struct bb *b, uint16_t linktype, uint32_t snaplen, int tsresol, bool has_offset,
	    int64_t tsoffset);
void ng_epb(struct bb *b, uint32_t iface, uint64_t t, uint32_t caplen, uint32_t len,
	    const void *data);
void ng_spb(struct bb *b, uint32_t len, const void *data, uint32_t stored);
void ng_opb(struct bb *b, uint16_t iface, uint64_t t, uint32_t caplen, uint32_t len,
	    const void *data);
void ng_dsb(struct bb *b, uint32_t type, const void *secrets, uint32_t len);

/* p[0..n) compressed with codec c (CAPSRC_PLAIN: a copy); caller frees; *out_n its length. */
uint8_t *compress_with(enum capsrc_codec c, const void *p, size_t n, size_t *out_n);

#endif
