/*
 * bruteforce.h - login failures tracked across sessions, per client address:
 * brute force (many failures) and password spraying (many user names).
 */
#ifndef POPSIFT_BRUTEFORCE_H
#define POPSIFT_BRUTEFORCE_H

#include <stddef.h>
#include <sys/time.h>

#include "records.h"

#define BF_DEFAULT_FAILURES 10 /* failures from one client within the window */
#define BF_DEFAULT_USERS 5     /* distinct user names failing from one client */
#define BF_DEFAULT_WINDOW 300  /* seconds */

struct bf_policy {
	unsigned failures; /* 0: brute-force alert off */
	unsigned users;    /* 0: password-spray alert off */
	unsigned window;
};

struct bruteforce;

/* NULL only when out of memory. */
struct bruteforce *bf_new(const struct bf_policy *policy);
void bf_free(struct bruteforce *bf);
/*
 * Records one credential failure of `user` from `client` at `now` (capture
 * time); fills out[] with the alerts it raises (each at most once per client
 * and window) and returns how many. Their counts (the failures, window, times
 * and user names) point into bf: valid until the next call.
 */
size_t bf_failure(struct bruteforce *bf, const char *client, struct bytes user,
		  struct timeval now, struct alert_record out[2]);

#endif
