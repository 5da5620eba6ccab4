/*
 * tls_record.h - TLS record framing of one direction (RFC 8446 §5.1, RFC 5246
 * §6.2): cuts a byte stream into records, streaming and chunk-invariant,
 * bounded by TLS_RECORD_MAX per record. After a gap that hides a record header
 * (or after a header that makes no sense) it scans for the next plausible
 * header and accepts it only when the record after it also starts with a
 * plausible header of the same version (or the stream ends exactly there): the
 * gap costs the records it touches. Knows nothing of handshakes or keys.
 * Internal to src/tls/.
 */
#ifndef POPSIFT_TLS_RECORD_H
#define POPSIFT_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

#define TLS_RT_CCS 20
#define TLS_RT_ALERT 21
#define TLS_RT_HANDSHAKE 22
#define TLS_RT_APPDATA 23
#define TLS_RT_HEARTBEAT 24

struct tls_rec_hdr {
	uint8_t raw[5]; /* as on the wire: the AEAD additional data of TLS 1.3 */
	uint8_t type;
	uint16_t version;
	uint16_t len;
};

enum tls_rec_fate {
	TLS_REC_WHOLE,	 /* body given */
	TLS_REC_SKIPPED, /* the owner did not want the body */
	TLS_REC_LOST	 /* a gap hit the body */
};

enum tls_rec_event {
	TLS_REC_EV_INVALID,   /* a header at a record boundary makes no sense: scanning */
	TLS_REC_EV_TOO_LONG,  /* likewise, a length above TLS_RECORD_MAX */
	TLS_REC_EV_DESYNC,    /* a gap hid a record header: scanning; n = octets lost */
	TLS_REC_EV_RESYNC,    /* framing found again; n = octets skipped meanwhile */
	TLS_REC_EV_TRUNCATED, /* the stream ended inside a record (n = octets missing) */
	TLS_REC_EV_UNSYNCED   /* the stream ended while scanning; n = octets skipped */
};

struct tls_rec_ops {
	/* A header was read: true to get the body, false to have it skipped. */
	bool (*want)(void *ctx, const struct tls_rec_hdr *h);
	/* A record ended; body is NULL unless fate is TLS_REC_WHOLE. */
	void (*record)(void *ctx, const struct tls_rec_hdr *h, const uint8_t *body,
		       enum tls_rec_fate fate);
	/* sample: the offending header octets (INVALID, TOO_LONG), else NULL. */
	void (*event)(void *ctx, enum tls_rec_event ev, uint64_t n, const uint8_t *sample,
		      size_t samplen);
};

enum tls_rec_state { TLS_RS_HEADER, TLS_RS_BODY, TLS_RS_SKIP, TLS_RS_SCAN, TLS_RS_COUNT };

struct tls_rec_reader {
	enum tls_rec_state state;
	const struct tls_rec_ops *ops;
	void *ctx;
	struct tls_rec_hdr hdr;
	bool lost;	  /* SKIP because of a gap: the record's fate is LOST */
	size_t body_have; /* BODY: octets in body */
	size_t skip_left; /* SKIP */
	uint8_t *body;	  /* BODY accumulation, TLS_RECORD_MAX once allocated */
	uint8_t *win; /* SCAN window; a header cut by a chunk boundary; what */
	size_t win_start, win_len, win_cap; /* follows a record found by SCAN */
	uint64_t skipped; /* octets discarded since framing was lost */
	bool ended;	  /* tls_rec_end() was called: input is ignored */
};

/* midstream: the first octet may be inside a record (start by scanning). */
void tls_rec_init(struct tls_rec_reader *r, const struct tls_rec_ops *ops, void *ctx,
		  bool midstream);
void tls_rec_feed(struct tls_rec_reader *r, const uint8_t *p, size_t n);
void tls_rec_gap(struct tls_rec_reader *r, size_t n);
void tls_rec_end(struct tls_rec_reader *r);
/* Frees the body buffer while no record body is being gathered. */
void tls_rec_trim(struct tls_rec_reader *r);
void tls_rec_free(struct tls_rec_reader *r);

/* Whether h[0..5) may start a record at a known record boundary. */
bool tls_rec_header_valid(const uint8_t h[5]);

#endif
