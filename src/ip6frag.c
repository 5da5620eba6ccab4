/*
 * ip6frag.c - IPv6 fragment reassembly (ip6frag.h). Owns the datagrams in
 * progress: a fixed table of IP6F_DATAGRAMS_MAX entries, found by a hash of
 * (source, destination, identification), each with its fragments' offsets
 * (to tell duplicates from overlaps and to know when it is whole), the octets
 * received so far (grown to the highest end seen, never past 65,535), and the
 * unfragmentable headers of its first fragment. Entries are taken round-robin,
 * so the one taken next is always the oldest: the one dropped when the table
 * or its memory (IP6F_MEM_MAX) is full. What passes a bound, overlaps or
 * outlives IP6F_TIMEOUT is dropped and counted, never analysed half-made.
 * The engine (src/reasm.c) owns the one instance.
 */
#include "ip6frag.h"

#include <stdlib.h>
#include <string.h>

#include "../dissectors/cursor.h"

#define IP6_HEADER 40
#define IP6_PAYLOAD_MAX 65535
#define NH_FRAGMENT 44
#define IP6F_BUCKETS 4096 /* power of two */

struct ip6f_frag {
	uint16_t off, len; /* in the fragmentable part; len 65535 at most */
};

struct ip6f_dgram {
	bool used;
	uint8_t src[16], dst[16];
	uint32_t id;
	time_t first;             /* capture time of its first fragment */
	int hnext;                /* next entry in its hash bucket + 1; 0: none */
	uint8_t *head;            /* the first fragment's headers before its Fragment header */
	size_t head_n, nh_at;     /* their length; where the Next Header to patch is in them */
	uint8_t next;             /* the first fragment's Fragment header Next Header */
	uint8_t *data;            /* the fragmentable part, as received */
	size_t cap;
	size_t total;             /* its length, once the last fragment came; else 0 */
	bool last_seen;
	size_t covered;           /* octets received (fragments never overlap) */
	struct ip6f_frag frags[IP6F_FRAGS_MAX];
	unsigned n_frags;
};

struct ip6frag {
	struct ip6f_dgram d[IP6F_DATAGRAMS_MAX];
	int bucket[IP6F_BUCKETS]; /* first entry + 1; 0: empty */
	size_t next_slot;         /* round-robin: the oldest entry, or a free one */
	size_t mem;               /* octets held by all entries */
	time_t swept;             /* the capture second of the last timeout sweep */
	struct ip6frag_stats st;
	uint8_t out[IP6F_PACKET_MAX];
};

/* One fragment, as parsed. */
struct ip6f_in {
	const uint8_t *src, *dst;
	size_t head_n, nh_at; /* headers before the Fragment header; the Next Header byte to patch */
	uint8_t next;
	uint32_t id;
	size_t off;           /* octets */
	bool more;
	const uint8_t *p;     /* its fragmentable-part octets */
	size_t n;
};

enum ip6f_parsed { IP6F_P_NONE, IP6F_P_FRAGMENT, IP6F_P_BAD };

struct ip6frag *ip6frag_new(void)
{
	return calloc(1, sizeof(struct ip6frag));
}

static uint32_t ip6f_hash(const uint8_t *src, const uint8_t *dst, uint32_t id)
{
	uint32_t h = 2166136261u ^ id;
	for (int i = 0; i < 16; i++)
		h = ((h ^ src[i]) * 16777619u ^ dst[i]) * 16777619u;
	return h & (IP6F_BUCKETS - 1);
}

static void ip6f_unlink(struct ip6frag *f, struct ip6f_dgram *d)
{
	int self = (int)(d - f->d) + 1;
	int *link = &f->bucket[ip6f_hash(d->src, d->dst, d->id)];
	while (*link && *link != self)
		link = &f->d[*link - 1].hnext;
	if (*link)
		*link = d->hnext;
}

/* Forgets d; its fragments count as dropped unless it was reassembled. */
static void ip6f_release(struct ip6frag *f, struct ip6f_dgram *d, bool reassembled)
{
	if (!d->used)
		return;
	if (!reassembled)
		f->st.dropped += d->n_frags;
	ip6f_unlink(f, d);
	f->mem -= d->cap + d->head_n;
	free(d->head);
	free(d->data);
	memset(d, 0, sizeof(*d));
}

void ip6frag_free(struct ip6frag *f, struct ip6frag_stats *st)
{
	if (!f)
		return;
	for (size_t i = 0; i < IP6F_DATAGRAMS_MAX; i++)
		ip6f_release(f, &f->d[i], false);
	if (st)
		*st = f->st;
	free(f);
}

void ip6frag_get_stats(const struct ip6frag *f, struct ip6frag_stats *st)
{
	*st = f->st;
}

/* Reads the Fragment header at c (its Next Header already taken as `next`). */
static enum ip6f_parsed ip6f_fragment_header(struct cursor *c, struct ip6f_in *in)
{
	in->next = cur_u8(c);
	cur_skip(c, 1);
	uint16_t om = cur_be16(c);
	in->id = cur_be32(c);
	in->off = (size_t)(om & 0xfff8);
	in->more = om & 1;
	in->n = cur_left(c);
	in->p = cur_bytes(c, in->n);
	return c->short_read ? IP6F_P_BAD : IP6F_P_FRAGMENT;
}

/*
 * Finds the Fragment header after the extension headers that may precede it
 * (hop-by-hop, routing, destination options, AH), as ipmap.c walks them.
 */
static enum ip6f_parsed ip6f_parse(const uint8_t *ip6, size_t len, struct ip6f_in *in)
{
	struct cursor c = cur_make(ip6, len);
	cur_skip(&c, 4);
	size_t payload = cur_be16(&c);
	uint8_t next = cur_u8(&c);
	cur_skip(&c, 1);
	in->src = cur_bytes(&c, 16);
	in->dst = cur_bytes(&c, 16);
	cur_limit(&c, payload); /* link-layer padding after the packet */
	size_t nh_at = 6; /* the Next Header that names the header at hand */
	for (int depth = 0; depth < 16 && !c.short_read; depth++) {
		size_t at = (size_t)(c.p - ip6);
		if (next == NH_FRAGMENT) {
			in->head_n = at;
			in->nh_at = nh_at;
			return ip6f_fragment_header(&c, in);
		}
		if (next != 0 && next != 43 && next != 60 && next != 51)
			return IP6F_P_NONE;
		uint8_t type = next;
		next = cur_u8(&c);
		size_t l = cur_u8(&c);
		cur_skip(&c, type == 51 ? (l + 2) * 4 - 2 : l * 8 + 6);
		nh_at = at;
	}
	return IP6F_P_NONE; /* cut short or too deep: ipmap.c says which */
}

/* Drops datagrams whose first fragment is IP6F_TIMEOUT old: once a capture second. */
static void ip6f_sweep(struct ip6frag *f, time_t now)
{
	if (now == f->swept)
		return;
	f->swept = now;
	for (size_t i = 0; i < IP6F_DATAGRAMS_MAX; i++)
		if (f->d[i].used && now - f->d[i].first > IP6F_TIMEOUT)
			ip6f_release(f, &f->d[i], false);
}

static struct ip6f_dgram *ip6f_find(struct ip6frag *f, const struct ip6f_in *in, uint32_t h)
{
	for (int i = f->bucket[h]; i; i = f->d[i - 1].hnext) {
		struct ip6f_dgram *d = &f->d[i - 1];
		if (d->id == in->id && !memcmp(d->src, in->src, 16) && !memcmp(d->dst, in->dst, 16))
			return d;
	}
	return NULL;
}

/* A new entry, round-robin: the slot taken is free or the oldest (dropped). */
static struct ip6f_dgram *ip6f_create(struct ip6frag *f, const struct ip6f_in *in, uint32_t h,
				      time_t now)
{
	struct ip6f_dgram *d = &f->d[f->next_slot];
	f->next_slot = (f->next_slot + 1) % IP6F_DATAGRAMS_MAX;
	ip6f_release(f, d, false);
	d->used = true;
	memcpy(d->src, in->src, 16);
	memcpy(d->dst, in->dst, 16);
	d->id = in->id;
	d->first = now;
	d->hnext = f->bucket[h];
	f->bucket[h] = (int)(d - f->d) + 1;
	return d;
}

/* Makes room for `more` octets by dropping the oldest other datagrams. */
static void ip6f_room(struct ip6frag *f, const struct ip6f_dgram *keep, size_t more)
{
	size_t i = f->next_slot;
	for (size_t k = 0; k < IP6F_DATAGRAMS_MAX && f->mem + more > IP6F_MEM_MAX; k++) {
		struct ip6f_dgram *d = &f->d[(i + k) % IP6F_DATAGRAMS_MAX];
		if (d != keep)
			ip6f_release(f, d, false);
	}
}

/*
 * Whether fragment `in` fits d: false when the datagram must be discarded
 * (RFC 5722 overlap, a length past 65,535, ends that disagree, too many
 * fragments). *dup is set for an exact duplicate, which is ignored.
 */
static bool ip6f_fits(struct ip6frag *f, const struct ip6f_dgram *d, const struct ip6f_in *in,
		      bool *dup)
{
	size_t end = in->off + in->n;
	*dup = false;
	if (in->head_n - IP6_HEADER + end > IP6_PAYLOAD_MAX || (d->last_seen && end > d->total) ||
	    (!in->more && d->last_seen && end != d->total))
		return false;
	for (unsigned i = 0; i < d->n_frags; i++) {
		const struct ip6f_frag *g = &d->frags[i];
		if (g->off == in->off && g->len == in->n) {
			*dup = true;
			return true;
		}
		if (in->off < (size_t)g->off + g->len && (size_t)g->off < end) {
			f->st.overlaps++;
			return false;
		}
		if (!in->more && (size_t)g->off + g->len > end)
			return false;
	}
	return d->n_frags < IP6F_FRAGS_MAX;
}

/* Stores the fragment's octets (and, for the first, its headers); false when out of memory. */
static bool ip6f_store(struct ip6frag *f, struct ip6f_dgram *d, const struct ip6f_in *in,
		       const uint8_t *ip6)
{
	size_t end = in->off + in->n;
	size_t grow = (end > d->cap ? end - d->cap : 0) + (in->off == 0 ? in->head_n : 0);
	ip6f_room(f, d, grow);
	if (end > d->cap) {
		uint8_t *p = realloc(d->data, end);
		if (!p)
			return false;
		d->data = p;
		f->mem += end - d->cap;
		d->cap = end;
	}
	if (in->off == 0) {
		if (!(d->head = malloc(in->head_n)))
			return false;
		memcpy(d->head, ip6, in->head_n);
		d->head_n = in->head_n;
		d->nh_at = in->nh_at;
		d->next = in->next;
		f->mem += in->head_n;
	}
	memcpy(d->data + in->off, in->p, in->n);
	d->frags[d->n_frags++] = (struct ip6f_frag){ (uint16_t)in->off, (uint16_t)in->n };
	d->covered += in->n;
	if (!in->more) {
		d->last_seen = true;
		d->total = end;
	}
	return true;
}

/* The whole datagram in f->out: the first fragment's headers, patched, then the data. */
static size_t ip6f_build(struct ip6frag *f, const struct ip6f_dgram *d)
{
	memcpy(f->out, d->head, d->head_n);
	f->out[d->nh_at] = d->next;
	size_t payload = d->head_n - IP6_HEADER + d->total;
	f->out[4] = (uint8_t)(payload >> 8);
	f->out[5] = (uint8_t)payload;
	memcpy(f->out + d->head_n, d->data, d->total);
	return d->head_n + d->total;
}

enum ip6frag_result ip6frag_add(struct ip6frag *f, const struct timeval *now, const uint8_t *ip6,
				size_t len, const uint8_t **out, size_t *outlen)
{
	struct ip6f_in in;
	enum ip6f_parsed parsed = ip6f_parse(ip6, len, &in);
	if (parsed == IP6F_P_NONE)
		return IP6F_NOT_FRAGMENT;
	f->st.dropped++; /* until it is stored */
	/* Every fragment but the last carries a multiple of 8 octets, and something. */
	if (parsed == IP6F_P_BAD || (in.more && (in.n == 0 || in.n % 8)))
		return IP6F_HELD;
	ip6f_sweep(f, now->tv_sec);
	uint32_t h = ip6f_hash(in.src, in.dst, in.id);
	struct ip6f_dgram *d = ip6f_find(f, &in, h);
	if (!d)
		d = ip6f_create(f, &in, h, now->tv_sec);
	bool dup;
	if (!ip6f_fits(f, d, &in, &dup)) {
		ip6f_release(f, d, false);
		return IP6F_HELD;
	}
	if (dup)
		return IP6F_HELD;
	if (!ip6f_store(f, d, &in, ip6)) {
		ip6f_release(f, d, false);
		return IP6F_HELD;
	}
	f->st.dropped--; /* held: counted with its datagram from now on */
	if (!d->last_seen || !d->head || d->covered != d->total)
		return IP6F_HELD;
	*outlen = ip6f_build(f, d);
	*out = f->out;
	f->st.reassembled++;
	ip6f_release(f, d, true);
	return IP6F_COMPLETE;
}
