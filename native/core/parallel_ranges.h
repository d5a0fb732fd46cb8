// Splits [0, count) into `threads` contiguous ranges and runs
// fn(part, begin, end) on each (part numbers the ranges from 0), the last range on the calling thread. Threads are started per
// call: a stand-in until the shared thread pool (core/thread_pool.h) lands.
// NOTE: starting a thread costs tens of microseconds, which is visible next to
// a small GEMV; the pool removes that.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace claq {

template <typename Fn>
void parallel_ranges(int64_t count, int threads, Fn&& fn) {
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(threads, count));
  if (parts == 1) {
    fn(0, int64_t{0}, count);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(parts - 1);
  for (int64_t i = 0; i + 1 < parts; ++i) {
    const int64_t begin = count * i / parts, end = count * (i + 1) / parts;
    workers.emplace_back([&fn, i, begin, end] { fn(static_cast<int>(i), begin, end); });
  }
  fn(static_cast<int>(parts - 1), count * (parts - 1) / parts, count);
  for (std::thread& worker : workers) worker.join();
}

}  // namespace claq
