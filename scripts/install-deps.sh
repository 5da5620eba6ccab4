#!/usr/bin/env bash
# Installs the Debian packages popsift needs to build and test, and nothing else.
# Run by `make demo` and `make check` before they build: a fresh Debian 12 machine
# needs no other step. Exits 0 when everything is present, 1 with the exact
# command to run when it cannot install (not root and no sudo).
set -euo pipefail

# libnids-dev depends on none of libpcap-dev, libnet1-dev, libglib2.0-dev although
# nids.h and libnids.so need them: they are listed explicitly. The compression
# libraries read compressed captures (src/capsource.c); tshark (editcap, mergecap)
# and the zstd, lz4 and xz tools make the captures tests/e2e/test_capfile.py reads.
# mpop and gnutls-bin: a GnuTLS POP3 client writing a TLS key log (SSLKEYLOGFILE)
# for tests/e2e/test_tls_live.py, beside curl and python's ssl (OpenSSL).
# chromium loads the HTML report headless in tests/e2e/test_report_browser.py.
# tcpreplay and iproute2 (ip, ss) drive the live load test (tests/e2e/test_load.py)
# and the soak (make soak).
# hashcat cracks the --hashes files in tests/e2e/test_crackers.py on the CPU: it
# needs an OpenCL runtime, and pocl (pocl-opencl-icd) is Debian's CPU one. Debian's
# john (1.9.0, not "jumbo") has no dmd5 format: that test says what it did instead.
# dsniff (with tshark) answers README's comparison table (docs/comparison.sh); systemd's
# systemd-analyze and logrotate check the shipped unit and snippet (contrib/).
# parallel (GNU parallel) runs docs/scaling.md's --shard example (tests/e2e/test_shard.py).
PACKAGES=(
  build-essential pkg-config
  libpcap-dev libnids-dev libnet1-dev libglib2.0-dev
  libjansson-dev libcmocka-dev libssl-dev libgmime-3.0-dev
  python3 jq tcpdump dovecot-pop3d curl
  clang libclang-rt-14-dev valgrind fetchmail openssl
  zlib1g-dev libzstd-dev liblz4-dev liblzma-dev
  tshark zstd lz4 xz-utils
  mpop gnutls-bin
  chromium
  tcpreplay iproute2
  hashcat pocl-opencl-icd john
  dsniff systemd logrotate
  parallel
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing missing packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "install-deps: not root and no password-less sudo; run this, then retry:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
had_dovecot=0
if installed dovecot-core; then had_dovecot=1; fi
# policy-rc.d keeps dovecot's package from starting a system-wide server: the tests
# run their own private instance on loopback. Removed again however apt-get ends, or
# no service on this machine could be started by a package afterwards.
created_policy=0
remove_policy() {
  if [ "$created_policy" = 1 ]; then "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d; fi
}
trap remove_policy EXIT
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${SUDO[@]}" chmod +x /usr/sbin/policy-rc.d
  created_policy=1
fi
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# policy-rc.d only stops the start now; the package also enables dovecot for the next
# boot (it would take ports 110 and 995). A dovecot that was there before is left alone.
if [ "$had_dovecot" = 0 ] && installed dovecot-core; then
  if command -v systemctl >/dev/null 2>&1; then
    "${SUDO[@]}" systemctl disable --quiet dovecot.service dovecot.socket >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null 2>&1; then
    "${SUDO[@]}" update-rc.d dovecot disable >/dev/null 2>&1 || true
  fi
fi
echo "install-deps: done" >&2
