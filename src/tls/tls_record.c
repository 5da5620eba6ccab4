/*
 * tls_record.c - TLS record framing and resynchronisation (tls_record.h).
 *
 * States: HEADER (at a trusted record boundary), BODY (gathering a wanted
 * body), SKIP (passing over an unwanted or damaged body), SCAN (framing lost).
 *
 * Buffers. Whole records found in the caller's chunk are handed on without a
 * copy; a body cut by a chunk boundary is gathered in `body` (at most
 * TLS_RECORD_MAX). `win` holds octets that must be looked at again: a header
 * cut by a chunk boundary (at most 5 octets, so a bad one can be rescanned from
 * its second octet), and in SCAN the octets being searched. A candidate header
 * needs at most WIN_NEED octets to be judged (its record and the header after
 * it), the window holds WIN_CAP = 2 * WIN_NEED, so a full window always allows
 * progress; a rejected candidate costs one octet and no copy, and the window
 * compacts only when at least half of it is behind the scan position, so
 * copying stays linear.
 *
 * Every decision depends on the octets alone, never on how they were cut into
 * chunks: the output is chunk-invariant.
 */
#include "tls_record.h"

#include <stdlib.h>
#include <string.h>

#define WIN_NEED (5 + TLS_RECORD_MAX + 5)
#define WIN_CAP (2 * WIN_NEED)
#define WIN_SMALL 64 /* kept allocated for cut headers */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool tls_rec_header_valid(const uint8_t h[5])
{
	return h[0] >= TLS_RT_CCS && h[0] <= TLS_RT_HEARTBEAT && h[1] == 3 && h[2] <= 4;
}

/* A header the scan may stop at: stricter than at a known boundary. */
static bool scan_candidate(const uint8_t *h)
{
	uint16_t len = be16(h + 3);
	return h[0] >= TLS_RT_CCS && h[0] <= TLS_RT_APPDATA && h[1] == 3 && h[2] <= 4 &&
	       len >= 1 && len <= TLS_RECORD_MAX;
}

void tls_rec_init(struct tls_rec_reader *r, const struct tls_rec_ops *ops, void *ctx,
		  bool midstream)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	r->ctx = ctx;
	r->state = midstream ? TLS_RS_SCAN : TLS_RS_HEADER;
}

static void rec_event(struct tls_rec_reader *r, enum tls_rec_event ev, uint64_t n,
		      const uint8_t *sample, size_t samplen)
{
	r->ops->event(r->ctx, ev, n, sample, samplen);
}

static void deliver(struct tls_rec_reader *r, const uint8_t *body, enum tls_rec_fate fate)
{
	r->state = TLS_RS_HEADER;
	r->ops->record(r->ctx, &r->hdr, body, fate);
}

/*
 * Reads the header at h (5 octets there). Returns the octets consumed: 5, or 1
 * when the header is bad and scanning starts at its second octet.
 */
static size_t read_header(struct tls_rec_reader *r, const uint8_t *h)
{
	if (!tls_rec_header_valid(h) || be16(h + 3) > TLS_RECORD_MAX) {
		rec_event(r, tls_rec_header_valid(h) ? TLS_REC_EV_TOO_LONG : TLS_REC_EV_INVALID, 0,
			  h, 5);
		r->state = TLS_RS_SCAN;
		r->skipped = 1;
		return 1;
	}
	memcpy(r->hdr.raw, h, 5);
	r->hdr.type = h[0];
	r->hdr.version = be16(h + 1);
	r->hdr.len = be16(h + 3);
	r->body_have = 0;
	r->lost = false;
	if (r->ops->want(r->ctx, &r->hdr)) {
		r->state = TLS_RS_BODY;
	} else {
		r->state = TLS_RS_SKIP;
		r->skip_left = r->hdr.len;
	}
	if (r->hdr.len == 0)
		deliver(r, r->state == TLS_RS_BODY ? h + 5 : NULL,
			r->state == TLS_RS_BODY ? TLS_REC_WHOLE : TLS_REC_SKIPPED);
	return 5;
}

/* Gathers the body; returns octets consumed. */
static size_t step_body(struct tls_rec_reader *r, const uint8_t *p, size_t n)
{
	size_t left = r->hdr.len - r->body_have;
	if (r->body_have == 0 && n >= left) {
		deliver(r, p, TLS_REC_WHOLE); /* whole in the caller's chunk: no copy */
		return left;
	}
	if (!r->body) {
		r->body = malloc(TLS_RECORD_MAX);
		if (!r->body) { /* out of memory: the record is lost, framing is not */
			r->state = TLS_RS_SKIP;
			r->skip_left = left;
			r->lost = true;
			return 0;
		}
	}
	size_t take = n < left ? n : left;
	memcpy(r->body + r->body_have, p, take);
	r->body_have += take;
	if (r->body_have == r->hdr.len)
		deliver(r, r->body, TLS_REC_WHOLE);
	return take;
}

/*
 * Runs the framed states over p[0..n) until it is consumed, framing is lost
 * (SCAN), or a header is cut (fewer than 5 octets left in HEADER); returns the
 * octets consumed.
 */
static size_t step_framed(struct tls_rec_reader *r, const uint8_t *p, size_t n)
{
	size_t used = 0;
	while (used < n && r->state != TLS_RS_SCAN) {
		if (r->state == TLS_RS_HEADER) {
			if (n - used < 5)
				break;
			used += read_header(r, p + used);
		} else if (r->state == TLS_RS_BODY) {
			used += step_body(r, p + used, n - used);
		} else {
			size_t take = r->skip_left < n - used ? r->skip_left : n - used;
			r->skip_left -= take;
			used += take;
			if (!r->skip_left)
				deliver(r, NULL, r->lost ? TLS_REC_LOST : TLS_REC_SKIPPED);
		}
	}
	return used;
}

/* Makes room for n more octets: compacts, then grows up to WIN_CAP. */
static void win_room(struct tls_rec_reader *r, size_t n)
{
	if (r->win_cap - r->win_len < n && r->win_start) {
		memmove(r->win, r->win + r->win_start, r->win_len - r->win_start);
		r->win_len -= r->win_start;
		r->win_start = 0;
	}
	if (r->win_cap - r->win_len >= n || r->win_cap >= WIN_CAP)
		return;
	size_t cap = r->win_cap ? r->win_cap * 2 : WIN_SMALL;
	while (cap < r->win_len + n && cap < WIN_CAP)
		cap *= 2;
	if (cap > WIN_CAP)
		cap = WIN_CAP;
	uint8_t *w = realloc(r->win, cap);
	if (w) {
		r->win = w;
		r->win_cap = cap;
	}
}

/*
 * Appends what fits of p[0..n) to the window; returns octets taken, at least
 * one when n > 0: if memory is short, held octets (or the input) are
 * skipped rather than the scan stalling.
 */
static size_t win_append(struct tls_rec_reader *r, const uint8_t *p, size_t n)
{
	win_room(r, n);
	if (n && r->win_cap == r->win_len) {
		r->skipped += r->win_len - r->win_start;
		r->win_start = r->win_len = 0;
		if (!r->win_cap) {
			r->skipped += n;
			return n;
		}
	}
	size_t take = r->win_cap - r->win_len < n ? r->win_cap - r->win_len : n;
	if (take)
		memcpy(r->win + r->win_len, p, take);
	r->win_len += take;
	return take;
}

/* Empties the window; its memory goes back unless it is the small one. */
static void win_clear(struct tls_rec_reader *r)
{
	r->win_start = r->win_len = 0;
	if (r->win_cap > WIN_SMALL) {
		free(r->win);
		r->win = NULL;
		r->win_cap = 0;
	}
}

/*
 * Judges the candidate at window position pos: 1 accepted, 0 rejected, -1
 * undecided until more octets come. at_end: the stream is over, so a record
 * ending exactly at the window's end is confirmed too.
 */
static int judge(const struct tls_rec_reader *r, size_t pos, bool at_end)
{
	const uint8_t *q = r->win + pos;
	if (!scan_candidate(q))
		return 0;
	size_t next = pos + 5 + be16(q + 3);
	if (r->win_len >= next + 5)
		return scan_candidate(r->win + next) && !memcmp(q + 1, r->win + next + 1, 2);
	if (at_end)
		return r->win_len == next;
	return -1;
}

/* Scans the window; leaves HEADER with win_start at a confirmed record, or SCAN. */
static void scan_window(struct tls_rec_reader *r, bool at_end)
{
	while (r->win_len - r->win_start >= 5) {
		/* Every candidate has 0x03 as its second octet; without one in
		   the window, only the last octet may still start a candidate. */
		const uint8_t *w = r->win;
		const uint8_t *q = memchr(w + r->win_start + 1, 3, r->win_len - r->win_start - 1);
		size_t pos = q ? (size_t)(q - w) - 1 : r->win_len - 1;
		r->skipped += pos - r->win_start;
		r->win_start = pos;
		if (r->win_len - pos < 5)
			return;
		int verdict = judge(r, pos, at_end);
		if (verdict < 0)
			return;
		if (verdict > 0) {
			rec_event(r, TLS_REC_EV_RESYNC, r->skipped, NULL, 0);
			r->skipped = 0;
			r->state = TLS_RS_HEADER;
			return;
		}
		r->win_start++;
		r->skipped++;
	}
}

/* One round of work on the window; false when it needs more input. */
static bool work_window(struct tls_rec_reader *r, const uint8_t **p, size_t *n, bool at_end)
{
	size_t have = r->win_len - r->win_start;
	if (r->state == TLS_RS_SCAN) {
		size_t took = win_append(r, *p, *n);
		*p += took;
		*n -= took;
		scan_window(r, at_end);
		return r->state != TLS_RS_SCAN || *n;
	}
	if (r->state == TLS_RS_HEADER && have < 5) {
		/* Top the cut header up to 5 octets, no more. */
		size_t took = win_append(r, *p, 5 - have < *n ? 5 - have : *n);
		*p += took;
		*n -= took;
		if (r->win_len - r->win_start < 5)
			return false;
	}
	r->win_start += step_framed(r, r->win + r->win_start, r->win_len - r->win_start);
	if (r->win_start == r->win_len && r->state != TLS_RS_SCAN)
		win_clear(r);
	return true;
}

void tls_rec_feed(struct tls_rec_reader *r, const uint8_t *p, size_t n)
{
	if (r->ended)
		return;
	for (;;) {
		/* The window first: what it holds comes before p. A scan runs
		   even when p is used up, since framing may have been lost on
		   octets already in the window. */
		if (r->state == TLS_RS_SCAN || r->win_len > r->win_start) {
			if (!work_window(r, &p, &n, false))
				return;
			continue;
		}
		if (!n)
			return;
		size_t used = step_framed(r, p, n);
		p += used;
		n -= used;
		if (n && r->state == TLS_RS_HEADER && n < 5) {
			win_append(r, p, n); /* a cut header */
			return;
		}
	}
}

void tls_rec_gap(struct tls_rec_reader *r, size_t n)
{
	if (r->ended || !n)
		return;
	size_t left, held = r->win_len - r->win_start;
	if (r->state == TLS_RS_BODY || r->state == TLS_RS_SKIP) {
		left = r->state == TLS_RS_BODY ? r->hdr.len - r->body_have : r->skip_left;
		if (n < left) {
			r->state = TLS_RS_SKIP;
			r->skip_left = left - n;
			r->lost = true;
			return;
		}
		deliver(r, NULL, TLS_REC_LOST);
		n -= left;
		if (!n)
			return;
		held = 0;
	}
	win_clear(r);
	if (r->state == TLS_RS_SCAN) {
		r->skipped += held + n;
		return;
	}
	/* A header (or part of one) fell in the gap: framing is lost. */
	rec_event(r, TLS_REC_EV_DESYNC, n + held, NULL, 0);
	r->skipped = 0;
	r->state = TLS_RS_SCAN;
}

void tls_rec_end(struct tls_rec_reader *r)
{
	if (r->ended)
		return;
	static const uint8_t none[1];
	const uint8_t *p = none; /* no input left (never NULL: p += 0 on NULL is undefined) */
	size_t n = 0;
	/* Whatever the window holds is all there will be. */
	while (r->win_len > r->win_start &&
	       (r->state == TLS_RS_SCAN || r->win_len - r->win_start >= 5 ||
		r->state != TLS_RS_HEADER))
		if (!work_window(r, &p, &n, true) && r->state == TLS_RS_SCAN)
			break;
	if (r->state == TLS_RS_SCAN) {
		r->skipped += r->win_len - r->win_start;
		if (r->skipped)
			rec_event(r, TLS_REC_EV_UNSYNCED, r->skipped, NULL, 0);
	} else if (r->state == TLS_RS_HEADER && r->win_len > r->win_start) {
		rec_event(r, TLS_REC_EV_TRUNCATED, 5 - (r->win_len - r->win_start), NULL, 0);
	} else if (r->state == TLS_RS_BODY) {
		rec_event(r, TLS_REC_EV_TRUNCATED, r->hdr.len - r->body_have, NULL, 0);
	} else if (r->state == TLS_RS_SKIP) {
		rec_event(r, TLS_REC_EV_TRUNCATED, r->skip_left, NULL, 0);
	}
	r->ended = true;
	r->skipped = 0;
	free(r->win);
	r->win = NULL;
	r->win_start = r->win_len = r->win_cap = 0;
}

void tls_rec_trim(struct tls_rec_reader *r)
{
	if (r->state != TLS_RS_BODY || r->body_have == 0) {
		free(r->body);
		r->body = NULL;
	}
}

void tls_rec_free(struct tls_rec_reader *r)
{
	free(r->body);
	free(r->win);
	r->body = r->win = NULL;
	r->win_cap = 0;
}
