/*
 * ip6frag.h - IPv6 fragment reassembly (RFC 8200 §4.5), ahead of the IPv6 to
 * IPv4 translation (ipmap.h): libnids reassembles IPv4 fragments itself but
 * knows no IPv6, so popsift puts IPv6 datagrams back together first, with the
 * bounds libnids' ip_fragment.c applies to IPv4 (IP_FRAG_TIME, 65,535): a
 * datagram lives IP6F_TIMEOUT seconds of capture time and holds at most
 * 65,535 octets; where libnids bounds each source address (256 KiB), this
 * bounds the whole table, in memory (IP6F_MEM_MAX) and in datagrams
 * (IP6F_DATAGRAMS_MAX), the oldest dropped first, so a flood from many
 * sources costs no more. Overlapping fragments discard their datagram (RFC
 * 5722); an exact duplicate is ignored.
 */
#ifndef POPSIFT_IP6FRAG_H
#define POPSIFT_IP6FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define IP6F_TIMEOUT 30             /* seconds: libnids' IP_FRAG_TIME for IPv4 */
#define IP6F_MEM_MAX (8 * 1024 * 1024) /* octets held in datagrams not yet complete */
#define IP6F_DATAGRAMS_MAX 1024     /* datagrams in progress at once, all sources */
#define IP6F_FRAGS_MAX 128          /* fragments per datagram (a 64 KB datagram at MTU 1280: 52) */
#define IP6F_PACKET_MAX (40 + 65535) /* a reassembled packet: fixed header and payload */

struct ip6frag;

/* Why fragments were not analysed (each counts the fragments concerned). */
struct ip6frag_stats {
	uint64_t reassembled;  /* datagrams put back together */
	uint64_t dropped;      /* fragments of datagrams discarded or never completed */
	uint64_t overlaps;     /* datagrams discarded for overlapping fragments */
};

/* NULL when out of memory. */
struct ip6frag *ip6frag_new(void);
/* Frees everything; the fragments still held count as dropped. */
void ip6frag_free(struct ip6frag *f, struct ip6frag_stats *st);

enum ip6frag_result {
	IP6F_NOT_FRAGMENT, /* no Fragment header: use the packet as it is */
	IP6F_HELD,         /* kept (or dropped) until its datagram is complete */
	IP6F_COMPLETE,     /* *out is the reassembled packet, without a Fragment header */
};

/*
 * Takes IPv6 packet ip6[0..len) seen at `now`. On IP6F_COMPLETE *out points
 * to the datagram, valid until the next call, *outlen its length.
 */
enum ip6frag_result ip6frag_add(struct ip6frag *f, const struct timeval *now, const uint8_t *ip6,
				size_t len, const uint8_t **out, size_t *outlen);
void ip6frag_get_stats(const struct ip6frag *f, struct ip6frag_stats *st);

#endif
