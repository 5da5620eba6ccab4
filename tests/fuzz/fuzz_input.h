/*
 * fuzz_input.h - the input format every dissector harness reads (after
 * Suricata's fuzz_applayerparserparse: both directions and any chunking in one
 * input), and the event sink the harnesses share.
 *
 * Input:  flags byte, then chunks separated by the 4-byte magic "FPC0".
 *   - The first chunk goes to the direction given by FUZZ_F_CLIENT_FIRST; the
 *     direction alternates after every chunk, so an empty chunk only switches
 *     direction and any interleaving of the two sides can be written.
 *   - A chunk that starts with "GAP!" is a gap marker: gap(dir, n) where n is
 *     the next (up to) 4 bytes, little endian.
 *   - Every data chunk is copied into its own exact-size malloc, so ASan sees a
 *     read one byte past any chunk.
 *
 * The sink checks the contract of event.h (a message is begin, data..., end;
 * one session event, last; samples within ANOMALY_SAMPLE_MAX; enums in range),
 * reads every byte an event points at, and passes the event on to the real
 * output (output.c, json.c, alerts.c, hashes.c) writing into memory; at the end
 * every line written must parse as a JSON object (jansson refuses invalid
 * UTF-8 too). A broken contract aborts, so libFuzzer keeps the input.
 *
 * Knows nothing of any particular dissector.
 */
#ifndef POPSIFT_FUZZ_INPUT_H
#define POPSIFT_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../dissectors/dissector.h"
#include "../../src/flow.h"
#include "../../output/output.h"

#define FUZZ_MAGIC "FPC0"
#define FUZZ_GAP_MAGIC "GAP!"

/* Flag bits of byte 0 shared by the dissector harnesses. */
#define FUZZ_F_CLIENT_FIRST 0x01 /* the first chunk is the client's */
#define FUZZ_F_PARTIAL 0x02      /* session_info.partial: picked up mid-stream */
#define FUZZ_F_SHOW_PASSWORDS 0x04
#define FUZZ_F_TRANSACTIONS 0x08
#define FUZZ_F_END_SHIFT 4       /* bits 4-6: the end_reason (mod END_REASON_COUNT) */

struct fuzz_reader {
	const uint8_t *p, *end;
	enum dir dir;
	bool started;
};

struct fuzz_chunk {
	enum dir dir;
	bool gap;
	size_t gap_bytes;
	uint8_t *p; /* data chunks: an exact-size copy the caller frees; NULL for gaps */
	size_t n;
};

/*
 * libFuzzer's entry points. fuzz_input.c defines LLVMFuzzerInitialize() for
 * every harness: it calls fuzz_init(), then the harness's own
 * fuzz_harness_init(). Each harness defines fuzz_harness_init() (empty when it
 * needs nothing more) and LLVMFuzzerTestOneInput().
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void fuzz_harness_init(void);

/* Once per process, from LLVMFuzzerInitialize(). */
void fuzz_init(void);

/* Reads the flags byte; false when the input is empty. */
bool fuzz_begin(struct fuzz_reader *r, const uint8_t *data, size_t size, uint8_t *flags);
/*
 * The next non-empty chunk, in *c. Returns false at the end of input. Empty
 * chunks are skipped but still switch direction.
 */
bool fuzz_next(struct fuzz_reader *r, struct fuzz_chunk *c);
/* An exact-size heap copy of p[0..n) (n > 0); aborts when out of memory. */
uint8_t *fuzz_dup(const uint8_t *p, size_t n);

/*
 * The real output, writing one input's events into memory. The struct output
 * itself lives for the whole process (one per show-passwords/transactions
 * combination): output_open() allocates tables of tens of MB (brute-force
 * tracking) that would cost far more than an input. Its brute-force counters
 * therefore carry over between inputs, with thresholds of 2 so those alerts
 * are reached; nothing else does.
 */
struct fuzz_out {
	struct output *o;
	FILE *json;
	char *buf;
	size_t len;
};

/*
 * Points the process's output for these options at a fresh memory stream;
 * `second` picks a second set of outputs (the differential run below).
 */
void fuzz_out_begin(struct fuzz_out *fo, bool show_passwords, bool transactions, bool second);
/*
 * Flushes, detaches and checks that every line written is a JSON object.
 * Returns what was written (the caller frees it), its length in *len.
 */
char *fuzz_out_end(struct fuzz_out *fo, size_t *len);

/* The checking sink: wraps an output session writing to memory. */
struct fuzz_sink {
	struct event_sink sink; /* first: given to the dissector */
	struct event_sink *out; /* the real output session */
	struct fuzz_out fo;
	struct flow flow;
	bool in_message;
	bool session_seen;
	unsigned long checksum; /* bytes read from events, so they are really read */
};

void fuzz_sink_open(struct fuzz_sink *s, const char *app_proto, bool show_passwords,
		    bool transactions, bool second);
/*
 * Checks the session ended properly, closes the output and checks every JSON
 * line; returns the JSON written (caller frees), its length in *len.
 */
char *fuzz_sink_close(struct fuzz_sink *s, bool expect_session, size_t *len);
/* Aborts when buf[0..n) is not lines of JSON objects. */
void fuzz_check_json_lines(const char *buf, size_t n);
/* Reads every byte of b (so ASan checks the pointer). */
unsigned long fuzz_touch(struct bytes b);

#define FUZZ_ASSERT(cond)                                                                  \
	do {                                                                               \
		if (!(cond)) {                                                             \
			dprintf(2, "fuzz: %s:%d: contract broken: %s\n", __FILE__,          \
				__LINE__, #cond);                                          \
			abort();                                                           \
		}                                                                          \
	} while (0)

/*
 * Runs one input through dissector d (create, data/gap per chunk, end,
 * destroy) with the checking sink; aborts on a broken contract.
 *
 * With POPSIFT_FUZZ_DIFF=1 in the environment it runs the input a second time
 * with every data chunk fed one byte at a time and aborts when the JSON
 * written differs: a dissector must give the same events however its stream is
 * cut (the rule tests/unit/evlog.c checks on known conversations), on fuzzed input.
 * Brute-force alerts are off in that mode (their state spans inputs).
 */
void fuzz_run_dissector(const struct dissector *d, uint16_t server_port, const uint8_t *data,
			size_t size);

#endif
