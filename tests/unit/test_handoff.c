/*
 * test_handoff.c - output on its own thread changes nothing: the ring keeps
 * every record in order across wraps and full waits, and the same events give
 * byte-identical output with and without the thread, even when the dissector
 * reuses its memory right after emit(), a data span is larger than a ring
 * record, and a session summary is larger than the whole ring. The hand-off
 * is also driven alone, into a target of the test's own: it knows no output.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../output/digest.h"
#include "../../output/handoff.h"
#include "../../output/output.h"
#include "../../output/ring.h"

#define RECORDS 200000

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Logical record i: its size, then its bytes (its number first, then a pattern). */
static size_t record_size(uint32_t *seed, const struct ring *r)
{
	size_t n = rnd(seed) % (ring_max_record(r) / 2 + 1);
	return n < 4 ? 4 : n;
}

static void record_fill(uint8_t *p, uint32_t i, size_t n)
{
	memcpy(p, &i, 4);
	for (size_t k = 4; k < n; k++)
		p[k] = (uint8_t)(i + k);
}

/* Every third record is appended to the one before when the ring allows it. */
static void *produce(void *arg)
{
	struct ring *r = arg;
	uint32_t seed = 42;
	for (uint32_t i = 0; i < RECORDS; i++) {
		size_t n = record_size(&seed, r);
		uint8_t *p = i % 3 == 2 ? ring_extend(r, n) : NULL;
		if (!p)
			p = ring_reserve(r, n);
		record_fill(p, i, n);
		ring_commit(r, i % 1000 == 0 ? RING_URGENT : i % 3 ? RING_LAZY : RING_NOW);
	}
	ring_close(r);
	return NULL;
}

static void ring_keeps_order_and_bytes_across_wraps(void **state)
{
	(void)state;
	struct ring *r = ring_new(4096); /* small: it wraps and fills all the time */
	assert_non_null(r);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, produce, r), 0);
	uint32_t seed = 42, want = 0, seen = 0;
	size_t n;
	const uint8_t *p;
	while ((p = ring_next(r, &n)) != NULL) {
		assert_int_equal((uintptr_t)p % 16, 0);
		seen++;
		while (n) { /* one record, or several appended to one */
			size_t expect = record_size(&seed, r);
			if (n < expect)
				fail_msg("record %u: %zu octets left, %zu expected", want, n, expect);
			uint32_t seq;
			memcpy(&seq, p, 4);
			assert_int_equal(seq, want);
			for (size_t k = 4; k < expect; k++)
				if (p[k] != (uint8_t)(want + k))
					fail_msg("record %u octet %zu differs", want, k);
			p += expect;
			n -= expect;
			want++;
		}
		ring_release(r);
	}
	assert_int_equal(want, RECORDS);
	assert_true(seen < RECORDS); /* some ring records did carry two */
	pthread_join(t, NULL);
	ring_free(r);
}

/* ---- the same events through output, inline and threaded --------------------- */

#define SESSIONS 40
#define HUGE_MAILBOX 40000 /* entries: the session event is larger than the ring */

/* Scratch memory the "dissector" overwrites after every emit(). */
static uint8_t scratch[8 << 20];

static struct bytes put(size_t at, const char *s)
{
	size_t n = strlen(s);
	memcpy(scratch + at, s, n);
	return bytes_of(scratch + at, n);
}

static void emit(struct event_sink *sink, struct event *ev)
{
	sink_emit(sink, ev);
	memset(scratch, 'X', 4096); /* what the event pointed to is gone */
}

static void emit_auth(struct event_sink *sink, int i)
{
	char mech[16];
	snprintf(mech, sizeof(mech), "MECH%d", i); /* a stack string, as sasl.c's names */
	struct event ev = { .type = EV_AUTH };
	struct ev_auth *a = &ev.u.auth;
	a->mechanism = mech;
	a->username = put(0, i % 3 ? "alice" : "b\xff\"ob\x01");
	a->password = put(100, "s3cret");
	a->cleartext = true;
	a->result = i % 2 ? AUTH_RESULT_FAILURE : AUTH_RESULT_SUCCESS;
	a->failure = i % 2 ? "credentials" : NULL;
	a->reply = put(200, i % 2 ? "-ERR no" : "+OK yes");
	emit(sink, &ev);
}

static void emit_message(struct event_sink *sink, int i, size_t size, bool end)
{
	struct event ev = { .type = EV_MESSAGE_BEGIN };
	ev.u.message_begin = (struct ev_message_begin){ .command = "RETR", .number = (uint32_t)i,
							.dir = DIR_TO_CLIENT, .announced = (int64_t)size,
							.list_size = -1 };
	ev.u.message_begin.uid = put(300, "uid-1");
	emit(sink, &ev);
	static uint8_t body[6 << 20];
	for (size_t k = 0; k < size; k++)
		body[k] = k % 71 == 70 ? '\n' : (uint8_t)('a' + (k + (size_t)i) % 26);
	memcpy(body, "Subject: hi\r\n\r\n", 15);
	for (size_t at = 0; at < size;) {
		size_t n = size - at < (size_t)(1 + i * 977) ? size - at : (size_t)(1 + i * 977);
		if (i == 7)
			n = size - at; /* one span larger than a ring record */
		ev = (struct event){ .type = EV_MESSAGE_DATA };
		ev.u.message_data = (struct ev_message_data){ body + at, n };
		emit(sink, &ev);
		at += n;
	}
	if (!end)
		return; /* the next begin, or the session's end, cuts it */
	ev = (struct event){ .type = EV_MESSAGE_END };
	ev.u.message_end.complete = i % 5 != 0;
	emit(sink, &ev);
}

static void emit_session(struct event_sink *sink, int i)
{
	struct event ev = { .type = EV_ANOMALY };
	ev.u.anomaly = (struct ev_anomaly){ .id = (enum anomaly)0, .dir = DIR_TO_SERVER };
	ev.u.anomaly.sample = put(400, "weird\x80line");
	emit(sink, &ev);
	size_t n_mb = i == 3 ? HUGE_MAILBOX : 3;
	static struct mailbox_entry mb[HUGE_MAILBOX];
	for (size_t k = 0; k < n_mb; k++) {
		char uid[80];
		int len = snprintf(uid, sizeof(uid), "%070zu", k);
		memcpy(scratch + 8192 + k * 70, uid, (size_t)len);
		mb[k] = (struct mailbox_entry){ .number = (uint32_t)k + 1,
						.uid = bytes_of(scratch + 8192 + k * 70, 70),
						.size = (int64_t)k, .marked = k % 2 == 0 };
	}
	struct bytes caps[2] = { put(500, "TOP"), put(600, "UIDL") };
	ev = (struct event){ .type = EV_SESSION };
	struct ev_session *s = &ev.u.session;
	s->app_proto = "pop3";
	s->state = "UPDATE";
	s->greeting = put(700, "+OK ready <1.2@x>");
	s->capabilities = caps;
	s->n_capabilities = 2;
	s->mailbox = mb;
	s->n_mailbox = n_mb;
	s->username = put(800, "alice");
	s->deletions_committed = COMMIT_YES;
	emit(sink, &ev);
	memset(scratch, 'Y', sizeof(scratch));
}

/* Runs the script through one output; returns what it wrote (malloc'd). */
static char *run_script(bool threaded, enum hash_sharing share)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	struct output_config cfg = { .fp = fp, .threaded = threaded, .show_passwords = true,
				     .transactions = true, .hash_sharing = share };
	struct output *o = output_open(&cfg);
	assert_non_null(o);
	static struct flow flows[SESSIONS];
	struct event_sink *sinks[SESSIONS];
	for (int i = 0; i < SESSIONS; i++) {
		flows[i] = (struct flow){ .flow_id = (uint64_t)i + 1, .client_ip = "10.0.0.1",
					  .server_ip = "192.0.2.1", .client_port = (uint16_t)(4000 + i),
					  .server_port = 110, .app_proto = "pop3" };
		flows[i].start.tv_sec = flows[i].now.tv_sec = 1700000000 + i;
		sinks[i] = output_session_open(o, &flows[i]);
		assert_non_null(sinks[i]);
	}
	for (int i = 0; i < SESSIONS; i++) { /* interleaved, the flow moving on between events */
		flows[i].now.tv_usec = 10;
		emit_auth(sinks[i], i);
		flows[(i + 1) % SESSIONS].bytes[DIR_TO_CLIENT] += 1000;
		flows[i].now.tv_usec = 20;
		if (i == 11) /* a begin without an end: the first message ends there */
			emit_message(sinks[i], 1000, 70000, false);
		/* sessions 3, 10, 17...: the session ends with its message unfinished */
		emit_message(sinks[i], i, i == 7 ? (5u << 20) : (size_t)(100 + i * 3000), i % 7 != 3);
		if (i == SESSIONS / 2)
			assert_true(output_flush(o));
	}
	for (int i = 0; i < SESSIONS; i++) {
		flows[i].now.tv_sec += 5;
		flows[i].end_reason = END_FIN;
		emit_session(sinks[i], i);
		output_session_close(sinks[i]);
		flows[i].now.tv_sec = 0; /* the engine frees it: the output must not look */
	}
	assert_true(output_close(o));
	fclose(fp);
	return text;
}

static void threaded_output_is_byte_identical(void **state)
{
	(void)state;
	char *inline_text = run_script(false, HASH_SHARE_AUTO);
	assert_true(strlen(inline_text) > (size_t)HUGE_MAILBOX / 2 * 70);
	assert_non_null(strstr(inline_text, "\"mechanism\":\"MECH3\""));
	/* hashing on the output thread, on the capture thread for every message, or as it comes */
	const enum hash_sharing modes[] = { HASH_SHARE_NEVER, HASH_SHARE_ALWAYS, HASH_SHARE_AUTO };
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		char *threaded_text = run_script(true, modes[k]);
		if (strcmp(inline_text, threaded_text) != 0) {
			size_t at = 0;
			while (inline_text[at] == threaded_text[at])
				at++;
			fail_msg("sharing %d: outputs differ at octet %zu: ...%.120s vs ...%.120s",
				 (int)modes[k], at, inline_text + at, threaded_text + at);
		}
		free(threaded_text);
	}
	free(inline_text);
}

/* ---- the hand-off alone, into a target that writes a trace ------------------ */

#define TRACE_HEAD 1000 /* octets of a message hashed upstream that still reach the target */

/* One session as the tracing target sees it. */
struct trace_session {
	int id;
	FILE *log;
	struct digest dg;
	bool in_message, upstream;
	uint64_t octets; /* of the message in progress, as delivered */
};

static void trace_bytes(FILE *log, struct bytes b)
{
	fputc('[', log);
	for (size_t i = 0; i < b.n; i++)
		fprintf(log, "%02x", b.p[i]);
	fputc(']', log);
}

/* The message in progress ends: its digest, made here or given by the capture thread. */
static void trace_message_end(struct trace_session *t, bool complete, const struct digest_note *note)
{
	struct digest_result r = { 0 };
	if (t->upstream) {
		assert_non_null(note);
		assert_true(note->upstream);
		assert_true(t->octets <= TRACE_HEAD);
		r = note->result;
	} else {
		r = digest_end(&t->dg);
	}
	char hex[DIGEST_HEX_LEN + 1];
	digest_hex(&r, hex);
	fprintf(t->log, "%d end complete=%d size=%llu sha256=%s\n", t->id, complete, (unsigned long long)r.size,
		hex);
	t->in_message = false;
}

static void trace_event(struct trace_session *t, const struct flow *f, const struct event *ev,
			const struct digest_note *note)
{
	const union { struct ev_auth a; struct ev_session s; } *u = (const void *)&ev->u;
	if (ev->type == EV_MESSAGE_DATA) {
		if (!t->upstream)
			digest_update(&t->dg, ev->u.message_data.p, ev->u.message_data.n);
		t->octets += ev->u.message_data.n;
		return;
	}
	if (ev->type == EV_MESSAGE_END) {
		trace_message_end(t, ev->u.message_end.complete, note);
		return;
	}
	if (ev->type == EV_MESSAGE_BEGIN && t->in_message) /* a begin without an end ends the first */
		trace_message_end(t, false, note);
	fprintf(t->log, "%d flow=%llu t=%ld type=%d ", t->id, (unsigned long long)f->flow_id,
		(long)f->now.tv_usec, (int)ev->type);
	switch (ev->type) {
	case EV_AUTH:
		fprintf(t->log, "%s", u->a.mechanism);
		trace_bytes(t->log, u->a.username);
		trace_bytes(t->log, u->a.password);
		trace_bytes(t->log, u->a.reply);
		break;
	case EV_MESSAGE_BEGIN:
		t->upstream = note && note->upstream;
		if (!t->upstream)
			assert_true(digest_begin(&t->dg));
		t->in_message = true;
		t->octets = 0;
		fprintf(t->log, "%s", ev->u.message_begin.command);
		trace_bytes(t->log, ev->u.message_begin.uid);
		break;
	case EV_SESSION:
		fprintf(t->log, "%s %zu", u->s.state, u->s.n_mailbox);
		trace_bytes(t->log, u->s.greeting);
		for (size_t i = 0; i < u->s.n_capabilities; i++)
			trace_bytes(t->log, u->s.capabilities[i]);
		trace_bytes(t->log, u->s.mailbox[u->s.n_mailbox - 1].uid);
		break;
	case EV_ANOMALY: trace_bytes(t->log, ev->u.anomaly.sample); break;
	default: break;
	}
	fputc('\n', t->log);
}

static void trace_deliver(void *ctx, void *session, const struct flow *f, const struct event *ev,
			  const struct digest_note *note)
{
	assert_int_equal(*(int *)ctx, 42);
	trace_event(session, f, ev, note);
}

static void trace_end(void *ctx, void *session, const struct flow *f, const struct digest_note *note)
{
	(void)ctx;
	struct trace_session *t = session;
	if (t->in_message)
		trace_message_end(t, false, note);
	fprintf(t->log, "%d close flow=%llu t=%ld\n", t->id, (unsigned long long)f->flow_id, (long)f->now.tv_usec);
	digest_free(&t->dg);
}

static bool trace_flush(void *ctx)
{
	return *(int *)ctx == 42;
}

/* The same target called inline: the reference. */
struct trace_sink {
	struct event_sink sink;
	struct trace_session *t;
	const struct flow *flow;
};

static void trace_sink_emit(struct event_sink *sink, const struct event *ev)
{
	struct trace_sink *ts = (struct trace_sink *)sink;
	if (ev->type != EV_COMMAND) /* what the hand-off below is told to drop */
		trace_event(ts->t, ev->type == EV_MESSAGE_DATA ? NULL : ts->flow, ev, NULL);
}

/* The script of run_script() into the tracing target; through a hand-off unless share < 0. */
static char *trace_script(int share)
{
	int ctx = 42;
	const struct event_target target = { &ctx, trace_deliver, trace_end, trace_flush };
	const struct handoff_config cfg = { 1u << EV_COMMAND, (enum hash_sharing)share, TRACE_HEAD };
	struct handoff *h = share < 0 ? NULL : handoff_start(&target, &cfg);
	assert_true(share < 0 || h);
	char *text = NULL;
	size_t len = 0;
	FILE *log = open_memstream(&text, &len);
	enum { N = 6 };
	static struct flow flows[N];
	struct trace_session ts[N];
	struct trace_sink inl[N];
	struct event_sink *sinks[N];
	for (int i = 0; i < N; i++) {
		flows[i] = (struct flow){ .flow_id = (uint64_t)i + 1 };
		ts[i] = (struct trace_session){ .id = i, .log = log };
		inl[i] = (struct trace_sink){ { trace_sink_emit }, &ts[i], &flows[i] };
		sinks[i] = h ? handoff_session_open(h, &ts[i], &flows[i]) : &inl[i].sink;
		assert_non_null(sinks[i]);
	}
	for (int i = 0; i < N; i++) {
		flows[i].now.tv_usec = 10 + i;
		emit_auth(sinks[i], i);
		struct event cmd = { .type = EV_COMMAND };
		cmd.u.command.request = put(900, "NOOP");
		emit(sinks[i], &cmd);
		flows[i].now.tv_usec = 20 + i;
		if (i == 1)
			emit_message(sinks[i], 1000, 70000, false);
		emit_message(sinks[i], i, (size_t)(100 + i * 30000), i != 3);
		if (h && i == 2)
			assert_true(handoff_flush(h));
	}
	for (int i = 0; i < N; i++) {
		flows[i].now.tv_usec = 30 + i;
		emit_session(sinks[i], i);
		if (h) {
			handoff_session_close(sinks[i]);
		} else {
			trace_end(&ctx, &ts[i], &flows[i], NULL);
		}
		flows[i].now.tv_usec = 0; /* the engine moved on: the target must not look */
	}
	handoff_stop(h);
	fclose(log);
	return text;
}

static void the_hand_off_delivers_to_any_target_what_an_inline_sink_sees(void **state)
{
	(void)state;
	char *want = trace_script(-1);
	assert_non_null(strstr(want, "MECH3"));
	assert_null(strstr(want, "NOOP"));
	const enum hash_sharing modes[] = { HASH_SHARE_NEVER, HASH_SHARE_ALWAYS };
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		char *got = trace_script((int)modes[k]);
		if (strcmp(want, got) != 0) {
			size_t at = 0;
			while (want[at] == got[at])
				at++;
			fail_msg("sharing %d: traces differ at octet %zu: ...%.200s vs ...%.200s", (int)modes[k], at,
				 want + at, got + at);
		}
		free(got);
	}
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_keeps_order_and_bytes_across_wraps),
		cmocka_unit_test(threaded_output_is_byte_identical),
		cmocka_unit_test(the_hand_off_delivers_to_any_target_what_an_inline_sink_sees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
