/*
 * test_tls_record.c - TLS record framing (src/tls/tls_record.c): records
 * come out whole however the stream is cut; a gap inside a body costs that
 * record and keeps the framing; a gap hiding a header, a bad header or a
 * mid-stream start scan for a header that the next one confirms; the scan is
 * bounded and linear on garbage; the end of the stream is reported. Also
 * tls_probe_client_hello(). Every stream is also fed one octet at a time and
 * cut at every position, and must give the same events.
 */
#include "tls_testlib.h"

#include "../../src/tls/tls_record.h"

/* Records and events as text, so runs compare with strcmp. */
struct rlog {
	struct tt_buf text;
	bool want; /* what want() answers */
};

static bool r_want(void *ctx, const struct tls_rec_hdr *h)
{
	(void)h;
	return ((struct rlog *)ctx)->want;
}

static void r_record(void *ctx, const struct tls_rec_hdr *h, const uint8_t *body,
		     enum tls_rec_fate fate)
{
	struct rlog *l = ctx;
	static const char *const fates[] = { "whole", "skipped", "lost" };
	tt_printf(&l->text, "rec %u %04x %u %s:", h->type, h->version, h->len, fates[fate]);
	if (body)
		tt_put(&l->text, body, h->len);
	tt_put(&l->text, "\n", 1);
}

static void r_event(void *ctx, enum tls_rec_event ev, uint64_t n, const uint8_t *sample,
		    size_t samplen)
{
	static const char *const names[] = { "invalid", "too_long", "desync",
					     "resync",	"truncated", "unsynced" };
	struct rlog *l = ctx;
	tt_printf(&l->text, "%s %llu %zu\n", names[ev], (unsigned long long)n, samplen);
	for (size_t i = 0; i < samplen; i++)
		assert_true(sample[i] == sample[i]);
}

static const struct tls_rec_ops ops = { r_want, r_record, r_event };

/* One step of a stream: data, or a gap (gap > 0). */
struct step {
	const char *data;
	size_t len; /* 0: strlen(data) */
	size_t gap;
};

/* Runs steps through a reader, data cut in pieces of `piece` (0: whole). */
static char *run(const struct step *steps, size_t n, size_t piece, bool midstream, bool want)
{
	struct rlog l = { { 0 }, want };
	struct tls_rec_reader r;
	tls_rec_init(&r, &ops, &l, midstream);
	for (size_t i = 0; i < n; i++) {
		if (steps[i].gap) {
			tls_rec_gap(&r, steps[i].gap);
			continue;
		}
		size_t len = steps[i].len ? steps[i].len : strlen(steps[i].data);
		for (size_t off = 0; off < len;) {
			size_t k = piece && piece < len - off ? piece : len - off;
			uint8_t *copy = malloc(k);
			memcpy(copy, steps[i].data + off, k);
			tls_rec_feed(&r, copy, k);
			free(copy);
			off += k;
		}
	}
	tls_rec_end(&r);
	tls_rec_free(&r);
	tt_put(&l.text, "", 0);
	return (char *)l.text.p;
}

/* The events of the steps, checked equal when fed one octet at a time. */
static char *events(const struct step *steps, size_t n, bool midstream)
{
	char *whole = run(steps, n, 0, midstream, true);
	for (size_t piece = 1; piece < 40; piece += 3) {
		char *cut = run(steps, n, piece, midstream, true);
		if (strcmp(cut, whole))
			fail_msg("pieces of %zu:\n%s\nwhole:\n%s", piece, cut, whole);
		free(cut);
	}
	return whole;
}

#define STEP(s) { s, sizeof(s) - 1, 0 }
#define GAP(n) { NULL, 0, n }

static void records_come_out_whole_however_the_stream_is_cut(void **state)
{
	(void)state;
	const struct step s[] = { STEP("\x16\x03\x01\x00\x05hello\x17\x03\x03\x00\x03"
				       "abc\x15\x03\x03\x00\x02\x01\x00") };
	char *e = events(s, 1, false);
	assert_string_equal(e, "rec 22 0301 5 whole:hello\nrec 23 0303 3 whole:abc\n"
			       "rec 21 0303 2 whole:\x01\x00\n");
	free(e);
}

static void an_empty_record_is_a_record(void **state)
{
	(void)state;
	const struct step s[] = { STEP("\x17\x03\x03\x00\x00\x17\x03\x03\x00\x01x") };
	char *e = events(s, 1, false);
	assert_string_equal(e, "rec 23 0303 0 whole:\nrec 23 0303 1 whole:x\n");
	free(e);
}

static void unwanted_bodies_are_skipped_not_kept(void **state)
{
	(void)state;
	const struct step s[] = { STEP("\x17\x03\x03\x00\x05hello\x17\x03\x03\x00\x01x") };
	char *e = run(s, 1, 3, false, false);
	assert_string_equal(e, "rec 23 0303 5 skipped:\nrec 23 0303 1 skipped:\n");
	free(e);
}

static void a_gap_inside_a_body_loses_that_record_only(void **state)
{
	(void)state;
	const struct step s[] = { STEP("\x17\x03\x03\x00\x0a" "abc"), GAP(4),
				  STEP("def\x17\x03\x03\x00\x02ok") };
	char *e = events(s, 3, false);
	assert_string_equal(e, "rec 23 0303 10 lost:\nrec 23 0303 2 whole:ok\n");
	free(e);
}

static void a_gap_ending_a_body_keeps_the_framing(void **state)
{
	(void)state;
	const struct step s[] = { STEP("\x17\x03\x03\x00\x0a" "abc"), GAP(7),
				  STEP("\x17\x03\x03\x00\x02ok") };
	char *e = events(s, 3, false);
	assert_string_equal(e, "rec 23 0303 10 lost:\nrec 23 0303 2 whole:ok\n");
	free(e);
}

static void a_gap_hiding_a_header_resyncs_on_a_confirmed_header(void **state)
{
	(void)state;
	/* Record 1 loses its tail and record 2 its header; record 3 is found
	   (confirmed by record 4's header), record 4 is read normally. */
	const struct step s[] = { STEP("\x17\x03\x03\x00\x0a" "abc"), GAP(9),
				  STEP("\x03\x00\x04zzzz"
				       "\x17\x03\x03\x00\x03one\x17\x03\x03\x00\x03two") };
	char *e = events(s, 3, false);
	assert_string_equal(e, "rec 23 0303 10 lost:\ndesync 2 0\nresync 7 0\n"
			       "rec 23 0303 3 whole:one\nrec 23 0303 3 whole:two\n");
	free(e);
}

static void a_lone_plausible_header_in_garbage_is_not_taken(void **state)
{
	(void)state;
	/* "\x17\x03\x03\x00\x02xy" looks like a record but no header follows it. */
	const struct step s[] = { GAP(3), STEP("garbage\x17\x03\x03\x00\x02xy!!!!!more"
					       "\x16\x03\x03\x00\x01h\x16\x03\x03\x00\x01i") };
	char *e = events(s, 2, false);
	assert_string_equal(e, "desync 3 0\nresync 23 0\nrec 22 0303 1 whole:h\n"
			       "rec 22 0303 1 whole:i\n");
	free(e);
}

static void a_bad_header_is_reported_and_scanned_past(void **state)
{
	(void)state;
	const struct step s[] = { STEP("\x17\x03\x03\x00\x01x\x99\x03\x03\x00\x01y"
				       "\x17\x03\x03\x00\x01z\x17\x03\x03\x00\x01w") };
	char *e = events(s, 1, false);
	assert_string_equal(e, "rec 23 0303 1 whole:x\ninvalid 0 5\nresync 6 0\n"
			       "rec 23 0303 1 whole:z\nrec 23 0303 1 whole:w\n");
	free(e);
}

static void a_record_above_the_limit_is_refused(void **state)
{
	(void)state;
	/* 0x4801 = 2^14 + 2048 + 1 */
	const struct step s[] = { STEP("\x17\x03\x03\x48\x01"), STEP("\x17\x03\x03\x48\x00") };
	char *e = run(s, 2, 0, false, true);
	assert_true(strncmp(e, "too_long 0 5\n", 13) == 0);
	free(e);
}

static void the_end_inside_a_record_is_truncation(void **state)
{
	(void)state;
	const struct step s[] = { STEP("\x17\x03\x03\x00\x0a" "abc") };
	char *e = events(s, 1, false);
	assert_string_equal(e, "truncated 7 0\n");
	free(e);
	const struct step h[] = { STEP("\x17\x03") };
	e = events(h, 1, false);
	assert_string_equal(e, "truncated 3 0\n");
	free(e);
}

static void a_midstream_start_scans_and_the_end_confirms_the_last_record(void **state)
{
	(void)state;
	/* Only one record after the junk: the stream's end confirms it. */
	const struct step s[] = { STEP("tail of something\x17\x03\x03\x00\x03" "end") };
	char *e = events(s, 1, true);
	assert_string_equal(e, "resync 17 0\nrec 23 0303 3 whole:end\n");
	free(e);
}

static void scanning_a_megabyte_of_garbage_finds_the_records_after_it(void **state)
{
	(void)state;
	size_t junk = 1 << 20;
	uint8_t *p = malloc(junk + 40);
	uint64_t rng = 7;
	for (size_t i = 0; i < junk; i++) /* random octets with many 0x03 */
		p[i] = (uint8_t)(tt_rand(&rng) % 5 ? tt_rand(&rng) : 3);
	memcpy(p + junk, "\x17\x03\x03\x00\x03one\x17\x03\x03\x00\x03two", 16);
	struct step s[] = { GAP(1), { (const char *)p, junk + 16, 0 } };
	char *whole = run(s, 2, 0, false, true);
	char *cut = run(s, 2, 1000, false, true);
	assert_string_equal(cut, whole);
	/* Random octets may hide a confirmed pair; the real records must end it. */
	const char *tail = "rec 23 0303 3 whole:one\nrec 23 0303 3 whole:two\n";
	assert_true(strlen(whole) >= strlen(tail));
	assert_string_equal(whole + strlen(whole) - strlen(tail), tail);
	free(whole);
	free(cut);
	free(p);
}

static void the_probe_knows_a_client_hello_from_anything_else(void **state)
{
	(void)state;
	const uint8_t ch[] = "\x16\x03\x01\x00\xc4\x01\x00\x00\xc0";
	assert_int_equal(tls_probe_client_hello(ch, 9), TLS_PROBE_CLIENT_HELLO);
	for (size_t n = 0; n < 6; n++)
		assert_int_equal(tls_probe_client_hello(ch, n), TLS_PROBE_NEED_MORE);
	assert_int_equal(tls_probe_client_hello((const uint8_t *)"+OK POP3", 8), TLS_PROBE_NO);
	assert_int_equal(tls_probe_client_hello((const uint8_t *)"\x16\x03\x01\x00\x05\x02", 6),
			 TLS_PROBE_NO); /* a ServerHello */
	assert_int_equal(tls_probe_client_hello((const uint8_t *)"\x16\x03\x09", 3), TLS_PROBE_NO);
	assert_int_equal(tls_probe_client_hello((const uint8_t *)"\x16\x02", 2), TLS_PROBE_NO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(records_come_out_whole_however_the_stream_is_cut),
		cmocka_unit_test(an_empty_record_is_a_record),
		cmocka_unit_test(unwanted_bodies_are_skipped_not_kept),
		cmocka_unit_test(a_gap_inside_a_body_loses_that_record_only),
		cmocka_unit_test(a_gap_ending_a_body_keeps_the_framing),
		cmocka_unit_test(a_gap_hiding_a_header_resyncs_on_a_confirmed_header),
		cmocka_unit_test(a_lone_plausible_header_in_garbage_is_not_taken),
		cmocka_unit_test(a_bad_header_is_reported_and_scanned_past),
		cmocka_unit_test(a_record_above_the_limit_is_refused),
		cmocka_unit_test(the_end_inside_a_record_is_truncation),
		cmocka_unit_test(a_midstream_start_scans_and_the_end_confirms_the_last_record),
		cmocka_unit_test(scanning_a_megabyte_of_garbage_finds_the_records_after_it),
		cmocka_unit_test(the_probe_knows_a_client_hello_from_anything_else),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
