/*
 * test_fanout.c - the classic-BPF fanout program of --workers N live
 * (src/capture_fanout.c) computes pairhash_bucket() of the packet, run
 * through libpcap's userspace interpreter bpf_filter() on thousands of
 * random IPv4 and IPv6 packets, for every N from 1 to 64.
 *
 * bpf_filter() takes no negative offsets, so it cannot run the kernel's
 * program, whose loads are relative to SKF_NET_OFF (the network header,
 * whatever the link type). It runs its twin, the same program generated with
 * the loads relative to an Ethernet header's end (14) or to the packet's
 * start (raw IP); a test proves the twins and the kernel's program differ in
 * nothing but the loads' base.
 */
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/capture_fanout.h"
#include "../../src/pairhash.h"

#define ETH_LEN 14
#define PACKETS 4000

/* A random IPv4 (40 octets) or IPv6 (60 octets) TCP packet behind `pre` octets of link header. */
static size_t random_packet(uint8_t *buf, size_t pre, bool v6, unsigned *seed)
{
	size_t len = pre + (v6 ? 60 : 40);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rand_r(seed);
	buf[pre] = v6 ? 0x60 : 0x45;
	return len;
}

static unsigned run(const struct sock_filter *prog, const uint8_t *pkt, size_t len)
{
	return bpf_filter((const struct bpf_insn *)prog, pkt, (u_int)len, (u_int)len);
}

static void check_base(int32_t base)
{
	struct sock_filter prog[CAPTURE_FANOUT_PROG_MAX];
	uint8_t pkt[128];
	unsigned seed = 19;
	for (unsigned n = 1; n <= 64; n++) {
		size_t len = capture_fanout_prog(prog, n, base);
		assert_true(len <= CAPTURE_FANOUT_PROG_MAX);
		assert_int_equal(bpf_validate((const struct bpf_insn *)prog, (int)len), 1);
		for (unsigned i = 0; i < PACKETS / 16; i++) {
			size_t plen = random_packet(pkt, (size_t)base, i & 1, &seed);
			uint32_t h;
			assert_true(pairhash_packet(pkt + base, plen - (size_t)base, &h));
			assert_int_equal(run(prog, pkt, plen), pairhash_bucket(h, n));
		}
	}
}

static void equals_pairhash_bucket_behind_ethernet(void **unused)
{
	(void)unused;
	check_base(ETH_LEN);
}

static void equals_pairhash_bucket_on_raw_ip(void **unused)
{
	(void)unused;
	check_base(0);
}

/* Both directions of a connection: the same worker. */
static void both_directions_go_to_one_worker(void **unused)
{
	(void)unused;
	struct sock_filter prog[CAPTURE_FANOUT_PROG_MAX];
	capture_fanout_prog(prog, 7, 0);
	uint8_t a[60], b[60];
	unsigned seed = 5;
	for (unsigned i = 0; i < PACKETS; i++) {
		bool v6 = i & 1;
		size_t len = random_packet(a, 0, v6, &seed);
		memcpy(b, a, len);
		size_t off = v6 ? 8 : 12, alen = v6 ? 16 : 4; /* swap source and destination */
		memcpy(b + off, a + off + alen, alen);
		memcpy(b + off + alen, a + off, alen);
		assert_int_equal(run(prog, a, len), run(prog, b, len));
	}
}

/* Neither IPv4 nor IPv6 (ARP behind Ethernet's end, a short packet): worker 0. */
static void other_packets_go_to_worker_0(void **unused)
{
	(void)unused;
	struct sock_filter prog[CAPTURE_FANOUT_PROG_MAX];
	capture_fanout_prog(prog, 5, 0);
	uint8_t arp[28] = { 0x00, 0x01, 0x08, 0x00 };
	assert_int_equal(run(prog, arp, sizeof(arp)), 0);
	uint8_t shortv4[10] = { 0x45 };
	assert_int_equal(run(prog, shortv4, sizeof(shortv4)), 0);
}

/* The kernel's program is the tested twin with every load moved to SKF_NET_OFF. */
static void the_kernels_program_differs_only_in_the_loads_base(void **unused)
{
	(void)unused;
	struct sock_filter kernel[CAPTURE_FANOUT_PROG_MAX], twin[CAPTURE_FANOUT_PROG_MAX];
	for (unsigned n = 1; n <= 64; n++) {
		size_t len = capture_fanout_prog(kernel, n, SKF_NET_OFF);
		assert_int_equal(capture_fanout_prog(twin, n, ETH_LEN), len);
		unsigned loads = 0;
		for (size_t i = 0; i < len; i++) {
			assert_int_equal(kernel[i].code, twin[i].code);
			assert_int_equal(kernel[i].jt, twin[i].jt);
			assert_int_equal(kernel[i].jf, twin[i].jf);
			bool load = BPF_CLASS(kernel[i].code) == BPF_LD && BPF_MODE(kernel[i].code) == BPF_ABS;
			loads += load;
			assert_int_equal(kernel[i].k, load ? twin[i].k - ETH_LEN + (uint32_t)SKF_NET_OFF : twin[i].k);
		}
		assert_int_equal(loads, 1 + 2 + 8); /* the version, two IPv4 words, eight IPv6 words */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(equals_pairhash_bucket_behind_ethernet),
		cmocka_unit_test(equals_pairhash_bucket_on_raw_ip),
		cmocka_unit_test(both_directions_go_to_one_worker),
		cmocka_unit_test(other_packets_go_to_worker_0),
		cmocka_unit_test(the_kernels_program_differs_only_in_the_loads_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
