/*
 * kpop.h - the Kerberos preamble of KPOP (see kpop.c). The walker's step and
 * result change only through kpop.c's setters (traced under POPSIFT_TRACE).
 */
#ifndef POPSIFT_KPOP_H
#define POPSIFT_KPOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum kpop_step {
	KPOP_START,
	KPOP_V5_MAGIC_REST,
	KPOP_SKIP_THEN_LEN,
	KPOP_LEN_THEN_DONE,
	KPOP_SKIP_THEN_DONE,
	KPOP_SRV_STATUS_LEN,
	KPOP_SKIP_THEN_OPTIONAL,
	KPOP_SRV_OPTIONAL,
	KPOP_DONE
};

enum kpop_result {
	KPOP_RESULT_PENDING,   /* still walking */
	KPOP_RESULT_OK,        /* a complete preamble the server accepted */
	KPOP_RESULT_REFUSED,   /* complete, but the server refused it */
	KPOP_RESULT_NOT_KPOP,  /* the stream starts with POP3 itself */
	KPOP_RESULT_MALFORMED  /* a length no Kerberos message has: give up, read POP3 */
};

struct kpop_half {
	enum kpop_step step;
	uint8_t buf[24]; /* a fixed field being collected */
	size_t have;
	uint64_t skip;   /* bytes of a length-prefixed field still to skip */
};

struct kpop {
	struct kpop_half half[DIR_COUNT];
	enum kpop_result result;
	int version;           /* 4 or 5 once known */
	uint8_t server_status; /* v5: the server's one-byte answer to the versions */
	bool server_error;     /* v5: the server answered the AP-REQ with a KRB-ERROR */
	bool expected;         /* followed as KPOP (its port, or --detect): no preamble is an anomaly */
};

/*
 * expected: the connection is followed as KPOP, so no preamble is an anomaly.
 * midstream: it was picked up mid-stream, so any preamble is long past and
 * the bytes are POP3 from the start.
 */
void kpop_init(struct kpop *k, bool expected, bool midstream);
/* Feeds preamble bytes of one direction; returns how many it consumed (the rest is POP3). */
size_t kpop_feed(struct kpop *k, enum dir dir, const uint8_t *buf, size_t len);
/*
 * Once the stream proved not to be KPOP: the client bytes held while deciding
 * (they are POP3), once; valid until the next call.
 */
struct bytes kpop_held(struct kpop *k);
/* At the end of the connection: fewer than 16 client bytes decide nothing. */
void kpop_end(struct kpop *k);
/* True once this direction's bytes are POP3 (preamble over, or none). */
bool kpop_passes(const struct kpop *k, enum dir dir);

#endif
