#!/bin/sh
# Times quantize_layer (native, -O2, no Node) on a generated 4096 x 4096 layer
# from a ready Hessian, and numpy's float32 4096^3 matmul in the same run, so
# the two can be compared as a ratio on this machine.
#
#   sh bench/engine-native.sh [rows] [cols] [method] [threads] [repeats]
set -e
cd "$(dirname "$0")/.."
make -s -C native/test build
OBJ=native/test/out/$(uname -m)-plain
mkdir -p "$OBJ/bench"
${CXX:-g++} -std=c++17 -O2 -pthread -Inative -o "$OBJ/bench/quantize_timing" \
  native/bench/quantize_timing.cc $(ls "$OBJ"/native/core/*.o "$OBJ"/native/kernels/*.o \
  "$OBJ"/native/kernels/x86/*.o 2>/dev/null)

if command -v python3 >/dev/null && python3 -c 'import numpy' 2>/dev/null; then
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 - <<'PY'
import time, numpy as np
a = np.random.default_rng(0).standard_normal((4096, 4096), dtype=np.float32)
b = np.random.default_rng(1).standard_normal((4096, 4096), dtype=np.float32)
a @ b
best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(5))
print(f"numpy float32 4096^3 matmul: {best:.3f} s (best of 5)")
PY
fi
"$OBJ/bench/quantize_timing" "$@"
