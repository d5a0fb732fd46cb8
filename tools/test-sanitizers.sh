#!/usr/bin/env bash
# Native tests under AddressSanitizer + UndefinedBehaviorSanitizer, under
# ThreadSanitizer, and under valgrind memcheck (leaks included). Each step
# prints its wall time. CI runs this after npm test (see .ci/run).
#
# valgrind 3.19 does not emulate AVX-512, and its CPUID hides it, so the
# run-time detection picks AVX2 there (the first line of the run shows the
# level). The valgrind run leaves out the large float64-reference tests of
# the dense kernels (GEMM, SYRK, Cholesky, the 100k-token Hessian), which
# take minutes under valgrind. Smaller tests of the same kernels run the
# same code paths, and the sanitizer runs keep every test.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc 2>/dev/null || echo 2)
valgrind_skip=(
  -hessian_100k_tokens
  -inverse_factor_realistic
  -gemm_f32_square_sizes
  -gemm_f32_threaded
  -syrk_lower_f32_matches_float64
  -gemm_lower_f32_writes_only_lower
  -cholesky_lower_f32_matches_float64
)

step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "== $name"
  "$@"
  echo "== $name: $((SECONDS - start)) s"
}

step "AddressSanitizer + UBSan" make -s -j"$jobs" -C native/test check SAN=address,undefined
step "ThreadSanitizer" make -s -j"$jobs" -C native/test check SAN=thread

if ! command -v valgrind >/dev/null; then
  message="valgrind run skipped: install the Debian package valgrind"
  if [ "${CI:-}" = "true" ]; then
    echo "error: $message" >&2
    exit 1
  fi
  echo "$message" >&2
  exit 0
fi
step "valgrind memcheck" make -s -j"$jobs" -C native/test check \
  RUNNER="valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 -q" \
  FILTER="${valgrind_skip[*]}"
