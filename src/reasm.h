/*
 * reasm.h - TCP reassembly: IP packets in, sessions' bytes out. The only
 * interface to libnids.
 */
#ifndef POPSIFT_REASM_H
#define POPSIFT_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include "session.h"

struct reasm_config {
	const uint8_t *port_map; /* 65536 bits: server ports followed */
	unsigned max_streams;    /* concurrent TCP streams held */
	struct session_table *sessions;
};

struct reasm_stats {
	uint64_t ip_packets;     /* handed to libnids */
	uint64_t skipped;        /* not TCP on a followed port */
	uint64_t short_fragments;
	uint64_t tcp_streams;    /* connections followed */
	uint64_t nids_warnings;  /* anomalies libnids reported */
	uint64_t evicted;        /* streams dropped because the table was full */
};

/* Initialises libnids once; false with a message in err on failure. */
bool reasm_init(const struct reasm_config *cfg, char *err, size_t errlen);
/* One IPv4 packet of `caplen` captured bytes seen at `ts` in `pcap_file`. */
void reasm_ipv4(const struct timeval *ts, const uint8_t *ip, size_t caplen, const char *pcap_file);
/* End of input: every open session ends with `capture-end`, then libnids exits. */
void reasm_finish(void);
void reasm_get_stats(struct reasm_stats *st);

#endif
