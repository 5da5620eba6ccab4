/*
 * maildrop.h - the mailbox as one session sees it: message numbers with their
 * unique ids (UIDL) and sizes (LIST), and the numbers marked for deletion.
 */
#ifndef POPSIFT_MAILDROP_H
#define POPSIFT_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define MAILDROP_MAX 100000 /* message numbers tracked per session */

struct maildrop;

/* NULL only when out of memory. */
struct maildrop *maildrop_new(void);
void maildrop_free(struct maildrop *m);
/*
 * Records one "n value" pair of a LIST or UIDL answer (a line of the
 * multi-line listing, or the text after "+OK" answering "LIST n"/"UIDL n"):
 * value is the size (LIST) or the unique id (UIDL) of message n (1 to
 * MAILDROP_MAX). A line of another form is ignored.
 */
void maildrop_listing(struct maildrop *m, bool uidl, const uint8_t *s, size_t n);
void maildrop_mark(struct maildrop *m, uint32_t n);
void maildrop_unmark_all(struct maildrop *m);
/* What is known of message n; false when nothing is. */
bool maildrop_get(const struct maildrop *m, uint32_t n, struct mailbox_entry *e);
/*
 * Every message something is known of, by number; *out is malloc'd (caller
 * frees) and its uids point into m. Returns the count.
 */
size_t maildrop_list(const struct maildrop *m, struct mailbox_entry **out);

#endif
