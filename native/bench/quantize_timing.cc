// Times quantize_layer on a generated layer from a ready Hessian and prints
// the time split. Build and run with bench/engine-native.sh, which also times
// numpy's float32 matmul of the same size in the same run for the ratio.
//
//   quantize_timing [rows] [cols] [methods] [threads] [repeats]
//   methods, comma-separated: claq (AP 2.05 + OR, the default), claq-lloyd
//   (the same with Lloyd K-Means), claq2 (2 bits, no OR), gptq, rtn
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/hessian.h"
#include "core/quantize.h"
#include "core/thread_pool.h"
#include "kernels/simd_level.h"

using namespace claq;

namespace {

// CPU seconds of all threads of the process so far. Other jobs on a shared
// machine stretch wall time much more than CPU time.
double process_cpu_seconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// splitmix64 normals, fixed seed, so every run quantizes the same layer.
struct Generator {
  uint64_t state = 12345;
  double uniform() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return ((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
  }
  double normal() {
    return std::sqrt(-2.0 * std::log(uniform() + 1e-300)) * std::cos(6.283185307179586 * uniform());
  }
};

QuantizeOptions options_for(const std::string& method, int threads) {
  QuantizeOptions options;
  options.threads = threads;
  if (method == "claq" || method == "claq-lloyd") {
    if (method == "claq-lloyd") options.kmeans = KMeansAlgorithm::kLloyd;
    options.low_bits = 2;
    options.high_bits = 4;
    options.target_bits = 2.05;
    options.outlier_column_fraction = 0.10;
    options.outlier_high_fraction = 0.014;
    options.outlier_low_fraction = 0.004;
  } else if (method == "gptq") {
    options.method = Method::kGptq;
  } else if (method == "rtn") {
    options.method = Method::kRtn;
  }
  return options;
}

bool run_method(const std::string& method, const std::vector<float>& weight,
                const std::vector<double>& hessian, int64_t rows, int64_t cols, int threads,
                int repeats);

}  // namespace

int main(int argc, char** argv) {
  const int64_t rows = argc > 1 ? std::atoll(argv[1]) : 4096;
  const int64_t cols = argc > 2 ? std::atoll(argv[2]) : 4096;
  const std::string methods = argc > 3 ? argv[3] : "claq";
  const int threads = argc > 4 ? std::atoi(argv[4]) : 0;
  const int repeats = argc > 5 ? std::atoi(argv[5]) : 3;

  std::printf("simd %s, layer %lld x %lld, threads %d\n", simd_level_name(active_simd_level()),
              static_cast<long long>(rows), static_cast<long long>(cols), threads);

  // Weights: normal, with 0.1 % planted outliers 50-200x the typical size.
  Generator g;
  std::vector<float> weight(static_cast<size_t>(rows * cols));
  for (float& w : weight) w = static_cast<float>(0.02 * g.normal());
  for (int64_t t = 0; t < rows * cols / 1000; ++t) {
    const int64_t at = static_cast<int64_t>(g.uniform() * rows * cols);
    weight[at] = static_cast<float>(0.02 * (50 + 150 * g.uniform()) * (g.uniform() < 0.5 ? -1 : 1));
  }

  // Hessian from 2 * cols tokens of activations with per-column scales.
  const int64_t tokens = 2 * cols;
  std::vector<float> scale(static_cast<size_t>(cols));
  for (float& s : scale) s = static_cast<float>(0.2 + 2 * g.uniform());
  std::vector<float> x(static_cast<size_t>(tokens * cols));
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t j = 0; j < cols; ++j) x[t * cols + j] = static_cast<float>(g.normal()) * scale[j];
  }
  HessianAccumulator accumulator(cols);
  if (!accumulator.add(x.data(), tokens, threads).ok()) return 1;
  std::vector<double> hessian(static_cast<size_t>(cols * cols));
  accumulator.hessian(hessian.data());

  size_t from = 0;
  while (from <= methods.size()) {
    const size_t comma = std::min(methods.find(',', from), methods.size());
    const std::string method = methods.substr(from, comma - from);
    from = comma + 1;
    if (!run_method(method, weight, hessian, rows, cols, threads, repeats)) return 1;
  }
  return 0;
}

namespace {

bool run_method(const std::string& method, const std::vector<float>& weight,
                const std::vector<double>& hessian, int64_t rows, int64_t cols, int threads,
                int repeats) {
  const QuantizeOptions options = options_for(method, threads);
  const double* h = method == "rtn" ? nullptr : hessian.data();
  // One pool for every run, as the addon keeps one per thread count.
  ThreadPool pool(threads);
  QuantizeControl control;
  control.pool = &pool;
  for (int r = 0; r < repeats; ++r) {
    QuantizedLayerData out;
    const double cpu_start = process_cpu_seconds();
    const Status status = quantize_layer(weight.data(), rows, cols, h, options, control, &out);
    const double cpu_seconds = process_cpu_seconds() - cpu_start;
    if (!status.ok()) {
      std::fprintf(stderr, "%s\n", status.message().c_str());
      return false;
    }
    double mean_bits = 0;
    for (uint8_t b : out.bits_per_column) mean_bits += b;
    const auto& s = out.stats;
    std::printf(
        "%s run %d: %.3f s, cpu %.3f s (factorization %.3f, kmeans %.3f = %.1f %%, reservation "
        "%.3f, assignment %.3f, update %.3f, other %.3f) loss %.6g, bits %.4f, outliers %lld, "
        "damping %g\n",
        method.c_str(), r, s.seconds, cpu_seconds, s.factorization_seconds, s.kmeans_seconds,
        100 * s.kmeans_seconds / s.seconds, s.reservation_seconds, s.assignment_seconds,
        s.update_seconds,
        s.seconds - s.factorization_seconds - s.kmeans_seconds - s.reservation_seconds -
            s.assignment_seconds - s.update_seconds,
        s.loss,
        mean_bits / cols, static_cast<long long>(s.outlier_count), s.damping);
  }
  return true;
}

}  // namespace
