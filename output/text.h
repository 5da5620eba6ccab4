/*
 * text.h - the human summary (-T text), one of the writers of writer.h, and
 * the --mailbox-report's text form.
 */
#ifndef POPSIFT_TEXT_H
#define POPSIFT_TEXT_H

#include <stdbool.h>
#include <stdio.h>

#include "report_mailbox.h"
#include "writer.h"

/* One line per login, then a table per server at the end. `fp` stays the caller's; NULL when out of memory. */
struct writer *text_writer_open(FILE *fp, bool show_passwords);
/* The --mailbox-report as text (with -T text): a timeline per mailbox (an mbr_format_fn). */
bool text_mailbox_report(FILE *fp, const struct mbr_mailbox *boxes, size_t n);

#endif
