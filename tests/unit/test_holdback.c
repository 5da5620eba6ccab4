/*
 * test_holdback.c - the table of handshakes held back from libnids
 * (src/holdback.c): what is kept, what is given back and in which order,
 * what counts as half-open. Packets are built with src/ipv4.h exactly as the
 * engine builds its synthetic ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/holdback.h"

#define CLIENT_ISN 1000u
#define SERVER_ISN 9000u

struct pkt {
	struct segment g;
	uint8_t ip[IPV4_TCP_HEADERS + 200];
	size_t len;
};

static struct ipv4_tuple client_to_server(uint16_t sport)
{
	return (struct ipv4_tuple){ 0x0100000a, 0x0200000a, sport, 110 }; /* 10.0.0.1 -> 10.0.0.2 */
}

static struct pkt make(struct ipv4_tuple t, uint32_t seq, uint32_t ack, uint8_t flags, size_t payload)
{
	struct pkt p = { .g = { t, seq, ack, flags, payload } };
	p.len = ipv4_tcp_segment(p.ip, &p.g, NULL);
	return p;
}

static struct pkt syn(uint16_t sport)
{
	return make(client_to_server(sport), CLIENT_ISN, 0, TCP_SYN, 0);
}

static struct pkt synack(uint16_t sport)
{
	struct ipv4_tuple t = client_to_server(sport);
	return make(ipv4_reverse(&t), SERVER_ISN, CLIENT_ISN + 1, TCP_SYN | TCP_ACK, 0);
}

static struct pkt client_ack(uint16_t sport)
{
	return make(client_to_server(sport), CLIENT_ISN + 1, SERVER_ISN + 1, TCP_ACK, 0);
}

static enum holdback_verdict offer(struct holdback *hb, const struct pkt *p,
				   const struct holdback_slot **slot)
{
	return holdback_offer(hb, &p->g, p->ip, p->len, slot);
}

static void a_complete_handshake_is_held_then_given_back_whole(void **unused)
{
	(void)unused;
	uint64_t half_open = 0;
	struct holdback hb;
	assert_true(holdback_init(&hb, 16, &half_open));
	const struct holdback_slot *s = NULL;
	struct pkt a = syn(40000), b = synack(40000), c = client_ack(40000);
	assert_int_equal(offer(&hb, &a, &s), HOLDBACK_KEPT);
	assert_int_equal(offer(&hb, &b, &s), HOLDBACK_KEPT);
	assert_int_equal(offer(&hb, &c, &s), HOLDBACK_FEED); /* not a SYN: never kept */
	bool ack_lost = true;
	s = holdback_release(&hb, &c.g, &ack_lost);
	assert_non_null(s);
	assert_false(ack_lost); /* this packet is the client's ACK */
	assert_int_equal(s->syn_len, a.len);
	assert_memory_equal(s->syn, a.ip, a.len);
	assert_int_equal(s->synack_len, b.len);
	assert_memory_equal(s->synack, b.ip, b.len);
	assert_null(holdback_release(&hb, &c.g, &ack_lost)); /* given back once */
	holdback_free(&hb);
	assert_int_equal(half_open, 0);
}

static void a_server_packet_after_the_synack_needs_the_lost_ack(void **unused)
{
	(void)unused;
	uint64_t half_open = 0;
	struct holdback hb;
	assert_true(holdback_init(&hb, 16, &half_open));
	const struct holdback_slot *s = NULL;
	struct pkt a = syn(40001), b = synack(40001);
	struct pkt greeting = make(b.g.t, SERVER_ISN + 1, CLIENT_ISN + 1, TCP_ACK, 20);
	offer(&hb, &a, &s);
	offer(&hb, &b, &s);
	bool ack_lost = false;
	assert_non_null(holdback_release(&hb, &greeting.g, &ack_lost));
	assert_true(ack_lost);
	holdback_free(&hb);
}

static void a_retransmitted_syn_keeps_what_was_held(void **unused)
{
	(void)unused;
	uint64_t half_open = 0;
	struct holdback hb;
	assert_true(holdback_init(&hb, 16, &half_open));
	const struct holdback_slot *s = NULL;
	struct pkt a = syn(40002), b = synack(40002), c = client_ack(40002);
	offer(&hb, &a, &s);
	offer(&hb, &b, &s);
	assert_int_equal(offer(&hb, &a, &s), HOLDBACK_KEPT);
	bool ack_lost;
	s = holdback_release(&hb, &c.g, &ack_lost);
	assert_non_null(s);
	assert_int_equal(s->synack_len, b.len); /* the SYN-ACK survived the retransmission */
	holdback_free(&hb);
	assert_int_equal(half_open, 0);
}

static void a_synack_answering_no_held_syn_is_fed_at_once(void **unused)
{
	(void)unused;
	uint64_t half_open = 0;
	struct holdback hb;
	assert_true(holdback_init(&hb, 16, &half_open));
	const struct holdback_slot *s = NULL;
	struct pkt a = syn(40003), b = synack(40003);
	assert_int_equal(offer(&hb, &b, &s), HOLDBACK_FEED); /* no SYN held */
	offer(&hb, &a, &s);
	b.g.ack++; /* answers another ISN */
	assert_int_equal(offer(&hb, &b, &s), HOLDBACK_FEED);
	holdback_free(&hb);
	assert_int_equal(half_open, 1); /* the SYN never answered */
}

static void a_synack_too_big_to_hold_releases_its_syn_first(void **unused)
{
	(void)unused;
	uint64_t half_open = 0;
	struct holdback hb;
	assert_true(holdback_init(&hb, 16, &half_open));
	const struct holdback_slot *s = NULL;
	struct pkt a = syn(40004), b = synack(40004);
	b = make(b.g.t, b.g.seq, b.g.ack, b.g.flags, 100); /* a SYN-ACK with data */
	offer(&hb, &a, &s);
	assert_int_equal(offer(&hb, &b, &s), HOLDBACK_SYN_FIRST);
	assert_memory_equal(s->syn, a.ip, a.len);
	bool ack_lost;
	assert_null(holdback_release(&hb, &b.g, &ack_lost)); /* libnids has it now */
	holdback_free(&hb);
	assert_int_equal(half_open, 0);
}

static void a_reset_or_an_unanswered_syn_is_half_open(void **unused)
{
	(void)unused;
	uint64_t half_open = 0;
	struct holdback hb;
	assert_true(holdback_init(&hb, 16, &half_open));
	const struct holdback_slot *s = NULL;
	struct pkt a = syn(40005), b = synack(40005), c = syn(40006);
	struct pkt rst = make(client_to_server(40005), CLIENT_ISN + 1, 0, TCP_RST, 0);
	struct pkt data = make(client_to_server(40006), CLIENT_ISN + 1, SERVER_ISN + 1, TCP_ACK, 10);
	offer(&hb, &a, &s);
	offer(&hb, &b, &s);
	offer(&hb, &c, &s);
	bool ack_lost;
	assert_null(holdback_release(&hb, &rst.g, &ack_lost));
	assert_int_equal(half_open, 1);
	assert_null(holdback_release(&hb, &data.g, &ack_lost)); /* SYN without SYN-ACK: forgotten */
	assert_int_equal(half_open, 2);
	holdback_free(&hb);
	assert_int_equal(half_open, 2);
}

static void a_full_set_gives_way_to_a_new_syn_and_counts_it(void **unused)
{
	(void)unused;
	uint64_t half_open = 0;
	struct holdback hb;
	assert_true(holdback_init(&hb, 16, &half_open)); /* 64 slots at least */
	const struct holdback_slot *s = NULL;
	for (uint16_t port = 1; port <= 1000; port++) {
		struct pkt a = syn(port);
		assert_int_equal(offer(&hb, &a, &s), HOLDBACK_KEPT);
	}
	assert_true(hb.held <= hb.mask + 1);
	uint64_t crowded_out = half_open;
	assert_int_equal(crowded_out + hb.held, 1000);
	holdback_free(&hb);
	assert_int_equal(half_open, 1000); /* none completed */
	assert_null(hb.slot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_complete_handshake_is_held_then_given_back_whole),
		cmocka_unit_test(a_server_packet_after_the_synack_needs_the_lost_ack),
		cmocka_unit_test(a_retransmitted_syn_keeps_what_was_held),
		cmocka_unit_test(a_synack_answering_no_held_syn_is_fed_at_once),
		cmocka_unit_test(a_synack_too_big_to_hold_releases_its_syn_first),
		cmocka_unit_test(a_reset_or_an_unanswered_syn_is_half_open),
		cmocka_unit_test(a_full_set_gives_way_to_a_new_syn_and_counts_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
