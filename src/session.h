/*
 * session.h - one POP connection as the engine sees it: its envelope (flow),
 * its dissector and its output sink; and the table of open sessions.
 */
#ifndef POPSIFT_SESSION_H
#define POPSIFT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "../dissectors/dissector.h"
#include "flow.h"
#include "../output/output.h"
#include "detect.h"

struct session {
	struct flow flow;
	struct session_info info;
	const struct dissector *d;
	void *st;
	struct event_sink *sink;
	void *stream;                  /* the reassembler's handle for this connection */
	size_t gap_fill[DIR_COUNT];    /* reassembler: filler bytes still to come, reported as a gap */
	struct output *out;
	struct detect *detect;         /* --detect: bytes held until they prove POP (d is NULL) */
	struct session *prev, *next;   /* open sessions, oldest first */
};

/* Address of one endpoint: IPv4 or IPv6, network order. */
struct endpoint {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint16_t port;
};

struct session_table {
	struct output *out;
	struct session *head, *tail;
	uint64_t open;
	uint64_t opened_total;
	uint64_t by_proto[3]; /* pop3, pop2, kpop */
};

void session_table_init(struct session_table *t, struct output *out);

/*
 * Opens a session for a connection client -> server first seen at `ts`. With
 * d NULL the dissector is chosen later by content (--detect). Returns NULL
 * only when out of memory.
 */
struct session *session_open(struct session_table *t, const struct dissector *d,
			     const struct endpoint *client, const struct endpoint *server,
			     const struct timeval *ts, const char *pcap_file, bool partial);
/*
 * Returns false when the session turned out not to be POP (--detect): the
 * reassembler should stop following it; the session then ends without events.
 */
bool session_data(struct session *s, enum dir dir, const uint8_t *buf, size_t len);
void session_gap(struct session *s, enum dir dir, size_t missing);
/* Ends the dissector (its events are written) and frees the session. */
void session_close(struct session_table *t, struct session *s, enum end_reason why);
/* Closes every open session, oldest first. */
void session_close_all(struct session_table *t, enum end_reason why);

#endif
