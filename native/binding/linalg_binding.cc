// Benchmark-only entry points for the dense linear algebra (bench/linalg.ts):
// they run one operation synchronously on caller-owned Float32Arrays so the
// benchmark times the kernels, not allocation. Not part of the public API.
#include <map>
#include <memory>
#include <string>

#include "binding/errors.h"
#include "binding/modules.h"
#include "core/hessian.h"
#include "core/linalg.h"
#include "core/thread_pool.h"
#include "kernels/gemm.h"

namespace claq::binding {
namespace {

// One pool per thread count, kept for the life of the process, so repeated
// benchmark calls do not time thread start-up.
ThreadPool* pool_for(int threads) {
  static std::map<int, std::unique_ptr<ThreadPool>> pools;
  std::unique_ptr<ThreadPool>& pool = pools[threads];
  if (!pool) pool = std::make_unique<ThreadPool>(threads);
  return pool.get();
}

Napi::Object options_argument(const Napi::CallbackInfo& info, const char* operation) {
  if (info.Length() != 1 || !info[0].IsObject()) {
    throw Napi::TypeError::New(info.Env(), std::string(operation) + ": expected one options object");
  }
  return info[0].As<Napi::Object>();
}

// Dimensions are capped at 2^24 so that products of two stay far below 2^63.
constexpr int64_t kMaxDimension = int64_t{1} << 24;

int64_t integer_option(const Napi::Object& options, const char* operation, const char* name, int64_t min,
                       int64_t max = kMaxDimension) {
  const Napi::Value value = options.Get(name);
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(options.Env(), std::string(operation) + ": " + name + " must be a number");
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= static_cast<double>(min)) || number > static_cast<double>(max) ||
      number != static_cast<double>(static_cast<int64_t>(number))) {
    throw Napi::RangeError::New(options.Env(), std::string(operation) + ": " + name + " must be an integer in [" +
                                                   std::to_string(min) + ", " + std::to_string(max) + "], got " +
                                                   std::to_string(number));
  }
  return static_cast<int64_t>(number);
}

// The Float32Array `name`, which must have at least `min_length` elements.
float* float_array_option(const Napi::Object& options, const char* operation, const char* name, int64_t min_length) {
  const Napi::Value value = options.Get(name);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(options.Env(), std::string(operation) + ": " + name + " must be a Float32Array");
  }
  Napi::Float32Array array = value.As<Napi::Float32Array>();
  if (static_cast<int64_t>(array.ElementLength()) < min_length) {
    throw Napi::RangeError::New(options.Env(), std::string(operation) + ": " + name + " has " +
                                                   std::to_string(array.ElementLength()) + " elements, needs " +
                                                   std::to_string(min_length));
  }
  return array.Data();
}

// 0 means every core.
int threads_option(const Napi::Object& options, const char* operation) {
  return static_cast<int>(integer_option(options, operation, "threads", 0, 1024));
}

// benchGemm({ transA, transB, m, n, k, a, b, c, threads }): C = op(A) op(B) + C,
// all matrices dense (leading dimension = width).
Napi::Value bench_gemm(const Napi::CallbackInfo& info) {
  const char* operation = "benchGemm";
  const Napi::Object options = options_argument(info, operation);
  const bool trans_a = options.Get("transA").ToBoolean();
  const bool trans_b = options.Get("transB").ToBoolean();
  const int64_t m = integer_option(options, operation, "m", 1);
  const int64_t n = integer_option(options, operation, "n", 1);
  const int64_t k = integer_option(options, operation, "k", 1);
  const float* a = float_array_option(options, operation, "a", m * k);
  const float* b = float_array_option(options, operation, "b", k * n);
  float* c = float_array_option(options, operation, "c", m * n);
  const int threads = threads_option(options, operation);
  gemm_f32(trans_a, trans_b, m, n, k, 1.0f, a, trans_a ? m : k, b, trans_b ? k : n, 1.0f, c, n,
           pool_for(threads));
  return info.Env().Undefined();
}

// benchInverseFactor({ h, n, u, threads }): U with H^-1 = U^T U.
Napi::Value bench_inverse_factor(const Napi::CallbackInfo& info) {
  const char* operation = "benchInverseFactor";
  const Napi::Object options = options_argument(info, operation);
  const int64_t n = integer_option(options, operation, "n", 1);
  const float* h = float_array_option(options, operation, "h", n * n);
  float* u = float_array_option(options, operation, "u", n * n);
  const int threads = threads_option(options, operation);
  throw_if_error(info.Env(), inverse_upper_factor_f32(h, n, u, pool_for(threads)));
  return info.Env().Undefined();
}

// benchCholesky({ a, n, threads }): the lower Cholesky factor of A in place.
Napi::Value bench_cholesky(const Napi::CallbackInfo& info) {
  const char* operation = "benchCholesky";
  const Napi::Object options = options_argument(info, operation);
  const int64_t n = integer_option(options, operation, "n", 1);
  float* a = float_array_option(options, operation, "a", n * n);
  const int threads = threads_option(options, operation);
  throw_if_error(info.Env(), cholesky_lower_f32(a, n, n, pool_for(threads)));
  return info.Env().Undefined();
}

// benchHessian({ activations, tokens, cols, threads }): accumulates the
// activations into a fresh HessianAccumulator and returns trace(H).
Napi::Value bench_hessian(const Napi::CallbackInfo& info) {
  const char* operation = "benchHessian";
  const Napi::Object options = options_argument(info, operation);
  const int64_t tokens = integer_option(options, operation, "tokens", 1);
  const int64_t cols = integer_option(options, operation, "cols", 1);
  const float* x = float_array_option(options, operation, "activations", tokens * cols);
  const int threads = threads_option(options, operation);
  HessianAccumulator accumulator(cols);
  throw_if_error(info.Env(), accumulator.add(x, tokens, threads));
  double trace = 0;
  for (int64_t i = 0; i < cols; ++i) trace += accumulator.gram()[i * cols + i];
  return Napi::Number::New(info.Env(), 2.0 * trace / static_cast<double>(tokens));
}

}  // namespace

void register_linalg(Napi::Env env, Napi::Object exports) {
  exports.Set("benchGemm", Napi::Function::New(env, bench_gemm, "benchGemm"));
  exports.Set("benchInverseFactor", Napi::Function::New(env, bench_inverse_factor, "benchInverseFactor"));
  exports.Set("benchCholesky", Napi::Function::New(env, bench_cholesky, "benchCholesky"));
  exports.Set("benchHessian", Napi::Function::New(env, bench_hessian, "benchHessian"));
}

}  // namespace claq::binding
