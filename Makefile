# popsift - passive POP3/POP2 capture analyzer.
#
#   make            build build/popsift
#   make demo       install what is missing, build, run on a bundled sample
#   make check      install what is missing, build with ASan+UBSan, run every test
#   make unit       the unit tests (tests/unit/), built with ASan+UBSan
#   make e2e        the end-to-end suites (tests/e2e/) on the ASan+UBSan binary
#   make tools      build/popgen (samples/popgen.c) and build/hostile (tests/tools/hostile.c)
#   make install    PREFIX=/usr/local DESTDIR= (binary and man page)
#   make golden NAME=x   regenerate one end-to-end golden file (tests/e2e/LIST)
#
# unit, e2e and check end with one line: 'N passed, N failed, N skipped' (tests/run-all.sh).

# The one place the version is written: every build (popsift, tests, tools, fuzzing) gets it.
VERSION    := 0.1.0
VERSION_DEF := -DPOPSIFT_VERSION='"$(VERSION)"'
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man

CC         ?= cc
PKGS       := libpcap jansson libcrypto gmime-3.0 zlib libzstd liblz4 liblzma
# Sanitizer builds (SAN=1) go to their own tree so they never mix with release objects.
ifeq ($(SAN),1)
BUILD      ?= build/san
OPT        ?= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
else
BUILD      ?= build
OPT        ?= -O2 -g
endif

# libnids ships no pkg-config file; its .so brings libpcap, libnet and glib itself.
# A missing package is caught by build-deps below, before anything is compiled.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN       := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes
CFLAGS     ?=
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -pthread $(OPT) $(WARN) $(PKG_CFLAGS) $(VERSION_DEF) -MMD -MP $(CFLAGS)
ALL_LDFLAGS := $(OPT) $(LDFLAGS)
LIBS       := -lnids $(PKG_LIBS) -pthread

DISSECTOR_SRCS := $(wildcard dissectors/*.c)
OUTPUT_SRCS    := $(wildcard output/*.c)
ENGINE_SRCS    := $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard src/tls/*.c)
LIB_SRCS       := $(DISSECTOR_SRCS) $(OUTPUT_SRCS) $(ENGINE_SRCS)
LIB_OBJS       := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_SRCS      := $(wildcard tests/unit/test_*.c)
UNIT_BINS      := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELPERS   := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
TOOLS          := $(BUILD)/popgen $(BUILD)/hostile $(BUILD)/capdump

.PHONY: all deps build-deps demo check unit e2e unit-bins san-popsift install uninstall clean \
	golden tools hostile
all: $(BUILD)/popsift

# What the build needs and pkg-config cannot find (libnids has no .pc file: its header is
# looked for). Evaluated only when build-deps runs, i.e. when something is about to be built,
# so `make deps`, `make check` and `make demo` can install it first.
BUILD_DEPS_MISSING = $(shell for p in $(PKGS) cmocka; do \
	pkg-config --exists $$p 2>/dev/null || printf ' %s' $$p; done; \
	printf '\043include <nids.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 || printf ' libnids')

# Every compiling rule depends on it (order-only): a missing package stops the build at once
# with what to do, instead of a compiler error about a header.
build-deps:
	$(if $(strip $(BUILD_DEPS_MISSING)),$(error missing build dependencies:$(BUILD_DEPS_MISSING). \
	Run scripts/install-deps.sh (or make deps) as root or with password-less sudo, then make again))
	@:

$(BUILD)/obj/%.o: %.c | build-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libpopsift.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/popsift: $(BUILD)/obj/src/main.o $(BUILD)/libpopsift.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_HELPERS) $(BUILD)/libpopsift.a | build-deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(UNIT_HELPERS) $(BUILD)/libpopsift.a -lcmocka $(LIBS)

# The capture readers side by side, for tests/e2e/test_capfile.py and the benchmark.
$(BUILD)/capdump: tests/e2e/capdump.c $(BUILD)/libpopsift.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libpopsift.a $(LIBS)

# Tools for the tests and the benchmark: the capture generator (samples/popgen.md) and the
# hostile-capture writer (tests/e2e/test_hostile.py). Release flags, no sanitizer.
$(BUILD)/popgen: samples/popgen.c | build-deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) $(PKG_CFLAGS) $(VERSION_DEF) -o $@ $< $(PKG_LIBS)

$(BUILD)/hostile: tests/tools/hostile.c | build-deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 -g $(WARN) $(PKG_CFLAGS) $(VERSION_DEF) -o $@ $< $(PKG_LIBS)

tools: $(TOOLS)
	@:
hostile: $(BUILD)/hostile
	@:

deps:
	@scripts/install-deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@echo "== popsift -r samples/dovecot-pop3.pcap (passwords hidden; add --show-passwords) =="
	@./build/popsift -r samples/dovecot-pop3.pcap

# Every test, built with AddressSanitizer and UndefinedBehaviorSanitizer. Suites that need
# root (live capture, the private dovecot) are skipped with the reason when run as a user.
check: deps
	@$(MAKE) --no-print-directory all tools
	@$(MAKE) --no-print-directory SAN=1 unit-bins san-popsift
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run-all.sh build/san

# The unit tests alone (cmocka, tests/unit/), under ASan and UBSan.
unit:
	@$(MAKE) --no-print-directory SAN=1 unit-bins
	@tests/run-all.sh build/san unit

# The end-to-end suites and golden files alone, on the ASan+UBSan binary; test_hostile.py
# also runs the release binary (memory ceilings), test_engine.py needs build/popgen.
e2e:
	@$(MAKE) --no-print-directory all tools
	@$(MAKE) --no-print-directory SAN=1 san-popsift
	@tests/run-all.sh build/san e2e

unit-bins: $(UNIT_BINS) $(BUILD)/capdump
san-popsift: $(BUILD)/popsift

# Rewrites tests/e2e/expected/<file> of one tests/e2e/LIST entry from this build's output;
# `git diff tests/e2e/expected` then shows what changed.
golden: all
	$(if $(NAME),,$(error usage: make golden NAME=x, x a name in tests/e2e/LIST))
	@python3 tests/e2e/golden.py $(BUILD)/popsift --update $(NAME)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 build/popsift $(DESTDIR)$(BINDIR)/popsift
	if [ -f docs/popsift.1 ]; then install -m 0644 docs/popsift.1 $(DESTDIR)$(MANDIR)/man1/popsift.1; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/popsift $(DESTDIR)$(MANDIR)/man1/popsift.1

clean:
	rm -rf build

# Fuzzing (make fuzz, make fuzz-smoke) and the benchmark (make bench) live beside their code.
-include tests/fuzz/fuzz.mk
-include bench/bench.mk

-include $(shell find build -name '*.d' 2>/dev/null)
