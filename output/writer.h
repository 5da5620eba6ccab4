/*
 * writer.h - the one interface of every output writer: the JSON events
 * (json.c), the text summary (text.c), the mailbox report (report_mailbox.c)
 * and the hash file (hashes.c).
 *
 * output.c opens the writers a run asks for, once, and then hands every
 * finished record to each of them in turn, as Suricata's EVE sub-loggers each
 * take every transaction; no writer is chosen per event. What a writer takes
 * is plain data (records.h, the flow envelope): nothing refers to a live
 * session, a file being extracted or a thread, so records parsed back from
 * JSON events can drive the same writers again.
 */
#ifndef POPSIFT_WRITER_H
#define POPSIFT_WRITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "../src/flow.h"
#include "records.h"

struct writer;

/*
 * A record operation may be NULL: the writer takes no such record. Records are
 * valid only during the call; a writer that keeps something copies it.
 */
struct writer_ops {
	void (*auth)(struct writer *w, const struct flow *f, const struct ev_auth *a);
	void (*alert)(struct writer *w, const struct flow *f, const struct alert_record *a);
	void (*message)(struct writer *w, const struct flow *f, const struct message_record *m);
	void (*tls)(struct writer *w, const struct flow *f, const struct ev_tls *t);
	void (*command)(struct writer *w, const struct flow *f, const struct ev_command *c);
	void (*session)(struct writer *w, const struct flow *f, const struct session_record *s);
	/* Writes out what is buffered; false when writing failed (errno says why). NULL: nothing. */
	bool (*flush)(struct writer *w);
	/* The events' stream was reopened (SIGHUP after logrotate): write to fp from now on. */
	void (*set_fp)(struct writer *w, FILE *fp);
	/*
	 * The end of the input: writes what comes last (a table, a report) and
	 * says on stderr what could not be written. A flush follows, then free.
	 */
	void (*finish)(struct writer *w);
	void (*free)(struct writer *w);
};

/* Each writer embeds this as its first member. */
struct writer {
	const struct writer_ops *ops;
	/* Event lines written, for the run's summary (read by the capture thread). */
	_Atomic unsigned long events;
};

#endif
