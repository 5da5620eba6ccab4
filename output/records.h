/*
 * records.h - what output/output.c hands to the writers (writer.h): the
 * dissectors' own events where output adds nothing (ev_auth, ev_tls,
 * ev_command: plain data already), and the records it derives from the event
 * stream: finished messages with their digests, alerts, a session's summary
 * with its anomalies. Plain data, every decision already made in it (what is
 * an alert, a size mismatch, why a session ended): writers only format or
 * gather, and the same records parsed back from JSON events would do.
 */
#ifndef POPSIFT_RECORDS_H
#define POPSIFT_RECORDS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "../dissectors/event.h"
#include "../src/flow.h"

#define RECORD_ATTACHMENTS_MAX 256 /* attachments listed per message; more set the flag */

/*
 * One header of a message for the event: `value` is the header's text unfolded,
 * RFC 2047 encoded words decoded to UTF-8 (mime.c); `raw` is the unfolded text as
 * it was on the wire, kept only where it differs from `value` (else NULL).
 * Both are NUL-terminated heap strings owned by the record; NULL: header absent.
 */
struct header_field {
	char *value;
	char *raw;
};

struct message_headers {
	struct header_field from, to, cc, subject, date, message_id;
};

/* One attachment found by mime.c in an extracted file; strings owned by the record. */
struct attachment_record {
	char *filename;     /* decoded to UTF-8; NULL when the part names none */
	char *content_type; /* "type/subtype", lower case */
	uint64_t size;      /* octets after the transfer encoding was undone */
	char sha256[65];    /* of those octets */
};

struct message_record {
	const char *command;
	uint32_t number;
	enum dir dir;
	uint64_t size;
	int64_t announced; /* the server's "+OK n octets", or -1 */
	char sha256[65];
	bool complete;
	const char *path; /* relative to the extraction directory; NULL if none */
	const char *extract_error; /* why the file (or mbox entry) is missing or short; NULL: fine */
	/*
	 * Where they are kept is the record's maker's: output.c holds them for a
	 * message in flight (EV_FOLDER_MAX, EV_UID_MAX), popsift report points
	 * into the event's text (which may be longer: escaped).
	 */
	const uint8_t *folder;
	size_t folder_n;  /* 0: no folder (POP3) */
	const uint8_t *uid; /* the UIDL id the session listed for it */
	size_t uid_n;     /* 0: unknown */
	int64_t list_size; /* the session's LIST size for it, or -1 */
	/*
	 * Size evidence: the whole message's octets differ from what the server
	 * announced or listed (servers that rewrite messages, Exchange's
	 * compressed sizes). Never used to frame the data.
	 */
	bool size_mismatch;
	struct message_headers headers; /* from the first OUT_HEADER_MAX octets; NULL: absent */
	bool has_attachments; /* the extracted file was parsed for attachments (-x only) */
	struct attachment_record *attachments;
	size_t n_attachments;
	bool attachments_truncated; /* more than RECORD_ATTACHMENTS_MAX parts were found */
	const char *attachments_error; /* static text: why the list is missing or short; NULL: none */
};

#define ALERT_USERS_LISTED 16 /* user names a cross-session alert lists; users_total counts all */

/*
 * What a cross-session alert (brute-force, password-spray) counted: the
 * failures of one client within one window, and the user names they tried.
 */
struct alert_counts {
	unsigned failures;       /* credential failures from the client in the window */
	unsigned window;         /* the window's length, seconds */
	struct timeval first, last; /* capture times of the window's first and latest failure */
	unsigned users_total;    /* distinct user names tried (an empty name counts as one) */
	size_t n_users;          /* of them listed in users[], first tried first */
	struct bytes users[ALERT_USERS_LISTED];
};

struct alert_record {
	const char *signature;
	int severity;          /* 1 high .. 3 low */
	const char *description;
	struct bytes username;
	bool cross_session;    /* decided over many sessions (bruteforce.h), not by one login */
	const struct alert_counts *counts; /* cross-session alerts only; NULL otherwise */
};

struct anomaly_record {
	enum anomaly id;
	enum dir dir;
	uint32_t count;
	uint8_t sample[ANOMALY_SAMPLE_MAX];
	size_t sample_n;
};

/*
 * A session's end: the dissector's summary (its state "TLS" when TLS hid the
 * rest of the session), with what output adds to it.
 */
struct session_record {
	struct ev_session summary;
	bool tls;               /* TLS on the connection: after STLS, or from the first byte */
	bool encrypted;         /* TLS from the first byte (POP3S) */
	const char *end_reason; /* "quit" (the client's QUIT acknowledged), else the flow's */
	const struct anomaly_record *anomalies; /* one per id, in order of first sight */
	size_t n_anomalies;
};

/*
 * Whether a login's secret crossed the network readable by anyone on the
 * path: the dissector read it in its bytes (ev_auth.cleartext, which stays the
 * dissector's), and those bytes were not plaintext popsift decrypted from TLS
 * with the session's keys.
 */
static inline bool auth_cleartext_on_wire(const struct ev_auth *a, const struct flow *f)
{
	return a->cleartext && f->tls != FLOW_TLS_DECRYPTED;
}

/* An STLS offer the login ignored: a login inside TLS ignored nothing. */
static inline bool auth_stls_ignored(const struct ev_auth *a, const struct flow *f)
{
	return a->stls_offered && f->tls != FLOW_TLS_DECRYPTED;
}

#endif
