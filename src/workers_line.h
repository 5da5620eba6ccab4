/*
 * workers_line.h - what --workers reads of an event line without parsing it
 * (json.c's envelope: event_type after the flow id, file name and frames):
 * its type, flow_id and pcap_cnt, and whether it is a failed login. The
 * parent uses it on every line it merges, a worker on every line it writes
 * itself. Pure functions.
 */
#ifndef POPSIFT_WORKERS_LINE_H
#define POPSIFT_WORKERS_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wline_env {
	const char *type; /* after "event_type":" */
	uint64_t flow_id;
	uint64_t pcap_cnt; /* 0: none (live) */
};

/* False when the line has no event_type in its first WLINE_ENV_MAX octets. */
bool wline_envelope(const char *line, size_t n, struct wline_env *e);
/* Whether the event is of `type` ("auth", "session"). */
bool wline_is(const struct wline_env *e, const char *line, size_t n, const char *type);
/* A login that failed: what bruteforce.h counts (the rest of the alerts are the worker's own). */
bool wline_failed_login(const struct wline_env *e, const char *line, size_t n);

#endif
