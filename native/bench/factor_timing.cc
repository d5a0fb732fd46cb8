// Times the dense linear algebra of the factorization on its own: a float32
// GEMM of the same size (the rate to compare with), cholesky_lower_f32 and
// inverse_upper_factor_f32 of a damped n x n Hessian. Prints wall time and
// the CPU time of the whole process per call, because on a shared machine
// other jobs stretch wall time far more than CPU time. Build and run with
// `sh bench/engine-native.sh --factor [n] [threads] [repeats] [name]`; with
// a name, only the operations whose name contains it run.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/linalg.h"
#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/simd_level.h"

using namespace claq;

namespace {

double process_cpu_seconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

std::vector<float> uniform_floats(int64_t count, uint32_t seed) {
  std::vector<float> out(static_cast<size_t>(count));
  uint32_t state = seed;
  for (float& v : out) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state) / 2147483648.0f - 1.0f;
  }
  return out;
}

// H = (2 / tokens) x^T x + 1 % of its mean diagonal, full and symmetric.
std::vector<float> damped_hessian(int64_t n, int64_t tokens, ThreadPool* pool) {
  const std::vector<float> x = uniform_floats(tokens * n, 3);
  std::vector<float> h(static_cast<size_t>(n * n));
  gemm_f32(true, false, n, n, tokens, 2.0f / static_cast<float>(tokens), x.data(), n, x.data(), n,
           0.0f, h.data(), n, pool);
  double mean = 0;
  for (int64_t i = 0; i < n; ++i) mean += h[i * n + i] / static_cast<double>(n);
  for (int64_t i = 0; i < n; ++i) h[i * n + i] += static_cast<float>(0.01 * mean);
  return h;
}

// Runs fn `repeats` times after one warm-up call, each after an untimed
// call of `prepare`, and prints the best wall time, the CPU time of that
// call, and GFLOP/s for `flops`.
std::string g_only;

void report(const char* name, double flops, int repeats, const std::function<void()>& prepare,
            const std::function<void()>& fn) {
  if (std::string(name).find(g_only) == std::string::npos) return;
  prepare();
  fn();
  double best_wall = 1e30, best_cpu = 0;
  for (int r = 0; r < repeats; ++r) {
    prepare();
    const double cpu = process_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    fn();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (wall < best_wall) {
      best_wall = wall;
      best_cpu = process_cpu_seconds() - cpu;
    }
  }
  std::printf("%-16s %.4f s wall (%6.1f GFLOP/s), cpu %.4f s (%6.1f GFLOP/s per CPU-second)\n", name,
              best_wall, flops / best_wall / 1e9, best_cpu, flops / std::max(best_cpu, 1e-9) / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 4096;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  // Optional fourth argument: only the operations whose name contains it.
  const std::string only = argc > 4 ? argv[4] : "";
  g_only = only;
  ThreadPool pool(threads);
  std::printf("simd %s, n %lld, threads %d\n", simd_level_name(active_simd_level()),
              static_cast<long long>(n), pool.size());

  const std::vector<float> h = damped_hessian(n, n / 2, &pool);
  const std::vector<float> a = uniform_floats(n * n, 1);
  const std::vector<float> b = uniform_floats(n * n, 2);
  std::vector<float> work(static_cast<size_t>(n * n));
  const double cube = static_cast<double>(n) * n * n;

  const auto nothing = [] {};
  report("gemm", 2 * cube, repeats, nothing, [&] {
    gemm_f32(false, false, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, work.data(), n, &pool);
  });
  const auto copy_h = [&] { std::copy(h.begin(), h.end(), work.begin()); };
  report("cholesky", cube / 3, repeats, copy_h, [&] {
    if (!cholesky_lower_f32(work.data(), n, n, &pool).ok()) std::exit(1);
  });
  report("inverse factor", 2 * cube / 3, repeats, nothing, [&] {
    if (!inverse_upper_factor_f32(h.data(), n, work.data(), &pool).ok()) std::exit(1);
  });
  return 0;
}
