/*
 * handoff.h - output on its own thread.
 *
 * With a handoff, the capture thread (reading, reassembly, dissectors) does not
 * hash, write files or format JSON: each event a dissector emits is copied, with
 * the flow fields of that moment, into a bounded ring (ring.h), and an output
 * thread replays the events into output.c in the same order. Events therefore
 * come out exactly as without the thread; memory is bounded by the ring; the
 * capture thread waits only when the ring is full.
 */
#ifndef POPSIFT_HANDOFF_H
#define POPSIFT_HANDOFF_H

#include <stdbool.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <stdint.h>

#include "../dissectors/event.h"
#include "../src/flow.h"
#include "output.h"

struct output;
struct out_session;
struct handoff;

/*
 * Hashing shared between the threads. SHA-256 of every message is most of the
 * output thread's work on a message-heavy capture, as much as reading and
 * reassembly on the capture thread: when the output thread falls behind, the
 * capture thread hashes a whole message itself and passes on only its first
 * OUTPUT_HEADER_MAX octets (for the headers) and, at its end, the digest.
 */
struct prehash {
	bool on;           /* begin: the capture thread hashes this message; end: the digest is set */
	uint64_t size;     /* octets hashed */
	uint8_t sha256[32];
};

/* Starts the output thread; NULL when it cannot (then output runs inline). */
struct handoff *handoff_start(struct output *o, bool want_commands, enum hash_sharing share);
/* Waits until every event was written, then ends the thread. */
void handoff_stop(struct handoff *h);

/*
 * The capture thread's sink for one session: lives in the session's struct
 * (out_session), written and read by the capture thread only.
 */
struct handoff_sink {
	struct event_sink sink;
	struct handoff *h;
	struct out_session *s;
	const struct flow *flow; /* the engine's, which it keeps updating */
	EVP_MD_CTX *md;          /* kept across sessions: the owner frees it */
	bool hashing;            /* the message in progress is hashed here */
	uint64_t size, passed;   /* its octets, and how many went to the output thread */
};

/* Makes hs the capture thread's sink for session s. */
struct event_sink *handoff_session(struct handoff *h, struct handoff_sink *hs, struct out_session *s,
				   const struct flow *flow);
bool handoff_owns(const struct event_sink *sink);
/* Queues the session's end, with its final flow; hs is not used after. */
void handoff_session_close(struct event_sink *sink);

/* Both wait until the output thread has done everything queued before them. */
bool handoff_flush(struct handoff *h);
void handoff_set_fp(struct handoff *h, FILE *fp);

/* What the output thread calls in output.c (defined there). */
void output_deliver(struct out_session *s, const struct flow *f, const struct event *ev,
		    const struct prehash *ph);
void output_session_end(struct out_session *s, const struct flow *f, const struct prehash *ph);
bool output_apply_flush(struct output *o);
void output_apply_fp(struct output *o, FILE *fp);

#endif
