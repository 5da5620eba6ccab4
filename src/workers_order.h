/*
 * workers_order.h - the order in which the parent of --workers N reads the
 * workers' events back for what spans them (replay.h: brute-force and spray
 * alerts, the mailbox report, the text summary): the order one process would
 * have read them in.
 *
 * Each worker's lines come in the order it wrote them; a line's key is the
 * frame (pcap_cnt) that made it. A login is written while its reply's frame
 * is processed, so one process writes logins in the order of their keys: the
 * lines of all workers are merged by key (a k-way merge of per-worker queues).
 * A line is handed on only once no worker can still write one with a smaller
 * key: every other worker has a line queued (its keys only grow), has been
 * synchronised past it (a marker the worker writes after every event of the
 * frames before it, workers_int.h), or has ended. Live, there are no frame
 * numbers: lines are handed on as they come.
 *
 * Bounded: past WORDER_BYTES_MAX queued, the smallest line is handed on
 * without waiting (counted in worder_forced()).
 */
#ifndef POPSIFT_WORKERS_ORDER_H
#define POPSIFT_WORKERS_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WORDER_BYTES_MAX (64u << 20)

typedef void (*worder_deliver_fn)(void *ctx, const char *line, size_t n);

struct worder;

/* n workers; NULL when out of memory. */
struct worder *worder_new(unsigned n, worder_deliver_fn deliver, void *ctx);
/* A line of worker k with its key (0: none, it goes with the line before it). */
void worder_line(struct worder *o, unsigned k, const char *line, size_t n, uint64_t key);
/* Worker k has written every line of the frames up to `frame`. */
void worder_synced(struct worder *o, unsigned k, uint64_t frame);
/* Worker k writes no more lines (ended, or not started again), or writes again (a new life). */
void worder_ended(struct worder *o, unsigned k, bool ended);
/* The end: every line still queued, in order. */
void worder_drain(struct worder *o);
/* Lines handed on early because the queues were full. */
uint64_t worder_forced(const struct worder *o);
void worder_free(struct worder *o);

#endif
