/*
 * test_capfile.c - the capture reader (src/capfile.c) on small hand-built pcap
 * and pcapng files: every block type, both byte orders, every timestamp
 * resolution form, truncated and corrupt records, hostile lengths. Every file
 * is read whole, then again handed out 1, 2, 3, 5, 7, 13, 64 and 4096 bytes at a
 * time (as a pipe would), and again compressed with gzip, zstd, lz4 and xz:
 * each way must give the same packets, the same end and the same error offset.
 */
#include <pcap/dlt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/capfile.h"
#include "capbuild.h"

#define MAX_PKTS 16
#define MAX_SECRETS 4

struct pkt_copy {
	struct capfile_packet h;
	uint8_t *data;
};

struct readout {
	bool opened;
	char open_err[CAPFILE_ERR_MAX];
	enum capfile_result r;
	size_t n;
	struct pkt_copy p[MAX_PKTS];
	char err[CAPFILE_ERR_MAX];
	uint64_t err_offset;
	size_t n_secrets;
	uint32_t secret_type[MAX_SECRETS];
	char secret[MAX_SECRETS][128];
	struct capfile_stats st;
	size_t window; /* the source's window at the end: the memory bound */
	char ifname[CAPFILE_IFNAME_MAX];
};

static void on_secrets(void *ctx, uint32_t type, const uint8_t *data, size_t len, uint64_t off)
{
	struct readout *o = ctx;
	(void)off;
	assert_true(o->n_secrets < MAX_SECRETS);
	assert_true(len < sizeof(o->secret[0]));
	o->secret_type[o->n_secrets] = type;
	memcpy(o->secret[o->n_secrets], data, len);
	o->secret[o->n_secrets][len] = '\0';
	o->n_secrets++;
}

static void read_one_way(const uint8_t *p, size_t n, size_t chunk, struct readout *o)
{
	memset(o, 0, sizeof(*o));
	char err[CAPFILE_ERR_MAX];
	struct capsrc *src = capsrc_open_memory(p, n, chunk, err, sizeof(err));
	assert_non_null(src);
	struct capfile_config cfg = { on_secrets, o };
	struct capfile *cf = capfile_open(src, &cfg, o->open_err, sizeof(o->open_err));
	if (!cf)
		return;
	o->opened = true;
	struct capfile_packet pkt;
	while ((o->r = capfile_next(cf, &pkt)) == CAPFILE_PACKET) {
		assert_true(o->n < MAX_PKTS);
		const struct capfile_iface *ifc = capfile_iface(cf, pkt.iface);
		assert_non_null(ifc);
		assert_int_equal(ifc->dlt, pkt.dlt);
		snprintf(o->ifname, sizeof(o->ifname), "%s", ifc->name);
		o->p[o->n].h = pkt;
		o->p[o->n].data = malloc(pkt.caplen ? pkt.caplen : 1);
		assert_non_null(o->p[o->n].data);
		memcpy(o->p[o->n].data, pkt.data, pkt.caplen);
		o->n++;
	}
	assert_int_equal(capfile_next(cf, &pkt), o->r); /* the end is sticky */
	snprintf(o->err, sizeof(o->err), "%s", capfile_error(cf));
	o->err_offset = capfile_error_offset(cf);
	capfile_get_stats(cf, &o->st);
	o->window = capsrc_window_size(capfile_source(cf));
	capfile_close(cf);
}

static void readout_free(struct readout *o)
{
	for (size_t i = 0; i < o->n; i++)
		free(o->p[i].data);
	o->n = 0;
}

/* Same packets, same end, same error offset; the same messages when `msgs`. */
static void assert_same(const struct readout *a, const struct readout *b, bool msgs)
{
	assert_int_equal(a->opened, b->opened);
	if (msgs) {
		assert_string_equal(a->open_err, b->open_err);
		assert_string_equal(a->err, b->err);
	}
	if (!a->opened)
		return;
	assert_int_equal(a->r, b->r);
	assert_int_equal(a->err_offset, b->err_offset);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct capfile_packet *x = &a->p[i].h, *y = &b->p[i].h;
		assert_int_equal(x->ts.tv_sec, y->ts.tv_sec);
		assert_int_equal(x->ts.tv_usec, y->ts.tv_usec);
		assert_int_equal(x->caplen, y->caplen);
		assert_int_equal(x->len, y->len);
		assert_int_equal(x->dlt, y->dlt);
		assert_int_equal(x->iface, y->iface);
		assert_int_equal(x->offset, y->offset);
		assert_memory_equal(a->p[i].data, b->p[i].data, x->caplen);
	}
	assert_int_equal(a->n_secrets, b->n_secrets);
	for (size_t i = 0; i < a->n_secrets; i++)
		assert_string_equal(a->secret[i], b->secret[i]);
}

/* Reads b every way (see the file comment) into o, checking they agree. */
static void read_every_way(const struct bb *b, struct readout *o)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 7, 13, 64, 4096 };
	struct readout other;
	read_one_way(b->p, b->n, 0, o);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		read_one_way(b->p, b->n, chunks[i], &other);
		assert_same(o, &other, true);
		readout_free(&other);
	}
	for (enum capsrc_codec c = CAPSRC_GZIP; c < CAPSRC_CODEC_COUNT; c++) {
		size_t zn;
		uint8_t *z = compress_with(c, b->p, b->n, &zn);
		for (size_t chunk = 0; chunk < 8; chunk += 7) {
			read_one_way(z, zn, chunk, &other);
			assert_same(o, &other, false);
			readout_free(&other);
		}
		free(z);
	}
}

static void assert_packet(const struct readout *o, size_t i, long long sec, long usec,
			  const char *data, uint32_t len, int dlt, uint32_t iface)
{
	assert_true(i < o->n);
	const struct capfile_packet *p = &o->p[i].h;
	assert_int_equal(p->ts.tv_sec, sec);
	assert_int_equal(p->ts.tv_usec, usec);
	assert_int_equal(p->caplen, strlen(data));
	assert_memory_equal(o->p[i].data, data, strlen(data));
	assert_int_equal(p->len, len);
	assert_int_equal(p->dlt, dlt);
	assert_int_equal(p->iface, iface);
}

static void assert_error(const struct readout *o, enum capfile_result r, uint64_t off,
			 const char *part)
{
	assert_true(o->opened);
	assert_int_equal(o->r, r);
	assert_int_equal(o->err_offset, off);
	if (!strstr(o->err, part))
		fail_msg("error '%s' lacks '%s'", o->err, part);
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "offset %llu: ", (unsigned long long)off);
	assert_memory_equal(o->err, prefix, strlen(prefix));
}

/* ---- classic pcap ---- */

static void pcap_two(struct bb *b, uint32_t magic, uint32_t frac2)
{
	pcap_header(b, magic, 2, 4, 65535, 1);
	pcap_record(b, 1700000000, 5, 9, 60, "frame-one");
	pcap_record(b, 1700000001, frac2, 9, 9, "frame-two");
}

static void pcap_packets_come_out_as_written_in_either_byte_order(void **state)
{
	(void)state;
	for (int be = 0; be < 2; be++) {
		struct bb b = bb_new(be);
		pcap_two(&b, 0xa1b2c3d4, 999999);
		struct readout o;
		read_every_way(&b, &o);
		assert_int_equal(o.r, CAPFILE_END);
		assert_int_equal(o.n, 2);
		assert_packet(&o, 0, 1700000000, 5, "frame-one", 60, DLT_EN10MB, 0);
		assert_packet(&o, 1, 1700000001, 999999, "frame-two", 9, DLT_EN10MB, 0);
		assert_int_equal(o.p[0].h.offset, 24);
		assert_int_equal(o.p[1].h.offset, 24 + 16 + 9);
		assert_string_equal(o.err, "");
		readout_free(&o);
		bb_free(&b);
	}
}

static void pcap_nanosecond_timestamps_are_cut_to_microseconds(void **state)
{
	(void)state;
	for (int be = 0; be < 2; be++) {
		struct bb b = bb_new(be);
		pcap_two(&b, 0xa1b23c4d, 999999999);
		struct readout o;
		read_every_way(&b, &o);
		assert_int_equal(o.n, 2);
		assert_packet(&o, 0, 1700000000, 0, "frame-one", 60, DLT_EN10MB, 0);
		assert_packet(&o, 1, 1700000001, 999999, "frame-two", 9, DLT_EN10MB, 0);
		readout_free(&o);
		bb_free(&b);
	}
}

static void pcap_kuznetzov_records_carry_eight_more_header_bytes(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2cd34, 2, 4, 65535, 1);
	bb_u32(&b, 1700000000);
	bb_u32(&b, 7);
	bb_u32(&b, 5);
	bb_u32(&b, 5);
	bb_put(&b, "IFIDPTpt", 8); /* ifindex, protocol, pkt_type, pad */
	bb_put(&b, "hello", 5);
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_int_equal(o.n, 1);
	assert_packet(&o, 0, 1700000000, 7, "hello", 5, DLT_EN10MB, 0);
	readout_free(&o);
	bb_free(&b);
}

static void pcap_before_version_2_3_swaps_caplen_and_len(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2c3d4, 2, 2, 65535, 1);
	bb_u32(&b, 1);
	bb_u32(&b, 2);
	bb_u32(&b, 60); /* len first */
	bb_u32(&b, 4);
	bb_put(&b, "abcd", 4);
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 1);
	assert_packet(&o, 0, 1, 2, "abcd", 60, DLT_EN10MB, 0);
	readout_free(&o);
	bb_free(&b);
}

static void pcap_record_above_snaplen_is_cut_to_it_as_libpcap_does(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2c3d4, 2, 4, 4, 1);
	pcap_record(&b, 1, 0, 9, 9, "abcdefghi");
	pcap_record(&b, 2, 0, 3, 3, "xyz");
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_int_equal(o.n, 2);
	assert_packet(&o, 0, 1, 0, "abcd", 9, DLT_EN10MB, 0);
	assert_packet(&o, 1, 2, 0, "xyz", 3, DLT_EN10MB, 0);
	readout_free(&o);
	bb_free(&b);
}

static void pcap_record_above_the_link_types_maximum_is_corrupt(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2c3d4, 2, 4, 0, 1);
	pcap_record(&b, 1, 0, 3, 3, "one");
	bb_u32(&b, 2);
	bb_u32(&b, 0);
	bb_u32(&b, 0xfffffff0u); /* 4 GB: refused before anything is allocated */
	bb_u32(&b, 0xfffffff0u);
	bb_put(&b, "junk", 4);
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 1);
	assert_error(&o, CAPFILE_CORRUPT, 24 + 16 + 3, "above the maximum of 262144");
	assert_int_equal(o.window, CAPSRC_WINDOW);
	readout_free(&o);
	bb_free(&b);
}

static void pcap_dbus_records_may_exceed_262144_bytes(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2c3d4, 2, 4, 0, 231 /* LINKTYPE_DBUS */);
	uint8_t *big = calloc(1, 300000);
	assert_non_null(big);
	big[299999] = 'z';
	pcap_record(&b, 1, 0, 300000, 300000, big);
	struct readout o;
	read_one_way(b.p, b.n, 0, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.p[0].h.caplen, 300000);
	assert_int_equal(o.p[0].h.dlt, DLT_DBUS);
	assert_memory_equal(o.p[0].data, big, 300000);
	readout_free(&o);
	free(big);
	bb_free(&b);
}

static void pcap_cut_in_a_record_header_keeps_the_packets_before(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	pcap_two(&b, 0xa1b2c3d4, 1);
	bb_put(&b, "\x01\x02\x03\x04\x05", 5);
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 2);
	assert_error(&o, CAPFILE_TRUNCATED, 24 + 2 * 25, "a 16-byte record header, only 5 bytes left");
	readout_free(&o);
	bb_free(&b);
}

static void pcap_cut_in_packet_data_keeps_the_packets_before(void **state)
{
	(void)state;
	struct bb b = bb_new(true);
	pcap_two(&b, 0xa1b2c3d4, 1);
	b.n -= 4; /* the last frame loses 4 of its 9 bytes */
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 1);
	assert_error(&o, CAPFILE_TRUNCATED, 24 + 25, "a 25-byte record, only 21 bytes left");
	readout_free(&o);
	bb_free(&b);
}

static void pcap_header_alone_is_an_empty_capture(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2c3d4, 2, 4, 65535, 113);
	struct readout o;
	read_every_way(&b, &o);
	assert_true(o.opened);
	assert_int_equal(o.r, CAPFILE_END);
	assert_int_equal(o.n, 0);
	assert_int_equal(o.st.interfaces, 1);
	bb_free(&b);
}

static void pcap_linktype_values_map_to_dlts_as_libpcap_maps_them(void **state)
{
	(void)state;
	/* LINKTYPE_RAW is 101 in files, DLT_RAW 12 on Linux; FCS bits are not the type */
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2c3d4, 2, 4, 65535, 101 | 0x04000000u | 0x20000000u);
	pcap_record(&b, 1, 0, 4, 4, "E\x00\x00\x14");
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.p[0].h.dlt, DLT_RAW);
	readout_free(&o);
	bb_free(&b);
	assert_int_equal(capfile_dlt_of_linktype(276), DLT_LINUX_SLL2);
	assert_int_equal(capfile_dlt_of_linktype(113), DLT_LINUX_SLL);
	assert_int_equal(capfile_dlt_of_linktype(0), DLT_NULL);
}

static void pcap_unsupported_versions_are_refused_at_open(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	pcap_header(&b, 0xa1b2c3d4, 1, 0, 65535, 1);
	struct readout o;
	read_every_way(&b, &o);
	assert_false(o.opened);
	assert_non_null(strstr(o.open_err, "unsupported pcap file version 1.0"));
	bb_free(&b);
}

static void files_that_are_no_capture_are_refused_at_open(void **state)
{
	(void)state;
	struct readout o;
	read_one_way((const uint8_t *)"", 0, 0, &o);
	assert_false(o.opened);
	assert_string_equal(o.open_err, "it is empty");
	read_one_way((const uint8_t *)"GET / HTTP/1.1\r\n", 16, 0, &o);
	assert_false(o.opened);
	assert_string_equal(o.open_err, "not a pcap or pcapng capture (it starts 47 45 54 20)");
	read_one_way((const uint8_t *)"\xd4\xc3", 2, 0, &o);
	assert_false(o.opened);
	assert_string_equal(o.open_err, "too short to be a capture (2 bytes)");
	read_one_way((const uint8_t *)"\xd4\xc3\xb2\xa1\x02\x00", 6, 0, &o);
	assert_false(o.opened);
	assert_non_null(strstr(o.open_err, "a 24-byte pcap file header, only 6 bytes left"));
	size_t zn;
	uint8_t *z = compress_with(CAPSRC_ZSTD, "GET / HTTP/1.1\r\n", 16, &zn);
	read_one_way(z, zn, 0, &o);
	free(z);
	assert_false(o.opened);
	assert_string_equal(o.open_err,
			    "not a pcap or pcapng capture (its decompressed content starts 47 45 54 20)");
}

/* ---- pcapng ---- */

static void ng_two_packets(struct bb *b, int tsresol)
{
	ng_shb(b);
	ng_idb(b, 1, 65535, tsresol, false, 0);
	ng_epb(b, 0, 1700000000123456ull, 9, 60, "frame-one");
	ng_epb(b, 0, 1700000001000001ull, 9, 9, "frame-two");
}

static void pcapng_enhanced_packets_in_either_byte_order(void **state)
{
	(void)state;
	for (int be = 0; be < 2; be++) {
		struct bb b = bb_new(be);
		ng_two_packets(&b, -1);
		struct readout o;
		read_every_way(&b, &o);
		assert_int_equal(o.r, CAPFILE_END);
		assert_int_equal(o.n, 2);
		assert_packet(&o, 0, 1700000000, 123456, "frame-one", 60, DLT_EN10MB, 0);
		assert_packet(&o, 1, 1700000001, 1, "frame-two", 9, DLT_EN10MB, 0);
		assert_int_equal(o.p[0].h.offset, 28 + 20);
		assert_int_equal(o.st.sections, 1);
		assert_int_equal(o.st.interfaces, 1);
		readout_free(&o);
		bb_free(&b);
	}
}

static void pcapng_sections_may_change_byte_order_and_restart_interface_ids(void **state)
{
	(void)state;
	struct bb le = bb_new(false), be = bb_new(true);
	ng_shb(&le);
	ng_idb(&le, 1, 0, -1, false, 0);
	ng_idb(&le, 276, 0, -1, false, 0);
	ng_epb(&le, 1, 1000000, 4, 4, "sll2");
	ng_shb(&be);
	ng_idb(&be, 113, 0, -1, false, 0);
	ng_epb(&be, 0, 2000000, 3, 3, "sll");
	bb_put(&le, be.p, be.n);
	ng_epb(&le, 1, 3000000, 4, 4, "lost"); /* le's writer, but the section is big-endian */
	struct readout o;
	read_every_way(&le, &o);
	assert_int_equal(o.n, 2);
	assert_packet(&o, 0, 1, 0, "sll2", 4, DLT_LINUX_SLL2, 1);
	assert_packet(&o, 1, 2, 0, "sll", 3, DLT_LINUX_SLL, 2); /* the third IDB of the file */
	assert_int_equal(o.r, CAPFILE_CORRUPT);
	assert_int_equal(o.st.sections, 2);
	assert_int_equal(o.st.interfaces, 3);
	readout_free(&o);
	bb_free(&le);
	bb_free(&be);
}

static void pcapng_interfaces_keep_their_own_link_types(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_shb(&b);
	ng_idb(&b, 1, 0, -1, false, 0);
	ng_idb(&b, 276, 0, -1, false, 0);
	ng_idb(&b, 101, 0, -1, false, 0);
	ng_epb(&b, 2, 1, 3, 3, "raw");
	ng_epb(&b, 0, 2, 3, 3, "eth");
	ng_epb(&b, 1, 3, 4, 4, "sll2");
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_packet(&o, 0, 0, 1, "raw", 3, DLT_RAW, 2);
	assert_packet(&o, 1, 0, 2, "eth", 3, DLT_EN10MB, 0);
	assert_packet(&o, 2, 0, 3, "sll2", 4, DLT_LINUX_SLL2, 1);
	readout_free(&o);
	bb_free(&b);
}

/* One EPB at timestamp t on an interface with if_tsresol `res` and if_tsoffset `off`. */
static void ng_time_case(int res, bool has_off, int64_t off, uint64_t t, long long sec, long usec)
{
	for (int be = 0; be < 2; be++) {
		struct bb b = bb_new(be);
		ng_shb(&b);
		ng_idb(&b, 1, 0, res, has_off, off);
		ng_epb(&b, 0, t, 1, 1, "x");
		struct readout o;
		read_every_way(&b, &o);
		assert_int_equal(o.r, CAPFILE_END);
		assert_int_equal(o.n, 1);
		assert_packet(&o, 0, sec, usec, "x", 1, DLT_EN10MB, 0);
		readout_free(&o);
		bb_free(&b);
	}
}

static void pcapng_power_of_ten_resolutions_scale_as_libpcap(void **state)
{
	(void)state;
	ng_time_case(9, false, 0, 1700000000999999999ull, 1700000000, 999999);
	ng_time_case(6, false, 0, 1700000000000042ull, 1700000000, 42);
	ng_time_case(3, false, 0, 1700000000042ull, 1700000000, 42000);
	ng_time_case(0, false, 0, 1700000000ull, 1700000000, 0);
	ng_time_case(19, false, 0, 10000000000000000000ull + 5000000000000ull, 1, 0);
	ng_time_case(19, false, 0, 10000000000000000000ull + 5000000000000000ull, 1, 500);
}

static void pcapng_power_of_two_resolutions_scale_as_libpcap(void **state)
{
	(void)state;
	ng_time_case(0x80 | 10, false, 0, (5ull << 10) | 512, 5, 500000);
	ng_time_case(0x80 | 20, false, 0, (7ull << 20) | 1, 7, 0);          /* 0.95 us, cut */
	ng_time_case(0x80 | 20, false, 0, (7ull << 20) | 3, 7, 2);          /* 2.86 us */
	ng_time_case(0x80 | 32, false, 0, (9ull << 32) | (1ull << 31), 9, 500000);
	/* 2^-63: frac * 10^6 needs more than 64 bits */
	ng_time_case(0x80 | 63, false, 0, 3ull << 62, 1, 500000);
}

static void pcapng_tsoffset_adds_seconds_either_way(void **state)
{
	(void)state;
	ng_time_case(-1, true, 1000, 1500000, 1001, 500000);
	ng_time_case(9, true, -100, 200000000500ull, 100, 0);
}

static void pcapng_simple_packets_take_interface_zero_and_its_snaplen(void **state)
{
	(void)state;
	struct bb b = bb_new(true);
	ng_shb(&b);
	ng_idb(&b, 1, 4, -1, true, 77);
	ng_spb(&b, 9, "abcd", 4); /* cut to the snaplen: 4 of 9 bytes stored */
	ng_spb(&b, 3, "xyz", 3);
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_int_equal(o.n, 2);
	assert_packet(&o, 0, 77, 0, "abcd", 9, DLT_EN10MB, 0); /* no timestamp: the offset */
	assert_packet(&o, 1, 77, 0, "xyz", 3, DLT_EN10MB, 0);
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_obsolete_packet_blocks_are_read(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_shb(&b);
	ng_idb(&b, 1, 0, -1, false, 0);
	ng_idb(&b, 0, 0, 9, false, 0);
	ng_opb(&b, 1, 3000000007ull, 4, 40, "null");
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 1);
	assert_packet(&o, 0, 3, 0, "null", 40, DLT_NULL, 1);
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_secrets_blocks_go_to_the_callback(void **state)
{
	(void)state;
	static const char keylog[] = "CLIENT_RANDOM 0102 0304\n";
	struct bb b = bb_new(true);
	ng_shb(&b);
	ng_dsb(&b, CAPFILE_SECRETS_TLS, keylog, sizeof(keylog) - 1);
	ng_idb(&b, 1, 0, -1, false, 0);
	ng_dsb(&b, CAPFILE_SECRETS_SSH, "ssh", 3);
	ng_epb(&b, 0, 1, 3, 3, "tls");
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.n_secrets, 2);
	assert_int_equal(o.secret_type[0], CAPFILE_SECRETS_TLS);
	assert_string_equal(o.secret[0], keylog);
	assert_int_equal(o.secret_type[1], CAPFILE_SECRETS_SSH);
	assert_string_equal(o.secret[1], "ssh");
	assert_int_equal(o.st.secrets, 2);
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_other_blocks_are_skipped(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_shb(&b);
	ng_idb(&b, 1, 0, -1, false, 0);
	static const uint32_t types[] = { 4 /* NRB */, 5 /* ISB */, 0x00000bad, 0x40000bad,
					  9 /* journal */, 0x12345678 };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t s = ng_begin(&b, types[i]);
		bb_put(&b, "whatever it holds", 17);
		ng_end(&b, s);
	}
	ng_epb(&b, 0, 1, 2, 2, "ok");
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_int_equal(o.n, 1);
	assert_int_equal(o.st.skipped_blocks, 6);
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_interface_names_are_kept(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_shb(&b);
	size_t s = ng_begin(&b, 1);
	bb_u16(&b, 1);
	bb_u16(&b, 0);
	bb_u32(&b, 0);
	ng_opt(&b, 2, "eth0", 4);
	ng_opt(&b, 0, NULL, 0);
	ng_end(&b, s);
	ng_epb(&b, 0, 1, 2, 2, "ok");
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.ifname, "eth0");
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_packet_beyond_snaplen_is_given_whole(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_shb(&b);
	ng_idb(&b, 1, 4, -1, false, 0);
	ng_epb(&b, 0, 1, 9, 9, "123456789"); /* libpcap stops the file here */
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_packet(&o, 0, 0, 1, "123456789", 9, DLT_EN10MB, 0);
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_large_blocks_grow_the_window_only_to_their_size(void **state)
{
	(void)state;
	size_t big = 5u << 20;
	uint8_t *data = malloc(big);
	assert_non_null(data);
	for (size_t i = 0; i < big; i++)
		data[i] = (uint8_t)(i * 7);
	struct bb b = bb_new(false);
	ng_shb(&b);
	ng_idb(&b, 1, 0, -1, false, 0);
	ng_epb(&b, 0, 1, (uint32_t)big, (uint32_t)big, data);
	struct readout o;
	read_one_way(b.p, b.n, 0, &o);
	assert_int_equal(o.r, CAPFILE_END);
	assert_int_equal(o.n, 1);
	assert_memory_equal(o.p[0].data, data, big);
	assert_int_equal(o.window, 8u << 20);
	readout_free(&o);
	bb_free(&b);
	free(data);
}

/* ---- pcapng: truncated and corrupt ---- */

static void pcapng_cut_block_keeps_the_packets_before(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_two_packets(&b, -1);
	b.n -= 10;
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 1);
	assert_error(&o, CAPFILE_TRUNCATED, 28 + 20 + 44, "a 44-byte block, only 34 bytes left");
	readout_free(&o);
	bb_free(&b);
}

/* A well-formed file whose last block's header is replaced: type, length and 8 body bytes. */
static void ng_bad_tail(struct bb *b, uint32_t type, uint32_t len)
{
	ng_two_packets(b, -1);
	bb_u32(b, type);
	bb_u32(b, len);
	bb_put(b, "\0\0\0\0\0\0\0\0", 8);
}

static void pcapng_hostile_lengths_are_corrupt_and_allocate_nothing(void **state)
{
	(void)state;
	static const struct {
		uint32_t len;
		const char *why;
	} cases[] = {
		{ 0xfffffffcu, "length 4294967292 is above the limit of 16777216 bytes" },
		{ (16u << 20) + 4, "length 16777220 is above the limit" },
		{ 14, "corrupt block: length 14" },
		{ 8, "corrupt block: length 8" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bb b = bb_new(i % 2);
		ng_bad_tail(&b, 6, cases[i].len);
		struct readout o;
		read_every_way(&b, &o);
		assert_int_equal(o.n, 2);
		assert_error(&o, CAPFILE_CORRUPT, 28 + 20 + 2 * 44, cases[i].why);
		assert_int_equal(o.window, CAPSRC_WINDOW);
		readout_free(&o);
		bb_free(&b);
	}
}

static void pcapng_trailer_length_must_match(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_two_packets(&b, -1);
	b.p[b.n - 1] ^= 0x40; /* the high byte of the last block's trailing length */
	struct readout o;
	read_every_way(&b, &o);
	assert_int_equal(o.n, 1);
	assert_error(&o, CAPFILE_CORRUPT, 28 + 20 + 44, "trailing length differs");
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_packets_need_a_described_interface(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_shb(&b);
	ng_epb(&b, 0, 1, 2, 2, "no");
	struct readout o;
	read_every_way(&b, &o);
	assert_error(&o, CAPFILE_CORRUPT, 28, "before any Interface Description Block");
	bb_free(&b);

	b = bb_new(true);
	ng_two_packets(&b, -1);
	ng_epb(&b, 1, 1, 2, 2, "no");
	read_every_way(&b, &o);
	assert_int_equal(o.n, 2);
	assert_error(&o, CAPFILE_CORRUPT, 28 + 20 + 88, "a packet on interface 1; the section describes 1");
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_captured_length_must_fit_its_block(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	ng_shb(&b);
	ng_idb(&b, 1, 0, -1, false, 0);
	size_t s = ng_begin(&b, 6);
	bb_u32(&b, 0);
	bb_u32(&b, 0);
	bb_u32(&b, 1);
	bb_u32(&b, 100); /* caplen 100, 4 bytes of data */
	bb_u32(&b, 100);
	bb_put(&b, "abcd", 4);
	ng_end(&b, s);
	struct readout o;
	read_every_way(&b, &o);
	assert_error(&o, CAPFILE_CORRUPT, 48, "captured length 100 runs past its block");
	bb_free(&b);
}

static void pcapng_malformed_interface_options_are_corrupt(void **state)
{
	(void)state;
	static const struct {
		uint16_t code, len;
		const char *value;
		const char *why;
	} cases[] = {
		{ 9, 1, "\x14", "if_tsresol 10^-20" },
		{ 9, 1, "\xc0", "if_tsresol 2^-64" },
		{ 9, 2, "\x06\x06", "a repeated or malformed if_tsresol option" },
		{ 14, 4, "abcd", "a repeated or malformed if_tsoffset option" },
		{ 2, 200, "", "option 2 of 200 bytes" },
		{ 0, 4, "abcd", "option 0 of 4 bytes" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bb b = bb_new(false);
		ng_shb(&b);
		size_t s = ng_begin(&b, 1);
		bb_u32(&b, 1);
		bb_u32(&b, 0);
		bb_u16(&b, cases[i].code);
		bb_u16(&b, cases[i].len);
		bb_put(&b, cases[i].value, strlen(cases[i].value));
		ng_end(&b, s);
		struct readout o;
		read_every_way(&b, &o);
		assert_true(o.opened);
		assert_error(&o, CAPFILE_CORRUPT, 28, cases[i].why);
		bb_free(&b);
	}
	struct bb b = bb_new(true); /* the same option twice */
	ng_shb(&b);
	size_t s = ng_begin(&b, 1);
	bb_u32(&b, 1);
	bb_u32(&b, 0);
	ng_opt(&b, 9, "\x06", 1);
	ng_opt(&b, 9, "\x06", 1);
	ng_end(&b, s);
	struct readout o;
	read_every_way(&b, &o);
	assert_error(&o, CAPFILE_CORRUPT, 28, "a repeated or malformed if_tsresol option");
	bb_free(&b);
}

static void pcapng_bad_section_headers_are_refused(void **state)
{
	(void)state;
	struct bb b = bb_new(false);
	size_t s = ng_begin(&b, 0x0a0d0d0a);
	bb_u32(&b, 0x1a2b3c4e);
	bb_u16(&b, 1);
	bb_u16(&b, 0);
	bb_u64(&b, 0);
	ng_end(&b, s);
	struct readout o;
	read_every_way(&b, &o);
	assert_false(o.opened);
	assert_string_equal(o.open_err,
			    "offset 0: corrupt block: no byte-order magic in a Section Header Block");
	bb_free(&b);

	b = bb_new(true);
	ng_two_packets(&b, -1);
	s = ng_begin(&b, 0x0a0d0d0a);
	bb_u32(&b, 0x1a2b3c4d);
	bb_u16(&b, 2);
	bb_u16(&b, 0);
	bb_u64(&b, 0);
	ng_end(&b, s);
	read_every_way(&b, &o);
	assert_int_equal(o.n, 2);
	assert_error(&o, CAPFILE_CORRUPT, 28 + 20 + 88, "unsupported pcapng version 2.0");
	readout_free(&o);
	bb_free(&b);
}

static void pcapng_short_fixed_parts_are_corrupt(void **state)
{
	(void)state;
	static const uint32_t types[] = { 1, 2, 3, 6, 10 };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct bb b = bb_new(false);
		ng_shb(&b);
		if (types[i] != 1)
			ng_idb(&b, 1, 0, -1, false, 0);
		ng_end(&b, ng_begin(&b, types[i])); /* no body: shorter than any fixed part */
		struct readout o;
		read_every_way(&b, &o);
		assert_int_equal(o.r, CAPFILE_CORRUPT);
		assert_non_null(strstr(o.err, "of only 12 bytes"));
		bb_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pcap_packets_come_out_as_written_in_either_byte_order),
		cmocka_unit_test(pcap_nanosecond_timestamps_are_cut_to_microseconds),
		cmocka_unit_test(pcap_kuznetzov_records_carry_eight_more_header_bytes),
		cmocka_unit_test(pcap_before_version_2_3_swaps_caplen_and_len),
		cmocka_unit_test(pcap_record_above_snaplen_is_cut_to_it_as_libpcap_does),
		cmocka_unit_test(pcap_record_above_the_link_types_maximum_is_corrupt),
		cmocka_unit_test(pcap_dbus_records_may_exceed_262144_bytes),
		cmocka_unit_test(pcap_cut_in_a_record_header_keeps_the_packets_before),
		cmocka_unit_test(pcap_cut_in_packet_data_keeps_the_packets_before),
		cmocka_unit_test(pcap_header_alone_is_an_empty_capture),
		cmocka_unit_test(pcap_linktype_values_map_to_dlts_as_libpcap_maps_them),
		cmocka_unit_test(pcap_unsupported_versions_are_refused_at_open),
		cmocka_unit_test(files_that_are_no_capture_are_refused_at_open),
		cmocka_unit_test(pcapng_enhanced_packets_in_either_byte_order),
		cmocka_unit_test(pcapng_sections_may_change_byte_order_and_restart_interface_ids),
		cmocka_unit_test(pcapng_interfaces_keep_their_own_link_types),
		cmocka_unit_test(pcapng_power_of_ten_resolutions_scale_as_libpcap),
		cmocka_unit_test(pcapng_power_of_two_resolutions_scale_as_libpcap),
		cmocka_unit_test(pcapng_tsoffset_adds_seconds_either_way),
		cmocka_unit_test(pcapng_simple_packets_take_interface_zero_and_its_snaplen),
		cmocka_unit_test(pcapng_obsolete_packet_blocks_are_read),
		cmocka_unit_test(pcapng_secrets_blocks_go_to_the_callback),
		cmocka_unit_test(pcapng_other_blocks_are_skipped),
		cmocka_unit_test(pcapng_interface_names_are_kept),
		cmocka_unit_test(pcapng_packet_beyond_snaplen_is_given_whole),
		cmocka_unit_test(pcapng_large_blocks_grow_the_window_only_to_their_size),
		cmocka_unit_test(pcapng_cut_block_keeps_the_packets_before),
		cmocka_unit_test(pcapng_hostile_lengths_are_corrupt_and_allocate_nothing),
		cmocka_unit_test(pcapng_trailer_length_must_match),
		cmocka_unit_test(pcapng_packets_need_a_described_interface),
		cmocka_unit_test(pcapng_captured_length_must_fit_its_block),
		cmocka_unit_test(pcapng_malformed_interface_options_are_corrupt),
		cmocka_unit_test(pcapng_bad_section_headers_are_refused),
		cmocka_unit_test(pcapng_short_fixed_parts_are_corrupt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
