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
