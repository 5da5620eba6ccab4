/*
 * flow.h - a connection's envelope: addresses, ports, times, byte counts and
 * how it ended. The session layer (session.c) owns and writes it, one per TCP
 * connection; output reads it to address every event. A plain data header at
 * the bottom of the include graph: it includes only the dissector contract.
 * Dissectors never see it: they know no addresses.
 */
#ifndef POPSIFT_FLOW_H
#define POPSIFT_FLOW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "../dissectors/dissector.h"

struct flow {
	uint64_t flow_id;
	char client_ip[INET6_ADDRSTRLEN];
	char server_ip[INET6_ADDRSTRLEN];
	uint16_t client_port;
	uint16_t server_port;
	struct timeval start;
	struct timeval now;    /* time of the packet being processed */
	const char *pcap_file; /* NULL when live */
	const char *app_proto;
	uint64_t bytes[DIR_COUNT];
	uint32_t gaps;
	uint64_t gap_bytes;
	bool partial;          /* picked up mid-stream */
	enum end_reason end_reason;
	/*
	 * Capture frames (1-based over all files read; 0 live): the one that brought
	 * the latest bytes, or ended the connection (pcap_cnt), and the one the
	 * session started at (its `start`).
	 */
	uint64_t pcap_cnt;
	uint64_t pcap_cnt_first;
	uint32_t snaplen_cut;  /* segments the capture's snapshot length cut */
};

#endif
