/*
 * fuzz_dissector.c - the libFuzzer harness of the stream dissectors, one source
 * compiled once per dissector (tests/fuzz/fuzz.mk): -DFUZZ_DISSECTOR=pop3_dissector
 * gives build/fuzz/fuzz_pop3, pop2_dissector fuzz_pop2, kpop_dissector fuzz_kpop.
 * The dissector sees its first default server port (its registry entry, so KPOP
 * is on 1109 and walks its preamble first) and gets both directions, any
 * interleaving and chunking, gaps, partial sessions and every end reason.
 * Input format and checks: fuzz_input.h. Each binary keeps its own corpus,
 * dictionary and regressions (tests/fuzz/corpus/<name>/, <name>.dict,
 * regressions/<name>/). Run: make fuzz (or build/fuzz/fuzz_pop3 CORPUS_DIR).
 */
#include "fuzz_input.h"

#ifndef FUZZ_DISSECTOR
#error "compile with -DFUZZ_DISSECTOR=<name>_dissector (tests/fuzz/fuzz.mk)"
#endif

void fuzz_harness_init(void)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run_dissector(&FUZZ_DISSECTOR, FUZZ_DISSECTOR.ports[0], data, size);
	return 0;
}
