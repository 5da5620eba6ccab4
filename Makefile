# popsift - passive POP3/POP2 capture analyzer.
#
#   make            build build/popsift
#   make demo       install what is missing, build, run on a bundled sample
#   make check      install what is missing, build with ASan+UBSan, run every test
#   make install    PREFIX=/usr/local DESTDIR= (binary and man page)
#   make golden NAME=x   regenerate one end-to-end golden file (tests/e2e/LIST)

VERSION    := 0.1.0
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
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN       := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes
CFLAGS     ?=
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -pthread $(OPT) $(WARN) $(PKG_CFLAGS) -DPOPSIFT_VERSION='"$(VERSION)"' -MMD -MP $(CFLAGS)
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
TOOLS          := $(BUILD)/popgen $(BUILD)/capdump

.PHONY: all deps demo check unit e2e install uninstall clean golden tools
all: $(BUILD)/popsift

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libpopsift.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/popsift: $(BUILD)/obj/src/main.o $(BUILD)/libpopsift.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_HELPERS) $(BUILD)/libpopsift.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(UNIT_HELPERS) $(BUILD)/libpopsift.a -lcmocka $(LIBS)

# The capture readers side by side, for tests/e2e/test_capfile.py and the benchmark.
$(BUILD)/capdump: tests/e2e/capdump.c $(BUILD)/libpopsift.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libpopsift.a $(LIBS)

$(BUILD)/popgen: samples/popgen.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

tools: $(TOOLS)

deps:
	@scripts/install-deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@echo "== popsift -r samples/dovecot-pop3.pcap (passwords hidden; add --show-passwords) =="
	@./build/popsift -r samples/dovecot-pop3.pcap

# Every test, built with AddressSanitizer and UndefinedBehaviorSanitizer.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory SAN=1 unit-bins san-popsift
	@$(MAKE) --no-print-directory tools
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run-all.sh build/san

unit-bins: $(UNIT_BINS) $(BUILD)/capdump
san-popsift: $(BUILD)/popsift

golden: all
	@tests/e2e/run.sh --update build $(NAME)

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
