// A fixed pool of worker threads for data-parallel loops. The workers start
// with the pool and the destructor joins them. parallel_for hands out
// contiguous chunks of an index range to the workers and the calling thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace claq {

class ThreadPool {
 public:
  // `threads` counts the calling thread too; 0 means
  // std::thread::hardware_concurrency(). The pool has at least one thread.
  explicit ThreadPool(int threads);
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return size_; }

  // Splits [0, count) into at most size() contiguous chunks and calls
  // fn(begin, end) once per chunk, on the workers and the calling thread.
  // Returns when every chunk is done. An exception thrown by fn is caught on
  // the thread that ran it and the first one is rethrown here, after all
  // chunks have finished. A call from inside fn runs fn serially on the
  // calling thread, and a call from another thread waits until the running
  // one returns, so nested use of the same pool cannot deadlock.
  void parallel_for(int64_t count, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  struct Job {
    const std::function<void(int64_t, int64_t)>* fn = nullptr;
    int64_t count = 0;
    int64_t chunks = 0;
  };

  void worker_loop();

  // Spins for a short while until a job newer than `seen` is published;
  // returns at once when one is, or after the spin time.
  void spin_for_job(uint64_t seen) const;
  // Claims and runs chunks of the current job until none is left; returns how
  // many this thread ran.
  int64_t run_chunks(const Job& job);

  int size_;
  std::vector<std::thread> workers_;

  std::mutex call_mutex_;  // one parallel_for at a time
  std::mutex mutex_;       // guards everything below
  std::condition_variable wake_;
  std::condition_variable done_;
  bool stopping_ = false;
  uint64_t generation_ = 0;
  // generation_, readable without the mutex by spinning workers.
  std::atomic<uint64_t> published_generation_{0};
  Job job_;
  int64_t next_chunk_ = 0;
  int64_t chunks_done_ = 0;
  int active_workers_ = 0;
  std::exception_ptr error_;
};

}  // namespace claq
