/*
 * capfile.c - classic pcap records and pcapng blocks out of a byte source
 * (capsource.c), one packet at a time, without copying: a packet's bytes are
 * read in place in the source's window. See capfile.h for the contract, the
 * bounds and where this reader differs from libpcap by design.
 *
 * Formats: the pcap file format (draft-ietf-opsawg-pcap) and pcapng
 * (draft-ietf-opsawg-pcapng); where the drafts leave a choice (timestamp
 * scaling, snapshot lengths of 0, simple packet blocks, link type values) the
 * choice is libpcap 1.10's, so packets come out exactly as pcap_next_ex() gives
 * them. Knows nothing of link layers, compression or popsift's output.
 */
#include "capfile.h"

#include <limits.h>
#include <pcap/dlt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_MAGIC_KUZNETZOV 0xa1b2cd34u /* patched libpcap: 8 more bytes per record */
#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR 16
#define PCAP_REC_HDR_KUZNETZOV 24
#define PCAP_LINKTYPE_MASK 0x03ffffffu /* the upper bits carry FCS information */

#define NG_SHB 0x0a0d0d0au
#define NG_IDB 0x00000001u
#define NG_OPB 0x00000002u /* the obsolete Packet Block */
#define NG_SPB 0x00000003u
#define NG_EPB 0x00000006u
#define NG_DSB 0x0000000au
#define NG_BYTE_ORDER_MAGIC 0x1a2b3c4du
#define NG_BLOCK_MIN 12 /* type, length, trailing length */
#define NG_OPT_END 0
#define NG_OPT_IF_NAME 2
#define NG_OPT_IF_TSRESOL 9
#define NG_OPT_IF_TSOFFSET 14
#define NG_OPTIONS_ALLOWANCE (128u << 10) /* options beyond the largest packet (libpcap) */

#define USEC_PER_SEC 1000000u

/* Classic pcap before version 2.3 wrote caplen and len the other way round. */
enum len_order { LEN_NORMAL, LEN_MAYBE_SWAPPED, LEN_SWAPPED };

/* What one block or record did: the caller goes on, returns a packet, or stops. */
enum step { STEP_MORE, STEP_PACKET, STEP_STOP };

struct capfile {
	struct capsrc *src;
	struct capfile_config cfg;
	enum capfile_format format;
	bool swapped; /* the file's (pcapng: the section's) byte order is not the host's */
	/* classic pcap */
	size_t rec_hdr;
	enum len_order len_order;
	bool nsec;
	/* the interfaces of the section being read (classic pcap: one) */
	struct capfile_iface *ifaces;
	uint32_t n_ifaces, cap_ifaces;
	uint32_t iface_base; /* packets' numbering of ifaces[0] */
	uint32_t block_max;
	struct capfile_stats st;
	enum capfile_result stop; /* CAPFILE_PACKET while reading */
	uint64_t err_offset;
	char err[CAPFILE_ERR_MAX];
};

static inline uint16_t rd16(const uint8_t *p, bool swapped)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return swapped ? __builtin_bswap16(v) : v;
}

static inline uint32_t rd32(const uint8_t *p, bool swapped)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swapped ? __builtin_bswap32(v) : v;
}

static inline uint64_t rd64(const uint8_t *p, bool swapped)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return swapped ? __builtin_bswap64(v) : v;
}

int capfile_dlt_of_linktype(uint32_t linktype)
{
	/* The LINKTYPE_* values whose DLT_* differs (libpcap's linktype_to_dlt()). */
	static const struct {
		uint32_t linktype;
		int dlt;
	} map[] = {
		{ 100, DLT_ATM_RFC1483 }, { 101, DLT_RAW },	 { 102, DLT_SLIP_BSDOS },
		{ 103, DLT_PPP_BSDOS },	  { 106, DLT_ATM_CLIP }, { 246, DLT_PFSYNC },
		{ 258, DLT_PKTAP },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].linktype == linktype)
			return map[i].dlt;
	return (int)linktype;
}

uint32_t capfile_max_snaplen(int dlt)
{
	switch (dlt) {
	case DLT_DBUS:
		return 128u << 20;
	case DLT_EBHSCR:
		return 8u << 20;
	case DLT_USBPCAP:
		return 1u << 20;
	default:
		return 262144; /* libpcap's MAXIMUM_SNAPLEN */
	}
}

/* libpcap's pcap_adjust_snapshot(): an unset or absurd snapshot length means the maximum. */
static uint32_t adjust_snaplen(int dlt, uint32_t snaplen)
{
	return snaplen == 0 || snaplen > INT_MAX ? capfile_max_snaplen(dlt) : snaplen;
}

/* Ends the file with `r` and a message "offset N[ of the decompressed stream]: ...". */
__attribute__((format(printf, 4, 5))) static enum step cf_stop(struct capfile *cf,
							       enum capfile_result r,
							       uint64_t off, const char *fmt, ...)
{
	int n = 0;
	if (capsrc_codec(cf->src) == CAPSRC_PLAIN)
		n = snprintf(cf->err, sizeof(cf->err), "offset %llu: ", (unsigned long long)off);
	else
		n = snprintf(cf->err, sizeof(cf->err), "offset %llu of the decompressed stream: ",
			     (unsigned long long)off);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(cf->err))
		vsnprintf(cf->err + n, sizeof(cf->err) - (size_t)n, fmt, ap);
	va_end(ap);
	cf->stop = r;
	cf->err_offset = off;
	return STEP_STOP;
}

/* A block too short for its fixed fields. */
static enum step cf_too_short(struct capfile *cf, uint64_t off, const char *what, size_t n)
{
	return cf_stop(cf, CAPFILE_CORRUPT, off, "corrupt block: %s of only %zu bytes", what,
		       n + NG_BLOCK_MIN);
}

/* A peek that came back short: the end of the file inside `what`, or the source's error. */
static enum step cf_short(struct capfile *cf, enum capsrc_status st, uint64_t off, size_t avail,
			  size_t need, const char *what)
{
	if (st == CAPSRC_ERROR)
		return cf_stop(cf, CAPFILE_FAILED, off, "%s", capsrc_error(cf->src));
	if (st == CAPSRC_TRUNCATED)
		return cf_stop(cf, CAPFILE_TRUNCATED, off, "%s, inside a %zu-byte %s",
			       capsrc_error(cf->src), need, what);
	return cf_stop(cf, CAPFILE_TRUNCATED, off, "truncated: a %zu-byte %s, only %zu bytes left",
		       need, what, avail);
}

/* Peeks `need` bytes for one record or block; false after cf_stop(). */
static bool cf_peek(struct capfile *cf, size_t need, const char *what, const uint8_t **p)
{
	size_t avail;
	enum capsrc_status st = capsrc_peek(cf->src, need, p, &avail);
	if (st == CAPSRC_OK)
		return true;
	cf_short(cf, st, capsrc_offset(cf->src), avail, need, what);
	return false;
}

/* The section's interface `id` for a packet block at `off`; NULL after cf_stop(). */
static const struct capfile_iface *cf_iface_for(struct capfile *cf, uint32_t id, uint64_t off)
{
	if (id < cf->n_ifaces)
		return &cf->ifaces[id];
	if (cf->n_ifaces == 0)
		cf_stop(cf, CAPFILE_CORRUPT, off,
			"corrupt block: a packet before any Interface Description Block");
	else
		cf_stop(cf, CAPFILE_CORRUPT, off,
			"corrupt block: a packet on interface %u; the section describes %u", id,
			cf->n_ifaces);
	return NULL;
}

/* A new interface of the section, with both formats' defaults; NULL after cf_stop(). */
static struct capfile_iface *cf_add_iface(struct capfile *cf, uint32_t linktype, uint32_t snaplen,
					  uint64_t off)
{
	if (cf->n_ifaces == CAPFILE_IFACES_MAX) {
		cf_stop(cf, CAPFILE_CORRUPT, off, "more than %u interfaces in one section",
			CAPFILE_IFACES_MAX);
		return NULL;
	}
	if (cf->n_ifaces == cf->cap_ifaces) {
		uint32_t cap = cf->cap_ifaces ? cf->cap_ifaces * 2 : 4;
		struct capfile_iface *n = realloc(cf->ifaces, cap * sizeof(*n));
		if (!n) {
			cf_stop(cf, CAPFILE_FAILED, off, "out of memory for %u interfaces", cap);
			return NULL;
		}
		cf->ifaces = n;
		cf->cap_ifaces = cap;
	}
	struct capfile_iface *ifc = &cf->ifaces[cf->n_ifaces++];
	memset(ifc, 0, sizeof(*ifc));
	ifc->linktype = linktype;
	ifc->dlt = capfile_dlt_of_linktype(linktype);
	ifc->snaplen = adjust_snaplen(ifc->dlt, snaplen);
	ifc->tsresol = USEC_PER_SEC;
	cf->st.interfaces++;
	return ifc;
}

/* ------------------------------------------------------------------------------------ */
/* Classic pcap                                                                          */
/* ------------------------------------------------------------------------------------ */

static bool pcap_version_ok(struct capfile *cf, uint16_t major, uint16_t minor)
{
	/* libpcap reads 2.0 to 2.4, and 543.0 (DG/UX tcpdump) */
	if ((major == 2 && minor <= 4) || (major == 543 && minor == 0)) {
		cf->len_order = major == 543 || minor < 3 ? LEN_SWAPPED
				: minor == 3		  ? LEN_MAYBE_SWAPPED
							  : LEN_NORMAL;
		return true;
	}
	cf_stop(cf, CAPFILE_CORRUPT, 0, "unsupported pcap file version %u.%u", major, minor);
	return false;
}

/* The 24-byte file header; false after cf_stop(). */
static bool pcap_open(struct capfile *cf)
{
	const uint8_t *p;
	if (!cf_peek(cf, PCAP_FILE_HDR, "pcap file header", &p))
		return false;
	uint32_t magic = rd32(p, false);
	cf->swapped = magic != PCAP_MAGIC_USEC && magic != PCAP_MAGIC_NSEC &&
		      magic != PCAP_MAGIC_KUZNETZOV;
	magic = rd32(p, cf->swapped);
	if (!pcap_version_ok(cf, rd16(p + 4, cf->swapped), rd16(p + 6, cf->swapped)))
		return false;
	uint32_t linktype = rd32(p + 20, cf->swapped) & PCAP_LINKTYPE_MASK;
	struct capfile_iface *ifc = cf_add_iface(cf, linktype, rd32(p + 16, cf->swapped), 0);
	if (!ifc)
		return false;
	cf->nsec = magic == PCAP_MAGIC_NSEC;
	ifc->tsresol = cf->nsec ? 1000000000u : USEC_PER_SEC;
	cf->rec_hdr = PCAP_REC_HDR;
	if (magic == PCAP_MAGIC_KUZNETZOV) {
		cf->rec_hdr = PCAP_REC_HDR_KUZNETZOV;
		/* as libpcap: a cooked-mode capture may hold snaplen + a faked Ethernet header */
		if (ifc->dlt == DLT_EN10MB)
			ifc->snaplen = ifc->snaplen <= INT_MAX - 14 ? ifc->snaplen + 14 : INT_MAX;
	}
	capsrc_consume(cf->src, PCAP_FILE_HDR);
	cf->format = CAPFILE_PCAP;
	return true;
}

/*
 * One record. As libpcap: a record longer than the link type's maximum packet
 * is corrupt; one longer than the snapshot length is given cut to it.
 */
static enum step pcap_record(struct capfile *cf, struct capfile_packet *pkt)
{
	const uint8_t *p;
	size_t avail;
	uint64_t off = capsrc_offset(cf->src);
	enum capsrc_status st = capsrc_peek(cf->src, cf->rec_hdr, &p, &avail);
	if (st == CAPSRC_END && avail == 0) {
		cf->stop = CAPFILE_END;
		return STEP_STOP;
	}
	if (st != CAPSRC_OK)
		return cf_short(cf, st, off, avail, cf->rec_hdr, "record header");
	uint32_t sec = rd32(p, cf->swapped), frac = rd32(p + 4, cf->swapped);
	uint32_t caplen = rd32(p + 8, cf->swapped), len = rd32(p + 12, cf->swapped);
	if (cf->len_order == LEN_SWAPPED || (cf->len_order == LEN_MAYBE_SWAPPED && caplen > len)) {
		uint32_t t = caplen;
		caplen = len;
		len = t;
	}
	const struct capfile_iface *ifc = &cf->ifaces[0];
	if (caplen > capfile_max_snaplen(ifc->dlt))
		return cf_stop(cf, CAPFILE_CORRUPT, off,
			       "corrupt record: captured length %u is above the maximum of %u", caplen,
			       capfile_max_snaplen(ifc->dlt));
	size_t rec = cf->rec_hdr + caplen;
	st = capsrc_peek(cf->src, rec, &p, &avail);
	if (st != CAPSRC_OK)
		return cf_short(cf, st, off, avail, rec, "record");
	pkt->ts.tv_sec = (time_t)sec;
	pkt->ts.tv_usec = (suseconds_t)(cf->nsec ? frac / 1000 : frac);
	pkt->caplen = caplen < ifc->snaplen ? caplen : ifc->snaplen;
	pkt->len = len;
	pkt->dlt = ifc->dlt;
	pkt->iface = 0;
	pkt->offset = off;
	pkt->data = p + cf->rec_hdr;
	capsrc_consume(cf->src, rec);
	return STEP_PACKET;
}

/* ------------------------------------------------------------------------------------ */
/* pcapng                                                                                */
/* ------------------------------------------------------------------------------------ */

/*
 * A timestamp in the interface's units to microseconds, as libpcap computes
 * it: seconds = t / tsresol + tsoffset, then the fraction scaled down (or up)
 * and truncated; in 128 bits where libpcap's 64 would overflow (2^-44 and finer).
 */
static struct timeval ng_time(const struct capfile_iface *ifc, uint64_t t)
{
	uint64_t sec, frac, usec;
	if (ifc->tsresol == USEC_PER_SEC) { /* the default: divisions by a constant are cheap */
		sec = t / USEC_PER_SEC + (uint64_t)ifc->tsoffset;
		usec = t % USEC_PER_SEC;
		return (struct timeval){ .tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec };
	}
	sec = t / ifc->tsresol + (uint64_t)ifc->tsoffset;
	frac = t % ifc->tsresol;
	if (frac <= UINT64_MAX / USEC_PER_SEC)
		usec = frac * USEC_PER_SEC / ifc->tsresol;
	else
		usec = (uint64_t)((unsigned __int128)frac * USEC_PER_SEC / ifc->tsresol);
	return (struct timeval){ .tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec };
}

/* if_tsresol: 10^-n, or 2^-n with the top bit set; false after cf_stop(). */
static bool ng_tsresol(struct capfile *cf, struct capfile_iface *ifc, uint8_t v, uint64_t off)
{
	unsigned exp = v & 0x7f;
	if ((v & 0x80) ? exp > 63 : v > 19) { /* beyond 64 bits, as libpcap */
		cf_stop(cf, CAPFILE_CORRUPT, off, "corrupt block: if_tsresol %s^-%u",
			(v & 0x80) ? "2" : "10", exp);
		return false;
	}
	if (v & 0x80) {
		ifc->tsresol = 1ull << exp;
		return true;
	}
	ifc->tsresol = 1;
	for (unsigned i = 0; i < v; i++)
		ifc->tsresol *= 10;
	return true;
}

/* One IDB option; false after cf_stop(). `seen` collects the options met, once each. */
static bool ng_idb_option(struct capfile *cf, struct capfile_iface *ifc, uint16_t code,
			  const uint8_t *v, uint16_t n, unsigned *seen, uint64_t off)
{
	if (code == NG_OPT_IF_NAME) {
		size_t k = n < CAPFILE_IFNAME_MAX - 1 ? n : CAPFILE_IFNAME_MAX - 1;
		memcpy(ifc->name, v, k);
		ifc->name[k] = '\0';
		return true;
	}
	if (code != NG_OPT_IF_TSRESOL && code != NG_OPT_IF_TSOFFSET)
		return true;
	unsigned bit = code == NG_OPT_IF_TSRESOL ? 1u : 2u;
	if (*seen & bit || n != (code == NG_OPT_IF_TSRESOL ? 1 : 8)) {
		cf_stop(cf, CAPFILE_CORRUPT, off, "corrupt block: a repeated or malformed %s option",
			bit == 1 ? "if_tsresol" : "if_tsoffset");
		return false;
	}
	*seen |= bit;
	if (code == NG_OPT_IF_TSRESOL)
		return ng_tsresol(cf, ifc, v[0], off);
	ifc->tsoffset = (int64_t)rd64(v, cf->swapped);
	return true;
}

/* The options of an IDB (p[0..n), n a multiple of 4); false after cf_stop(). */
static bool ng_idb_options(struct capfile *cf, struct capfile_iface *ifc, const uint8_t *p,
			   size_t n, uint64_t off)
{
	unsigned seen = 0;
	while (n > 0) {
		uint16_t code = rd16(p, cf->swapped), len = rd16(p + 2, cf->swapped);
		size_t padded = ((size_t)len + 3) & ~(size_t)3;
		if (n < 4 || padded > n - 4 || (code == NG_OPT_END && len != 0)) {
			cf_stop(cf, CAPFILE_CORRUPT, off, "corrupt block: option %u of %u bytes", code,
				len);
			return false;
		}
		if (code == NG_OPT_END)
			return true;
		if (!ng_idb_option(cf, ifc, code, p + 4, len, &seen, off))
			return false;
		p += 4 + padded;
		n -= 4 + padded;
	}
	return true;
}

static enum step ng_idb(struct capfile *cf, const uint8_t *b, size_t n, uint64_t off)
{
	if (n < 8)
		return cf_too_short(cf, off, "an Interface Description Block", n);
	struct capfile_iface *ifc =
		cf_add_iface(cf, rd16(b, cf->swapped), rd32(b + 4, cf->swapped), off);
	if (!ifc || !ng_idb_options(cf, ifc, b + 8, n - 8, off))
		return STEP_STOP;
	/* as libpcap: room for this link type's largest packet and its options */
	uint32_t need = 32 + capfile_max_snaplen(ifc->dlt) + NG_OPTIONS_ALLOWANCE;
	if (need > cf->block_max)
		cf->block_max = need;
	return STEP_MORE;
}

/* A Section Header Block after its byte order was taken (ng_block_at()). */
static enum step ng_shb(struct capfile *cf, const uint8_t *b, size_t n, uint64_t off)
{
	if (n < 16)
		return cf_too_short(cf, off, "a Section Header Block", n);
	uint16_t major = rd16(b + 4, cf->swapped), minor = rd16(b + 6, cf->swapped);
	if (major != 1)
		return cf_stop(cf, CAPFILE_CORRUPT, off, "unsupported pcapng version %u.%u", major,
			       minor);
	cf->iface_base += cf->n_ifaces; /* interface ids start again in every section */
	cf->n_ifaces = 0;
	cf->st.sections++;
	return STEP_MORE;
}

static void ng_packet(struct capfile_packet *pkt, const struct capfile_iface *ifc, uint64_t t,
		      uint32_t caplen, uint32_t len, const uint8_t *data)
{
	pkt->ts = ng_time(ifc, t);
	pkt->caplen = caplen;
	pkt->len = len;
	pkt->dlt = ifc->dlt;
	pkt->data = data;
}

/* Enhanced (EPB) and obsolete (OPB) packet blocks: same layout but the interface id's width. */
static enum step ng_epb(struct capfile *cf, const uint8_t *b, size_t n, bool obsolete,
			struct capfile_packet *pkt, uint64_t off)
{
	if (n < 20)
		return cf_too_short(cf, off, "a packet block", n);
	uint32_t id = obsolete ? rd16(b, cf->swapped) : rd32(b, cf->swapped);
	const struct capfile_iface *ifc = cf_iface_for(cf, id, off);
	if (!ifc)
		return STEP_STOP;
	uint64_t t = (uint64_t)rd32(b + 4, cf->swapped) << 32 | rd32(b + 8, cf->swapped);
	uint32_t caplen = rd32(b + 12, cf->swapped);
	if (caplen > n - 20)
		return cf_stop(cf, CAPFILE_CORRUPT, off,
			       "corrupt block: captured length %u runs past its block", caplen);
	ng_packet(pkt, ifc, t, caplen, rd32(b + 16, cf->swapped), b + 20);
	pkt->iface = cf->iface_base + id;
	return STEP_PACKET;
}

/* A Simple Packet Block: interface 0, no timestamp, caplen = min(len, snaplen) as libpcap. */
static enum step ng_spb(struct capfile *cf, const uint8_t *b, size_t n, struct capfile_packet *pkt,
			uint64_t off)
{
	if (n < 4)
		return cf_too_short(cf, off, "a Simple Packet Block", n);
	const struct capfile_iface *ifc = cf_iface_for(cf, 0, off);
	if (!ifc)
		return STEP_STOP;
	uint32_t len = rd32(b, cf->swapped);
	uint32_t caplen = len < ifc->snaplen ? len : ifc->snaplen;
	if (caplen > n - 4)
		return cf_stop(cf, CAPFILE_CORRUPT, off,
			       "corrupt block: a simple packet of %u bytes runs past its block",
			       caplen);
	ng_packet(pkt, ifc, 0, caplen, len, b + 4);
	pkt->iface = cf->iface_base;
	return STEP_PACKET;
}

/* A Decryption Secrets Block: handed to the callback, kept nowhere. */
static enum step ng_dsb(struct capfile *cf, const uint8_t *b, size_t n, uint64_t off)
{
	if (n < 8)
		return cf_too_short(cf, off, "a Decryption Secrets Block", n);
	uint32_t type = rd32(b, cf->swapped), len = rd32(b + 4, cf->swapped);
	if (len > n - 8)
		return cf_stop(cf, CAPFILE_CORRUPT, off,
			       "corrupt block: %u bytes of secrets run past their block", len);
	cf->st.secrets++;
	if (cf->cfg.secrets)
		cf->cfg.secrets(cf->cfg.ctx, type, b + 8, len, off);
	return STEP_MORE;
}

/*
 * The block at the current offset, whole and checked: length at least 12, a
 * multiple of 4, within block_max (before anything is read or allocated for
 * it), the same in the trailer. A Section Header Block sets the byte order
 * first, from its own magic. *b is the whole block, *n its length.
 */
static enum step ng_block_at(struct capfile *cf, uint64_t off, uint32_t *type, const uint8_t **b,
			     uint32_t *n)
{
	const uint8_t *p;
	size_t avail;
	enum capsrc_status st = capsrc_peek(cf->src, NG_BLOCK_MIN, &p, &avail);
	if (st == CAPSRC_END && avail == 0) {
		cf->stop = CAPFILE_END;
		return STEP_STOP;
	}
	if (st != CAPSRC_OK)
		return cf_short(cf, st, off, avail, NG_BLOCK_MIN, "block header");
	*type = rd32(p, cf->swapped);
	if (*type == NG_SHB) { /* 0x0a0d0d0a reads the same in both orders */
		uint32_t bom = rd32(p + 8, false);
		if (bom != NG_BYTE_ORDER_MAGIC && bom != __builtin_bswap32(NG_BYTE_ORDER_MAGIC))
			return cf_stop(cf, CAPFILE_CORRUPT, off,
				       "corrupt block: no byte-order magic in a Section Header Block");
		cf->swapped = bom != NG_BYTE_ORDER_MAGIC;
	}
	*n = rd32(p + 4, cf->swapped);
	if (*n < NG_BLOCK_MIN || *n % 4 != 0)
		return cf_stop(cf, CAPFILE_CORRUPT, off, "corrupt block: length %u", *n);
	if (*n > cf->block_max)
		return cf_stop(cf, CAPFILE_CORRUPT, off,
			       "corrupt block: length %u is above the limit of %u bytes", *n,
			       cf->block_max);
	if (!cf_peek(cf, *n, "block", b))
		return STEP_STOP;
	if (rd32(*b + *n - 4, cf->swapped) != *n)
		return cf_stop(cf, CAPFILE_CORRUPT, off,
			       "corrupt block: its trailing length differs from its length %u", *n);
	return STEP_MORE;
}

/* One block: a packet, or something read and passed over. */
static enum step ng_step(struct capfile *cf, struct capfile_packet *pkt)
{
	uint64_t off = capsrc_offset(cf->src);
	uint32_t type = 0, n = 0;
	const uint8_t *b = NULL;
	if (ng_block_at(cf, off, &type, &b, &n) == STEP_STOP)
		return STEP_STOP;
	const uint8_t *body = b + 8;
	size_t body_n = n - NG_BLOCK_MIN;
	enum step s;
	switch (type) {
	case NG_EPB:
	case NG_OPB:
		s = ng_epb(cf, body, body_n, type == NG_OPB, pkt, off);
		break;
	case NG_SPB:
		s = ng_spb(cf, body, body_n, pkt, off);
		break;
	case NG_IDB:
		s = ng_idb(cf, body, body_n, off);
		break;
	case NG_SHB:
		s = ng_shb(cf, body, body_n, off);
		break;
	case NG_DSB:
		s = ng_dsb(cf, body, body_n, off);
		break;
	default: /* name resolution, statistics, custom, journal, unknown: not needed */
		cf->st.skipped_blocks++;
		s = STEP_MORE;
		break;
	}
	if (s != STEP_STOP)
		capsrc_consume(cf->src, n);
	if (s == STEP_PACKET)
		pkt->offset = off;
	return s;
}

/* The first block must be a Section Header Block; false after cf_stop(). */
static bool ng_open(struct capfile *cf)
{
	cf->format = CAPFILE_PCAPNG;
	struct capfile_packet unused;
	return ng_step(cf, &unused) == STEP_MORE;
}

/* ------------------------------------------------------------------------------------ */
/* API                                                                                   */
/* ------------------------------------------------------------------------------------ */

/* Reads the first four bytes and opens the format they name; false with err set. */
static bool cf_open_format(struct capfile *cf, char *err, size_t errlen)
{
	const uint8_t *p;
	size_t avail;
	enum capsrc_status st = capsrc_peek(cf->src, 4, &p, &avail);
	if (st == CAPSRC_ERROR || st == CAPSRC_TRUNCATED) {
		snprintf(err, errlen, "%s", capsrc_error(cf->src));
		return false;
	}
	if (avail < 4) {
		snprintf(err, errlen, avail ? "too short to be a capture (%zu bytes)" : "it is empty",
			 avail);
		return false;
	}
	uint32_t m = rd32(p, false), s = __builtin_bswap32(m);
	bool ok;
	if (m == PCAP_MAGIC_USEC || m == PCAP_MAGIC_NSEC || m == PCAP_MAGIC_KUZNETZOV ||
	    s == PCAP_MAGIC_USEC || s == PCAP_MAGIC_NSEC || s == PCAP_MAGIC_KUZNETZOV)
		ok = pcap_open(cf);
	else if (m == NG_SHB)
		ok = ng_open(cf);
	else {
		enum capsrc_codec c = capsrc_codec(cf->src);
		snprintf(err, errlen, "not a pcap or pcapng capture (%s%s starts %02x %02x %02x %02x)",
			 c == CAPSRC_PLAIN ? "it" : "its decompressed ", c == CAPSRC_PLAIN ? "" : "content",
			 p[0], p[1], p[2], p[3]);
		return false;
	}
	if (!ok)
		snprintf(err, errlen, "%s", cf->err);
	return ok;
}

struct capfile *capfile_open(struct capsrc *src, const struct capfile_config *cfg, char *err,
			     size_t errlen)
{
	struct capfile *cf = calloc(1, sizeof(*cf));
	if (!cf) {
		snprintf(err, errlen, "out of memory");
		capsrc_close(src);
		return NULL;
	}
	cf->src = src;
	if (cfg)
		cf->cfg = *cfg;
	cf->block_max = CAPFILE_BLOCK_MAX;
	cf->stop = CAPFILE_PACKET;
	if (cf_open_format(cf, err, errlen))
		return cf;
	capfile_close(cf);
	return NULL;
}

struct capfile *capfile_open_path(const char *path, const struct capfile_config *cfg, char *err,
				  size_t errlen)
{
	struct capsrc *src = capsrc_open(path, err, errlen);
	return src ? capfile_open(src, cfg, err, errlen) : NULL;
}

enum capfile_result capfile_next(struct capfile *cf, struct capfile_packet *pkt)
{
	while (cf->stop == CAPFILE_PACKET) {
		enum step s = cf->format == CAPFILE_PCAP ? pcap_record(cf, pkt) : ng_step(cf, pkt);
		if (s == STEP_PACKET) {
			cf->st.packets++;
			return CAPFILE_PACKET;
		}
	}
	return cf->stop;
}

const char *capfile_error(const struct capfile *cf)
{
	return cf->stop == CAPFILE_PACKET || cf->stop == CAPFILE_END ? "" : cf->err;
}

uint64_t capfile_error_offset(const struct capfile *cf)
{
	return cf->err_offset;
}

enum capfile_format capfile_format(const struct capfile *cf)
{
	return cf->format;
}

const struct capfile_iface *capfile_iface(const struct capfile *cf, uint32_t iface)
{
	if (iface < cf->iface_base || iface - cf->iface_base >= cf->n_ifaces)
		return NULL;
	return &cf->ifaces[iface - cf->iface_base];
}

void capfile_get_stats(const struct capfile *cf, struct capfile_stats *st)
{
	*st = cf->st;
}

const struct capsrc *capfile_source(const struct capfile *cf)
{
	return cf->src;
}

void capfile_close(struct capfile *cf)
{
	if (!cf)
		return;
	capsrc_close(cf->src);
	free(cf->ifaces);
	free(cf);
}
