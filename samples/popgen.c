/*
 * popgen.c - generator of synthetic, deterministic POP3 captures for popsift.
 *
 * Owns: the whole sample generator: command line, a seeded PRNG, a precomputed text corpus that
 * message bodies are sliced from, the per-session POP3 script (greeting, CAPA, USER/PASS, APOP,
 * AUTH PLAIN, STAT, LIST, UIDL, RETR, TOP, DELE, QUIT), the TCP conversation around it (handshake,
 * seq/ack, delayed ACKs, MSS segmentation, teardown), the IPv4/IPv6 and link-layer framing, and the
 * ground-truth manifest (TSV) that tests compare popsift's output against.
 *
 * Must not know: anything about popsift itself (no project headers). It only writes what a wire
 * would carry, through libpcap's pcap_open_dead() + pcap_dump(); no sockets are opened.
 *
 * Implements, as a sender: RFC 1939 (POP3, dot-stuffing), RFC 2449 (CAPA, PIPELINING, resp codes),
 * RFC 5034 + RFC 4616 (AUTH PLAIN with initial response), RFC 9293 + RFC 7323 (TCP, MSS, window
 * scale, timestamps), RFC 791 (IPv4, fragments), RFC 8200 (IPv6, hop-by-hop and fragment headers),
 * RFC 1071 (Internet checksum).
 *
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -o popgen samples/popgen.c -lpcap -lcrypto
 * Usage: see --help and samples/popgen.md.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define PG_EPOCH_SEC 1767225600u    /* 2026-01-01T00:00:00Z: time zero of the packet clock */
#define PG_SNAPLEN 262144
#define PG_HEADROOM 128             /* room for link + IP headers in front of the TCP header */
#define PG_TCP_HDR_MAX 60
#define PG_MSS_MAX 65000
#define PG_MAX_MSGS 8               /* messages per mailbox */
#define PG_MAX_CMDS 64              /* commands per session script */
#define PG_MAX_PUSH 64              /* forced segment boundaries per turn */
#define PG_MAX_ATT 3                /* login attempts per session */
#define PG_MAX_RECS (2 * PG_MAX_MSGS) /* RETR/TOP records per session */
#define PG_HOSTS 4096               /* client hosts; ports are allocated per host */
#define PG_CORPUS_MIN (8u << 20)     /* corpus = msg_max + this: room for varied slices */
#define PG_MSG_MAX_LIMIT (1u << 30)
#define PG_WIN_SYN 64240
#define PG_WIN 502                  /* x 128 (window scale 7) = 64256 */
#define PG_WSCALE 7
#define PG_OUT_BUFSZ (8u << 20)

#define PG_TH_FIN 0x01
#define PG_TH_SYN 0x02
#define PG_TH_RST 0x04
#define PG_TH_PSH 0x08
#define PG_TH_ACK 0x10

enum pg_dir { PG_C2S = 0, PG_S2C = 1 };

enum pg_link { PG_LINK_ETH, PG_LINK_VLAN, PG_LINK_QINQ, PG_LINK_SLL, PG_LINK_SLL2, PG_LINK_NULL,
               PG_LINK_RAW, PG_LINK_COUNT };
static const char *const pg_link_names[] = { "eth", "vlan", "qinq", "sll", "sll2", "null", "raw" };
static const size_t pg_link_hdr_len[] = { 14, 18, 22, 16, 20, 4, 0 };
static const int pg_link_dlt[] = { DLT_EN10MB, DLT_EN10MB, DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
                                   DLT_NULL, DLT_RAW };
_Static_assert(ARRAY_LEN(pg_link_names) == PG_LINK_COUNT, "link names");
_Static_assert(ARRAY_LEN(pg_link_hdr_len) == PG_LINK_COUNT, "link lengths");
_Static_assert(ARRAY_LEN(pg_link_dlt) == PG_LINK_COUNT, "link DLTs");

enum pg_reuse { PG_REUSE_OFF, PG_REUSE_FIN, PG_REUSE_NOFIN, PG_REUSE_RST, PG_REUSE_MIXED,
                PG_REUSE_COUNT };
static const char *const pg_reuse_names[] = { "off", "fin", "nofin", "rst", "mixed" };
_Static_assert(ARRAY_LEN(pg_reuse_names) == PG_REUSE_COUNT, "reuse names");

enum pg_dist { PG_DIST_LOG, PG_DIST_UNIFORM };

struct pg_opts {
	const char *out_path;
	const char *manifest_path;
	uint64_t seed;
	uint64_t sessions;
	uint64_t size_limit;
	uint64_t msg_min;
	uint64_t msg_max;
	uint64_t drop_every;
	unsigned concurrency;
	unsigned short_pct;   /* --short-pct: share of sessions planned as --short ones */
	unsigned mss;
	uint16_t port;
	enum pg_link link;
	enum pg_reuse reuse;
	enum pg_dist dist;
	bool short_mode;
	bool ipv6;
	bool ipv6_ext;
	bool midstream;
	bool fragment;
	bool bad_csum;
};

/* ------------------------------------------------------------------------------------------ */
/* Errors, memory, growable buffers                                                            */
/* ------------------------------------------------------------------------------------------ */

static void pg_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Prints "popgen: <message>" to stderr and exits with status 1. Never returns. */
static void pg_die(const char *fmt, ...)
{
	va_list ap;

	fputs("popgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* realloc() that dies instead of returning NULL. */
static void *pg_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		pg_die("out of memory (%zu bytes)", n);
	return q;
}

struct pg_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

/* Makes room for at least `extra` more bytes after b->len (doubling growth). */
static void pg_buf_need(struct pg_buf *b, size_t extra)
{
	size_t cap;

	if (extra <= b->cap - b->len)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < extra)
		cap *= 2;
	b->p = pg_xrealloc(b->p, cap);
	b->cap = cap;
}

static void pg_buf_add(struct pg_buf *b, const void *src, size_t n)
{
	pg_buf_need(b, n);
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void pg_buf_str(struct pg_buf *b, const char *s)
{
	pg_buf_add(b, s, strlen(s));
}

/* Appends printf-formatted text; formats once in the common case (output under 256 bytes). */
static void __attribute__((format(printf, 2, 3))) pg_buf_fmt(struct pg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	pg_buf_need(b, 256);
	va_start(ap, fmt);
	n = vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		pg_die("formatting failed");
	if ((size_t)n >= b->cap - b->len) {
		pg_buf_need(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf((char *)b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static inline void pg_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void pg_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ------------------------------------------------------------------------------------------ */
/* PRNG: splitmix64 (one 64-bit state, good enough statistics, trivially seedable)            */
/* ------------------------------------------------------------------------------------------ */

struct pg_rng {
	uint64_t s;
};

/* splitmix64's output function: a bijective 64-bit mixer. */
static uint64_t pg_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t pg_rng_next(struct pg_rng *r)
{
	return pg_mix64(r->s += 0x9e3779b97f4a7c15ULL);
}

/* Seeds a stream from (seed, stream id). Both are mixed before they are combined, so stream k+1
 * is not stream k shifted by one step (which a plain seed + k * increment would give). */
static void pg_rng_seed(struct pg_rng *r, uint64_t seed, uint64_t stream)
{
	r->s = pg_mix64(seed + 0x2545f4914f6cdd1dULL) ^ pg_mix64(~stream * 0xd1342543de82ef95ULL);
}

/* Uniform in [0, n); n == 0 returns 0. */
static uint64_t pg_rng_below(struct pg_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)pg_rng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi] (inclusive). */
static uint64_t pg_rng_range(struct pg_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + pg_rng_below(r, hi - lo + 1);
}

static bool pg_rng_pct(struct pg_rng *r, unsigned pct)
{
	return pg_rng_below(r, 100) < pct;
}

/* ------------------------------------------------------------------------------------------ */
/* Crypto and encoding helpers (OpenSSL EVP)                                                   */
/* ------------------------------------------------------------------------------------------ */

/* SHA-256 over two concatenated spans (header + body slice) into out[32]. */
static void pg_sha256(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) || !EVP_DigestUpdate(ctx, a, alen) ||
	    !EVP_DigestUpdate(ctx, b, blen) || !EVP_DigestFinal_ex(ctx, out, &n))
		pg_die("OpenSSL SHA-256 failed");
	EVP_MD_CTX_free(ctx);
}

static void pg_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* APOP digest: 32 lowercase hex digits of MD5(timestamp || secret) into out[33]. */
static void pg_apop_digest(const char *ts, const char *secret, char out[33])
{
	char buf[256];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int len = snprintf(buf, sizeof buf, "%s%s", ts, secret);

	if (len < 0 || (size_t)len >= sizeof buf)
		pg_die("APOP input too long");
	if (!EVP_Digest(buf, (size_t)len, md, &n, EVP_md5(), NULL) || n != 16)
		pg_die("OpenSSL MD5 failed (is the default provider available?)");
	pg_hex(md, 16, out);
}

/* Standard base64 with padding; out must hold 4 * ceil(n / 3) + 1 bytes. */
static void pg_base64(const uint8_t *in, size_t n, char *out)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tbl[v & 63] : '=';
	}
	out[o] = '\0';
}

/* ------------------------------------------------------------------------------------------ */
/* Corpus: one precomputed block of RFC 822-ish body text that message bodies are sliced from  */
/* ------------------------------------------------------------------------------------------ */

/*
 * Bodies are stored unstuffed. lines[] holds every line start (plus a sentinel = len) and dots[]
 * the start of every line beginning with '.', so a slice is stuffed with one memcpy per dot line
 * and hashed with one digest update: no per-byte work per message.
 */
struct pg_corpus {
	uint8_t *text;
	size_t len;
	uint32_t *lines;
	size_t nlines;
	uint32_t *dots;
	size_t ndots;
};

static const char *const pg_words[] = {
	"the", "mail", "server", "meeting", "report", "attached", "please", "review", "budget",
	"quarter", "project", "deadline", "thanks", "regards", "tomorrow", "schedule", "invoice",
	"update", "team", "office", "client", "draft", "version", "final", "notes", "agenda",
	"call", "monday", "friday", "week", "customer", "order", "shipping", "delivery", "account",
	"password", "reset", "link", "click", "here", "unsubscribe", "newsletter", "offer", "price",
	"a", "an", "and", "or", "to", "of", "in", "for", "on", "with", "is", "was", "be", "we",
	"you", "it", "this", "that", "will", "can", "have", "not", "are", "our", "your", "from",
};
static const char *const pg_utf8_words[] = {
	"f\xc3\xbcr", "na\xc3\xafve", "Gr\xc3\xbc\xc3\x9f" "e", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac",
	"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82", "\xe2\x82\xac" "100", "se\xc3\xb1or",
};

/* Appends words separated by spaces until at least `target` bytes, then CRLF. */
static void pg_corpus_words(struct pg_buf *b, struct pg_rng *r, size_t target, bool utf8)
{
	size_t start = b->len;

	while (b->len - start < target) {
		const char *w = pg_words[pg_rng_below(r, ARRAY_LEN(pg_words))];
		if (utf8 && pg_rng_pct(r, 30))
			w = pg_utf8_words[pg_rng_below(r, ARRAY_LEN(pg_utf8_words))];
		if (b->len > start)
			pg_buf_add(b, " ", 1);
		pg_buf_str(b, w);
	}
	pg_buf_add(b, "\r\n", 2);
}

/* Appends a block of 76-column base64-looking lines (an attachment), the last one shorter. */
static void pg_corpus_base64(struct pg_buf *b, struct pg_rng *r)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned nl = (unsigned)pg_rng_range(r, 8, 60);

	for (unsigned l = 0; l < nl; l++) {
		unsigned w = l + 1 < nl ? 76 : 4 * (unsigned)pg_rng_range(r, 1, 18);
		pg_buf_need(b, w + 2);
		for (unsigned i = 0; i < w; i++) {
			uint64_t v = pg_rng_next(r);
			b->p[b->len++] = (uint8_t)tbl[v & 63];
		}
		pg_buf_add(b, "\r\n", 2);
	}
}

/* Appends one line (or one base64 block) of a mixed kind; about 1.4% of lines start with '.'. */
static void pg_corpus_line(struct pg_buf *b, struct pg_rng *r)
{
	uint64_t k = pg_rng_below(r, 1000);

	if (k < 2) {
		pg_buf_str(b, ".\r\n");                /* a lone dot: must go out as ".." */
	} else if (k < 4) {
		pg_buf_str(b, "..\r\n");               /* goes out as "..." */
	} else if (k < 12) {
		pg_buf_add(b, ".", 1);                 /* ".foo" -> "..foo" */
		pg_corpus_words(b, r, pg_rng_range(r, 3, 60), false);
	} else if (k < 14) {
		pg_buf_add(b, ". ", 2);
		pg_corpus_words(b, r, pg_rng_range(r, 3, 60), false);
	} else if (k < 80) {
		pg_buf_add(b, "\r\n", 2);
	} else if (k < 110) {
		pg_buf_add(b, "> ", 2);
		pg_corpus_words(b, r, pg_rng_range(r, 10, 70), false);
	} else if (k < 113) {
		pg_buf_add(b, "From ", 5);
		pg_corpus_words(b, r, pg_rng_range(r, 10, 60), false);
	} else if (k < 115) {
		pg_corpus_base64(b, r);
	} else if (k < 116) {
		pg_corpus_words(b, r, pg_rng_range(r, 1000, 3000), false);   /* over RFC 5322's 998 */
	} else {
		pg_corpus_words(b, r, pg_rng_range(r, 20, 76), k < 135);
	}
}

/* Builds the line and dot-line indexes of c->text (one memchr pass at startup). */
static void pg_corpus_index(struct pg_corpus *c)
{
	size_t cap_l = c->len / 16 + 16, cap_d = 1024;
	size_t pos = 0;

	c->lines = pg_xrealloc(NULL, cap_l * sizeof *c->lines);
	c->dots = pg_xrealloc(NULL, cap_d * sizeof *c->dots);
	while (pos < c->len) {
		const uint8_t *nl = memchr(c->text + pos, '\n', c->len - pos);
		if (c->nlines + 1 >= cap_l)
			c->lines = pg_xrealloc(c->lines, (cap_l *= 2) * sizeof *c->lines);
		if (c->text[pos] == '.') {
			if (c->ndots == cap_d)
				c->dots = pg_xrealloc(c->dots, (cap_d *= 2) * sizeof *c->dots);
			c->dots[c->ndots++] = (uint32_t)pos;
		}
		c->lines[c->nlines++] = (uint32_t)pos;
		pos = (size_t)(nl - c->text) + 1;      /* the text always ends with CRLF */
	}
	c->lines[c->nlines] = (uint32_t)c->len;    /* sentinel */
}

/* Generates a corpus of at least `target` bytes from `seed`. */
static void pg_corpus_build(struct pg_corpus *c, uint64_t seed, size_t target)
{
	struct pg_buf b = { 0 };
	struct pg_rng r;

	pg_rng_seed(&r, seed, 0xc0de);
	pg_buf_need(&b, target + 8192);
	while (b.len < target)
		pg_corpus_line(&b, &r);
	if (b.len > UINT32_MAX)
		pg_die("corpus too large");
	c->text = b.p;
	c->len = b.len;
	pg_corpus_index(c);
}

/* First index i in a[0..n) with a[i] >= x (n if none). */
static size_t pg_lower_bound(const uint32_t *a, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Picks a random slice [*a, *b) of whole lines, at least `need` bytes long (need >= 1). */
static void pg_corpus_slice(const struct pg_corpus *c, struct pg_rng *r, size_t need, uint32_t *a,
                            uint32_t *b)
{
	size_t nstart, i, j;

	if (need > c->len)      /* cannot happen: the corpus is built msg_max + 8 MiB long */
		need = c->len;
	nstart = pg_lower_bound(c->lines, c->nlines, (uint64_t)(c->len - need) + 1);
	i = (size_t)pg_rng_below(r, nstart ? nstart : 1);
	*a = c->lines[i];
	j = pg_lower_bound(c->lines, c->nlines + 1, (uint64_t)*a + need);
	*b = c->lines[j];
}

/* Number of dot-led lines in [a, b): the extra bytes stuffing adds. */
static size_t pg_corpus_ndots(const struct pg_corpus *c, uint32_t a, uint32_t b)
{
	return pg_lower_bound(c->dots, c->ndots, b) - pg_lower_bound(c->dots, c->ndots, a);
}

/* Copies text[a, b) to dst with RFC 1939 dot-stuffing; returns bytes written. */
static size_t pg_corpus_stuff(const struct pg_corpus *c, uint8_t *dst, uint32_t a, uint32_t b)
{
	size_t d = pg_lower_bound(c->dots, c->ndots, a);
	uint8_t *o = dst;
	uint32_t pos = a;

	for (; d < c->ndots && c->dots[d] < b; d++) {
		memcpy(o, c->text + pos, c->dots[d] - pos);
		o += c->dots[d] - pos;
		*o++ = '.';
		pos = c->dots[d];
	}
	memcpy(o, c->text + pos, b - pos);
	o += b - pos;
	return (size_t)(o - dst);
}

/* ------------------------------------------------------------------------------------------ */
/* Session model: endpoints, login, mailbox, command script, TCP state                         */
/* ------------------------------------------------------------------------------------------ */

struct pg_ep {
	uint8_t ip4[4];
	uint8_t ip6[16];
	uint8_t mac[6];
	uint16_t port;
	uint8_t ttl;
};

struct pg_host {
	struct pg_ep ep;
	uint16_t next_port;
};

enum pg_mech { PG_MECH_USER, PG_MECH_APOP, PG_MECH_PLAIN, PG_MECH_COUNT };
static const char *const pg_mech_names[] = { "user", "apop", "plain" };
_Static_assert(ARRAY_LEN(pg_mech_names) == PG_MECH_COUNT, "mech names");

struct pg_attempt {
	char pass[40];
	bool ok;
};

struct pg_auth {
	enum pg_mech mech;
	char user[64];
	struct pg_attempt att[PG_MAX_ATT];
	unsigned natt;
	bool authzid;           /* AUTH PLAIN: authzid = user instead of empty */
};

/* One POP3 command of the script, and the reply the server gives it. */
enum pg_ck { PG_C_GREET, PG_C_CAPA, PG_C_USER, PG_C_PASS, PG_C_APOP, PG_C_AUTH, PG_C_STAT,
             PG_C_LIST, PG_C_LISTN, PG_C_UIDL, PG_C_RETR, PG_C_TOP, PG_C_DELE, PG_C_NOOP,
             PG_C_BADRETR, PG_C_QUIT, PG_C_COUNT };
static const char *const pg_ck_kw[] = { "", "CAPA", "USER", "PASS", "APOP", "AUTH", "STAT",
                                        "LIST", "LIST", "UIDL", "RETR", "TOP", "DELE", "NOOP",
                                        "RETR", "QUIT" };
_Static_assert(ARRAY_LEN(pg_ck_kw) == PG_C_COUNT, "command keywords");

struct pg_cmd {
	uint8_t kind;           /* enum pg_ck */
	uint8_t att;            /* login attempt index */
	uint16_t n;             /* message number */
	bool batch_end;         /* last command of a client segment burst */
};

struct pg_msg {
	uint32_t hoff, hlen;    /* header block in pg_sess.hdrs, ends with the blank line */
	uint32_t a, b;          /* body = corpus text[a, b) */
	uint64_t size;          /* unstuffed octets = hlen + (b - a) */
	uint32_t ndots;
	char uid[24];
};

/* Ground truth of one RETR / TOP reply, for the manifest. */
struct pg_rec {
	uint8_t kind;
	uint16_t n;
	uint64_t size;
	uint8_t sha[32];
	uint64_t wire_lo, wire_hi;   /* server stream offsets of the whole reply */
};

struct pg_gap {
	uint64_t off;
	uint32_t len;
};

enum pg_close { PG_CL_SRV4, PG_CL_SRV3, PG_CL_CLI, PG_CL_NONE, PG_CL_RST, PG_CL_COUNT };
static const char *const pg_close_names[] = { "srv4", "srv3", "cli", "none", "rst" };
_Static_assert(ARRAY_LEN(pg_close_names) == PG_CL_COUNT, "close names");

/* Teardown packets per close kind: {dir, flags}, ended by dir -1. */
static const struct {
	int8_t dir;
	uint8_t flags;
} pg_close_steps[PG_CL_COUNT][5] = {
	[PG_CL_SRV4] = { { PG_S2C, PG_TH_FIN | PG_TH_ACK }, { PG_C2S, PG_TH_ACK },
	                 { PG_C2S, PG_TH_FIN | PG_TH_ACK }, { PG_S2C, PG_TH_ACK }, { -1, 0 } },
	[PG_CL_SRV3] = { { PG_S2C, PG_TH_FIN | PG_TH_ACK }, { PG_C2S, PG_TH_FIN | PG_TH_ACK },
	                 { PG_S2C, PG_TH_ACK }, { -1, 0 } },
	[PG_CL_CLI] = { { PG_C2S, PG_TH_FIN | PG_TH_ACK }, { PG_S2C, PG_TH_FIN | PG_TH_ACK },
	                { PG_C2S, PG_TH_ACK }, { -1, 0 } },
	[PG_CL_NONE] = { { -1, 0 } },
	[PG_CL_RST] = { { PG_C2S, PG_TH_RST | PG_TH_ACK }, { -1, 0 } },
};

enum pg_phase { PG_PH_SYN, PG_PH_SYNACK, PG_PH_HSACK, PG_PH_DATA, PG_PH_CLOSE, PG_PH_DONE };

/* Server segmentation style: where replies are forced onto segment boundaries. */
enum pg_split { PG_SPLIT_NONE, PG_SPLIT_STATUS, PG_SPLIT_TERM, PG_SPLIT_COUNT };
static const char *const pg_split_names[] = { "packed", "status", "term" };
_Static_assert(ARRAY_LEN(pg_split_names) == PG_SPLIT_COUNT, "split names");

struct pg_sess {
	uint64_t idx;
	struct pg_rng rng;
	struct pg_ep cli, srv;
	/* script */
	struct pg_auth auth;
	char greeting[160];
	char ts[96];            /* APOP timestamp incl. <>, empty if none */
	bool pipelined, lower, capa;
	bool short_sess;        /* --short, or drawn by --short-pct */
	enum pg_split split;
	enum pg_close close;
	int reuse_role;         /* 0 none, 1 first of a pair, 2 second */
	uint64_t reuse_of;
	unsigned nmsgs;
	uint64_t mbox_octets;
	struct pg_msg msgs[PG_MAX_MSGS];
	struct pg_buf hdrs;
	struct pg_cmd cmds[PG_MAX_CMDS];
	unsigned ncmds, next_cmd, first_visible, batch_lo, batch_hi;
	bool reply_due;
	/* TCP */
	enum pg_phase phase;
	unsigned close_step;
	uint32_t nxt[2];
	uint64_t sent[2];
	uint16_t ipid[2];
	uint32_t frag_id;
	uint32_t flow[2];
	uint32_t tsbase[2], tsval[2];
	bool muted;             /* --midstream: packets before the TRANSACTION state are not written */
	/* current turn (one side's burst of bytes) */
	struct pg_buf turn;
	int turn_dir, last_dir;
	size_t turn_off;
	bool turn_active, turn_login, first_seg;
	size_t push[PG_MAX_PUSH];
	unsigned npush, push_i, owed;
	/* ground truth */
	uint64_t srv_segs;
	struct pg_rec recs[PG_MAX_RECS];
	unsigned nrecs;
	struct pg_buf gaps;     /* struct pg_gap[] */
};

struct pg_out {
	pcap_t *pd;
	pcap_dumper_t *dump;
	FILE *fp;
	uint8_t *frame;         /* PG_HEADROOM + TCP header + MSS */
	uint8_t *frag;
	uint64_t packets, bytes;
};

struct pg_gen {
	const struct pg_opts *o;
	struct pg_corpus corpus;
	struct pg_out out;
	struct pg_rng rng;      /* scheduling and address allocation */
	struct pg_host *hosts;
	FILE *manifest;
	uint64_t clock_us;
	uint64_t started, done, messages, dropped, pairs;
};

static const struct pg_ep *pg_ep_of(const struct pg_sess *s, int dir)
{
	return dir == PG_C2S ? &s->cli : &s->srv;
}

/* ------------------------------------------------------------------------------------------ */
/* Addresses                                                                                    */
/* ------------------------------------------------------------------------------------------ */

/* Fills the client host pool: 10.a.b.c with distinct (b, c), 2001:db8:100:a::b:c, 02:00:0a:a:b:c. */
static void pg_hosts_init(struct pg_gen *g)
{
	g->hosts = pg_xrealloc(NULL, PG_HOSTS * sizeof *g->hosts);
	for (unsigned i = 0; i < PG_HOSTS; i++) {
		struct pg_ep *e = &g->hosts[i].ep;
		uint8_t a = (uint8_t)pg_rng_range(&g->rng, 1, 254);
		uint8_t b = (uint8_t)(1 + ((i / 254) * 97) % 254), c = (uint8_t)(1 + i % 254);
		memset(e, 0, sizeof *e);
		memcpy(e->ip4, (uint8_t[]){ 10, a, b, c }, 4);
		memcpy(e->ip6, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, a }, 8);
		e->ip6[13] = b;
		e->ip6[15] = c;
		memcpy(e->mac, (uint8_t[]){ 0x02, 0x00, 0x0a, a, b, c }, 6);
		e->ttl = pg_rng_pct(&g->rng, 30) ? 121 : 57;
		g->hosts[i].next_port = (uint16_t)pg_rng_range(&g->rng, 32768, 60999);
	}
}

/* Server i: 192.0.2.(10 + 10 i), 2001:db8:0:2::(10 + 10 i), port --port. */
static void pg_server_ep(struct pg_ep *e, unsigned i, uint16_t port)
{
	uint8_t x = (uint8_t)(10 + 10 * i);

	memset(e, 0, sizeof *e);
	memcpy(e->ip4, (uint8_t[]){ 192, 0, 2, x }, 4);
	memcpy(e->ip6, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 2 }, 8);
	e->ip6[15] = x;
	memcpy(e->mac, (uint8_t[]){ 0x02, 0x00, 0xc0, 0x00, 0x02, x }, 6);
	e->port = port;
	e->ttl = 64;
}

/* Picks a client host and its next ephemeral port (Linux-like increments), and a server. */
static void pg_tuple_new(struct pg_gen *g, struct pg_sess *s)
{
	struct pg_host *h = &g->hosts[pg_rng_below(&g->rng, PG_HOSTS)];
	uint32_t p = h->next_port + (uint32_t)pg_rng_range(&g->rng, 1, 8);

	s->cli = h->ep;
	s->cli.port = h->next_port;
	h->next_port = (uint16_t)(p > 60999 ? 32768 + (p - 61000) : p);
	pg_server_ep(&s->srv, (unsigned)pg_rng_below(&g->rng, 4), g->o->port);
}

/* Formats "ip:port" or "[ip6]:port" into out[64]. */
static void pg_ep_str(const struct pg_ep *e, bool v6, char *out)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(v6 ? AF_INET6 : AF_INET, v6 ? (const void *)e->ip6 : (const void *)e->ip4, a,
	          sizeof a);
	snprintf(out, 64, v6 ? "[%s]:%u" : "%s:%u", a, e->port);
}

/* ------------------------------------------------------------------------------------------ */
/* Session script: who logs in how, what is in the mailbox, which commands are sent            */
/* ------------------------------------------------------------------------------------------ */

static const char *const pg_names[] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
	"mallory", "oscar", "peggy", "trent", "victor", "walter", "sybil", "olivia", "niaj", "rupert",
};
static const char pg_pw_chars[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*+-.=?@^_~";

static const char *pg_name(struct pg_rng *r)
{
	return pg_names[pg_rng_below(r, ARRAY_LEN(pg_names))];
}

/* A user name in one of several real-world forms (plain, digits, first.last, address, +tag). */
static void pg_make_user(struct pg_rng *r, char *out, size_t n)
{
	const char *a = pg_name(r), *b = pg_name(r);

	switch (pg_rng_below(r, 5)) {
	case 0: snprintf(out, n, "%s", a); break;
	case 1: snprintf(out, n, "%s%02u", a, (unsigned)pg_rng_below(r, 100)); break;
	case 2: snprintf(out, n, "%s.%s", a, b); break;
	case 3: snprintf(out, n, "%s@example.net", a); break;
	default: snprintf(out, n, "%s+pop@example.org", a); break;
	}
}

/* A 6-16 character password; 3% contain a space and 1% start with one (RFC 1939: PASS keeps it). */
static void pg_make_pass(struct pg_rng *r, char *out)
{
	size_t n = (size_t)pg_rng_range(r, 6, 16);

	for (size_t i = 0; i < n; i++)
		out[i] = pg_pw_chars[pg_rng_below(r, sizeof pg_pw_chars - 1)];
	out[n] = '\0';
	if (pg_rng_pct(r, 3))
		out[n / 2] = ' ';
	else if (pg_rng_pct(r, 1))
		out[0] = ' ';
}

/* A typo of `good`: last character changed, or dropped. Never equal to `good`. */
static void pg_make_typo(struct pg_rng *r, const char *good, char *out)
{
	size_t n = strlen(good);

	memcpy(out, good, n + 1);
	if (n > 6 && pg_rng_pct(r, 40)) {
		out[n - 1] = '\0';
		return;
	}
	do
		out[n - 1] = pg_pw_chars[pg_rng_below(r, sizeof pg_pw_chars - 1)];
	while (out[n - 1] == good[n - 1]);
}

/* Login: mechanism mix 55% USER/PASS, 20% APOP, 25% AUTH PLAIN; 15% fail once then succeed, 3%
 * fail for good. --short: always one successful USER/PASS. */
static void pg_plan_auth(struct pg_sess *s)
{
	struct pg_auth *au = &s->auth;
	struct pg_rng *r = &s->rng;
	uint64_t k = pg_rng_below(r, 100);
	char good[40];

	au->mech = s->short_sess || k < 55 ? PG_MECH_USER : k < 75 ? PG_MECH_APOP : PG_MECH_PLAIN;
	au->authzid = pg_rng_pct(r, 20);
	pg_make_user(r, au->user, sizeof au->user);
	pg_make_pass(r, good);
	k = s->short_sess ? 99 : pg_rng_below(r, 100);
	if (k < 3) {
		au->natt = (unsigned)pg_rng_range(r, 1, 2);
		for (unsigned i = 0; i < au->natt; i++)
			pg_make_typo(r, good, au->att[i].pass);
		return;
	}
	au->natt = k < 18 ? 2 : 1;
	if (au->natt == 2)
		pg_make_typo(r, good, au->att[0].pass);
	memcpy(au->att[au->natt - 1].pass, good, sizeof good);
	au->att[au->natt - 1].ok = true;
}

/* Greeting, with an APOP timestamp whenever APOP is used and in 40% of the others. */
static void pg_plan_greeting(struct pg_sess *s)
{
	struct pg_rng *r = &s->rng;
	unsigned pid = (unsigned)pg_rng_range(r, 1000, 65000);
	unsigned clk = (unsigned)pg_rng_range(r, 600000000, 999999999);
	uint64_t v = pg_rng_below(r, 3);

	s->ts[0] = '\0';
	if (s->auth.mech != PG_MECH_APOP && !pg_rng_pct(r, 40)) {
		static const char *const plain[] = { "+OK POP3 server ready", "+OK Dovecot ready.",
		                                     "+OK mail.example.com Cyrus POP3 v2.4.17 server ready" };
		snprintf(s->greeting, sizeof s->greeting, "%s", plain[v]);
		return;
	}
	if (v == 2) {   /* dovecot style: '/', '+' and '=' inside the timestamp */
		uint8_t raw[16];
		char b64[25];
		for (unsigned i = 0; i < 16; i++)
			raw[i] = (uint8_t)pg_rng_next(r);
		pg_base64(raw, 16, b64);
		snprintf(s->ts, sizeof s->ts, "<%x.%u.%08x.%s@vm>", pid, clk % 16, clk, b64);
		snprintf(s->greeting, sizeof s->greeting, "+OK Dovecot ready. %s", s->ts);
		return;
	}
	snprintf(s->ts, sizeof s->ts, "<%u.%u@%s>", pid, clk, v ? "mail.example.com" : "pop.example.net");
	snprintf(s->greeting, sizeof s->greeting, "+OK POP3 ready %s", s->ts);
}

/* Appends a command; it ends a segment burst unless the client pipelines. */
static void pg_cmd_add(struct pg_sess *s, enum pg_ck kind, unsigned n, unsigned att)
{
	struct pg_cmd *c;

	if (s->ncmds == PG_MAX_CMDS)
		pg_die("internal: command script overflow");
	c = &s->cmds[s->ncmds++];
	c->kind = (uint8_t)kind;
	c->n = (uint16_t)n;
	c->att = (uint8_t)att;
	c->batch_end = !s->pipelined || kind == PG_C_GREET;
}

/* Marks the last command as the end of a segment burst (pipelining clients wait here). */
static void pg_batch_end(struct pg_sess *s)
{
	if (s->ncmds)
		s->cmds[s->ncmds - 1].batch_end = true;
}

/* The login commands of every attempt; a pipelining client sends USER and PASS together. */
static void pg_plan_login(struct pg_sess *s)
{
	for (unsigned i = 0; i < s->auth.natt; i++) {
		switch (s->auth.mech) {
		case PG_MECH_USER:
			pg_cmd_add(s, PG_C_USER, 0, i);
			pg_cmd_add(s, PG_C_PASS, 0, i);
			break;
		case PG_MECH_APOP:
			pg_cmd_add(s, PG_C_APOP, 0, i);
			break;
		default:
			pg_cmd_add(s, PG_C_AUTH, 0, i);
			break;
		}
		pg_batch_end(s);
	}
}

/* RFC 822 header block of message `num`, ending with the empty line. */
static void pg_msg_headers(struct pg_sess *s, unsigned num)
{
	struct pg_rng *r = &s->rng;
	const char *from = pg_name(r);
	time_t t = (time_t)(PG_EPOCH_SEC - pg_rng_range(r, 60, 30 * 86400));
	char date[64];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	pg_buf_fmt(&s->hdrs,
	           "Return-Path: <%s@example.org>\r\n"
	           "Received: from mx%u.example.org (mx%u.example.org [198.51.100.%u])\r\n"
	           "\tby pop.example.net with ESMTPS id %08" PRIx64 "\r\n"
	           "\tfor <%s>; %s\r\n"
	           "Date: %s\r\n"
	           "From: %c%s <%s@example.org>\r\n"
	           "To: <%s>\r\n"
	           "Subject: %s %s, part %u\r\n"
	           "Message-ID: <%016" PRIx64 ".%u@example.org>\r\n"
	           "MIME-Version: 1.0\r\n"
	           "Content-Type: text/plain; charset=utf-8\r\n"
	           "Content-Transfer-Encoding: 8bit\r\n"
	           "\r\n",
	           from, num, num, 1 + num, pg_rng_next(r) & 0xffffffffu, s->auth.user, date, date,
	           toupper((unsigned char)from[0]), from + 1, from, s->auth.user,
	           pg_words[pg_rng_below(r, ARRAY_LEN(pg_words))],
	           pg_words[pg_rng_below(r, ARRAY_LEN(pg_words))], num, pg_rng_next(r), num);
}

/* Draws a target message size: by default a random octave (power of two) between msg_min and
 * msg_max, then uniform inside it (log-uniform without libm); or uniform over the range. */
static uint64_t pg_msg_size(const struct pg_opts *o, struct pg_rng *r)
{
	unsigned lo = 63 - (unsigned)__builtin_clzll(o->msg_min);
	unsigned hi = 63 - (unsigned)__builtin_clzll(o->msg_max);
	unsigned k;
	uint64_t v;

	if (o->msg_max <= o->msg_min)
		return o->msg_min;
	if (o->dist == PG_DIST_UNIFORM)
		return pg_rng_range(r, o->msg_min, o->msg_max);
	k = (unsigned)pg_rng_range(r, lo, hi);   /* octave [2^k, 2^(k+1)), cut to [min, max] */
	v = (1ULL << k) < o->msg_min ? o->msg_min : 1ULL << k;
	return pg_rng_range(r, v, (2ULL << k) - 1 < o->msg_max ? (2ULL << k) - 1 : o->msg_max);
}

/* Builds message `num` (1-based): headers per session, body sliced from the corpus. */
static void pg_msg_make(struct pg_gen *g, struct pg_sess *s, unsigned num)
{
	struct pg_msg *m = &s->msgs[num - 1];
	uint64_t target = pg_msg_size(g->o, &s->rng);

	m->hoff = (uint32_t)s->hdrs.len;
	pg_msg_headers(s, num);
	m->hlen = (uint32_t)(s->hdrs.len - m->hoff);
	pg_corpus_slice(&g->corpus, &s->rng, target > m->hlen ? target - m->hlen : 1, &m->a, &m->b);
	m->ndots = (uint32_t)pg_corpus_ndots(&g->corpus, m->a, m->b);
	m->size = m->hlen + (uint64_t)(m->b - m->a);
	snprintf(m->uid, sizeof m->uid, "%016" PRIx64, pg_rng_next(&s->rng));
	s->mbox_octets += m->size;
}

/* The TRANSACTION part: STAT, sometimes LIST/UIDL/LIST n/NOOP, then per message TOP n 0, RETR,
 * DELE, sometimes a RETR of a message that does not exist, then QUIT. */
static void pg_plan_transaction(struct pg_gen *g, struct pg_sess *s)
{
	struct pg_rng *r = &s->rng;
	uint64_t k = pg_rng_below(r, 10);

	s->nmsgs = k == 0 ? 0 : k < 6 ? (unsigned)pg_rng_range(r, 1, 3) : (unsigned)pg_rng_range(r, 4, 8);
	for (unsigned i = 1; i <= s->nmsgs; i++)
		pg_msg_make(g, s, i);
	pg_cmd_add(s, PG_C_STAT, 0, 0);
	if (pg_rng_pct(r, 70))
		pg_cmd_add(s, PG_C_LIST, 0, 0);
	if (s->nmsgs && pg_rng_pct(r, 10))
		pg_cmd_add(s, PG_C_LISTN, (unsigned)pg_rng_range(r, 1, s->nmsgs), 0);
	if (pg_rng_pct(r, 50))
		pg_cmd_add(s, PG_C_UIDL, 0, 0);
	if (pg_rng_pct(r, 10))
		pg_cmd_add(s, PG_C_NOOP, 0, 0);
	pg_batch_end(s);
	for (unsigned i = 1; i <= s->nmsgs; i++) {
		if (!pg_rng_pct(r, 85))
			continue;
		if (pg_rng_pct(r, 20))
			pg_cmd_add(s, PG_C_TOP, i, 0);
		pg_cmd_add(s, PG_C_RETR, i, 0);
		if (pg_rng_pct(r, 40))
			pg_cmd_add(s, PG_C_DELE, i, 0);
		if (pg_rng_pct(r, 50))
			pg_batch_end(s);
	}
	if (pg_rng_pct(r, 5))
		pg_cmd_add(s, PG_C_BADRETR, s->nmsgs + 1, 0);
	if (pg_rng_pct(r, 70))
		pg_batch_end(s);
	pg_cmd_add(s, PG_C_QUIT, 0, 0);
	pg_batch_end(s);
}

/* --short: STAT and QUIT only, one per segment, with a made-up mailbox summary. */
static void pg_plan_short(struct pg_sess *s)
{
	s->nmsgs = (unsigned)pg_rng_below(&s->rng, 20);
	s->mbox_octets = s->nmsgs * pg_rng_range(&s->rng, 500, 50000);
	pg_cmd_add(s, PG_C_STAT, 0, 0);
	pg_batch_end(s);
	pg_cmd_add(s, PG_C_QUIT, 0, 0);
	pg_batch_end(s);
}

/* Per-session style: pipelining, command case, CAPA, server segmentation, teardown. */
static void pg_plan_style(struct pg_gen *g, struct pg_sess *s)
{
	struct pg_rng *r = &s->rng;
	static const enum pg_reuse cycle[] = { PG_REUSE_FIN, PG_REUSE_NOFIN, PG_REUSE_RST };
	enum pg_reuse how = g->o->reuse;

	s->pipelined = s->short_sess ? pg_rng_pct(r, 20) : pg_rng_pct(r, 35);
	s->lower = pg_rng_pct(r, 5);
	s->capa = !s->short_sess && pg_rng_pct(r, 30);
	s->split = s->pipelined ? PG_SPLIT_NONE : (enum pg_split)pg_rng_below(r, PG_SPLIT_COUNT);
	s->close = (enum pg_close)pg_rng_below(r, 3);
	if (s->reuse_role != 1)
		return;
	if (how == PG_REUSE_MIXED)
		how = cycle[(g->pairs - 1) % ARRAY_LEN(cycle)];
	if (how == PG_REUSE_NOFIN)
		s->close = PG_CL_NONE;
	else if (how == PG_REUSE_RST)
		s->close = PG_CL_RST;
}

/* Builds the whole command script of a session (message bodies stay in the corpus). */
static void pg_plan(struct pg_gen *g, struct pg_sess *s)
{
	pg_plan_auth(s);
	pg_plan_style(g, s);
	pg_plan_greeting(s);
	pg_cmd_add(s, PG_C_GREET, 0, 0);
	if (s->capa) {
		pg_cmd_add(s, PG_C_CAPA, 0, 0);
		pg_batch_end(s);
	}
	pg_plan_login(s);
	s->first_visible = s->ncmds;
	if (!s->auth.att[s->auth.natt - 1].ok) {
		pg_cmd_add(s, PG_C_QUIT, 0, 0);
		pg_batch_end(s);
		return;
	}
	if (s->short_sess)
		pg_plan_short(s);
	else
		pg_plan_transaction(g, s);
}

/* ------------------------------------------------------------------------------------------ */
/* Turns: one side's burst of bytes (a client command batch, or the server's replies to it)   */
/* ------------------------------------------------------------------------------------------ */

#define PG_CAPA_REPLY                                                                           \
	"+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN LOGIN\r\nRESP-CODES\r\n"      \
	"AUTH-RESP-CODE\r\nPIPELINING\r\nUIDL\r\nIMPLEMENTATION popgen\r\n.\r\n"

/* Forces a segment boundary at the current end of the turn. */
static void pg_push(struct pg_sess *s)
{
	if (s->npush < PG_MAX_PUSH && s->turn.len > 0 &&
	    (s->npush == 0 || s->push[s->npush - 1] < s->turn.len))
		s->push[s->npush++] = s->turn.len;
}

/* " PLAIN <base64(authzid NUL user NUL pass)>" (RFC 4616 initial response). */
static void pg_auth_plain(struct pg_sess *s, const struct pg_attempt *att)
{
	uint8_t raw[160];
	char b64[220];
	size_t n = 0, ul = strlen(s->auth.user), pl = strlen(att->pass);

	if (s->auth.authzid) {
		memcpy(raw, s->auth.user, ul);
		n = ul;
	}
	raw[n++] = '\0';
	memcpy(raw + n, s->auth.user, ul);
	n += ul;
	raw[n++] = '\0';
	memcpy(raw + n, att->pass, pl);
	n += pl;
	pg_base64(raw, n, b64);
	pg_buf_fmt(&s->turn, " PLAIN %s", b64);
}

/* Appends one command line (keyword in lower case for 5% of clients). */
static void pg_cmd_text(struct pg_sess *s, const struct pg_cmd *c)
{
	struct pg_buf *t = &s->turn;
	const struct pg_attempt *att = &s->auth.att[c->att];
	size_t kw = t->len;
	char digest[33];

	pg_buf_str(t, pg_ck_kw[c->kind]);
	for (size_t i = kw; s->lower && i < t->len; i++)
		t->p[i] = (uint8_t)tolower(t->p[i]);
	switch (c->kind) {
	case PG_C_USER: pg_buf_fmt(t, " %s", s->auth.user); break;
	case PG_C_PASS: pg_buf_fmt(t, " %s", att->pass); break;
	case PG_C_APOP:
		pg_apop_digest(s->ts, att->pass, digest);
		pg_buf_fmt(t, " %s %s", s->auth.user, digest);
		break;
	case PG_C_AUTH: pg_auth_plain(s, att); break;
	case PG_C_LISTN:
	case PG_C_RETR:
	case PG_C_DELE:
	case PG_C_BADRETR: pg_buf_fmt(t, " %u", c->n); break;
	case PG_C_TOP: pg_buf_fmt(t, " %u 0", c->n); break;
	default: break;
	}
	pg_buf_add(t, "\r\n", 2);
}

/* Records a RETR/TOP reply for the manifest: size, SHA-256 of the unstuffed bytes, wire span. */
static void pg_rec_add(struct pg_gen *g, struct pg_sess *s, const struct pg_cmd *c,
                       const struct pg_msg *m, uint64_t wire_lo)
{
	struct pg_rec *r;
	bool top = c->kind == PG_C_TOP;

	g->messages++;
	if (!g->manifest || s->nrecs == PG_MAX_RECS)
		return;
	r = &s->recs[s->nrecs++];
	r->kind = c->kind;
	r->n = c->n;
	r->size = top ? m->hlen : m->size;
	r->wire_lo = wire_lo;
	r->wire_hi = s->sent[PG_S2C] + s->turn.len;
	pg_sha256(s->hdrs.p + m->hoff, m->hlen, g->corpus.text + m->a, top ? 0 : m->b - m->a, r->sha);
}

/* RETR n: "+OK <size> octets", headers, stuffed body, ".". TOP n 0: "+OK", headers, ".". */
static void pg_reply_message(struct pg_gen *g, struct pg_sess *s, const struct pg_cmd *c)
{
	const struct pg_msg *m = &s->msgs[c->n - 1];
	struct pg_buf *t = &s->turn;
	uint64_t wire_lo = s->sent[PG_S2C] + t->len;
	bool top = c->kind == PG_C_TOP;

	if (top)
		pg_buf_str(t, "+OK\r\n");
	else
		pg_buf_fmt(t, "+OK %" PRIu64 " octets\r\n", m->size);
	if (s->split != PG_SPLIT_NONE)
		pg_push(s);
	pg_buf_add(t, s->hdrs.p + m->hoff, m->hlen);
	if (!top) {
		pg_buf_need(t, (size_t)(m->b - m->a) + m->ndots);
		t->len += pg_corpus_stuff(&g->corpus, t->p + t->len, m->a, m->b);
	}
	if (s->split == PG_SPLIT_TERM)
		pg_push(s);
	pg_buf_add(t, ".\r\n", 3);
	pg_rec_add(g, s, c, m, wire_lo);
}

/* LIST or UIDL without argument: multi-line listing. */
static void pg_reply_listing(struct pg_sess *s, bool uidl)
{
	struct pg_buf *t = &s->turn;

	if (uidl)
		pg_buf_str(t, "+OK\r\n");
	else
		pg_buf_fmt(t, "+OK %u messages:\r\n", s->nmsgs);
	for (unsigned i = 0; i < s->nmsgs; i++) {
		if (uidl)
			pg_buf_fmt(t, "%u %s\r\n", i + 1, s->msgs[i].uid);
		else
			pg_buf_fmt(t, "%u %" PRIu64 "\r\n", i + 1, s->msgs[i].size);
	}
	pg_buf_add(t, ".\r\n", 3);
}

/* Appends the server's reply to command c. */
static void pg_reply(struct pg_gen *g, struct pg_sess *s, const struct pg_cmd *c)
{
	struct pg_buf *t = &s->turn;

	switch ((enum pg_ck)c->kind) {
	case PG_C_GREET: pg_buf_fmt(t, "%s\r\n", s->greeting); break;
	case PG_C_CAPA: pg_buf_str(t, PG_CAPA_REPLY); break;
	case PG_C_USER: pg_buf_str(t, "+OK\r\n"); break;
	case PG_C_PASS:
	case PG_C_APOP:
	case PG_C_AUTH:
		pg_buf_str(t, s->auth.att[c->att].ok ? "+OK Logged in.\r\n"
		                                      : "-ERR [AUTH] Authentication failed.\r\n");
		break;
	case PG_C_STAT: pg_buf_fmt(t, "+OK %u %" PRIu64 "\r\n", s->nmsgs, s->mbox_octets); break;
	case PG_C_LIST: pg_reply_listing(s, false); break;
	case PG_C_UIDL: pg_reply_listing(s, true); break;
	case PG_C_LISTN: pg_buf_fmt(t, "+OK %u %" PRIu64 "\r\n", c->n, s->msgs[c->n - 1].size); break;
	case PG_C_RETR:
	case PG_C_TOP: pg_reply_message(g, s, c); break;
	case PG_C_DELE: pg_buf_str(t, "+OK Marked to be deleted.\r\n"); break;
	case PG_C_NOOP: pg_buf_str(t, "+OK\r\n"); break;
	case PG_C_BADRETR: pg_buf_fmt(t, "-ERR There's no message %u.\r\n", c->n); break;
	case PG_C_QUIT: pg_buf_str(t, "+OK Logging out.\r\n"); break;
	case PG_C_COUNT: break;
	}
}

/* Client turn: the commands up to the next batch end, in one burst. */
static void pg_turn_client(struct pg_sess *s)
{
	const struct pg_cmd *c;

	s->turn_dir = PG_C2S;
	s->batch_lo = s->next_cmd;
	do {
		c = &s->cmds[s->next_cmd++];
		pg_cmd_text(s, c);
		if (c->kind >= PG_C_USER && c->kind <= PG_C_AUTH)
			s->turn_login = true;
	} while (!c->batch_end && s->next_cmd < s->ncmds);
	s->batch_hi = s->next_cmd;
	s->reply_due = true;
}

/* Server turn: the replies to cmds[batch_lo, batch_hi), packed back to back. */
static void pg_turn_server(struct pg_gen *g, struct pg_sess *s)
{
	s->turn_dir = PG_S2C;
	for (unsigned i = s->batch_lo; i < s->batch_hi; i++)
		pg_reply(g, s, &s->cmds[i]);
}

/* Prepares the next turn. Returns false when the script is exhausted. */
static bool pg_turn_next(struct pg_gen *g, struct pg_sess *s)
{
	s->turn.len = 0;
	s->turn_off = 0;
	s->npush = 0;
	s->push_i = 0;
	s->turn_login = false;
	if (s->reply_due) {
		s->reply_due = false;
		pg_turn_server(g, s);
	} else if (s->next_cmd >= s->ncmds) {
		return false;
	} else if (s->cmds[s->next_cmd].kind == PG_C_GREET) {
		s->batch_lo = s->next_cmd;
		s->batch_hi = ++s->next_cmd;
		pg_turn_server(g, s);
	} else {
		pg_turn_client(s);
	}
	if (s->muted && s->batch_lo >= s->first_visible)
		s->muted = false;
	return true;
}

/* ------------------------------------------------------------------------------------------ */
/* Packet output: TCP header + checksum, IPv4/IPv6 (+ fragments), link layer, pcap record     */
/* ------------------------------------------------------------------------------------------ */

/* RFC 1071 partial sum over native 32-bit words (byte-order independent; n may be odd only for
 * the last span of a chain). */
static uint64_t pg_sum(uint64_t sum, const uint8_t *p, size_t n)
{
	uint32_t w;
	uint16_t h = 0;

	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w, p, 4);
		sum += w;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		h = 0;
		memcpy(&h, p, 1);
		sum += h;
	}
	return sum;
}

/* Folds a partial sum into the final checksum, in memory (network) order. */
static uint16_t pg_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes the pcap record for the frame [f, f + n) at the current clock. Dies on write errors. */
static void pg_out_dump(struct pg_gen *g, const uint8_t *f, size_t n)
{
	struct pcap_pkthdr h;

	h.ts.tv_sec = (time_t)(PG_EPOCH_SEC + g->clock_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(g->clock_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)n;
	pcap_dump((u_char *)g->out.dump, &h, f);
	g->out.packets++;
	g->out.bytes += 16 + n;
	if ((g->out.packets & 1023) == 0 && ferror(g->out.fp))
		pg_die("write error on %s: %s", g->o->out_path, strerror(errno));
}

/* Writes the link-layer header in front of l3 and dumps the frame. */
static void pg_out_link(struct pg_gen *g, const struct pg_sess *s, int dir, uint8_t *l3, size_t l3len)
{
	enum pg_link lk = g->o->link;
	uint16_t et = g->o->ipv6 ? 0x86dd : 0x0800;
	uint8_t pkttype = dir == PG_C2S ? 0 : 4;   /* capture on the server: in = HOST, out = OUTGOING */
	const struct pg_ep *src = pg_ep_of(s, dir), *dst = pg_ep_of(s, !dir);
	uint8_t *f = l3 - pg_link_hdr_len[lk], *p = f + 12;
	uint32_t af = g->o->ipv6 ? 24 : 2;         /* DLT_NULL: host order; 24 = BSD AF_INET6 */

	switch (lk) {
	case PG_LINK_QINQ:
		pg_put16(p, 0x88a8);
		pg_put16(p + 2, 200);
		p += 4;
		/* fall through */
	case PG_LINK_VLAN:
		pg_put16(p, 0x8100);
		pg_put16(p + 2, 100);
		p += 4;
		/* fall through */
	case PG_LINK_ETH:
		memcpy(f, dst->mac, 6);
		memcpy(f + 6, src->mac, 6);
		pg_put16(p, et);
		break;
	case PG_LINK_SLL:
		pg_put16(f, pkttype);
		pg_put16(f + 2, 1);                /* ARPHRD_ETHER */
		pg_put16(f + 4, 6);
		memcpy(f + 6, src->mac, 6);
		memset(f + 12, 0, 2);
		pg_put16(f + 14, et);
		break;
	case PG_LINK_SLL2:
		pg_put16(f, et);
		memset(f + 2, 0, 2);
		pg_put32(f + 4, 2);                /* interface index */
		pg_put16(f + 8, 1);
		f[10] = pkttype;
		f[11] = 6;
		memcpy(f + 12, src->mac, 6);
		memset(f + 18, 0, 2);
		break;
	case PG_LINK_NULL: memcpy(f, &af, 4); break;
	case PG_LINK_RAW:
	case PG_LINK_COUNT: break;
	}
	pg_out_dump(g, f, l3len + pg_link_hdr_len[lk]);
}

struct pg_frag {
	size_t off;             /* byte offset in the original IP payload, a multiple of 8 */
	bool more;
	uint32_t id;
};

/* IPv4 header in front of l4; returns the header start. */
static uint8_t *pg_ip4_header(struct pg_sess *s, int dir, uint8_t *l4, size_t l4len,
                              const struct pg_frag *fr)
{
	const struct pg_ep *src = pg_ep_of(s, dir), *dst = pg_ep_of(s, !dir);
	uint8_t *ip = l4 - 20;
	uint16_t c;

	ip[0] = 0x45;
	ip[1] = 0;
	pg_put16(ip + 2, (uint16_t)(20 + l4len));
	pg_put16(ip + 4, fr ? (uint16_t)fr->id : s->ipid[dir]++);
	pg_put16(ip + 6, fr ? (uint16_t)((fr->more ? 0x2000 : 0) | (fr->off >> 3)) : 0x4000);
	ip[8] = src->ttl;
	ip[9] = 6;
	memset(ip + 10, 0, 2);
	memcpy(ip + 12, src->ip4, 4);
	memcpy(ip + 16, dst->ip4, 4);
	c = pg_fold(pg_sum(0, ip, 20));
	memcpy(ip + 10, &c, 2);
	return ip;
}

/* IPv6 header (+ hop-by-hop PadN header with --ipv6-ext, + fragment header) in front of l4. */
static uint8_t *pg_ip6_header(struct pg_gen *g, struct pg_sess *s, int dir, uint8_t *l4,
                              size_t l4len, const struct pg_frag *fr)
{
	const struct pg_ep *src = pg_ep_of(s, dir), *dst = pg_ep_of(s, !dir);
	size_t ext = g->o->ipv6_ext ? 8 : 0, fh = fr ? 8 : 0;
	uint8_t *ip = l4 - 40 - ext - fh, *p = ip + 40;
	uint8_t after_ext = fr ? 44 : 6;

	pg_put32(ip, 0x60000000u | s->flow[dir]);
	pg_put16(ip + 4, (uint16_t)(ext + fh + l4len));
	ip[6] = ext ? 0 : after_ext;
	ip[7] = src->ttl;
	memcpy(ip + 8, src->ip6, 16);
	memcpy(ip + 24, dst->ip6, 16);
	if (ext) {
		memcpy(p, (uint8_t[]){ after_ext, 0, 1, 4, 0, 0, 0, 0 }, 8);   /* PadN, 4 bytes */
		p += 8;
	}
	if (fr) {
		p[0] = 6;
		p[1] = 0;
		pg_put16(p + 2, (uint16_t)(fr->off | (fr->more ? 1 : 0)));
		pg_put32(p + 4, fr->id);
	}
	return ip;
}

/* Adds the IP header in front of l4 (l4 must have PG_HEADROOM before it) and writes the frame. */
static void pg_out_ip(struct pg_gen *g, struct pg_sess *s, int dir, uint8_t *l4, size_t l4len,
                      const struct pg_frag *fr)
{
	uint8_t *ip = g->o->ipv6 ? pg_ip6_header(g, s, dir, l4, l4len, fr)
	                         : pg_ip4_header(s, dir, l4, l4len, fr);

	pg_out_link(g, s, dir, ip, (size_t)(l4 + l4len - ip));
}

/* Splits the IP payload into 2 or 3 fragments. The first one always holds the whole TCP header
 * (th bytes, rounded up to 8); the other cuts are random multiples of 8. */
static void pg_out_fragments(struct pg_gen *g, struct pg_sess *s, int dir, uint8_t *l4,
                             size_t l4len, size_t th)
{
	size_t first = (th + 7) & ~(size_t)7, ncand, cut[4];
	unsigned n = 2;
	struct pg_frag fr;

	if (first >= l4len) {   /* cannot happen with a non-empty payload and th = 32; be safe */
		pg_out_ip(g, s, dir, l4, l4len, NULL);
		return;
	}
	ncand = (l4len - 1 - first) / 8 + 1;   /* cuts first, first + 8, ... < l4len */
	cut[0] = 0;
	cut[1] = first + 8 * (size_t)pg_rng_below(&s->rng, ncand);
	if (ncand >= 2 && pg_rng_pct(&s->rng, 50)) {
		size_t a = (size_t)pg_rng_below(&s->rng, ncand), b = (size_t)pg_rng_below(&s->rng, ncand - 1);
		b += b >= a;
		cut[1] = first + 8 * (a < b ? a : b);
		cut[2] = first + 8 * (a < b ? b : a);
		n = 3;
	}
	cut[n] = l4len;
	fr.id = g->o->ipv6 ? s->frag_id++ : s->ipid[dir]++;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *dst = g->out.frag + PG_HEADROOM;
		memcpy(dst, l4 + cut[i], cut[i + 1] - cut[i]);
		fr.off = cut[i];
		fr.more = i + 1 < n;
		pg_out_ip(g, s, dir, dst, cut[i + 1] - cut[i], &fr);
	}
}

/* TCP options: SYN = MSS, SACK_PERM, TS, NOP, WS (Linux order); others NOP NOP TS; RST none. */
static size_t pg_tcp_options(uint8_t *o, const struct pg_sess *s, int dir, uint8_t flags,
                             unsigned mss)
{
	uint32_t tsecr = s->tsval[!dir];

	if (flags & PG_TH_RST)
		return 0;
	if (flags & PG_TH_SYN) {
		memcpy(o, (uint8_t[]){ 2, 4, 0, 0, 4, 2, 8, 10 }, 8);
		pg_put16(o + 2, (uint16_t)mss);
		pg_put32(o + 8, s->tsval[dir]);
		pg_put32(o + 12, (flags & PG_TH_ACK) ? tsecr : 0);
		memcpy(o + 16, (uint8_t[]){ 1, 3, 3, PG_WSCALE }, 4);
		return 20;
	}
	memcpy(o, (uint8_t[]){ 1, 1, 8, 10 }, 4);
	pg_put32(o + 4, s->tsval[dir]);
	pg_put32(o + 8, tsecr);
	return 12;
}

/* Fills the TCP checksum (pseudo-header + segment); --bad-tcp-csum makes it certainly wrong. */
static void pg_tcp_checksum(struct pg_gen *g, const struct pg_sess *s, int dir, uint8_t *tcp,
                            size_t tl)
{
	const struct pg_ep *src = pg_ep_of(s, dir), *dst = pg_ep_of(s, !dir);
	uint8_t ph[40] = { 0 };
	size_t phl;
	uint16_t c;

	if (g->o->ipv6) {
		memcpy(ph, src->ip6, 16);
		memcpy(ph + 16, dst->ip6, 16);
		pg_put32(ph + 32, (uint32_t)tl);
		ph[39] = 6;
		phl = 40;
	} else {
		memcpy(ph, src->ip4, 4);
		memcpy(ph + 4, dst->ip4, 4);
		ph[9] = 6;
		pg_put16(ph + 10, (uint16_t)tl);
		phl = 12;
	}
	c = pg_fold(pg_sum(pg_sum(0, ph, phl), tcp, tl));
	if (g->o->bad_csum)
		c ^= 0x5555;    /* any mask but 0xffff changes the value modulo 0xffff */
	memcpy(tcp + 16, &c, 2);
}

/* Builds one TCP segment in the frame buffer and writes it (as fragments for client login
 * segments with --fragment). */
static void pg_out_tcp(struct pg_gen *g, struct pg_sess *s, int dir, uint8_t flags, uint32_t seq,
                       const uint8_t *data, size_t len)
{
	const struct pg_ep *src = pg_ep_of(s, dir), *dst = pg_ep_of(s, !dir);
	uint8_t *t = g->out.frame + PG_HEADROOM;
	size_t th = 20 + pg_tcp_options(t + 20, s, dir, flags, g->o->mss);

	pg_put16(t, src->port);
	pg_put16(t + 2, dst->port);
	pg_put32(t + 4, seq);
	pg_put32(t + 8, (flags & PG_TH_ACK) ? s->nxt[!dir] : 0);
	t[12] = (uint8_t)((th / 4) << 4);
	t[13] = flags;
	pg_put16(t + 14, (flags & PG_TH_SYN) ? PG_WIN_SYN : (flags & PG_TH_RST) ? 0 : PG_WIN);
	memset(t + 16, 0, 4);
	if (len)
		memcpy(t + th, data, len);
	pg_tcp_checksum(g, s, dir, t, th + len);
	if (g->o->fragment && dir == PG_C2S && s->turn_login && len > 0)
		pg_out_fragments(g, s, dir, t, th + len, th);
	else
		pg_out_ip(g, s, dir, t, th + len, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* TCP conversation: handshake, data with delayed ACKs, teardown                               */
/* ------------------------------------------------------------------------------------------ */

/* A random delay in [lo, hi] microseconds (session stream: independent of interleaving). */
static uint32_t pg_us(struct pg_sess *s, uint32_t lo, uint32_t hi)
{
	return (uint32_t)pg_rng_range(&s->rng, lo, hi);
}

/* --drop N: decides whether this server payload segment is left out of the capture (the Nth,
 * 2Nth, ... written server segment with payload of the session) and records the gap. */
static bool pg_drop(struct pg_gen *g, struct pg_sess *s, int dir, size_t len)
{
	struct pg_gap gap;

	if (dir != PG_S2C || len == 0)
		return false;
	s->srv_segs++;
	if (!g->o->drop_every || s->srv_segs % g->o->drop_every)
		return false;
	gap.off = s->sent[PG_S2C];
	gap.len = (uint32_t)len;
	pg_buf_add(&s->gaps, &gap, sizeof gap);
	g->dropped++;
	return true;
}

/* Sends one segment: advances the clock by gap_us and writes it, unless the session is muted
 * (--midstream) or the segment is dropped (--drop); seq/ack state advances in every case. */
static void pg_send(struct pg_gen *g, struct pg_sess *s, int dir, uint8_t flags,
                    const uint8_t *data, size_t len, uint32_t gap_us)
{
	uint32_t seq = s->nxt[dir];

	if (!s->muted)
		g->clock_us += gap_us;
	s->tsval[dir] = s->tsbase[dir] + (uint32_t)(g->clock_us / 1000);
	if (!s->muted && !pg_drop(g, s, dir, len))
		pg_out_tcp(g, s, dir, flags, seq, data, len);
	s->nxt[dir] = seq + (uint32_t)len + ((flags & PG_TH_SYN) ? 1 : 0) + ((flags & PG_TH_FIN) ? 1 : 0);
	s->sent[dir] += len;
}

/* Sends the next data segment of the current turn: at most MSS bytes, never across a push point;
 * PSH on the last segment before a push point or the end of the turn. */
static void pg_send_segment(struct pg_gen *g, struct pg_sess *s)
{
	size_t end = s->turn.len, len;
	uint8_t flags = PG_TH_ACK;
	uint32_t gap;

	while (s->push_i < s->npush && s->push[s->push_i] <= s->turn_off)
		s->push_i++;
	if (s->push_i < s->npush)
		end = s->push[s->push_i];
	len = end - s->turn_off;
	if (len > g->o->mss)
		len = g->o->mss;
	if (s->turn_off + len == end)
		flags |= PG_TH_PSH;
	if (!s->first_seg)
		gap = pg_us(s, 6, 30);
	else
		gap = s->turn_dir == PG_S2C ? pg_us(s, 80, 2000) : pg_us(s, 200, 5000);
	pg_send(g, s, s->turn_dir, flags, s->turn.p + s->turn_off, len, gap);
	s->turn_off += len;
	s->first_seg = false;
	s->last_dir = s->turn_dir;
	s->owed++;
	if (s->turn_off == s->turn.len)
		s->turn_active = false;
}

/* One teardown packet (see pg_close_steps); marks the session done after the last one. */
static void pg_step_close(struct pg_gen *g, struct pg_sess *s)
{
	int dir = pg_close_steps[s->close][s->close_step].dir;

	if (dir >= 0) {
		pg_send(g, s, dir, pg_close_steps[s->close][s->close_step].flags, NULL, 0,
		        pg_us(s, 20, s->close_step ? 300 : 1000));
		s->close_step++;
	}
	if (pg_close_steps[s->close][s->close_step].dir < 0)
		s->phase = PG_PH_DONE;
}

/* One data-phase packet: a segment of the current turn, or a pure ACK from the receiver after
 * every second segment (data in the other direction carries the ACK instead). */
static void pg_step_data(struct pg_gen *g, struct pg_sess *s)
{
	if (!s->turn_active) {
		if (!pg_turn_next(g, s)) {
			s->phase = PG_PH_CLOSE;
			pg_step_close(g, s);
			return;
		}
		s->turn_active = true;
		s->first_seg = true;
		if (s->turn_dir != s->last_dir)
			s->owed = 0;
	}
	if (s->owed >= 2 || (s->owed && s->first_seg)) {
		pg_send(g, s, !s->last_dir, PG_TH_ACK, NULL, 0, pg_us(s, 5, 40));
		s->owed = 0;
		return;
	}
	pg_send_segment(g, s);
}

/* Advances the session by one packet. Returns false once the session has sent its last one. */
static bool pg_sess_step(struct pg_gen *g, struct pg_sess *s)
{
	switch (s->phase) {
	case PG_PH_SYN:   /* a reused 4-tuple reconnects 1-2 s after the first connection ended */
		pg_send(g, s, PG_C2S, PG_TH_SYN, NULL, 0,
		        s->reuse_role == 2 ? pg_us(s, 1000000, 2000000) : pg_us(s, 200, 3000));
		s->phase = PG_PH_SYNACK;
		break;
	case PG_PH_SYNACK:
		pg_send(g, s, PG_S2C, PG_TH_SYN | PG_TH_ACK, NULL, 0, pg_us(s, 30, 300));
		s->phase = PG_PH_HSACK;
		break;
	case PG_PH_HSACK:
		pg_send(g, s, PG_C2S, PG_TH_ACK, NULL, 0, pg_us(s, 30, 300));
		s->phase = PG_PH_DATA;
		break;
	case PG_PH_DATA: pg_step_data(g, s); break;
	case PG_PH_CLOSE: pg_step_close(g, s); break;
	case PG_PH_DONE: break;
	}
	return s->phase != PG_PH_DONE;
}

/* ------------------------------------------------------------------------------------------ */
/* Session lifecycle and manifest                                                              */
/* ------------------------------------------------------------------------------------------ */

static void pg_tcp_init(struct pg_sess *s, bool midstream)
{
	for (int d = 0; d < 2; d++) {
		s->nxt[d] = (uint32_t)pg_rng_next(&s->rng);
		s->ipid[d] = (uint16_t)pg_rng_next(&s->rng);
		s->flow[d] = (uint32_t)pg_rng_below(&s->rng, 1u << 20);
		s->tsbase[d] = (uint32_t)pg_rng_next(&s->rng);
	}
	s->frag_id = (uint32_t)pg_rng_next(&s->rng);
	s->muted = midstream;
	s->phase = PG_PH_SYN;
	s->last_dir = PG_C2S;
}

/* (Re)initialises slot s as the next session; with pair_second it reuses the previous
 * session's 4-tuple (--port-reuse). Buffers are kept to avoid allocation churn. */
static void pg_sess_start(struct pg_gen *g, struct pg_sess *s, bool pair_second)
{
	struct pg_buf hdrs = s->hdrs, turn = s->turn, gaps = s->gaps;
	struct pg_ep cli = s->cli, srv = s->srv;
	uint64_t first = s->idx;

	memset(s, 0, sizeof *s);
	s->hdrs = hdrs;
	s->turn = turn;
	s->gaps = gaps;
	s->hdrs.len = s->turn.len = s->gaps.len = 0;
	s->idx = g->started++;
	pg_rng_seed(&s->rng, g->o->seed, s->idx + 1);
	/* Drawn only with --short-pct, so that every other capture keeps its bytes. */
	s->short_sess = g->o->short_mode ||
	                (g->o->short_pct && pg_rng_below(&s->rng, 100) < g->o->short_pct);
	if (pair_second) {
		s->cli = cli;
		s->srv = srv;
		s->reuse_role = 2;
		s->reuse_of = first;
	} else {
		pg_tuple_new(g, s);
		if (g->o->reuse != PG_REUSE_OFF) {
			s->reuse_role = 1;
			g->pairs++;
		}
	}
	pg_plan(g, s);
	pg_tcp_init(s, g->o->midstream);
}

static void pg_manifest_header(FILE *f)
{
	fputs("#session\tclient\tserver\tmech\tuser\tpassword\tresult\tfailed_passwords\tapop_ts"
	      "\tflags\tgaps\t[cmd\tmsg\tsize\tsha256\twire]...\n", f);
}

/* mech, user, password and result of the last attempt, earlier (failed) passwords, and the
 * greeting's APOP timestamp; all "-" with --midstream (none of it is on the wire). */
static void pg_manifest_auth(FILE *f, const struct pg_gen *g, const struct pg_sess *s)
{
	const struct pg_auth *au = &s->auth;
	const struct pg_attempt *last = &au->att[au->natt - 1];

	if (g->o->midstream) {
		fputs("-\t-\t-\t-\t-\t-\t", f);
		return;
	}
	fprintf(f, "%s\t%s\t%s\t%s\t", pg_mech_names[au->mech], au->user, last->pass,
	        last->ok ? "ok" : "fail");
	for (unsigned i = 0; i + 1 < au->natt; i++)
		fprintf(f, "%s%s", i ? "," : "", au->att[i].pass);
	fputs(au->natt > 1 ? "\t" : "-\t", f);
	fprintf(f, "%s\t", s->ts[0] ? s->ts : "-");
}

static void pg_manifest_flags(FILE *f, const struct pg_gen *g, const struct pg_sess *s)
{
	fprintf(f, "%s,split=%s,close=%s", s->pipelined ? "pipelined" : "serial",
	        pg_split_names[s->split], pg_close_names[s->close]);
	if (s->lower)
		fputs(",lower", f);
	if (s->capa)
		fputs(",capa", f);
	if (s->short_sess)
		fputs(",short", f);
	if (g->o->midstream)
		fputs(",midstream", f);
	else if (g->o->fragment)
		fputs(",frag", f);
	if (s->reuse_role == 1)
		fputs(",reuse1", f);
	else if (s->reuse_role == 2)
		fprintf(f, ",reuse2=%" PRIu64, s->reuse_of);
	fputc('\t', f);
}

/* True if a dropped segment overlaps the server stream span [lo, hi). */
static bool pg_gap_hits(const struct pg_sess *s, uint64_t lo, uint64_t hi)
{
	const struct pg_gap *gp = (const struct pg_gap *)(const void *)s->gaps.p;
	size_t n = s->gaps.len / sizeof *gp;

	for (size_t i = 0; i < n; i++)
		if (gp[i].off < hi && gp[i].off + gp[i].len > lo)
			return true;
	return false;
}

/* One TSV line per session (completion order); see pg_manifest_header() and popgen.md. */
static void pg_manifest_line(struct pg_gen *g, const struct pg_sess *s)
{
	const struct pg_gap *gp = (const struct pg_gap *)(const void *)s->gaps.p;
	size_t ngaps = s->gaps.len / sizeof *gp;
	FILE *f = g->manifest;
	char c[64], v[64], sha[65];

	pg_ep_str(&s->cli, g->o->ipv6, c);
	pg_ep_str(&s->srv, g->o->ipv6, v);
	fprintf(f, "%" PRIu64 "\t%s\t%s\t", s->idx, c, v);
	pg_manifest_auth(f, g, s);
	pg_manifest_flags(f, g, s);
	for (size_t i = 0; i < ngaps; i++)
		fprintf(f, "%s%" PRIu64 "+%" PRIu32, i ? "," : "", gp[i].off, gp[i].len);
	if (!ngaps)
		fputc('-', f);
	for (unsigned i = 0; i < s->nrecs; i++) {
		const struct pg_rec *r = &s->recs[i];
		pg_hex(r->sha, 32, sha);
		fprintf(f, "\t%s\t%u\t%" PRIu64 "\t%s\t%s", pg_ck_kw[r->kind], r->n, r->size, sha,
		        pg_gap_hits(s, r->wire_lo, r->wire_hi) ? "gap" : "ok");
	}
	fputc('\n', f);
}

static void pg_sess_finish(struct pg_gen *g, struct pg_sess *s)
{
	g->done++;
	if (g->manifest)
		pg_manifest_line(g, s);
}

static bool pg_can_start(const struct pg_gen *g)
{
	return g->started < g->o->sessions && g->out.bytes < g->o->size_limit;
}

/* Runs up to --concurrency sessions at once, picking a random active one for every packet;
 * a finished slot starts the next session (the pair's second one with --port-reuse). */
static void pg_run(struct pg_gen *g)
{
	unsigned n = g->o->concurrency, nact = 0;
	struct pg_sess *pool = pg_xrealloc(NULL, n * sizeof *pool);
	struct pg_sess **act = pg_xrealloc(NULL, n * sizeof *act);

	memset(pool, 0, n * sizeof *pool);
	for (; nact < n && pg_can_start(g); nact++) {
		act[nact] = &pool[nact];
		pg_sess_start(g, act[nact], false);
	}
	while (nact) {
		unsigned i = nact == 1 ? 0 : (unsigned)pg_rng_below(&g->rng, nact);
		struct pg_sess *s = act[i];
		if (pg_sess_step(g, s))
			continue;
		pg_sess_finish(g, s);
		if (pg_can_start(g))
			pg_sess_start(g, s, s->reuse_role == 1);
		else
			act[i] = act[--nact];
	}
	for (unsigned i = 0; i < n; i++) {
		free(pool[i].hdrs.p);
		free(pool[i].turn.p);
		free(pool[i].gaps.p);
	}
	free(pool);
	free(act);
}

/* ------------------------------------------------------------------------------------------ */
/* Command line                                                                                 */
/* ------------------------------------------------------------------------------------------ */

static void pg_usage(FILE *f)
{
	fputs(
	"usage: popgen -o FILE [options]\n"
	"Writes a deterministic synthetic POP3 capture (pcap) for popsift tests and benchmarks.\n"
	"\n"
	"  -o, --output FILE       output pcap ('-' = stdout)                      (required)\n"
	"  -s, --seed N            PRNG seed; same seed + options = same bytes     (default 1)\n"
	"  -n, --sessions N        number of sessions (default 10, unlimited with --size)\n"
	"  -c, --concurrency N     sessions interleaved at once, packets picked at random (default 4)\n"
	"      --size BYTES        stop starting sessions once the file reaches BYTES (K/M/G = 2^10..)\n"
	"      --msg-min BYTES     smallest message (default 300)\n"
	"      --msg-max BYTES     largest message (default 4M, at most 1G)\n"
	"      --msg-dist log|uniform  message size distribution (default log: per power of two)\n"
	"      --mss N             TCP payload per segment (default 1448)\n"
	"      --port N            server port (default 110)\n"
	"      --short             short sessions: greeting, USER/PASS, STAT, QUIT only\n"
	"      --short-pct N       N% of the sessions (drawn per session) short, the rest as usual\n"
	"      --linktype T        eth|vlan|qinq|sll|sll2|null|raw (default eth)\n"
	"      --ipv6              IPv6 (2001:db8::/32) instead of IPv4\n"
	"      --ipv6-ext          IPv6 with a hop-by-hop options header before TCP (implies --ipv6)\n"
	"      --midstream         omit handshake, greeting and login: capture starts in TRANSACTION\n"
	"      --drop N            drop every Nth server payload segment of each session (gaps)\n"
	"      --fragment          send client login segments as 2-3 IP fragments\n"
	"      --port-reuse[=HOW]  sessions come in pairs on one 4-tuple; HOW = fin|nofin|rst|mixed\n"
	"                          (how the first one ends; default mixed = fin, nofin, rst in turn)\n"
	"      --bad-tcp-csum      write wrong TCP checksums (IPv4 header checksums stay right)\n"
	"      --manifest FILE     ground truth, one TSV line per session (see samples/popgen.md)\n"
	"  -h, --help              this text\n", f);
}

/* Parses a decimal count with an optional K/M/G suffix (binary multiples, optional B/iB).
 * Dies with the option name on malformed or out-of-range input. */
static uint64_t pg_parse_size(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		pg_die("%s: not a number: '%s'", opt, s);
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: break;
	}
	if (shift && (strcasecmp(end, "B") == 0 || strcasecmp(end, "iB") == 0))
		end += strlen(end);
	if (*end)
		pg_die("%s: bad suffix in '%s' (use K, M or G)", opt, s);
	if (shift && v > (UINT64_MAX >> shift))
		pg_die("%s: too large: '%s'", opt, s);
	v <<= shift;
	if (v < min || v > max)
		pg_die("%s: %llu is out of range [%" PRIu64 ", %" PRIu64 "]", opt, v, min, max);
	return v;
}

/* Index of `s` in names[0..n), or dies listing the choices. */
static unsigned pg_parse_enum(const char *opt, const char *s, const char *const *names, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	fprintf(stderr, "popgen: %s: unknown value '%s'; one of:", opt, s);
	for (unsigned i = 0; i < n; i++)
		fprintf(stderr, " %s", names[i]);
	fputc('\n', stderr);
	exit(1);
}

enum { PG_OPT_SIZE = 256, PG_OPT_MSG_MIN, PG_OPT_MSG_MAX, PG_OPT_MSG_DIST, PG_OPT_MSS, PG_OPT_PORT,
       PG_OPT_SHORT, PG_OPT_LINK, PG_OPT_IPV6, PG_OPT_IPV6_EXT, PG_OPT_MIDSTREAM, PG_OPT_DROP,
       PG_OPT_FRAGMENT, PG_OPT_REUSE, PG_OPT_BAD_CSUM, PG_OPT_MANIFEST, PG_OPT_SHORT_PCT };

static const struct option pg_long_opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "seed", required_argument, NULL, 's' },
	{ "sessions", required_argument, NULL, 'n' },
	{ "concurrency", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, PG_OPT_SIZE },
	{ "msg-min", required_argument, NULL, PG_OPT_MSG_MIN },
	{ "msg-max", required_argument, NULL, PG_OPT_MSG_MAX },
	{ "msg-dist", required_argument, NULL, PG_OPT_MSG_DIST },
	{ "mss", required_argument, NULL, PG_OPT_MSS },
	{ "port", required_argument, NULL, PG_OPT_PORT },
	{ "short", no_argument, NULL, PG_OPT_SHORT },
	{ "short-pct", required_argument, NULL, PG_OPT_SHORT_PCT },
	{ "linktype", required_argument, NULL, PG_OPT_LINK },
	{ "ipv6", no_argument, NULL, PG_OPT_IPV6 },
	{ "ipv6-ext", no_argument, NULL, PG_OPT_IPV6_EXT },
	{ "midstream", no_argument, NULL, PG_OPT_MIDSTREAM },
	{ "drop", required_argument, NULL, PG_OPT_DROP },
	{ "fragment", no_argument, NULL, PG_OPT_FRAGMENT },
	{ "port-reuse", optional_argument, NULL, PG_OPT_REUSE },
	{ "bad-tcp-csum", no_argument, NULL, PG_OPT_BAD_CSUM },
	{ "manifest", required_argument, NULL, PG_OPT_MANIFEST },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Applies one parsed option to o. */
static void pg_opt_apply(struct pg_opts *o, int c, const char *arg, bool *sessions_set)
{
	static const char *const dists[] = { "log", "uniform" };

	switch (c) {
	case 'o': o->out_path = arg; break;
	case 's': o->seed = pg_parse_size("--seed", arg, 0, UINT64_MAX); break;
	case 'n':
		o->sessions = pg_parse_size("--sessions", arg, 1, UINT64_MAX);
		*sessions_set = true;
		break;
	case 'c': o->concurrency = (unsigned)pg_parse_size("--concurrency", arg, 1, 100000); break;
	case PG_OPT_SIZE: o->size_limit = pg_parse_size("--size", arg, 1, UINT64_MAX); break;
	case PG_OPT_MSG_MIN: o->msg_min = pg_parse_size("--msg-min", arg, 1, PG_MSG_MAX_LIMIT); break;
	case PG_OPT_MSG_MAX: o->msg_max = pg_parse_size("--msg-max", arg, 1, PG_MSG_MAX_LIMIT); break;
	case PG_OPT_MSG_DIST: o->dist = (enum pg_dist)pg_parse_enum("--msg-dist", arg, dists, 2); break;
	case PG_OPT_MSS: o->mss = (unsigned)pg_parse_size("--mss", arg, 64, PG_MSS_MAX); break;
	case PG_OPT_PORT: o->port = (uint16_t)pg_parse_size("--port", arg, 1, 65535); break;
	case PG_OPT_SHORT: o->short_mode = true; break;
	case PG_OPT_SHORT_PCT: o->short_pct = (unsigned)pg_parse_size("--short-pct", arg, 0, 100); break;
	case PG_OPT_LINK:
		o->link = (enum pg_link)pg_parse_enum("--linktype", arg, pg_link_names, PG_LINK_COUNT);
		break;
	case PG_OPT_IPV6: o->ipv6 = true; break;
	case PG_OPT_IPV6_EXT: o->ipv6 = o->ipv6_ext = true; break;
	case PG_OPT_MIDSTREAM: o->midstream = true; break;
	case PG_OPT_DROP: o->drop_every = pg_parse_size("--drop", arg, 1, UINT64_MAX); break;
	case PG_OPT_FRAGMENT: o->fragment = true; break;
	case PG_OPT_REUSE:
		o->reuse = arg ? (enum pg_reuse)pg_parse_enum("--port-reuse", arg, pg_reuse_names + 1,
		                                              PG_REUSE_COUNT - 1) + 1
		               : PG_REUSE_MIXED;
		break;
	case PG_OPT_BAD_CSUM: o->bad_csum = true; break;
	case PG_OPT_MANIFEST: o->manifest_path = arg; break;
	case 'h': pg_usage(stdout); exit(0);
	default: pg_usage(stderr); exit(2);
	}
}

static void pg_parse_args(int argc, char **argv, struct pg_opts *o)
{
	bool sessions_set = false;
	int c;

	*o = (struct pg_opts){ .seed = 1, .sessions = 10, .size_limit = UINT64_MAX, .msg_min = 300,
	                       .msg_max = 4u << 20, .concurrency = 4, .mss = 1448, .port = 110 };
	while ((c = getopt_long(argc, argv, "o:s:n:c:h", pg_long_opts, NULL)) != -1)
		pg_opt_apply(o, c, optarg, &sessions_set);
	if (optind < argc)
		pg_die("unexpected argument '%s' (see --help)", argv[optind]);
	if (!o->out_path)
		pg_die("-o FILE is required (see --help)");
	if (o->size_limit != UINT64_MAX && !sessions_set)
		o->sessions = UINT64_MAX;
	if (o->msg_min > o->msg_max)
		pg_die("--msg-min (%" PRIu64 ") is larger than --msg-max (%" PRIu64 ")", o->msg_min,
		       o->msg_max);
}

/* ------------------------------------------------------------------------------------------ */
/* Main                                                                                         */
/* ------------------------------------------------------------------------------------------ */

static void pg_out_open(struct pg_gen *g)
{
	struct pg_out *out = &g->out;
	size_t fsz = PG_HEADROOM + PG_TCP_HDR_MAX + g->o->mss;

	out->fp = strcmp(g->o->out_path, "-") ? fopen(g->o->out_path, "wb") : stdout;
	if (!out->fp)
		pg_die("cannot open %s: %s", g->o->out_path, strerror(errno));
	if (setvbuf(out->fp, NULL, _IOFBF, PG_OUT_BUFSZ) != 0)
		pg_die("setvbuf failed");
	out->pd = pcap_open_dead(pg_link_dlt[g->o->link], PG_SNAPLEN);
	if (!out->pd)
		pg_die("pcap_open_dead failed");
	out->dump = pcap_dump_fopen(out->pd, out->fp);
	if (!out->dump)
		pg_die("pcap_dump_fopen: %s", pcap_geterr(out->pd));
	out->bytes = 24;
	out->frame = pg_xrealloc(NULL, fsz);
	out->frag = pg_xrealloc(NULL, fsz);
}

/* Flushes and closes the capture; dies if anything could not be written (e.g. disk full). */
static void pg_out_close(struct pg_gen *g)
{
	if (pcap_dump_flush(g->out.dump) != 0 || ferror(g->out.fp))
		pg_die("write error on %s: %s", g->o->out_path, strerror(errno));
	pcap_dump_close(g->out.dump);
	pcap_close(g->out.pd);
	free(g->out.frame);
	free(g->out.frag);
}

static void pg_manifest_open(struct pg_gen *g)
{
	if (!g->o->manifest_path)
		return;
	g->manifest = fopen(g->o->manifest_path, "w");
	if (!g->manifest)
		pg_die("cannot open %s: %s", g->o->manifest_path, strerror(errno));
	pg_manifest_header(g->manifest);
}

static void pg_manifest_close(struct pg_gen *g)
{
	if (!g->manifest)
		return;
	if (fflush(g->manifest) != 0 || ferror(g->manifest) || fclose(g->manifest) != 0)
		pg_die("write error on %s: %s", g->o->manifest_path, strerror(errno));
}

static double pg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct pg_opts o;
	struct pg_gen g = { 0 };
	double t0 = pg_now();

	pg_parse_args(argc, argv, &o);
	g.o = &o;
	pg_rng_seed(&g.rng, o.seed, 0);
	if (!o.short_mode)
		pg_corpus_build(&g.corpus, o.seed, o.msg_max + PG_CORPUS_MIN);
	pg_hosts_init(&g);
	pg_out_open(&g);
	pg_manifest_open(&g);
	pg_run(&g);
	pg_out_close(&g);
	pg_manifest_close(&g);
	fprintf(stderr,
	        "popgen: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64 " sessions, %" PRIu64
	        " messages, %" PRIu64 " dropped segments -> %s (%.2f s)\n",
	        g.out.packets, g.out.bytes, g.done, g.messages, g.dropped, o.out_path, pg_now() - t0);
	free(g.corpus.text);
	free(g.corpus.lines);
	free(g.corpus.dots);
	free(g.hosts);
	return 0;
}
