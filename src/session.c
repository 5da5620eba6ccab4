/*
 * session.c - the table of open sessions: each one's dissector (by port from
 * the registry, or by content with --detect) and output sink.
 *
 * Owns each session's envelope (flow), its dissector state and its output
 * sink, and the list of open sessions in the order they started, so the end
 * of a capture flushes them in a stable order. The only writer of struct
 * session and struct flow, with session_tls.c, which runs the layer beneath
 * the dissector (TLS or not): every byte and gap of a session goes through it.
 * It knows nothing of libnids.
 */
#include "session.h"

#include "community_id.h"
#include "session_tls.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

void session_table_init(struct session_table *t, struct output *out)
{
	memset(t, 0, sizeof(*t));
	t->out = out;
}

void session_table_count_drops(struct session_table *t,
			       uint64_t (*drops_between)(void *ctx, const struct timeval *from,
							 const struct timeval *to),
			       void *ctx)
{
	t->drops_between = drops_between;
	t->drops_ctx = ctx;
}

/* A stable id for the connection, within 2^51 so JSON readers in any language keep it. */
static uint64_t session_flow_id(const struct endpoint *c, const struct endpoint *s,
				const struct timeval *ts)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const uint8_t *parts[] = { c->addr, s->addr };
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 16; i++)
			h = (h ^ parts[k][i]) * 0x100000001b3ULL;
	h = (h ^ c->port) * 0x100000001b3ULL;
	h = (h ^ s->port) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)ts->tv_sec) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)ts->tv_usec) * 0x100000001b3ULL;
	h ^= h >> 29;
	return h & ((1ULL << 51) - 1);
}

_Static_assert(FLOW_COMMUNITY_ID_LEN == COMMUNITY_ID_LEN, "flow.h's copy of the id's length");

/* The Community ID (seed 0, TCP) of the connection, from its real addresses (IPv6 too). */
static void session_community_id(const struct endpoint *c, const struct endpoint *s, char *out)
{
	size_t len = c->family == AF_INET6 ? 16 : 4;
	community_id_v1(0, c->addr, s->addr, len, IPPROTO_TCP, c->port, s->port, out);
}

static void session_link(struct session_table *t, struct session *s)
{
	s->prev = t->tail;
	if (t->tail)
		t->tail->next = s;
	else
		t->head = s;
	t->tail = s;
	t->open++;
	t->opened_total++;
}

static void session_unlink(struct session_table *t, struct session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		t->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	else
		t->tail = s->prev;
	t->open--;
}

/* Gives the session its dissector and output sink; false when out of memory. */
static bool session_start(struct session *s, struct output *out, const struct dissector *d)
{
	s->d = d;
	s->info.handover = session_tls_handover;
	s->info.engine = s;
	s->flow.app_proto = d->name;
	s->sink = output_session_open(out, &s->flow);
	s->st = s->sink ? d->create(&s->info, s->sink) : NULL;
	if (!s->st) {
		output_session_close(s->sink);
		s->sink = NULL;
		return false;
	}
	return true;
}

static void session_replay(void *ctx, enum dir dir, const uint8_t *p, size_t n)
{
	session_tls_data(ctx, dir, p, n);
}

/* --detect: hold bytes until they prove POP3 or POP2, then replay them in order. */
static bool session_detect(struct session *s, enum dir dir, const uint8_t *buf, size_t len)
{
	const struct dissector *d = NULL;
	enum probe_verdict v = detect_feed(s->detect, dir, buf, len, &d);
	if (v == PROBE_MORE)
		return true;
	if (v == PROBE_NO || !session_start(s, s->out, d)) {
		free(s->detect);
		s->detect = NULL;
		return false;
	}
	session_tls_open(s, false); /* recognised by its cleartext greeting */
	detect_replay(s->detect, session_replay, s);
	free(s->detect);
	s->detect = NULL;
	return true;
}

/* --detect: the dissector comes later; until then the first bytes are held. */
static bool session_start_detect(struct session *s)
{
	s->detect = calloc(1, sizeof(*s->detect));
	return s->detect != NULL;
}

/*
 * An address as inet_ntop() writes it. IPv4, every session's case, without it:
 * glibc formats IPv4 through sprintf, 1,800 instructions an address, a tenth of
 * the capture thread on short sessions (docs/performance.md, Issue 20).
 */
static void session_addr_text(const struct endpoint *e, char *out, size_t size)
{
	if (e->family != AF_INET) {
		inet_ntop(e->family, e->addr, out, (socklen_t)size);
		return;
	}
	char *p = out;
	for (int i = 0; i < 4; i++) {
		unsigned v = e->addr[i];
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
}

struct session *session_open(struct session_table *t, const struct dissector *d,
			     const struct session_origin *o)
{
	struct session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	struct flow *f = &s->flow;
	f->flow_id = session_flow_id(&o->client, &o->server, &o->start);
	session_community_id(&o->client, &o->server, f->community_id);
	f->sensor = t->sensor;
	session_addr_text(&o->client, f->client_ip, sizeof(f->client_ip));
	session_addr_text(&o->server, f->server_ip, sizeof(f->server_ip));
	f->client_port = o->client.port;
	f->server_port = o->server.port;
	f->start = f->now = o->start;
	f->pcap_file = o->pcap_file;
	s->frame = t->frame;
	f->pcap_cnt = f->pcap_cnt_first = t->frame ? *t->frame : 0;
	f->partial = o->partial;
	s->info.client_port = o->client.port;
	s->info.server_port = o->server.port;
	s->info.partial = o->partial;
	s->stream = o->stream;
	s->table = t;
	bool started = d ? session_start(s, t->out, d) : session_start_detect(s);
	if (!started) {
		free(s);
		return NULL;
	}
	if (d)
		session_tls_open(s, true);
	s->out = t->out;
	session_link(t, s);
	if (t->on_open)
		t->on_open(t->watch_ctx, f);
	return s;
}

/* The frame being processed now is the session's latest (none at the end of the capture). */
static void session_frame(struct session *s)
{
	uint64_t n = s->frame ? *s->frame : 0;
	if (n)
		s->flow.pcap_cnt = n;
}

void session_touch(struct session *s, const struct timeval *now, const char *pcap_file)
{
	s->flow.now = *now;
	s->flow.pcap_file = pcap_file;
	session_frame(s);
}

void session_snaplen_cut(struct session *s)
{
	s->flow.snaplen_cut++;
}

/* One hole is one gap, however many pieces libnids hands its filler over in. */
void session_expect_filler(struct session *s, enum dir dir, size_t n)
{
	if (!s->filler[dir])
		s->flow.gaps++;
	s->filler[dir] += n;
}

/* Bytes the capture lost; the gap itself is counted where the hole is first known. */
static void session_lost(struct session *s, enum dir dir, size_t missing)
{
	s->flow.gap_bytes += missing;
	if (s->d)
		session_tls_gap(s, dir, missing);
}

bool session_data(struct session *s, enum dir dir, const uint8_t *buf, size_t len)
{
	if (s->filler[dir]) {
		/* The filler arrives first, in order: it stands for bytes the capture lost. */
		size_t k = len < s->filler[dir] ? len : s->filler[dir];
		s->filler[dir] -= k;
		session_lost(s, dir, k);
		buf += k;
		len -= k;
	}
	if (!len)
		return true;
	s->flow.bytes[dir] += len;
	if (s->detect)
		return session_detect(s, dir, buf, len);
	if (!s->d)
		return false; /* proved not POP: nothing more to read */
	session_tls_data(s, dir, buf, len);
	return true;
}

void session_gap(struct session *s, enum dir dir, size_t missing, const struct timeval *now)
{
	s->flow.now = *now;
	s->flow.gaps++;
	session_lost(s, dir, missing);
}

void session_close(struct session_table *t, struct session *s, enum end_reason why,
		   const struct timeval *now)
{
	s->flow.now = *now;
	s->flow.end_reason = why;
	if (why == END_FIN || why == END_RST)
		session_frame(s); /* the packet that ended it; an eviction's or a timeout's is not its own */
	if (t->drops_between) { /* before the session event, which reports it */
		s->flow.kernel_drops = t->drops_between(t->drops_ctx, &s->flow.start, now);
		s->flow.kernel_drops_known = true;
	}
	if (s->d) { /* a session --detect never recognised ends without events */
		session_tls_end(s);
		/* Stopped reading is, to a dissector, the capture's end: it knows nothing after. */
		s->d->end(s->st, why == END_INTERRUPTED ? END_CAPTURE_END : why);
		s->d->destroy(s->st);
		output_session_close(s->sink);
	}
	if (t->on_close)
		t->on_close(t->watch_ctx, &s->flow, s->d != NULL);
	free(s->detect);
	session_tls_free(s);
	session_unlink(t, s);
	free(s);
}
