// The wrapped Hessian accumulator, shared by hessian_binding.cc (which exports
// the NativeHessian class) and quantize_binding.cc (which reads H from it).
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "core/hessian.h"

namespace claq::binding {

// One accumulator and the lock that serialises it: an async add runs on a
// worker thread while JavaScript may start a quantization that reads H.
struct HessianState {
  explicit HessianState(int64_t cols) : accumulator(cols) {}

  std::mutex mutex;
  HessianAccumulator accumulator;
};

// Returns the state behind a NativeHessian object, after checking its type
// tag; throws a TypeError naming `what` for any other value.
std::shared_ptr<HessianState> unwrap_hessian(const Napi::Value& value, const char* what);

}  // namespace claq::binding
