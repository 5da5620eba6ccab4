/*
 * reasm.c - drives libnids from popsift's own packet loop (libnids-notes.md),
 * and mends what libnids loses.
 *
 * With nids_abi.h, the only file that sees libnids. libnids is initialised once on a
 * pcap_open_dead(DLT_RAW) handle, so it never opens an interface or a socket,
 * and fed IPv4 packets whose link layer popsift already stripped; sessions
 * therefore continue across consecutive capture files. Checksums are not
 * verified (loopback and offloaded captures carry wrong ones); libnids' syslog
 * and port-scan detection are replaced by counters.
 *
 * What libnids 1.26 drops, and what this file does about it:
 * - a connection whose handshake is not in the capture: a synthetic SYN,
 *   SYN-ACK and ACK derived from the first data packet (session `partial`);
 * - a hole (a segment the capture lost) stalls that direction for good: when
 *   the peer acknowledged past it, or data piles up behind it, or the capture
 *   ends, a filler segment closes the hole; its bytes reach the session as a
 *   gap, never as data;
 * - a new SYN on a 4-tuple still in the table is ignored: the old session is
 *   ended and its stream freed first (end_reason `port-reuse`);
 * - IPv6: translated to synthetic IPv4 (ipmap.c) and mapped back for events;
 * - its int byte counters overflow past 2 GiB: they are rebased in time;
 * - a full stream table evicts silently: counted, warned once.
 *
 * What this file relies on beyond libnids' public nids.h (its out-of-order
 * queue entry, its stream hash replaced by ours) is in nids_abi.h, proved
 * against the library loaded when reasm_init() runs.
 *
 * libnids' callbacks carry no user pointer, so this file keeps the engine's
 * state in statics: the one place in popsift with global mutable state.
 */
#include "reasm.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/socket.h>

#include "exitcode.h"
#include "ipmap.h"
#include "ipv4.h"
#include "nids_abi.h"

#define REASM_SNAPLEN 262144
#define FILL_CHUNK 32768            /* bytes per synthetic filler segment */
#define HOLE_QUEUE_LIMIT 32768      /* queued bytes behind a hole before we stop waiting */
#define FILL_SKIP_ABOVE (4 * FILL_CHUNK) /* a larger hole is jumped over, not filled */
#define HS_SLOTS_MIN 64            /* handshakes held back at once, at least ... */
#define HS_SLOTS_MAX (1u << 16)    /* ... and at most (about 11 MB) */
#define HS_PKT_MAX 80              /* a longer SYN or SYN-ACK (IP options, data) goes straight in */
#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)

/* A TCP segment's header fields, read once per packet. */
struct seg {
	struct tuple4 t; /* as sent: source is the sender */
	uint32_t seq, ack;
	uint8_t flags;
	size_t payload;
};

/*
 * A handshake libnids has not seen yet (see reasm_hold): the SYN and, once it
 * came, the SYN-ACK, as captured. libnids gets them only when a third packet
 * shows the connection is real, so half-open connections never take a slot in
 * its stream table, where they would evict established sessions (libnids
 * evicts the oldest stream, whatever its state).
 */
struct hs_slot {
	struct tuple4 t;  /* client -> server, as the SYN was sent */
	bool used;
	uint8_t syn_len, synack_len; /* synack_len 0: no SYN-ACK yet */
	uint32_t syn_seq, synack_seq;
	uint8_t syn[HS_PKT_MAX];
	uint8_t synack[HS_PKT_MAX];
};

static struct {
	struct reasm_config cfg;
	struct reasm_stats stats;
	struct pcap_pkthdr hdr; /* libnids keeps a pointer to it, even in nids_exit() */
	const char *pcap_file;
	pcap_t *dead;
	bool synthetic_handshake; /* the JUST_EST now being reported is ours */
	bool warned_full;
	uint64_t closes;    /* sessions ended so far: a stream looked up before may be gone */
	time_t last_tick;   /* reasm_tick: the second last seen */
	time_t next_expiry; /* reasm_expire: no session can be idle long enough before this */
	struct hs_slot *hs; /* handshakes held back: 2-way set-associative, hs_mask + 1 slots */
	uint32_t hs_mask;
	uint32_t hs_held;   /* slots in use: at the end, no walk over a table that is empty */
	uint8_t pkt[IPMAP_PACKET_MAX]; /* synthesised and translated packets */
} R;

static bool port_followed(uint16_t port)
{
	return R.cfg.port_map[port >> 3] & (1u << (port & 7));
}

/* libnids reports every anomaly here; sometimes with a NULL IP header. */
static void reasm_nids_syslog(int type, int err, struct ip *iph, void *data)
{
	(void)type;
	(void)err;
	(void)iph;
	(void)data;
	R.stats.nids_warnings++;
}

static void reasm_nids_nomem(char *where)
{
	fprintf(stderr, "popsift: out of memory in libnids (%s)\n", where ? where : "?");
	exit(EXIT_INTERNAL); /* libnids' no_mem hook must not return */
}

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
	bool followed = port_followed(ts->addr.dest);
	if (!followed && !R.cfg.detect)
		return;
	struct session_origin o = { .start = R.hdr.ts, .pcap_file = R.pcap_file,
				    .partial = R.synthetic_handshake, .stream = ts };
	reasm_endpoint(ts->addr.saddr, ts->addr.source, &o.client);
	reasm_endpoint(ts->addr.daddr, ts->addr.dest, &o.server);
	/* Not a followed port: --detect decides by content (dissector NULL until then). */
	struct session *s = session_open(R.cfg.sessions, followed ? dissector_for_port(ts->addr.dest) : NULL, &o);
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
	ts->user = NULL;
	R.stats.not_pop++;
	R.stats.tcp_streams--;
	session_close(R.cfg.sessions, s, END_NONE, &R.hdr.ts);
}

static void reasm_closed(struct tcp_stream *ts, struct session *s, enum end_reason why)
{
	R.closes++;
	ts->user = NULL;
	session_close(R.cfg.sessions, s, why, &R.hdr.ts);
}

static void reasm_evicted(struct tcp_stream *ts, struct session *s)
{
	R.stats.evicted++;
	if (!R.warned_full) {
		R.warned_full = true;
		fprintf(stderr, "popsift: warning: more than %u concurrent TCP streams: the oldest "
				"are ended early (end_reason \"evicted\"); raise --max-streams\n",
			R.cfg.max_streams);
	}
	reasm_closed(ts, s, END_EVICTED);
}

static void reasm_tcp(struct tcp_stream *ts, void **unused)
{
	(void)unused;
	struct session *s = ts->user;
	if (ts->nids_state == NIDS_JUST_EST) {
		reasm_established(ts);
		return;
	}
	if (!s)
		return;
	switch (ts->nids_state) {
	case NIDS_DATA: reasm_data(ts, s); break;
	case NIDS_CLOSE: reasm_closed(ts, s, END_FIN); break;
	case NIDS_RESET: reasm_closed(ts, s, END_RST); break;
	case NIDS_TIMED_OUT: reasm_evicted(ts, s); break;
	case NIDS_EXITING: reasm_closed(ts, s, END_CAPTURE_END); break;
	default: break;
	}
}

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

bool reasm_init(const struct reasm_config *cfg, char *err, size_t errlen)
{
	static struct nids_chksum_ctl no_checksums = { 0, 0, NIDS_DONT_CHKSUM, 0 };
	R.cfg = *cfg;
	R.last_tick = 0;
	R.next_expiry = 0;
	reasm_tune_malloc();
	nids_abi_seed_hash();
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
	struct reasm_stats before = R.stats;
	bool abi_ok = nids_abi_check(&R.hdr, err, errlen);
	R.stats = before; /* the check's packets are not the capture's */
	if (!abi_ok)
		return false;
	nids_register_tcp((void *)reasm_tcp); /* after nids_init(), which resets callbacks */
	ipmap_init();
	uint32_t slots = HS_SLOTS_MIN;
	while (slots < cfg->max_streams && slots < HS_SLOTS_MAX)
		slots *= 2;
	R.hs = calloc(slots, sizeof(*R.hs)); /* pages are touched only as handshakes arrive */
	if (!R.hs) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	R.hs_mask = slots - 1;
	return true;
}

static void reasm_feed(const uint8_t *ip, size_t len)
{
	R.hdr.caplen = R.hdr.len = (bpf_u_int32)len;
	R.stats.ip_packets++;
	nids_pcap_handler(NULL, &R.hdr, (u_char *)ip);
}

/* Builds and feeds one IPv4/TCP segment, its payload zeros (ipv4_tcp_segment). */
static void reasm_inject(const struct tuple4 *t, uint32_t seq, uint32_t ack, uint8_t flags,
			 size_t payload)
{
	struct segment g = { { t->saddr, t->daddr, t->source, t->dest }, seq, ack, flags, payload };
	reasm_feed(R.pkt, ipv4_tcp_segment(R.pkt, &g, NULL));
}

static struct tuple4 reasm_reverse(const struct tuple4 *t)
{
	return (struct tuple4){ t->dest, t->source, t->daddr, t->saddr };
}

/*
 * The first data packet of a connection libnids does not know: feed it the
 * handshake it missed, derived from this packet's sequence numbers, so the rest
 * of the connection is reassembled from here on (libnids-notes, "Mid-stream").
 */
static void reasm_pickup(const struct seg *g)
{
	bool from_client = port_followed(g->t.dest);
	struct tuple4 c = from_client ? g->t : reasm_reverse(&g->t);
	struct tuple4 s = reasm_reverse(&c);
	uint32_t cisn = from_client ? g->seq - 1 : g->ack - 1;
	uint32_t sisn = from_client ? g->ack - 1 : g->seq - 1;
	R.synthetic_handshake = true;
	reasm_inject(&c, cisn, 0, TCP_SYN, 0);
	reasm_inject(&s, sisn, cisn + 1, TCP_SYN | TCP_ACK, 0);
	reasm_inject(&c, cisn + 1, sisn + 1, TCP_ACK, 0);
	R.synthetic_handshake = false;
}

/*
 * libnids keys a stream by its client-to-server tuple: a segment from a
 * followed (server) port is looked up reversed first, so most segments cost
 * one hash lookup, not two.
 */
static struct tcp_stream *reasm_find(const struct tuple4 *t, bool *from_client)
{
	struct tuple4 as_is = *t, rev = reasm_reverse(t);
	bool to_server = !port_followed(t->source) || port_followed(t->dest);
	struct tcp_stream *ts = nids_find_tcp_stream(to_server ? &as_is : &rev);
	if (!ts)
		ts = nids_find_tcp_stream(to_server ? &rev : &as_is);
	*from_client = ts && ts->addr.source == t->source && ts->addr.saddr == t->saddr;
	return ts;
}

/* A new SYN where an old connection still stands: the old one is over. */
static void reasm_port_reuse(struct tcp_stream *ts)
{
	struct session *s = ts->user;
	R.closes++;
	if (s) {
		ts->user = NULL;
		session_close(R.cfg.sessions, s, END_REUSED, &R.hdr.ts);
	}
	R.stats.port_reuse++;
	nids_free_tcp_stream(ts);
}

/*
 * Closes the hole in half `h` (bytes sent by the peer half `snd`) up to
 * `upto`, with a filler segment whose bytes the session sees as a gap.
 * libnids drops a segment that ends before the receiver's last ACK or starts
 * beyond its window, so both are opened for the filler and restored after.
 */
static void reasm_fill(struct tcp_stream *ts, struct half_stream *h, uint32_t upto)
{
	struct half_stream *snd = h == &ts->client ? &ts->server : &ts->client;
	enum dir dir = h == &ts->server ? DIR_TO_SERVER : DIR_TO_CLIENT;
	struct tuple4 t = dir == DIR_TO_SERVER ? ts->addr : reasm_reverse(&ts->addr);
	struct session *s = ts->user;
	uint32_t expected = snd->first_data_seq + (uint32_t)h->count + (uint32_t)h->urg_count;
	if (s && SEQ_LT(expected, upto) && upto - expected > FILL_SKIP_ABOVE) {
		/*
		 * Filling costs time in proportion to the hole, and a crafted capture
		 * claims up to 2 GiB of hole per packet (a 250 KB capture took 10 s):
		 * jump over all but one filler's worth by moving libnids' origin, as
		 * reasm_rebase() does, and report the bytes jumped as a gap now.
		 */
		uint32_t skip = upto - expected - FILL_CHUNK;
		snd->first_data_seq += skip;
		R.stats.gap_bytes += skip;
		session_gap(s, dir, skip, &R.hdr.ts);
		expected += skip;
	}
	while (s && ts->user == s && SEQ_LT(expected, upto)) {
		uint32_t len = upto - expected < FILL_CHUNK ? upto - expected : FILL_CHUNK;
		u_int saved_ack = h->ack_seq, saved_scale = h->wscale;
		u_short saved_window = h->window;
		h->ack_seq = expected;
		h->window = 65535;
		h->wscale = 1 << 14;
		session_expect_filler(s, dir, len);
		R.stats.gap_bytes += len;
		reasm_inject(&t, expected, snd->ack_seq, TCP_ACK, len);
		if (ts->user != s)
			return; /* the filler released a FIN behind the hole: stream gone */
		h->ack_seq = SEQ_GT(saved_ack, h->ack_seq) ? saved_ack : h->ack_seq;
		h->window = saved_window;
		h->wscale = saved_scale;
		uint32_t now = snd->first_data_seq + (uint32_t)h->count + (uint32_t)h->urg_count;
		if (now == expected)
			return; /* libnids refused the filler: give up rather than loop */
		expected = now;
	}
}

/*
 * A hole stalls half h when data is queued behind it. It is real (the capture
 * lost it, no retransmission will come) once the receiver acknowledged past
 * it; and waiting any longer would cost data once the queue grows (libnids
 * drops a queue over 64 KB). With `at_end` nothing more will come: fill anyway.
 */
static void reasm_check_hole(struct tcp_stream *ts, struct half_stream *h, bool at_end)
{
	struct half_stream *snd = h == &ts->client ? &ts->server : &ts->client;
	for (int guard = 0; guard < 1024 && ts->user && h->list; guard++) {
		uint32_t expected = snd->first_data_seq + (uint32_t)h->count + (uint32_t)h->urg_count;
		uint32_t next = h->list->seq;
		bool acked = SEQ_GT(h->ack_seq, expected);
		if (!at_end && !acked && h->rmem_alloc < HOLE_QUEUE_LIMIT)
			return;
		if (!SEQ_GT(next, expected))
			return;
		reasm_fill(ts, h, next);
		if (ts->user && h->list && h->list->seq == next &&
		    snd->first_data_seq + (uint32_t)h->count + (uint32_t)h->urg_count == expected)
			return; /* no progress */
	}
}

/*
 * libnids counts bytes in ints. Long before they overflow, move the origin:
 * the unconsumed bytes and the next expected sequence number stay the same.
 */
static void reasm_rebase(struct half_stream *h, struct half_stream *snd)
{
	if (h->count < R.cfg.rebase_at || h->offset <= 0)
		return;
	int k = h->offset;
	h->count -= k;
	h->offset = 0;
	snd->first_data_seq += (u_int)k;
	R.stats.rebased++;
}

/* ---- handshakes held back (struct hs_slot) ------------------------------ */

static uint32_t hs_hash(const struct tuple4 *t)
{
	uint64_t h = ((uint64_t)t->saddr << 32 | t->daddr) * 0x9e3779b97f4a7c15ULL;
	h ^= ((uint64_t)t->source << 16 | t->dest) * 0xc2b2ae3d27d4eb4fULL;
	return (uint32_t)(h >> 32 ^ h);
}

static bool hs_same(const struct tuple4 *a, const struct tuple4 *b)
{
	return a->saddr == b->saddr && a->daddr == b->daddr && a->source == b->source &&
	       a->dest == b->dest;
}

/* The slot holding client -> server tuple t, or NULL. */
static struct hs_slot *hs_find(const struct tuple4 *t)
{
	uint32_t i = hs_hash(t) & R.hs_mask;
	for (uint32_t k = 0; k < 2; k++) {
		struct hs_slot *s = &R.hs[(i ^ k) & R.hs_mask];
		if (s->used && hs_same(&s->t, t))
			return s;
	}
	return NULL;
}

/* A slot for a new handshake: a free one, else one still without SYN-ACK. */
static struct hs_slot *hs_victim(const struct tuple4 *t)
{
	uint32_t i = hs_hash(t) & R.hs_mask;
	struct hs_slot *a = &R.hs[i], *b = &R.hs[(i ^ 1) & R.hs_mask];
	if (!a->used)
		return a;
	if (!b->used)
		return b;
	return a->synack_len && !b->synack_len ? b : a;
}

static void hs_free(struct hs_slot *s)
{
	s->used = false;
	R.hs_held--;
}

static void hs_drop(struct hs_slot *s)
{
	hs_free(s);
	R.stats.half_open++;
}

/*
 * Holds back a SYN, or the SYN-ACK answering a held SYN, of a connection
 * libnids does not know. Returns true when the packet was kept (not to be fed
 * now). A SYN or SYN-ACK that does not fit a slot is fed at once, as is any
 * SYN-ACK without its SYN (libnids ignores it).
 */
static bool reasm_hold(const struct seg *g, const uint8_t *ip, size_t len)
{
	uint8_t f = g->flags & (TCP_SYN | TCP_ACK | TCP_RST);
	if (f == TCP_SYN) {
		if (len > HS_PKT_MAX || g->payload)
			return false;
		struct hs_slot *s = hs_find(&g->t);
		if (s && s->syn_seq == g->seq)
			return true; /* a retransmission: keep what was held (its SYN-ACK too) */
		if (!s) {
			s = hs_victim(&g->t);
			if (s->used)
				hs_drop(s); /* a handshake that shares the set gives way */
		}
		*s = (struct hs_slot){ .t = g->t, .used = true, .syn_len = (uint8_t)len,
				       .syn_seq = g->seq };
		R.hs_held++;
		memcpy(s->syn, ip, len);
		return true;
	}
	if (f != (TCP_SYN | TCP_ACK))
		return false;
	struct tuple4 c = reasm_reverse(&g->t);
	struct hs_slot *s = hs_find(&c);
	if (!s || g->ack != s->syn_seq + 1)
		return false; /* not an answer to the SYN held: libnids ignores it too */
	if (len > HS_PKT_MAX || g->payload) {
		reasm_feed(s->syn, s->syn_len); /* too big to hold: libnids takes both now */
		hs_free(s);
		return false;
	}
	s->synack_len = (uint8_t)len;
	s->synack_seq = g->seq;
	memcpy(s->synack, ip, len);
	return true;
}

/*
 * Any other packet of a connection libnids does not know ends the wait: with
 * a SYN-ACK held, libnids gets the SYN, the SYN-ACK and (unless this packet is
 * the client's ACK of it) the ACK the capture lost, so the session starts as
 * a complete one. A reset ends a handshake; a SYN never answered is forgotten
 * (this packet is then picked up mid-stream). Returns true when a stream now exists.
 */
static bool reasm_release(const struct seg *g)
{
	bool from_client = true;
	struct hs_slot *s = hs_find(&g->t);
	if (!s) {
		struct tuple4 c = reasm_reverse(&g->t);
		s = hs_find(&c);
		from_client = false;
	}
	if (!s)
		return false;
	if ((g->flags & TCP_RST) || !s->synack_len) {
		hs_drop(s);
		return false;
	}
	hs_free(s);
	reasm_feed(s->syn, s->syn_len);
	reasm_feed(s->synack, s->synack_len);
	if (!(from_client && (g->flags & TCP_ACK) && g->ack == s->synack_seq + 1))
		reasm_inject(&s->t, s->syn_seq + 1, s->synack_seq + 1, TCP_ACK, 0);
	return true;
}

/*
 * Before libnids sees a segment: port reuse, handshakes held back, mid-stream
 * pickup, counter rebase. Returns true when the segment is held (not to be fed).
 * *known: the segment's stream, for reasm_after(), or NULL.
 */
static bool reasm_before(const struct seg *g, const uint8_t *ip, size_t len,
			 struct tcp_stream **known)
{
	bool from_client;
	struct tcp_stream *ts = reasm_find(&g->t, &from_client);
	bool syn_only = (g->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
	if (ts && syn_only && ts->client.first_data_seq != g->seq + 1) {
		reasm_port_reuse(ts);
		ts = NULL;
	}
	if (!ts && reasm_hold(g, ip, len))
		return true;
	if (!ts && reasm_release(g))
		ts = reasm_find(&g->t, &from_client);
	if (!ts && g->payload && !(g->flags & (TCP_SYN | TCP_RST)) &&
		 (port_followed(g->t.dest) || port_followed(g->t.source)))
		reasm_pickup(g); /* --detect picks up no unknown port mid-stream: no sure direction */
	else if (ts && ts->user) {
		reasm_rebase(&ts->server, &ts->client);
		reasm_rebase(&ts->client, &ts->server);
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

/*
 * After libnids took a segment: a hole it now waits on may need closing. `ts`
 * is what reasm_before() found: still valid unless a session ended meanwhile
 * (libnids frees a stream only after its close callback), else looked up again.
 */
static void reasm_after(const struct seg *g, struct tcp_stream *ts, uint64_t closes)
{
	bool from_client;
	if (!ts || R.closes != closes)
		ts = reasm_find(&g->t, &from_client);
	if (!ts || !ts->user)
		return;
	/* Nearly always nothing waits behind a hole: test that before the call. */
	if (ts->client.list)
		reasm_check_hole(ts, &ts->client, false);
	if (ts->user && ts->server.list)
		reasm_check_hole(ts, &ts->server, false);
	if (ts->user) {
		reasm_trim(&ts->client);
		reasm_trim(&ts->server);
	}
}

/*
 * libnids' ip_fragment.c reads the 8 bytes after a fragment's IP header even
 * when the fragment is shorter (a last fragment may legitimately carry fewer):
 * such a fragment is fed from a zero-padded copy, so the over-read stays in
 * our buffer and nothing is lost. A fragment cut short by the capture is dropped.
 */
static void reasm_fragment(const uint8_t *ip, size_t caplen, size_t total, size_t ihl)
{
	if (total > caplen) {
		R.stats.short_fragments++;
		return;
	}
	if (total >= ihl + 8) {
		reasm_feed(ip, caplen);
		return;
	}
	static uint8_t padded[64 + 16];
	if (total > 64) {
		R.stats.short_fragments++;
		return;
	}
	memset(padded, 0, sizeof(padded));
	memcpy(padded, ip, total);
	reasm_feed(padded, total);
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
			     struct seg *g)
{
	struct segment sg;
	cur_limit(c, caplen - 20);
	cur_skip(c, h->ihl - 20); /* IP options */
	if (!tcp_read(c, &sg))
		return false;
	g->t = (struct tuple4){ sg.t.sport, sg.t.dport, h->saddr, h->daddr };
	g->seq = sg.seq;
	g->ack = sg.ack;
	g->flags = sg.flags;
	g->payload = cur_left(c);
	return true;
}

/*
 * Feeds libnids what it needs: TCP to or from a followed port, and every
 * fragment (whose ports are unknown until reassembly). Fragments too short to
 * hold their headers are padded (reasm_fragment).
 */
void reasm_ipv4(const struct timeval *ts, const uint8_t *ip, size_t caplen, const char *pcap_file)
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
		reasm_fragment(ip, caplen, h.total, h.ihl);
		return;
	}
	struct seg g;
	if (!reasm_tcp_header(&c, &h, caplen, &g) ||
	    (!R.cfg.detect && !port_followed(g.t.source) && !port_followed(g.t.dest))) {
		R.stats.skipped++;
		return;
	}
	uint64_t closes = R.closes;
	struct tcp_stream *known = NULL;
	if (reasm_before(&g, ip, caplen, &known))
		return;
	reasm_feed(ip, caplen);
	reasm_after(&g, known, closes);
}

void reasm_ipv6(const struct timeval *ts, const uint8_t *ip6, size_t caplen, const char *pcap_file)
{
	size_t len;
	switch (ipmap_v6_to_v4(ip6, caplen, R.pkt, &len)) {
	case IPMAP_OK: break;
	case IPMAP_FRAGMENT: R.stats.ipv6_fragments++; return;
	case IPMAP_FULL: R.stats.ipv6_unmapped++; return;
	default: R.stats.skipped++; return;
	}
	/* R.pkt is reused by the synthetic segments: translate into a buffer of our own. */
	static uint8_t v4[IPMAP_PACKET_MAX];
	memcpy(v4, R.pkt, len);
	R.stats.ipv6++;
	reasm_ipv4(ts, v4, len, pcap_file);
}

/*
 * Ends sessions silent for `idle` seconds (libnids has no idle timeout of its
 * own): their events are written now, not when the capture ends, and the
 * stream's memory is returned. Called between packets, never from a callback.
 */
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
		if (s->flow.now.tv_sec + (time_t)idle > now) {
			if (s->flow.now.tv_sec + (time_t)idle < R.next_expiry)
				R.next_expiry = s->flow.now.tv_sec + (time_t)idle;
			continue;
		}
		struct tcp_stream *ts = s->stream;
		ts->user = NULL;
		session_close(t, s, END_TIMEOUT, &at);
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

void reasm_finish(void)
{
	struct session_table *t = R.cfg.sessions;
	/* Data queued behind a hole is real: deliver it before ending. */
	for (struct session *s = t->head, *next; s; s = next) {
		next = s->next;
		struct tcp_stream *ts = s->stream;
		reasm_check_hole(ts, &ts->client, true);
		if (ts->user)
			reasm_check_hole(ts, &ts->server, true);
	}
	while (t->head) { /* oldest first */
		((struct tcp_stream *)t->head->stream)->user = NULL;
		session_close(t, t->head, END_CAPTURE_END, &R.hdr.ts);
	}
	nids_exit();
	/* nids_init() drops its callback lists without freeing them: unregister, so
	   reasm_init() may run again (the fuzz harness does, once per input). */
	nids_unregister_tcp((void *)reasm_tcp);
	for (uint32_t i = 0; R.hs && R.hs_held && i <= R.hs_mask; i++)
		if (R.hs[i].used)
			hs_drop(&R.hs[i]); /* handshakes the capture never completed */
	free(R.hs);
	R.hs = NULL;
	R.hs_held = 0;
	ipmap_free();
	if (R.dead)
		pcap_close(R.dead);
	R.dead = NULL;
}

void reasm_get_stats(struct reasm_stats *st)
{
	*st = R.stats;
}
