/*
 * capture_files.c - capture files: each opened and checked before anything is
 * read (a bad name fails the run before any output), then read in order into
 * the packet loop, with a progress bar on a terminal. One reassembler spans
 * all files, so a connection that continues in the next file of a rotated
 * capture stays one session.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capfile.h"
#include "capture_int.h"
#include "linklayer.h"

/*
 * Opens a capture file with a 1 MB stdio buffer. libpcap reads through stdio
 * with the default 4 KB one: a read() per 4 KB, 60,000 system calls for a
 * 240 MB capture, a large part of the time a fast analysis takes. The buffer
 * stays the caller's until pcap_close().
 */
#define CAPTURE_READ_BUFFER (1 << 20)

static pcap_t *capture_fopen(const char *path, char **buf, char *err)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, PCAP_ERRBUF_SIZE, "%s", strerror(errno));
		return NULL;
	}
	*buf = malloc(CAPTURE_READ_BUFFER);
	if (*buf)
		setvbuf(fp, *buf, _IOFBF, CAPTURE_READ_BUFFER);
	pcap_t *p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, err);
	if (!p) {
		fclose(fp);
		free(*buf);
		*buf = NULL;
	}
	return p;
}

/* libpcap's messages for a missing file are terse; say which file and why. */
static bool capture_open_one(struct capture_input *in, const char *path)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct stat sb;
	in->path = path;
	if (strcmp(path, "-") != 0) {
		if (stat(path, &sb) != 0) {
			fprintf(stderr, "popsift: cannot read capture '%s': %s\n", path, strerror(errno));
			return false;
		}
		if (S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "popsift: cannot read capture '%s': it is a directory\n", path);
			return false;
		}
	}
	in->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, err);
	if (!in->p) {
		fprintf(stderr, "popsift: cannot read capture '%s': %s\n",
			strcmp(path, "-") == 0 ? "standard input" : path, err);
		return false;
	}
	in->dlt = pcap_datalink(in->p);
	if (strcmp(path, "-") != 0) {
		/* Checked now, read later: a long list of files must not hold a descriptor each. */
		pcap_close(in->p);
		in->p = NULL;
	}
	if (!ll_supported(in->dlt)) {
		const char *name = pcap_datalink_val_to_name(in->dlt);
		fprintf(stderr, "popsift: warning: '%s' has link type %s (%d), which popsift does not decode; its packets are skipped\n",
			path, name ? name : "unknown", in->dlt);
	}
	return true;
}

struct capture *capture_open(const char *const *paths, size_t n)
{
	struct capture *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->in = calloc(n ? n : 1, sizeof(*c->in));
	if (!c->in) {
		free(c);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!capture_open_one(&c->in[i], paths[i])) {
			c->n = i;
			capture_close(c);
			return NULL;
		}
	}
	c->n = n;
	return c;
}

/* Seconds since an arbitrary start, for the progress bar's rate and ETA. */
static double capture_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The progress bar (files only, stderr a terminal): bytes read of the total,
 * rate and time left, redrawn at most four times a second on one line.
 */
static void capture_progress(struct capture *c, struct capture_input *in, bool last)
{
	double now = capture_clock();
	if (!last && now - c->progress_drawn < 0.25)
		return;
	c->progress_drawn = now;
	FILE *f = in && in->p ? pcap_file(in->p) : NULL;
	off_t pos = f ? ftello(f) : -1;
	double done = (double)c->bytes_before + (pos > 0 ? (double)pos : 0);
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

/* capfile's secrets callback, passed on to the command line's hook. */
static void capture_secret(void *ctx, uint32_t type, const uint8_t *data, size_t len, uint64_t off)
{
	const struct capture_hooks *hooks = ctx;
	(void)off;
	hooks->secrets(hooks->ctx, type, data, len);
}

/*
 * libpcap skips pcapng Decryption Secrets Blocks: a pcapng file is read once
 * through capfile.c first for them, so its secrets are known before its
 * packets. Classic pcap files (which hold none) and standard input are not.
 */
static void capture_read_secrets(struct capture *c, const struct capture_input *in)
{
	if (!c->hooks || !c->hooks->secrets || strcmp(in->path, "-") == 0)
		return;
	char err[CAPFILE_ERR_MAX];
	struct capfile_config cfg = { capture_secret, (void *)c->hooks };
	struct capfile *cf = capfile_open_path(in->path, &cfg, err, sizeof(err));
	if (!cf)
		return;
	struct capfile_packet pkt;
	while (capfile_format(cf) == CAPFILE_PCAPNG && capfile_next(cf, &pkt) == CAPFILE_PACKET)
		;
	capfile_close(cf);
}

static void capture_read(struct capture *c, struct capture_input *in)
{
	struct pcap_pkthdr *h;
	const u_char *frame;
	int rc;
	unsigned n = 0;
	while ((rc = pcap_next_ex(in->p, &h, &frame)) == 1) {
		capture_packet(c, in, h, frame);
		if (c->progress && (++n & 1023) == 0)
			capture_progress(c, in, false);
	}
	if (rc == PCAP_ERROR) {
		c->st.truncated_files++;
		fprintf(stderr, "popsift: warning: '%s': %s; everything before this point was analysed\n",
			in->path, pcap_geterr(in->p));
	}
	c->st.files++;
}

void capture_run_files(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct capture_input *in = &c->in[i];
		char err[PCAP_ERRBUF_SIZE] = "";
		if (!in->p)
			in->p = capture_fopen(in->path, &in->buf, err);
		if (!in->p) {
			fprintf(stderr, "popsift: warning: cannot read capture '%s' any more: %s\n", in->path, err);
			c->st.truncated_files++;
			continue;
		}
		capture_read_secrets(c, in);
		capture_read(c, in);
		if (c->progress) {
			FILE *f = pcap_file(in->p);
			off_t end = f ? ftello(f) : -1;
			c->bytes_before += end > 0 ? (uint64_t)end : 0;
		}
		pcap_close(c->in[i].p);
		c->in[i].p = NULL;
		free(c->in[i].buf);
		c->in[i].buf = NULL;
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
		struct stat sb;
		if (strcmp(c->in[i].path, "-") == 0 || stat(c->in[i].path, &sb) != 0) {
			c->bytes_total = 0; /* standard input: no total, no ETA */
			return;
		}
		c->bytes_total += (uint64_t)sb.st_size;
	}
}
