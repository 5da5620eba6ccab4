/*
 * capture_files.c - capture files: each opened and its first packet read
 * before anything else (a bad name fails the run before any output), put in
 * the order of their first packets, then read in that order into the packet
 * loop through popsift's own reader (capfile.h), with a progress bar on a
 * terminal. One reassembler spans all files, so a connection that continues
 * in the next file of a rotated capture stays one session; frames are
 * numbered over all files (pcap_cnt).
 *
 * A path is opened once where that matters: a pipe, a FIFO, /dev/fd/N of a
 * pipe or standard input is read from its first packet on and never again. A
 * regular file is closed after its first packet (thousands of rotated files
 * must not hold a descriptor and a 1 MB window each) and opened again to be
 * read, refused if it is no longer the same file (device and inode).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capfile.h"
#include "capture_int.h"
#include "linklayer.h"

#define OUTPUT_CHECK_EVERY 4096 /* frames between checks that the events' reader is still there */
#define DLT_WARNED_MAX 8        /* unsupported link types warned about per file */

static const char *capture_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "standard input" : path;
}

/* Decryption Secrets Blocks, from the reader to the command line's hook. */
static void capture_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len,
			    uint64_t offset)
{
	(void)offset;
	const struct capture_hooks *h = ctx;
	h->secrets(h->ctx, type, data, len);
}

/* The descriptor of in->path, checked against what was opened first when `again`. */
static int capture_open_fd(struct capture_input *in, bool again, struct stat *sb)
{
	bool std_in = strcmp(in->path, "-") == 0;
	int fd = std_in ? STDIN_FILENO : open(in->path, O_RDONLY | O_CLOEXEC);
	const char *why = NULL;
	if (fd < 0 || fstat(fd, sb) != 0)
		why = strerror(errno);
	else if (S_ISDIR(sb->st_mode))
		why = "it is a directory";
	else if (again && (sb->st_dev != in->dev || sb->st_ino != in->ino))
		why = "it is no longer the file opened first (replaced meanwhile)";
	if (!why)
		return fd;
	if (again)
		fprintf(stderr, "popsift: warning: cannot read capture '%s' any more: %s\n",
			in->path, why);
	else
		fprintf(stderr, "popsift: cannot read capture '%s': %s\n", capture_name(in->path), why);
	if (fd >= 0 && !std_in)
		close(fd);
	return -1;
}

/* The capfile of input `in`, for the first read (the peek) or again (its turn). */
static bool capture_input_open(struct capture *c, struct capture_input *in, bool again)
{
	struct stat sb;
	int fd = capture_open_fd(in, again, &sb);
	if (fd < 0)
		return false;
	bool std_in = strcmp(in->path, "-") == 0;
	in->dev = sb.st_dev;
	in->ino = sb.st_ino;
	in->reopen = S_ISREG(sb.st_mode) && !std_in;
	char err[CAPFILE_ERR_MAX] = "";
	struct capsrc *src = capsrc_open_fd(fd, !std_in, err, sizeof(err));
	if (src)
		capsrc_set_stop(src, capture_stop_flag());
	/* Secrets are handed on once: a regular file's when it is read, not when peeked. */
	bool secrets = c->hooks && c->hooks->secrets && (again || !in->reopen);
	struct capfile_config cfg = { secrets ? capture_secrets : NULL, (void *)c->hooks };
	in->cf = src ? capfile_open(src, &cfg, err, sizeof(err)) : NULL;
	if (in->cf)
		return true;
	fprintf(stderr, "popsift: %scannot read capture '%s'%s: %s\n", again ? "warning: " : "",
		capture_name(in->path), again ? " any more" : "", err);
	return false;
}

static void capture_warn_dlt(const char *path, int dlt)
{
	const char *name = pcap_datalink_val_to_name(dlt);
	fprintf(stderr, "popsift: warning: '%s' has link type %s (%d), which popsift does not decode; its packets are skipped\n",
		path, name ? name : "unknown", dlt);
}

static void capture_order(struct capture *c);
static void capture_check_overlap(struct capture *c, const struct capture_input *in);

enum peek { PEEK_OK, PEEK_UNREADABLE, PEEK_FILTER };

/*
 * Reads the first packet of input `in` (its time orders the files). A regular
 * file is closed again; a pipe keeps the packet for when its turn comes.
 */
static enum peek capture_peek(struct capture *c, struct capture_input *in)
{
	if (!capture_input_open(c, in, false))
		return PEEK_UNREADABLE;
	in->size = capsrc_raw_size(capfile_source(in->cf));
	struct capfile_packet pkt;
	if (capfile_next(in->cf, &pkt) == CAPFILE_PACKET) {
		in->has_first = true;
		in->first = pkt.ts;
		in->first_dlt = pkt.dlt;
		in->pending = !in->reopen;
		in->peeked = pkt;
	} else if (capfile_format(in->cf) == CAPFILE_PCAP) {
		in->first_dlt = capfile_iface(in->cf, 0)->dlt;
	} else {
		in->first_dlt = DLT_EN10MB; /* no interface yet: nothing to warn about */
	}
	if (!ll_supported(in->first_dlt))
		capture_warn_dlt(in->path, in->first_dlt);
	if (c->filter && !capture_filter_prepare(c->filter, in->first_dlt, in->path))
		return PEEK_FILTER;
	if (in->reopen) {
		capfile_close(in->cf);
		in->cf = NULL;
	}
	return PEEK_OK;
}

struct capture *capture_open(const struct file_config *fc, bool *usage_error)
{
	*usage_error = false;
	struct capture *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->in = calloc(fc->n ? fc->n : 1, sizeof(*c->in));
	c->hooks = fc->hooks;
	if (fc->filter && c->in) {
		c->filter = capture_filter_new(fc->filter);
		*usage_error = !c->filter;
	}
	enum peek p = c->in && (!fc->filter || c->filter) ? PEEK_OK : PEEK_UNREADABLE;
	for (size_t i = 0; p == PEEK_OK && i < fc->n; i++) {
		c->in[i].path = fc->paths[i];
		c->in[i].arg = i;
		c->n = i + 1;
		p = capture_peek(c, &c->in[i]);
	}
	*usage_error = *usage_error || p == PEEK_FILTER;
	if (p != PEEK_OK) {
		capture_close(c);
		return NULL;
	}
	capture_order(c);
	return c;
}

/* Seconds since an arbitrary start, for the progress bar's rate and ETA. */
static double capture_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes of input `in` read so far (compressed bytes for a compressed file). */
static uint64_t capture_read_bytes(const struct capture_input *in)
{
	return in && in->cf ? capsrc_raw_read(capfile_source(in->cf)) : 0;
}

/*
 * The progress bar (files only, stderr a terminal): bytes read of the total,
 * rate and time left, redrawn at most four times a second on one line.
 */
static void capture_progress(struct capture *c, const struct capture_input *in, bool last)
{
	double now = capture_clock();
	if (!last && now - c->progress_drawn < 0.25)
		return;
	c->progress_drawn = now;
	double done = (double)c->bytes_before + (double)capture_read_bytes(in);
	double rate = done / (now - c->progress_start > 1e-3 ? now - c->progress_start : 1e-3);
	if (c->bytes_total > 0) {
		double left = (double)c->bytes_total - done;
		fprintf(stderr, "\rpopsift: %5.1f%%  %.0f / %.0f MB  %.0f MB/s  ETA %.0f s   ",
			100.0 * done / (double)c->bytes_total, done / 1e6, (double)c->bytes_total / 1e6,
			rate / 1e6, left > 0 && rate > 0 ? left / rate : 0.0);
	} else {
		fprintf(stderr, "\rpopsift: %.0f MB  %.0f MB/s   ", done / 1e6, rate / 1e6);
	}
	if (last)
		fputc('\n', stderr);
}

/* One frame of file `in`: numbered, filtered (-f), handed on. */
static void capture_file_frame(struct capture *c, const struct capture_input *in,
			       const struct capfile_packet *pkt)
{
	c->frame = ++c->frames;
	if (c->filter && !capture_filter_match(c->filter, pkt, in->path)) {
		c->st.filtered++;
	} else {
		struct pcap_pkthdr h = { .ts = pkt->ts, .caplen = pkt->caplen, .len = pkt->len };
		capture_frame(c, pkt->dlt, in->path, &h, pkt->data);
	}
	c->frame = 0;
	c->last = pkt->ts;
	c->has_last = true;
}

/* True when reading must stop: SIGINT or SIGTERM, or nobody reads the events any more. */
static bool capture_stopping(struct capture *c, uint64_t n)
{
	int sig = capture_stop_requested();
	if (!sig && n % OUTPUT_CHECK_EVERY == 0 && capture_output_gone())
		sig = SIGPIPE;
	c->stop_signal = sig;
	return sig != 0;
}

/* Link types of file `in` popsift does not decode: one warning each. */
struct dlt_seen {
	int last;
	int warned[DLT_WARNED_MAX];
	size_t n;
};

static void capture_check_dlt(struct dlt_seen *d, const char *path, int dlt)
{
	d->last = dlt;
	if (ll_supported(dlt))
		return;
	for (size_t i = 0; i < d->n; i++)
		if (d->warned[i] == dlt)
			return;
	if (d->n == DLT_WARNED_MAX)
		return;
	d->warned[d->n++] = dlt;
	capture_warn_dlt(path, dlt);
}

static void capture_read(struct capture *c, struct capture_input *in)
{
	struct dlt_seen dlts = { .last = in->first_dlt, .warned = { in->first_dlt }, .n = 1 };
	struct capfile_packet pkt;
	enum capfile_result r = CAPFILE_PACKET;
	uint64_t n = 0;
	if (in->pending) {
		in->pending = false;
		capture_file_frame(c, in, &in->peeked);
	}
	while (!capture_stopping(c, ++n) && (r = capfile_next(in->cf, &pkt)) == CAPFILE_PACKET) {
		if (pkt.dlt != dlts.last)
			capture_check_dlt(&dlts, in->path, pkt.dlt);
		capture_file_frame(c, in, &pkt);
		if (c->progress && (n & 1023) == 0)
			capture_progress(c, in, false);
	}
	if (r != CAPFILE_PACKET && r != CAPFILE_END && !capture_stopping(c, 0)) {
		c->st.truncated_files++;
		fprintf(stderr, "popsift: warning: '%s': %s; everything before this point was analysed\n",
			in->path, capfile_error(in->cf));
	}
	c->st.files++;
}

void capture_run_files(struct capture *c)
{
	capture_signals_files();
	for (size_t i = 0; i < c->n && !c->stop_signal; i++) {
		struct capture_input *in = &c->in[i];
		if (!in->cf && !capture_input_open(c, in, true)) {
			c->st.unread_files++;
			continue;
		}
		capture_check_overlap(c, in);
		capture_read(c, in);
		c->bytes_before += capture_read_bytes(in);
		c->last_path = in->path;
		capfile_close(in->cf);
		in->cf = NULL;
	}
	if (c->progress)
		capture_progress(c, NULL, true);
}

void capture_show_progress(struct capture *c)
{
	if (c->st.live || !isatty(STDERR_FILENO))
		return; /* never into a log or a pipe */
	c->progress = true;
	c->progress_start = capture_clock();
	for (size_t i = 0; i < c->n; i++) {
		if (c->in[i].size == 0) {
			c->bytes_total = 0; /* a pipe or standard input: no total, no ETA */
			return;
		}
		c->bytes_total += c->in[i].size;
	}
}

/* ---- the order of the files -------------------------------------------- */

/* Files without a packet first (they add nothing), then by first packet, then as given. */
static int capture_cmp_first(const void *pa, const void *pb)
{
	const struct capture_input *a = pa, *b = pb;
	if (a->has_first != b->has_first)
		return a->has_first ? 1 : -1;
	if (a->has_first && timercmp(&a->first, &b->first, !=))
		return timercmp(&a->first, &b->first, <) ? -1 : 1;
	return a->arg < b->arg ? -1 : a->arg > b->arg;
}

/*
 * A rotated capture given in any order (a shell glob sorts cap10 before cap2)
 * is read in the order it was written. A pipe's first packet is read like a
 * file's, so pipes take their place among the files by time too.
 */
static void capture_order(struct capture *c)
{
	qsort(c->in, c->n, sizeof(*c->in), capture_cmp_first);
}

size_t capture_file_order(const struct capture *c, size_t i)
{
	return c->in[i].arg;
}

static void capture_time_text(const struct timeval *tv, char *buf, size_t n)
{
	struct tm tm;
	time_t t = tv->tv_sec;
	gmtime_r(&t, &tm);
	size_t len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, n - len, ".%06ldZ", (long)tv->tv_usec);
}

/*
 * Files that overlap in time (two captures of the same traffic, or parts of
 * different captures) interleave connections the reassembler sees out of
 * order: said, since sessions across them may come out wrong.
 */
static void capture_check_overlap(struct capture *c, const struct capture_input *in)
{
	if (!c->last_path || !in->has_first || !timercmp(&in->first, &c->last, <))
		return;
	char first[40], last[40];
	capture_time_text(&in->first, first, sizeof(first));
	capture_time_text(&c->last, last, sizeof(last));
	fprintf(stderr, "popsift: warning: '%s' starts (%s) before '%s' ends (%s): the files overlap in time; sessions across them may be incomplete or wrong\n",
		in->path, first, c->last_path, last);
	c->st.overlaps++;
}
