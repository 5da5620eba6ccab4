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

/*
 * Where the bytes the dissector reads now come from (session_tls.c): the
 * connection itself (NONE), or TLS. Output reads it to tell a password read
 * inside TLS from one that crossed the network in clear.
 */
enum flow_tls {
	FLOW_TLS_NONE,      /* no TLS (yet) */
	FLOW_TLS_PENDING,   /* STLS accepted: the next bytes show whether TLS follows */
	FLOW_TLS_ENCRYPTED, /* TLS without its keys: the dissector reads nothing more */
	FLOW_TLS_DECRYPTED  /* TLS decrypted: the dissector reads its plaintext */
};

/* "1:" + 28 base64 characters + NUL: community_id.h's COMMUNITY_ID_LEN */
#define FLOW_COMMUNITY_ID_LEN 31

struct flow {
	uint64_t flow_id;
	/* Community ID v1 of the connection ("1:..."), computed once when it opens;
	   "" when unknown (read back from events that had none) */
	char community_id[FLOW_COMMUNITY_ID_LEN];
	const char *sensor;    /* the sensor that saw it (--sensor-name); NULL: none */
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
	bool kernel_drops_known; /* live: kernel_drops is set (session_close) */
	uint64_t kernel_drops;   /* live: packets the kernel dropped while it was open */
	enum end_reason end_reason;
	enum flow_tls tls;
	bool tls_implicit;     /* TLS from the first byte (POP3S; or without STLS) */
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
