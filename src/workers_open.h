/*
 * workers_open.h - the sessions a worker has open, as its control messages
 * tell the parent (workers_int.h), by flow_id: what the parent ends as
 * "worker_lost" when the worker dies. An open-addressing table that grows
 * with the worker's session table (whose size --max-streams bounds).
 */
#ifndef POPSIFT_WORKERS_OPEN_H
#define POPSIFT_WORKERS_OPEN_H

#include <stdbool.h>
#include <stddef.h>

#include "workers_int.h"

struct wopen_table {
	struct wmsg_open *slot;
	bool *used;
	size_t cap, n;
};

/* False when out of memory (the session is then not known). */
bool wopen_add(struct wopen_table *t, const struct wmsg_open *m);
/* False when flow_id is not in the table. */
bool wopen_remove(struct wopen_table *t, uint64_t flow_id);
/* Calls fn (may be NULL) on every entry, then empties the table. */
void wopen_drain(struct wopen_table *t, void (*fn)(void *ctx, const struct wmsg_open *m), void *ctx);
void wopen_free(struct wopen_table *t);

#endif
