/*
 * capture.h - the packet loop: capture files or a live interface in, IP
 * packets to the reassembler.
 *
 * Files are read by popsift's own reader (capfile.h over capsource.h): pcap or
 * pcapng, plain or compressed (gzip, zstd, lz4, xz, recognised by content),
 * from regular files, FIFOs, /dev/fd/N or standard input, each path opened
 * once; every packet goes on with its own interface's link type. Several files
 * are read in the order of their first packets (a rotated capture given in any
 * order), numbered as one capture (the frame numbers events carry).
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
	uint64_t shard_skipped; /* --shard: frames of the other shards' address pairs (shard.h) */
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
	/* files */
	uint64_t snaplen_cut;     /* frames the capture's snapshot length cut (caplen < len) */
	uint64_t filtered;        /* frames -f did not match */
	unsigned overlaps;        /* files starting before the previous file's last packet */
	unsigned unread_files;    /* files that could not be opened again to be read */
};

struct capture;
struct shard;

/* One IP packet, link layer stripped, for capture_hooks.ip_packet. */
struct capture_ip {
	struct timeval ts;
	uint64_t frame;       /* its number (pcap_cnt); 0 live */
	const char *path;     /* the file it came from; NULL live */
	bool v6;              /* IPv6; else IPv4 */
	const uint8_t *ip;    /* valid during the call */
	size_t len;
};

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
	/*
	 * Optional: the Decryption Secrets Blocks of pcapng files, as they come
	 * (before the packets they decrypt): type (CAPFILE_SECRETS_*, e.g. TLS key
	 * log lines), the bytes (valid during the call). Called while the files
	 * are opened too (a pipe's first packet is read then): give the same hooks
	 * to capture_open() and capture_run().
	 */
	void (*secrets)(void *ctx, uint32_t type, const uint8_t *p, size_t n);
	/*
	 * Optional (--workers, files: src/workers.c): each IP packet goes here
	 * instead of into the reassembler, which this process then does not run
	 * (no reasm_init(), no reasm_tick()); `tick` still comes first whenever
	 * the second of the capture clock changes.
	 */
	void (*ip_packet)(void *ctx, const struct capture_ip *p);
};

struct file_config {
	const char *const *paths;   /* "-" is standard input */
	size_t n;
	const char *filter;         /* -f: a BPF filter every frame must match; NULL for none */
	const struct capture_hooks *hooks; /* may be NULL */
};

struct live_config {
	const char *iface;      /* "any" for all interfaces */
	const char *filter;     /* user BPF, ANDed with the port filter; may be NULL */
	const uint8_t *port_map;
	bool promisc;
	bool detect;            /* --detect: every TCP port, not only the followed ones */
	const char *user;       /* -Z: drop to this user once the capture is open */
	unsigned buffer_kib;    /* -B: the kernel's ring in KiB; 0: LIVE_BUFFER_KIB */
	/* --workers N: join fanout group fanout_group of fanout_n sockets (capture_fanout.h); 0: none */
	unsigned fanout_n;
	uint16_t fanout_group;
};

/* -B's default and bounds, in KiB (tcpdump's unit). */
#define LIVE_BUFFER_KIB (64 * 1024)
#define LIVE_BUFFER_KIB_MIN 1       /* libpcap rounds up to whole 256 KiB blocks */
#define LIVE_BUFFER_KIB_MAX 2097151 /* libpcap takes the size in bytes as an int */
/* Live: the longest a packet waits in the kernel's ring before popsift sees it. */
#define LIVE_BLOCK_TIMEOUT_MS 100

/*
 * Opens every input and reads its first packet, so a bad name or a file that
 * holds no capture fails the run before any output, and the files can be put
 * in the order of their first packets (a stable sort: equal times and files
 * without packets keep the command line's order). A regular file is closed
 * again (a long list must not hold a descriptor and a buffer each) and opened
 * again to be read, refused if it is no longer the same file; anything else (a
 * pipe, standard input) stays open and is read once. The filter is compiled
 * for Ethernet here: an invalid one fails the run. Returns NULL after one line
 * on stderr naming the file (or filter) and the reason; *usage_error tells a
 * bad filter (exit 1) from an unreadable input (exit 2).
 */
struct capture *capture_open(const struct file_config *fc, bool *usage_error);
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
 * until SIGINT or SIGTERM. Files stop early on SIGINT or SIGTERM, or when the
 * events' output (capture_watch_output) is a pipe nobody reads any more:
 * capture_stop_signal() says which. Returns false if a live capture failed.
 */
bool capture_run(struct capture *c, const struct capture_hooks *hooks);
/* The signal that stopped the run early (SIGINT, SIGTERM; SIGPIPE: the output is gone), or 0. */
int capture_stop_signal(const struct capture *c);
/*
 * The descriptor events are written to (-1: none). When it is a pipe whose
 * reader went away (popsift ... | head), the run stops with SIGPIPE at once,
 * even before a write fails; SIGPIPE itself no longer kills the process.
 */
void capture_watch_output(int fd);
/* True when that descriptor is a pipe without a reader (checked now). */
bool capture_output_gone(void);
/*
 * The number (1-based, over all files in the order read) of the frame being
 * handed to the reassembler, 0 between frames and live: sessions read it to
 * give events their frame (pcap_cnt). Valid until capture_close().
 */
const uint64_t *capture_frame_number(const struct capture *c);
/*
 * --shard K/N: from now on only frames of shard K go to the reassembler
 * (shard.h); the others are counted in shard_skipped. Files and live alike.
 */
void capture_set_shard(struct capture *c, const struct shard *s);
/* Files: the order they are read in (indices into file_config.paths). */
size_t capture_file_order(const struct capture *c, size_t i);
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
