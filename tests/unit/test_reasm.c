/*
 * test_reasm.c - the capture engine through its interface (src/reasm.h), on
 * packets built as the engine builds its own (src/ipv4.h): the libnids
 * self-check passes and leaves no stream behind; a session that ends inside
 * a hole filler (engine.h's re-entrancy rule) leaves nothing behind; the
 * engine sweeps idle sessions on its own clock. Run under ASan by `make check`.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/ipv4.h"
#include "../../src/nids_abi.h"
#include "../../src/reasm.h"
#include "engine_rig.h"

#define CLIENT_ISN 1000u
#define SERVER_ISN 5000u

struct rig {
	struct engine_rig e;
	struct timeval now;
	struct reasm_stats st;
};

static void rig_open(struct rig *r, bool detect, unsigned idle_timeout)
{
	memset(r, 0, sizeof(*r));
	r->now.tv_sec = 1700000000;
	engine_rig_open(&r->e, 16, idle_timeout, detect);
	reasm_get_stats(&r->st); /* counters run on across inits: compare with these */
}

static void rig_close(struct rig *r)
{
	engine_rig_close(&r->e);
	assert_int_equal(r->e.t.open, 0);
}

static void rig_send(struct rig *r, struct ipv4_tuple t, uint32_t seq, uint32_t ack, uint8_t flags,
		     size_t len)
{
	uint8_t pkt[IPV4_TCP_HEADERS + 1024];
	struct segment g = { t, seq, ack, flags, len };
	size_t n = ipv4_tcp_segment(pkt, &g, NULL);
	r->now.tv_usec += 1000;
	reasm_ipv4(&r->now, pkt, n, "test.pcap");
}

static void rig_handshake(struct rig *r, struct ipv4_tuple c)
{
	struct ipv4_tuple s = ipv4_reverse(&c);
	rig_send(r, c, CLIENT_ISN, 0, TCP_SYN, 0);
	rig_send(r, s, SERVER_ISN, CLIENT_ISN + 1, TCP_SYN | TCP_ACK, 0);
	rig_send(r, c, CLIENT_ISN + 1, SERVER_ISN + 1, TCP_ACK, 0);
}

_Static_assert(sizeof(struct reasm_stats) % sizeof(uint64_t) == 0, "reasm_stats: counters only");

/* The counters since rig_open(). */
static struct reasm_stats rig_stats(const struct rig *r)
{
	struct reasm_stats now;
	reasm_get_stats(&now);
	const uint64_t *a = (const uint64_t *)&now, *b = (const uint64_t *)&r->st;
	uint64_t *d = (uint64_t *)&now;
	for (size_t i = 0; i < sizeof(now) / sizeof(uint64_t); i++)
		d[i] = a[i] - b[i];
	return now;
}

static void the_self_check_passes_and_leaves_no_trace(void **unused)
{
	(void)unused;
	struct rig r;
	rig_open(&r, false, 0);
	struct reasm_stats st = rig_stats(&r);
	assert_int_equal(st.ip_packets, 0);
	assert_int_equal(st.nids_warnings, 0);
	assert_int_equal(st.tcp_streams, 0);
	assert_int_equal(r.e.t.open, 0);
	/* The check's connection (nids_abi.c) is gone from libnids' table. */
	struct tuple4 key = { 40000, 110, htonl(0x7f000001), htonl(0x7f000002) };
	assert_null(nids_find_tcp_stream(&key));
	rig_close(&r);
}

static void a_session_ended_by_the_data_behind_a_hole_leaves_nothing_behind(void **unused)
{
	(void)unused;
	struct rig r;
	rig_open(&r, true, 0);
	struct ipv4_tuple c = { htonl(0x0a000001), htonl(0x0a000002), 40001, 2525 };
	rig_handshake(&r, c);
	assert_int_equal(r.e.t.open, 1); /* --detect: any port, the verdict comes with the data */
	/* 100 bytes lost, then 600 that cannot be POP (more than detection holds). */
	rig_send(&r, c, CLIENT_ISN + 1 + 100, SERVER_ISN + 1, TCP_ACK, 600);
	assert_int_equal(r.e.t.open, 1);
	/* The server acknowledges past the hole: filled; the data behind it ends the session. */
	rig_send(&r, ipv4_reverse(&c), SERVER_ISN + 1, CLIENT_ISN + 1 + 700, TCP_ACK, 0);
	struct reasm_stats st = rig_stats(&r);
	assert_int_equal(r.e.t.open, 0);
	assert_int_equal(st.not_pop, 1);
	assert_int_equal(st.gap_bytes, 100);
	rig_close(&r);
}

static void idle_sessions_end_on_the_engines_own_clock(void **unused)
{
	(void)unused;
	struct rig r;
	rig_open(&r, false, 30);
	rig_handshake(&r, (struct ipv4_tuple){ htonl(0x0a000001), htonl(0x0a000002), 40002, 110 });
	assert_int_equal(r.e.t.open, 1);
	reasm_tick(r.now.tv_sec + 29);
	assert_int_equal(r.e.t.open, 1);
	reasm_tick(r.now.tv_sec + 30);
	assert_int_equal(r.e.t.open, 0);
	assert_int_equal(rig_stats(&r).timed_out, 1);
	rig_close(&r);
}

static void without_an_idle_timeout_nothing_expires(void **unused)
{
	(void)unused;
	struct rig r;
	rig_open(&r, false, 0);
	rig_handshake(&r, (struct ipv4_tuple){ htonl(0x0a000001), htonl(0x0a000002), 40003, 110 });
	reasm_tick(r.now.tv_sec + 7 * 86400);
	assert_int_equal(r.e.t.open, 1);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_self_check_passes_and_leaves_no_trace),
		cmocka_unit_test(a_session_ended_by_the_data_behind_a_hole_leaves_nothing_behind),
		cmocka_unit_test(idle_sessions_end_on_the_engines_own_clock),
		cmocka_unit_test(without_an_idle_timeout_nothing_expires),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
