/*
 * tls_keylog.c - the key store (tls_keylog.h): parses NSS key log lines and keeps the
 * secrets in an open-addressing table keyed by client random.
 *
 * Owns the line buffer (bounded, TLS_KEYLOG_LINE_MAX) and the table (grown by
 * doubling up to TLS_KEYLOG_MAX_SESSIONS). Knows nothing of TLS records. The
 * format is NSS's "NSS Key Log Format" (also draft-ietf-tls-keylogfile).
 */
#include "tls_keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KL_INITIAL_SLOTS 64 /* a power of two */

struct kl_entry {
	uint8_t used;
	uint8_t client_random[32];
	struct tls_secret s[TLS_SECRET_KIND_COUNT];
};

struct tls_keylog {
	struct kl_entry *slots;
	size_t nslots; /* a power of two */
	size_t used;
	char line[TLS_KEYLOG_LINE_MAX];
	size_t line_len;
	bool line_overflow; /* the current line outgrew line[]: it is invalid */
	struct tls_keylog_stats st;
};

/* Labels: the ones popsift stores, then the ones it knows and ignores. */
static const struct {
	const char *label;
	int kind; /* enum tls_secret_kind, or -1: ignored */
} labels[] = {
	{ "CLIENT_RANDOM", TLS_SECRET_MASTER },
	{ "CLIENT_EARLY_TRAFFIC_SECRET", TLS_SECRET_CLIENT_EARLY },
	{ "CLIENT_HANDSHAKE_TRAFFIC_SECRET", TLS_SECRET_CLIENT_HS },
	{ "SERVER_HANDSHAKE_TRAFFIC_SECRET", TLS_SECRET_SERVER_HS },
	{ "CLIENT_TRAFFIC_SECRET_0", TLS_SECRET_CLIENT_AP0 },
	{ "SERVER_TRAFFIC_SECRET_0", TLS_SECRET_SERVER_AP0 },
	{ "EXPORTER_SECRET", -1 },
	{ "EARLY_EXPORTER_SECRET", -1 },
	{ "RSA", -1 },
};

struct tls_keylog *tls_keylog_new(void)
{
	struct tls_keylog *kl = calloc(1, sizeof(*kl));
	if (!kl)
		return NULL;
	kl->slots = calloc(KL_INITIAL_SLOTS, sizeof(*kl->slots));
	if (!kl->slots) {
		free(kl);
		return NULL;
	}
	kl->nslots = KL_INITIAL_SLOTS;
	return kl;
}

void tls_keylog_free(struct tls_keylog *kl)
{
	if (!kl)
		return;
	free(kl->slots);
	free(kl);
}

/* Client randoms are random from octet 4 on (TLS 1.2 clients once put the time
   in octets 0-3): mixing the last 8 is enough. */
static size_t kl_hash(const uint8_t cr[32])
{
	uint64_t h;
	memcpy(&h, cr + 24, 8);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h;
}

/* The slot holding cr, or the empty slot where it would go. */
static struct kl_entry *kl_slot(struct kl_entry *slots, size_t nslots, const uint8_t cr[32])
{
	size_t i = kl_hash(cr) & (nslots - 1);
	while (slots[i].used && memcmp(slots[i].client_random, cr, 32) != 0)
		i = (i + 1) & (nslots - 1);
	return &slots[i];
}

/* Doubles the table; false when out of memory (the table is unchanged). */
static bool kl_grow(struct tls_keylog *kl)
{
	size_t n = kl->nslots * 2;
	struct kl_entry *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < kl->nslots; i++)
		if (kl->slots[i].used)
			*kl_slot(slots, n, kl->slots[i].client_random) = kl->slots[i];
	free(kl->slots);
	kl->slots = slots;
	kl->nslots = n;
	return true;
}

/* The entry for cr, created if need be; NULL when the store is full. */
static struct kl_entry *kl_entry_for(struct tls_keylog *kl, const uint8_t cr[32])
{
	struct kl_entry *e = kl_slot(kl->slots, kl->nslots, cr);
	if (e->used)
		return e;
	if (kl->used >= TLS_KEYLOG_MAX_SESSIONS)
		return NULL;
	/* Keep the load at most 1/2 so probes stay short. */
	if ((kl->used + 1) * 2 > kl->nslots) {
		if (!kl_grow(kl))
			return NULL;
		e = kl_slot(kl->slots, kl->nslots, cr);
	}
	e->used = 1;
	memcpy(e->client_random, cr, 32);
	kl->used++;
	kl->st.sessions++;
	return e;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes exactly 2*n hex digits from s into out; false on anything else. */
static bool unhex(const char *s, size_t len, uint8_t *out, size_t n)
{
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Splits line into up to 4 whitespace-separated fields; returns their number. */
static int split_fields(const char *p, size_t n, const char *f[4], size_t fl[4])
{
	int k = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n)
			break;
		if (k == 4)
			return 5; /* too many */
		f[k] = p + i;
		while (i < n && p[i] != ' ' && p[i] != '\t')
			i++;
		fl[k] = (size_t)(p + i - f[k]);
		k++;
	}
	return k;
}

static void kl_invalid(struct tls_keylog *kl)
{
	kl->st.invalid++;
	if (!kl->st.first_invalid)
		kl->st.first_invalid = kl->st.lines;
}

static int label_kind(const char *s, size_t n, bool *known)
{
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strlen(labels[i].label) == n && memcmp(labels[i].label, s, n) == 0) {
			*known = true;
			return labels[i].kind;
		}
	*known = false;
	return -1;
}

/* Stores one secret line: fields label, client random, secret. */
static void kl_store(struct tls_keylog *kl, int kind, const char *f[3], const size_t fl[3])
{
	uint8_t cr[32], sec[TLS_SECRET_MAX];
	size_t slen = fl[2] / 2;
	bool len_ok = kind == TLS_SECRET_MASTER ? slen == 48 : (slen == 32 || slen == 48);
	if (!len_ok || !unhex(f[1], fl[1], cr, 32) || !unhex(f[2], fl[2], sec, slen)) {
		kl_invalid(kl);
		return;
	}
	struct kl_entry *e = kl_entry_for(kl, cr);
	if (!e) {
		kl->st.dropped++;
		return;
	}
	e->s[kind].len = (uint8_t)slen;
	memcpy(e->s[kind].v, sec, slen);
	kl->st.secrets++;
}

/* One complete line, without its LF (a CR before it is removed here). */
static void kl_line(struct tls_keylog *kl, const char *p, size_t n)
{
	kl->st.lines++;
	if (n && p[n - 1] == '\r')
		n--;
	const char *f[4];
	size_t fl[4];
	int k = split_fields(p, n, f, fl);
	if (k == 0 || f[0][0] == '#')
		return;
	bool known;
	int kind = label_kind(f[0], fl[0], &known);
	if (!known || k != 3) {
		kl_invalid(kl);
		return;
	}
	if (kind < 0) {
		kl->st.ignored++;
		return;
	}
	kl_store(kl, kind, f, fl);
}

/* The line gathered so far is complete (its LF came, or the text ended). */
static void end_line(struct tls_keylog *kl)
{
	if (kl->line_overflow) {
		kl->st.lines++;
		kl_invalid(kl);
	} else if (kl->line_len) {
		kl_line(kl, kl->line, kl->line_len);
	} else {
		kl->st.lines++; /* an empty line still counts, so line numbers hold */
	}
	kl->line_len = 0;
	kl->line_overflow = false;
}

void tls_keylog_feed(struct tls_keylog *kl, const char *text, size_t n)
{
	while (n) {
		const char *lf = memchr(text, '\n', n);
		size_t take = lf ? (size_t)(lf - text) : n;
		if (!kl->line_overflow && take <= sizeof(kl->line) - kl->line_len) {
			memcpy(kl->line + kl->line_len, text, take);
			kl->line_len += take;
		} else {
			kl->line_overflow = true;
		}
		if (!lf)
			return;
		end_line(kl);
		text += take + 1;
		n -= take + 1;
	}
}

void tls_keylog_flush(struct tls_keylog *kl)
{
	if (kl->line_len || kl->line_overflow)
		end_line(kl);
}

void tls_keylog_add_text(struct tls_keylog *kl, const char *text, size_t n)
{
	tls_keylog_feed(kl, text, n);
	tls_keylog_flush(kl);
}

int tls_keylog_load_file(struct tls_keylog *kl, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		tls_keylog_feed(kl, buf, (size_t)r);
	}
	close(fd);
	tls_keylog_flush(kl);
	return 0;
}

const struct tls_secret *tls_keylog_find(const struct tls_keylog *kl,
					 const uint8_t client_random[32],
					 enum tls_secret_kind kind)
{
	if (!kl || kind >= TLS_SECRET_KIND_COUNT)
		return NULL;
	const struct kl_entry *e = kl_slot(kl->slots, kl->nslots, client_random);
	if (!e->used || !e->s[kind].len)
		return NULL;
	return &e->s[kind];
}

void tls_keylog_stats(const struct tls_keylog *kl, struct tls_keylog_stats *st)
{
	*st = kl->st;
}
