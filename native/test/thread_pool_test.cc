// ThreadPool: every index is visited exactly once for any count and pool size,
// nested and concurrent calls finish, and exceptions reach the caller.
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "test/test_framework.h"

using namespace claq;

CLAQ_TEST(thread_pool_visits_every_index_once) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    CHECK_EQ(pool.size(), threads);
    for (int64_t count : {0, 1, 2, 3, 7, 8, 9, 1000}) {
      std::vector<std::atomic<int>> visits(static_cast<size_t>(count));
      for (auto& v : visits) v.store(0);
      std::atomic<int> calls{0};
      pool.parallel_for(count, [&](int64_t begin, int64_t end) {
        ++calls;
        CHECK(begin < end);
        for (int64_t i = begin; i < end; ++i) visits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < count; ++i) CHECK_EQ(visits[i].load(), 1);
      CHECK(calls.load() <= std::max(threads, 1));
      if (count > 0) CHECK(calls.load() >= 1);
    }
  }
}

CLAQ_TEST(thread_pool_zero_threads_uses_hardware_concurrency) {
  ThreadPool pool(0);
  const unsigned hardware = std::thread::hardware_concurrency();
  CHECK_EQ(pool.size(), hardware == 0 ? 1 : static_cast<int>(hardware));
}

CLAQ_TEST(thread_pool_runs_many_jobs_in_a_row) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  for (int round = 0; round < 500; ++round) {
    pool.parallel_for(10, [&](int64_t begin, int64_t end) { total += end - begin; });
  }
  CHECK_EQ(total.load(), int64_t{5000});
}

CLAQ_TEST(thread_pool_nested_call_runs_inline) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  pool.parallel_for(4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      pool.parallel_for(5, [&](int64_t b, int64_t e) { total += e - b; });
    }
  });
  CHECK_EQ(total.load(), int64_t{20});
}

CLAQ_TEST(thread_pool_concurrent_callers_both_finish) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  auto caller = [&] {
    for (int round = 0; round < 200; ++round) {
      pool.parallel_for(6, [&](int64_t begin, int64_t end) { total += end - begin; });
    }
  };
  std::thread other(caller);
  caller();
  other.join();
  CHECK_EQ(total.load(), int64_t{2 * 200 * 6});
}

CLAQ_TEST(thread_pool_rethrows_worker_exception) {
  ThreadPool pool(2);
  bool caught = false;
  try {
    pool.parallel_for(8, [&](int64_t begin, int64_t) {
      if (begin >= 4) throw std::runtime_error("chunk failed");
    });
  } catch (const std::runtime_error& error) {
    caught = std::string(error.what()) == "chunk failed";
  }
  CHECK(caught);

  // The pool still works after an exception.
  std::atomic<int64_t> total{0};
  pool.parallel_for(8, [&](int64_t begin, int64_t end) { total += end - begin; });
  CHECK_EQ(total.load(), int64_t{8});
}
