// Memory read rate of loops that do work on each cache line. The packed GEMV
// benchmark compares the GEMV with the memory pass (sum_f32), which only
// loads and adds. This program times that pass next to loops that do K
// vpermps look-ups and K adds per 64-byte line, as a 2- or 4-bit GEMV tile
// does with K = 8. So a GEMV's ratio to the memory pass can be read against
// what any loop with that much work per line reaches on the machine.
//
//   sh bench/engine-native.sh --stream-work [threads] [rounds]
//
// Each round runs every loop once over the same 512 MiB buffer, in 4 MiB
// chunks shared out among the threads. So drift on a shared machine reaches
// all loops alike, and the table gives the median rate over the rounds.
// Needs AVX-512 (x86-64).
#include <immintrin.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "kernels/packed_layout.h"
#include "kernels/sum.h"

using namespace claq;

namespace {

constexpr size_t kTotalBytes = size_t{512} << 20;
constexpr size_t kChunkBytes = size_t{4} << 20;

// Adds K look-ups of each line into a 32-line slice of y, as the GEMV adds a
// tile's look-ups into its panel's slice, and returns the slice's total so
// the work is kept. Prefetches `prefetch` bytes ahead.
template <int K>
__attribute__((target("avx512f"))) float look_up_lines(const char* bytes, size_t size, size_t prefetch) {
  alignas(64) float y[32 * 16] = {};
  __m512 tables[K];
  for (int k = 0; k < K; ++k) tables[k] = _mm512_set1_ps(static_cast<float>(k + 1));
  for (size_t offset = 0; offset < size; offset += 64) {
    _mm_prefetch(bytes + offset + prefetch, _MM_HINT_T0);
    const __m512i word = _mm512_load_si512(bytes + offset);
    __m512 looked[K];
    for (int k = 0; k < K; ++k) looked[k] = _mm512_permutexvar_ps(word, tables[k]);
    __m512 even = looked[0], odd = looked[1];
    for (int k = 2; k < K; k += 2) {
      even = _mm512_add_ps(even, looked[k]);
      odd = _mm512_add_ps(odd, looked[k + 1]);
    }
    float* slice = y + (offset / 64 % 32) * 16;
    _mm512_store_ps(slice, _mm512_add_ps(_mm512_load_ps(slice), _mm512_add_ps(even, odd)));
  }
  float total = 0.0f;
  for (float v : y) total += v;
  return total;
}

using Pass = std::function<float(const char*, size_t)>;

struct Loop {
  std::string name;
  Pass pass;
  std::vector<double> rates;  // GB/s, one per round
};

// Runs `pass` once over the buffer with `threads` threads and returns GB/s.
double time_pass(const Pass& pass, const char* buffer, int threads) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  std::vector<float> sinks(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t c = t * kChunkBytes; c < kTotalBytes; c += threads * kChunkBytes) {
        sinks[t] += pass(buffer + c, kChunkBytes);
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // A use of the sums, so the compiler keeps the passes.
  if (sinks[0] == 42.0f) std::printf(" ");
  return static_cast<double>(kTotalBytes) / seconds / 1e9;
}

std::vector<Loop> make_loops() {
  std::vector<Loop> loops;
  for (size_t prefetch : {0, 512, 1024, 2048}) {
    loops.push_back({"sum_f32, prefetch " + std::to_string(prefetch) + " B", [prefetch](const char* bytes, size_t size) {
                       return sum_f32(reinterpret_cast<const float*>(bytes), size / 4, prefetch);
                     }, {}});
  }
  for (size_t prefetch : {2048, 8192}) {
    const std::string suffix = ", prefetch " + std::to_string(prefetch) + " B";
    loops.push_back({"2 look-ups per line" + suffix,
                     [prefetch](const char* b, size_t n) { return look_up_lines<2>(b, n, prefetch); }, {}});
    loops.push_back({"4 look-ups per line" + suffix,
                     [prefetch](const char* b, size_t n) { return look_up_lines<4>(b, n, prefetch); }, {}});
    loops.push_back({"8 look-ups per line" + suffix,
                     [prefetch](const char* b, size_t n) { return look_up_lines<8>(b, n, prefetch); }, {}});
  }
  return loops;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Parses a whole number from 1 to `max`. For any other text it prints an
// error that names the text and returns -1.
int parse_count(const char* text, const char* name, long max) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > max) {
    std::fprintf(stderr, "invalid %s: '%s', expected a whole number from 1 to %ld\n", name, text, max);
    return -1;
  }
  return static_cast<int>(value);
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? parse_count(argv[1], "threads", 256) : 1;
  const int rounds = argc > 2 ? parse_count(argv[2], "rounds", 1000) : 11;
  if (threads < 0 || rounds < 0) return 2;

  if (!__builtin_cpu_supports("avx512f")) {
    std::fprintf(stderr, "stream_work_timing requires AVX-512F, which this CPU does not support\n");
    return 2;
  }
  AlignedArray<uint32_t> buffer;
  if (!buffer.reset(kTotalBytes / 4)) {
    std::fprintf(stderr, "failed to allocate the %zu MiB buffer\n", kTotalBytes >> 20);
    return 1;
  }
  for (size_t i = 0; i < buffer.size(); ++i) buffer[i] = static_cast<uint32_t>(i * 2654435761u) & 0x0F0F0F0Fu;
  const char* bytes = reinterpret_cast<const char*>(buffer.data());

  std::vector<Loop> loops = make_loops();
  for (int round = 0; round < rounds; ++round) {
    for (Loop& loop : loops) loop.rates.push_back(time_pass(loop.pass, bytes, threads));
  }

  double best_sum = 0.0;
  for (const Loop& loop : loops) {
    if (loop.name.rfind("sum_f32", 0) == 0) best_sum = std::max(best_sum, median(loop.rates));
  }
  std::printf("%d thread(s), %d rounds over %zu MiB; median GB/s, and its ratio to the fastest sum_f32\n", threads,
              rounds, kTotalBytes >> 20);
  for (const Loop& loop : loops) {
    const double rate = median(loop.rates);
    std::printf("  %-40s %7.2f  %5.2f\n", loop.name.c_str(), rate, rate / best_sum);
  }
  return 0;
}
