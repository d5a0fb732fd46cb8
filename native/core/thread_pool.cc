#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace claq {
namespace {

// The pool whose job the current thread is running, so that a nested
// parallel_for on the same pool runs inline instead of waiting for itself.
thread_local const ThreadPool* t_running_pool = nullptr;

// How long an idle worker, or a caller waiting for the workers, spins before
// it sleeps. A condition-variable wake takes 5-10 us, a large share of a
// 4096 x 4096 low-bit GEMV (about 60 us on 2 threads), and layers run back
// to back, so the next job usually arrives within the spin.
constexpr std::chrono::microseconds kSpinTime{100};

// Calls done() until it returns true or kSpinTime passes; returns its last result.
template <typename Done>
bool spin_until(Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
  }
  return true;
}

int resolve_thread_count(int threads) {
  if (threads > 0) return threads;
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware == 0 ? 1 : static_cast<int>(hardware);
}

}  // namespace

ThreadPool::ThreadPool(int threads) : size_(resolve_thread_count(threads)) {
  workers_.reserve(size_ - 1);
  for (int i = 1; i < size_; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::parallel_for(int64_t count, const std::function<void(int64_t, int64_t)>& fn) {
  if (count <= 0) return;
  if (size_ == 1 || count == 1 || t_running_pool == this) {
    fn(0, count);
    return;
  }

  std::lock_guard<std::mutex> call_lock(call_mutex_);
  Job job;
  job.fn = &fn;
  job.count = count;
  job.chunks = std::min<int64_t>(count, size_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = job;
    next_chunk_ = 0;
    chunks_done_ = 0;
    error_ = nullptr;
    ++generation_;
    published_generation_.store(generation_, std::memory_order_release);
  }
  wake_.notify_all();

  t_running_pool = this;
  const int64_t ran = run_chunks(job);
  t_running_pool = nullptr;

  std::unique_lock<std::mutex> lock(mutex_);
  chunks_done_ += ran;
  lock.unlock();
  spin_until([&] {
    std::lock_guard<std::mutex> peek(mutex_);
    return chunks_done_ == job.chunks && active_workers_ == 0;
  });
  lock.lock();
  // Waiting for active_workers_ too means that no worker still has a pointer
  // to this job's `fn` when the caller's std::function goes out of scope.
  done_.wait(lock, [&] { return chunks_done_ == job.chunks && active_workers_ == 0; });
  job_ = Job();
  std::exception_ptr error = error_;
  error_ = nullptr;
  lock.unlock();
  if (error) std::rethrow_exception(error);
}

int64_t ThreadPool::run_chunks(const Job& job) {
  int64_t ran = 0;
  for (;;) {
    int64_t chunk;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_chunk_ >= job.chunks) break;
      chunk = next_chunk_++;
    }
    const int64_t begin = job.count * chunk / job.chunks;
    const int64_t end = job.count * (chunk + 1) / job.chunks;
    try {
      (*job.fn)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    ++ran;
  }
  return ran;
}

void ThreadPool::spin_for_job(uint64_t seen) const {
  spin_until([&] { return published_generation_.load(std::memory_order_acquire) != seen; });
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    lock.unlock();
    spin_for_job(seen);
    lock.lock();
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const Job job = job_;
    if (job.fn == nullptr) continue;  // the job finished before this worker woke
    ++active_workers_;
    lock.unlock();

    t_running_pool = this;
    const int64_t ran = run_chunks(job);
    t_running_pool = nullptr;

    lock.lock();
    chunks_done_ += ran;
    --active_workers_;
    if (chunks_done_ == job.chunks && active_workers_ == 0) done_.notify_all();
  }
}

}  // namespace claq
