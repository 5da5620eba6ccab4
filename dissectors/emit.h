/*
 * emit.h - the small events every dissector emits the same way: an anomaly
 * with its bounded evidence sample, and the data and end of a streamed
 * message. Owns nothing; each function fills one event and hands it to the
 * sink. Inline, since message data is emitted for every span of a body.
 */
#ifndef POPSIFT_EMIT_H
#define POPSIFT_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/* Reports anomaly `id` with (at most ANOMALY_SAMPLE_MAX bytes of) p[0..n) as evidence. */
static inline void emit_anomaly(struct event_sink *sink, enum anomaly id, enum dir dir,
				const uint8_t *p, size_t n)
{
	struct event ev = { .type = EV_ANOMALY };
	ev.u.anomaly.id = id;
	ev.u.anomaly.dir = dir;
	ev.u.anomaly.sample = bytes_of(p, n < ANOMALY_SAMPLE_MAX ? n : ANOMALY_SAMPLE_MAX);
	sink_emit(sink, &ev);
}

/* A span of the message in flight; nothing for an empty one. */
static inline void emit_message_data(struct event_sink *sink, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	struct event ev = { .type = EV_MESSAGE_DATA };
	ev.u.message_data.p = p;
	ev.u.message_data.n = n;
	sink_emit(sink, &ev);
}

static inline void emit_message_end(struct event_sink *sink, bool complete)
{
	struct event ev = { .type = EV_MESSAGE_END };
	ev.u.message_end.complete = complete;
	sink_emit(sink, &ev);
}

#endif
