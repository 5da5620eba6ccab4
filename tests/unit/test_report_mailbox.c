/*
 * test_report_mailbox.c - the --mailbox-report's JSON form (json.c) against
 * Jansson: the report was a Jansson tree dumped with json_dumps(JSON_COMPACT |
 * JSON_PRESERVE_ORDER) and is now streamed through jsonw.c, so for every
 * report the two must give the very same bytes, including what Jansson left
 * out (a login whose mechanism is not UTF-8: json_pack refused the object).
 * The Jansson side below is the former writer, kept as the reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../output/json.h"

/* ---- the reference: the report as Jansson built it ---------------------- */

static void ref_set_time(json_t *o, const char *key, const struct timeval *tv)
{
	char buf[40];
	json_format_time(tv, buf, sizeof(buf));
	json_object_set_new(o, key, json_string(buf));
}

static json_t *ref_logins(const struct mbr_session *s)
{
	json_t *logins = json_array();
	for (size_t i = 0; i < s->n_logins; i++) {
		json_t *l = json_pack("{s:s, s:s}", "mechanism", s->logins[i].mechanism, "result",
				      auth_result_name(s->logins[i].result));
		ref_set_time(l, "time", &s->logins[i].when);
		json_array_append_new(logins, l);
	}
	return logins;
}

static json_t *ref_retrieved(const struct mbr_session *s)
{
	json_t *got = json_array();
	for (size_t i = 0; i < s->n_retrieved; i++) {
		const struct mbr_retrieval *x = &s->retrieved[i];
		json_t *m = json_pack("{s:s, s:I, s:I, s:s, s:b}", "command", x->command, "number",
				      (json_int_t)x->number, "size", (json_int_t)x->size, "sha256", x->sha256,
				      "complete", x->complete);
		if (x->uid)
			json_object_set_new(m, "uid", json_string(x->uid));
		ref_set_time(m, "time", &x->when);
		json_array_append_new(got, m);
	}
	return got;
}

static json_t *ref_session(const struct mbr_session *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "flow_id", json_integer((json_int_t)s->flow_id));
	json_object_set_new(o, "client", json_string(s->client));
	ref_set_time(o, "start", &s->start);
	ref_set_time(o, "end", &s->end);
	json_object_set_new(o, "app_proto", json_string(s->app_proto[0] ? s->app_proto : "pop3"));
	json_object_set_new(o, "logins", ref_logins(s));
	json_t *listed = json_array(), *fresh = json_array(), *marked = json_array();
	for (size_t i = 0; i < s->n_listed; i++) {
		const struct mbr_listed *l = &s->listed[i];
		if (l->uid)
			json_array_append_new(listed, json_string(l->uid));
		if (l->uid && l->is_new)
			json_array_append_new(fresh, json_string(l->uid));
		if (l->marked)
			json_array_append_new(marked, l->uid ? json_pack("{s:I, s:s}", "number", (json_int_t)l->number,
									 "uid", l->uid)
							     : json_pack("{s:I}", "number", (json_int_t)l->number));
	}
	json_object_set_new(o, "uids_listed", listed);
	json_object_set_new(o, "new_uids", fresh);
	json_object_set_new(o, "retrieved", ref_retrieved(s));
	json_object_set_new(o, "marked_for_deletion", marked);
	json_object_set_new(o, "deletions_committed",
			    s->committed == COMMIT_UNKNOWN ? json_null() : json_boolean(s->committed == COMMIT_YES));
	json_object_set_new(o, "end_reason", json_string(s->end_reason));
	return o;
}

static json_t *ref_messages(const struct mbr_mailbox *b)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < b->n_messages; i++) {
		const struct mbr_message *m = &b->messages[i];
		json_t *o = json_pack("{s:s, s:I, s:I}", "uid", m->uid, "first_seen_flow", (json_int_t)m->first_flow,
				      "times_retrieved", (json_int_t)m->times_retrieved);
		if (m->size >= 0)
			json_object_set_new(o, "size", json_integer(m->size));
		ref_set_time(o, "first_seen", &m->first_seen);
		json_object_set_new(o, "deleted", m->deleted ? json_string(m->deleted) : json_null());
		json_array_append_new(arr, o);
	}
	return arr;
}

/* A FILE writing into memory: the text is in buf once fp is closed. */
struct memout {
	char *buf;
	size_t len;
	FILE *fp;
};

/* m must stay where it is until fp is closed: the stream writes into it. */
static FILE *memout_open(struct memout *m)
{
	*m = (struct memout){ 0 };
	m->fp = open_memstream(&m->buf, &m->len);
	assert_non_null(m->fp);
	return m->fp;
}

/* What the Jansson writer wrote for boxes (caller frees). */
static char *ref_report(const struct mbr_mailbox *boxes, size_t n)
{
	struct memout m;
	FILE *fp = memout_open(&m);
	for (size_t i = 0; i < n; i++) {
		const struct mbr_mailbox *b = &boxes[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "event_type", "mailbox", "server", b->server, "user", b->user);
		json_t *sessions = json_array();
		for (size_t k = 0; k < b->n_sessions; k++)
			json_array_append_new(sessions, ref_session(&b->sessions[k]));
		json_object_set_new(o, "sessions", sessions);
		json_object_set_new(o, "messages", ref_messages(b));
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		assert_non_null(s);
		fputs(s, fp);
		fputc('\n', fp);
		free(s);
	}
	fclose(fp);
	return m.buf;
}

/* What json_mailbox_report() writes for boxes (caller frees). */
static char *jw_report(const struct mbr_mailbox *boxes, size_t n)
{
	struct memout m;
	FILE *fp = memout_open(&m);
	assert_true(json_mailbox_report(fp, boxes, n));
	fclose(fp);
	return m.buf;
}

static void assert_same_as_jansson(const struct mbr_mailbox *boxes, size_t n)
{
	char *want = ref_report(boxes, n), *got = jw_report(boxes, n);
	if (strcmp(want, got) != 0)
		fail_msg("report differs from Jansson's:\n jansson: %s\n jsonw:   %s", want, got);
	free(want);
	free(got);
}

/* ---- reports ------------------------------------------------------------ */

static struct mbr_login logins[] = {
	{ "USER", AUTH_RESULT_FAILURE, { 1700000000, 5 } },
	{ "APOP", AUTH_RESULT_SUCCESS, { 1700000001, 999999 } },
	{ "X-\x01\"\\TAB\t", AUTH_RESULT_UNKNOWN, { 1700000002, 0 } }, /* escapes */
	{ "CAF\xc3\xa9", AUTH_RESULT_SUCCESS, { 1700000003, 1 } },    /* UTF-8 as it is */
	{ "BAD\xff", AUTH_RESULT_FAILURE, { 1700000004, 2 } },         /* not UTF-8: left out */
};

static struct mbr_retrieval retrieved[] = {
	{ 1, "uid-1", "RETR", 1234, "aa11", true, { 1700000005, 7 } },
	{ 2, NULL, "TOP", 0, "", false, { 1700000006, 8 } },
	{ 3, "uid\\x80", "XTND XMIT", UINT64_MAX, "ff", true, { 1700000007, 9 } },
};

static struct mbr_listed listed[] = {
	{ 1, "uid-1", 1234, false, true },
	{ 2, NULL, 77, true, false },
	{ 3, "uid\\x80", -1, true, false },
	{ 4, "uid-\"4\"", 5, false, true },
};

static struct mbr_message messages[] = {
	{ "uid-1", 1234, 9, { 1700000000, 0 }, 2, "committed", NULL },
	{ "uid\\x80", -1, UINT64_MAX, { 1700000000, 1 }, 0, NULL, NULL },
	{ "uid-\"4\"", 5, 10, { 1700000000, 2 }, 1, "marked-unknown", NULL },
};

static struct mbr_session sessions(size_t i)
{
	struct mbr_session s = {
		.flow_id = i == 1 ? UINT64_MAX : 9 + i,
		.client = "10.0.0.1:40000",
		.start = { 1700000000 + (long)i, 5 },
		.end = { 1700000100 + (long)i, 6 },
		.committed = (enum commit)(i % COMMIT_COUNT),
	};
	snprintf(s.app_proto, sizeof(s.app_proto), "%s", i == 2 ? "" : "pop3");
	snprintf(s.end_reason, sizeof(s.end_reason), "%s", i ? "fin" : "quit");
	if (i == 0) {
		s.logins = logins;
		s.n_logins = sizeof(logins) / sizeof(logins[0]);
		s.retrieved = retrieved;
		s.n_retrieved = sizeof(retrieved) / sizeof(retrieved[0]);
		s.listed = listed;
		s.n_listed = sizeof(listed) / sizeof(listed[0]);
	}
	return s;
}

static void a_full_report_is_byte_identical_to_jansson(void **state)
{
	(void)state;
	struct mbr_session s[3] = { sessions(0), sessions(1), sessions(2) };
	struct mbr_mailbox boxes[2] = {
		{ .server = "192.0.2.1", .user = "alice", .sessions = s, .n_sessions = 3, .messages = messages,
		  .n_messages = sizeof(messages) / sizeof(messages[0]) },
		{ .server = "2001:db8::1", .user = "b\\xffob \"q\"", .sessions = s + 1, .n_sessions = 1 },
	};
	assert_same_as_jansson(boxes, 2);
	char *got = jw_report(boxes, 1);
	assert_non_null(strstr(got, "\"mechanism\":\"CAF\xc3\xa9\""));
	assert_null(strstr(got, "BAD")); /* the login Jansson could not build */
	free(got);
}

static void an_empty_mailbox_and_no_mailboxes_are_byte_identical_to_jansson(void **state)
{
	(void)state;
	struct mbr_mailbox box = { .server = "192.0.2.1", .user = "" };
	assert_same_as_jansson(&box, 1);
	assert_same_as_jansson(&box, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_full_report_is_byte_identical_to_jansson),
		cmocka_unit_test(an_empty_mailbox_and_no_mailboxes_are_byte_identical_to_jansson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
