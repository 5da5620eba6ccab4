/*
 * evlog.h - test helper: an event sink that writes each event as one text line,
 * and a driver that feeds a scripted conversation to a dissector in every
 * chunking (whole, one byte at a time, every split point, random splits) and
 * asserts the logs are identical.
 */
#ifndef POPSIFT_TEST_EVLOG_H
#define POPSIFT_TEST_EVLOG_H

#include <stddef.h>

#include "../../dissectors/dissector.h"

struct step {
	enum dir dir;
	const char *s; /* string literal; NULL for a gap of n bytes */
	size_t n;      /* 0: strlen(s) */
};

#define C(str) { DIR_TO_SERVER, (str), sizeof(str) - 1 }
#define S(str) { DIR_TO_CLIENT, (str), sizeof(str) - 1 }
/* A gap: n bytes of direction d were lost on the wire. */
#define GAP(d, bytes) { (d), NULL, (bytes) }

/*
 * Runs `steps` through dissector d in every chunking; fails the test if any two
 * logs differ. Returns the log (malloc'd, caller frees).
 */
char *evlog_run(const struct dissector *d, const struct step *steps, size_t n, int partial);

/* Asserts that `needle` occurs in `log` (printing the log if not). */
void evlog_expect(const char *log, const char *needle);
void evlog_expect_not(const char *log, const char *needle);
/* Number of lines of `log` that begin with `prefix`. */
int evlog_count(const char *log, const char *prefix);

#endif
