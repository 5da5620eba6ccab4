/*
 * bruteforce.c - brute-force and password-spray detection over the whole
 * input. Owns a table of client addresses, bounded (BF_SLOTS): when a probe
 * run is full the entry seen longest ago is reused, so a flood of sources
 * costs a fixed amount of memory. Windows are fixed, starting at a client's
 * first failure, in capture time (so offline and live behave alike). Each
 * entry counts its window's failures and distinct user names (BF_USERS_MAX)
 * and keeps the first ALERT_USERS_LISTED names, so an alert can say whom the
 * failures tried, how many, and when (docs/events.md, Alert signatures).
 */
#include "bruteforce.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BF_SLOTS 65536 /* power of two */
#define BF_PROBE 16
#define BF_USERS_MAX 64 /* distinct user names counted per client and window */
#define BF_NAME_MAX 64  /* octets of each listed user name kept */

/* The names an alert lists, allocated on a client's first failure only. */
struct bf_names {
	uint8_t name[ALERT_USERS_LISTED][BF_NAME_MAX];
	uint8_t len[ALERT_USERS_LISTED];
};

struct bf_client {
	char ip[48];       /* "" = empty slot */
	struct timeval first, last;
	unsigned failures;
	uint32_t users[BF_USERS_MAX];
	unsigned n_users;
	struct bf_names *names; /* the first ALERT_USERS_LISTED of users[] */
	bool brute_raised, spray_raised;
	struct alert_counts counts; /* what the latest alert carries */
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
	for (size_t i = 0; i < BF_SLOTS; i++)
		free(bf->slots[i].names);
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

/* Empties an entry for a new window (or a new client), keeping its name buffer. */
static void bf_reset(struct bf_client *c, const char *ip)
{
	struct bf_names *names = c->names;
	memset(c, 0, sizeof(*c));
	c->names = names;
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
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
		if (!c->ip[0] || !stalest || timercmp(&c->last, &stalest->last, <))
			stalest = c;
		if (!c->ip[0])
			break;
	}
	bf_reset(stalest, ip);
	return stalest;
}

/* Counts a user name once per window; the first ALERT_USERS_LISTED are kept to be listed. */
static void bf_note_user(struct bf_client *c, struct bytes user)
{
	uint32_t h = bf_hash(user.p, user.n);
	for (unsigned i = 0; i < c->n_users; i++)
		if (c->users[i] == h)
			return;
	if (c->n_users >= BF_USERS_MAX)
		return;
	if (c->n_users < ALERT_USERS_LISTED && (c->names || (c->names = malloc(sizeof(*c->names))))) {
		size_t n = user.n < BF_NAME_MAX ? user.n : BF_NAME_MAX;
		if (n)
			memcpy(c->names->name[c->n_users], user.p, n);
		c->names->len[c->n_users] = (uint8_t)n;
	}
	c->users[c->n_users++] = h;
}

/* The counts an alert of c's carries, pointing into c. */
static const struct alert_counts *bf_counts(struct bf_client *c, unsigned window)
{
	struct alert_counts *k = &c->counts;
	*k = (struct alert_counts){ .failures = c->failures, .window = window, .first = c->first,
				    .last = c->last, .users_total = c->n_users };
	for (unsigned i = 0; c->names && i < c->n_users && i < ALERT_USERS_LISTED; i++)
		k->users[k->n_users++] = bytes_of(c->names->name[i], c->names->len[i]);
	return k;
}

size_t bf_failure(struct bruteforce *bf, const char *client, struct bytes user,
		  struct timeval now, struct alert_record out[2])
{
	struct bf_client *c = bf_slot(bf, client);
	if (c->failures == 0 || now.tv_sec - c->first.tv_sec > (time_t)bf->policy.window) {
		bf_reset(c, client);
		c->first = now;
	}
	c->last = now;
	c->failures++;
	bf_note_user(c, user);
	size_t n = 0;
	if (bf->policy.failures && c->failures >= bf->policy.failures && !c->brute_raised) {
		c->brute_raised = true;
		out[n++] = (struct alert_record){
			.signature = "brute-force", .severity = 1,
			/* one name when every failure tried it; else the list says who */
			.username = c->n_users == 1 ? user : BYTES_NONE,
			.description = "many failed logins from one client within the window",
			.counts = bf_counts(c, bf->policy.window),
		};
	}
	if (bf->policy.users && c->n_users >= bf->policy.users && !c->spray_raised) {
		c->spray_raised = true;
		out[n++] = (struct alert_record){
			.signature = "password-spray", .severity = 1,
			.description = "failed logins for many user names from one client within the window",
			.counts = bf_counts(c, bf->policy.window),
		};
	}
	return n;
}
