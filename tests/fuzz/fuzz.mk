# tests/fuzz/fuzz.mk - libFuzzer harnesses, included by the top Makefile.
#
#   make fuzz-build   build every harness into build/fuzz/ (clang: libFuzzer, ASan, UBSan)
#   make fuzz         run each harness for FUZZ_SECONDS (default 180) on its corpus
#   make fuzz-smoke   replay tests/fuzz/regressions/ and the corpora, then fuzz each
#                     harness for FUZZ_SMOKE_SECONDS (default 60); `make check` runs it
#   make fuzz-corpus  regenerate tests/fuzz/corpus/ from samples/ and tests/e2e/captures/
#
# FUZZ_JOBS harnesses run at once (default: the number of CPUs). New corpus entries
# go to build/fuzz/corpus/<harness>/ (kept between runs, never committed); a crash
# leaves its input in build/fuzz/artifacts/ and fails the run.

FUZZ_CC        ?= clang
FUZZ_BUILD     := build/fuzz
FUZZ_SAN       := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OPT       := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
# pop3, pop2 and kpop are one source, fuzz_dissector.c, built once per dissector;
# sasl, capture, capfile, tls and report have their own (fuzz_<name>.c).
FUZZ_DISSECTORS := pop3 pop2 kpop
FUZZ_HARNESSES := $(FUZZ_DISSECTORS) sasl capture capfile tls report
FUZZ_BINS      := $(FUZZ_HARNESSES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_HELPERS   := tests/fuzz/fuzz_input.c tests/fuzz/fuzz_input.h
FUZZ_CFLAGS     = -std=gnu11 -D_GNU_SOURCE $(FUZZ_OPT) -fsanitize=fuzzer $(WARN) $(PKG_CFLAGS) \
		  $(VERSION_DEF)
FUZZ_SECONDS       ?= 180
FUZZ_SMOKE_SECONDS ?= 60
FUZZ_JOBS          ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: fuzz-build fuzz fuzz-smoke fuzz-corpus

# The library is built by the top Makefile's own rules into build/fuzz/, with
# coverage instrumentation but without libFuzzer's main().
fuzz-build:
	@$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
		OPT="$(FUZZ_OPT) -fsanitize=fuzzer-no-link" $(FUZZ_BUILD)/libpopsift.a
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

$(FUZZ_DISSECTORS:%=$(FUZZ_BUILD)/fuzz_%): $(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_dissector.c \
		$(FUZZ_HELPERS) $(FUZZ_BUILD)/libpopsift.a | build-deps
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DFUZZ_DISSECTOR=$*_dissector \
		-o $@ $< tests/fuzz/fuzz_input.c $(FUZZ_BUILD)/libpopsift.a $(LIBS)

$(FUZZ_BUILD)/fuzz_sasl $(FUZZ_BUILD)/fuzz_capture $(FUZZ_BUILD)/fuzz_capfile $(FUZZ_BUILD)/fuzz_report \
		$(FUZZ_BUILD)/fuzz_tls: $(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c \
		$(FUZZ_HELPERS) $(FUZZ_BUILD)/libpopsift.a | build-deps
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< tests/fuzz/fuzz_input.c $(FUZZ_BUILD)/libpopsift.a $(LIBS)

fuzz: fuzz-build
	@tests/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_HARNESSES)

fuzz-smoke: fuzz-build
	@tests/fuzz/run.sh smoke $(FUZZ_SMOKE_SECONDS) $(FUZZ_JOBS) $(FUZZ_HARNESSES)

fuzz-corpus:
	@python3 tests/fuzz/make-corpus.py
