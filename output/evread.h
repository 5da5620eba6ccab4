/*
 * evread.h - popsift's own JSON events (docs/events.md) read back into the
 * records the writers take (records.h, with the flow envelope): the inverse
 * of json.c, for `popsift report` (src/report.c), which hands them to the
 * same writers a capture run uses.
 *
 * Strings stay as the events wrote them: a byte the wire had that was not
 * UTF-8 is the text \xNN here, which every writer escapes to itself again
 * (utf8.h), so a report over the events says what the capture run said.
 * Fields this reader does not know are ignored (the contract may gain
 * fields); an event of a newer schema_version (json.h) is not read at all.
 */
#ifndef POPSIFT_EVREAD_H
#define POPSIFT_EVREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/flow.h"
#include "records.h"

#define EVREAD_ERR_MAX 200

enum evread_kind {
	EVR_AUTH,
	EVR_ALERT,
	EVR_MESSAGE,
	EVR_TLS,
	EVR_COMMAND,
	EVR_SESSION,
	EVR_OTHER,   /* a popsift line of another type (a mailbox report's, a newer event type) */
	EVR_NEWER,   /* schema_version newer than JSON_SCHEMA_VERSION: not guessed at */
	EVR_INVALID, /* not JSON, or not a popsift event: the error says why */
};

struct evread_event {
	enum evread_kind kind;
	long long schema;  /* the line's schema_version; 0: none (popsift 0.1.0 wrote none) */
	bool has_listing;  /* a session event that carried its listing (older ones did not) */
	bool has_password; /* an auth event that carried a password (--show-passwords) */
	/*
	 * The envelope. start is the session's own on session records and the
	 * event's time on others (only the session event carries it).
	 */
	struct flow flow;
	union {
		struct ev_auth auth;
		struct alert_record alert;
		struct message_record message;
		struct ev_tls tls;
		struct ev_command command;
		struct session_record session;
	} u;
};

struct evread;

/* NULL only when out of memory. */
struct evread *evread_new(void);
void evread_free(struct evread *r);

/*
 * What a tls event gives by name and the alert policy decides by number
 * (alerts_for_tls()): the wire code of a version ("TLS 1.0": 0x0301; 0 when
 * unknown) and of a cipher suite, with its weakness (EV_TLS_WEAK_*). The TLS
 * layer knows them, which output does not include: `popsift report`
 * (src/report.c) hands them in. Without them they stay 0, and no
 * tls-weak-version or tls-weak-cipher alert is derived again.
 */
struct evread_tls_names {
	uint16_t (*version)(void *ctx, const char *name);
	uint16_t (*suite)(void *ctx, const char *name, unsigned *weakness);
	void *ctx;
};

void evread_set_tls_names(struct evread *r, const struct evread_tls_names *names);

/*
 * Reads one line (its newline excluded). The event, and every string it
 * points to, stays valid until the next call. On EVR_INVALID and EVR_NEWER,
 * err holds one line saying why.
 */
enum evread_kind evread_line(struct evread *r, const char *line, size_t n,
			     struct evread_event *ev, char err[EVREAD_ERR_MAX]);

#endif
