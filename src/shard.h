/*
 * shard.h - --shard K/N: this run analyses only the address pairs whose
 * pairhash (pairhash.h) falls in bucket K of N, so N processes (hosts, pods
 * of a Kubernetes Indexed Job, a Slurm array, GNU parallel) split one capture
 * archive between them and their events together are one run's (docs/scaling.md).
 *
 * The decision is made per frame right after the link layer is stripped,
 * before reassembly: a frame of another shard costs its read and the hash,
 * nothing more. Both directions of a connection, every connection between the
 * same two hosts and every fragment of a datagram (IPv4 or IPv6) share their
 * addresses, so they land in the same shard. Frames without an address pair
 * (not IP, cut inside their headers) belong to shard 0, so that adding the
 * shards' statistics gives the single run's.
 *
 * Pure functions over a value; owns nothing.
 */
#ifndef POPSIFT_SHARD_H
#define POPSIFT_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARD_MAX 1024 /* the largest N: more processes than that is a cluster's job */

struct shard {
	unsigned k, n; /* n 0 or 1: no sharding, every frame is this run's */
};

/*
 * Reads "K/N" (decimal, 0 <= K < N <= SHARD_MAX). False with the reason in
 * err (a sentence without the option's name) when it is not that.
 */
bool shard_parse(const char *text, struct shard *out, char *err, size_t err_len);

/*
 * Whether the IP packet ip[0..len) is this shard's; ip NULL for a frame that
 * is no IP packet (it is shard 0's, as is an IP packet too short to hold its
 * addresses).
 */
bool shard_owns(const struct shard *s, const uint8_t *ip, size_t len);

#endif
