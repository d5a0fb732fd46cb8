// The wrapped Hessian accumulator, shared by hessian_binding.cc (which exports
// the NativeHessian class) and the bindings that read H from it
// (quantize_binding.cc, output_error_binding.cc).
#pragma once

#include <napi.h>

#include <memory>
#include <shared_mutex>

#include "core/hessian.h"

namespace claq::binding {

// One accumulator and its lock. Adds hold the lock alone and readers share
// it, so several quantizations read one Hessian at once, in place, while an
// add waits for them. lib/hessian.ts orders the calls so that the JavaScript
// thread never waits for the lock.
struct HessianState {
  explicit HessianState(int64_t cols) : accumulator(cols) {}

  std::shared_mutex mutex;
  HessianAccumulator accumulator;
};

// Returns the state behind a NativeHessian object, after checking its type
// tag; throws a TypeError naming `what` for any other value.
std::shared_ptr<HessianState> unwrap_hessian(const Napi::Value& value, const char* what);

// Locks `state` for reading with its Gram matrix full and symmetric (the
// first reader after an add mirrors the lower triangle under the exclusive
// lock), so the Gram matrix can be read in place while the lock is held.
std::shared_lock<std::shared_mutex> lock_symmetric(HessianState& state);

}  // namespace claq::binding
