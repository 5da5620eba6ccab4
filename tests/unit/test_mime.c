/*
 * test_mime.c - mime.c through GMime: the triage headers (RFC 2047 decoding,
 * the raw form kept beside where it differs, unfolding, 8-bit bytes, cut and
 * broken header sections) and the attachments of an extracted file (decoded
 * digests, RFC 2231 names, attached messages, truncated and hostile MIME).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../output/mime.h"

/* The group's state: the attachment parser service the tests share. */
static int setup(void **state)
{
	mime_init();
	*state = mime_service_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	mime_service_free(*state);
	return 0;
}

static void parse(const char *text, struct message_headers *h)
{
	memset(h, 0, sizeof(*h));
	mime_headers_parse((const uint8_t *)text, strlen(text), h);
}

static void expect_field(const struct header_field *f, const char *want)
{
	if (want)
		assert_string_equal(f->value, want);
	else
		assert_null(f->value);
}

/* The six triage headers: from, to, cc, date, message_id, subject; NULL: absent. */
static void expect_headers(const struct message_headers *h, const char *const want[6])
{
	const struct header_field *f[] = { &h->from, &h->to, &h->cc, &h->date, &h->message_id,
					   &h->subject };
	for (int i = 0; i < 6; i++)
		expect_field(f[i], want[i]);
}

static void encoded_words_are_decoded_and_the_raw_form_kept_beside(void **state)
{
	(void)state;
	struct message_headers h;
	parse("From: =?UTF-8?Q?J=C3=B6rg?= <j@popsift.test>\r\n"
	      "Subject: =?UTF-8?B?5pel5pys6Kqe?= =?ISO-8859-1?Q?_Gr=FC=DFe?=\r\n"
	      "\r\n",
	      &h);
	assert_string_equal(h.from.value, "Jörg <j@popsift.test>");
	assert_string_equal(h.from.raw, "=?UTF-8?Q?J=C3=B6rg?= <j@popsift.test>");
	assert_string_equal(h.subject.value, "日本語 Grüße");
	assert_string_equal(h.subject.raw, "=?UTF-8?B?5pel5pys6Kqe?= =?ISO-8859-1?Q?_Gr=FC=DFe?=");
	mime_headers_free(&h);
}

static void plain_headers_have_no_raw_copy(void **state)
{
	(void)state;
	struct message_headers h;
	parse("From: Bob <bob@popsift.test>\r\nTo: Alice <alice@popsift.test>, carol@popsift.test\r\n"
	      "Cc: Dave <dave@popsift.test>\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	      "Message-ID: <m1@popsift.test>\r\nSubject: Tea at four\r\n\r\n",
	      &h);
	expect_headers(&h, (const char *const[]){ "Bob <bob@popsift.test>",
						  "Alice <alice@popsift.test>, carol@popsift.test",
						  "Dave <dave@popsift.test>",
						  "Tue, 14 Nov 2023 22:13:20 +0000", "<m1@popsift.test>",
						  "Tea at four" });
	assert_null(h.from.raw);
	assert_null(h.to.raw);
	assert_null(h.subject.raw);
	assert_null(h.message_id.raw);
	mime_headers_free(&h);
}

static void folded_headers_are_unfolded(void **state)
{
	(void)state;
	struct message_headers h;
	parse("Subject: a long\r\n\tsubject line\r\nTo: a@popsift.test,\r\n b@popsift.test\r\n\r\n", &h);
	assert_string_equal(h.subject.value, "a long\tsubject line");
	assert_null(h.subject.raw);
	assert_non_null(h.to.value);
	assert_null(strchr(h.to.value, '\n'));
	mime_headers_free(&h);
}

static void raw_8bit_bytes_are_converted_and_kept_raw(void **state)
{
	(void)state;
	struct message_headers h;
	parse("From: Ren\xe9 <rene@popsift.test>\r\nSubject: \xc3\x9c" "berweisung\r\n\r\n", &h);
	assert_string_equal(h.from.value, "René <rene@popsift.test>");
	assert_string_equal(h.from.raw, "Ren\xe9 <rene@popsift.test>");
	assert_string_equal(h.subject.value, "Überweisung");
	assert_null(h.subject.raw);
	mime_headers_free(&h);
}

static void absent_headers_stay_absent(void **state)
{
	(void)state;
	struct message_headers h;
	parse("X-Only: this\r\n\r\n", &h);
	expect_headers(&h, (const char *const[6]){ NULL });
	mime_headers_free(&h);
	parse("", &h);
	assert_null(h.from.value);
}

static void the_first_of_two_subjects_is_reported(void **state)
{
	(void)state;
	struct message_headers h;
	parse("Subject: first\r\nSubject: second\r\n\r\n", &h);
	assert_string_equal(h.subject.value, "first");
	mime_headers_free(&h);
}

static void a_section_cut_mid_line_keeps_the_complete_headers(void **state)
{
	(void)state;
	struct message_headers h;
	parse("From: a@popsift.test\r\nSubject: whole\r\nTo: cut-he", &h);
	assert_string_equal(h.from.value, "a@popsift.test");
	assert_string_equal(h.subject.value, "whole");
	mime_headers_free(&h);
	parse("From: a@popsift.test\r\nSubject: whole\r\nX-Pad", &h); /* a last line GMime refuses */
	assert_string_equal(h.from.value, "a@popsift.test");
	assert_string_equal(h.subject.value, "whole");
	mime_headers_free(&h);
}

/* A section of plain fields alone is read by mime.c itself, through GMime's decoding. */
static void fields_not_reported_change_nothing(void **state)
{
	(void)state;
	struct message_headers h;
	parse("X-Mailer: m\r\nReceived: from a\r\n\tby b\r\nsubject: s\r\nFROM: f@popsift.test\r\n"
	      "X-Long: a\r\n b\r\nSubject: second\r\nto: t@popsift.test,\r\n u@popsift.test\r\n\r\n",
	      &h);
	assert_string_equal(h.subject.value, "s");
	assert_string_equal(h.from.value, "f@popsift.test");
	assert_string_equal(h.to.value, "t@popsift.test, u@popsift.test");
	assert_null(h.cc.value);
	mime_headers_free(&h);
}

/*
 * GMime skips a line it does not take for a field after a field, but gives
 * nothing when the section starts with one: dropping the fields before such a
 * line would lose what follows it, so that section goes to GMime whole.
 */
static void a_line_that_is_no_field_keeps_the_section_whole(void **state)
{
	(void)state;
	struct message_headers h;
	parse("Content-Type: text/plain\r\nBogus line\r\nSubject: after\r\n\r\n", &h);
	assert_string_equal(h.subject.value, "after");
	mime_headers_free(&h);
	parse("Bogus line\r\nSubject: after\r\n\r\n", &h);
	assert_null(h.subject.value);
	mime_headers_free(&h);
}

static void garbage_gives_no_headers_and_no_crash(void **state)
{
	(void)state;
	static const uint8_t junk[] = "\x00\xff\xfe: \r\n\r\r\n:::\x01\x02Subject\r\n =?x?q?\r\n";
	struct message_headers h;
	memset(&h, 0, sizeof(h));
	mime_headers_parse(junk, sizeof(junk) - 1, &h);
	mime_headers_free(&h);
	parse("Subject: =?UTF-8?B?!!!?= =?bogus-charset?Q?=FF=?=\r\n\r\n", &h);
	assert_non_null(h.subject.value);
	mime_headers_free(&h);
}

/* ---- attachments ------------------------------------------------------------ */

static int temp_file(const char *text, size_t n)
{
	char path[] = "/tmp/popsift-test-mime.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	return fd;
}

static const char multipart[] =
	"From: a@popsift.test\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--b1\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"the body, not an attachment\r\n"
	"--b1\r\n"
	"Content-Type: application/octet-stream; name=\"ignored.bin\"\r\n"
	"Content-Disposition: attachment; filename*=utf-8''%C3%A9t%C3%A9.bin\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"aGVsbG8gd29y\r\n"
	"bGQ=\r\n"
	"--b1\r\n"
	"Content-Type: message/rfc822\r\n"
	"Content-Disposition: attachment\r\n"
	"\r\n"
	"Subject: inner\r\n"
	"\r\n"
	"inner body\r\n"
	"--b1\r\n"
	"Content-Type: IMAGE/PNG\r\n"
	"Content-Disposition: inline; filename=\"pic.png\"\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"=89PNG\r\n"
	"--b1--\r\n";

static void attachments_are_listed_with_the_digest_of_their_decoded_octets(void **state)
{
	(void)state;
	int fd = temp_file(multipart, sizeof(multipart) - 1);
	struct attachment_record *a;
	size_t n;
	bool truncated;
	assert_null(mime_attachments_parse(*state, fd, sizeof(multipart) - 1, &a, &n, &truncated));
	close(fd);
	assert_int_equal(n, 3);
	assert_false(truncated);
	assert_string_equal(a[0].filename, "été.bin");
	assert_string_equal(a[0].content_type, "application/octet-stream");
	assert_int_equal(a[0].size, 11); /* "hello world" */
	assert_string_equal(a[0].sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
	assert_null(a[1].filename);
	assert_string_equal(a[1].content_type, "message/rfc822");
	/* "Subject: inner\r\n\r\ninner body": the CRLF before "--b1" is the boundary's (RFC 2046) */
	assert_int_equal(a[1].size, 28);
	assert_string_equal(a[1].sha256, "2a576f740938ab3ff797c5aae810da94ec0cee2cf4e0535f512a2f2f86ba3db5");
	assert_string_equal(a[2].filename, "pic.png");
	assert_string_equal(a[2].content_type, "image/png");
	assert_int_equal(a[2].size, 4);
	mime_attachments_free(a, n);
}

static void a_message_cut_inside_an_attachment_still_lists_it(void **state)
{
	(void)state;
	size_t cut = (size_t)(strstr(multipart, "bGQ=") - multipart);
	int fd = temp_file(multipart, sizeof(multipart) - 1);
	struct attachment_record *a;
	size_t n;
	bool truncated;
	assert_null(mime_attachments_parse(*state, fd, cut, &a, &n, &truncated));
	close(fd);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].size, 9); /* "hello wor": what arrived */
	mime_attachments_free(a, n);
}

static void a_message_without_mime_has_no_attachments(void **state)
{
	(void)state;
	static const char text[] = "Subject: hi\r\n\r\nplain text\r\n";
	int fd = temp_file(text, sizeof(text) - 1);
	struct attachment_record *a;
	size_t n;
	bool truncated;
	assert_null(mime_attachments_parse(*state, fd, sizeof(text) - 1, &a, &n, &truncated));
	assert_int_equal(n, 0);
	assert_null(a);
	/* An empty file and a file of binary junk never crash either. */
	mime_attachments_parse(*state, fd, 0, &a, &n, &truncated);
	mime_attachments_free(a, n);
	close(fd);
	static const char junk[] = "\x00\x01--\r\n\xff\xfe\r\n\r\n--\r\n";
	fd = temp_file(junk, sizeof(junk) - 1);
	mime_attachments_parse(*state, fd, sizeof(junk) - 1, &a, &n, &truncated);
	mime_attachments_free(a, n);
	close(fd);
}

/* 3000 nested multiparts: GMime stops at its own depth limit instead of the stack. */
static void deeply_nested_multiparts_do_not_exhaust_the_stack(void **state)
{
	(void)state;
	size_t cap = 3000 * 80 + 1000, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len, "MIME-Version: 1.0\r\n");
	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	len += (size_t)snprintf(text + len, cap - len,
				"Content-Disposition: attachment; filename=x\r\n\r\ndeep\r\n");
	int fd = temp_file(text, len);
	free(text);
	struct attachment_record *a;
	size_t n;
	bool truncated;
	mime_attachments_parse(*state, fd, len, &a, &n, &truncated);
	mime_attachments_free(a, n);
	close(fd);
}

static void more_attachments_than_the_limit_set_the_flag(void **state)
{
	(void)state;
	size_t cap = (RECORD_ATTACHMENTS_MAX + 10) * 100 + 200, len = 0;
	char *text = malloc(cap);
	assert_non_null(text);
	len += (size_t)snprintf(text + len, cap - len,
				"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n");
	for (int i = 0; i < RECORD_ATTACHMENTS_MAX + 10; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"--b\r\nContent-Disposition: attachment; filename=f%d\r\n\r\nx\r\n", i);
	len += (size_t)snprintf(text + len, cap - len, "--b--\r\n");
	int fd = temp_file(text, len);
	free(text);
	struct attachment_record *a;
	size_t n;
	bool truncated;
	assert_null(mime_attachments_parse(*state, fd, len, &a, &n, &truncated));
	close(fd);
	assert_int_equal(n, RECORD_ATTACHMENTS_MAX);
	assert_true(truncated);
	mime_attachments_free(a, n);
}

int main(void)
{
	mime_service_child(); /* the parser service is this program run again */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encoded_words_are_decoded_and_the_raw_form_kept_beside),
		cmocka_unit_test(plain_headers_have_no_raw_copy),
		cmocka_unit_test(folded_headers_are_unfolded),
		cmocka_unit_test(raw_8bit_bytes_are_converted_and_kept_raw),
		cmocka_unit_test(absent_headers_stay_absent),
		cmocka_unit_test(the_first_of_two_subjects_is_reported),
		cmocka_unit_test(a_section_cut_mid_line_keeps_the_complete_headers),
		cmocka_unit_test(fields_not_reported_change_nothing),
		cmocka_unit_test(a_line_that_is_no_field_keeps_the_section_whole),
		cmocka_unit_test(garbage_gives_no_headers_and_no_crash),
		cmocka_unit_test(attachments_are_listed_with_the_digest_of_their_decoded_octets),
		cmocka_unit_test(a_message_cut_inside_an_attachment_still_lists_it),
		cmocka_unit_test(a_message_without_mime_has_no_attachments),
		cmocka_unit_test(deeply_nested_multiparts_do_not_exhaust_the_stack),
		cmocka_unit_test(more_attachments_than_the_limit_set_the_flag),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
