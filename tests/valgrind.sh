#!/usr/bin/env bash
# tests/valgrind.sh [POPSIFT] - valgrind memcheck over the end-to-end captures.
#
# Runs the release binary (default build/popsift: -O2 -g, no sanitizer, which
# valgrind cannot run under) on every capture of tests/e2e/LIST with its
# options, on samples/pop2/pop2.pcap, and, when build/popgen and build/hostile
# exist, on generated captures that drive the engine's repairs (gaps, mid-stream
# pickup, fragments, IPv6, port reuse) and on hostile bytes. Every run also
# extracts messages (-x, --mbox) and writes hashes and transactions, so those
# paths are checked too.
#
# A run fails on any memcheck error (invalid read or write, use of
# uninitialised memory in a branch, bad free) and on any definite leak; leaks
# still reachable at exit (libraries' caches) are not errors. About a minute.
# VALGRIND_OPTS adds options (e.g. --track-origins=yes to find where a value came from).
# Prints 'ok|FAIL valgrind NAME' lines and 'valgrind: N passed, N failed'.
set -uo pipefail
cd "$(dirname "$0")/.."
POPSIFT=${1:-build/popsift}
if ! command -v valgrind >/dev/null; then
  echo "FAIL valgrind: valgrind is not installed (scripts/install-deps.sh)"
  echo "valgrind: 0 passed, 1 failed"
  exit 1
fi
if [ ! -x "$POPSIFT" ]; then
  echo "FAIL valgrind: $POPSIFT missing (make)"
  echo "valgrind: 0 passed, 1 failed"
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/popsift-valgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# vg NAME CAPTURE [OPTIONS...]
vg() {
  local name=$1 capture=$2
  shift 2
  local out="$tmp/$name"
  mkdir -p "$out/x"
  valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
    --show-leak-kinds=definite --errors-for-leak-kinds=definite ${VALGRIND_OPTS:-} \
    --log-file="$out/vg.log" \
    "$POPSIFT" -q --show-passwords --transactions -x "$out/x" --mbox "$out/mbox" \
    --hashes "$out/hashes" -o "$out/events.ndjson" "$@" -r "$capture" 2>"$out/stderr"
  local rc=$?
  if [ $rc -eq 99 ] || grep -qE '^==[0-9]+== (Invalid|Conditional|Use of uninit|Mismatched|Syscall param)' "$out/vg.log"; then
    echo "FAIL valgrind $name ($capture):"
    grep -E '^==[0-9]+==' "$out/vg.log" | head -n 60
    failed=$((failed + 1))
  elif [ $rc -ne 0 ]; then
    echo "FAIL valgrind $name: popsift exited $rc: $(tail -n 3 "$out/stderr")"
    failed=$((failed + 1))
  else
    echo "ok   valgrind $name"
    passed=$((passed + 1))
  fi
  rm -rf "$out"
}

while read -r name capture _expected options; do
  case "$name" in ''|\#*) continue ;; esac
  # shellcheck disable=SC2086 # options are words
  vg "$name" "$capture" $options
done <tests/e2e/LIST
vg pop2 samples/pop2/pop2.pcap

if [ -x build/popgen ]; then
  gen() { local name=$1; shift; build/popgen -o "$tmp/$name.pcap" "$@" >/dev/null 2>&1; }
  gen gaps --seed 3 -n 6 -c 3 --msg-max 60000 --drop 5 && vg gen-gaps "$tmp/gaps.pcap"
  gen mid --seed 5 -n 6 -c 3 --msg-max 40000 --midstream && vg gen-midstream "$tmp/mid.pcap"
  gen frag --seed 9 -n 6 -c 3 --msg-max 20000 --fragment && vg gen-fragments "$tmp/frag.pcap"
  gen v6 --seed 3 -n 6 -c 3 --msg-max 30000 --ipv6-ext && vg gen-ipv6 "$tmp/v6.pcap"
  gen reuse --seed 4 -n 6 -c 3 --msg-max 20000 --port-reuse && vg gen-port-reuse "$tmp/reuse.pcap"
  gen full --seed 1 -n 200 -c 200 --short && vg gen-evict "$tmp/full.pcap" --max-streams 64
fi
if [ -x build/hostile ]; then
  build/hostile -d "$tmp" badbytes pipeline random tls truncated holes pcapng-unknown >/dev/null
  for c in badbytes pipeline random tls truncated holes; do vg "hostile-$c" "$tmp/$c.pcap"; done
  vg hostile-pcapng-unknown "$tmp/pcapng-unknown.pcapng"
fi

echo "valgrind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
