// Thread pools shared by the bindings: one per thread count, created on first
// use and kept for the life of the process, so calls do not pay for starting
// threads. Call from the JavaScript thread only (the map is not locked); the
// returned pool may then be used from any thread.
#pragma once

#include "core/thread_pool.h"

namespace claq::binding {

ThreadPool* shared_thread_pool(int threads);

}  // namespace claq::binding
