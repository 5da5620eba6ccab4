/*
 * test_extract.c - the -x DIR files: names built only from numbers and
 * addresses, 0600 files that never replace an entry and never follow a
 * symlink, the .partial rename, the directory checks and the write buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "../../output/extract.h"
#include "../../output/output.h"

static const struct flow flow4 = {
	.flow_id = 1234567,
	.client_ip = "10.0.0.1",
	.server_ip = "192.0.2.20",
	.client_port = 40000,
	.server_port = 110,
};

static const struct flow flow6 = {
	.flow_id = 7,
	.client_ip = "2001:db8::1",
	.server_ip = "::ffff:192.0.2.1",
	.client_port = 1,
	.server_port = 109,
};

static char tmpdir[64];
static char dir[128];

static int setup(void **state)
{
	(void)state;
	return fixture_dir_create("extract", tmpdir, sizeof(tmpdir));
}

static int teardown(void **state)
{
	(void)state;
	return fixture_dir_remove(tmpdir);
}

/* A fresh DIR for one test (created by extract_open). */
static struct extract *open_dir(const char *name)
{
	char err[256];
	snprintf(dir, sizeof(dir), "%s/%s", tmpdir, name);
	struct extract *x = extract_open(dir, err, sizeof(err));
	if (!x)
		fail_msg("extract_open: %s", err);
	return x;
}

static void path_of(const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void names_hold_time_flow_addresses_number_and_command(void **state)
{
	(void)state;
	char name[EXTRACT_NAME_MAX + 1];
	struct extract_name n = { &flow4, { 1700000000, 123456 }, 3, "RETR" };
	extract_format_name(&n, false, 1, name);
	assert_string_equal(name, "20231114T221320.123456Z_1234567_10.0.0.1.40000_192.0.2.20.110_3.retr.eml");
	n.command = "TOP";
	extract_format_name(&n, true, 2, name);
	assert_string_equal(name,
			    "20231114T221320.123456Z_1234567_10.0.0.1.40000_192.0.2.20.110_3.top.partial.2.eml");
	n.command = "XTND XMIT";
	n.number = 0;
	extract_format_name(&n, false, 1, name);
	assert_string_equal(name, "20231114T221320.123456Z_1234567_10.0.0.1.40000_192.0.2.20.110_0.xmit.eml");
}

static void ipv6_addresses_give_names_without_colons(void **state)
{
	(void)state;
	char name[EXTRACT_NAME_MAX + 1];
	struct extract_name n = { &flow6, { 0, 0 }, 4294967295u, "RETR" };
	extract_format_name(&n, false, 1, name);
	assert_string_equal(name,
			    "19700101T000000.000000Z_7_2001-db8--1.1_--ffff-192.0.2.1.109_4294967295.retr.eml");
	assert_null(strchr(name, ':'));
	assert_null(strchr(name, '/'));
}

static void longest_possible_name_fits(void **state)
{
	(void)state;
	struct flow f = flow6;
	snprintf(f.client_ip, sizeof(f.client_ip), "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	memcpy(f.server_ip, f.client_ip, sizeof(f.server_ip));
	f.flow_id = UINT64_MAX;
	f.client_port = f.server_port = 65535;
	char name[EXTRACT_NAME_MAX + 1];
	struct extract_name n = { &f, { 1700000000, 999999 }, 4294967295u, "TOP" };
	size_t len = extract_format_name(&n, true, EXTRACT_TRIES, name);
	assert_true(len < EXTRACT_NAME_MAX);
	assert_string_equal(name + len - 18, ".partial.10000.eml");
}

static void files_are_0600_and_hold_every_octet_written(void **state)
{
	(void)state;
	struct extract *x = open_dir("bytes");
	struct extract_name n = { &flow4, { 1700000000, 0 }, 1, "RETR" };
	struct extract_file *f = extract_file_create(x, &n);
	assert_non_null(f);
	/* Spans smaller than, equal to and bigger than the buffer, in a pattern. */
	static uint8_t data[3 * EXTRACT_BUFFER + 17];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + i / 251);
	size_t spans[] = { 1, 100, EXTRACT_BUFFER, 5, EXTRACT_BUFFER + 3, 0, 2 * EXTRACT_BUFFER };
	size_t off = 0;
	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]) && off < sizeof(data); i++) {
		size_t k = spans[i] < sizeof(data) - off ? spans[i] : sizeof(data) - off;
		assert_true(extract_file_write(f, data + off, k));
		off += k;
	}
	assert_int_equal(off, sizeof(data));
	assert_true(extract_file_finish(f, true));
	char path[512];
	path_of(extract_file_name(f), path, sizeof(path));
	extract_file_close(f);
	extract_close(x);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, sizeof(data));
	FILE *fp = fopen(path, "rb");
	static uint8_t back[sizeof(data)];
	assert_int_equal(fread(back, 1, sizeof(back), fp), sizeof(back));
	fclose(fp);
	assert_memory_equal(back, data, sizeof(data));
}

static void a_taken_name_gets_the_next_counter_and_is_left_untouched(void **state)
{
	(void)state;
	struct extract *x = open_dir("collide");
	struct extract_name n = { &flow4, { 1700000000, 0 }, 1, "RETR" };
	struct extract_file *a = extract_file_create(x, &n);
	struct extract_file *b = extract_file_create(x, &n);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(extract_file_write(a, (const uint8_t *)"first", 5));
	assert_true(extract_file_write(b, (const uint8_t *)"second", 6));
	assert_true(extract_file_finish(a, true));
	assert_true(extract_file_finish(b, true));
	assert_string_not_equal(extract_file_name(a), extract_file_name(b));
	assert_non_null(strstr(extract_file_name(b), "_1.retr.2.eml"));
	char pa[512];
	path_of(extract_file_name(a), pa, sizeof(pa));
	extract_file_close(a);
	extract_file_close(b);
	extract_close(x);
	struct stat st;
	assert_int_equal(stat(pa, &st), 0);
	assert_int_equal(st.st_size, 5);
}

static void a_planted_symlink_is_never_followed(void **state)
{
	(void)state;
	struct extract *x = open_dir("planted");
	char target[128], link[512], name[EXTRACT_NAME_MAX + 1];
	snprintf(target, sizeof(target), "%s/victim", tmpdir);
	struct extract_name n = { &flow4, { 1700000000, 0 }, 9, "RETR" };
	extract_format_name(&n, false, 1, name);
	path_of(name, link, sizeof(link));
	assert_int_equal(symlink(target, link), 0); /* dangling: following it would create victim */
	struct extract_file *f = extract_file_create(x, &n);
	assert_non_null(f);
	assert_true(extract_file_write(f, (const uint8_t *)"mail", 4));
	assert_true(extract_file_finish(f, true));
	assert_string_not_equal(extract_file_name(f), name);
	extract_file_close(f);
	extract_close(x);
	assert_int_equal(access(target, F_OK), -1);
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static void an_incomplete_message_is_renamed_partial_without_replacing(void **state)
{
	(void)state;
	struct extract *x = open_dir("partial");
	char name[EXTRACT_NAME_MAX + 1], taken[512];
	struct extract_name n = { &flow4, { 1700000000, 0 }, 2, "TOP" };
	extract_format_name(&n, true, 1, name);
	path_of(name, taken, sizeof(taken));
	FILE *fp = fopen(taken, "w"); /* the .partial name is taken already */
	fputs("keep", fp);
	fclose(fp);
	struct extract_file *f = extract_file_create(x, &n);
	assert_non_null(f);
	assert_true(extract_file_finish(f, false));
	assert_non_null(strstr(extract_file_name(f), "_2.top.partial.2.eml"));
	extract_file_close(f);
	extract_close(x);
	struct stat st;
	assert_int_equal(stat(taken, &st), 0);
	assert_int_equal(st.st_size, 4);
}

static void a_missing_directory_is_created_0700(void **state)
{
	(void)state;
	extract_close(open_dir("new"));
	struct stat st;
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
}

static void a_directory_that_is_a_symlink_is_refused(void **state)
{
	(void)state;
	char real[128], link[128], err[256];
	snprintf(real, sizeof(real), "%s/real", tmpdir);
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, link), 0);
	assert_null(extract_open(link, err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
}

static void a_file_or_a_missing_parent_is_refused(void **state)
{
	(void)state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	FILE *fp = fopen(path, "w");
	fclose(fp);
	assert_null(extract_open(path, err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/no/such/dir", tmpdir);
	assert_null(extract_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create"));
}

static void a_spool_file_is_unnamed_and_readable(void **state)
{
	(void)state;
	struct extract_file *f = extract_spool_create();
	assert_non_null(f);
	assert_null(extract_file_name(f));
	assert_true(extract_file_write(f, (const uint8_t *)"spooled", 7));
	assert_true(extract_file_finish(f, false));
	char buf[8] = "";
	assert_int_equal(pread(extract_file_fd(f), buf, 7, 0), 7);
	assert_string_equal(buf, "spooled");
	extract_file_close(f);
}

/*
 * Streams msg through output.c's message path (-x and --mbox) in spans of at most
 * `span` octets (0: two spans cut at `cut`); returns the message event line and the
 * mbox, both malloc'd.
 */
static void stream_message(const char *msg, size_t span, size_t cut, int run, char **event, char **mbox)
{
	char xdir[160], mpath[160];
	snprintf(xdir, sizeof(xdir), "%s/spans-%d", tmpdir, run);
	snprintf(mpath, sizeof(mpath), "%s/spans-%d.mbox", tmpdir, run);
	size_t elen = 0;
	FILE *fp = open_memstream(event, &elen);
	struct output_config cfg = { .fp = fp, .extract_dir = xdir, .mbox_path = mpath };
	struct output *o = output_open(&cfg);
	assert_non_null(o);
	struct flow f = flow4;
	f.now.tv_sec = 1700000000;
	struct event_sink *sink = output_session_open(o, &f);
	struct event ev = { .type = EV_MESSAGE_BEGIN };
	ev.u.message_begin = (struct ev_message_begin){ .command = "RETR", .number = 5,
							.dir = DIR_TO_CLIENT, .announced = -1 };
	sink_emit(sink, &ev);
	size_t n = strlen(msg);
	for (size_t i = 0; i < n;) {
		size_t k = span ? (n - i < span ? n - i : span) : (i < cut ? cut : n - i);
		ev = (struct event){ .type = EV_MESSAGE_DATA };
		ev.u.message_data = (struct ev_message_data){ (const uint8_t *)msg + i, k };
		sink_emit(sink, &ev);
		i += k;
	}
	ev = (struct event){ .type = EV_MESSAGE_END };
	ev.u.message_end.complete = true;
	sink_emit(sink, &ev);
	output_session_close(sink);
	assert_true(output_close(o));
	fclose(fp);
	FILE *mf = fopen(mpath, "rb");
	assert_non_null(mf);
	*mbox = calloc(1, 65536);
	assert_non_null(*mbox);
	assert_true(fread(*mbox, 1, 65535, mf) > 0);
	fclose(mf);
}

static void message_events_and_mbox_are_the_same_whatever_the_spans(void **state)
{
	(void)state;
	static const char msg[] =
		"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\nFrom: a@popsift.test\r\n"
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
		"From the body\r\n--b\r\nContent-Disposition: attachment; filename=x.txt\r\n\r\n"
		"hello\r\n--b--\r\n";
	char *want_ev, *want_mbox;
	int run = 0;
	stream_message(msg, sizeof(msg), 0, run++, &want_ev, &want_mbox);
	assert_non_null(strstr(want_ev, "\"subject\":\"Grüße\""));
	assert_non_null(strstr(want_ev, "\"filename\":\"x.txt\""));
	assert_non_null(strstr(want_mbox, "\n>From the body\n"));
	for (size_t cut = 0; cut <= sizeof(msg) - 1; cut++) {
		char *ev, *mb;
		if (cut == 0)
			stream_message(msg, 1, 0, run++, &ev, &mb);
		else
			stream_message(msg, 0, cut, run++, &ev, &mb);
		if (strcmp(ev, want_ev) != 0)
			fail_msg("cut %zu: %s\nwant %s", cut, ev, want_ev);
		assert_string_equal(mb, want_mbox);
		free(ev);
		free(mb);
	}
	free(want_ev);
	free(want_mbox);
}

int main(void)
{
	output_run_child(); /* -x lists attachments in this program run again (output.h) */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_hold_time_flow_addresses_number_and_command),
		cmocka_unit_test(ipv6_addresses_give_names_without_colons),
		cmocka_unit_test(longest_possible_name_fits),
		cmocka_unit_test(files_are_0600_and_hold_every_octet_written),
		cmocka_unit_test(a_taken_name_gets_the_next_counter_and_is_left_untouched),
		cmocka_unit_test(a_planted_symlink_is_never_followed),
		cmocka_unit_test(an_incomplete_message_is_renamed_partial_without_replacing),
		cmocka_unit_test(a_missing_directory_is_created_0700),
		cmocka_unit_test(a_directory_that_is_a_symlink_is_refused),
		cmocka_unit_test(a_file_or_a_missing_parent_is_refused),
		cmocka_unit_test(a_spool_file_is_unnamed_and_readable),
		cmocka_unit_test(message_events_and_mbox_are_the_same_whatever_the_spans),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
