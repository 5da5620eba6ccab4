/*
 * workers.h - --workers N: the analysis split over N worker processes by the
 * address-pair hash (pairhash.h), and one parent that merges their events.
 *
 * Files: the parent reads the captures once (capture.h, with its ip_packet
 * hook) and hands each IP packet to the worker of its address pair over a
 * shared-memory ring (workers_ring.h); live (Linux): each worker has its own
 * libpcap handle on the interface, joined to one PACKET_FANOUT group whose
 * classic-BPF program computes the same hash (capture_fanout.h). Every worker
 * runs the whole capture-to-events path and writes JSON events into a pipe,
 * with the cross-session alerts off; the parent writes their lines whole, one
 * stream, and derives the brute-force and password-spray alerts, the mailbox
 * report and the -T text summary from them with `popsift report`'s machinery
 * (evread.h, replay.h), so they are decided over all workers as one process
 * decides them. A worker that dies is reported, its open sessions end as
 * end_reason "worker_lost", and it is started again.
 */
#ifndef POPSIFT_WORKERS_H
#define POPSIFT_WORKERS_H

#include <stdbool.h>
#include <stdio.h>

#include "../output/output.h"
#include "../output/replay.h"
#include "capture.h"
#include "reasm.h"

#define WORKERS_MAX 64

struct tls_keylog;
struct shard;

struct workers_config {
	unsigned n;                   /* 2..WORKERS_MAX */
	struct output_config out;     /* each worker's output; fp, text, reports and alerts set here */
	struct reasm_config reasm;    /* each worker's engine; sessions set here */
	struct tls_keylog **keys;     /* --tls-keylog, and what Decryption Secrets Blocks add */
	/* files: opened (capture_open), not read yet */
	struct capture *cap;
	const char *const *paths;
	size_t n_paths;
	/* live: NULL for files */
	const struct live_config *live;
	const struct shard *shard;    /* live: --shard K/N each worker's capture applies; NULL: none
					 (files: the parent's capture applies it before handing out) */
	const char *sensor;           /* --sensor-name: every event's sensor */
	/* the parent's output: events or the text summary, the reports, the alerts */
	struct replay_config replay;  /* replay.fp: where events go */
	const char *output_path;      /* -o (SIGHUP reopens it, live); NULL: standard output */
	bool quiet;
};

/*
 * Runs the analysis with cfg->n workers and returns the exit status, as the
 * single-process run would (exitcode.h; 128 + the signal that stopped reading
 * files; 141 when the events' reader went away). EXIT_INTERNAL when a worker
 * could not be started or kept running.
 */
int workers_run(const struct workers_config *cfg);

#endif
