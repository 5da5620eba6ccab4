/*
 * json.h - NDJSON writer for popsift events (docs/events.md). The only module
 * that knows Jansson, which it now uses only for the mailbox report (event
 * lines are streamed through jsonw.h).
 */
#ifndef POPSIFT_JSON_H
#define POPSIFT_JSON_H

#include <stdbool.h>
#include <stdio.h>

#include "../src/flow.h"
#include "report_mailbox.h"
#include "records.h"

struct json_out;

/* `fp` stays the caller's. Returns NULL only when out of memory. */
struct json_out *json_open(FILE *fp, bool show_passwords);
void json_close(struct json_out *j);
/* Writes to fp from now on (after the output file was reopened). */
void json_set_fp(struct json_out *j, FILE *fp);

void json_auth(struct json_out *j, const struct flow *f, const struct ev_auth *a);
void json_alert(struct json_out *j, const struct flow *f, const struct alert_record *a);
void json_message(struct json_out *j, const struct flow *f, const struct message_record *m);
void json_tls(struct json_out *j, const struct flow *f, const struct ev_tls *t);
void json_command(struct json_out *j, const struct flow *f, const struct ev_command *c);
void json_session(struct json_out *j, const struct flow *f, const struct ev_session *s,
		  const struct anomaly_record *anoms, size_t n_anoms);

/*
 * Writes the --mailbox-report: one line per (server, user), event_type
 * "mailbox", sessions in start order and the messages by uid.
 */
bool json_mailbox_report(FILE *fp, const struct mbr_mailbox *boxes, size_t n);

/* Formats tv as ISO 8601 UTC with microseconds into buf (at least 32 bytes). */
void json_format_time(const struct timeval *tv, char *buf, size_t n);

#endif
