/*
 * test_mbox.c - the --mbox writer: mboxrd quoting and line ends through the
 * streaming quoter (every message is fed whole, one byte at a time and split
 * at every offset, and must give the same entry), and mbox_open/mbox_append on
 * real files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "../../output/mbox.h"

struct sbuf {
	char p[8192];
	size_t n;
};

static bool sbuf_put(void *ctx, const uint8_t *p, size_t n)
{
	struct sbuf *b = ctx;
	assert_true(n <= sizeof(b->p) - b->n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
	return true;
}

/* Quotes msg[0..n) fed in spans of at most `span` octets (0: split once at `cut`). */
static void quote(const char *msg, size_t n, size_t span, size_t cut, struct sbuf *out)
{
	struct mbox_quote q;
	mbox_quote_init(&q);
	out->n = 0;
	if (span == 0) {
		assert_true(mbox_quote_feed(&q, (const uint8_t *)msg, cut, sbuf_put, out));
		assert_true(mbox_quote_feed(&q, (const uint8_t *)msg + cut, n - cut, sbuf_put, out));
	} else {
		for (size_t i = 0; i < n; i += span) {
			size_t k = n - i < span ? n - i : span;
			assert_true(mbox_quote_feed(&q, (const uint8_t *)msg + i, k, sbuf_put, out));
		}
	}
	assert_true(mbox_quote_end(&q, sbuf_put, out));
}

/* Asserts that msg quotes to want in every chunking. */
static void expect_quoted(const char *msg, const char *want)
{
	size_t n = strlen(msg);
	struct sbuf got;
	quote(msg, n, n ? n : 1, 0, &got);
	if (got.n != strlen(want) || memcmp(got.p, want, got.n) != 0)
		fail_msg("whole: got [%.*s] want [%s]", (int)got.n, got.p, want);
	quote(msg, n, 1, 0, &got);
	if (got.n != strlen(want) || memcmp(got.p, want, got.n) != 0)
		fail_msg("bytewise: got [%.*s] want [%s]", (int)got.n, got.p, want);
	for (size_t cut = 0; cut <= n; cut++) {
		quote(msg, n, 0, cut, &got);
		if (got.n != strlen(want) || memcmp(got.p, want, got.n) != 0)
			fail_msg("cut at %zu: got [%.*s] want [%s]", cut, (int)got.n, got.p, want);
	}
}

static void from_lines_get_one_more_gt_whatever_the_splits(void **state)
{
	(void)state;
	expect_quoted("Subject: x\r\n\r\nFrom here on\r\n>From quoted\r\n>>From twice\r\nok\r\n",
		      "Subject: x\n\n>From here on\n>>From quoted\n>>>From twice\nok\n\n");
}

static void lines_that_only_look_like_from_are_left_alone(void **state)
{
	(void)state;
	expect_quoted("From\r\nFrom:x\r\n from \r\n>>Fro\r\n>\r\nFrOm x\r\n",
		      "From\nFrom:x\n from \n>>Fro\n>\nFrOm x\n\n");
}

static void from_at_the_very_start_of_the_message_is_quoted(void **state)
{
	(void)state;
	expect_quoted("From x\r\n", ">From x\n\n");
}

static void crlf_becomes_lf_and_a_bare_cr_stays(void **state)
{
	(void)state;
	expect_quoted("a\rb\r\nc\n\r\r\nd\r", "a\rb\nc\n\r\nd\r\n\n");
}

static void a_message_without_a_final_line_end_gets_one(void **state)
{
	(void)state;
	expect_quoted("no newline", "no newline\n\n");
	expect_quoted("ends in From", "ends in From\n\n");
	expect_quoted("x\r\nFrom", "x\nFrom\n\n");
	expect_quoted("x\r\n>>", "x\n>>\n\n");
}

static void an_empty_message_is_just_the_empty_line(void **state)
{
	(void)state;
	expect_quoted("", "\n");
	expect_quoted("\r\n", "\n\n");
}

static void long_gt_runs_are_kept_exactly(void **state)
{
	(void)state;
	char msg[400], want[400];
	memset(msg, '>', 300);
	snprintf(msg + 300, sizeof(msg) - 300, "From x\r\n");
	want[0] = '>';
	memset(want + 1, '>', 300);
	snprintf(want + 301, sizeof(want) - 301, "From x\n\n");
	expect_quoted(msg, want);
}

static const struct flow test_flow = {
	.flow_id = 42,
	.client_ip = "2001:db8::1",
	.server_ip = "192.0.2.20",
	.client_port = 40000,
	.server_port = 110,
	.start = { 1700000000, 5 },
};

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	return fixture_dir_create("mbox", tmpdir, sizeof(tmpdir));
}

static int teardown(void **state)
{
	(void)state;
	return fixture_dir_remove(tmpdir);
}

static size_t slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	size_t got = fread(buf, 1, n - 1, f);
	buf[got] = 0;
	fclose(f);
	return got;
}

static void append_writes_a_from_line_with_time_and_addresses_then_the_message(void **state)
{
	(void)state;
	char path[128], src[128], buf[2048], err[256];
	snprintf(path, sizeof(path), "%s/out.mbox", tmpdir);
	snprintf(src, sizeof(src), "%s/msg", tmpdir);
	FILE *f = fopen(src, "wb");
	fputs("Subject: hi\r\n\r\nFrom me\r\n", f);
	fclose(f);
	struct mbox *m = mbox_open(path, err, sizeof(err));
	assert_non_null(m);
	int fd = open(src, O_RDONLY);
	struct mbox_entry e = { &test_flow, { 1700000100, 250000 }, "RETR", 3, true };
	assert_true(mbox_append(m, &e, fd, 24));
	e.command = "XTND XMIT";
	e.complete = false;
	assert_true(mbox_append(m, &e, fd, 13));
	close(fd);
	assert_true(mbox_close(m));
	slurp(path, buf, sizeof(buf));
	assert_string_equal(buf,
			    "From popsift Tue Nov 14 22:15:00 2023 flow=42 client=2001:db8::1.40000 "
			    "server=192.0.2.20.110 start=2023-11-14T22:13:20.000005Z command=RETR number=3\n"
			    "Subject: hi\n\n>From me\n\n"
			    "From popsift Tue Nov 14 22:15:00 2023 flow=42 client=2001:db8::1.40000 "
			    "server=192.0.2.20.110 start=2023-11-14T22:13:20.000005Z command=XTND_XMIT "
			    "number=3 partial\n"
			    "Subject: hi\n\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void a_second_open_appends_instead_of_truncating(void **state)
{
	(void)state;
	char path[128], buf[64], err[256];
	snprintf(path, sizeof(path), "%s/keep.mbox", tmpdir);
	FILE *f = fopen(path, "wb");
	fputs("old\n", f);
	fclose(f);
	struct mbox *m = mbox_open(path, err, sizeof(err));
	assert_non_null(m);
	assert_true(mbox_close(m));
	assert_int_equal(slurp(path, buf, sizeof(buf)), 4);
}

static void a_symlink_as_mbox_is_refused(void **state)
{
	(void)state;
	char path[128], target[128], err[256];
	snprintf(path, sizeof(path), "%s/link.mbox", tmpdir);
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	assert_int_equal(symlink(target, path), 0);
	assert_null(mbox_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(access(target, F_OK), -1);
}

static void a_directory_as_mbox_is_refused(void **state)
{
	(void)state;
	char err[256];
	assert_null(mbox_open(tmpdir, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_lines_get_one_more_gt_whatever_the_splits),
		cmocka_unit_test(lines_that_only_look_like_from_are_left_alone),
		cmocka_unit_test(from_at_the_very_start_of_the_message_is_quoted),
		cmocka_unit_test(crlf_becomes_lf_and_a_bare_cr_stays),
		cmocka_unit_test(a_message_without_a_final_line_end_gets_one),
		cmocka_unit_test(an_empty_message_is_just_the_empty_line),
		cmocka_unit_test(long_gt_runs_are_kept_exactly),
		cmocka_unit_test(append_writes_a_from_line_with_time_and_addresses_then_the_message),
		cmocka_unit_test(a_second_open_appends_instead_of_truncating),
		cmocka_unit_test(a_symlink_as_mbox_is_refused),
		cmocka_unit_test(a_directory_as_mbox_is_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
