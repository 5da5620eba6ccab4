/*
 * text.h - the human summary writer (-T text).
 */
#ifndef POPSIFT_TEXT_H
#define POPSIFT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "../src/flow.h"
#include "report_mailbox.h"

struct text_out;

/* `fp` stays the caller's. NULL only when out of memory. */
struct text_out *text_open(FILE *fp, bool show_passwords);
/* One line for the login, and a row of the closing table. */
void text_auth(struct text_out *t, const struct flow *f, const struct ev_auth *a);
/* The --mailbox-report as text (with -T text): a timeline per mailbox. */
bool text_mailbox_report(FILE *fp, const struct mbr_mailbox *boxes, size_t n);
/* Writes the per-server table and frees t; false when writing failed. */
bool text_close(struct text_out *t);

#endif
