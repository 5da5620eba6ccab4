/*
 * bruteforce.c - brute-force and password-spray detection over the whole
 * input. Owns a table of client addresses, bounded (BF_SLOTS): when a probe
 * run is full the entry seen longest ago is reused, so a flood of sources
 * costs a fixed amount of memory. Windows are fixed, starting at a client's
 * first failure, in capture time (so offline and live behave alike).
 */
#include "bruteforce.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BF_SLOTS 65536 /* power of two */
#define BF_PROBE 16
#define BF_USERS_MAX 64 /* distinct user names remembered per client */

struct bf_client {
	char ip[48];       /* "" = empty slot */
	time_t first, last;
	unsigned failures;
	uint32_t users[BF_USERS_MAX];
	unsigned n_users;
	bool brute_raised, spray_raised;
};

struct bruteforce {
	struct bf_policy policy;
	struct bf_client *slots;
};

struct bruteforce *bf_new(const struct bf_policy *policy)
{
	struct bruteforce *bf = calloc(1, sizeof(*bf));
	if (!bf)
		return NULL;
	bf->policy = *policy;
	bf->slots = calloc(BF_SLOTS, sizeof(*bf->slots));
	if (!bf->slots) {
		free(bf);
		return NULL;
	}
	return bf;
}

void bf_free(struct bruteforce *bf)
{
	if (!bf)
		return;
	free(bf->slots);
	free(bf);
}

static uint32_t bf_hash(const void *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const uint8_t *)p)[i]) * 16777619u;
	return h;
}

/* The client's entry: found, or a free one, or the stalest in its probe run. */
static struct bf_client *bf_slot(struct bruteforce *bf, const char *ip)
{
	uint32_t h = bf_hash(ip, strlen(ip));
	struct bf_client *stalest = NULL;
	for (uint32_t i = 0; i < BF_PROBE; i++) {
		struct bf_client *c = &bf->slots[(h + i) & (BF_SLOTS - 1)];
		if (strcmp(c->ip, ip) == 0)
			return c;
		if (!c->ip[0] || !stalest || c->last < stalest->last)
			stalest = c;
		if (!c->ip[0])
			break;
	}
	memset(stalest, 0, sizeof(*stalest));
	snprintf(stalest->ip, sizeof(stalest->ip), "%s", ip);
	return stalest;
}

static void bf_note_user(struct bf_client *c, struct bytes user)
{
	uint32_t h = bf_hash(user.p, user.n);
	for (unsigned i = 0; i < c->n_users; i++)
		if (c->users[i] == h)
			return;
	if (c->n_users < BF_USERS_MAX)
		c->users[c->n_users++] = h;
}

size_t bf_failure(struct bruteforce *bf, const char *client, struct bytes user, time_t now,
		  struct alert_record out[2])
{
	struct bf_client *c = bf_slot(bf, client);
	if (c->failures == 0 || now - c->first > (time_t)bf->policy.window) {
		char ip[sizeof(c->ip)];
		memcpy(ip, c->ip, sizeof(ip));
		memset(c, 0, sizeof(*c));
		memcpy(c->ip, ip, sizeof(ip));
		c->first = now;
	}
	c->last = now;
	c->failures++;
	bf_note_user(c, user);
	size_t n = 0;
	if (bf->policy.failures && c->failures >= bf->policy.failures && !c->brute_raised) {
		c->brute_raised = true;
		out[n++] = (struct alert_record){
			.signature = "brute-force", .severity = 1, .username = user,
			.description = "many failed logins from one client within the window",
		};
	}
	if (bf->policy.users && c->n_users >= bf->policy.users && !c->spray_raised) {
		c->spray_raised = true;
		out[n++] = (struct alert_record){
			.signature = "password-spray", .severity = 1,
			.description = "failed logins for many user names from one client within the window",
		};
	}
	return n;
}
