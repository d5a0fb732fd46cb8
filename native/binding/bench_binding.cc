// Baselines for the kernel benchmarks (bench/): the memory-read pass
// (sum_f32) and the float32 matmul on pre-packed panels (dense_f32.h).
//
//   sumF32(x: Float32Array, threads, prefetchBytes?): number
//   adviseHugePages(x: Float32Array): number
//   denseF32Pack(weight: Float32Array, rows, cols): DenseHandle
//   denseF32Matmul(handle, x: Float32Array, tokens, y: Float32Array, threads): void
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "binding/errors.h"
#include "binding/modules.h"
#include "binding/thread_pools.h"
#include "kernels/dense_f32.h"
#include "kernels/huge_pages.h"
#include "kernels/sum.h"

namespace claq::binding {
namespace {

constexpr napi_type_tag kDenseLayerTag = {0x6c61712d64656e73ULL, 0x652d6633322d3031ULL};

Napi::Float32Array float32_argument(const Napi::CallbackInfo& info, size_t index, const char* operation,
                                    const char* name) {
  if (info.Length() <= index || !info[index].IsTypedArray() ||
      info[index].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(operation) + ": " + name + " must be a Float32Array");
  }
  return info[index].As<Napi::Float32Array>();
}

int64_t integer_argument(const Napi::CallbackInfo& info, size_t index, const char* operation, const char* name) {
  const double v = info.Length() > index && info[index].IsNumber() ? info[index].As<Napi::Number>().DoubleValue() : -1;
  if (!(v >= 1 && v <= 1e12) || v != static_cast<double>(static_cast<int64_t>(v))) {
    throw Napi::RangeError::New(info.Env(), std::string(operation) + ": " + name + " must be an integer >= 1");
  }
  return static_cast<int64_t>(v);
}

// Largest software prefetch distance sumF32 accepts (1 MiB).
constexpr double kMaxPrefetchBytes = 1 << 20;

// Reads the optional prefetch distance at `index`: 0 when absent.
size_t prefetch_argument(const Napi::CallbackInfo& info, size_t index) {
  if (info.Length() <= index || info[index].IsUndefined()) return 0;

  if (!info[index].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "sumF32: prefetchBytes must be a number, got " +
                                               info[index].ToString().Utf8Value());
  }
  const double value = info[index].As<Napi::Number>().DoubleValue();
  if (!(value >= 0 && value <= kMaxPrefetchBytes && value == std::floor(value))) {
    throw Napi::RangeError::New(info.Env(), "sumF32: prefetchBytes must be an integer from 0 to 1048576, got " +
                                                info[index].ToString().Utf8Value());
  }
  return static_cast<size_t>(value);
}

// Sums x with `threads` threads, each over one contiguous slice, with a
// software prefetch `prefetchBytes` ahead (0 or absent: none).
Napi::Value sum_binding(const Napi::CallbackInfo& info) {
  Napi::Float32Array x = float32_argument(info, 0, "sumF32", "x");
  const int64_t threads = integer_argument(info, 1, "sumF32", "threads");
  const size_t prefetch_bytes = prefetch_argument(info, 2);
  const float* data = x.Data();
  const int64_t n = static_cast<int64_t>(x.ElementLength());
  std::vector<float> partial(threads, 0.0f);
  // One chunk per thread: chunk `part` is [part, part + 1) of [0, threads).
  shared_thread_pool(static_cast<int>(threads))->parallel_for(threads, [&](int64_t part, int64_t) {
    const int64_t begin = n * part / threads, end = n * (part + 1) / threads;
    partial[part] = sum_f32(data + begin, static_cast<size_t>(end - begin), prefetch_bytes);
  });
  float total = 0;
  for (float p : partial) total += p;
  return Napi::Number::New(info.Env(), total);
}

// Asks for huge pages under x (kernels/huge_pages.h), as packed layers get,
// so that the memory pass reads its buffers with the same page size. Only
// pages not yet touched follow the advice at once. Returns the bytes advised.
Napi::Value huge_pages_binding(const Napi::CallbackInfo& info) {
  Napi::Float32Array x = float32_argument(info, 0, "adviseHugePages", "x");
  const size_t advised = advise_huge_pages(x.Data(), x.ByteLength());
  return Napi::Number::New(info.Env(), static_cast<double>(advised));
}

Napi::Value dense_pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array weight = float32_argument(info, 0, "denseF32Pack", "weight");
  const int64_t rows = integer_argument(info, 1, "denseF32Pack", "rows");
  const int64_t cols = integer_argument(info, 2, "denseF32Pack", "cols");
  if (static_cast<int64_t>(weight.ElementLength()) != rows * cols) {
    throw Napi::RangeError::New(env, "denseF32Pack: weight has length " + std::to_string(weight.ElementLength()) +
                                         ", expected rows * cols = " + std::to_string(rows * cols));
  }
  auto layer = std::make_unique<DenseF32Layer>();
  throw_if_error(env, dense_f32_pack(weight.Data(), rows, cols, layer.get()));
  auto handle = Napi::External<DenseF32Layer>::New(env, layer.release(), [](Napi::Env, DenseF32Layer* l) { delete l; });
  handle.TypeTag(&kDenseLayerTag);
  return handle;
}

Napi::Value dense_matmul(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal() ||
      !info[0].As<Napi::External<DenseF32Layer>>().CheckTypeTag(&kDenseLayerTag)) {
    throw Napi::TypeError::New(env, "denseF32Matmul: the first argument must be a handle from denseF32Pack");
  }
  const DenseF32Layer& layer = *info[0].As<Napi::External<DenseF32Layer>>().Data();
  Napi::Float32Array x = float32_argument(info, 1, "denseF32Matmul", "x");
  const int64_t tokens = integer_argument(info, 2, "denseF32Matmul", "tokens");
  Napi::Float32Array y = float32_argument(info, 3, "denseF32Matmul", "y");
  const int64_t threads = integer_argument(info, 4, "denseF32Matmul", "threads");
  if (static_cast<int64_t>(x.ElementLength()) != tokens * layer.cols ||
      static_cast<int64_t>(y.ElementLength()) != tokens * layer.rows) {
    throw Napi::RangeError::New(env, "denseF32Matmul: x must have tokens * cols and y tokens * rows elements");
  }
  throw_if_error(env, dense_f32_matmul(layer, x.Data(), tokens, y.Data(),
                                      threads > 1 ? shared_thread_pool(static_cast<int>(threads)) : nullptr));
  return env.Undefined();
}

}  // namespace

void register_bench(Napi::Env env, Napi::Object exports) {
  exports.Set("sumF32", Napi::Function::New(env, sum_binding, "sumF32"));
  exports.Set("adviseHugePages", Napi::Function::New(env, huge_pages_binding, "adviseHugePages"));
  exports.Set("denseF32Pack", Napi::Function::New(env, dense_pack, "denseF32Pack"));
  exports.Set("denseF32Matmul", Napi::Function::New(env, dense_matmul, "denseF32Matmul"));
}

}  // namespace claq::binding
