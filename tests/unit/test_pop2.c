/*
 * test_pop2.c - the POP2 (RFC 937) dissector, driven by scripted conversations.
 * Every evlog_run script runs in every chunking (evlog.c), so each test also
 * proves that the exact octet counting gives the same events whatever the
 * segment boundaries. Folders are not in evlog's log, so a small local sink
 * (flog) covers them, fed whole and one byte at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

#define RUN(steps) evlog_run(&pop2_dissector, steps, sizeof(steps) / sizeof(steps[0]), 0)
#define GREET S("+ POP2 popsift.test server ready\r\n")

/* ---- flog: folders ------------------------------------------------------- */

struct flog {
	struct event_sink sink;
	char text[16384];
	size_t len;
	size_t msg_size;
};

__attribute__((format(printf, 2, 3))) static void flogf(struct flog *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(l->text) - l->len);
	l->len += (size_t)n;
}

static void flog_emit(struct event_sink *sink, const struct event *ev)
{
	struct flog *l = (struct flog *)sink;
	const struct ev_session *s = &ev->u.session;
	switch (ev->type) {
	case EV_MESSAGE_BEGIN:
		flogf(l, "begin n=%u folder=%.*s\n", ev->u.message_begin.number,
		      (int)ev->u.message_begin.folder.n, (const char *)ev->u.message_begin.folder.p);
		l->msg_size = 0;
		break;
	case EV_MESSAGE_DATA: l->msg_size += ev->u.message_data.n; break;
	case EV_MESSAGE_END:
		flogf(l, "end complete=%d size=%zu\n", ev->u.message_end.complete, l->msg_size);
		break;
	case EV_ANOMALY: flogf(l, "anomaly %s\n", anomaly_id(ev->u.anomaly.id)); break;
	case EV_SESSION:
		flogf(l, "session state=%s deleted=%u folders=", s->state, s->messages_deleted);
		for (size_t i = 0; i < s->n_folders; i++)
			flogf(l, "%s%.*s", i ? "|" : "", (int)s->folders[i].n, (const char *)s->folders[i].p);
		flogf(l, "\n");
		break;
	default: break;
	}
}

static void flog_once(const struct step *st, size_t n, size_t piece, struct flog *l)
{
	struct session_info info = { .client_port = 40000, .server_port = 109 };
	memset(l, 0, sizeof(*l));
	l->sink.emit = flog_emit;
	void *d = pop2_dissector.create(&info, &l->sink);
	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		size_t len = st[i].n;
		for (size_t off = 0; off < len; off += piece) {
			size_t k = len - off < piece ? len - off : piece;
			pop2_dissector.data(d, st[i].dir, (const uint8_t *)st[i].s + off, k);
		}
	}
	pop2_dissector.end(d, END_FIN);
	pop2_dissector.destroy(d);
}

/* Runs a flog script whole and byte by byte; returns the (identical) log. */
static const char *flog_run(const struct step *st, size_t n)
{
	static struct flog whole, bytes;
	flog_once(st, n, (size_t)-1, &whole);
	flog_once(st, n, 1, &bytes);
	if (strcmp(whole.text, bytes.text) != 0)
		fail_msg("byte-at-a-time differs:\n--- whole\n%s--- bytes\n%s", whole.text, bytes.text);
	return whole.text;
}

#define FRUN(steps) flog_run(steps, sizeof(steps) / sizeof(steps[0]))

/* ---- login ------------------------------------------------------------- */

static void helo_undoes_backslash_quoting_and_reports_cleartext_success(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET,
		C("HELO alice open\\ sesame\\\\x\r\n"), S("#3 messages\r\n"),
		C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=HELO user=alice pass=open sesame\\\\x cleartext=1 result=success reply=#3 messages\n");
	evlog_expect(log, "session proto=pop2 state=DONE user=alice auth=1 sasl_layer=0 quit=1 commands=2 retrieved=0 deleted=0");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void helo_user_may_hold_a_quoted_space_and_password_keeps_inner_spaces(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO j\\ doe  two  spaces\\\r\n"), S("#0\r\n"),
	};
	char *log = RUN(s);
	/* The password is the rest of the line; a lone trailing backslash stays. */
	evlog_expect(log, "auth mech=HELO user=j doe pass= two  spaces\\\\ cleartext=1 result=success");
	free(log);
}

static void wrong_password_is_a_failed_attempt_and_no_login(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO alice open\\ sesame\r\n"), S("-\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=HELO user=alice pass=open sesame cleartext=1 result=failure reply=-\n");
	/* not logged in, but the session names the user the login tried */
	evlog_expect(log, "session proto=pop2 state=AUTH user=alice auth=0");
	assert_int_equal(evlog_count(log, "auth "), 1);
	free(log);
}

static void helo_without_reply_is_reported_with_unknown_result(void **unused)
{
	(void)unused;
	static const struct step s[] = { GREET, C("HELO bob secret\r\n") };
	char *log = RUN(s);
	evlog_expect(log, "auth mech=HELO user=bob pass=secret cleartext=1 result=unknown reply=\n");
	evlog_expect(log, "state=AUTH user=bob auth=0 sasl_layer=0 quit=0 commands=1");
	free(log);
}

static void lowercase_commands_are_accepted(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("helo bob pw\r\n"), S("#1\r\n"), C("read\r\n"), S("=3\r\n"),
		C("retr\r\n"), S("abc"), C("acks\r\n"), S("=0\r\n"), C("quit\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=HELO user=bob pass=pw cleartext=1 result=success");
	evlog_expect(log, "message_end complete=1 size=3 data=abc\n");
	evlog_expect(log, "quit=1 commands=5 retrieved=1");
	evlog_expect_not(log, "anomaly");
	free(log);
}

/* ---- messages ------------------------------------------------------------ */

static void retr_streams_exactly_ccc_octets_with_dot_lines_and_8bit_bytes(void **unused)
{
	(void)unused;
	/* 28 octets: no dot-stuffing, no terminator - a lone "." is message text. */
	static const struct step s[] = {
		GREET, C("HELO dave pw\r\n"), S("#1\r\n"), C("READ\r\n"), S("=28\r\n"), C("RETR\r\n"),
		S(".hidden\r\n..two\r\n.\r\ncaf\xc3\xa9 \xe9\r\n"),
		C("ACKS\r\n"), S("=0\r\n"), C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=RETR n=1 announced=28\n");
	evlog_expect(log, "message_end complete=1 size=28 data=.hidden\\r\\n..two\\r\\n.\\r\\ncaf\\xc3\\xa9 \\xe9\\r\\n\n");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void zero_message_mailbox_retrieves_nothing(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO bob bobpw\r\n"), S("#0\r\n"), C("READ\r\n"), S("=0\r\n"),
		C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect_not(log, "message_");
	evlog_expect_not(log, "anomaly");
	evlog_expect(log, "state=DONE user=bob auth=1 sasl_layer=0 quit=1 commands=3 retrieved=0");
	free(log);
}

static void nack_keeps_the_current_message_so_it_is_read_again(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO carol pw\r\n"), S("#3\r\n"), C("READ\r\n"), S("=4\r\n"),
		C("RETR\r\n"), S("one\n"), C("NACK\r\n"), S("=4\r\n"),
		C("RETR\r\n"), S("one\n"), C("ACKS\r\n"), S("=3\r\n"),
		C("RETR\r\n"), S("two"), C("ACKS\r\n"), S("=0\r\n"), C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	assert_int_equal(evlog_count(log, "message_begin cmd=RETR n=1 announced=4"), 2);
	evlog_expect(log, "message_begin cmd=RETR n=2 announced=3\nmessage_end complete=1 size=3 data=two\n");
	evlog_expect(log, "retrieved=3");
	free(log);
}

static void read_n_sets_the_current_message_and_acks_advances_it(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO carol pw\r\n"), S("#3\r\n"), C("READ 2\r\n"), S("=2\r\n"),
		C("RETR\r\n"), S("b\n"), C("ACKS\r\n"), S("=2\r\n"), C("RETR\r\n"), S("c\n"),
		C("ACKS\r\n"), S("=0\r\n"), C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=RETR n=2 announced=2\nmessage_end complete=1 size=2 data=b\\n\n");
	evlog_expect(log, "message_begin cmd=RETR n=3 announced=2\nmessage_end complete=1 size=2 data=c\\n\n");
	free(log);
}

static void huge_announced_size_is_streamed_not_buffered(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#1\r\n"), C("READ\r\n"), S("=4294967296\r\n"),
		C("RETR\r\n"), S("just the start"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=RETR n=1 announced=4294967296\n");
	evlog_expect(log, "message_end complete=0 size=14 data=just the start\n");
	evlog_expect(log, "anomaly pop2.message_truncated");
	free(log);
}

static void session_cut_mid_message_ends_it_incomplete(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO frank pw\r\n"), S("#1\r\n"), C("READ\r\n"), S("=100\r\n"),
		C("RETR\r\n"), S("From: x\r\n\r\nhalf a li"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=0 size=20 data=From: x\\r\\n\\r\\nhalf a li\n");
	evlog_expect(log, "anomaly pop2.message_truncated");
	evlog_expect(log, "state=NEXT user=frank auth=1 sasl_layer=0 quit=0 commands=3 retrieved=1");
	free(log);
}

static void pipelined_commands_are_matched_first_in_first_out(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET,
		C("HELO u p\r\nREAD\r\nRETR\r\nACKD\r\nRETR\r\nACKS\r\nQUIT\r\n"),
		S("#2\r\n=5\r\nhello=3\r\nbye=0\r\n+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=HELO user=u pass=p cleartext=1 result=success reply=#2\n");
	evlog_expect(log, "message_begin cmd=RETR n=1 announced=5\nmessage_end complete=1 size=5 data=hello\n");
	evlog_expect(log, "message_begin cmd=RETR n=2 announced=3\nmessage_end complete=1 size=3 data=bye\n");
	evlog_expect(log, "quit=1 commands=7 retrieved=2 deleted=1");
	evlog_expect_not(log, "anomaly");
	free(log);
}

/* ---- deletions and folders ------------------------------------------------- */

static void ackd_deletes_only_when_quit_commits(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#2\r\n"), C("READ\r\n"), S("=1\r\n"),
		C("RETR\r\n"), S("x"), C("ACKD\r\n"), S("=1\r\n"), C("RETR\r\n"), S("y"),
	};
	char *log = RUN(s);
	evlog_expect(log, "quit=0 commands=5 retrieved=2 deleted=0");
	free(log);
}

static void fold_commits_deletions_and_messages_carry_their_folder(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#2\r\n"), C("READ\r\n"), S("=1\r\n"),
		C("RETR\r\n"), S("x"), C("ACKD\r\n"), S("=1\r\n"),
		C("FOLD my\\ archive\r\n"), S("#1\r\n"), C("READ\r\n"), S("=2\r\n"),
		C("RETR\r\n"), S("yz"), C("ACKS\r\n"), S("=0\r\n"),
		C("FOLD INBOX\r\n"), S("#1\r\n"),
	};
	const char *log = FRUN(s);
	assert_string_equal(log, "begin n=1 folder=INBOX\nend complete=1 size=1\n"
				 "begin n=1 folder=my archive\nend complete=1 size=2\n"
				 "session state=MBOX deleted=1 folders=INBOX|my archive\n");
	char *log2 = RUN(s); /* and the same in every chunking */
	evlog_expect(log2, "quit=0 commands=9 retrieved=2 deleted=1");
	free(log2);
}

/* ---- malformed input and recovery ----------------------------------------- */

static void count_mismatch_resynchronises_on_the_next_reply(void **unused)
{
	(void)unused;
	/* "=5" but seven octets and a signature line: the extra bytes come before ACKS. */
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#2\r\n"), C("READ\r\n"), S("=5\r\n"),
		C("RETR\r\n"), S("hello\r\n-- sig\r\n- item\r\n=77 words\r\n"),
		C("ACKS\r\n"), S("=3\r\n"), C("RETR\r\n"), S("abc"),
		C("ACKS\r\n"), S("=0\r\n"), C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=1 size=5 data=hello\n");
	evlog_expect(log, "anomaly pop2.count_mismatch dir=1 sample=\n");
	assert_int_equal(evlog_count(log, "anomaly"), 1);
	evlog_expect(log, "message_begin cmd=RETR n=2 announced=3\nmessage_end complete=1 size=3 data=abc\n");
	evlog_expect(log, "quit=1");
	free(log);
}

static void count_mismatch_with_ack_already_pending_resynchronises_too(void **unused)
{
	(void)unused;
	/* UW ipop2d style: an extra CRLF after the counted octets, seen after ACKS. */
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#1\r\n"), C("READ\r\n"), S("=3\r\n"),
		C("RETR\r\n"), S("abc"), C("ACKS\r\n"), S("\r\n=0\r\n"), C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=1 size=3 data=abc\n");
	evlog_expect(log, "anomaly pop2.count_mismatch dir=1 sample=\n");
	evlog_expect(log, "state=DONE user=a auth=1 sasl_layer=0 quit=1 commands=5");
	free(log);
}

static void garbage_and_malformed_replies_are_anomalies_not_crashes(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, S("+ nobody asked\r\n"), C("HELO a b\r\n"), S("GARBAGE\r\n=5\r\n"),
		C("FOLD x\r\n"), S("#12x\r\n"), C("READ\r\n"), S("=99999999999999999999\r\n"),
		C("RETR\r\n"), S("-\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "anomaly pop2.unexpected_reply dir=1 sample=+ nobody asked\n");
	evlog_expect(log, "anomaly pop2.invalid_reply dir=1 sample=GARBAGE\n");
	evlog_expect(log, "anomaly pop2.reply_mismatch dir=1 sample==5\n");
	evlog_expect(log, "auth mech=HELO user=a pass=b cleartext=1 result=unknown reply==5\n");
	evlog_expect(log, "anomaly pop2.malformed_count dir=1 sample=#12x\n");
	evlog_expect(log, "anomaly pop2.malformed_count dir=1 sample==99999999999999999999\n");
	/* The size is unknown, so RETR's "-" is read as its reply, not as data. */
	evlog_expect_not(log, "message_");
	free(log);
}

static void commands_out_of_state_and_unknown_commands_are_anomalies(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("RETR\r\n"), S("-\r\n"), C("XTND\r\n"), S("-\r\n"),
		C("HELO a b\r\n"), S("#1\r\n"), C("READ\r\n"), S("=2\r\n"), C("RETR\r\n"), S("ok"),
		C("QUIT\r\n"), S("-\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "anomaly pop2.command_out_of_state dir=0 sample=RETR\n");
	evlog_expect(log, "anomaly pop2.unknown_command dir=0 sample=XTND\n");
	evlog_expect(log, "anomaly pop2.command_out_of_state dir=0 sample=QUIT\n"); /* QUIT in NEXT */
	evlog_expect(log, "state=NEXT");
	evlog_expect(log, "quit=0");
	free(log);
}

static void first_line_answering_helo_means_the_greeting_is_missing(void **unused)
{
	(void)unused;
	static const struct step s[] = { C("HELO a b\r\n"), S("#1\r\n") };
	char *log = RUN(s);
	evlog_expect(log, "anomaly pop2.greeting_missing dir=1 sample=#1\n");
	evlog_expect(log, "auth mech=HELO user=a pass=b cleartext=1 result=success");
	free(log);
}

static void client_speaking_first_still_gets_the_greeting_first(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		C("HELO a b\r\n"), S("+ POP2 h ready\r\n#1\r\n"), C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=HELO user=a pass=b cleartext=1 result=success reply=#1\n");
	evlog_expect(log, "quit=1 commands=2");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void negative_greeting_is_an_anomaly(void **unused)
{
	(void)unused;
	static const struct step s[] = { S("- go away\r\n") };
	char *log = RUN(s);
	evlog_expect(log, "anomaly pop2.greeting_negative dir=1 sample=- go away\n");
	free(log);
}

static void overlong_lines_are_bounded_and_parsing_continues(void **unused)
{
	(void)unused;
	static char longline[5000];
	memset(longline, 'A', sizeof(longline) - 3);
	memcpy(longline + sizeof(longline) - 3, "\r\n", 2);
	struct step s[] = {
		GREET, { DIR_TO_SERVER, longline, sizeof(longline) - 1 }, S("-\r\n"),
		C("HELO z q\r\n"), S("#0\r\n"),
	};
	char *log = evlog_run(&pop2_dissector, s, sizeof(s) / sizeof(s[0]), 0);
	evlog_expect(log, "anomaly pop2.request_too_long");
	evlog_expect(log, "auth mech=HELO user=z pass=q cleartext=1 result=success");
	free(log);
}

static void pending_queue_is_bounded(void **unused)
{
	(void)unused;
	static char many[70 * 6 + 1];
	for (int i = 0; i < 70; i++)
		memcpy(many + i * 6, "READ\r\n", 6);
	struct step s[] = { GREET, { DIR_TO_SERVER, many, sizeof(many) - 1 } };
	char *log = evlog_run(&pop2_dissector, s, sizeof(s) / sizeof(s[0]), 0);
	assert_int_equal(evlog_count(log, "anomaly pop2.pending_overflow"), 6);
	evlog_expect(log, "commands=64");
	free(log);
}

static void client_bytes_after_quit_are_one_anomaly(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("QUIT\r\n"), S("+\r\n"), C("HELO late pw\r\n"), C("more\r\n"),
	};
	char *log = RUN(s);
	assert_int_equal(evlog_count(log, "anomaly pop2.data_after_quit"), 1);
	evlog_expect_not(log, "auth ");
	free(log);
}

static void gap_inside_a_message_ends_it_incomplete_and_keeps_framing(void **unused)
{
	(void)unused;
	/* The 4 lost octets lie within the 10: the count still frames what follows. */
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#2\r\n"), C("READ\r\n"), S("=10\r\n"),
		C("RETR\r\n"), S("abc"), GAP(DIR_TO_CLIENT, 4), S("hij"),
		C("ACKS\r\n"), S("=2\r\n"), C("RETR\r\n"), S("ok"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=RETR n=1 announced=10\n"
			  "anomaly stream.gap dir=1 sample=4 bytes\n"
			  "message_end complete=0 size=3 data=abc\n"
			  "command req=ACKS result=success\n"
			  "command req=RETR result=success\n"
			  "message_begin cmd=RETR n=2 announced=2\n"
			  "message_end complete=1 size=2 data=ok\n");
	assert_int_equal(evlog_count(log, "anomaly"), 1);
	evlog_expect(log, "retrieved=2");
	free(log);
}

static void gap_past_a_message_resynchronises_on_the_next_reply(void **unused)
{
	(void)unused;
	/*
	 * The gap swallows the end of message 1, "=4" and the start of message 2;
	 * its tail, with reply-like text ("- x", "=9 y"), is skipped until the
	 * answer to the next ACKS.
	 */
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#2\r\n"), C("READ\r\n"), S("=10\r\n"),
		C("RETR\r\n"), S("abc"), C("ACKS\r\n"), C("RETR\r\n"), GAP(DIR_TO_CLIENT, 20),
		S("ne\r\n- x\r\n=9 y\r\n"), C("ACKS\r\n"), S("=0\r\n"), C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=0 size=3 data=abc\n");
	assert_int_equal(evlog_count(log, "message_begin"), 1);
	assert_int_equal(evlog_count(log, "anomaly"), 1);
	evlog_expect(log, "state=DONE user=a auth=1 sasl_layer=0 quit=1 commands=7");
	free(log);
}

static void gap_at_the_start_of_the_data_still_frames_the_message(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#1\r\n"), C("READ\r\n"), S("=6\r\n"),
		C("RETR\r\n"), GAP(DIR_TO_CLIENT, 6), C("ACKS\r\n"), S("=0\r\n"),
		C("QUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "anomaly stream.gap dir=1 sample=6 bytes\n"
			  "command req=RETR result=success\n"
			  "message_begin cmd=RETR n=1 announced=6\n"
			  "message_end complete=0 size=0 data=\n");
	evlog_expect(log, "quit=1");
	free(log);
}

static void gap_in_client_bytes_skips_the_broken_line(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		GREET, C("HELO a b\r\n"), S("#1\r\n"), C("RE"), GAP(DIR_TO_SERVER, 4),
		C("ff\r\nQUIT\r\n"), S("+\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "anomaly stream.gap dir=0 sample=4 bytes\n");
	evlog_expect_not(log, "unknown_command");
	evlog_expect(log, "quit=1 commands=2");
	free(log);
}

static void capture_picked_up_mid_message_waits_for_a_trusted_reply(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("rest of a message\r\n- a list item\r\n"), C("ACKS\r\n"), S("=3\r\n"),
		C("RETR\r\n"), S("abc"), C("ACKS\r\n"), S("=0\r\n"),
	};
	char *log = evlog_run(&pop2_dissector, s, sizeof(s) / sizeof(s[0]), 1);
	evlog_expect_not(log, "anomaly");
	evlog_expect(log, "message_begin cmd=RETR n=0 announced=3\nmessage_end complete=1 size=3 data=abc\n");
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(helo_undoes_backslash_quoting_and_reports_cleartext_success),
		cmocka_unit_test(helo_user_may_hold_a_quoted_space_and_password_keeps_inner_spaces),
		cmocka_unit_test(wrong_password_is_a_failed_attempt_and_no_login),
		cmocka_unit_test(helo_without_reply_is_reported_with_unknown_result),
		cmocka_unit_test(lowercase_commands_are_accepted),
		cmocka_unit_test(retr_streams_exactly_ccc_octets_with_dot_lines_and_8bit_bytes),
		cmocka_unit_test(zero_message_mailbox_retrieves_nothing),
		cmocka_unit_test(nack_keeps_the_current_message_so_it_is_read_again),
		cmocka_unit_test(read_n_sets_the_current_message_and_acks_advances_it),
		cmocka_unit_test(huge_announced_size_is_streamed_not_buffered),
		cmocka_unit_test(session_cut_mid_message_ends_it_incomplete),
		cmocka_unit_test(pipelined_commands_are_matched_first_in_first_out),
		cmocka_unit_test(ackd_deletes_only_when_quit_commits),
		cmocka_unit_test(fold_commits_deletions_and_messages_carry_their_folder),
		cmocka_unit_test(count_mismatch_resynchronises_on_the_next_reply),
		cmocka_unit_test(count_mismatch_with_ack_already_pending_resynchronises_too),
		cmocka_unit_test(garbage_and_malformed_replies_are_anomalies_not_crashes),
		cmocka_unit_test(commands_out_of_state_and_unknown_commands_are_anomalies),
		cmocka_unit_test(first_line_answering_helo_means_the_greeting_is_missing),
		cmocka_unit_test(client_speaking_first_still_gets_the_greeting_first),
		cmocka_unit_test(negative_greeting_is_an_anomaly),
		cmocka_unit_test(overlong_lines_are_bounded_and_parsing_continues),
		cmocka_unit_test(pending_queue_is_bounded),
		cmocka_unit_test(client_bytes_after_quit_are_one_anomaly),
		cmocka_unit_test(gap_inside_a_message_ends_it_incomplete_and_keeps_framing),
		cmocka_unit_test(gap_past_a_message_resynchronises_on_the_next_reply),
		cmocka_unit_test(gap_at_the_start_of_the_data_still_frames_the_message),
		cmocka_unit_test(gap_in_client_bytes_skips_the_broken_line),
		cmocka_unit_test(capture_picked_up_mid_message_waits_for_a_trusted_reply),
	};
	return cmocka_run_group_tests_name("pop2", tests, NULL, NULL);
}
