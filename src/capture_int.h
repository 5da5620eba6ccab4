/*
 * capture_int.h - what the parts of the packet loop share: the capture object
 * and its inputs, the per-frame path (capture.c), signal flags, and the
 * readers: files (capture_files.c, with -f in capture_filter.c) and live
 * (capture_live.c). Private to those files.
 */
#ifndef POPSIFT_CAPTURE_INT_H
#define POPSIFT_CAPTURE_INT_H

#include <pcap/pcap.h>
#include <sys/time.h>
#include <sys/types.h>

#include "capfile.h"
#include "capture.h"
#include "shard.h"

struct capture_input {
	const char *path;
	pcap_t *p; /* live */
	int dlt;   /* live: the interface's link type */
	/* files */
	size_t arg;             /* its position on the command line */
	struct capfile *cf;     /* open while read; a pipe's from its first packet on */
	bool reopen;            /* a regular file: closed after its first packet, opened again */
	dev_t dev;              /* what was opened first: the file read must be the same one */
	ino_t ino;
	uint64_t size;          /* bytes of a regular file; 0: a pipe (no total for the progress bar) */
	bool has_first;         /* it holds at least one packet */
	struct timeval first;   /* its first packet's time */
	int first_dlt;          /* its first packet's link type (pcap: the file's) */
	bool pending;           /* a pipe: its first packet (`peeked`) is still to be handed on */
	struct capfile_packet peeked;
};

/*
 * Live: the kernel's drop counter as last read, and the windows of wall-clock
 * time in which it rose (capture_live.c). A session open during such a window
 * may have lost packets the kernel dropped: capture_drops_between() says how
 * many. When the windows run out, the two oldest merge: coarser, never lost.
 */
#define CAPTURE_DROP_WINDOWS 64

struct capture_drop_window {
	struct timeval after, upto; /* the drops happened after `after`, by `upto` */
	uint64_t n;
};

struct capture_live {
	struct timeval read_at;       /* the last pcap_stats() */
	unsigned raw_recv, raw_drop, raw_ifdrop; /* its counters (32 bits: they wrap) */
	bool stats_failed;            /* pcap_stats() failed once: said so */
	struct capture_drop_window win[CAPTURE_DROP_WINDOWS];
	unsigned n_win;
};
/* -f for files: one BPF program per link type met (capture_filter.c). */
struct capture_filter;

struct capture {
	struct capture_input *in;
	size_t n;
	struct capture_stats st;
	const struct capture_hooks *hooks;
	time_t last_tick;
	bool progress;          /* draw the progress bar */
	uint64_t bytes_total;   /* sizes of the files (0: unknown, e.g. stdin) */
	uint64_t bytes_before;  /* bytes of the files already read */
	double progress_start, progress_drawn;
	struct capture_live live;   /* live only */
	struct shard shard;         /* --shard K/N; n 0: every frame */
	/* files */
	struct capture_filter *filter; /* NULL: none */
	uint64_t frames;        /* frames read so far, over all files */
	uint64_t frame;         /* the frame being handed on (capture_frame_number), 0 between */
	bool has_last;          /* a packet was read: `last` is the latest one's time */
	struct timeval last;
	const char *last_path;  /* the file it came from */
	int stop_signal;        /* SIGINT, SIGTERM or SIGPIPE stopped the reading; 0 */
};

/* One captured frame of input `in`: link layer stripped, handed to the reassembler. */
void capture_packet(struct capture *c, const struct capture_input *in,
		    const struct pcap_pkthdr *h, const uint8_t *frame);
/* The same with the frame's own link type and file name (NULL: live). */
void capture_frame(struct capture *c, int dlt, const char *path, const struct pcap_pkthdr *h,
		   const uint8_t *frame);
/* The clock moved (a packet's time, or live, the wall clock). */
void capture_tick(struct capture *c, time_t now);

enum capture_sig { CAPTURE_SIG_STOP, CAPTURE_SIG_HUP, CAPTURE_SIG_USR1 };
/* Installs the handlers; `breaker` (may be NULL) is broken out of its loop on a signal. */
void capture_signals(pcap_t *breaker);
/* Files: SIGINT, SIGTERM and SIGPIPE only (the others keep their default). */
void capture_signals_files(void);
/* Whether the signal came; with `clear`, forgets it. */
bool capture_signal_take(enum capture_sig s, bool clear);
/* The signal behind CAPTURE_SIG_STOP (SIGINT, SIGTERM, SIGPIPE), 0 if none came. */
int capture_stop_requested(void);
/* What a blocked read of a pipe watches: non-zero once a stop was asked for. */
const volatile sig_atomic_t *capture_stop_flag(void);
/* Gives back the dispositions the handlers replaced and clears the flags (capture_close()). */
void capture_signals_release(void);

void capture_run_files(struct capture *c);
bool capture_run_live(struct capture *c);


/*
 * -f with files (capture_filter.c). Compiles `expr` for Ethernet (a syntax
 * error fails the run: NULL after one line on stderr).
 */
struct capture_filter *capture_filter_new(const char *expr);
/* Compiles it for link type dlt now; false (with a line on stderr) when it cannot apply. */
bool capture_filter_prepare(struct capture_filter *f, int dlt, const char *path);
/* Whether the frame matches; frames of a link type it cannot apply to never do. */
bool capture_filter_match(struct capture_filter *f, const struct capfile_packet *pkt,
			  const char *path);
void capture_filter_free(struct capture_filter *f);

#endif
