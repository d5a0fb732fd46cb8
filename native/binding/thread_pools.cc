#include "binding/thread_pools.h"

#include <map>
#include <memory>
#include <mutex>

namespace claq::binding {

ThreadPool* shared_thread_pool(int threads) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  const std::lock_guard<std::mutex> lock(mutex);
  std::unique_ptr<ThreadPool>& pool = pools[threads];
  if (!pool) pool = std::make_unique<ThreadPool>(threads);
  return pool.get();
}

}  // namespace claq::binding
