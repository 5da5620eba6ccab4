#!/usr/bin/env bash
# tests/fuzz/run.sh MODE SECONDS JOBS HARNESS... - runs the libFuzzer harnesses
# built in build/fuzz/ (make fuzz-build).
#   MODE smoke: replay tests/fuzz/regressions/<h>/ (every input once), then fuzz
#               for SECONDS from the committed corpus (`make fuzz-smoke`, `make check`)
#   MODE fuzz:  fuzz for SECONDS from the committed corpus plus build/fuzz/corpus/<h>/,
#               which keeps what earlier runs found (`make fuzz`)
# JOBS harnesses run at once. One line per harness with executions, exec/s and
# coverage, then the closing 'fuzz: N passed, N failed' line that tests/run-all.sh
# counts. A crash, leak, sanitizer report or timeout fails the harness; its input
# is left in build/fuzz/artifacts/.
set -uo pipefail
cd "$(dirname "$0")/../.."
MODE=$1 SECONDS_EACH=$2 JOBS=$3
shift 3
OUT=build/fuzz
mkdir -p "$OUT/artifacts"
# Logs of this run only: several runs may share the tree (make check, make fuzz).
LOGS=$(mktemp -d "$OUT/run.XXXXXX")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one harness; writes its verdict lines to $LOGS/<h>.verdict.
run_one() {
  local h=$1 bin=$OUT/fuzz_$1 log=$LOGS/$1.log verdict=$LOGS/$1.verdict
  local reg=tests/fuzz/regressions/$h corpus=tests/fuzz/corpus/$h work
  local dict=() passed=0 failed=0 msg=""
  : >"$verdict"
  if [ ! -x "$bin" ]; then
    echo "FAIL fuzz $h: $bin missing (make fuzz-build)" >>"$verdict"
    echo "1 0" >"$LOGS/$h.counts"
    return
  fi
  [ -f "tests/fuzz/$h.dict" ] && dict=(-dict="tests/fuzz/$h.dict")
  # 1. Every kept crash input must stay fixed; replayed with the chunking
  #    check on (fuzz_input.h), since some of them broke only that.
  if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
    local n
    n=$(find "$reg" -type f | wc -l)
    if POPSIFT_FUZZ_DIFF=1 "$bin" -runs=1 "$reg"/* >"$log.reg" 2>&1; then
      echo "ok   fuzz $h regressions ($n inputs replayed)" >>"$verdict"
      passed=$((passed + 1))
    else
      echo "FAIL fuzz $h regressions:" >>"$verdict"
      tail -n 40 "$log.reg" >>"$verdict"
      failed=$((failed + 1))
    fi
  fi
  # 2. Fuzz. Smoke runs start from the committed corpus only, in a scratch
  #    directory, so they are reproducible and leave nothing behind.
  if [ "$MODE" = smoke ]; then
    work=$(mktemp -d "$OUT/corpus-smoke-$h.XXXXXX")
  else
    work=$OUT/corpus/$h
    mkdir -p "$work"
  fi
  mkdir -p "$corpus"
  "$bin" -max_total_time="$SECONDS_EACH" -timeout=25 -rss_limit_mb=2560 -print_final_stats=1 \
    -artifact_prefix="$OUT/artifacts/$h-" "${dict[@]}" "$work" "$corpus" >"$log" 2>&1
  local rc=$?
  local last execs speed cov ft corp
  last=$(grep -aE '^#[0-9]+' "$log" | tail -n 1)
  execs=$(grep -aE '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  speed=$(grep -aE '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9a-zA-Z]+).*/\1/p' <<<"$last")
  if [ $rc -eq 0 ]; then
    echo "ok   fuzz $h (${SECONDS_EACH}s: ${execs:-?} runs, ${speed:-?} exec/s, cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?})" >>"$verdict"
    passed=$((passed + 1))
  else
    echo "FAIL fuzz $h (exit $rc); input kept in $OUT/artifacts/ - log tail:" >>"$verdict"
    grep -avE '^#[0-9]+' "$log" | tail -n 60 >>"$verdict"
    failed=$((failed + 1))
  fi
  [ "$MODE" = smoke ] && rm -rf "$work"
  echo "$failed $passed" >"$LOGS/$h.counts"
}

running=0
for h in "$@"; do
  run_one "$h" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

passed=0 failed=0
for h in "$@"; do
  cat "$LOGS/$h.verdict"
  read -r f p <"$LOGS/$h.counts"
  passed=$((passed + p)); failed=$((failed + f))
done
if [ "$failed" -eq 0 ]; then
  rm -rf "$LOGS"
else
  echo "fuzz: logs kept in $LOGS"
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
