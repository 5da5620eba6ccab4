/*
 * report_mailbox.h - the --mailbox-report: per (server, user), a timeline
 * across every session of the input: logins, messages listed (uid, size),
 * retrieved (when, by which session, sha256), deleted (committed or not), and
 * which uids were new in each session (the leave-on-server view clients compute
 * from UIDL).
 *
 * Not to be confused with dissectors/maildrop.c (one session's UIDL/LIST/DELE
 * view, which this report gathers across sessions) nor with output/mbox.c (the
 * --mbox FILE of retrieved messages).
 */
#ifndef POPSIFT_REPORT_MAILBOX_H
#define POPSIFT_REPORT_MAILBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#include "../src/flow.h"
#include "records.h"
#include "writer.h"

/* A login attempt in a session. */
struct mbr_login {
	char mechanism[24];
	enum auth_result result;
	struct timeval when;
};

/* A message a session retrieved (RETR, TOP, POP2 RETR). */
struct mbr_retrieval {
	uint32_t number;
	char *uid;          /* NULL when the session listed none */
	char command[12];
	uint64_t size;
	char sha256[65];
	bool complete;
	struct timeval when;
};

/* What one session listed of a message, and whether it marked it deleted. */
struct mbr_listed {
	uint32_t number;
	char *uid;          /* NULL when only LIST gave the message */
	int64_t size;
	bool marked;
	bool is_new;        /* no earlier session of this mailbox listed this uid */
};

struct mbr_session {
	uint64_t flow_id;
	char client[64];    /* "ip:port", "[v6]:port" */
	struct timeval start, end;
	char app_proto[16];     /* empty: not known */
	struct mbr_login *logins;
	size_t n_logins;
	struct mbr_retrieval *retrieved;
	size_t n_retrieved;
	struct mbr_listed *listed;
	size_t n_listed;
	enum commit committed;
	char end_reason[16];    /* "quit", "fin", ... (session_record) */
	/* Where its packets are: the capture file (escaped; the report's own), NULL live, */
	const char *pcap_file;
	uint64_t frame_first, frame_last; /* and its first and last frame (0 live) */
};

/* One message of the mailbox across sessions, by uid. */
struct mbr_message {
	const char *uid;        /* points into a session's listing */
	int64_t size;           /* from LIST, -1 unknown */
	uint64_t first_flow;    /* the session that listed it first */
	struct timeval first_seen;
	unsigned times_retrieved;
	const char *deleted;    /* NULL, "committed", "marked-not-committed", "marked-unknown" */
	const struct mbr_session *first_session; /* first_flow's (its file and frames) */
};

struct mbr_mailbox {
	char server[64];    /* server address */
	char *user;         /* escaped like every output string */
	struct mbr_session *sessions; /* in start order once finished */
	size_t n_sessions;
	struct mbr_message *messages; /* by uid, once finished */
	size_t n_messages;
};

/*
 * Writes the finished report to fp: the mailboxes, sessions sorted by start,
 * messages by uid. Sessions that never authenticated as a known user are left
 * out. Returns false when writing failed. (json.h and text.h have one each.)
 */
typedef bool (*mbr_format_fn)(FILE *fp, const struct mbr_mailbox *boxes, size_t n);

/*
 * The report as a writer (writer.h): it gathers logins, messages and sessions
 * (a session's logins and messages are held until its session record names
 * the user) and, when the input ends, writes the report with `format` to
 * `path`, or to the events' stream when path is "-". NULL when out of memory.
 */
struct writer *mbr_writer_open(const char *path, FILE *events_fp, mbr_format_fn format);

#endif
