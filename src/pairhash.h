/*
 * pairhash.h - which worker or shard owns a packet: a hash of its two IP
 * addresses only, so both directions of a connection, every connection between
 * the same two hosts (a brute force from one client is seen whole) and every
 * fragment of a datagram (no ports needed) land in the same place.
 *
 * The function is chosen so a classic-BPF PACKET_FANOUT program can compute
 * exactly the same value in the kernel (loads, XOR, multiply, shift, modulo):
 * live workers, file workers and --shard K/N split traffic identically.
 *
 *   x = XOR of the 32-bit big-endian words of both addresses (1 + 1 for IPv4,
 *       4 + 4 for IPv6); h = x * 0x9E3779B1 (mod 2^32); h ^= h >> 16;
 *   bucket = h % n.
 *
 * Pure functions; owns nothing.
 */
#ifndef POPSIFT_PAIRHASH_H
#define POPSIFT_PAIRHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAIRHASH_MUL 0x9E3779B1u

/* The hash of the address pair (a, b), addr_len 4 or 16; symmetric in a and b. */
uint32_t pairhash(const uint8_t *a, const uint8_t *b, size_t addr_len);

/*
 * The hash of an IPv4 or IPv6 packet's address pair (ip[0..len), starting at
 * the IP header). False when it is neither or too short to hold both addresses.
 */
bool pairhash_packet(const uint8_t *ip, size_t len, uint32_t *hash);

/* Which of n buckets (workers, shards) hash h falls in: 0..n-1. */
static inline unsigned pairhash_bucket(uint32_t h, unsigned n)
{
	return n ? h % n : 0;
}

#endif
