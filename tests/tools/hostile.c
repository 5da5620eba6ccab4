/*
 * hostile.c - writes the hostile captures of issue 7 (tests/e2e/test_hostile.py
 * runs popsift on each): captures built to exhaust memory, time or parsers.
 * A test tool, built as build/hostile by `make tools`; tests/valgrind.sh uses it too.
 *
 * Every capture except the broken files holds, besides the hostile traffic,
 * one ordinary POP3 session ("the normal session": login, STAT, RETR of a known
 * message, DELE, QUIT) whose packets are spread through the hostile ones, so a
 * test can check that the rest of a capture survives. For each case CASE the
 * generator writes DIR/CASE.pcap (or .pcapng), DIR/CASE.json (what it holds:
 * the endpoints, the normal session's user and message) and, once,
 * DIR/normal-message.eml (that message exactly as a client receives it).
 *
 * Ethernet + IPv4 + TCP with window scaling, valid IP checksums (libnids checks
 * them), deterministic bytes and times (a fixed clock, a fixed PRNG seed).
 * Writes through libpcap's pcap_dump(); the pcapng case is written by hand,
 * since libpcap writes pcap only. The largest cases take a few seconds.
 *
 * Usage: hostile -d DIR [--list] [CASE...]   (no CASE: every case)
 *        hostile --measure FILE -- COMMAND [ARG...]
 * The second form runs COMMAND and writes "MAXRSS_KB EXIT_STATUS" to FILE: a
 * child's ru_maxrss counts the memory of the process it was forked from, so
 * the test measures popsift from this small parent, not from Python.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSS 1448
#define ACK_EVERY 32             /* a receiver ACKs every 32 segments (window 8 MB) */
#define WSCALE 7
#define HOSTILE_MB (100u << 20)  /* the "100 MB line" */
#define SYNS 1000000u
#define SESSIONS 100000u
#define PIPELINED 100000u
#define ENDLESS_BODY (40u << 20) /* a RETR body that never ends */
#define ENDLESS_LIST (8u << 20)  /* a LIST that never ends */
#define BIGNUM_SESSIONS 5000u    /* sessions naming message 100000, open at once */
#define HOLE_SESSIONS 200u       /* sessions with a 1 GiB hole each */
#define HOLE_BYTES (1u << 30)
#define V6_OVERLAPS 100000u      /* IPv6 datagrams of two overlapping fragments */
#define V6_ENDLESS 300000u       /* IPv6 fragments of datagrams that never complete */
#define V6_FRAG_BYTES 256u       /* each endless fragment's data */
#define FRAME_MAX (14 + 20 + 24 + 65536)
#define EPOCH 1767225600 /* 2026-01-01T00:00:00Z */

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "hostile: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* ---- output: pcap through libpcap, or pcapng by hand ---------------------- */

struct frame {
	uint8_t *p;
	size_t n;
};

struct out {
	pcap_t *dead;
	pcap_dumper_t *dump;
	FILE *ng;          /* pcapng output instead of pcap_dump */
	unsigned snaplen;
	uint64_t clock_us; /* advances 10 us per packet */
	uint64_t packets;
	/* The normal session: its frames, emitted one at a time between hostile ones. */
	struct frame *normal;
	size_t n_normal, next_normal;
	uint64_t every;   /* hostile packets between two normal ones */
	uint64_t hostile; /* hostile packets so far */
	bool recording;   /* frames go to `normal` instead of the file */
	uint64_t seed;    /* xorshift state for random bytes */
};

static struct out O;

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static void ng_block(uint32_t type, const void *body, size_t n)
{
	uint32_t len = (uint32_t)(12 + (n + 3) / 4 * 4);
	static const uint8_t pad[4];
	fwrite(&type, 4, 1, O.ng);
	fwrite(&len, 4, 1, O.ng);
	fwrite(body, 1, n, O.ng);
	fwrite(pad, 1, (4 - n % 4) % 4, O.ng);
	fwrite(&len, 4, 1, O.ng);
}

/* A block type no pcapng reader knows, with junk inside. */
static void ng_unknown_block(uint32_t type, size_t n)
{
	uint8_t body[256];
	for (size_t i = 0; i < n && i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 37 + 11);
	ng_block(type, body, n < sizeof(body) ? n : sizeof(body));
}

static void write_frame(const uint8_t *f, size_t n)
{
	O.clock_us += 10;
	O.packets++;
	if (O.ng) {
		/* Enhanced Packet Block, with an option of a code nobody defined. */
		uint8_t b[28 + FRAME_MAX + 16];
		uint32_t v[5] = { 0, (uint32_t)(O.clock_us >> 32), (uint32_t)O.clock_us, (uint32_t)n,
				  (uint32_t)n };
		memcpy(b, v, 20);
		memcpy(b + 20, f, n);
		size_t o = 20 + (n + 3) / 4 * 4;
		memset(b + 20 + n, 0, o - 20 - n);
		uint16_t opt[2] = { 0x7abc, 4 };
		memcpy(b + o, opt, 4);
		memcpy(b + o + 4, "junk", 4);
		memset(b + o + 8, 0, 4); /* opt_endofopt */
		ng_block(6, b, o + 12);
		if (O.packets % 7 == 0)
			ng_unknown_block(0x0000BAD0u + (uint32_t)(O.packets % 5), O.packets % 200);
		return;
	}
	struct pcap_pkthdr h;
	uint64_t t = (uint64_t)EPOCH * 1000000 + O.clock_us;
	h.ts.tv_sec = (time_t)(t / 1000000);
	h.ts.tv_usec = (suseconds_t)(t % 1000000);
	h.len = (bpf_u_int32)n;
	h.caplen = (bpf_u_int32)(n < O.snaplen ? n : O.snaplen);
	pcap_dump((u_char *)O.dump, &h, f);
}

/* The normal session's next packet, if one is due. */
static void normal_tick(bool force)
{
	if (O.next_normal >= O.n_normal)
		return;
	if (!force && (O.every == 0 || O.hostile % O.every != 0))
		return;
	struct frame *f = &O.normal[O.next_normal++];
	write_frame(f->p, f->n);
}

static void emit(const uint8_t *f, size_t n)
{
	if (O.recording) {
		O.normal = realloc(O.normal, (O.n_normal + 1) * sizeof(*O.normal));
		if (!O.normal)
			die("out of memory");
		O.normal[O.n_normal].p = xmalloc(n);
		memcpy(O.normal[O.n_normal].p, f, n);
		O.normal[O.n_normal++].n = n;
		return;
	}
	write_frame(f, n);
	O.hostile++;
	normal_tick(false);
}

static void out_open(const char *path, bool pcapng, unsigned snaplen)
{
	O.dead = NULL;
	O.dump = NULL;
	O.ng = NULL;
	O.snaplen = snaplen;
	O.clock_us = 0;
	O.packets = O.hostile = 0;
	O.next_normal = 0;
	O.every = 0;
	O.seed = 0x9e3779b97f4a7c15ULL;
	if (pcapng) {
		O.ng = fopen(path, "wb");
		if (!O.ng)
			die("%s: %s", path, strerror(errno));
		uint8_t shb[16];
		uint32_t bom = 0x1A2B3C4D;
		uint16_t ver[2] = { 1, 0 };
		int64_t len = -1;
		memcpy(shb, &bom, 4);
		memcpy(shb + 4, ver, 4);
		memcpy(shb + 8, &len, 8);
		ng_block(0x0A0D0D0A, shb, 16);
		ng_unknown_block(0x00000BAD, 40); /* before the interface is even described */
		uint8_t idb[8] = { 1, 0, 0, 0, 0, 0, 4, 0 }; /* LINKTYPE_ETHERNET, snaplen 262144 */
		ng_block(1, idb, 8);
		return;
	}
	O.dead = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	O.dump = O.dead ? pcap_dump_open(O.dead, path) : NULL;
	if (!O.dump)
		die("%s: cannot write: %s", path, O.dead ? pcap_geterr(O.dead) : "pcap_open_dead");
}

static void out_close(void)
{
	while (O.next_normal < O.n_normal)
		normal_tick(true);
	if (O.ng) {
		ng_unknown_block(0x40000BAD, 100);
		if (fclose(O.ng) != 0)
			die("write failed: %s", strerror(errno));
		O.ng = NULL;
	} else {
		pcap_dump_close(O.dump);
		pcap_close(O.dead);
		O.dump = NULL;
		O.dead = NULL;
	}
}

/* ---- TCP/IPv4/Ethernet ------------------------------------------------------ */

struct conn {
	uint32_t caddr, saddr; /* host order */
	uint16_t cport, sport;
	uint32_t seq[2];       /* next sequence number: [0] client, [1] server */
	unsigned unacked[2];   /* segments sent since the peer's last ACK */
};

enum { C2S = 0, S2C = 1 };
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void ip_checksum(uint8_t *ip)
{
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	put16(ip + 10, (uint16_t)~sum);
}

static uint8_t frame_buf[FRAME_MAX];

/* One segment from side `dir` of c; advances its sequence number. */
static void seg(struct conn *c, int dir, uint8_t flags, const void *payload, size_t n)
{
	uint8_t *f = frame_buf;
	size_t thl = flags & TH_SYN ? 24 : 20;
	memset(f, 0, 14 + 20 + thl);
	memcpy(f, dir == C2S ? "\x02\x00\x00\x00\x00\x02" : "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(f + 6, dir == C2S ? "\x02\x00\x00\x00\x00\x01" : "\x02\x00\x00\x00\x00\x02", 6);
	put16(f + 12, 0x0800);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + thl + n));
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = 6;
	put32(ip + 12, dir == C2S ? c->caddr : c->saddr);
	put32(ip + 16, dir == C2S ? c->saddr : c->caddr);
	ip_checksum(ip);
	uint8_t *t = ip + 20;
	put16(t, dir == C2S ? c->cport : c->sport);
	put16(t + 2, dir == C2S ? c->sport : c->cport);
	put32(t + 4, c->seq[dir]);
	put32(t + 8, flags & TH_ACK ? c->seq[!dir] : 0);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = flags;
	put16(t + 14, flags & TH_SYN ? 65535 : 65535); /* x 128 once scaled: 8 MB */
	if (flags & TH_SYN) {
		t[20] = 1, t[21] = 3, t[22] = 3, t[23] = WSCALE; /* NOP, window scale */
	}
	if (n)
		memcpy(t + thl, payload, n);
	c->seq[dir] += (uint32_t)n + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	emit(f, 14 + 20 + thl + n);
}

static void conn_init(struct conn *c, uint32_t caddr, uint16_t cport, uint32_t saddr,
		      uint16_t sport)
{
	memset(c, 0, sizeof(*c));
	c->caddr = caddr;
	c->saddr = saddr;
	c->cport = cport;
	c->sport = sport;
	c->seq[C2S] = 0x10000000u ^ (caddr * 2654435761u) ^ cport;
	c->seq[S2C] = 0x70000000u ^ (saddr * 2246822519u) ^ (uint32_t)cport << 8;
}

static void conn_open(struct conn *c)
{
	seg(c, C2S, TH_SYN, NULL, 0);
	seg(c, S2C, TH_SYN | TH_ACK, NULL, 0);
	seg(c, C2S, TH_ACK, NULL, 0);
}

/* n bytes from side dir, in MSS segments; the peer ACKs every ACK_EVERY and at the end. */
static void conn_send(struct conn *c, int dir, const void *data, size_t n)
{
	const uint8_t *p = data;
	while (n > 0) {
		size_t k = n < MSS ? n : MSS;
		seg(c, dir, TH_ACK | TH_PSH, p, k);
		p += k;
		n -= k;
		if (++c->unacked[dir] >= ACK_EVERY) {
			seg(c, !dir, TH_ACK, NULL, 0);
			c->unacked[dir] = 0;
		}
	}
	if (c->unacked[dir]) {
		seg(c, !dir, TH_ACK, NULL, 0);
		c->unacked[dir] = 0;
	}
}

static void conn_say(struct conn *c, int dir, const char *s)
{
	conn_send(c, dir, s, strlen(s));
}

/* A dialogue: turns[] alternate server, client, server, ..., up to a NULL. */
static void conn_talk(struct conn *c, const char *const *turns)
{
	for (int i = 0; turns[i]; i++)
		conn_say(c, i % 2 ? C2S : S2C, turns[i]);
}

/* A string literal that may hold NUL bytes. */
#define SAYB(c, dir, lit) conn_send((c), (dir), (lit), sizeof(lit) - 1)

static void conn_close(struct conn *c)
{
	seg(c, C2S, TH_FIN | TH_ACK, NULL, 0);
	seg(c, S2C, TH_ACK, NULL, 0);
	seg(c, S2C, TH_FIN | TH_ACK, NULL, 0);
	seg(c, C2S, TH_ACK, NULL, 0);
}

/* ---- the normal session -------------------------------------------------------- */

#define NORMAL_CLIENT 0x0a010001u /* 10.1.0.1 */
#define NORMAL_PORT 40001
#define SERVER 0xc0000201u        /* 192.0.2.1 */

static char normal_msg[4096];
static size_t normal_msg_len;

static void normal_message(void)
{
	static const char *const lines[] = {
		"Return-Path: <carol@example.org>",
		"From: Carol <carol@example.org>",
		"To: Alice <alice@example.org>",
		"Subject: quarterly figures",
		"Date: Thu, 01 Jan 2026 00:00:00 +0000",
		"Message-ID: <normal-1@example.org>",
		"",
		"Alice,",
		".a line that begins with a dot (stuffed on the wire)",
		"..and one with two",
		"",
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		n += (size_t)snprintf(normal_msg + n, sizeof(normal_msg) - n, "%s\r\n", lines[i]);
	for (int i = 0; n + 80 < 3000; i++)
		n += (size_t)snprintf(normal_msg + n, sizeof(normal_msg) - n,
				      "figure %04d: %08x the quick brown fox jumps over\r\n", i,
				      (unsigned)i * 2654435761u);
	normal_msg_len = n;
}

/* The message dot-stuffed, with its terminator, as a server sends it. */
static size_t normal_wire(char *out)
{
	size_t o = 0;
	bool bol = true;
	for (size_t i = 0; i < normal_msg_len; i++) {
		if (bol && normal_msg[i] == '.')
			out[o++] = '.';
		out[o++] = normal_msg[i];
		bol = normal_msg[i] == '\n';
	}
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

/* Records the normal session's frames; they are written spread through the hostile ones. */
static void normal_record(uint16_t port)
{
	for (size_t i = 0; i < O.n_normal; i++)
		free(O.normal[i].p);
	free(O.normal);
	O.normal = NULL;
	O.n_normal = O.next_normal = 0;
	O.recording = true;
	struct conn c;
	conn_init(&c, NORMAL_CLIENT, NORMAL_PORT, SERVER, port);
	conn_open(&c);
	static const char *const login[] = { "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
					     "USER alice\r\n", "+OK\r\n", "PASS wonderland\r\n",
					     "+OK maildrop has 1 message\r\n", NULL };
	conn_talk(&c, login);
	char line[128];
	snprintf(line, sizeof(line), "+OK 1 %zu\r\n", normal_msg_len);
	conn_say(&c, C2S, "STAT\r\n");
	conn_say(&c, S2C, line);
	conn_say(&c, C2S, "RETR 1\r\n");
	char wire[8192];
	size_t n = (size_t)snprintf(wire, sizeof(wire), "+OK %zu octets\r\n", normal_msg_len);
	n += normal_wire(wire + n);
	conn_send(&c, S2C, wire, n);
	conn_say(&c, C2S, "DELE 1\r\n");
	conn_say(&c, S2C, "+OK message 1 deleted\r\n");
	conn_say(&c, C2S, "QUIT\r\n");
	conn_say(&c, S2C, "+OK bye\r\n");
	conn_close(&c);
	O.recording = false;
}

/* Spreads the normal session's packets evenly over about `hostile` hostile packets. */
static void normal_spread(uint64_t hostile)
{
	O.every = hostile / (O.n_normal + 1);
	if (O.every == 0)
		O.every = 1;
}

/* ---- random bytes ------------------------------------------------------------- */

static uint64_t rnd(void)
{
	O.seed ^= O.seed << 13;
	O.seed ^= O.seed >> 7;
	O.seed ^= O.seed << 17;
	return O.seed;
}

static void rnd_fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rnd() >> 24);
}

/* ---- the cases -------------------------------------------------------------- */

struct manifest {
	FILE *f;
	bool first_hostile;
};

static void host_str(uint32_t a, uint16_t port, char *out, size_t n)
{
	snprintf(out, n, "%u.%u.%u.%u:%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, port);
}

static void manifest_hostile(struct manifest *m, const struct conn *c)
{
	char ep[64];
	host_str(c->caddr, c->cport, ep, sizeof(ep));
	fprintf(m->f, "%s\"%s\"", m->first_hostile ? "" : ", ", ep);
	m->first_hostile = false;
}

/* A session on port 110 whose client (or server) sends one 100 MB line. */
static void case_longline(struct manifest *m, int dir)
{
	struct conn c;
	conn_init(&c, 0x0a020001u, 50000, SERVER, 110);
	manifest_hostile(m, &c);
	normal_spread(HOSTILE_MB / MSS + HOSTILE_MB / MSS / ACK_EVERY + 16);
	conn_open(&c);
	if (dir == C2S)
		conn_say(&c, S2C, "+OK ready\r\n");
	uint8_t *buf = xmalloc(1 << 20);
	memset(buf, 'A', 1 << 20);
	memcpy(buf, dir == C2S ? "USER " : "+OK ", dir == C2S ? 5 : 4);
	for (unsigned i = 0; i < HOSTILE_MB >> 20; i++) {
		conn_send(&c, dir, buf, 1 << 20);
		memset(buf, 'A', 5);
	}
	free(buf);
	conn_close(&c);
}

static void case_longline_client(struct manifest *m)
{
	case_longline(m, C2S);
}

static void case_longline_server(struct manifest *m)
{
	case_longline(m, S2C);
}

/* 1,000,000 SYNs to port 110 that nobody answers, around a normal session. */
static void case_synflood(struct manifest *m)
{
	(void)m;
	normal_spread(SYNS);
	for (uint32_t i = 0; i < SYNS; i++) {
		struct conn c;
		conn_init(&c, 0x0a400000u + (i >> 10), (uint16_t)(1024 + (i & 1023)), SERVER, 110);
		seg(&c, C2S, TH_SYN, NULL, 0);
	}
}

/* 100,000 established sessions (greeted, then idle), all open at once. */
static void case_sessions(struct manifest *m)
{
	(void)m;
	O.every = 0; /* the normal session runs while all of them are open */
	for (uint32_t i = 0; i < SESSIONS; i++) {
		struct conn c;
		conn_init(&c, 0x0a800000u + (i >> 10), (uint16_t)(1024 + (i & 1023)), SERVER, 110);
		conn_open(&c);
		conn_say(&c, S2C, "+OK POP3 ready\r\n");
	}
	while (O.next_normal < O.n_normal)
		normal_tick(true);
	for (uint32_t i = 0; i < SESSIONS; i++) {
		struct conn c;
		conn_init(&c, 0x0a800000u + (i >> 10), (uint16_t)(1024 + (i & 1023)), SERVER, 110);
		c.seq[C2S] += 1;
		c.seq[S2C] += 1 + 16;
		conn_close(&c);
	}
}

/* Random bytes in both directions on port 110, from the first byte. */
static void case_random(struct manifest *m)
{
	struct conn c;
	conn_init(&c, 0x0a030001u, 50001, SERVER, 110);
	manifest_hostile(m, &c);
	size_t chunk = 64 * 1024, rounds = 32;
	normal_spread(rounds * 2 * (chunk / MSS + 3));
	uint8_t *buf = xmalloc(chunk);
	conn_open(&c);
	for (size_t i = 0; i < rounds; i++) {
		rnd_fill(buf, chunk);
		conn_send(&c, i & 1 ? C2S : S2C, buf, chunk);
		rnd_fill(buf, chunk);
		conn_send(&c, i & 1 ? S2C : C2S, buf, chunk);
	}
	free(buf);
	conn_close(&c);
}

/* A TLS record: type, version 3.3, length, random body. */
static void tls_record(struct conn *c, int dir, uint8_t type, size_t n)
{
	uint8_t *r = xmalloc(n + 5);
	r[0] = type;
	r[1] = 3;
	r[2] = type == 22 && dir == C2S ? 1 : 3;
	put16(r + 3, (uint16_t)n);
	rnd_fill(r + 5, n);
	if (type == 22)
		r[5] = dir == C2S ? 1 : 2; /* ClientHello / ServerHello */
	conn_send(c, dir, r, n + 5);
	free(r);
}

/* TLS from the first byte on port 110: no greeting, no STLS. */
static void case_tls(struct manifest *m)
{
	struct conn c;
	conn_init(&c, 0x0a040001u, 50002, SERVER, 110);
	manifest_hostile(m, &c);
	normal_spread(200);
	conn_open(&c);
	tls_record(&c, C2S, 22, 512);
	tls_record(&c, S2C, 22, 4000);
	tls_record(&c, C2S, 20, 1);
	tls_record(&c, S2C, 20, 1);
	for (int i = 0; i < 40; i++) {
		tls_record(&c, C2S, 23, 100);
		tls_record(&c, S2C, 23, 3000);
	}
	conn_close(&c);
}

/* 100,000 commands in one burst after a login, then their 100,000 replies. */
static void case_pipeline(struct manifest *m)
{
	struct conn c;
	conn_init(&c, 0x0a050001u, 50003, SERVER, 110);
	manifest_hostile(m, &c);
	static const char *const cmds[] = { "NOOP", "STAT", "LIST 1", "UIDL 1", "DELE 2", "RSET" };
	size_t cap = (size_t)PIPELINED * 16, n = 0, r = 0;
	char *burst = xmalloc(cap), *replies = xmalloc((size_t)PIPELINED * 24);
	for (uint32_t i = 0; i < PIPELINED; i++) {
		n += (size_t)snprintf(burst + n, cap - n, "%s\r\n", cmds[i % 6]);
		r += (size_t)snprintf(replies + r, (size_t)PIPELINED * 24 - r, "+OK %u\r\n", i);
	}
	normal_spread((n + r) / MSS + 64);
	conn_open(&c);
	static const char *const login[] = { "+OK ready\r\n", "CAPA\r\n",
					     "+OK\r\nPIPELINING\r\nUSER\r\n.\r\n",
					     "USER mallory\r\nPASS pipes\r\n", "+OK\r\n+OK logged in\r\n", NULL };
	conn_talk(&c, login);
	conn_send(&c, C2S, burst, n);
	conn_send(&c, S2C, replies, r);
	conn_say(&c, C2S, "QUIT\r\n");
	conn_say(&c, S2C, "+OK bye\r\n");
	conn_close(&c);
	free(burst);
	free(replies);
}

/* A RETR body and a LIST that never end: the connections just close. */
static void case_endless(struct manifest *m)
{
	struct conn a, b;
	conn_init(&a, 0x0a060001u, 50004, SERVER, 110);
	conn_init(&b, 0x0a060002u, 50005, SERVER, 110);
	manifest_hostile(m, &a);
	manifest_hostile(m, &b);
	normal_spread((ENDLESS_BODY + ENDLESS_LIST) / MSS);
	conn_open(&a);
	static const char *const retr[] = { "+OK ready\r\n", "USER eve\r\n", "+OK\r\n", "PASS endless\r\n",
					    "+OK\r\n", "RETR 1\r\n", "+OK 1000 octets\r\n", NULL };
	conn_talk(&a, retr);
	char *body = xmalloc(1 << 20);
	size_t n = 0;
	while (n + 64 < (1 << 20))
		n += (size_t)snprintf(body + n, (1 << 20) - n, "Lorem ipsum dolor sit amet %06zu\r\n", n);
	for (unsigned i = 0; i < ENDLESS_BODY >> 20; i++)
		conn_send(&a, S2C, body, n);
	conn_close(&a);
	conn_open(&b);
	static const char *const list[] = { "+OK ready\r\n", "USER eve\r\nPASS endless\r\n", "+OK\r\n+OK\r\n",
					    "LIST\r\n", "+OK scan listing follows\r\n", NULL };
	conn_talk(&b, list);
	n = 0;
	for (unsigned i = 1; n + 32 < (1 << 20); i++)
		n += (size_t)snprintf(body + n, (1 << 20) - n, "%u %u\r\n", i, i * 7);
	for (unsigned i = 0; i < ENDLESS_LIST >> 20; i++)
		conn_send(&b, S2C, body, n);
	conn_close(&b);
	free(body);
}

/*
 * Sessions, all open at once, that each name message 100000 (LIST n, UIDL n,
 * DELE n): memory must follow the messages named, not the largest number.
 */
static void case_bignumbers(struct manifest *m)
{
	(void)m;
	O.every = 0;
	static const char *const big[] = { "+OK ready\r\n", "USER bob\r\nPASS builder\r\n", "+OK\r\n+OK\r\n",
					   "LIST 100000\r\nUIDL 99999\r\nDELE 99998\r\n",
					   "+OK 100000 4096\r\n+OK 99999 uid-99999\r\n+OK deleted\r\n", NULL };
	struct conn c;
	for (uint32_t i = 0; i < BIGNUM_SESSIONS; i++) {
		conn_init(&c, 0x0a900000u + (i >> 10), (uint16_t)(1024 + (i & 1023)), SERVER, 110);
		conn_open(&c);
		conn_talk(&c, big);
	}
	while (O.next_normal < O.n_normal)
		normal_tick(true);
}

/*
 * Sessions whose client data jumps 1 GiB ahead of what was sent, acknowledged
 * by the server: a hole the capture "lost", which must cost a gap report, not
 * a gigabyte of filler each.
 */
static void case_holes(struct manifest *m)
{
	struct conn c;
	normal_spread(HOLE_SESSIONS * 12);
	for (uint32_t i = 0; i < HOLE_SESSIONS; i++) {
		conn_init(&c, 0x0aa00000u + i, 50100, SERVER, 110);
		if (i == 0)
			manifest_hostile(m, &c);
		conn_open(&c);
		conn_say(&c, S2C, "+OK ready\r\n");
		conn_say(&c, C2S, "USER a\r\n");
		conn_say(&c, S2C, "+OK\r\n");
		c.seq[C2S] += HOLE_BYTES; /* these bytes never reach the capture */
		conn_say(&c, C2S, "PASS b\r\n");
		conn_say(&c, S2C, "+OK\r\n");
		conn_close(&c);
	}
}

/* NUL, bytes above 0x7f and invalid UTF-8 in user names, passwords, greetings, headers. */
static void case_badbytes(struct manifest *m)
{
	static const char plain_ir[] = "AUTH PLAIN AHVz/2VyAHBhAHNzgA==\r\n"; /* \0us\xffer\0pa\0ss\x80 */
	struct conn c[4];
	for (int i = 0; i < 4; i++) {
		conn_init(&c[i], 0x0a070001u + (uint32_t)i, (uint16_t)(50010 + i), SERVER, 110);
		manifest_hostile(m, &c[i]);
	}
	normal_spread(60);
	conn_open(&c[0]);
	SAYB(&c[0], S2C, "+OK \xff\xfe ready\r\n");
	SAYB(&c[0], C2S, "USER al\0ice\xff\r\n");
	conn_say(&c[0], S2C, "+OK\r\n");
	SAYB(&c[0], C2S, "PASS se\x80" "cr\xc3\x28" "et\0x\r\n");
	conn_say(&c[0], S2C, "+OK welcome \xc3\x28\r\n");
	conn_say(&c[0], C2S, "QUIT\r\n");
	conn_say(&c[0], S2C, "+OK\r\n");
	conn_close(&c[0]);

	conn_open(&c[1]);
	SAYB(&c[1], S2C, "+OK POP3 \x80\x81 <12\0" "34.5@h\xc3\x28st>\r\n");
	SAYB(&c[1], C2S, "APOP b\xc3\x28ob\0 c4c9334bac560ecc979e58001b3e22fb\r\n");
	conn_say(&c[1], S2C, "-ERR \xed\xa0\x80 denied\r\n");
	conn_close(&c[1]);

	conn_open(&c[2]);
	conn_say(&c[2], S2C, "+OK ready\r\n");
	conn_say(&c[2], C2S, plain_ir);
	conn_say(&c[2], S2C, "+OK\r\n");
	conn_say(&c[2], C2S, "RETR 1\r\n");
	static const char msg[] =
		"+OK\r\n"
		"From: \xff\xfe\0 <a@b>\r\n"
		"To: \x80\x81\x82 <c@d>\r\n"
		"Subject: =?utf-8?B?/w==?= \xc3\x28 \0 =?iso-8859-1?Q?=FF=00?=\r\n"
		"Date: \xf4\x90\x80\x80 Thu, 01 Jan 2026\r\n"
		"Message-ID: <\xc0\xaf@x>\r\n"
		"\r\n"
		"body \0\xff\r\n"
		".\r\n";
	conn_send(&c[2], S2C, msg, sizeof(msg) - 1);
	conn_close(&c[2]);

	conn_open(&c[3]);
	static const char *const invalid[] = {
		"+OK ready\r\n", "USER \xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xf8\x88\x80\x80\x80\r\n", "+OK\r\n",
		"PASS \"\\\x01\x1f\x7f\r\n", "-ERR \x01\x02\r\n", NULL
	};
	conn_talk(&c[3], invalid);
	conn_close(&c[3]);
}

/* A capture cut off in the middle of its last packet. */
static void case_truncated(struct manifest *m)
{
	struct conn c;
	conn_init(&c, 0x0a080001u, 50020, SERVER, 110);
	manifest_hostile(m, &c);
	while (O.next_normal < O.n_normal)
		normal_tick(true);
	conn_open(&c);
	conn_say(&c, S2C, "+OK ready\r\n");
	char big[1400];
	memset(big, 'x', sizeof(big));
	conn_send(&c, C2S, big, sizeof(big)); /* the file is cut inside this one */
}

/* The normal session, then more, with a snapshot length of 64 bytes. */
static void case_snaplen(struct manifest *m)
{
	(void)m;
	while (O.next_normal < O.n_normal)
		normal_tick(true);
}

/* The normal session in a pcapng file full of blocks and options nobody defined. */
/* ---- IPv6 fragments ------------------------------------------------------------ */

/*
 * One IPv6 fragment, client 2001:db8:bad::<host> to server 2001:db8::110: a
 * Fragment header (id, offset in octets, more) and data[0..n).
 */
static void v6_fragment(uint32_t host, uint32_t id, size_t off, bool more, const uint8_t *data, size_t n)
{
	uint8_t *f = frame_buf;
	memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x86\xdd", 14);
	uint8_t *ip = f + 14;
	memset(ip, 0, 48);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(8 + n));
	ip[6] = 44; /* Fragment */
	ip[7] = 64;
	memcpy(ip + 8, "\x20\x01\x0d\xb8\x0b\xad", 6);
	put32(ip + 20, host);
	memcpy(ip + 24, "\x20\x01\x0d\xb8", 4);
	put16(ip + 38, 0x110);
	ip[40] = 6; /* TCP */
	put16(ip + 42, (uint16_t)(off | (more ? 1 : 0)));
	put32(ip + 44, id);
	memcpy(ip + 48, data, n);
	emit(f, 14 + 48 + n);
}

/* A TCP SYN to port 110 from 2001:db8:bad::<host>, into buf (24 octets: no option). */
static void v6_syn(uint8_t tcp[24], uint32_t i)
{
	memset(tcp, 0, 24);
	put16(tcp, (uint16_t)(1024 + i % 50000));
	put16(tcp + 2, 110);
	put32(tcp + 4, i * 2654435761u);
	tcp[12] = 5 << 4;
	tcp[13] = TH_SYN;
	put16(tcp + 14, 65535);
}

/*
 * The datagram that must come through: a SYN in two fragments, the first
 * sent twice (an exact duplicate is ignored). popsift then counts one
 * half-open connection.
 */
static void v6_good_syn(void)
{
	uint8_t tcp[24];
	v6_syn(tcp, 4242);
	v6_fragment(0xfeed, 0xfeedu, 0, true, tcp, 16);
	v6_fragment(0xfeed, 0xfeedu, 0, true, tcp, 16);
	v6_fragment(0xfeed, 0xfeedu, 16, false, tcp + 16, 4);
}

/*
 * 100,000 datagrams, each a TCP SYN to port 110 sent as two fragments that
 * overlap with different bytes (RFC 5722: the datagram must be discarded),
 * so none of these SYNs may reach the reassembler; one well-formed
 * fragmented SYN in the middle must.
 */
static void case_v6_overlap(struct manifest *m)
{
	(void)m;
	normal_spread(2 * V6_OVERLAPS);
	for (uint32_t i = 0; i < V6_OVERLAPS; i++) {
		uint8_t tcp[24];
		v6_syn(tcp, i);
		uint8_t other[16];
		rnd_fill(other, sizeof(other));
		v6_fragment(i % 1000, i, 0, true, tcp, 16);
		v6_fragment(i % 1000, i, 8, false, other, 16); /* octets 8..15 again, differently */
		if (i == V6_OVERLAPS / 2)
			v6_good_syn();
	}
}

/*
 * 300,000 fragments of datagrams that never complete: 64 in flight at once,
 * each given fragments at rising offsets past every bound (more than
 * IPv6's 65,535 octets, more fragments than a datagram may have), with an
 * exact duplicate every tenth, from 4,096 sources; one well-formed
 * fragmented SYN in the middle must still come through.
 */
static void case_v6_endless(struct manifest *m)
{
	(void)m;
	normal_spread(V6_ENDLESS);
	uint8_t data[V6_FRAG_BYTES];
	rnd_fill(data, sizeof(data));
	uint32_t off[64] = { 0 };
	for (uint32_t i = 0; i < V6_ENDLESS; i++) {
		uint32_t k = i % 64, id = 0x80000000u | (i / 64 / 300 * 64 + k);
		v6_fragment(id % 4096, id, off[k], true, data, sizeof(data));
		if (i % 10 == 9)
			v6_fragment(id % 4096, id, off[k], true, data, sizeof(data));
		off[k] = off[k] + V6_FRAG_BYTES > 0xfff8 ? 0 : off[k] + V6_FRAG_BYTES;
		if (i == V6_ENDLESS / 2)
			v6_good_syn();
	}
}

static void case_pcapng(struct manifest *m)
{
	(void)m;
	while (O.next_normal < O.n_normal)
		normal_tick(true);
}

enum kind { K_PCAP, K_PCAPNG, K_SNAP64, K_TRUNCATE, K_EMPTY, K_ZEROS };

static const struct hcase {
	const char *name;
	enum kind kind;
	void (*fn)(struct manifest *m);
	const char *what;
} cases[] = {
	{ "longline-client", K_PCAP, case_longline_client, "a 100 MB client line without a newline" },
	{ "longline-server", K_PCAP, case_longline_server, "a 100 MB server line without a newline" },
	{ "synflood", K_PCAP, case_synflood, "1,000,000 SYNs to port 110, never answered" },
	{ "sessions", K_PCAP, case_sessions, "100,000 established sessions open at once" },
	{ "random", K_PCAP, case_random, "random bytes both ways on port 110" },
	{ "tls", K_PCAP, case_tls, "a TLS stream on port 110 without STLS" },
	{ "pipeline", K_PCAP, case_pipeline, "100,000 pipelined commands in one burst" },
	{ "endless", K_PCAP, case_endless, "a RETR body and a LIST that never end" },
	{ "bignumbers", K_PCAP, case_bignumbers, "5,000 open sessions naming message 100000" },
	{ "holes", K_PCAP, case_holes, "200 sessions each skipping 1 GiB of sequence space" },
	{ "badbytes", K_PCAP, case_badbytes, "NUL, 8-bit and invalid UTF-8 in names, passwords, headers" },
	{ "truncated", K_TRUNCATE, case_truncated, "a capture cut inside its last packet" },
	{ "empty", K_EMPTY, NULL, "an empty file" },
	{ "zeros", K_ZEROS, NULL, "a file of 1 MB of zeros" },
	{ "snaplen64", K_SNAP64, case_snaplen, "a pcap with snapshot length 64" },
	{ "pcapng-unknown", K_PCAPNG, case_pcapng, "a pcapng with unknown blocks and options" },
	{ "ipv6-frag-overlap", K_PCAP, case_v6_overlap, "100,000 IPv6 datagrams of overlapping fragments" },
	{ "ipv6-frag-endless", K_PCAP, case_v6_endless, "300,000 IPv6 fragments of datagrams never complete" },
};

static void write_raw(const char *path, size_t n, uint8_t byte)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		die("%s: %s", path, strerror(errno));
	uint8_t buf[4096];
	memset(buf, byte, sizeof(buf));
	for (size_t i = 0; i < n; i += sizeof(buf))
		fwrite(buf, 1, n - i < sizeof(buf) ? n - i : sizeof(buf), f);
	if (fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
}

static void run_case(const char *dir, const struct hcase *hc)
{
	char path[4096], mpath[4096];
	const char *ext = hc->kind == K_PCAPNG ? "pcapng" : "pcap";
	snprintf(path, sizeof(path), "%s/%s.%s", dir, hc->name, ext);
	snprintf(mpath, sizeof(mpath), "%s/%s.json", dir, hc->name);
	struct manifest m = { fopen(mpath, "w"), true };
	if (!m.f)
		die("%s: %s", mpath, strerror(errno));
	char ep[64];
	host_str(NORMAL_CLIENT, NORMAL_PORT, ep, sizeof(ep));
	bool has_normal = hc->kind != K_EMPTY && hc->kind != K_ZEROS;
	fprintf(m.f, "{\"case\": \"%s\", \"what\": \"%s\", \"capture\": \"%s\", ", hc->name, hc->what,
		path);
	if (has_normal)
		fprintf(m.f, "\"normal\": {\"client\": \"%s\", \"user\": \"alice\", \"message_size\": %zu}, ",
			ep, normal_msg_len);
	fprintf(m.f, "\"hostile\": [");
	if (hc->kind == K_EMPTY || hc->kind == K_ZEROS) {
		write_raw(path, hc->kind == K_EMPTY ? 0 : 1 << 20, 0);
	} else {
		out_open(path, hc->kind == K_PCAPNG, hc->kind == K_SNAP64 ? 64 : 262144);
		normal_record(110);
		hc->fn(&m);
		out_close();
		if (hc->kind == K_TRUNCATE) {
			struct stat sb;
			if (stat(path, &sb) != 0 || truncate(path, sb.st_size - 700) != 0)
				die("%s: cannot truncate: %s", path, strerror(errno));
		}
	}
	fprintf(m.f, "], \"packets\": %llu}\n", (unsigned long long)O.packets);
	if (fclose(m.f) != 0)
		die("%s: %s", mpath, strerror(errno));
}

static void usage(FILE *fp)
{
	fprintf(fp, "usage: hostile -d DIR [--list] [CASE...]\n"
		    "Writes hostile captures (issue 7) into DIR, each with a normal POP3 session\n"
		    "spread through it; see tests/e2e/test_hostile.py. No CASE: all of them.\n");
}

/* --measure FILE -- COMMAND...: peak RSS and exit status of COMMAND, into FILE. */
static int measure(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--") != 0)
		die("usage: hostile --measure FILE -- COMMAND [ARG...]");
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[4], argv + 4);
		fprintf(stderr, "hostile: %s: %s\n", argv[4], strerror(errno));
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4: %s", strerror(errno));
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	FILE *f = fopen(argv[2], "w");
	if (!f || fprintf(f, "%ld %d\n", ru.ru_maxrss, code) < 0 || fclose(f) != 0)
		die("%s: %s", argv[2], strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--measure") == 0)
		return measure(argc, argv);
	static const struct option longopts[] = { { "dir", required_argument, NULL, 'd' },
						  { "list", no_argument, NULL, 'l' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	const char *dir = NULL;
	int ch;
	while ((ch = getopt_long(argc, argv, "d:lh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 'l':
			for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
				printf("%-16s %s\n", cases[i].name, cases[i].what);
			return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (!dir) {
		usage(stderr);
		return 1;
	}
	for (int a = optind; a < argc; a++) {
		bool known = false;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			known |= strcmp(argv[a], cases[i].name) == 0;
		if (!known)
			die("unknown case '%s' (see --list)", argv[a]);
	}
	normal_message();
	char path[4096];
	snprintf(path, sizeof(path), "%s/normal-message.eml", dir);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(normal_msg, 1, normal_msg_len, f) != normal_msg_len || fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool want = optind == argc;
		for (int a = optind; a < argc; a++)
			want |= strcmp(argv[a], cases[i].name) == 0;
		if (want)
			run_case(dir, &cases[i]);
	}
	return 0;
}
