// Thread pools shared by the bindings: one per thread count, created on first
// use and kept for the life of the process, so calls do not pay for starting
// threads. Callable from any thread (worker_threads included), and the
// returned pool may be used from any thread.
#pragma once

#include "core/thread_pool.h"

namespace claq::binding {

ThreadPool* shared_thread_pool(int threads);

}  // namespace claq::binding
