/*
 * probe.c - content detection of POP3 and POP2 on any port (--detect): the
 * probes the registry (registry.c) lists with each dissector.
 *
 * A POP3 server speaks first with "+OK", and its client's first line is a
 * POP3 command; a POP2 server greets with "+ POP2". Requiring BOTH sides keeps
 * look-alikes out: a Redis server also answers "+OK", but its client never
 * sends USER or CAPA (Zeek's redis-50-pings capture is the test).
 */
#include "probe.h"

#include "bstr.h"

/* Commands a POP client can open with (after the greeting). */
static const char *const pop_openers[] = {
	"USER ", "APOP ", "AUTH", "CAPA", "STLS", "RPOP ", "UTF8", "LANG", "HELO ",
};

/* Length of the first complete line, or 0 when there is none yet. */
static size_t probe_line(struct bytes b)
{
	const uint8_t *lf = b.n ? memchr(b.p, '\n', b.n) : NULL;
	return lf ? (size_t)(lf - b.p) + 1 : 0;
}

static bool probe_is_opener(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(pop_openers); i++)
		if (bytes_has_prefix_ci(p, n, pop_openers[i]))
			return true;
	return false;
}

enum probe_verdict pop3_probe(struct bytes to_server, struct bytes to_client)
{
	size_t sl = probe_line(to_client), cl = probe_line(to_server);
	if (sl >= 6 && memcmp(to_client.p, "+ POP2", 6) == 0)
		return PROBE_NO;
	if (sl && (sl < 3 || strncasecmp((const char *)to_client.p, "+OK", 3) != 0))
		return PROBE_NO;
	if (cl && !probe_is_opener(to_server.p, cl))
		return PROBE_NO;
	return sl && cl ? PROBE_YES : PROBE_MORE;
}

enum probe_verdict pop2_probe(struct bytes to_server, struct bytes to_client)
{
	(void)to_server;
	size_t sl = probe_line(to_client);
	if (!sl)
		return PROBE_MORE;
	return sl >= 6 && memcmp(to_client.p, "+ POP2", 6) == 0 ? PROBE_YES : PROBE_NO;
}
