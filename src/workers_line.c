/*
 * workers_line.c - the envelope reading of workers_line.h.
 */
#include "workers_line.h"

#include <stdlib.h>
#include <string.h>

#define WLINE_ENV_MAX 8192 /* json.c writes event_type after the addresses, the file name and frames */

/*
 * The first `key` in line[0..n) (it begins with a quote and a letter): a
 * plain loop, as the keys sought sit in an event's first hundred octets.
 */
static const char *wline_find(const char *line, size_t n, const char *key, size_t klen)
{
	if (n < klen)
		return NULL;
	const char *last = line + n - klen;
	for (const char *p = line; p <= last; p++)
		if (p[0] == '"' && p[1] == key[1] && memcmp(p, key, klen) == 0)
			return p;
	return NULL;
}

/* The number after `key` in line[0..n), or 0. */
static uint64_t wline_number(const char *line, size_t n, const char *key, size_t klen)
{
	const char *p = wline_find(line, n, key, klen);
	return p ? strtoull(p + klen, NULL, 10) : 0;
}

bool wline_envelope(const char *line, size_t n, struct wline_env *e)
{
	static const char key[] = "\"event_type\":\"";
	const char *t = wline_find(line, n < WLINE_ENV_MAX ? n : WLINE_ENV_MAX, key, sizeof(key) - 1);
	if (!t)
		return false;
	e->type = t + sizeof(key) - 1;
	size_t head = (size_t)(t - line);
	e->flow_id = wline_number(line, head, "\"flow_id\":", 10);
	e->pcap_cnt = wline_number(line, head, "\"pcap_cnt\":", 11);
	return true;
}

bool wline_is(const struct wline_env *e, const char *line, size_t n, const char *type)
{
	size_t len = strlen(type);
	return (size_t)(line + n - e->type) > len && memcmp(e->type, type, len) == 0 && e->type[len] == '"';
}

bool wline_failed_login(const struct wline_env *e, const char *line, size_t n)
{
	static const char failed[] = "\"result\":\"failure\"";
	return wline_is(e, line, n, "auth") &&
	       wline_find(e->type, (size_t)(line + n - e->type), failed, sizeof(failed) - 1);
}
