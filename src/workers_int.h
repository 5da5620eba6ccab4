/*
 * workers_int.h - what the parent (workers.c) and a worker process
 * (workers_child.c) of --workers N share: the messages a worker sends on its
 * control pipe. Events go on a pipe of their own, as JSON lines; control
 * messages are binary (a header and a fixed struct), read back by the same
 * program. Private to those files.
 */
#ifndef POPSIFT_WORKERS_INT_H
#define POPSIFT_WORKERS_INT_H

#include <stdint.h>
#include <sys/types.h>

#include "capture.h"
#include "flow.h"
#include "reasm.h"
#include "workers.h"
#include "workers_ring.h"

enum wmsg_type {
	WMSG_READY, /* the worker's input is open (live: its socket joined the group) */
	WMSG_OPEN,  /* a session opened: struct wmsg_open */
	WMSG_CLOSE, /* a session ended without events (--detect found no POP): its flow_id.
		       A session with events is ended, for the parent, by its session
		       event: one lost in the buffers of a worker that died is "worker_lost" */
	WMSG_STATS, /* the worker finished: struct wmsg_stats, then nothing */
	WMSG_PROGRESS, /* live, every second: struct wmsg_stats so far (SIGUSR1's summary) */
	WMSG_ENDED,    /* direct_fd: a session event is in the file: its flow_id */
};

struct wmsg_hdr {
	uint32_t type;
	uint32_t len;
};

#define WMSG_PROTO_MAX 16

struct wmsg_open {
	struct flow flow;             /* its pointers cleared */
	char app_proto[WMSG_PROTO_MAX];
	int32_t file;                 /* index into workers_config.paths; -1 live */
};

struct wmsg_stats {
	struct reasm_stats rs;
	struct capture_stats cs;      /* live: the worker's own socket's */
	uint64_t opened_total, tls_sessions, tls_decrypted;
	uint64_t events;              /* written to direct_fd itself (worker_main) */
};

/* The child's side: runs worker k (never returns). */
/*
 * room_fd: files, an eventfd the worker signals when the parent waits for
 * room in its ring. direct_fd: -1, or the events' output (a regular file,
 * O_APPEND) the worker writes its events to itself, whole lines in each
 * write(); the events pipe then carries only the lines the parent reads back
 * (session events, failed logins), after they are in the file.
 */
__attribute__((noreturn)) void worker_main(const struct workers_config *cfg, struct wring *ring,
					   unsigned k, uint16_t group, int ev_fd, int ctl_fd, int room_fd,
					   int direct_fd);

#endif
