/*
 * fuzz_pop2.c - libFuzzer harness for the POP2 dissector (dissectors/pop2.c,
 * RFC 937, with linebuf.c): both directions, any interleaving and chunking,
 * gaps, partial sessions, every end reason. Input format and checks:
 * fuzz_input.h. Run: make fuzz (or build/fuzz/fuzz_pop2 CORPUS_DIR).
 */
#include "fuzz_input.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_run_dissector(&pop2_dissector, 109, data, size);
	return 0;
}
