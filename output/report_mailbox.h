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
	const char *app_proto;
	struct mbr_login *logins;
	size_t n_logins;
	struct mbr_retrieval *retrieved;
	size_t n_retrieved;
	struct mbr_listed *listed;
	size_t n_listed;
	enum commit committed;
	const char *end_reason;
};

/* One message of the mailbox across sessions, by uid. */
struct mbr_message {
	const char *uid;        /* points into a session's listing */
	int64_t size;           /* from LIST, -1 unknown */
	uint64_t first_flow;    /* the session that listed it first */
	struct timeval first_seen;
	unsigned times_retrieved;
	const char *deleted;    /* NULL, "committed", "marked-not-committed", "marked-unknown" */
};

struct mbr_mailbox {
	char server[64];    /* server address */
	char *user;         /* escaped like every output string */
	struct mbr_session *sessions; /* in start order once finished */
	size_t n_sessions;
	struct mbr_message *messages; /* by uid, once finished */
	size_t n_messages;
};

struct mailbox_report;

struct mailbox_report *mbr_new(void);
void mbr_free(struct mailbox_report *r);
/* Feed: a session's logins and messages are held until its session event. */
void mbr_auth(struct mailbox_report *r, const struct flow *f, const struct ev_auth *a);
void mbr_message(struct mailbox_report *r, const struct flow *f, const struct message_record *m,
		 struct bytes uid);
void mbr_session(struct mailbox_report *r, const struct flow *f, const struct ev_session *s);
/*
 * The mailboxes, sessions sorted by start (valid until mbr_free). Sessions
 * that never authenticated as a known user are left out.
 */
const struct mbr_mailbox *mbr_mailboxes(struct mailbox_report *r, size_t *n);

#endif
