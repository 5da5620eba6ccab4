/*
 * capture.c - the packet loop's shared part: each frame's link layer stripped,
 * other shards' frames dropped (--shard, shard.h), and its IP packet and the
 * clock handed to the reassembler (whose idle sweep runs on that clock); signals (SIGINT/SIGTERM stop; SIGHUP and SIGUSR1 go to
 * the command line's hooks: reopen the output, report; SIGPIPE stops the run
 * when the events' output is a pipe nobody reads). The inputs are read by
 * capture_files.c and capture_live.c.
 *
 * Signal state is the only static here (the flags, the handle to break out of
 * and the output descriptor to check): a handler can reach nothing else.
 */
#include "capture_int.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linklayer.h"
#include "reasm.h"

static volatile sig_atomic_t sig_flags[3]; /* [CAPTURE_SIG_STOP]: the signal's number */
static pcap_t *break_handle; /* for pcap_breakloop() from the signal handler */
static volatile sig_atomic_t watched_fd = -1; /* the events' output (capture_watch_output) */

/* The dispositions the handlers replaced, given back by capture_close(). */
#define HANDLED_MAX 8
static struct {
	int sig;
	struct sigaction old;
} handled[HANDLED_MAX];
static size_t n_handled;

/* The packets go to the hook instead of the reassembler (--workers). */
static bool capture_dispatching(const struct capture *c)
{
	return c->hooks && c->hooks->ip_packet;
}

/* An IP packet to the hook (the reassembler is another process's). */
static void capture_dispatch(struct capture *c, bool v6, const char *path,
			     const struct pcap_pkthdr *h, const uint8_t *ip, size_t len)
{
	struct capture_ip p = { .ts = h->ts, .frame = c->frame, .path = path, .v6 = v6,
				.ip = ip, .len = len };
	c->hooks->ip_packet(c->hooks->ctx, &p);
}

void capture_tick(struct capture *c, time_t now)
{
	if (!capture_dispatching(c))
		reasm_tick(now);
	if (now == c->last_tick || !c->hooks || !c->hooks->tick)
		return;
	c->last_tick = now;
	c->hooks->tick(c->hooks->ctx, now);
}

void capture_frame(struct capture *c, int dlt, const char *path, const struct pcap_pkthdr *h,
		   const uint8_t *frame)
{
	const uint8_t *ip = NULL;
	size_t iplen = 0;
	capture_tick(c, h->ts.tv_sec);
	c->st.packets++;
	c->st.bytes += h->caplen;
	enum ll_result kind = ll_strip(dlt, frame, h->caplen, &ip, &iplen);
	/* --shard: another shard's frame stops here, before any reassembly; the clock
	   above still moved, so timeouts fall when they would in one run */
	const uint8_t *addressed = kind == LL_IPV4 || kind == LL_IPV6 ? ip : NULL;
	if (c->shard.n > 1 && !shard_owns(&c->shard, addressed, iplen)) {
		c->st.shard_skipped++;
		if (addressed && !capture_dispatching(c))
			reasm_clock(&h->ts);
		return;
	}
	c->st.snaplen_cut += h->caplen < h->len;
	if ((kind == LL_IPV4 || kind == LL_IPV6) && capture_dispatching(c)) {
		capture_dispatch(c, kind == LL_IPV6, path, h, ip, iplen);
		return;
	}
	switch (kind) {
	case LL_IPV4:
		reasm_ipv4(&h->ts, ip, iplen, path);
		break;
	case LL_IPV6:
		reasm_ipv6(&h->ts, ip, iplen, path);
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

void capture_packet(struct capture *c, const struct capture_input *in,
		    const struct pcap_pkthdr *h, const uint8_t *frame)
{
	capture_frame(c, in->dlt, c->st.live ? NULL : in->path, h, frame);
}

bool capture_output_gone(void)
{
	int fd = watched_fd;
	if (fd < 0)
		return false;
	/* A pipe whose reader closed reports POLLERR to its writer, before any write fails. */
	struct pollfd pfd = { .fd = fd, .events = 0 };
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR);
}

void capture_watch_output(int fd)
{
	watched_fd = fd;
}

/*
 * SIGPIPE comes from a write to a pipe without a reader: it stops the run only
 * when that pipe is the events' output (poll() is async-signal-safe); a write
 * elsewhere fails with EPIPE and is reported as the write error it is.
 */
static void capture_on_signal(int sig)
{
	int saved = errno;
	if (sig == SIGHUP)
		sig_flags[CAPTURE_SIG_HUP] = 1;
	else if (sig == SIGUSR1)
		sig_flags[CAPTURE_SIG_USR1] = 1;
	else if (sig != SIGPIPE || capture_output_gone())
		sig_flags[CAPTURE_SIG_STOP] = sig;
	else {
		errno = saved;
		return;
	}
	if (break_handle)
		pcap_breakloop(break_handle);
	errno = saved;
}

bool capture_signal_take(enum capture_sig s, bool clear)
{
	if (!sig_flags[s])
		return false;
	if (clear)
		sig_flags[s] = 0;
	return true;
}

int capture_stop_requested(void)
{
	return sig_flags[CAPTURE_SIG_STOP];
}

const volatile sig_atomic_t *capture_stop_flag(void)
{
	return &sig_flags[CAPTURE_SIG_STOP];
}

/*
 * The process's dispositions as they were, and the flags cleared: a program
 * that reads several captures in turn (the fuzz harness) starts each afresh,
 * and keeps its own Ctrl-C between them.
 */
void capture_signals_release(void)
{
	break_handle = NULL;
	for (size_t i = 0; i < n_handled; i++)
		sigaction(handled[i].sig, &handled[i].old, NULL);
	n_handled = 0;
	for (size_t i = 0; i < sizeof(sig_flags) / sizeof(sig_flags[0]); i++)
		sig_flags[i] = 0;
}

/*
 * SA_RESTART: a write of events into a slow pipe interrupted by a signal
 * carries on rather than failing with EINTR (stdio would drop the buffer); a
 * blocked read of a capture pipe waits in poll(), which a signal always
 * interrupts (capsource.c), so a stop is still seen at once.
 */
static void capture_handle(const int *sigs, size_t n)
{
	struct sigaction sa = { 0 };
	sa.sa_handler = capture_on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < n && n_handled < HANDLED_MAX; i++) {
		handled[n_handled].sig = sigs[i];
		sigaction(sigs[i], &sa, &handled[n_handled].old);
		n_handled++;
	}
}

void capture_signals(pcap_t *breaker)
{
	break_handle = breaker;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGPIPE };
	capture_handle(sigs, sizeof(sigs) / sizeof(sigs[0]));
}

void capture_signals_files(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGPIPE };
	capture_handle(sigs, sizeof(sigs) / sizeof(sigs[0]));
}

bool capture_run(struct capture *c, const struct capture_hooks *hooks)
{
	c->hooks = hooks;
	if (c->st.live)
		return capture_run_live(c);
	capture_run_files(c);
	return true;
}

void capture_get_stats(const struct capture *c, struct capture_stats *st)
{
	*st = c->st;
}

int capture_stop_signal(const struct capture *c)
{
	return c->st.live ? capture_stop_requested() : c->stop_signal;
}

void capture_set_shard(struct capture *c, const struct shard *s)
{
	c->shard = *s;
}

const uint64_t *capture_frame_number(const struct capture *c)
{
	return &c->frame;
}

void capture_close(struct capture *c)
{
	if (!c)
		return;
	capture_signals_release();
	for (size_t i = 0; i < c->n; i++) {
		if (c->in[i].p)
			pcap_close(c->in[i].p);
		capfile_close(c->in[i].cf);
	}
	capture_filter_free(c->filter);
	free(c->in);
	free(c);
}
