/*
 * capture_fanout.h - live --workers N: the kernel's PACKET_FANOUT group every
 * worker's socket joins, and the classic-BPF program that picks a packet's
 * worker. The program computes pairhash_bucket(pairhash_packet(), n) of
 * pairhash.h, instruction for instruction, so the kernel splits live traffic
 * exactly as the file workers and --shard split a capture: by the address
 * pair, both directions and every connection between two hosts on one worker.
 */
#ifndef POPSIFT_CAPTURE_FANOUT_H
#define POPSIFT_CAPTURE_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

#define CAPTURE_FANOUT_PROG_MAX 48

/*
 * Writes the program into out and returns its length. Loads are relative to
 * `base`: SKF_NET_OFF (the network header, whatever the link type) in the
 * kernel; a link header's length where an interpreter without negative
 * offsets runs it (libpcap's bpf_filter(), in the unit test). The program
 * returns the bucket, 0..n-1; a packet that is neither IPv4 nor IPv6 goes to 0.
 */
size_t capture_fanout_prog(struct sock_filter out[CAPTURE_FANOUT_PROG_MAX], unsigned n, int32_t base);

/*
 * Joins socket fd to fanout group `group` (PACKET_FANOUT_CBPF with
 * PACKET_FANOUT_FLAG_DEFRAG: IPv4 fragments are put back together first, so
 * each reaches the worker of its address pair whole) and gives the group the
 * program for n workers. False with a line in err.
 */
bool capture_fanout_join(int fd, uint16_t group, unsigned n, char *err, size_t errlen);

#endif
