/*
 * capfile.h - packets out of a capture file, pcap or pcapng, read as a stream
 * from a byte source (capsource.h: a file, FIFO or standard input, compressed
 * or not). popsift's own reader, so that one file can hold interfaces of
 * different link types, and a capture never needs a seek.
 *
 * Owns the format: classic pcap (both byte orders; microsecond, nanosecond and
 * the old "Kuznetzov" magic), pcapng (every section in its own byte order,
 * every interface with its own link type, snapshot length, if_tsresol in both
 * the power-of-10 and power-of-2 forms and if_tsoffset; enhanced, simple and
 * obsolete packet blocks; Decryption Secrets Blocks handed to a callback;
 * other blocks skipped). Knows nothing of link layers or of what popsift does
 * with a packet.
 *
 * Packets come out as libpcap gives them at microsecond precision (the
 * timestamp, caplen and len of pcap_next_ex(), link types mapped to DLT_*
 * values as libpcap maps them), so the rest of popsift sees no difference;
 * tests/e2e/test_capfile.py holds the two readers to that on every capture.
 * Where they differ by design: a pcapng may mix link types (libpcap refuses
 * it), a pcapng section may change byte order (libpcap refuses it), a pcapng
 * packet longer than its interface's snapshot length is given whole (libpcap
 * stops the file), classic pcap timestamps are unsigned (libpcap turns years
 * after 2038 negative), and pseudo-headers of link types popsift does not
 * decode (USB, NFLOG, PFLOG, CAN in SLL) are left in the file's byte order.
 *
 * Bounded: a pcapng block may be at most CAPFILE_BLOCK_MAX bytes (more when an
 * interface's link type allows larger packets, as libpcap allows), a classic
 * record at most its link type's maximum packet; a larger length is reported
 * as corrupt before anything is allocated for it. At most CAPFILE_IFACES_MAX
 * interfaces per section.
 *
 * Errors: a record or block that is cut short (CAPFILE_TRUNCATED) or malformed
 * (CAPFILE_CORRUPT), or a source that fails (CAPFILE_FAILED), ends the file;
 * every packet before it has been given, and capfile_error() says what and at
 * which offset (of the decompressed stream for a compressed file).
 */
#ifndef POPSIFT_CAPFILE_H
#define POPSIFT_CAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "capsource.h"

#define CAPFILE_BLOCK_MAX (16u << 20) /* pcapng blocks; libpcap's INITIAL_MAX_BLOCKSIZE */
#define CAPFILE_IFACES_MAX 65536      /* interfaces in one pcapng section */
#define CAPFILE_IFNAME_MAX 64         /* if_name kept, with its NUL */
#define CAPFILE_ERR_MAX 256

/* Decryption Secrets Block types (pcapng spec, section 4.7). */
#define CAPFILE_SECRETS_TLS 0x544c534bu       /* "TLSK": an NSS key log file */
#define CAPFILE_SECRETS_WIREGUARD 0x57474b4cu /* "WGKL" */
#define CAPFILE_SECRETS_SSH 0x5353484bu       /* "SSHK" */

enum capfile_format { CAPFILE_PCAP, CAPFILE_PCAPNG };

enum capfile_result {
	CAPFILE_PACKET,    /* *pkt describes the next packet */
	CAPFILE_END,       /* the capture ended cleanly */
	CAPFILE_TRUNCATED, /* it ends inside a record: every packet before it was given */
	CAPFILE_CORRUPT,   /* a malformed record or block: every packet before it was given */
	CAPFILE_FAILED     /* a read or decompression error: every packet before it was given */
};

struct capfile_packet {
	struct timeval ts;   /* microseconds, as libpcap gives them */
	uint32_t caplen;     /* bytes at data */
	uint32_t len;        /* length on the wire */
	int dlt;             /* DLT_* link type of the packet's interface */
	uint32_t iface;      /* interface, numbered in file order over all sections (pcap: 0) */
	uint64_t offset;     /* where its record or block starts in the (decompressed) stream */
	const uint8_t *data; /* valid until the next capfile_next() or capfile_close() */
};

struct capfile_iface {
	int dlt;            /* DLT_* (libpcap's mapping of the file's LINKTYPE_* value) */
	uint32_t linktype;  /* as written in the file */
	uint32_t snaplen;   /* 0 or above INT_MAX in the file: the link type's maximum (libpcap) */
	uint64_t tsresol;   /* timestamp units per second */
	int64_t tsoffset;   /* seconds added to every timestamp */
	char name[CAPFILE_IFNAME_MAX]; /* if_name, cut to fit; "" when the file gives none */
};

struct capfile_stats {
	uint64_t packets;
	uint64_t skipped_blocks; /* pcapng blocks neither packets, interfaces nor secrets */
	uint64_t secrets;        /* Decryption Secrets Blocks */
	uint32_t sections;       /* pcapng Section Header Blocks */
	uint32_t interfaces;     /* over all sections; pcap: 1 */
};

/*
 * Decryption Secrets Blocks, as they come (before the packets they decrypt):
 * secrets_type (CAPFILE_SECRETS_*), the secrets (a TLS key log's lines for
 * CAPFILE_SECRETS_TLS), the block's offset. The bytes are valid during the call.
 */
typedef void (*capfile_secrets_fn)(void *ctx, uint32_t secrets_type, const uint8_t *data,
				   size_t len, uint64_t offset);

struct capfile_config {
	capfile_secrets_fn secrets; /* may be NULL */
	void *ctx;
};

struct capfile;

/*
 * Reads the file header (pcap) or the first Section Header Block (pcapng) from
 * src, which the capfile owns from then on (closed by capfile_close(), or here
 * on failure). Returns NULL with a one-line reason in err when src holds no
 * capture popsift can read. cfg may be NULL.
 */
struct capfile *capfile_open(struct capsrc *src, const struct capfile_config *cfg, char *err,
			     size_t errlen);
/* capsrc_open(path) then capfile_open(): "-" is standard input. */
struct capfile *capfile_open_path(const char *path, const struct capfile_config *cfg, char *err,
				  size_t errlen);

/*
 * The next packet into *pkt. Anything but CAPFILE_PACKET ends the file and is
 * returned again by every later call; capfile_error() then says why.
 */
enum capfile_result capfile_next(struct capfile *cf, struct capfile_packet *pkt);

/* After TRUNCATED, CORRUPT or FAILED: one line, starting with the offset. */
const char *capfile_error(const struct capfile *cf);
/* The offset of the record or block that ended the file. */
uint64_t capfile_error_offset(const struct capfile *cf);

enum capfile_format capfile_format(const struct capfile *cf);
/* Interface `iface` (capfile_packet's numbering) while its section is read; else NULL. */
const struct capfile_iface *capfile_iface(const struct capfile *cf, uint32_t iface);
void capfile_get_stats(const struct capfile *cf, struct capfile_stats *st);
/* The byte source, for progress (capsrc_raw_read()) and the codec's name. */
const struct capsrc *capfile_source(const struct capfile *cf);
void capfile_close(struct capfile *cf);

/* libpcap's mapping of a file's LINKTYPE_* value to this platform's DLT_* value. */
int capfile_dlt_of_linktype(uint32_t linktype);
/* The largest packet libpcap accepts for a link type (262144 for most). */
uint32_t capfile_max_snaplen(int dlt);

#endif
