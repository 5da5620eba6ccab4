/*
 * fuzz_kpop.c - libFuzzer harness for the KPOP dissector: the Kerberos
 * sendauth preamble walker (dissectors/kpop.c) in front of POP3, as on port
 * 1109. Both directions, any interleaving and chunking, gaps, partial
 * sessions, every end reason. Input format and checks: fuzz_input.h; the
 * seeds (make-corpus.py) hold v4 and v5 preambles followed by POP3.
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
	fuzz_run_dissector(&kpop_dissector, 1109, data, size);
	return 0;
}
