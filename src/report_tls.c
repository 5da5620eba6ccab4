/*
 * report_tls.c - see report_tls.h: names of TLS versions and cipher suites
 * turned back into the registry's numbers (src/tls/tls.h).
 */
#include "report_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"

uint16_t report_tls_version(void *ctx, const char *name)
{
	(void)ctx;
	for (unsigned v = 0x0300; v <= 0x03ff; v++) /* SSL 3.0 to TLS 1.3 and beyond: major 3 */
		if (strcmp(tls_version_name((uint16_t)v), name) == 0)
			return (uint16_t)v;
	return 0;
}

static int report_suite_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_suite *)a)->name, ((const struct report_suite *)b)->name);
}

static void report_suites_build(struct report_tls_names *t)
{
	t->built = true;
	size_t n = 0;
	for (unsigned c = 0; c <= 0xffff; c++)
		n += tls_suite_name((uint16_t)c) != NULL;
	t->rows = n ? malloc(n * sizeof(*t->rows)) : NULL;
	for (unsigned c = 0; t->rows && c <= 0xffff; c++)
		if (tls_suite_name((uint16_t)c))
			t->rows[t->n++] = (struct report_suite){ tls_suite_name((uint16_t)c), (uint16_t)c };
	if (t->n)
		qsort(t->rows, t->n, sizeof(*t->rows), report_suite_cmp);
}

uint16_t report_tls_suite(void *ctx, const char *name, unsigned *weakness)
{
	struct report_tls_names *t = ctx;
	unsigned code = 0;
	int end = 0;
	*weakness = 0;
	if (sscanf(name, "unknown(0x%4x)%n", &code, &end) == 1 && !name[end])
		return (uint16_t)code; /* none the registry names: no weakness known */
	if (!t->built)
		report_suites_build(t);
	const struct report_suite key = { name, 0 };
	const struct report_suite *row =
		t->n ? bsearch(&key, t->rows, t->n, sizeof(*t->rows), report_suite_cmp) : NULL;
	if (!row)
		return 0;
	*weakness = tls_suite_weakness(row->code);
	return row->code;
}

void report_tls_names_free(struct report_tls_names *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
	t->built = false;
}
