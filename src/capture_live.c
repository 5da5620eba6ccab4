/*
 * capture_live.c - live capture on an interface: opening it with the port
 * filter, dropping privileges (-Z), reading until a stop signal, draining
 * what the kernel still holds, and the kernel's drop counters.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture_int.h"
#include "linklayer.h"

#define LIVE_SNAPLEN 262144          /* offloaded (GRO/TSO) frames exceed 64 KB */
#define LIVE_BUFFER (32 * 1024 * 1024) /* kernel buffer: bursts of multi-MB messages */

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
bool capture_run_live(struct capture *c)
{
	while (!capture_signal_take(CAPTURE_SIG_STOP, false)) {
		int n = pcap_dispatch(c->in[0].p, 512, capture_live_packet, (u_char *)c);
		if (n == PCAP_ERROR) {
			fprintf(stderr, "popsift: capture on '%s' failed: %s\n", c->in[0].path,
				pcap_geterr(c->in[0].p));
			return false;
		}
		if (c->hooks->reopen && capture_signal_take(CAPTURE_SIG_HUP, true))
			c->hooks->reopen(c->hooks->ctx);
		if (c->hooks->report && capture_signal_take(CAPTURE_SIG_USR1, true)) {
			capture_kernel_stats(c);
			c->hooks->report(c->hooks->ctx);
		}
		capture_tick(c, time(NULL));
	}
	capture_drain(c);
	capture_kernel_stats(c);
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
	/*
	 * Handlers from here on, before the output is opened: a SIGTERM now still
	 * ends the run cleanly. Not earlier: they also tell a watcher the capture
	 * is ready, and libpcap discards what arrived before the filter was set.
	 */
	capture_signals(p);
	if (!ll_supported(c->in[0].dlt))
		fprintf(stderr, "popsift: warning: '%s' has link type %s, which popsift does not decode\n",
			lc->iface, pcap_datalink_val_to_name(c->in[0].dlt));
	return c;
}
