/*
 * fuzz_report.c - libFuzzer harness for `popsift report`'s reading of events:
 * the JSON reader (output/jsonr.c), the events read back into records
 * (output/evread.c, with src/report_tls.c's names of TLS versions and suites)
 * and every writer a report feeds (output/replay.c: the alerts, the text
 * summary, the mailbox report, the HTML report), on input
 * that is one NDJSON event per line, as popsift writes it or anything else.
 * Checks that nothing crashes, leaks or reads out of bounds, whatever a line
 * holds. Seeds: tests/fuzz/corpus/report/ (events of the bundled samples).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../output/evread.h"
#include "../../output/replay.h"
#include "../../src/report_tls.h"
#include "fuzz_input.h"

/* The TLS names as popsift report gives them; the suite table is built once, not per input. */
static struct report_tls_names names;

/* Every input gets its own reader; only the names are shared. */
void fuzz_harness_init(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	if (!fp)
		return 0;
	struct replay_config rc = { .fp = fp, .format = (size && data[0] & 1) ? REPLAY_TEXT : REPLAY_ALERTS,
				    .show_passwords = true, .mailbox_report = "-", .html = "/dev/null",
				    .bruteforce = { 2, 2, 300 } };
	struct evread *er = evread_new();
	struct replay *rp = er ? replay_open(&rc) : NULL;
	if (er)
		evread_set_tls_names(er, &(struct evread_tls_names){ report_tls_version, report_tls_suite,
								     &names });
	for (size_t at = 0; rp && at < size;) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t n = nl ? (size_t)(nl - data - at) : size - at;
		struct evread_event ev;
		char err[EVREAD_ERR_MAX];
		evread_line(er, (const char *)data + at, n, &ev, err);
		replay_event(rp, &ev);
		at += n + 1;
	}
	if (rp)
		replay_close(rp);
	evread_free(er);
	fclose(fp);
	free(buf);
	return 0;
}
