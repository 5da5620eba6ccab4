/*
 * capture.h - the packet loop: capture files in, IP packets to the reassembler.
 */
#ifndef POPSIFT_CAPTURE_H
#define POPSIFT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t other;         /* neither IPv4 nor IPv6 */
	uint64_t truncated;     /* frames cut inside their link-layer header */
	unsigned files;
	unsigned truncated_files; /* files that ended mid-packet */
};

struct capture;

/*
 * Opens every input in order ("-" is standard input) before anything is read,
 * so a bad name fails the run before any output. Returns NULL and prints one
 * line naming the file and the reason on failure.
 */
struct capture *capture_open(const char *const *paths, size_t n);
/* Reads every packet of every input, in order, into the reassembler. */
void capture_run(struct capture *c);
void capture_get_stats(const struct capture *c, struct capture_stats *st);
void capture_close(struct capture *c);

#endif
