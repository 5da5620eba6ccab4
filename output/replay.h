/*
 * replay.h - records read back from events (evread.h) handed to the writers a
 * capture run would have used (writer.h), for `popsift report`: the mailbox
 * report, the text summary, the HTML report, and the alerts, derived again
 * from every login by the one policy of alerts.h over the whole input.
 */
#ifndef POPSIFT_REPLAY_H
#define POPSIFT_REPLAY_H

#include <stdbool.h>
#include <stdio.h>

#include "bruteforce.h"
#include "evread.h"

enum replay_format {
	REPLAY_ALERTS, /* the cross-session alert events (brute-force, password-spray) */
	REPLAY_TEXT,   /* the -T text summary */
	REPLAY_EVENTS, /* every event again, alerts derived anew (for tests: the round trip) */
};

struct replay_config {
	FILE *fp;                   /* where `format` goes; stays the caller's */
	enum replay_format format;
	bool show_passwords;        /* the passwords the events carry, in text and HTML */
	const char *mailbox_report; /* FILE, "-" (appended to fp) or NULL */
	const char *html;           /* FILE or NULL */
	const char *extract_dir;    /* where the capture run's -x wrote (links in the HTML), or NULL */
	struct bf_policy bruteforce;
};

struct replay;

/* NULL when out of memory or the HTML file cannot be created (said on stderr). */
struct replay *replay_open(const struct replay_config *c);
/* One event read back; alert events are skipped (each login's and TLS session's are derived again). */
void replay_event(struct replay *r, const struct evread_event *ev);
/* The end of the input: reports written, writers freed. False when writing failed. */
bool replay_close(struct replay *r);

#endif
