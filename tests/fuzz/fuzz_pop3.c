/*
 * fuzz_pop3.c - libFuzzer harness for the POP3 dissector (dissectors/pop3.c,
 * with sasl*.c and linebuf.c behind it): both directions, any interleaving and
 * chunking, gaps, partial sessions, every end reason. Input format and checks:
 * fuzz_input.h. Run: make fuzz (or build/fuzz/fuzz_pop3 CORPUS_DIR).
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
	fuzz_run_dissector(&pop3_dissector, 110, data, size);
	return 0;
}
