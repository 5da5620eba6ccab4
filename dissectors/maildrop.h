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
/* Records what a UIDL or LIST line said of message n (n in 1..MAILDROP_MAX). */
void maildrop_set_uid(struct maildrop *m, uint32_t n, const uint8_t *uid, size_t len);
void maildrop_set_size(struct maildrop *m, uint32_t n, uint64_t size);
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
