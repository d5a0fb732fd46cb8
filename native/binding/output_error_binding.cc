// relativeOutputErrorSync: the binding of claq::relative_output_error.
#include <string>

#include "binding/args.h"
#include "binding/errors.h"
#include "binding/hessian_binding.h"
#include "binding/modules.h"
#include "core/output_error.h"

namespace claq::binding {
namespace {

constexpr int64_t kMaxDimension = int64_t{1} << 24;
constexpr int64_t kMaxWeights = (int64_t{1} << 32) - 1;

// relativeOutputErrorSync(weight, quantized, rows, cols, hessian, threads): number
Napi::Value relative_output_error_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* name = "relativeOutputError";
  const int64_t rows = read_integer(info[2], "relativeOutputError: rows", 1, kMaxDimension);
  const int64_t cols = read_integer(info[3], "relativeOutputError: cols", 1, kMaxDimension);
  if (rows * cols > kMaxWeights) {
    throw Napi::RangeError::New(env, std::string(name) + ": rows * cols must be at most " +
                                         std::to_string(kMaxWeights));
  }
  Napi::Float32Array weight = read_typed_array<float>(info[0], "relativeOutputError: weight", napi_float32_array,
                                                      "Float32Array", rows * cols);
  Napi::Float32Array quantized = read_typed_array<float>(info[1], "relativeOutputError: quantized",
                                                         napi_float32_array, "Float32Array", rows * cols);
  std::shared_ptr<HessianState> hessian = unwrap_hessian(info[4], "relativeOutputError: hessian");
  const int threads = static_cast<int>(read_integer(info[5], "relativeOutputError: threads", 1, 1024));
  if (hessian->accumulator.cols() != cols) {
    throw Napi::RangeError::New(env, std::string(name) + ": hessian.cols must equal cols (" + std::to_string(cols) +
                                         "), received " + std::to_string(hessian->accumulator.cols()));
  }

  double result = 0;
  std::shared_lock<std::shared_mutex> lock(hessian->mutex);
  throw_if_error(env, relative_output_error(weight.Data(), quantized.Data(), rows, cols,
                                            hessian->accumulator.gram().data(), threads, &result));
  return Napi::Number::New(env, result);
}

}  // namespace

void register_output_error(Napi::Env env, Napi::Object exports) {
  exports.Set("relativeOutputErrorSync",
              Napi::Function::New(env, relative_output_error_sync, "relativeOutputErrorSync"));
}

}  // namespace claq::binding
