/*
 * handoff.h - an ordered queue of events from the capture thread to a second
 * thread.
 *
 * The capture thread (reading, reassembly, dissectors) emits events into a
 * per-session sink from handoff_session_open(); each event is copied, with the
 * flow as it is at that moment, into a bounded ring (ring.h), and the second
 * thread replays them, in the same order, into the event_target it was given.
 * Events therefore arrive exactly as a sink called inline would have seen them;
 * memory is bounded by the ring; the capture thread waits only when the ring is
 * full.
 *
 * It knows events (dissectors/event.h), the flow envelope (src/flow.h) and the
 * message digest (digest.h, whose hashing it may take over), and nothing of
 * what its target does with them.
 */
#ifndef POPSIFT_HANDOFF_H
#define POPSIFT_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>

#include "../dissectors/event.h"
#include "../src/flow.h"
#include "digest.h"

/*
 * Where the second thread delivers, in capture order. `session` is the
 * pointer given to handoff_session_open().
 */
struct event_target {
	void *ctx;
	/*
	 * One event, with the flow it was emitted with (NULL for message data,
	 * which needs none) and, with a message's begin or end, what the capture
	 * thread did about its digest (NULL otherwise).
	 */
	void (*deliver)(void *ctx, void *session, const struct flow *f, const struct event *ev,
			const struct digest_note *note);
	/* The session's end: its final flow, and the digest of a message still open. */
	void (*end)(void *ctx, void *session, const struct flow *f, const struct digest_note *note);
	/* Writes out what is buffered; false when writing failed. */
	bool (*flush)(void *ctx);
};

struct handoff_config {
	unsigned drop_types;     /* bit (1u << EV_x): events of that type are not queued */
	enum hash_sharing share; /* whether the capture thread may hash a message itself */
	size_t head_max;         /* of a message it hashes, the octets still passed on */
};

struct handoff;

/* Starts the second thread; NULL when it cannot (then the caller runs inline). */
struct handoff *handoff_start(const struct event_target *target, const struct handoff_config *cfg);
/* Waits until every event was delivered and flushed, then ends the thread. */
void handoff_stop(struct handoff *h);

/*
 * The capture thread's sink for one session; `flow` is the engine's, read at
 * every emit(), and must outlive the session. NULL only when out of memory.
 */
struct event_sink *handoff_session_open(struct handoff *h, void *session, const struct flow *flow);
/* Whether sink came from handoff_session_open(). */
bool handoff_is_sink(const struct event_sink *sink);
/* Queues the session's end, with its final flow; the sink is not used after. */
void handoff_session_close(struct event_sink *sink);

/*
 * Both wait until the second thread has done everything queued before them:
 * handoff_flush() then runs the target's flush, handoff_call() fn(ctx, arg),
 * on that thread, and returns what it returned.
 */
bool handoff_flush(struct handoff *h);
bool handoff_call(struct handoff *h, bool (*fn)(void *ctx, void *arg), void *arg);

#endif
