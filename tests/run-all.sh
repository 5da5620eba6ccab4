#!/usr/bin/env bash
# tests/run-all.sh [BUILD] [PART...] - runs the test suites against the build tree BUILD
# (default build/san: AddressSanitizer + UndefinedBehaviorSanitizer) and prints one closing
# line, 'N passed, N failed, N skipped', over all of them. Exits non-zero if anything failed.
#
# PART is any of: unit (build/san/tests/test_*), e2e (tests/e2e/test_*.py and the golden
# files), valgrind (tests/valgrind.sh on build/popsift), fuzz (tests/fuzz/run.sh smoke on
# build/fuzz/). No PART: all four (`make check`); `make unit` and `make e2e` name theirs.
# SKIP_VALGRIND=1 and SKIP_FUZZ_SMOKE=1 leave those two out of a full run.
#
# Every suite closes with its own '<suite>: N passed, N failed[, N skipped]' line, which is
# summed here. A suite that exits non-zero without reporting a failure (a crash, an
# interpreter error), or that ends without its closing line, counts as one failure more.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/san}
shift $(($# > 0 ? 1 : 0))
PARTS=("$@")
[ ${#PARTS[@]} -gt 0 ] || PARTS=(unit e2e valgrind fuzz)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

wanted() {
  local p
  for p in "${PARTS[@]}"; do [ "$p" = "$1" ] && return 0; done
  return 1
}

# Runs one suite or step, shows what is not an 'ok' line, and adds its closing line
# ('<suite>: N passed, N failed[, N skipped]') to the totals.
step() {
  "$@" >"$log" 2>&1
  local rc=$? line p f s
  grep -v '^ok ' "$log"
  line=$(grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL $*: no closing 'N passed, N failed' line (exit status $rc)"
    failed=$((failed + 1))
    return
  fi
  p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
  s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $*: exit status $rc although no test failed"
    failed=$((failed + 1))
  fi
}

# cmocka binaries: one '[       OK ]' line per test passed.
unit_tests() {
  local t name n_ok n_fail found=0
  for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    found=1
    name=$(basename "$t")
    if "$t" >"$log" 2>&1; then
      n_ok=$(grep -cE '^\[       OK \]' "$log")
      echo "ok   unit $name ($n_ok tests)"
      passed=$((passed + n_ok))
    else
      cat "$log"
      n_ok=$(grep -cE '^\[       OK \]' "$log")
      n_fail=$(grep -cE '^\[  FAILED  \] [a-z]' "$log")
      echo "FAIL unit $name"
      passed=$((passed + n_ok)); failed=$((failed + (n_fail > 0 ? n_fail : 1)))
    fi
  done
  if [ $found = 0 ]; then
    echo "FAIL unit: no test binary in $BUILD/tests/ (make SAN=1 unit-bins)"
    failed=$((failed + 1))
  fi
}

wanted unit && unit_tests

if wanted e2e; then
  for suite in tests/e2e/test_*.py tests/e2e/golden.py; do
    step python3 "$suite" "$BUILD/popsift"
  done
fi

# valgrind memcheck over the end-to-end captures, on the release binary (it cannot run
# the ASan one).
if wanted valgrind && [ "${SKIP_VALGRIND:-0}" != 1 ]; then
  step tests/valgrind.sh build/popsift
fi

# libFuzzer smoke runs of the harnesses built in build/fuzz/ (`make check` builds them):
# regressions replayed, then FUZZ_SMOKE_SECONDS of fuzzing per harness.
if wanted fuzz && [ "${SKIP_FUZZ_SMOKE:-0}" != 1 ]; then
  harnesses=()
  for b in build/fuzz/fuzz_*; do
    [ -x "$b" ] && harnesses+=("${b#build/fuzz/fuzz_}")
  done
  if [ ${#harnesses[@]} -gt 0 ]; then
    step tests/fuzz/run.sh smoke "${FUZZ_SMOKE_SECONDS:-60}" "${FUZZ_JOBS:-$(nproc)}" "${harnesses[@]}"
  else
    echo "FAIL fuzz: no harness in build/fuzz/ (make fuzz-build)"
    failed=$((failed + 1))
  fi
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
