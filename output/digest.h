/*
 * digest.h - the SHA-256 of a retrieved message, computed once.
 *
 * Hashing is most of the output's work on a message-heavy capture. With the
 * output thread (handoff.h), the capture thread takes a whole message over when
 * the output thread falls behind; otherwise the output thread hashes it as it
 * streams. Which of the two hashes a message is decided once, at its begin
 * (digest_upstream()), and only that one computes the digest: the other never
 * touches it. Owns every use of libcrypto's digest API in output/.
 */
#ifndef POPSIFT_DIGEST_H
#define POPSIFT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DIGEST_LEN 32                     /* SHA-256 */
#define DIGEST_HEX_LEN (2 * DIGEST_LEN)   /* its lower-case hex text, without the NUL */

/* With the output thread: whether the capture thread may hash a message itself. */
enum hash_sharing {
	HASH_SHARE_AUTO,   /* when the output thread falls behind (its queue half full) */
	HASH_SHARE_NEVER,
	HASH_SHARE_ALWAYS, /* every message (tests) */
};

/* A finished digest: the octets it covers and their SHA-256. */
struct digest_result {
	uint64_t size;
	uint8_t sha256[DIGEST_LEN];
};

/*
 * What the capture thread tells the output thread about a message's digest,
 * with its begin and with its end (or the session's end).
 */
struct digest_note {
	bool upstream; /* begin: the capture thread hashes this message; end: `result` is its digest */
	struct digest_result result;
};

/*
 * A digest in progress. Zeroed is idle; the context is kept from one message
 * to the next (allocating it per message costs), until digest_free().
 */
struct digest {
	struct evp_md_ctx_st *md;
	uint64_t size;
	bool on; /* begun and not yet ended */
};

/*
 * The decision, at a message's begin: whether the capture thread hashes it,
 * given the sharing mode and how full (0..100) the output thread's queue is.
 */
bool digest_upstream(enum hash_sharing share, unsigned queue_percent_full);

/* Starts a digest; false only when out of memory (then d stays idle). */
bool digest_begin(struct digest *d);
void digest_update(struct digest *d, const void *p, size_t n);
/* Ends the digest begun on d (d is idle after). */
struct digest_result digest_end(struct digest *d);
void digest_free(struct digest *d);

/* The digest as lower-case hex: DIGEST_HEX_LEN characters and a NUL. */
void digest_hex(const struct digest_result *r, char out[DIGEST_HEX_LEN + 1]);

#endif
