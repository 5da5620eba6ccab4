/*
 * output.h - where the engine sends each session's events.
 *
 * output_session_open() gives a per-connection event sink for the dissector;
 * output.c turns the event stream into records (messages hashed as they stream,
 * alerts derived from logins, anomalies collected per session) and hands them
 * to the writers (writer.h). With cfg.threaded all of that runs on an output
 * thread fed in order through a bounded ring (handoff.h); the events are the same.
 */
#ifndef POPSIFT_OUTPUT_H
#define POPSIFT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "../src/flow.h"
#include "bruteforce.h"
#include "digest.h"

/* Octets of each message output keeps for its header section (at most). */
#define OUTPUT_HEADER_MAX (64 * 1024)

struct output_config {
	FILE *fp;            /* where events go; stays the caller's */
	bool show_passwords; /* include secrets in auth events */
	bool transactions;   /* write a command event per request/reply */
	struct hashes_out *hashes; /* --hashes: crackable lines go here (hashes.h); NULL for none */
	const char *extract_dir; /* -x: write every message here; NULL for none */
	const char *mbox_path;   /* --mbox: append every message to this mbox; NULL for none */
	struct bf_policy bruteforce; /* brute-force / password-spray thresholds */
	bool text;               /* -T text: a human summary instead of JSON events */
	bool html;               /* -T html: the HTML report (report_html.h) instead of JSON events */
	const char *html_path;   /* with html: the file fp writes to, for its links; NULL: stdout */
	const char *mailbox_report; /* --mailbox-report FILE ("-": with the events); NULL for none */
	bool threaded;           /* hash, extract and write on a second thread (handoff.h) */
	enum hash_sharing hash_sharing; /* with threaded, and neither -x nor --mbox */
};

struct output;

/*
 * Call first in main(). Output runs one helper process of its own, the
 * attachment parser (mime.h), as this same program run again: in that process
 * this serves, then exits; in any other it returns at once.
 */
void output_run_child(void);

/*
 * Returns NULL when out of memory or when the extraction directory or mbox
 * cannot be used (after one line on stderr naming it and saying why).
 */
struct output *output_open(const struct output_config *cfg);
/* Flushes; returns false when writing failed (e.g. disk full). */
bool output_close(struct output *o);
bool output_flush(struct output *o);
/* Flushes, then writes events to fp (SIGHUP after logrotate moved the file). */
void output_set_fp(struct output *o, FILE *fp);

/* `flow` must outlive the session; NULL only when out of memory. */
struct event_sink *output_session_open(struct output *o, const struct flow *flow);
void output_session_close(struct event_sink *sink);

/* Events written so far (for the end-of-run summary). */
unsigned long output_events_written(const struct output *o);
/* What output_events_written() counts, for the summary: "events written", or with -T text its lines. */
const char *output_events_noun(const struct output *o);

#endif
