/*
 * capture.c - opens capture files (pcap and pcapng, through libpcap) or a live
 * interface, and runs the packet loop: strip the link layer, hand IP packets
 * and the clock to the reassembler (its idle sweep runs on that clock),
 * answer signals (live: SIGINT/SIGTERM stop; SIGHUP and SIGUSR1 go to the
 * command line's hooks: reopen the output, report). One reassembler spans all
 * files, so a connection that continues in the next file of a rotated capture
 * stays one session.
 *
 * Signal flags are the only statics here: a handler can do nothing else safely.
 */
#include "capture.h"

#include <errno.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linklayer.h"
#include "reasm.h"

struct capture_input {
	const char *path;
	pcap_t *p;
	char *buf; /* p's stdio buffer (capture_fopen) */
	int dlt;
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
};

#define LIVE_SNAPLEN 262144          /* offloaded (GRO/TSO) frames exceed 64 KB */
#define LIVE_BUFFER (32 * 1024 * 1024) /* kernel buffer: bursts of multi-MB messages */

static volatile sig_atomic_t sig_stop, sig_hup, sig_usr1;
static pcap_t *live_handle; /* for pcap_breakloop() from the signal handler */

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

/* The clock moved (a packet's time, or live, the wall clock). */
static void capture_tick(struct capture *c, time_t now)
{
	reasm_tick(now);
	if (now == c->last_tick || !c->hooks || !c->hooks->tick)
		return;
	c->last_tick = now;
	c->hooks->tick(c->hooks->ctx, now);
}

static void capture_packet(struct capture *c, const struct capture_input *in,
			   const struct pcap_pkthdr *h, const uint8_t *frame)
{
	const uint8_t *ip;
	size_t iplen;
	capture_tick(c, h->ts.tv_sec);
	c->st.packets++;
	c->st.bytes += h->caplen;
	switch (ll_strip(in->dlt, frame, h->caplen, &ip, &iplen)) {
	case LL_IPV4:
		reasm_ipv4(&h->ts, ip, iplen, c->st.live ? NULL : in->path);
		break;
	case LL_IPV6:
		reasm_ipv6(&h->ts, ip, iplen, c->st.live ? NULL : in->path);
		break;
	case LL_TRUNCATED:
		c->st.truncated++;
		break;
	case LL_OTHER:
	case LL_UNSUPPORTED:
		c->st.other++;
		break;
	}
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

static void capture_run_files(struct capture *c)
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

static void capture_on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig == SIGUSR1)
		sig_usr1 = 1;
	else
		sig_stop = 1;
	if (live_handle)
		pcap_breakloop(live_handle);
}

static void capture_signals(void)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = capture_on_signal;
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void capture_live_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *frame)
{
	struct capture *c = (struct capture *)user;
	capture_packet(c, &c->in[0], h, frame);
}

static void capture_kernel_stats(struct capture *c)
{
	struct pcap_stat ps;
	if (pcap_stats(c->in[0].p, &ps) == 0) {
		c->st.kernel_received = ps.ps_recv;
		c->st.kernel_dropped = ps.ps_drop;
		c->st.iface_dropped = ps.ps_ifdrop;
	}
}

/*
 * After a stop signal, packets the kernel already holds are still read: on
 * loopback a client can have its last reply before popsift saw it, and its
 * session would end short. Bounded, in case the interface never goes quiet.
 */
static void capture_drain(struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	if (pcap_setnonblock(c->in[0].p, 1, err) != 0)
		return;
	for (int i = 0; i < 1000; i++) {
		int n = pcap_dispatch(c->in[0].p, 512, capture_live_packet, (u_char *)c);
		if (n == PCAP_ERROR_BREAK)
			continue; /* the break requested by the signal, consumed */
		if (n <= 0)
			break;
	}
}

/* Live: until a stop signal; signals interrupt the wait (pcap_breakloop). */
static bool capture_run_live(struct capture *c)
{
	while (!sig_stop) {
		int n = pcap_dispatch(c->in[0].p, 512, capture_live_packet, (u_char *)c);
		if (n == PCAP_ERROR) {
			fprintf(stderr, "popsift: capture on '%s' failed: %s\n", c->in[0].path,
				pcap_geterr(c->in[0].p));
			return false;
		}
		if (sig_hup && c->hooks->reopen) {
			sig_hup = 0;
			c->hooks->reopen(c->hooks->ctx);
		}
		if (sig_usr1 && c->hooks->report) {
			sig_usr1 = 0;
			capture_kernel_stats(c);
			c->hooks->report(c->hooks->ctx);
		}
		capture_tick(c, time(NULL));
	}
	capture_drain(c);
	capture_kernel_stats(c);
	return true;
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

bool capture_run(struct capture *c, const struct capture_hooks *hooks)
{
	c->hooks = hooks;
	if (c->st.live)
		return capture_run_live(c);
	capture_run_files(c);
	return true;
}

/* The port filter: followed TCP ports, plus what BPF cannot judge by port. */
static char *capture_filter(const struct live_config *lc)
{
	size_t cap = 256 + 24 * 64 + (lc->filter ? strlen(lc->filter) : 0);
	char *f = malloc(cap);
	if (!f)
		return NULL;
	size_t n = (size_t)snprintf(f, cap, lc->detect ? "((tcp and (tcp" : "((tcp and (");
	int ports = 0;
	for (unsigned p = 1; p < 65536 && n + 32 < cap && !lc->detect; p++) {
		if (!(lc->port_map[p >> 3] & (1u << (p & 7))))
			continue;
		n += (size_t)snprintf(f + n, cap - n, "%sport %u", ports++ ? " or " : "", p);
	}
	/* IPv4 fragments carry no ports; IPv6 with extension headers hides them. */
	n += (size_t)snprintf(f + n, cap - n, ")) or (ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] != 6))");
	if (lc->filter && *lc->filter)
		snprintf(f + n, cap - n, " and (%s)", lc->filter);
	return f;
}

static bool capture_set_filter(pcap_t *p, const struct live_config *lc)
{
	char *expr = capture_filter(lc);
	struct bpf_program prog;
	bool ok = expr && pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (ok) {
		ok = pcap_setfilter(p, &prog) == 0;
		pcap_freecode(&prog);
	}
	if (!ok)
		fprintf(stderr, "popsift: invalid capture filter (-f '%s'): %s\n",
			lc->filter ? lc->filter : "", pcap_geterr(p));
	free(expr);
	return ok;
}

/* -Z: like tcpdump, give up root once the capture is open. */
static bool capture_drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "popsift: -Z %s: no such user\n", user);
		return false;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "popsift: -Z %s: cannot change to that user: %s\n", user, strerror(errno));
		return false;
	}
	return true;
}

static pcap_t *capture_activate(const struct live_config *lc)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(lc->iface, err);
	if (!p) {
		fprintf(stderr, "popsift: cannot capture on '%s': %s\n", lc->iface, err);
		return NULL;
	}
	pcap_set_snaplen(p, LIVE_SNAPLEN);
	pcap_set_promisc(p, lc->promisc);
	pcap_set_immediate_mode(p, 1);
	pcap_set_timeout(p, 1000); /* wake at least once a second: the idle sweep runs on quiet links */
	pcap_set_buffer_size(p, LIVE_BUFFER);
	int rc = pcap_activate(p);
	if (rc < 0) {
		fprintf(stderr, "popsift: cannot capture on '%s': %s%s\n", lc->iface, pcap_geterr(p),
			rc == PCAP_ERROR_PERM_DENIED ? " (run as root or give the binary CAP_NET_RAW)" : "");
		pcap_close(p);
		return NULL;
	}
	return p;
}

struct capture *capture_open_live(const struct live_config *lc)
{
	pcap_t *p = capture_activate(lc);
	if (!p)
		return NULL;
	if (!capture_set_filter(p, lc) || (lc->user && !capture_drop_privileges(lc->user))) {
		pcap_close(p);
		return NULL;
	}
	struct capture *c = calloc(1, sizeof(*c));
	if (c)
		c->in = calloc(1, sizeof(*c->in));
	if (!c || !c->in) {
		free(c);
		pcap_close(p);
		return NULL;
	}
	c->n = 1;
	c->in[0] = (struct capture_input){ .path = lc->iface, .p = p, .dlt = pcap_datalink(p) };
	c->st.live = true;
	live_handle = p;
	/*
	 * Handlers from here on, before the output is opened: a SIGTERM now still
	 * ends the run cleanly. Not earlier: they also tell a watcher the capture
	 * is ready, and libpcap discards what arrived before the filter was set.
	 */
	capture_signals();
	if (!ll_supported(c->in[0].dlt))
		fprintf(stderr, "popsift: warning: '%s' has link type %s, which popsift does not decode\n",
			lc->iface, pcap_datalink_val_to_name(c->in[0].dlt));
	return c;
}

void capture_get_stats(const struct capture *c, struct capture_stats *st)
{
	*st = c->st;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->st.live)
		live_handle = NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (c->in[i].p)
			pcap_close(c->in[i].p);
		free(c->in[i].buf);
	}
	free(c->in);
	free(c);
}
