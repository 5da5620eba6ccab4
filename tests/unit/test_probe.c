/*
 * test_probe.c - content detection (--detect): the probes of the registry
 * (dissectors/probe.c) judging the first bytes of a conversation, asked in
 * registry order as src/detect.c asks them, within the bytes it holds
 * (DETECT_MAX per direction). Every conversation is judged twice: fed a step
 * at a time and one byte at a time; the first verdict that is not "more" must
 * be the same, or detection would depend on how the packets were cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../dissectors/probe.h"
#include "../../src/detect.h"
#include "evlog.h"

/* What a conversation's first bytes came to: a dissector, none, or no verdict yet. */
struct verdict {
	enum probe_verdict v;
	const char *name; /* the dissector's, when v is PROBE_YES */
};

struct held {
	uint8_t buf[DIR_COUNT][DETECT_MAX];
	size_t n[DIR_COUNT];
	bool overflow;
};

/* As src/detect.c decides: the first probe saying yes wins; no once all refused. */
static struct verdict decide(const struct held *h)
{
	struct bytes to_server = bytes_of(h->buf[DIR_TO_SERVER], h->n[DIR_TO_SERVER]);
	struct bytes to_client = bytes_of(h->buf[DIR_TO_CLIENT], h->n[DIR_TO_CLIENT]);
	enum probe_verdict v[16];
	assert_true(n_dissectors <= 16);
	for (size_t i = 0; i < n_dissectors; i++)
		v[i] = dissectors[i]->probe ? dissectors[i]->probe(to_server, to_client) : PROBE_NO;
	struct verdict out = { PROBE_NO, NULL };
	for (size_t i = n_dissectors; i-- > 0 && !h->overflow;) {
		if (v[i] == PROBE_YES)
			out = (struct verdict){ PROBE_YES, dissectors[i]->name };
		else if (v[i] == PROBE_MORE && out.v == PROBE_NO)
			out.v = PROBE_MORE;
	}
	return out;
}

static void hold(struct held *h, enum dir dir, const char *p, size_t n)
{
	if (n > DETECT_MAX - h->n[dir]) {
		h->overflow = true; /* no verdict within the bound: detect.c gives up */
		return;
	}
	memcpy(h->buf[dir] + h->n[dir], p, n);
	h->n[dir] += n;
}

/* Feeds the steps in order, `piece` bytes at a time (0: a step at a time). */
static struct verdict judge(const struct step *s, size_t n, size_t piece)
{
	struct held *h = calloc(1, sizeof(*h));
	assert_non_null(h);
	struct verdict v = { PROBE_MORE, NULL };
	for (size_t i = 0; i < n && v.v == PROBE_MORE; i++) {
		for (size_t off = 0; off < s[i].n && v.v == PROBE_MORE;) {
			size_t k = piece && piece < s[i].n - off ? piece : s[i].n - off;
			hold(h, s[i].dir, s[i].s + off, k);
			off += k;
			v = decide(h);
		}
	}
	free(h);
	return v;
}

/* Asserts the verdict (want: a dissector name, or NULL for "not POP"), in both cuttings. */
static void expect_detect(const struct step *s, size_t n, enum probe_verdict want_v,
			  const char *want)
{
	struct verdict steps = judge(s, n, 0), bytes = judge(s, n, 1);
	assert_int_equal(steps.v, bytes.v);
	assert_true(steps.name == bytes.name);
	assert_int_equal(steps.v, want_v);
	if (want)
		assert_string_equal(steps.name, want);
}

#define EXPECT(steps, v, name) expect_detect(steps, sizeof(steps) / sizeof(steps[0]), v, name)

static void pop3_is_found_by_greeting_and_a_command_valid_before_login(void **unused)
{
	(void)unused;
	static const struct step capa[] = { S("+OK POP3 ready\r\n"), C("CAPA\r\n"), S("+OK\r\n") };
	static const struct step user[] = { S("+OK ready <1.2@x>\r\n"), C("user alice\r\n") };
	static const struct step auth[] = { S("+OK\r\n"), C("AUTH PLAIN\r\n") };
	static const struct step client_first[] = { C("USER a\r\n"), S("+OK hello\r\n") };
	EXPECT(capa, PROBE_YES, "pop3");
	EXPECT(user, PROBE_YES, "pop3");
	EXPECT(auth, PROBE_YES, "pop3");
	EXPECT(client_first, PROBE_YES, "pop3");
}

static void pop3_needs_both_sides_so_look_alikes_stay_out(void **unused)
{
	(void)unused;
	/* STAT needs a login: no client opens with it. */
	static const struct step stat[] = { S("+OK ready\r\n"), C("STAT\r\n"), S("+OK 0 0\r\n") };
	/* Redis answers +OK too, but its client never sends a POP3 command. */
	static const struct step redis[] = { C("SET k v\r\n"), S("+OK\r\n") };
	static const struct step smtp[] = { S("220 mx ESMTP\r\n"), C("EHLO x\r\n") };
	/* "CAPABILITY" and "USERS" begin like POP3 commands but are other words. */
	static const struct step imap[] = { S("+OK\r\n"), C("CAPABILITY\r\n") };
	static const struct step users[] = { S("+OK\r\n"), C("USERS\r\n") };
	EXPECT(stat, PROBE_NO, NULL);
	EXPECT(redis, PROBE_NO, NULL);
	EXPECT(smtp, PROBE_NO, NULL);
	EXPECT(imap, PROBE_NO, NULL);
	EXPECT(users, PROBE_NO, NULL);
}

static void pop3_waits_for_whole_lines(void **unused)
{
	(void)unused;
	static const struct step half[] = { S("+OK ready\r\n"), C("USE") };
	static const struct step greeting_only[] = { S("+OK ready\r\n") };
	EXPECT(half, PROBE_MORE, NULL);
	EXPECT(greeting_only, PROBE_MORE, NULL);
	assert_int_equal(pop3_probe(BYTES_NONE, BYTES_NONE), PROBE_MORE);
}

static void pop2_is_found_by_its_greeting(void **unused)
{
	(void)unused;
	static const struct step helo[] = { S("+ POP2 host ready\r\n"), C("HELO bob secret\r\n") };
	static const struct step quiet[] = { S("+ POP2 host ready\r\n") };
	/* A client line that is no POP2 command, before the greeting: not POP2. */
	static const struct step other[] = { C("EHLO x\r\n"), S("+ POP2 host ready\r\n") };
	static const struct step pop3[] = { S("+ POP3 ready\r\n"), C("USER a\r\n") };
	EXPECT(helo, PROBE_YES, "pop2");
	EXPECT(quiet, PROBE_YES, "pop2");
	EXPECT(other, PROBE_NO, NULL);
	EXPECT(pop3, PROBE_NO, NULL);
}

/* A v4 ticket that holds POP3-looking text: it is skipped by its length, never read. */
#define V4_TICKET "\x01\x02USER evil\r\nPASS stolen\r\n\x03\x04"
_Static_assert(sizeof(V4_TICKET) - 1 == 0x1c, "v4 ticket length");
static const char v4_preamble[] = "AUTHV0.1KPOPV0.1\0\0\0\x1c" V4_TICKET;

static void kpop_v4_preamble_then_pop3_is_kpop(void **unused)
{
	(void)unused;
	const struct step v4[] = {
		{ DIR_TO_SERVER, v4_preamble, sizeof(v4_preamble) - 1 },
		S("+OK KPOP server ready\r\n"), C("USER joe\r\n"), S("+OK\r\n"),
	};
	/* Mutual authentication: the server's len32 krb_priv comes before its greeting. */
	const struct step mutual[] = {
		{ DIR_TO_SERVER, v4_preamble, sizeof(v4_preamble) - 1 },
		{ DIR_TO_CLIENT, "\0\0\0\x04PRIV+OK ready\r\n", 19 },
	};
	EXPECT(v4, PROBE_YES, "kpop");
	EXPECT(mutual, PROBE_YES, "kpop");
	/* Alone, the POP3 probe refuses it: "AUTHV0.1..." is not the AUTH command. */
	struct bytes cl = bytes_of(v4_preamble, sizeof(v4_preamble) - 1);
	struct bytes sv = bytes_of("+OK KPOP server ready\r\n", 23);
	assert_int_equal(pop3_probe(cl, sv), PROBE_NO);
	assert_int_equal(kpop_probe(cl, sv), PROBE_YES);
}

#define V5_HELLO "\0\0\0\x13KRB5_SENDAUTH_V1.0\0\0\0\0\x09KPOPV1.0\0"
#define V5_APREQ "\0\0\0\x14\x6e\x12\x30\x10" "0123456789abcdef"

static void kpop_v5_preamble_then_pop3_is_kpop(void **unused)
{
	(void)unused;
	static const struct step v5[] = {
		{ DIR_TO_SERVER, V5_HELLO, sizeof(V5_HELLO) - 1 },
		{ DIR_TO_CLIENT, "\0", 1 },
		{ DIR_TO_SERVER, V5_APREQ, sizeof(V5_APREQ) - 1 },
		{ DIR_TO_CLIENT, "\0\0\0\0+OK ready\r\n", 15 },
		C("USER joe\r\n"),
	};
	EXPECT(v5, PROBE_YES, "kpop");
}

static void kpop_needs_a_sound_preamble_and_a_greeting(void **unused)
{
	(void)unused;
	/* A length no Kerberos message has. */
	static const struct step absurd[] = {
		{ DIR_TO_SERVER, "AUTHV0.1KPOPV0.1\xff\xff\xff\xff", 20 }, S("+OK\r\n"),
	};
	/* The server refuses after the preamble. */
	static const struct step refused[] = {
		{ DIR_TO_SERVER, V5_HELLO, sizeof(V5_HELLO) - 1 },
		{ DIR_TO_CLIENT, "\0", 1 },
		{ DIR_TO_SERVER, V5_APREQ, sizeof(V5_APREQ) - 1 },
		{ DIR_TO_CLIENT, "\0\0\0\0-ERR go away\r\n", 18 },
	};
	EXPECT(absurd, PROBE_MORE, NULL); /* POP3 waits for a whole client line; KPOP refuses: */
	assert_int_equal(kpop_probe(bytes_of("AUTHV0.1KPOPV0.1\xff\xff\xff\xff", 20),
				    bytes_of("+OK\r\n", 5)), PROBE_NO);
	EXPECT(refused, PROBE_NO, NULL);
	/* The server spoke before the client's first 16 bytes: a POP3 greeting. */
	assert_int_equal(kpop_probe(bytes_of("AUTHV0", 6), bytes_of("+OK\r\n", 5)), PROBE_NO);
	/* The greeting came, but the client's preamble is not over: no verdict yet. */
	assert_int_equal(kpop_probe(bytes_of("AUTHV0.1KPOPV0.1\0\0\0\x05TI", 22),
				    bytes_of("+OK\r\n", 5)), PROBE_MORE);
}

/* A v5 AP-REQ too long for the bytes detect.c holds cannot be followed to the greeting. */
static void kpop_beyond_the_held_bytes_is_not_found(void **unused)
{
	(void)unused;
	static char apreq[4 + DETECT_MAX];
	memset(apreq, 'x', sizeof(apreq));
	apreq[0] = apreq[1] = 0;
	apreq[2] = (char)(DETECT_MAX >> 8);
	apreq[3] = (char)(DETECT_MAX & 0xff);
	const struct step big[] = {
		{ DIR_TO_SERVER, V5_HELLO, sizeof(V5_HELLO) - 1 },
		{ DIR_TO_CLIENT, "\0", 1 },
		{ DIR_TO_SERVER, apreq, sizeof(apreq) },
		{ DIR_TO_CLIENT, "\0\0\0\0+OK ready\r\n", 15 },
	};
	EXPECT(big, PROBE_NO, NULL);
}

/* probe_pickup's verdict on one segment's start: "pop3>" client, "pop3<" server, "pop2<", or "". */
static const char *pickup(const char *seg)
{
	const struct dissector *d = NULL;
	enum dir sender;
	if (!probe_pickup(bytes_of(seg, strlen(seg)), &d, &sender))
		return "";
	if (d == &pop2_dissector)
		return sender == DIR_TO_CLIENT ? "pop2<" : "pop2>";
	return sender == DIR_TO_SERVER ? "pop3>" : "pop3<";
}

static void midstream_pickup_takes_only_lines_no_other_protocol_sends(void **unused)
{
	(void)unused;
	static const char *const yes[][2] = {
		{ "RETR 1\r\n", "pop3>" }, { "TOP 3 0\r\n", "pop3>" }, { "UIDL\r\n", "pop3>" },
		{ "uidl 7\r\n", "pop3>" }, { "CAPA\r\n", "pop3>" }, { "STLS\r\n", "pop3>" },
		{ "DELE 12\r\n", "pop3>" }, { "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n", "pop3>" },
		{ "+OK 1234 octets\r\nFrom: x\r\n", "pop3<" }, { "+OK 3 21223\r\n", "pop3<" },
		{ "+OK POP3 server ready\r\n", "pop3<" }, { "-ERR [AUTH] Authentication failed.\r\n", "pop3<" },
		{ "+ POP2 host ready\r\n", "pop2<" },
	};
	static const char *const no[] = {
		"USER anonymous\r\n", "PASS x\r\n", "+OK\r\n", "+OK ready\r\n", "RETR file.txt\r\n",
		"LIST\r\n", "STAT\r\n", "QUIT\r\n", "-ERR no\r\n", "GET / HTTP/1.1\r\n", "RETR 1",
		"APOP mrose nothex\r\n", "TOP 1\r\n", "+OK 12 bytes\r\n",
	};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_string_equal(pickup(yes[i][0]), yes[i][1]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_string_equal(pickup(no[i]), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pop3_is_found_by_greeting_and_a_command_valid_before_login),
		cmocka_unit_test(pop3_needs_both_sides_so_look_alikes_stay_out),
		cmocka_unit_test(pop3_waits_for_whole_lines),
		cmocka_unit_test(pop2_is_found_by_its_greeting),
		cmocka_unit_test(kpop_v4_preamble_then_pop3_is_kpop),
		cmocka_unit_test(kpop_v5_preamble_then_pop3_is_kpop),
		cmocka_unit_test(kpop_needs_a_sound_preamble_and_a_greeting),
		cmocka_unit_test(kpop_beyond_the_held_bytes_is_not_found),
		cmocka_unit_test(midstream_pickup_takes_only_lines_no_other_protocol_sends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
