/*
 * session.h - one POP connection as the engine sees it: its envelope (flow),
 * its dissector and its output sink; and the table of open sessions. The
 * functions below are the only writers of a session and its flow: the
 * engine reads them (time, stream handle, the list) but changes nothing.
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
	size_t filler[DIR_COUNT];      /* bytes still to come that stand for lost ones (a gap) */
	struct output *out;
	struct detect *detect;         /* --detect: bytes held until they prove POP (d is NULL) */
	const uint64_t *frame;         /* the table's */
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
	/*
	 * The number of the capture frame being processed, 0 between frames (the
	 * capture's, capture_frame_number()); NULL: none. Every session's pcap_cnt
	 * follows it.
	 */
	const uint64_t *frame;
};

/* What the reassembler knows of a new connection. */
struct session_origin {
	struct endpoint client, server;
	struct timeval start;  /* its first packet */
	const char *pcap_file; /* NULL when live */
	bool partial;          /* picked up mid-stream: no handshake seen */
	void *stream;          /* the reassembler's handle (struct session.stream) */
};

void session_table_init(struct session_table *t, struct output *out);

/*
 * Opens a session for connection o. With d NULL the dissector is chosen
 * later by content (--detect). Returns NULL only when out of memory.
 */
struct session *session_open(struct session_table *t, const struct dissector *d,
			     const struct session_origin *o);
/* The packet that brings the session's next bytes: its time and file. */
void session_touch(struct session *s, const struct timeval *now, const char *pcap_file);
/*
 * The next n bytes delivered in dir (session_data) stand for bytes the
 * capture lost, filled in by the reassembler: they are reported as a gap.
 */
void session_expect_filler(struct session *s, enum dir dir, size_t n);
/*
 * Bytes in dir, in order (filler first, as a gap). Returns false when the
 * session turned out not to be POP (--detect): the reassembler should stop
 * following it and close it; it then ends without events.
 */
bool session_data(struct session *s, enum dir dir, const uint8_t *buf, size_t len);
/* A segment of the session was cut by the capture's snapshot length (its loss comes as a gap). */
void session_snaplen_cut(struct session *s);
/* `missing` bytes in dir were lost, as seen at time `now`. */
void session_gap(struct session *s, enum dir dir, size_t missing, const struct timeval *now);
/* Ends the dissector at time `now` (its events are written) and frees the session. */
void session_close(struct session_table *t, struct session *s, enum end_reason why,
		   const struct timeval *now);

#endif
