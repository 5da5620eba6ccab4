/*
 * probe.c - content detection of POP3, KPOP and POP2 on any port (--detect):
 * the probes the registry (registry.c) lists with each dissector. Owns no
 * state: each probe judges the first bytes of both directions afresh, from
 * complete lines (and, for KPOP, complete length-prefixed fields) only, so the
 * verdict never depends on how the bytes arrived.
 *
 * A POP3 server speaks first with "+OK", and its client's first line is a
 * POP3 command valid before login (the command table, pop3_cmds.def).
 * Requiring BOTH sides keeps look-alikes out: a Redis server also answers
 * "+OK", but its client never sends USER or CAPA (Zeek's redis-50-pings
 * capture is the test). A POP2 server greets with "+ POP2", and its client's
 * first line, once there, is a POP2 command (pop2_cmds.def). A KPOP client
 * opens with a Kerberos v4 or v5 sendauth preamble, walked by its length
 * fields (kpop.c), and after the server's side of it comes a POP3 greeting;
 * the whole preamble must fit the bytes the engine holds (DETECT_MAX).
 *
 * A connection whose capture starts mid-stream has no greeting to judge:
 * probe_pickup() judges one line instead, and only a line that can only be
 * POP: a client command that only POP3 has (CAPA, UIDL, STLS, APOP with a
 * digest, TOP/RETR/DELE/LIST with message numbers, LAST, RPOP), or a server
 * line only a POP3 server writes ("+OK" naming POP3, "+OK n octets", "+OK n
 * m" after STAT, a "-ERR [AUTH]"-style RFC 2449/3206 code) or a POP2 "+ POP2".
 */
#include "probe.h"

#include "bstr.h"
#include "kpop.h"
#include "lineproto.h"

/* The command tables as the probes read them: keywords, and POP3's TRANSACTION-only flag. */
static const struct lp_cmd pop3_cmds[] = {
#define POP3_CMD(id, kw, ml, tr) { kw, 0, tr },
#include "pop3_cmds.def"
#undef POP3_CMD
};

static const struct lp_cmd pop2_cmds[] = {
#define POP2_CMD(id, kw, reply, allowed) { kw, 0, 0 },
#include "pop2_cmds.def"
#undef POP2_CMD
};

/* The first complete line of b without its line end; false when there is none yet. */
static bool probe_line(struct bytes b, struct bytes *line)
{
	const uint8_t *lf = b.n ? memchr(b.p, '\n', b.n) : NULL;
	if (!lf)
		return false;
	size_t n = (size_t)(lf - b.p);
	if (n > 0 && b.p[n - 1] == '\r')
		n--;
	*line = bytes_of(b.p, n);
	return true;
}

/* A POP3 command a client may send before logging in. */
static bool pop3_opens_session(struct bytes line)
{
	int n = (int)ARRAY_LEN(pop3_cmds);
	int id = lp_command(pop3_cmds, n, line.p, line.n);
	return id < n && !pop3_cmds[id].flags;
}

static bool pop2_is_command(struct bytes line)
{
	int n = (int)ARRAY_LEN(pop2_cmds);
	return lp_command(pop2_cmds, n, line.p, line.n) < n;
}

/* The server's first line: a positive POP3 greeting, or not; MORE until it is whole. */
static enum probe_verdict probe_pop3_greeting(struct bytes to_client)
{
	struct bytes sl;
	if (!probe_line(to_client, &sl))
		return PROBE_MORE;
	return bytes_has_prefix_ci(sl.p, sl.n, "+OK") ? PROBE_YES : PROBE_NO;
}

enum probe_verdict pop3_probe(struct bytes to_server, struct bytes to_client)
{
	struct bytes cl;
	bool have_cl = probe_line(to_server, &cl);
	enum probe_verdict server = probe_pop3_greeting(to_client);
	if (server == PROBE_NO || (have_cl && !pop3_opens_session(cl)))
		return PROBE_NO;
	return server == PROBE_YES && have_cl ? PROBE_YES : PROBE_MORE;
}

enum probe_verdict pop2_probe(struct bytes to_server, struct bytes to_client)
{
	struct bytes sl, cl;
	if (probe_line(to_server, &cl) && !pop2_is_command(cl))
		return PROBE_NO;
	if (!probe_line(to_client, &sl))
		return PROBE_MORE;
	return sl.n >= 6 && memcmp(sl.p, "+ POP2", 6) == 0 ? PROBE_YES : PROBE_NO;
}

/*
 * KPOP: the server greets only after the client's whole preamble, so both
 * sides' preambles must be walked to their end, the server must have accepted
 * (v5's status byte and error length both 0), and a "+OK" line must follow.
 */
enum probe_verdict kpop_probe(struct bytes to_server, struct bytes to_client)
{
	struct kpop k;
	kpop_init(&k, true, false);
	kpop_feed(&k, DIR_TO_SERVER, to_server.p, to_server.n);
	if (k.result == KPOP_RESULT_PENDING && to_client.n == 0)
		return PROBE_MORE;
	/* A server that spoke before the client's first 16 bytes greeted: not KPOP. */
	size_t used = kpop_feed(&k, DIR_TO_CLIENT, to_client.p, to_client.n);
	if (k.result == KPOP_RESULT_PENDING)
		return PROBE_MORE;
	if (k.result != KPOP_RESULT_OK)
		return PROBE_NO;
	return probe_pop3_greeting(bytes_of(to_client.p + used, to_client.n - used));
}

/* ---- mid-stream pickup (--detect) ---------------------------------------- */

/* s[0..n) is one or more decimal digits, each group separated by one space; groups counted. */
static size_t probe_numbers(const uint8_t *s, size_t n)
{
	size_t groups = 0, i = 0;
	while (i < n) {
		size_t start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || (i < n && s[i] != ' '))
			return 0;
		groups++;
		i += i < n;
	}
	return groups;
}

/* The argument of a command line: after its keyword and one space (empty when none). */
static struct bytes probe_arg(struct bytes line, size_t kw)
{
	return line.n > kw + 1 ? bytes_of(line.p + kw + 1, line.n - kw - 1) : bytes_of(line.p, 0);
}

/* APOP name digest: a name, then 32 lowercase hex digits (RFC 1939 §7). */
static bool probe_apop_args(struct bytes a)
{
	const uint8_t *sp = a.n ? memrchr(a.p, ' ', a.n) : NULL;
	if (!sp || a.p + a.n - (sp + 1) != 32)
		return false;
	for (const uint8_t *p = sp + 1; p < a.p + a.n; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return sp > a.p;
}

/* A client line only a POP3 client sends. */
static bool probe_pop3_only_command(struct bytes line)
{
	static const struct { const char *kw; size_t args; } only[] = {
		{ "CAPA", 0 }, { "UIDL", 0 }, { "UIDL", 1 }, { "STLS", 0 }, { "LAST", 0 },
		{ "TOP", 2 }, { "RETR", 1 }, { "DELE", 1 }, { "LIST", 1 },
	};
	for (size_t i = 0; i < ARRAY_LEN(only); i++) {
		size_t kw = strlen(only[i].kw);
		if (!bytes_has_prefix_ci(line.p, line.n, only[i].kw) || (line.n > kw && line.p[kw] != ' '))
			continue;
		struct bytes a = probe_arg(line, kw);
		if (only[i].args == 0 ? line.n == kw : probe_numbers(a.p, a.n) == only[i].args)
			return true;
	}
	if (bytes_has_prefix_ci(line.p, line.n, "APOP "))
		return probe_apop_args(probe_arg(line, 4));
	return bytes_has_prefix_ci(line.p, line.n, "RPOP ");
}

/* A server line only a POP3 server writes. */
static bool probe_pop3_only_reply(struct bytes line)
{
	static const char *const codes[] = { "-ERR [AUTH]", "-ERR [IN-USE]", "-ERR [LOGIN-DELAY",
					     "-ERR [SYS/TEMP]", "-ERR [SYS/PERM]" };
	for (size_t i = 0; i < ARRAY_LEN(codes); i++)
		if (bytes_has_prefix_ci(line.p, line.n, codes[i]))
			return true;
	if (!bytes_has_prefix_ci(line.p, line.n, "+OK ") || line.n < 5)
		return false;
	struct bytes rest = bytes_of(line.p + 4, line.n - 4);
	if (memmem_ci(rest.p, rest.n, "POP3"))
		return true;
	const uint8_t *sp = memchr(rest.p, ' ', rest.n);
	size_t first = sp ? (size_t)(sp - rest.p) : rest.n;
	if (probe_numbers(rest.p, first) != 1 || !sp)
		return false;
	/* "+OK 1234 octets" (RETR) or "+OK 3 21223" (STAT) */
	struct bytes tail = bytes_of(sp + 1, rest.n - first - 1);
	return (tail.n >= 6 && bytes_has_prefix_ci(tail.p, tail.n, "octets")) ||
	       probe_numbers(tail.p, tail.n) == 1;
}

bool probe_pickup(struct bytes payload, const struct dissector **which, enum dir *sender)
{
	struct bytes line;
	if (payload.n > PROBE_PICKUP_MAX)
		payload.n = PROBE_PICKUP_MAX;
	if (!probe_line(payload, &line) || line.n < 4)
		return false;
	if (line.n >= 6 && memcmp(line.p, "+ POP2", 6) == 0) {
		*which = &pop2_dissector;
		*sender = DIR_TO_CLIENT;
		return true;
	}
	*which = &pop3_dissector;
	if (probe_pop3_only_reply(line)) {
		*sender = DIR_TO_CLIENT;
		return true;
	}
	*sender = DIR_TO_SERVER;
	return probe_pop3_only_command(line);
}
