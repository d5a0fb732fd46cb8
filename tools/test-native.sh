#!/usr/bin/env bash
# Native tests: the host build, then the aarch64 (NEON) build under qemu-user.
# Where the cross compiler or qemu is missing the aarch64 run is skipped with
# a message, except under CI=true, where that is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

make -s -C native/test check

if [ "$(uname -m)" = "aarch64" ]; then
  exit 0
fi
missing=()
command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
if [ ${#missing[@]} -gt 0 ]; then
  message="aarch64 native tests skipped: install the Debian packages ${missing[*]} to run NEON under qemu"
  if [ "${CI:-}" = "true" ]; then
    echo "error: $message" >&2
    exit 1
  fi
  echo "$message" >&2
  exit 0
fi
echo "aarch64 (NEON) native tests under qemu-aarch64:"
make -s -C native/test check ARCH=aarch64 CXX=aarch64-linux-gnu-g++ RUNNER=qemu-aarch64
