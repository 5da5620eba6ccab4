/*
 * capture.h - the packet loop: capture files in, IP packets to the reassembler.
 */
#ifndef POPSIFT_CAPTURE_H
#define POPSIFT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <time.h>

struct capture_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t other;         /* neither IPv4 nor IPv6 */
	uint64_t truncated;     /* frames cut inside their link-layer header */
	unsigned files;
	unsigned truncated_files; /* files that ended mid-packet */
	bool live;
	/*
	 * Live, from pcap_stats() (64-bit running totals of its 32-bit counters).
	 * received: packets that passed the capture filter, the dropped ones
	 * included; dropped: of those, the ones the kernel found no room for in the
	 * ring; iface_dropped: the interface's rx_missed_errors + rx_fifo_errors
	 * since the start, which libpcap reads only in promiscuous mode.
	 */
	uint64_t kernel_received;
	uint64_t kernel_dropped;
	uint64_t iface_dropped;
	bool iface_counted;       /* iface_dropped is known (--promisc, not 'any') */
};

struct capture;

/*
 * What the packet loop asks of the command line, live, between packets. The
 * reassembler needs no hook: the loop hands it packets and the clock itself.
 */
struct capture_hooks {
	void (*reopen)(void *ctx);          /* SIGHUP: reopen the output file */
	void (*report)(void *ctx);          /* SIGUSR1: print the statistics */
	/* Optional: a clock of the caller's own, called when the second changes.
	   popsift leaves it NULL; the fuzz harness (tests/fuzz/fuzz_capture.c) still
	   drives reasm_expire() through it, with its own timeout. */
	void (*tick)(void *ctx, time_t now);
	void *ctx;
	/* Optional: the secrets of a pcapng Decryption Secrets Block (type
	   CAPFILE_SECRETS_*, capfile.h: TLS key log lines), before the packets
	   that follow it. */
	void (*secrets)(void *ctx, uint32_t type, const uint8_t *p, size_t n);
};

struct live_config {
	const char *iface;      /* "any" for all interfaces */
	const char *filter;     /* user BPF, ANDed with the port filter; may be NULL */
	const uint8_t *port_map;
	bool promisc;
	bool detect;            /* --detect: every TCP port, not only the followed ones */
	const char *user;       /* -Z: drop to this user once the capture is open */
	unsigned buffer_kib;    /* -B: the kernel's ring in KiB; 0: LIVE_BUFFER_KIB */
};

/* -B's default and bounds, in KiB (tcpdump's unit). */
#define LIVE_BUFFER_KIB (64 * 1024)
#define LIVE_BUFFER_KIB_MIN 1       /* libpcap rounds up to whole 256 KiB blocks */
#define LIVE_BUFFER_KIB_MAX 2097151 /* libpcap takes the size in bytes as an int */
/* Live: the longest a packet waits in the kernel's ring before popsift sees it. */
#define LIVE_BLOCK_TIMEOUT_MS 100

/*
 * Opens every input in order ("-" is standard input) before anything is read,
 * so a bad name fails the run before any output. Returns NULL and prints one
 * line naming the file and the reason on failure.
 */
struct capture *capture_open(const char *const *paths, size_t n);
/*
 * Opens a live capture on the kernel's block ring (TPACKET_V3: no immediate
 * mode; a block is handed over when full or LIVE_BLOCK_TIMEOUT_MS after its
 * first packet), snaplen 262144 for offloaded frames, a ring of -B KiB, with
 * the port filter; then drops privileges if asked. Returns NULL after printing
 * one line that says what to do.
 */
struct capture *capture_open_live(const struct live_config *lc);
/*
 * Reads every packet of every input, in order, into the reassembler; live,
 * until SIGINT or SIGTERM. Returns false if a live capture failed.
 */
bool capture_run(struct capture *c, const struct capture_hooks *hooks);
/* Files only, and only when standard error is a terminal: a progress bar while reading. */
void capture_show_progress(struct capture *c);
void capture_get_stats(const struct capture *c, struct capture_stats *st);
/*
 * Live: how many packets the kernel dropped (ring full) between two times of
 * the capture clock, e.g. a session's first packet and its end: an upper bound
 * on what that session lost to drops, since drops carry no addresses. Reads
 * the kernel's counters when `to` is newer than the last reading. Files: 0.
 */
uint64_t capture_drops_between(struct capture *c, const struct timeval *from,
			       const struct timeval *to);
void capture_close(struct capture *c);

#endif
