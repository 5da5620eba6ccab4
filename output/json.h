/*
 * json.h - popsift's JSON: the NDJSON event writer (docs/events.md), one of
 * the writers of writer.h, and the --mailbox-report's JSON form. Every line is
 * streamed through jsonw.h.
 */
#ifndef POPSIFT_JSON_H
#define POPSIFT_JSON_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/time.h>

#include "report_mailbox.h"
#include "writer.h"

/*
 * The version of the event contract (docs/events.md), in every event's
 * envelope as `schema_version`: raised when a field changes meaning or goes,
 * not when one is added. `popsift report` reads this version and refuses a
 * newer one rather than guess at it.
 */
#define JSON_SCHEMA_VERSION 1

/* The event writer; `fp` stays the caller's. NULL only when out of memory. */
struct writer *json_writer_open(FILE *fp, bool show_passwords);

/*
 * Writes the --mailbox-report: one line per (server, user), event_type
 * "mailbox", sessions in start order and the messages by uid (an mbr_format_fn).
 */
bool json_mailbox_report(FILE *fp, const struct mbr_mailbox *boxes, size_t n);

/* Formats tv as ISO 8601 UTC with microseconds into buf (at least 32 bytes). */
void json_format_time(const struct timeval *tv, char *buf, size_t n);

#endif
