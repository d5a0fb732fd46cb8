#!/bin/sh
# Times quantize_layer (native, no Node, -O3 like the addon) on a generated
# 4096 x 4096 layer from a ready Hessian, and numpy's float32 4096^3 matmul
# in the same run, so the two can be compared as a ratio on this machine.
#
#   sh bench/engine-native.sh [rows] [cols] [methods] [threads] [repeats]
#   sh bench/engine-native.sh --kmeans [values] [columns]   K-Means alone
#   sh bench/engine-native.sh --factor [n] [threads] [repeats] [name]
#                                    GEMM, Cholesky and inverse factor alone
#   sh bench/engine-native.sh --stream-work [threads] [rounds]
#                                    memory rate of loops with work per line (x86, AVX-512)
set -e
cd "$(dirname "$0")/.."
# binding.gyp compiles with -O3. At the tests' -O2, GCC 12 leaves the float64
# block kernels and the packing loops of the factorization unvectorised.
make -s -C native/test build OPT=-O3
OBJ=native/test/out/$(uname -m)-plain-O3
mkdir -p "$OBJ/bench"
LIBS=$(ls "$OBJ"/native/core/*.o "$OBJ"/native/kernels/*.o "$OBJ"/native/kernels/x86/*.o \
  "$OBJ"/native/kernels/arm/*.o 2>/dev/null || true)
PROGRAMS="quantize_timing kmeans_timing factor_timing"
if [ "$(uname -m)" = x86_64 ]; then PROGRAMS="$PROGRAMS stream_work_timing"; fi
for program in $PROGRAMS; do
  ${CXX:-g++} -std=c++17 -O3 -pthread -Inative -o "$OBJ/bench/$program" \
    "native/bench/$program.cc" $LIBS
done

if [ "$1" = "--kmeans" ]; then
  shift
  exec "$OBJ/bench/kmeans_timing" "$@"
fi
if [ "$1" = "--stream-work" ]; then
  shift
  exec "$OBJ/bench/stream_work_timing" "$@"
fi
if [ "$1" = "--factor" ]; then
  shift
  exec "$OBJ/bench/factor_timing" "$@"
fi

if command -v python3 >/dev/null && python3 -c 'import numpy' 2>/dev/null; then
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python3 - <<'PY'
import time, numpy as np
a = np.random.default_rng(0).standard_normal((4096, 4096), dtype=np.float32)
b = np.random.default_rng(1).standard_normal((4096, 4096), dtype=np.float32)
a @ b
runs = []
for _ in range(5):
    wall, cpu = time.perf_counter(), time.process_time()
    a @ b
    runs.append((time.perf_counter() - wall, time.process_time() - cpu))
wall, cpu = min(runs)
print(f"numpy float32 4096^3 matmul: {wall:.3f} s, cpu {cpu:.3f} s (best of 5 by wall time)")
PY
fi
"$OBJ/bench/quantize_timing" "$@"
