/*
 * capture.c - the packet loop's shared part: each frame's link layer stripped
 * and its IP packet and the clock handed to the reassembler (whose idle sweep
 * runs on that clock); signals (SIGINT/SIGTERM stop; SIGHUP and SIGUSR1 go to
 * the command line's hooks: reopen the output, report). The inputs are read by
 * capture_files.c and capture_live.c.
 *
 * Signal flags are the only statics here: a handler can do nothing else safely.
 */
#include "capture_int.h"

#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linklayer.h"
#include "reasm.h"

static volatile sig_atomic_t sig_flags[3];
static pcap_t *break_handle; /* for pcap_breakloop() from the signal handler */

void capture_tick(struct capture *c, time_t now)
{
	reasm_tick(now);
	if (now == c->last_tick || !c->hooks || !c->hooks->tick)
		return;
	c->last_tick = now;
	c->hooks->tick(c->hooks->ctx, now);
}

void capture_packet(struct capture *c, const struct capture_input *in,
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

static void capture_on_signal(int sig)
{
	if (sig == SIGHUP)
		sig_flags[CAPTURE_SIG_HUP] = 1;
	else if (sig == SIGUSR1)
		sig_flags[CAPTURE_SIG_USR1] = 1;
	else
		sig_flags[CAPTURE_SIG_STOP] = 1;
	if (break_handle)
		pcap_breakloop(break_handle);
}

bool capture_signal_take(enum capture_sig s, bool clear)
{
	if (!sig_flags[s])
		return false;
	if (clear)
		sig_flags[s] = 0;
	return true;
}

void capture_signals_release(void)
{
	break_handle = NULL;
}

void capture_signals(pcap_t *breaker)
{
	break_handle = breaker;
	struct sigaction sa = { 0 };
	sa.sa_handler = capture_on_signal;
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
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

void capture_close(struct capture *c)
{
	if (!c)
		return;
	if (c->st.live)
		capture_signals_release();
	for (size_t i = 0; i < c->n; i++) {
		if (c->in[i].p)
			pcap_close(c->in[i].p);
		free(c->in[i].buf);
	}
	free(c->in);
	free(c);
}
