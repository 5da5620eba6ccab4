/*
 * reasm.h - the capture engine's interface: IP packets in, sessions opened,
 * fed and ended (session.h). What the engine does inside, and how it drives
 * libnids, is its own (engine.h); nothing else in popsift sees libnids.
 */
#ifndef POPSIFT_REASM_H
#define POPSIFT_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "session.h"

#define REASM_REBASE_AT (1 << 30) /* libnids' int byte counters are rebased past this */

struct reasm_config {
	const uint8_t *port_map; /* 65536 bits: server ports followed */
	unsigned max_streams;    /* concurrent TCP streams held */
	int rebase_at;           /* REASM_REBASE_AT (tests lower it) */
	unsigned idle_timeout;   /* seconds of capture time: a session silent this long ends
				    (end_reason timeout); 0: never */
	bool detect;             /* --detect: follow every TCP port, keep what proves POP */
	struct session_table *sessions;
};

/* Connections counted for the summary's "try --detect" hint, at most. */
#define REASM_HINT_MAX 256

struct reasm_stats {
	uint64_t ip_packets;     /* handed to libnids */
	uint64_t skipped;        /* not TCP on a followed port */
	uint64_t short_fragments;
	uint64_t tcp_streams;    /* connections followed */
	uint64_t nids_warnings;  /* anomalies libnids reported */
	uint64_t evicted;        /* streams dropped because the table was full */
	uint64_t midstream;      /* connections picked up without their handshake */
	uint64_t port_reuse;     /* connections ended by a new SYN on their 4-tuple */
	uint64_t gap_bytes;      /* bytes the capture lost, filled and reported as gaps */
	uint64_t ipv6;           /* IPv6 TCP packets translated */
	uint64_t ipv6_fragments; /* IPv6 fragments not analysed: dropped by ip6frag.c's bounds, or malformed */
	uint64_t ipv6_reassembled; /* IPv6 datagrams put back together from fragments */
	uint64_t ipv6_overlaps;  /* IPv6 datagrams discarded for overlapping fragments (RFC 5722) */
	uint64_t look_like_pop;  /* without --detect: connections on other ports whose lines only POP
				    sends (probe_pickup), counted while no session was followed; at
				    most REASM_HINT_MAX */
	uint64_t ipv6_unmapped;  /* IPv6 packets dropped: too many distinct addresses */
	uint64_t rebased;        /* counter rebases (streams past 1 GiB in one direction) */
	uint64_t timed_out;      /* sessions ended by the idle timeout */
	uint64_t half_open;      /* handshakes never completed (SYN unanswered, reset, or
				    crowded out of the held-handshake table): not followed */
	uint64_t not_pop;        /* --detect: connections dropped as not POP */
	uint64_t snaplen_cut;    /* segments of followed connections the capture's snapshot
				    length cut: fed as captured, the rest a gap */
	uint64_t snaplen_cut_bytes; /* the bytes of them not captured */
};

/*
 * Initialises libnids once and proves that the libnids loaded is the one
 * popsift was built for (nids_abi.h). False with a message in err on
 * failure: the run should end with EXIT_INTERNAL.
 */
bool reasm_init(const struct reasm_config *cfg, char *err, size_t errlen);
/*
 * One IPv4 packet of `caplen` captured bytes seen at `ts` in `pcap_file`. A TCP
 * segment cut by the capture's snapshot length (caplen short of its total
 * length) goes on as the shorter segment it was captured as: its bytes reach
 * the session, and those not captured become a gap once the stream moves past
 * them, instead of libnids dropping the whole segment (docs/libnids.md).
 */
void reasm_ipv4(const struct timeval *ts, const uint8_t *ip, size_t caplen, const char *pcap_file);
/* One IPv6 packet: translated to synthetic IPv4 and fed like the others. */
void reasm_ipv6(const struct timeval *ts, const uint8_t *ip6, size_t caplen, const char *pcap_file);
/*
 * The capture's clock, between packets: each packet's time, and live, the
 * wall clock about once a second. When the second changes, sessions idle for
 * the configured idle_timeout end (libnids has no idle timeout of its own).
 */
void reasm_tick(time_t now);
/*
 * --shard: an IP packet of another shard passed at `ts`, unread. The time
 * sessions still open at the end of the capture end at moves as if it had been
 * read (the last IP packet's), so a shard's events are those of one run.
 */
void reasm_clock(const struct timeval *ts);
/* Ends every session idle for `idle` seconds at time `now` (reasm_tick calls it). */
void reasm_expire(time_t now, unsigned idle);
/* End of input: every open session ends with `capture-end`, then libnids exits. */
void reasm_finish(void);
/* The same, the sessions ending with `why` (END_INTERRUPTED: the reading was stopped). */
void reasm_finish_as(enum end_reason why);
void reasm_get_stats(struct reasm_stats *st);

#endif
