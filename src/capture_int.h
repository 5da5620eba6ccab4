/*
 * capture_int.h - what the three parts of the packet loop share: the capture
 * object and its inputs, the per-packet path (capture.c), signal flags, and
 * the two readers, files (capture_files.c) and live (capture_live.c). Private
 * to those three files.
 */
#ifndef POPSIFT_CAPTURE_INT_H
#define POPSIFT_CAPTURE_INT_H

#include <pcap/pcap.h>
#include <sys/time.h>

#include "capture.h"

struct capture_input {
	const char *path;
	pcap_t *p;
	char *buf; /* p's stdio buffer (capture_files.c) */
	int dlt;
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
};

/* One captured frame of input `in`: link layer stripped, handed to the reassembler. */
void capture_packet(struct capture *c, const struct capture_input *in,
		    const struct pcap_pkthdr *h, const uint8_t *frame);
/* The clock moved (a packet's time, or live, the wall clock). */
void capture_tick(struct capture *c, time_t now);

enum capture_sig { CAPTURE_SIG_STOP, CAPTURE_SIG_HUP, CAPTURE_SIG_USR1 };
/* Installs the handlers; `breaker` (may be NULL) is broken out of its loop on a signal. */
void capture_signals(pcap_t *breaker);
/* Whether the signal came; with `clear`, forgets it. */
bool capture_signal_take(enum capture_sig s, bool clear);
void capture_signals_release(void);

void capture_run_files(struct capture *c);
bool capture_run_live(struct capture *c);

#endif
