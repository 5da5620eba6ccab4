/*
 * report_tls.h - the TLS layer's numbers behind the names a tls event carries
 * (its version and cipher suite), for the alert policy of `popsift report`:
 * output/evread.c takes them through evread_set_tls_names(), since output does
 * not include src/tls/. Used by src/report.c and the report fuzz harness.
 */
#ifndef POPSIFT_REPORT_TLS_H
#define POPSIFT_REPORT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct report_suite {
	const char *name;
	uint16_t code;
};

/* Every cipher suite the registry names, sorted by name: built at the first lookup. */
struct report_tls_names {
	struct report_suite *rows;
	size_t n;
	bool built;
};

/* A version's wire code by tls_version_name()'s name; 0 for "unknown". ctx unused. */
uint16_t report_tls_version(void *ctx, const char *name);
/*
 * A cipher suite's code and weakness by its IANA name or "unknown(0x....)"; 0
 * when neither. ctx: a struct report_tls_names, zeroed before the first call.
 */
uint16_t report_tls_suite(void *ctx, const char *name, unsigned *weakness);
void report_tls_names_free(struct report_tls_names *t);

#endif
