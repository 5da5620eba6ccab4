/*
 * session.h - one POP connection as the engine sees it: its envelope (flow),
 * its dissector, the layer beneath the dissector (TLS or not,
 * session_tls.c) and its output sink; and the table of open sessions, with
 * the TLS key store they share. The functions below are the only writers of
 * a session and its flow: the engine reads them (time, stream handle, the
 * list) but changes nothing.
 */
#ifndef POPSIFT_SESSION_H
#define POPSIFT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "../dissectors/dissector.h"
#include "flow.h"
#include "../output/output.h"
#include "detect.h"

struct tls_stream;
struct tls_keylog;
struct session_table;

/* What the dissector's bytes are (session_tls.c). */
enum session_wire {
	SESSION_WIRE_UNDECIDED, /* the client's first octets are held until they show a ClientHello or not */
	SESSION_WIRE_TEXT,      /* the connection's own bytes: to the dissector */
	SESSION_WIRE_PENDING,   /* handed over (STLS accepted): the next bytes show TLS or not */
	SESSION_WIRE_TLS        /* read by the TLS stream; its plaintext goes to the dissector */
};

/* Octets held while a ClientHello may be starting (tls_probe_client_hello decides by 6). */
#define SESSION_HELD_MAX 8

struct session_layer {
	enum session_wire wire;
	uint8_t held[SESSION_HELD_MAX]; /* the client's first octets (UNDECIDED, PENDING) */
	size_t held_n;
	struct tls_stream *tls;         /* SESSION_WIRE_TLS; NULL when out of memory */
	bool stls;                      /* the wire was handed over (STLS), not TLS from the start */
	bool decrypted;                 /* plaintext was read (counted once) */
	bool handed;                    /* the dissector handed over in the data() call running */
	size_t handed_used;             /* octets of that call's buffer that were its own */
};

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
	struct session_layer layer;    /* beneath the dissector: TLS or not */
	struct session_table *table;
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
	 * TLS secrets (--tls-keylog, Decryption Secrets Blocks): the caller's,
	 * NULL until either gives some. A TLS session takes the store there is
	 * when its TLS begins (none: it reads no keys) and looks its secrets up
	 * in it when it needs them, so secrets added after it began still count.
	 */
	struct tls_keylog *keys;
	uint64_t tls_sessions;  /* TLS sessions seen */
	uint64_t tls_decrypted; /* of those, the ones whose plaintext was read */
	/* Live: packets the kernel dropped between two times; NULL for files. */
	uint64_t (*drops_between)(void *ctx, const struct timeval *from, const struct timeval *to);
	void *drops_ctx;
	/*
	 * The number of the capture frame being processed, 0 between frames (the
	 * capture's, capture_frame_number()); NULL: none. Every session's pcap_cnt
	 * follows it.
	 */
	const uint64_t *frame;
	/*
	 * Optional (--workers, src/workers.c): told of each session as it opens
	 * and as it ends (with_events: it writes a session event; false for a
	 * connection --detect never recognised), so the parent can end the open
	 * ones as "worker_lost" when this process dies. NULL: nobody is told.
	 */
	void (*on_open)(void *ctx, const struct flow *f);
	void (*on_close)(void *ctx, const struct flow *f, bool with_events);
	void *watch_ctx;
	const char *sensor; /* every flow's sensor name (--sensor-name); NULL: none */
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
 * Live: each session, as it ends, counts the packets the kernel dropped from
 * its first packet to its end (flow.kernel_drops) with drops_between(ctx, ...).
 */
void session_table_count_drops(struct session_table *t,
			       uint64_t (*drops_between)(void *ctx, const struct timeval *from,
							 const struct timeval *to),
			       void *ctx);

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
