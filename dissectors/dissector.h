/*
 * dissector.h - the interface every protocol dissector implements.
 *
 * The engine (src/session.c) hands a dissector the bytes of one TCP connection,
 * per direction and in order, plus gaps and the end of the connection. The
 * dissector emits typed events (event.h) through the sink it was created with.
 * It must not know about libnids, JSON or files, and it must give the same events
 * whether the stream arrives in one chunk or one byte at a time.
 */
#ifndef POPSIFT_DISSECTOR_H
#define POPSIFT_DISSECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum end_reason {
	END_NONE,
	END_FIN,
	END_RST,
	END_TIMEOUT,
	END_CAPTURE_END,
	END_EVICTED, /* the stream table was full and this stream was dropped */
	END_REUSED,  /* a new connection (SYN) reused the 4-tuple */
	END_INTERRUPTED, /* reading the capture files was stopped (SIGINT, SIGTERM) */
	END_REASON_COUNT
};

const char *end_reason_name(enum end_reason r);

/* What a dissector may know about its connection; owned and updated by the engine. */
struct session_info {
	uint16_t client_port;
	uint16_t server_port;
	bool partial; /* picked up mid-stream: the start of the connection is missing */
	/*
	 * The engine's, or NULL. A dissector calls it from data() when its
	 * protocol hands the connection to a layer beneath it (POP3: STLS
	 * accepted, RFC 2595 §4): of the buffer that data() call was given, the
	 * first `used` octets were the dissector's, the rest and every later byte
	 * of both directions are that layer's. data() returns right after the
	 * call; what data() is given from then on is what that layer carries
	 * (the dialogue inside TLS, when the engine can read it). With no engine
	 * (NULL) the dissector reads on as if the layer carried the bytes as
	 * they are.
	 */
	void (*handover)(void *engine, enum dir dir, size_t used);
	void *engine;
};

/* What content detection (--detect) makes of a connection's first bytes. */
enum probe_verdict {
	PROBE_MORE, /* not enough bytes yet to tell */
	PROBE_NO,   /* not this protocol */
	PROBE_YES   /* this protocol: its dissector takes the connection */
};

struct dissector {
	const char *name;      /* app_proto: "pop3", "pop2", "kpop" */
	const uint16_t *ports; /* the server ports it follows by default, ending in 0 */
	/* Of those, the ports where the connection is TLS from its first byte
	   (POP3S, 995), ending in 0; NULL: none. */
	const uint16_t *tls_ports;
	/*
	 * Judges a connection on a port it is not known to use, from the first
	 * bytes each side sent (the client's in to_server, the server's in
	 * to_client; either may be empty). Must decide within the bytes the
	 * engine holds (DETECT_MAX per direction), and from complete lines (or,
	 * for KPOP, complete length-prefixed fields) only, so the verdict never
	 * depends on how the bytes arrived.
	 */
	enum probe_verdict (*probe)(struct bytes to_server, struct bytes to_client);
	/* Returns NULL only when out of memory. */
	void *(*create)(const struct session_info *info, struct event_sink *sink);
	void (*data)(void *st, enum dir dir, const uint8_t *buf, size_t len);
	/* `missing` bytes were lost on the wire at this point of direction `dir`. */
	void (*gap)(void *st, enum dir dir, size_t missing);
	/* Emits whatever is still pending and the session summary; called once. */
	void (*end)(void *st, enum end_reason why);
	void (*destroy)(void *st);
};

extern const struct dissector pop3_dissector;
extern const struct dissector pop2_dissector;
extern const struct dissector kpop_dissector;

/* Every dissector, in the order --detect asks their probes (registry.c). */
extern const struct dissector *const dissectors[];
extern const size_t n_dissectors;

/* The dissector that follows server port `port`: the one listing it, else POP3. */
const struct dissector *dissector_for_port(uint16_t port);

#endif
