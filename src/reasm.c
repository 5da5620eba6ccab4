/*
 * reasm.c - the engine's driver: drives libnids from popsift's own packet
 * loop (docs/libnids.md, Driving it) and turns its callbacks into sessions.
 *
 * libnids is initialised once on a pcap_open_dead(DLT_RAW) handle, so it
 * never opens an interface or a socket, and fed IPv4 packets whose link layer
 * popsift already stripped; sessions therefore continue across consecutive
 * capture files. Checksums are not verified (loopback and offloaded captures
 * carry wrong ones); libnids' syslog and port-scan detection are replaced by
 * counters (docs/libnids.md, Side effects).
 *
 * Per packet: read the IPv4 and TCP headers (through the cursor), let
 * holdback.c keep a handshake or give back one it held, let mend.c pick up a
 * connection mid-stream or end one whose port is reused, feed libnids, then
 * let mend.c close a hole libnids now waits on. The callbacks open, feed and
 * end sessions (session.c). Between packets, reasm_tick() ends idle sessions
 * (libnids has none of its own: docs/libnids.md, Idle).
 *
 * Owns the one engine instance (engine.h): libnids' callbacks carry no user
 * pointer, so it is a static, the engine's state in one place. Feeding
 * libnids re-enters this file through reasm_tcp(): engine.h states the rule.
 */
#include "engine.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "exitcode.h"
#include "../dissectors/probe.h"
#include "mend.h"

#define REASM_SNAPLEN 262144

static struct reasm R;

/* libnids reports every anomaly here; sometimes with a NULL IP header. */
static void reasm_nids_syslog(int type, int err, struct ip *iph, void *data)
{
	(void)type;
	(void)err;
	(void)iph;
	(void)data;
	R.stats.nids_warnings++;
}

/* libnids' no_mem hook must not return. */
static void reasm_nids_nomem(char *where)
{
	fprintf(stderr, "popsift: out of memory in libnids (%s)\n", where ? where : "?");
	exit(EXIT_INTERNAL);
}

void reasm_feed(struct reasm *r, const uint8_t *ip, size_t len)
{
	r->hdr.caplen = r->hdr.len = (bpf_u_int32)len;
	r->stats.ip_packets++;
	nids_pcap_handler(NULL, &r->hdr, (u_char *)ip);
}

void reasm_inject(struct reasm *r, const struct segment *g)
{
	reasm_feed(r, r->pkt, ipv4_tcp_segment(r->pkt, g, NULL));
}

/* ts's slot among the streams whose buffers are kept (libnids' pool: consecutive structs). */
static inline struct tcp_stream **reasm_keep_slot(struct reasm *r, const struct tcp_stream *ts)
{
	uintptr_t k = (uintptr_t)ts / sizeof(*ts);
	return &r->keep[k % REASM_KEEP];
}

void reasm_end(struct reasm *r, struct tcp_stream *ts, enum end_reason why, const struct timeval *at)
{
	struct session *s = ts->user;
	struct tcp_stream **slot = reasm_keep_slot(r, ts);
	if (*slot == ts)
		*slot = NULL; /* libnids frees its buffers with it */
	r->generation++;
	ts->user = NULL;
	if (s)
		session_close(r->cfg.sessions, s, why, at);
}

/* ---- libnids' callback ------------------------------------------------ */

static void reasm_endpoint(uint32_t addr, uint16_t port, struct endpoint *e)
{
	memset(e, 0, sizeof(*e));
	e->port = port;
	if (ipmap_lookup(addr, e->addr)) {
		e->family = AF_INET6;
		return;
	}
	e->family = AF_INET;
	memcpy(e->addr, &addr, 4);
}

static void reasm_established(struct tcp_stream *ts)
{
	bool followed = reasm_followed(&R, ts->addr.dest);
	if (!followed && !R.cfg.detect)
		return;
	/* Picked up mid-stream by content (--detect): the line that proved it chose the dissector. */
	const struct dissector *d = R.synthetic_handshake && R.pickup ? R.pickup
				    : followed ? dissector_for_port(ts->addr.dest) : NULL;
	struct session_origin o = { .start = R.hdr.ts, .pcap_file = R.pcap_file,
				    .partial = R.synthetic_handshake, .stream = ts };
	reasm_endpoint(ts->addr.saddr, ts->addr.source, &o.client);
	reasm_endpoint(ts->addr.daddr, ts->addr.dest, &o.server);
	/* Not a followed port: --detect decides by content (dissector NULL until then). */
	struct session *s = session_open(R.cfg.sessions, d, &o);
	if (!s)
		reasm_nids_nomem("session");
	ts->user = s;
	ts->client.collect++;
	ts->server.collect++;
	R.stats.tcp_streams++;
	R.stats.midstream += R.synthetic_handshake;
}

/* ts->server holds what the client sent, ts->client what the server sent. */
static void reasm_data(struct tcp_stream *ts, struct session *s)
{
	struct half_stream *h = ts->server.count_new ? &ts->server : &ts->client;
	enum dir dir = h == &ts->server ? DIR_TO_SERVER : DIR_TO_CLIENT;
	size_t held = (size_t)(h->count - h->offset);
	size_t n = (size_t)h->count_new;
	session_touch(s, &R.hdr.ts, R.pcap_file);
	if (session_data(s, dir, (const uint8_t *)h->data + (held - n), n))
		return;
	/* --detect: not POP. Stop collecting; the session ends without events. */
	ts->client.collect--;
	ts->server.collect--;
	R.stats.not_pop++;
	R.stats.tcp_streams--;
	reasm_end(&R, ts, END_NONE, &R.hdr.ts);
}

static void reasm_evicted(struct tcp_stream *ts)
{
	R.stats.evicted++;
	if (!R.warned_full) {
		R.warned_full = true;
		fprintf(stderr, "popsift: warning: more than %u concurrent TCP streams: the oldest "
				"are ended early (end_reason \"evicted\"); raise --max-streams\n",
			R.cfg.max_streams);
	}
	reasm_end(&R, ts, END_EVICTED, &R.hdr.ts);
}

static void reasm_tcp(struct tcp_stream *ts, void **unused)
{
	(void)unused;
	if (ts->nids_state == NIDS_JUST_EST) {
		reasm_established(ts);
		return;
	}
	if (!ts->user)
		return;
	switch (ts->nids_state) {
	case NIDS_DATA: reasm_data(ts, ts->user); break;
	case NIDS_CLOSE: reasm_end(&R, ts, END_FIN, &R.hdr.ts); break;
	case NIDS_RESET: reasm_end(&R, ts, END_RST, &R.hdr.ts); break;
	case NIDS_TIMED_OUT: reasm_evicted(ts); break;
	case NIDS_EXITING: reasm_end(&R, ts, END_CAPTURE_END, &R.hdr.ts); break;
	default: break;
	}
}

/* ---- start -------------------------------------------------------------- */

/*
 * reasm_trim() costs a free and a malloc of a few KB per packet, which is
 * cheap only if glibc keeps the memory: by default it gives the top of the heap back to
 * the kernel whenever 128 KB are free there, and with a second thread running
 * (output/handoff.c) every such trim flushes the other core's TLB; the next
 * malloc then faults the pages in again (15% of the capture thread on the
 * message-heavy capture). So the heap keeps what it was given, up to 64 MB, and
 * blocks up to 8 MB (a message's extraction buffer, the output ring) come from
 * it rather than from a mmap/munmap pair each.
 */
static void reasm_tune_malloc(void)
{
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
}

/* libnids on a dead handle, its side effects off (docs/libnids.md, Side effects). */
static bool reasm_start_nids(const struct reasm_config *cfg, char *err, size_t errlen)
{
	static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM, 0 }; /* kept by libnids */
	R.dead = pcap_open_dead(DLT_RAW, REASM_SNAPLEN);
	if (!R.dead) {
		snprintf(err, errlen, "pcap_open_dead failed");
		return false;
	}
	nids_params.pcap_desc = R.dead;
	nids_params.filename = NULL;
	nids_params.device = NULL;
	nids_params.syslog = reasm_nids_syslog;
	nids_params.no_mem = reasm_nids_nomem;
	nids_params.scan_num_hosts = 0;
	nids_params.multiproc = 0;
	nids_params.pcap_filter = NULL;
	/* libnids holds 3/4 of its hash size before it evicts the oldest stream. */
	nids_params.n_tcp_streams = (int)(cfg->max_streams / 3 * 4 + 4);
	if (!nids_init()) {
		snprintf(err, errlen, "libnids: %s", nids_errbuf);
		return false;
	}
	nids_register_chksum_ctl(&no_checksums, 1);
	return true;
}

bool reasm_init(const struct reasm_config *cfg, char *err, size_t errlen)
{
	R.cfg = *cfg;
	R.last_tick = 0;
	R.next_expiry = 0;
	memset(R.keep, 0, sizeof(R.keep));
	reasm_tune_malloc();
	nids_abi_seed_hash();
	if (!reasm_start_nids(cfg, err, errlen))
		return false;
	struct reasm_stats before = R.stats;
	bool abi_ok = nids_abi_check(&R.hdr, err, errlen);
	R.stats = before; /* the check's packets are not the capture's */
	if (!abi_ok)
		return false;
	nids_register_tcp((void *)reasm_tcp); /* after nids_init(), which resets callbacks */
	ipmap_init();
	R.ip6frag = ip6frag_new();
	if (!R.ip6frag || !holdback_init(&R.hold, cfg->max_streams, &R.stats.half_open)) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

/* ---- per packet --------------------------------------------------------- */

/*
 * libnids keys a stream by its client-to-server tuple: a segment from a
 * followed (server) port is looked up reversed first, so most segments cost
 * one hash lookup, not two.
 */
static struct tcp_stream *reasm_find(const struct ipv4_tuple *t)
{
	struct ipv4_tuple rev = ipv4_reverse(t);
	bool to_server = !reasm_followed(&R, t->sport) || reasm_followed(&R, t->dport);
	struct tuple4 first = reasm_key(to_server ? t : &rev), second = reasm_key(to_server ? &rev : t);
	struct tcp_stream *ts = nids_find_tcp_stream(&first);
	return ts ? ts : nids_find_tcp_stream(&second);
}

/* A SYN or SYN-ACK of a connection libnids does not know: true when held back. */
static bool reasm_hold(const struct segment *g, const uint8_t *ip, size_t len)
{
	const struct holdback_slot *s = NULL;
	switch (holdback_offer(&R.hold, g, ip, len, &s)) {
	case HOLDBACK_KEPT: return true;
	case HOLDBACK_SYN_FIRST: reasm_feed(&R, s->syn, s->syn_len); return false;
	case HOLDBACK_FEED: return false;
	}
	return false;
}

/* Another packet of a connection libnids does not know: true when a stream now exists. */
static bool reasm_release(const struct segment *g)
{
	bool ack_lost = false;
	const struct holdback_slot *s = holdback_release(&R.hold, g, &ack_lost);
	if (!s)
		return false;
	reasm_feed(&R, s->syn, s->syn_len);
	reasm_feed(&R, s->synack, s->synack_len);
	if (ack_lost)
		reasm_inject(&R, &(struct segment){ s->t, s->syn_seq + 1, s->synack_seq + 1, TCP_ACK, 0 });
	return true;
}

/*
 * A segment with data of a connection libnids does not know: the capture
 * started after its handshake. On a followed port the port says who is the
 * server; on any other (--detect) the segment's first line must be one only
 * POP sends (probe_pickup), and says who sent it and which dissector follows.
 */
static void reasm_pickup(const struct segment *g, const uint8_t *payload)
{
	if (reasm_followed(&R, g->t.dport) || reasm_followed(&R, g->t.sport)) {
		mend_pickup(&R, g, reasm_followed(&R, g->t.dport));
		return;
	}
	enum dir sender;
	if (!R.cfg.detect || !probe_pickup(bytes_of(payload, g->payload), &R.pickup, &sender))
		return;
	mend_pickup(&R, g, sender == DIR_TO_SERVER);
	R.pickup = NULL;
}

/*
 * Before libnids sees a segment: port reuse, handshakes held back, mid-stream
 * pickup, counter rebase. Returns true when the segment is held (not to be
 * fed). *known: the segment's stream, for reasm_after(), or NULL.
 */
static bool reasm_before(const struct segment *g, const uint8_t *ip, size_t len,
			 struct tcp_stream **known)
{
	struct tcp_stream *ts = reasm_find(&g->t);
	bool syn_only = (g->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	if (ts && syn_only && ts->client.first_data_seq != g->seq + 1) {
		mend_port_reuse(&R, ts);
		ts = NULL;
	}
	if (!ts && reasm_hold(g, ip, len))
		return true;
	if (!ts && reasm_release(g))
		ts = reasm_find(&g->t);
	if (!ts && g->payload && !(g->flags & (TCP_SYN | TCP_RST)))
		reasm_pickup(g, ip + len - g->payload);
	else if (ts && ts->user) {
		mend_rebase(&R, &ts->server, &ts->client);
		mend_rebase(&R, &ts->client, &ts->server);
	}
	*known = ts;
	return false;
}

/*
 * libnids keeps a half's receive buffer (4 KB or more) for the connection's
 * whole life, although popsift consumes every byte at once: 100,000 idle
 * sessions would hold 400 MB. Between packets nothing is held, so the buffer
 * goes back; libnids allocates a new one when data comes (add2buf: data NULL).
 */
static void reasm_trim(struct half_stream *h)
{
	if (h->data && h->count == h->offset) {
		free(h->data);
		h->data = NULL;
		h->bufsize = 0;
	}
}

/* libnids' first buffer for a half (add2buf: 4 KB for a segment under 2 KB). */
#define REASM_SMALL_BUFFER 4096

/*
 * ...but giving it back after every packet costs libnids a malloc and popsift
 * a free of 4 KB per segment with data: 8% of the capture thread on short
 * sessions. So the REASM_KEEP streams that had data last (at most one per
 * slot, hashed by address) keep buffers of libnids' first size, and a stream
 * gives its buffers back when another takes its slot: at most REASM_KEEP x 8 KB
 * held between packets, whatever the number of sessions. A larger buffer goes
 * back at once, as before. reasm_end() empties the slot of a stream that ends.
 */
static void reasm_keep(struct tcp_stream *ts)
{
	struct tcp_stream **slot = reasm_keep_slot(&R, ts);
	if (ts->client.bufsize > REASM_SMALL_BUFFER || ts->server.bufsize > REASM_SMALL_BUFFER) {
		reasm_trim(&ts->client);
		reasm_trim(&ts->server);
		return;
	}
	if (*slot == ts)
		return;
	if (*slot) {
		reasm_trim(&(*slot)->client);
		reasm_trim(&(*slot)->server);
	}
	*slot = ts;
}

/*
 * After libnids took a segment: a hole it now waits on may need closing. `ts`
 * is what reasm_before() found, still valid if no session ended since
 * generation `gen` (the re-entrancy rule), else looked up again.
 */
static void reasm_after(const struct segment *g, struct tcp_stream *ts, uint64_t gen)
{
	if (!ts || !reasm_unchanged(&R, gen))
		ts = reasm_find(&g->t);
	if (!ts || !ts->user)
		return;
	gen = R.generation;
	/* Nearly always nothing waits behind a hole: test that before the call. */
	if (ts->client.list)
		mend_holes(&R, ts, &ts->client, false);
	if (reasm_unchanged(&R, gen) && ts->server.list)
		mend_holes(&R, ts, &ts->server, false);
	if (reasm_unchanged(&R, gen))
		reasm_keep(ts);
}

/*
 * Reads the IPv4 header; false (the packet skipped) unless it is IPv4 with
 * a sane header length carrying TCP. *caplen loses any link-layer padding.
 */
static bool reasm_ip(struct cursor *c, struct ipv4_header *h, size_t *caplen)
{
	if (!ipv4_read(c, h) || h->version != 4 || h->proto != IPPROTO_TCP || h->ihl < 20 ||
	    h->total < h->ihl || *caplen < h->ihl)
		return false;
	if (*caplen > h->total)
		*caplen = h->total;
	return true;
}

/* Reads the TCP header after IPv4 header h into g; false if it is cut short or malformed. */
static bool reasm_tcp_header(struct cursor *c, const struct ipv4_header *h, size_t caplen,
			     struct segment *g)
{
	cur_limit(c, caplen - 20);
	cur_skip(c, h->ihl - 20); /* IP options */
	if (!tcp_read(c, g))
		return false;
	g->t.saddr = h->saddr;
	g->t.daddr = h->daddr;
	g->payload = cur_left(c);
	return true;
}

/*
 * Without --detect, a segment on a port not followed: would content detection
 * have found POP? Counted per connection (a bounded set) for the summary's
 * hint, only while no session has been followed (the hint is for captures
 * that gave nothing), and only for segments that start like a status line or
 * a command: the cost stays a few comparisons per skipped packet.
 */
static void reasm_note_unfollowed(const struct segment *g, const uint8_t *payload)
{
	uint8_t c = payload[0];
	if (R.n_hint == REASM_HINT_MAX) /* counted enough: the summary says "or more" */
		return;
	if (c != '+' && c != '-' && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z'))
		return;
	const struct dissector *d;
	enum dir sender;
	if (!probe_pickup(bytes_of(payload, g->payload), &d, &sender))
		return;
	/* The connection, the same from either side: its two endpoints in a fixed order. */
	uint64_t a = (uint64_t)g->t.saddr << 16 | g->t.sport, b = (uint64_t)g->t.daddr << 16 | g->t.dport;
	uint64_t key = (a < b ? a * 0x9e3779b97f4a7c15ULL + b : b * 0x9e3779b97f4a7c15ULL + a) | 1;
	for (size_t i = 0; i < R.n_hint; i++)
		if (R.hint[i] == key)
			return;
	if (R.n_hint < REASM_HINT_MAX)
		R.hint[R.n_hint++] = key;
	R.stats.look_like_pop = R.n_hint;
}

/*
 * A segment the snapshot length cut: libnids drops a packet shorter than its
 * IPv4 total length whole (docs/libnids.md, Cut segments), so it is fed from a
 * copy whose total length is what was captured, the header checksum updated
 * to match (RFC 1624: a wrong one stays wrong).
 */
static const uint8_t *reasm_shorten(const uint8_t *ip, size_t caplen, size_t total)
{
	memcpy(R.cut, ip, caplen);
	put_be16(R.cut + 2, (uint16_t)caplen);
	uint32_t sum = (uint16_t)~(R.cut[10] << 8 | R.cut[11]);
	sum += (uint16_t)~total + (uint16_t)caplen;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put_be16(R.cut + 10, (uint16_t)~sum);
	return R.cut;
}

/* A followed segment was cut by `cut` bytes: counted, and in its session. */
static void reasm_cut(const struct segment *g, struct tcp_stream *known, uint64_t gen, size_t cut)
{
	R.stats.snaplen_cut++;
	R.stats.snaplen_cut_bytes += cut;
	struct tcp_stream *ts = known && reasm_unchanged(&R, gen) ? known : reasm_find(&g->t);
	if (ts && ts->user)
		session_snaplen_cut(ts->user);
}

/*
 * Feeds libnids what it needs: TCP to or from a followed port (any port with
 * --detect), and every fragment (whose ports are unknown until reassembly).
 * `cut`: bytes of the packet the capture did not keep beyond what its header
 * says (an IPv6 packet translated from what was captured).
 */
static void reasm_packet(const struct timeval *ts, const uint8_t *ip, size_t caplen,
			 const char *pcap_file, size_t cut)
{
	struct cursor c = cur_make(ip, caplen);
	struct ipv4_header h;
	if (!reasm_ip(&c, &h, &caplen)) {
		R.stats.skipped++;
		return;
	}
	R.hdr.ts = *ts;
	R.pcap_file = pcap_file;
	if (h.frag & (IPV4_MF | IPV4_OFFMASK)) {
		mend_fragment(&R, ip, caplen, h.total, h.ihl);
		return;
	}
	struct segment g;
	if (!reasm_tcp_header(&c, &h, caplen, &g)) {
		R.stats.skipped++;
		return;
	}
	if (!R.cfg.detect && !reasm_followed(&R, g.t.sport) && !reasm_followed(&R, g.t.dport)) {
		R.stats.skipped++;
		if (g.payload && !R.stats.tcp_streams)
			reasm_note_unfollowed(&g, ip + caplen - g.payload);
		return;
	}
	if (caplen < h.total) {
		cut += h.total - caplen;
		ip = reasm_shorten(ip, caplen, h.total);
	}
	uint64_t gen = R.generation;
	struct tcp_stream *known = NULL;
	if (reasm_before(&g, ip, caplen, &known))
		return;
	reasm_feed(&R, ip, caplen);
	if (cut)
		reasm_cut(&g, known, gen, cut);
	reasm_after(&g, known, gen);
}

void reasm_ipv4(const struct timeval *ts, const uint8_t *ip, size_t caplen, const char *pcap_file)
{
	reasm_packet(ts, ip, caplen, pcap_file, 0);
}

/*
 * IPv6: fragments are put back together first (ip6frag.c, with IPv4's
 * bounds), then the packet is translated to IPv4 for libnids (ipmap.c).
 */
void reasm_ipv6(const struct timeval *ts, const uint8_t *ip6, size_t caplen, const char *pcap_file)
{
	size_t len;
	if (ip6frag_add(R.ip6frag, ts, ip6, caplen, &ip6, &caplen) == IP6F_HELD)
		return;
	/* Into a buffer of its own: R.pkt is reused by the synthetic segments. */
	switch (ipmap_v6_to_v4(ip6, caplen, R.v6_as_v4, &len)) {
	case IPMAP_OK: break;
	case IPMAP_FRAGMENT: R.stats.ipv6_fragments++; return;
	case IPMAP_FULL: R.stats.ipv6_unmapped++; return;
	default: R.stats.skipped++; return;
	}
	R.stats.ipv6++;
	/* The translation holds what was captured: what the payload length says is missing was cut. */
	size_t want = caplen >= 6 ? 40 + (size_t)(ip6[4] << 8 | ip6[5]) : 0;
	reasm_packet(ts, R.v6_as_v4, len, pcap_file, want > caplen ? want - caplen : 0);
}

/* ---- between packets ---------------------------------------------------- */

void reasm_expire(time_t now, unsigned idle)
{
	struct session_table *t = R.cfg.sessions;
	/*
	 * A session's time only moves forward, so none can expire before the
	 * earliest deadline the last sweep saw: walking every session every
	 * second of capture time cost 9-13% with 10,000 concurrent sessions.
	 */
	if (now < R.next_expiry)
		return;
	R.next_expiry = now + (time_t)idle;
	struct timeval at = { now, 0 };
	for (struct session *s = t->head, *next; s; s = next) {
		next = s->next;
		time_t deadline = s->flow.now.tv_sec + (time_t)idle;
		if (deadline > now) {
			if (deadline < R.next_expiry)
				R.next_expiry = deadline;
			continue;
		}
		struct tcp_stream *ts = s->stream;
		reasm_end(&R, ts, END_TIMEOUT, &at);
		nids_free_tcp_stream(ts);
		R.stats.timed_out++;
	}
}

void reasm_tick(time_t now)
{
	if (now == R.last_tick)
		return;
	R.last_tick = now;
	if (R.cfg.idle_timeout)
		reasm_expire(now, R.cfg.idle_timeout);
}

void reasm_clock(const struct timeval *ts)
{
	R.hdr.ts = *ts;
}

/* Data queued behind a hole is real: delivered before the end (docs/libnids.md, End of input). */
static void reasm_flush_holes(struct session_table *t)
{
	for (struct session *s = t->head, *next; s; s = next) {
		next = s->next;
		struct tcp_stream *ts = s->stream;
		uint64_t gen = R.generation;
		mend_holes(&R, ts, &ts->client, true);
		if (reasm_unchanged(&R, gen))
			mend_holes(&R, ts, &ts->server, true);
	}
}

void reasm_finish(void)
{
	reasm_finish_as(END_CAPTURE_END);
}

void reasm_finish_as(enum end_reason why)
{
	struct session_table *t = R.cfg.sessions;
	reasm_flush_holes(t);
	while (t->head)
		reasm_end(&R, t->head->stream, why, &R.hdr.ts); /* oldest first */
	nids_exit();
	/* nids_init() drops its callback lists without freeing them: unregister, so
	   reasm_init() may run again (the fuzz harness does, once per input). */
	nids_unregister_tcp((void *)reasm_tcp);
	holdback_free(&R.hold); /* handshakes the capture never completed */
	struct ip6frag_stats fs = { 0 };
	ip6frag_free(R.ip6frag, &fs); /* datagrams the capture never completed count as dropped */
	R.ip6frag = NULL;
	R.stats.ipv6_fragments += fs.dropped;
	R.stats.ipv6_reassembled = fs.reassembled;
	R.stats.ipv6_overlaps = fs.overlaps;
	ipmap_free();
	if (R.dead)
		pcap_close(R.dead);
	R.dead = NULL;
}

void reasm_get_stats(struct reasm_stats *st)
{
	*st = R.stats;
	if (!R.ip6frag)
		return; /* after reasm_finish(): counted in R.stats */
	struct ip6frag_stats fs;
	ip6frag_get_stats(R.ip6frag, &fs);
	st->ipv6_fragments += fs.dropped;
	st->ipv6_reassembled = fs.reassembled;
	st->ipv6_overlaps = fs.overlaps;
}
