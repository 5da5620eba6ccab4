/*
 * capture_live.c - live capture on an interface: opening it on the kernel's
 * block ring (TPACKET_V3) with the port filter, dropping privileges (-Z),
 * reading until a stop signal, draining what the kernel still holds, and the
 * kernel's counters: received, dropped, dropped by the interface, and when the
 * drops happened, so that the sessions open then can say they may have lost
 * packets (capture_drops_between()).
 *
 * Why the block ring: with immediate mode libpcap falls back to TPACKET_V2, a
 * ring of fixed frames each as large as the snapshot length (256 KB here), so
 * a 32 MB buffer held 128 packets and a gigabit link overflowed it. TPACKET_V3
 * packs frames of their real size into blocks; the price is latency, bounded
 * by the block timeout (LIVE_BLOCK_TIMEOUT_MS): a block is handed over when it
 * is full or that long after it was opened, whichever comes first.
 */
#include <errno.h>
#include <grp.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "capture_int.h"
#include "capture_fanout.h"
#include "linklayer.h"

#define LIVE_SNAPLEN 262144     /* offloaded (GRO/TSO) frames exceed 64 KB */
#define LIVE_BATCH 1024         /* packets per pcap_dispatch(): signals and counters between */
#define LIVE_WAKE_MS 1000       /* an idle link still wakes the loop: the idle sweep runs */
#define LIVE_STATS_EVERY_MS 100 /* the kernel's counters are read at least this often */
/*
 * A packet can wait in the kernel's open block this long (the block timeout
 * plus timer slack): the wall clock drives the idle sweep only this far behind,
 * so no session times out while its next packet is still in the ring.
 */
#define LIVE_CLOCK_LAG_MS (LIVE_BLOCK_TIMEOUT_MS + 50)
/* Drops are timed by when the counters were read, packets by the kernel: a margin. */
#define LIVE_DROP_MARGIN_US 10000
#define LIVE_DRAIN_ROUNDS 1000 /* a stop drains at most this many batches */

static void live_now(struct timeval *tv)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
}

static long long live_ms_since(const struct timeval *then)
{
	struct timeval now;
	live_now(&now);
	return (now.tv_sec - then->tv_sec) * 1000LL + (now.tv_usec - then->tv_usec) / 1000;
}

/* A rise of the drop counter in (after, upto]; the two oldest windows merge when all are used. */
static void live_drop_window(struct capture_live *lv, const struct timeval *after,
			     const struct timeval *upto, uint64_t n)
{
	if (lv->n_win == CAPTURE_DROP_WINDOWS) {
		lv->win[1].after = lv->win[0].after;
		lv->win[1].n += lv->win[0].n;
		memmove(&lv->win[0], &lv->win[1], (CAPTURE_DROP_WINDOWS - 1) * sizeof(lv->win[0]));
		lv->n_win--;
	}
	lv->win[lv->n_win++] = (struct capture_drop_window){ *after, *upto, n };
}

/*
 * pcap_stats() into the 64-bit totals. libpcap's counters are running totals
 * of 32 bits (the kernel's reset on each read): differences modulo 2^32 keep
 * the totals right across a wrap, as long as it is read once per 4 G packets.
 */
static void capture_kernel_stats(struct capture *c)
{
	struct capture_live *lv = &c->live;
	struct pcap_stat ps;
	struct timeval now;
	live_now(&now);
	if (pcap_stats(c->in[0].p, &ps) != 0) {
		if (!lv->stats_failed)
			fprintf(stderr, "popsift: warning: cannot read the kernel's counters: %s\n",
				pcap_geterr(c->in[0].p));
		lv->stats_failed = true;
		return;
	}
	unsigned drop = ps.ps_drop - lv->raw_drop;
	c->st.kernel_received += ps.ps_recv - lv->raw_recv;
	c->st.kernel_dropped += drop;
	c->st.iface_dropped += ps.ps_ifdrop - lv->raw_ifdrop;
	lv->raw_recv = ps.ps_recv;
	lv->raw_drop = ps.ps_drop;
	lv->raw_ifdrop = ps.ps_ifdrop;
	if (drop)
		live_drop_window(lv, &lv->read_at, &now, drop);
	lv->read_at = now;
}

static bool tv_before(const struct timeval *a, const struct timeval *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_usec < b->tv_usec);
}

static struct timeval tv_add_us(const struct timeval *t, long long us)
{
	long long v = (long long)t->tv_sec * 1000000 + t->tv_usec + us;
	return (struct timeval){ .tv_sec = v / 1000000, .tv_usec = v % 1000000 };
}

uint64_t capture_drops_between(struct capture *c, const struct timeval *from,
			       const struct timeval *to)
{
	if (!c->st.live)
		return 0;
	struct timeval lo = tv_add_us(from, -LIVE_DROP_MARGIN_US);
	struct timeval hi = tv_add_us(to, LIVE_DROP_MARGIN_US);
	if (tv_before(&c->live.read_at, &hi))
		capture_kernel_stats(c); /* every drop up to `to` is counted from here on */
	uint64_t n = 0;
	for (unsigned i = 0; i < c->live.n_win; i++) {
		const struct capture_drop_window *w = &c->live.win[i];
		if (!tv_before(&w->upto, &lo) && tv_before(&w->after, &hi))
			n += w->n;
	}
	return n;
}

static void capture_live_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *frame)
{
	struct capture *c = (struct capture *)user;
	capture_packet(c, &c->in[0], h, frame);
}

/*
 * Nothing is waiting in the ring: the clock is the wall clock, held back by
 * what the kernel's open block may still hold (packets' times drive it while
 * they flow).
 */
static void capture_live_clock(struct capture *c)
{
	struct timeval now;
	live_now(&now);
	struct timeval lagged = tv_add_us(&now, -1000LL * LIVE_CLOCK_LAG_MS);
	capture_tick(c, lagged.tv_sec);
}

/*
 * Waits up to ms for the kernel to hand over a block. The stop and hook
 * signals are blocked in this thread except inside ppoll(), so one that
 * arrives between the loop's check and the wait still ends the wait.
 */
static void capture_live_wait(struct capture *c, const sigset_t *waiting, int ms)
{
	struct pollfd pfd = { .fd = pcap_get_selectable_fd(c->in[0].p), .events = POLLIN };
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	ppoll(&pfd, 1, &ts, waiting);
}

/* A batch of packets; false, after saying why, if the capture failed. */
static bool capture_live_batch(struct capture *c, int *n)
{
	*n = pcap_dispatch(c->in[0].p, LIVE_BATCH, capture_live_packet, (u_char *)c);
	if (*n == PCAP_ERROR_BREAK)
		*n = 0; /* a signal's pcap_breakloop(), consumed: the flags tell which */
	if (*n >= 0)
		return true;
	fprintf(stderr, "popsift: capture on '%s' failed: %s\n", c->in[0].path,
		pcap_geterr(c->in[0].p));
	return false;
}

/*
 * After a stop signal, packets the kernel already holds are still read: on
 * loopback a client can have its last reply before popsift saw it, and its
 * session would end short. The kernel's open block is handed over only at the
 * block timeout, so the drain waits for that once the ring looks empty.
 * Bounded, in case the interface never goes quiet.
 */
static void capture_drain(struct capture *c, const sigset_t *waiting)
{
	bool waited = false;
	for (int i = 0; i < LIVE_DRAIN_ROUNDS; i++) {
		int n;
		if (!capture_live_batch(c, &n))
			return;
		if (n > 0) {
			waited = false;
			continue;
		}
		if (waited)
			return;
		capture_live_wait(c, waiting, LIVE_CLOCK_LAG_MS);
		waited = true;
	}
}

/* Between batches: the hooks the signals asked for, the counters now and then. */
static void capture_live_between(struct capture *c)
{
	if (c->hooks->reopen && capture_signal_take(CAPTURE_SIG_HUP, true))
		c->hooks->reopen(c->hooks->ctx);
	if (c->hooks->report && capture_signal_take(CAPTURE_SIG_USR1, true)) {
		capture_kernel_stats(c);
		c->hooks->report(c->hooks->ctx);
	}
	if (live_ms_since(&c->live.read_at) >= LIVE_STATS_EVERY_MS)
		capture_kernel_stats(c);
}

/* Live: until a stop signal. */
bool capture_run_live(struct capture *c)
{
	sigset_t ours, before, waiting;
	sigemptyset(&ours);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGUSR1 };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&ours, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &ours, &before);
	waiting = before;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(&waiting, sigs[i]);
	bool ok = true;
	while (ok && !capture_signal_take(CAPTURE_SIG_STOP, false)) {
		int n;
		ok = capture_live_batch(c, &n);
		capture_live_between(c);
		if (ok && n == 0) {
			capture_live_clock(c);
			capture_live_wait(c, &waiting, LIVE_WAKE_MS);
		}
	}
	if (ok)
		capture_drain(c, &waiting);
	capture_kernel_stats(c);
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	return ok;
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

/*
 * The ring the kernel actually gave: libpcap falls back to TPACKET_V2 on its
 * own (a kernel without V3, or immediate mode), and that ring drops at rates
 * the block ring keeps up with. Said, not fatal.
 */
static void capture_check_ring(pcap_t *p, const char *iface)
{
	int version = -1;
	socklen_t len = sizeof(version);
	if (getsockopt(pcap_fileno(p), SOL_PACKET, PACKET_VERSION, &version, &len) != 0 ||
	    version != TPACKET_V3)
		fprintf(stderr, "popsift: warning: '%s' is captured without the kernel's block ring "
				"(TPACKET_V3): packets may be dropped at high rates\n", iface);
}

static pcap_t *capture_activate(const struct live_config *lc)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_create(lc->iface, err);
	if (!p) {
		fprintf(stderr, "popsift: cannot capture on '%s': %s\n", lc->iface, err);
		return NULL;
	}
	unsigned kib = lc->buffer_kib ? lc->buffer_kib : LIVE_BUFFER_KIB;
	pcap_set_snaplen(p, LIVE_SNAPLEN);
	pcap_set_promisc(p, lc->promisc);
	pcap_set_immediate_mode(p, 0); /* immediate mode would cost the block ring */
	pcap_set_timeout(p, LIVE_BLOCK_TIMEOUT_MS); /* TPACKET_V3: the block timeout */
	pcap_set_buffer_size(p, (int)(kib * 1024u));
	int rc = pcap_activate(p);
	if (rc == 0 || rc > 0) /* a warning is no failure */
		rc = pcap_setnonblock(p, 1, err) == 0 ? rc : PCAP_ERROR;
	if (rc < 0) {
		fprintf(stderr, "popsift: cannot capture on '%s': %s%s\n", lc->iface,
			*err ? err : pcap_geterr(p),
			rc == PCAP_ERROR_PERM_DENIED ? " (run as root or give the binary CAP_NET_RAW)" : "");
		pcap_close(p);
		return NULL;
	}
	capture_check_ring(p, lc->iface);
	if (lc->fanout_n && !capture_fanout_join(pcap_fileno(p), lc->fanout_group, lc->fanout_n,
						 err, sizeof(err))) {
		fprintf(stderr, "popsift: '%s': %s\n", lc->iface, err);
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
	/* libpcap reads the interface's own drop counters only in promiscuous mode. */
	c->st.iface_counted = lc->promisc && strcmp(lc->iface, "any") != 0;
	live_now(&c->live.read_at);
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
