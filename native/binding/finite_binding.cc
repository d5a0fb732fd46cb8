#include "binding/modules.h"
#include "core/finite.h"

namespace claq::binding {
namespace {

// firstNonFiniteSync(array: Float32Array | Float64Array): number, -1 when all are finite.
Napi::Value first_non_finite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(env, "firstNonFiniteSync: expected a Float32Array or Float64Array");
  }
  const Napi::TypedArray array = info[0].As<Napi::TypedArray>();
  const int64_t count = static_cast<int64_t>(array.ElementLength());
  int64_t index;
  if (array.TypedArrayType() == napi_float32_array) {
    index = first_non_finite_f32(array.As<Napi::Float32Array>().Data(), count);
  } else if (array.TypedArrayType() == napi_float64_array) {
    index = first_non_finite_f64(array.As<Napi::Float64Array>().Data(), count);
  } else {
    throw Napi::TypeError::New(env, "firstNonFiniteSync: expected a Float32Array or Float64Array");
  }
  return Napi::Number::New(env, static_cast<double>(index));
}

}  // namespace

void register_finite(Napi::Env env, Napi::Object exports) {
  exports.Set("firstNonFiniteSync", Napi::Function::New(env, first_non_finite, "firstNonFiniteSync"));
}

}  // namespace claq::binding
