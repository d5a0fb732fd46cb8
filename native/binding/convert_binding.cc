// Bindings of kernels/convert.h. Each call converts one whole buffer
// synchronously into an output that the caller provides, so no memory is
// allocated here. The TypeScript wrappers in lib/safetensors/convert.ts check
// the arguments first, and these checks repeat them.
#include <string>

#include "binding/modules.h"
#include "kernels/convert.h"

namespace claq::binding {
namespace {

struct HalfBuffer {
  uint8_t* data;
  size_t count;  // 16-bit elements
};

struct FloatBuffer {
  float* data;
  size_t count;
};

HalfBuffer half_argument(const Napi::CallbackInfo& info, size_t index, const char* operation) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string(operation) + ": argument " + std::to_string(index) +
                                               " must be a Uint8Array of 16-bit values");
  }
  Napi::Uint8Array bytes = value.As<Napi::Uint8Array>();
  if (bytes.ByteLength() % 2 != 0) {
    throw Napi::RangeError::New(info.Env(), std::string(operation) + ": the 16-bit buffer has an odd byte length (" +
                                                std::to_string(bytes.ByteLength()) + ")");
  }
  return {bytes.Data(), bytes.ByteLength() / 2};
}

FloatBuffer float_argument(const Napi::CallbackInfo& info, size_t index, const char* operation) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(info.Env(), std::string(operation) + ": argument " + std::to_string(index) +
                                               " must be a Float32Array");
  }
  Napi::Float32Array floats = value.As<Napi::Float32Array>();
  return {floats.Data(), floats.ElementLength()};
}

void check_counts(const Napi::CallbackInfo& info, size_t source, size_t target, const char* operation) {
  if (info.Length() != 2) {
    throw Napi::TypeError::New(info.Env(), std::string(operation) + ": expected 2 arguments (source, target)");
  }
  if (source != target) {
    throw Napi::RangeError::New(info.Env(), std::string(operation) + ": source has " + std::to_string(source) +
                                                " elements but target has " + std::to_string(target));
  }
}

template <void (*kConvert)(const uint8_t*, float*, size_t)>
Napi::Value widen(const Napi::CallbackInfo& info, const char* operation) {
  if (info.Length() != 2) check_counts(info, 0, 0, operation);
  const HalfBuffer source = half_argument(info, 0, operation);
  const FloatBuffer target = float_argument(info, 1, operation);
  check_counts(info, source.count, target.count, operation);
  kConvert(source.data, target.data, source.count);
  return info.Env().Undefined();
}

template <void (*kConvert)(const float*, uint8_t*, size_t)>
Napi::Value narrow(const Napi::CallbackInfo& info, const char* operation) {
  if (info.Length() != 2) check_counts(info, 0, 0, operation);
  const FloatBuffer source = float_argument(info, 0, operation);
  const HalfBuffer target = half_argument(info, 1, operation);
  check_counts(info, source.count, target.count, operation);
  kConvert(source.data, target.data, source.count);
  return info.Env().Undefined();
}

Napi::Value f16_to_f32_sync(const Napi::CallbackInfo& info) { return widen<f16_to_f32>(info, "f16ToF32Sync"); }
Napi::Value bf16_to_f32_sync(const Napi::CallbackInfo& info) { return widen<bf16_to_f32>(info, "bf16ToF32Sync"); }
Napi::Value f32_to_f16_sync(const Napi::CallbackInfo& info) { return narrow<f32_to_f16>(info, "f32ToF16Sync"); }
Napi::Value f32_to_bf16_sync(const Napi::CallbackInfo& info) { return narrow<f32_to_bf16>(info, "f32ToBf16Sync"); }

}  // namespace

void register_convert(Napi::Env env, Napi::Object exports) {
  exports.Set("f16ToF32Sync", Napi::Function::New(env, f16_to_f32_sync, "f16ToF32Sync"));
  exports.Set("bf16ToF32Sync", Napi::Function::New(env, bf16_to_f32_sync, "bf16ToF32Sync"));
  exports.Set("f32ToF16Sync", Napi::Function::New(env, f32_to_f16_sync, "f32ToF16Sync"));
  exports.Set("f32ToBf16Sync", Napi::Function::New(env, f32_to_bf16_sync, "f32ToBf16Sync"));
}

}  // namespace claq::binding
