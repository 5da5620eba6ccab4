#!/usr/bin/env bash
# Runs every test suite against the build tree given (build/san for `make check`:
# AddressSanitizer + UndefinedBehaviorSanitizer), then prints one closing line:
# 'N passed, N failed' over all suites. Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/san}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Counts a suite's own closing line ('<suite>: N passed, N failed').
count() {
  local line p f
  line=$(grep -E '^[a-z0-9_-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
  p=$(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*passed, ([0-9]+) failed.*/\1/' <<<"$line")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}

for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  if "$t" >"$log" 2>&1; then
    n=$(grep -cE '^\[       OK \]' "$log")
    echo "ok   unit $name ($n tests)"
    passed=$((passed + n))
  else
    cat "$log"
    n_ok=$(grep -cE '^\[       OK \]' "$log")
    n_fail=$(grep -cE '^\[  FAILED  \] [a-z]' "$log")
    echo "FAIL unit $name"
    passed=$((passed + n_ok)); failed=$((failed + (n_fail > 0 ? n_fail : 1)))
  fi
done

for suite in tests/e2e/test_*.py tests/e2e/golden.py; do
  python3 "$suite" "$BUILD/popsift" >"$log" 2>&1
  rc=$?
  grep -v '^ok ' "$log"
  before=$failed
  count
  if [ $rc -ne 0 ] && [ $failed -eq $before ]; then failed=$((failed + 1)); fi
done

# Counts a whole step by its closing line; a step that fails without one counts once.
step() {
  "$@" >"$log" 2>&1
  local rc=$? before=$failed
  grep -v '^ok ' "$log"
  count
  if [ $rc -ne 0 ] && [ $failed -eq $before ]; then failed=$((failed + 1)); fi
}

# valgrind memcheck over the end-to-end captures, on the release binary (it
# cannot run the ASan one): once per `make check`. SKIP_VALGRIND=1 skips it.
if [ "${SKIP_VALGRIND:-0}" != 1 ]; then
  step tests/valgrind.sh build/popsift
fi

# libFuzzer smoke runs when the harnesses are built (`make check` builds them):
# regressions replayed, then FUZZ_SMOKE_SECONDS of fuzzing per harness.
# SKIP_FUZZ_SMOKE=1 skips them.
harnesses=()
for b in build/fuzz/fuzz_*; do
  [ -x "$b" ] && harnesses+=("${b#build/fuzz/fuzz_}")
done
if [ "${SKIP_FUZZ_SMOKE:-0}" != 1 ] && [ ${#harnesses[@]} -gt 0 ]; then
  step tests/fuzz/run.sh smoke "${FUZZ_SMOKE_SECONDS:-60}" "${FUZZ_JOBS:-$(nproc)}" "${harnesses[@]}"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
