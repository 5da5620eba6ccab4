# The benchmark (issue 8): `make bench` (8-10 minutes, ~1 GB capture) and
# `make bench-quick` (~200 MB, a minute or two). Not part of `make check`.
# Both end with bench/report_bench.py: `popsift report` on 100,000 sessions.
# Captures are generated once into build/bench/ and reused; `make bench-clean`
# removes them. Options for bench/run.py go in BENCH_ARGS, e.g.
#   make bench-quick BENCH_ARGS="--runs 7 --only heavy --compare /tmp/patched/popsift"
# See bench/run.py and docs/performance.md.

BENCH_BINS := build/bench/bare_pcap build/bench/bare_nids build/bench/rusage
BENCH_ARGS ?=
# bench/tls.py: the TLS scenario (a TLS 1.3 capture with its key log against the same
# dialogue in clear), e.g. TLS_BENCH_ARGS="--runs 7".
TLS_BENCH_ARGS ?=
# bench/scaling.py: --workers 1 on one core against --workers 2 on two (issue 19), e.g.
# SCALING_ARGS="--runs 9 --only short".
SCALING_ARGS ?=
# bench/capfile_bench.py: the same capture as classic pcap, pcapng and zstd-compressed (issue 14),
# read by our reader alone and by popsift end to end; the 200 MB message-heavy capture that
# run.py generates in both modes.
CAPFILE_BENCH_CAPTURE ?= build/bench/popgen_size_200M_c_16_s_1.pcap

.PHONY: bench bench-quick bench-bins bench-clean soak

build/bench/bare_pcap: bench/bare_pcap.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

build/bench/bare_nids: bench/bare_nids.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) $(PKG_CFLAGS) -o $@ $< -lnids $(PKG_LIBS)

build/bench/rusage: bench/rusage.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -o $@ $<

bench-bins: $(BENCH_BINS)

# Always the release build (build/popsift, -O2), never the sanitizer tree.
bench: bench-bins
	@$(MAKE) --no-print-directory BUILD=build OPT='-O2 -g' SAN= build/popsift build/popgen build/capdump
	@python3 bench/run.py --full $(BENCH_ARGS)
	@python3 bench/tls.py --full $(TLS_BENCH_ARGS)
	@python3 bench/capfile_bench.py $(CAPFILE_BENCH_CAPTURE) --runs 5
	@python3 bench/report_bench.py
	@python3 bench/scaling.py --full $(SCALING_ARGS)

bench-quick: bench-bins
	@$(MAKE) --no-print-directory BUILD=build OPT='-O2 -g' SAN= build/popsift build/popgen build/capdump
	@python3 bench/run.py --quick $(BENCH_ARGS)
	@python3 bench/tls.py --quick $(TLS_BENCH_ARGS)
	@python3 bench/capfile_bench.py $(CAPFILE_BENCH_CAPTURE) --runs 3
	@python3 bench/report_bench.py
	@python3 bench/scaling.py --quick $(SCALING_ARGS)

# The generated captures take ~3.4 GB (full) / ~0.6 GB (quick); they are kept for the next run.
bench-clean:
	rm -f build/bench/popgen_* build/bench/results-* build/bench/tls_* build/bench/clear_*
	rm -rf build/bench/extract.* build/bench/check.* build/bench/writebw.*

# The live soak (issue 15): popsift -i on a veth pair for 30 minutes of looped replays, its
# RSS sampled every 10 s; fails unless flat. Root only. SOAK_ARGS="--minutes 2" for a short one.
SOAK_ARGS ?=
soak:
	@$(MAKE) --no-print-directory BUILD=build OPT='-O2 -g' SAN= build/popsift build/popgen
	@python3 bench/soak.py $(SOAK_ARGS)
