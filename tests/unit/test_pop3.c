/*
 * test_pop3.c - the POP3 dissector, driven by scripted conversations. Every
 * script runs in every chunking (evlog.c), so each test also proves that the
 * parser gives the same events whatever the segment boundaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "evlog.h"

#define RUN(steps) evlog_run(&pop3_dissector, steps, sizeof(steps) / sizeof(steps[0]), 0)

static void user_pass_login_reports_cleartext_password_and_success(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK POP3 ready\r\n"),
		C("USER alice\r\n"), S("+OK\r\n"),
		C("PASS  open sesame \r\n"), S("+OK logged in\r\n"),
		C("QUIT\r\n"), S("+OK bye\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=USER user=alice pass= open sesame  cleartext=1 result=success reply=+OK logged in\n");
	evlog_expect(log, "session proto=pop3 state=UPDATE user=alice auth=1 sasl_layer=0 quit=1 commands=3");
	free(log);
}

static void failed_then_successful_pass_are_two_attempts(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"),
		C("USER bob\r\n"), S("+OK\r\n"), C("PASS wrong\r\n"), S("-ERR [AUTH] bad password\r\n"),
		C("USER bob\r\n"), S("+OK\r\n"), C("PASS right\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=USER user=bob pass=wrong cleartext=1 result=failure reply=-ERR [AUTH] bad password code=AUTH failure=credentials\n");
	evlog_expect(log, "auth mech=USER user=bob pass=right cleartext=1 result=success");
	assert_int_equal(evlog_count(log, "auth "), 2);
	free(log);
}

static void rejected_user_without_pass_is_one_failed_attempt(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER nobody\r\n"), S("-ERR no such user\r\n"),
		C("QUIT\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=USER user=nobody pass=- cleartext=0 result=failure reply=-ERR no such user failure=credentials\n");
	assert_int_equal(evlog_count(log, "auth "), 1);
	free(log);
}

static void pass_binds_to_latest_user_command_when_pipelined(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"),
		C("USER first\r\nUSER second\r\nPASS pw\r\nSTAT\r\nQUIT\r\n"),
		S("+OK\r\n+OK\r\n+OK in\r\n+OK 2 320\r\n+OK bye\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=USER user=second pass=pw cleartext=1 result=success");
	evlog_expect(log, "commands=5");
	free(log);
}

static void retr_is_dot_unstuffed_without_terminator(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER a\r\nPASS b\r\n"), S("+OK\r\n+OK\r\n"),
		C("RETR 2\r\n"),
		S("+OK 40 octets\r\nSubject: x\r\n\r\n..hidden\r\n...\r\n.\rodd\r\nend\r\n.\r\n"),
		C("QUIT\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=RETR n=2 announced=40\n");
	evlog_expect(log, "message_end complete=1 size=38 data=Subject: x\\r\\n\\r\\n.hidden\\r\\n..\\r\\n\\rodd\\r\\nend\\r\\n\n");
	evlog_expect(log, "retrieved=1");
	free(log);
}

static void bare_lf_terminator_ends_the_message(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\n"), C("RETR 1\n"), S("+OK\nline one\n.dot\n.\n"),
		C("NOOP\n"), S("+OK\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=1 size=13 data=line one\\ndot\\n\n");
	evlog_expect(log, "anomaly pop3.bare_lf");
	evlog_expect(log, "commands=2");
	free(log);
}

static void top_and_empty_body_and_err_reply(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("TOP 3 0\r\n"), S("+OK\r\nFrom: a\r\n\r\n.\r\n"),
		C("RETR 9\r\n"), S("-ERR no such message\r\n"),
		C("RETR 4\r\n"), S("+OK\r\n.\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=TOP n=3 announced=-1\nmessage_end complete=1 size=11 data=From: a\\r\\n\\r\\n\n");
	evlog_expect(log, "message_begin cmd=RETR n=4 announced=-1\nmessage_end complete=1 size=0 data=\n");
	assert_int_equal(evlog_count(log, "message_begin"), 2);
	free(log);
}

static void list_and_uidl_are_multiline_only_without_argument(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"),
		C("LIST\r\n"), S("+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n"),
		C("LIST 2\r\n"), S("+OK 2 200\r\n"),
		C("UIDL\r\n"), S("+OK\r\n1 abc\r\n2 def\r\n.\r\n"),
		C("UIDL 1\r\n"), S("+OK 1 abc\r\n"),
		C("LIST\r\n"), S("-ERR not now\r\n"),
		C("RETR 1\r\n"), S("+OK\r\nbody\r\n.\r\n"),
	};
	char *log = RUN(s);
	evlog_expect_not(log, "anomaly");
	evlog_expect(log, "message_end complete=1 size=6 data=body\\r\\n\n");
	evlog_expect(log, "commands=6");
	free(log);
}

static void capa_lists_capabilities_latest_wins(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"),
		C("CAPA\r\n"), S("+OK\r\nTOP\r\nUSER\r\nSTLS\r\n.\r\n"),
		C("CAPA\r\n"), S("+OK\r\nTOP\r\nSASL PLAIN LOGIN\r\nPIPELINING\r\n.\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "caps=TOP|SASL PLAIN LOGIN|PIPELINING\n");
	free(log);
}

static void apop_digest_is_parsed_from_the_right(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
		C("APOP mrose smith c4c9334bac560ecc979e58001b3e22fb\r\n"), S("-ERR permission denied\r\n"),
		C("APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"), S("+OK maildrop has 1 message\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=APOP user=mrose smith pass=- cleartext=0 result=failure reply=-ERR permission denied hash=c4c9334bac560ecc979e58001b3e22fb:<1896.697170952@dbc.mtview.ca.us> hash_format=hashcat mode=20 failure=credentials challenge=<1896.697170952@dbc.mtview.ca.us> response=c4c9334bac560ecc979e58001b3e22fb\n");
	evlog_expect(log, "auth mech=APOP user=mrose pass=- cleartext=0 result=success");
	evlog_expect(log, "apop=<1896.697170952@dbc.mtview.ca.us>");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void apop_with_bad_digest_is_an_anomaly(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("APOP bob C4C9334BAC560ECC979E58001B3E22FB\r\n"), S("-ERR\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "anomaly pop3.apop_bad_digest");
	evlog_expect(log, "anomaly pop3.apop_without_timestamp");
	free(log);
}

static void auth_plain_initial_response_reveals_password(void **unused)
{
	(void)unused;
	/* base64("\0tim\0tanstaaftanstaaf") */
	static const struct step s[] = {
		S("+OK ready\r\n"), C("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"), S("+OK\r\n"),
		C("STAT\r\n"), S("+OK 0 0\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=PLAIN user=tim pass=tanstaaftanstaaf cleartext=1 result=success");
	evlog_expect(log, "state=TRANSACTION user=tim auth=1");
	free(log);
}

static void auth_login_takes_user_and_password_from_responses(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("AUTH LOGIN\r\n"), S("+ VXNlcm5hbWU6\r\n"),
		C("YWxpY2U=\r\n"), S("+ UGFzc3dvcmQ6\r\n"), C("d29uZGVybGFuZA==\r\n"),
		S("-ERR [AUTH] Authentication failed.\r\n"),
		C("AUTH PLAIN\r\n"), S("+ \r\n"), C("*\r\n"), S("-ERR cancelled\r\n"),
		C("QUIT\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=LOGIN user=alice pass=wonderland cleartext=1 result=failure reply=-ERR [AUTH] Authentication failed. code=AUTH failure=credentials\n");
	evlog_expect(log, "auth mech=PLAIN user= pass=- cleartext=0 result=failure reply=-ERR cancelled failure=cancelled\n");
	evlog_expect(log, "commands=3");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void auth_login_pipelined_responses_are_not_commands(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("AUTH LOGIN\r\nYWxpY2U=\r\nd29uZGVybGFuZA==\r\nSTAT\r\n"),
		S("+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n+OK\r\n+OK 1 10\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=LOGIN user=alice pass=wonderland cleartext=1 result=success");
	evlog_expect(log, "commands=2");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void bad_base64_in_sasl_is_an_anomaly_not_a_crash(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("AUTH PLAIN !!!notbase64\r\n"), S("-ERR\r\n"),
		C("AUTH PLAIN AGZvbw==\r\n"), S("-ERR\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "anomaly sasl.bad_base64");
	evlog_expect(log, "anomaly sasl.malformed");
	assert_int_equal(evlog_count(log, "auth mech=PLAIN"), 2);
	free(log);
}

/*
 * STLS accepted: the dissector hands the connection over right after the +OK
 * line, in every chunking (a line the server sent in the same step as the +OK
 * shows whole, as the first thing read after the hand-over), and reads what it
 * is given next as the dialogue inside. evlog's engine gives the bytes back
 * unchanged, so the inner dialogue is written in clear.
 */
static void stls_hands_the_connection_over_after_its_reply(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("CAPA\r\n"), S("+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
		C("STLS\r\n"), S("+OK begin TLS\r\n-ERR inner"), S("\r\n"),
		C("USER x\r\n"), S("+OK\r\n"), C("PASS y\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	assert_int_equal(evlog_count(log, "handover dir=1"), 1);
	evlog_expect_not(log, "tls cmd=");
	evlog_expect(log, "handover dir=1\nanomaly pop3.unexpected_reply dir=1 sample=-ERR inner\n");
	/* a login inside the upgraded layer ignored no STLS offer */
	evlog_expect(log, "auth mech=USER user=x pass=y cleartext=1 result=success reply=+OK\n");
	evlog_expect(log, "state=TRANSACTION");
	free(log);
}

static void stls_refused_is_a_tls_event_and_no_handover(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("STLS\r\n"), S("-ERR not now\r\n"),
		C("USER x\r\n"), S("+OK\r\n"), C("PASS y\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "tls cmd=STLS result=failure\n");
	evlog_expect_not(log, "handover");
	evlog_expect(log, "auth mech=USER user=x pass=y cleartext=1 result=success");
	free(log);
}

static void stls_unanswered_is_a_tls_event_of_unknown_result(void **unused)
{
	(void)unused;
	static const struct step s[] = { S("+OK ready\r\n"), C("STLS\r\n") };
	char *log = RUN(s);
	evlog_expect(log, "tls cmd=STLS result=unknown\n");
	evlog_expect_not(log, "handover");
	free(log);
}

static void capture_ending_mid_message_marks_it_incomplete(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER a\r\n"), S("+OK\r\n"), C("PASS b\r\n"), S("+OK\r\n"),
		C("RETR 1\r\n"), S("+OK\r\nhalf a mess"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=0 size=11 data=half a mess\n");
	evlog_expect(log, "anomaly pop3.message_truncated");
	free(log);
}

static void pass_without_reply_is_reported_with_unknown_result(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER a\r\n"), S("+OK\r\n"), C("PASS secret\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=USER user=a pass=secret cleartext=1 result=unknown reply=\n");
	assert_int_equal(evlog_count(log, "auth "), 1);
	free(log);
}

static void overlong_line_is_bounded_and_parsing_continues(void **unused)
{
	(void)unused;
	static char longline[20000];
	memset(longline, 'A', sizeof(longline) - 3);
	memcpy(longline + sizeof(longline) - 3, "\r\n", 2);
	struct step s[] = {
		S("+OK ready\r\n"),
		{ DIR_TO_SERVER, longline, sizeof(longline) - 1 },
		S("-ERR what\r\n"),
		C("USER z\r\n"), S("+OK\r\n"), C("PASS q\r\n"), S("+OK\r\n"),
	};
	char *log = evlog_run(&pop3_dissector, s, sizeof(s) / sizeof(s[0]), 0);
	evlog_expect(log, "anomaly pop3.request_too_long");
	evlog_expect(log, "auth mech=USER user=z pass=q cleartext=1 result=success");
	free(log);
}

static void unexpected_and_invalid_replies_are_anomalies(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), S("+OK nobody asked\r\n"), C("NOOP\r\n"), S("GARBAGE\r\n+OK\r\n"),
		C("XYZZY\r\n"), S("-ERR unknown\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "anomaly pop3.unexpected_reply");
	evlog_expect(log, "anomaly pop3.invalid_reply dir=1 sample=GARBAGE\n");
	evlog_expect(log, "anomaly pop3.unknown_command dir=0 sample=XYZZY\n");
	evlog_expect(log, "commands=2");
	free(log);
}

static void dele_counts_only_when_quit_commits(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER a\r\nPASS b\r\n"), S("+OK\r\n+OK\r\n"),
		C("DELE 1\r\nDELE 2\r\nRSET\r\nDELE 3\r\nQUIT\r\n"),
		S("+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "state=UPDATE");
	evlog_expect(log, "deleted=1");
	free(log);
}

static void nul_and_8bit_bytes_survive_in_user_names(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), { DIR_TO_SERVER, "USER a\0b\xe9\r\n", 11 }, S("+OK\r\n"),
		C("PASS \xff\xfe\r\n"), S("-ERR\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=USER user=a\\x00b\\xe9 pass=\\xff\\xfe cleartext=1 result=failure");
	evlog_expect(log, "anomaly pop3.nul_in_line");
	free(log);
}

static void gap_inside_a_message_keeps_what_follows_but_not_complete(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("RETR 1\r\n"), S("+OK\r\nline one\r\nli"), GAP(DIR_TO_CLIENT, 100),
		S("ne three\r\n..four\r\n.\r\n"), C("STAT\r\n"), S("+OK 1 10\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=0 size=29 data=line one\\r\\nline three\\r\\n.four\\r\\n\n");
	evlog_expect(log, "anomaly stream.gap dir=1 sample=100 bytes\n");
	evlog_expect(log, "commands=2");
	free(log);
}

static void gap_that_ate_the_terminator_ends_the_message_at_the_next_reply(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("RETR 1\r\n"), S("+OK\r\nbody\r\n"), GAP(DIR_TO_CLIENT, 3),
		C("QUIT\r\n"), S("+OK bye\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=0 size=6 data=body\\r\\n\n");
	evlog_expect(log, "quit=1");
	free(log);
}

static void gap_that_ate_a_retr_reply_line_starts_the_message_anyway(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("RETR 4\r\n"), GAP(DIR_TO_CLIENT, 40),
		S("rest of it\r\n.\r\n"), C("NOOP\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=RETR n=4 announced=-1\nmessage_end complete=0 size=12 data=rest of it\\r\\n\n");
	evlog_expect_not(log, "unexpected_reply");
	free(log);
}

static void gap_hiding_replies_of_a_serial_client_keeps_replies_aligned(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER a\r\n"), S("+OK\r\n"), C("PASS b\r\n"), S("+OK in\r\n"),
		C("STAT\r\n"), GAP(DIR_TO_CLIENT, 12), C("RETR 1\r\n"),
		S("+OK 5 octets\r\nhello\r\n.\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=RETR n=1 announced=5\nmessage_end complete=1 size=7 data=hello\\r\\n\n");
	free(log);
}

static void gap_in_the_client_stream_keeps_replies_aligned(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER a\r\n"), S("+OK\r\n"), GAP(DIR_TO_SERVER, 13),
		S("+OK logged in\r\n"), C("RETR 1\r\n"), S("+OK\r\nx\r\n.\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=1 size=3 data=x\\r\\n\n");
	evlog_expect(log, "state=TRANSACTION user= auth=1");
	evlog_expect_not(log, "unexpected_reply");
	free(log);
}

static void pipelined_replies_after_a_gap_are_not_called_complete(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("RETR 1\r\nRETR 2\r\nRETR 3\r\n"),
		S("+OK\r\none\r\n.\r\n"), GAP(DIR_TO_CLIENT, 20),
		S("+OK\r\nthree\r\n.\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_end complete=1 size=5 data=one\\r\\n\n");
	evlog_expect(log, "message_end complete=0 size=7 data=three\\r\\n\n");
	free(log);
}

static void midstream_pickup_trusts_only_whole_lines_and_infers_the_state(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("f a message\r\n.\r\n"), C("T 3\r\nRETR 2\r\n"), S("+OK\r\nabc\r\n.\r\n"),
		C("QUIT\r\n"), S("+OK\r\n"),
	};
	char *log = evlog_run(&pop3_dissector, s, sizeof(s) / sizeof(s[0]), 1);
	evlog_expect(log, "message_begin cmd=RETR n=2");
	evlog_expect(log, "message_end complete=1 size=5 data=abc\\r\\n\n");
	evlog_expect(log, "state=UPDATE user= auth=1");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void response_codes_tell_a_locked_maildrop_from_a_wrong_password(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER a\r\nPASS right\r\n"), S("+OK\r\n-ERR [IN-USE] locked\r\n"),
		C("USER a\r\nPASS wrong\r\n"), S("+OK\r\n-ERR [AUTH] no\r\n"),
		C("USER a\r\nPASS x\r\n"), S("+OK\r\n-ERR [sys/temp] later\r\n"),
		C("USER a\r\nPASS y\r\n"), S("+OK\r\n-ERR [LOGIN-DELAY] wait\r\n"),
		C("USER a\r\nPASS z\r\n"), S("+OK\r\n-ERR bad\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "pass=right cleartext=1 result=failure reply=-ERR [IN-USE] locked code=IN-USE failure=in-use");
	evlog_expect(log, "pass=wrong cleartext=1 result=failure reply=-ERR [AUTH] no code=AUTH failure=credentials");
	evlog_expect(log, "code=SYS/TEMP failure=system");
	evlog_expect(log, "code=LOGIN-DELAY failure=login-delay");
	evlog_expect(log, "pass=z cleartext=1 result=failure reply=-ERR bad failure=credentials");
	free(log);
}

static void stls_offered_then_a_cleartext_login_is_flagged(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("CAPA\r\n"), S("+OK\r\nUSER\r\nSTLS\r\n.\r\n"),
		C("USER a\r\nPASS b\r\n"), S("+OK\r\n+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "pass=b cleartext=1 result=success reply=+OK stls_offered\n");
	free(log);
}

static void rpop_is_host_trust_without_a_secret(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER mrose\r\n"), S("+OK\r\n"), C("RPOP rose\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=RPOP user=mrose pass=- cleartext=0 result=success reply=+OK trusted=rose");
	assert_int_equal(evlog_count(log, "auth "), 1);
	free(log);
}

static void xtnd_xmit_reports_the_submitted_message(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("XTND XMIT\r\n"), S("+OK Start sending message.\r\n"),
		C("To: b\r\n\r\n..dot\r\nend\r\n.\r\n"), S("+OK Message sent successfully\r\n"),
		C("XTND XLST Subject\r\n"), S("+OK\r\n1 Subject: hi\r\n.\r\n"), C("QUIT\r\n"), S("+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=XTND XMIT n=0 announced=-1\nmessage_end complete=1 size=20 data=To: b\\r\\n\\r\\n.dot\\r\\nend\\r\\n\n");
	evlog_expect(log, "quit=1");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void transactions_pair_requests_with_replies_and_mark_secrets(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER a\r\nPASS s3cret\r\nAUTH PLAIN AGEAYg==\r\nSTAT\r\n"),
		S("+OK\r\n-ERR\r\n-ERR\r\n-ERR\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "command req=USER a result=success\n");
	evlog_expect(log, "command req=PASS <secret> result=failure\n");
	evlog_expect(log, "command req=AUTH PLAIN <secret> result=failure\n");
	evlog_expect(log, "command req=STAT result=failure\n");
	free(log);
}

static void kpop_v4_preamble_is_skipped_and_its_pass_is_not_a_password(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		{ DIR_TO_SERVER, "AUTHV0.1KPOPV0.1\0\0\0\x05TICKT", 25 },
		S("+OK KPOP ready\r\n"), C("USER joe\r\nPASS krb_ticket\r\n"), S("+OK\r\n+OK\r\n"),
	};
	char *log = evlog_run(&kpop_dissector, s, sizeof(s) / sizeof(s[0]), 0);
	evlog_expect(log, "auth mech=KPOP user=joe pass=- cleartext=0 result=success");
	evlog_expect(log, "session proto=kpop state=TRANSACTION user=joe auth=1");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void kpop_v5_preamble_is_walked_by_its_lengths(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		{ DIR_TO_SERVER, "\0\0\0\x13KRB5_SENDAUTH_V1.0\0\0\0\0\x09KPOPV1.0\0", 36 },
		{ DIR_TO_CLIENT, "\0", 1 },
		{ DIR_TO_SERVER, "\0\0\0\x06\x6eUSER ", 10 },
		{ DIR_TO_CLIENT, "\0\0\0\0+OK ready\r\n", 15 },
		C("USER joe\r\nPASS x\r\n"), S("+OK\r\n+OK\r\n"),
	};
	char *log = evlog_run(&kpop_dissector, s, sizeof(s) / sizeof(s[0]), 0);
	evlog_expect(log, "auth mech=KPOP user=joe pass=- cleartext=0 result=success");
	evlog_expect_not(log, "anomaly");
	free(log);
}

static void kpop_port_without_preamble_reports_the_real_password(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("USER joe\r\nPASS hunter2\r\n"), S("+OK\r\n+OK\r\n"),
	};
	char *log = evlog_run(&kpop_dissector, s, sizeof(s) / sizeof(s[0]), 0);
	evlog_expect(log, "auth mech=USER user=joe pass=hunter2 cleartext=1 result=success");
	evlog_expect(log, "anomaly kpop.preamble_missing");
	free(log);
}

static void client_speaking_first_is_not_mistaken_for_kerberos(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		C("CAPA\r\n"), S("+OK POP3 ready\r\n+OK\r\nUSER\r\n.\r\n"),
		C("USER x\r\nPASS y\r\n"), S("+OK\r\n+OK\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "auth mech=USER user=x pass=y cleartext=1 result=success");
	evlog_expect(log, "caps=USER");
	free(log);
}

static void uidl_and_list_give_each_message_its_uid_and_size(void **unused)
{
	(void)unused;
	static const struct step s[] = {
		S("+OK ready\r\n"), C("UIDL\r\n"), S("+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n"),
		C("LIST\r\n"), S("+OK 2 messages\r\n1 120\r\n2\t  200\r\n.\r\n"),
		C("UIDL 3\r\n"), S("+OK 3 zzz\r\n"), C("LIST 3\r\n"), S("+OK 3 7\r\n"),
		C("RETR 2\r\n"), S("+OK\r\nx\r\n.\r\n"), C("RETR 3\r\n"), S("+OK\r\ny\r\n.\r\n"),
		C("RETR 9\r\n"), S("+OK\r\nz\r\n.\r\n"),
	};
	char *log = RUN(s);
	evlog_expect(log, "message_begin cmd=RETR n=2 announced=-1 uid=QhdPYR:00WBw1Ph7x7 list_size=200\n");
	evlog_expect(log, "message_begin cmd=RETR n=3 announced=-1 uid=zzz list_size=7\n");
	evlog_expect(log, "message_begin cmd=RETR n=9 announced=-1\n");
	free(log);
}

static void deletions_count_only_when_quit_is_acknowledged(void **unused)
{
	(void)unused;
	static const struct step quit[] = {
		S("+OK ready\r\n"), C("USER a\r\nPASS b\r\n"), S("+OK\r\n+OK\r\n"),
		C("DELE 1\r\nDELE 3\r\n"), S("+OK\r\n+OK\r\n"), C("QUIT\r\n"), S("+OK\r\n"),
	};
	static const struct step drop[] = {
		S("+OK ready\r\n"), C("USER a\r\nPASS b\r\n"), S("+OK\r\n+OK\r\n"),
		C("DELE 1\r\n"), S("+OK\r\n"),
	};
	static const struct step rset[] = {
		S("+OK ready\r\n"), C("USER a\r\nPASS b\r\n"), S("+OK\r\n+OK\r\n"),
		C("DELE 1\r\nRSET\r\nDELE 2\r\nQUIT\r\n"), S("+OK\r\n+OK\r\n+OK\r\n+OK\r\n"),
	};
	char *log = RUN(quit);
	evlog_expect(log, "deleted=2 apop= caps= commit=yes marked=1,3\n");
	free(log);
	log = RUN(drop); /* the connection ends (FIN) without QUIT: nothing deleted */
	evlog_expect(log, "deleted=0 apop= caps= commit=no marked=1\n");
	free(log);
	log = RUN(rset);
	evlog_expect(log, "deleted=1 apop= caps= commit=yes marked=2\n");
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(user_pass_login_reports_cleartext_password_and_success),
		cmocka_unit_test(failed_then_successful_pass_are_two_attempts),
		cmocka_unit_test(rejected_user_without_pass_is_one_failed_attempt),
		cmocka_unit_test(pass_binds_to_latest_user_command_when_pipelined),
		cmocka_unit_test(retr_is_dot_unstuffed_without_terminator),
		cmocka_unit_test(bare_lf_terminator_ends_the_message),
		cmocka_unit_test(top_and_empty_body_and_err_reply),
		cmocka_unit_test(list_and_uidl_are_multiline_only_without_argument),
		cmocka_unit_test(capa_lists_capabilities_latest_wins),
		cmocka_unit_test(apop_digest_is_parsed_from_the_right),
		cmocka_unit_test(apop_with_bad_digest_is_an_anomaly),
		cmocka_unit_test(auth_plain_initial_response_reveals_password),
		cmocka_unit_test(auth_login_takes_user_and_password_from_responses),
		cmocka_unit_test(auth_login_pipelined_responses_are_not_commands),
		cmocka_unit_test(bad_base64_in_sasl_is_an_anomaly_not_a_crash),
		cmocka_unit_test(stls_hands_the_connection_over_after_its_reply),
		cmocka_unit_test(stls_refused_is_a_tls_event_and_no_handover),
		cmocka_unit_test(stls_unanswered_is_a_tls_event_of_unknown_result),
		cmocka_unit_test(capture_ending_mid_message_marks_it_incomplete),
		cmocka_unit_test(pass_without_reply_is_reported_with_unknown_result),
		cmocka_unit_test(overlong_line_is_bounded_and_parsing_continues),
		cmocka_unit_test(unexpected_and_invalid_replies_are_anomalies),
		cmocka_unit_test(dele_counts_only_when_quit_commits),
		cmocka_unit_test(nul_and_8bit_bytes_survive_in_user_names),
		cmocka_unit_test(gap_inside_a_message_keeps_what_follows_but_not_complete),
		cmocka_unit_test(gap_that_ate_the_terminator_ends_the_message_at_the_next_reply),
		cmocka_unit_test(gap_that_ate_a_retr_reply_line_starts_the_message_anyway),
		cmocka_unit_test(gap_hiding_replies_of_a_serial_client_keeps_replies_aligned),
		cmocka_unit_test(gap_in_the_client_stream_keeps_replies_aligned),
		cmocka_unit_test(pipelined_replies_after_a_gap_are_not_called_complete),
		cmocka_unit_test(midstream_pickup_trusts_only_whole_lines_and_infers_the_state),
		cmocka_unit_test(response_codes_tell_a_locked_maildrop_from_a_wrong_password),
		cmocka_unit_test(stls_offered_then_a_cleartext_login_is_flagged),
		cmocka_unit_test(rpop_is_host_trust_without_a_secret),
		cmocka_unit_test(xtnd_xmit_reports_the_submitted_message),
		cmocka_unit_test(transactions_pair_requests_with_replies_and_mark_secrets),
		cmocka_unit_test(kpop_v4_preamble_is_skipped_and_its_pass_is_not_a_password),
		cmocka_unit_test(kpop_v5_preamble_is_walked_by_its_lengths),
		cmocka_unit_test(kpop_port_without_preamble_reports_the_real_password),
		cmocka_unit_test(client_speaking_first_is_not_mistaken_for_kerberos),
		cmocka_unit_test(uidl_and_list_give_each_message_its_uid_and_size),
		cmocka_unit_test(deletions_count_only_when_quit_is_acknowledged),
	};
	return cmocka_run_group_tests_name("pop3", tests, NULL, NULL);
}
