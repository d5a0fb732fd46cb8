// Binding of core/dequantize.h for lib/dequantize-parts.ts:
//   dequantizeSync(parts: QuantizedParts, out: Float32Array): void
// The addon checks every array and index it reads first
// (check_dequantize_parts), since the parts may come from a caller or a file.
#include <string>

#include "binding/args.h"
#include "binding/errors.h"
#include "binding/modules.h"
#include "binding/parts_view.h"
#include "core/dequantize.h"

namespace claq::binding {
namespace {

Napi::Value dequantize_sync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsObject()) {
    throw Napi::TypeError::New(env, "dequantizeParts: expected (parts, out) with parts an object");
  }
  const QuantizedPartsView view = read_parts_view(env, info[0].As<Napi::Object>(), "dequantizeParts: parts");
  if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "dequantizeParts: out must be a Float32Array, received " + describe(info[1]));
  }
  Napi::Float32Array out = info[1].As<Napi::Float32Array>();
  const int64_t expected = view.rows * view.cols;
  if (static_cast<int64_t>(out.ElementLength()) != expected) {
    throw Napi::RangeError::New(env, "dequantizeParts: out has " + std::to_string(out.ElementLength()) +
                                         " elements, expected rows * cols = " + std::to_string(expected));
  }
  throw_if_error(env, check_dequantize_parts(view, "dequantizeParts"));
  dequantize_parts(view, out.Data());
  return env.Undefined();
}

}  // namespace

void register_dequantize(Napi::Env env, Napi::Object exports) {
  exports.Set("dequantizeSync", Napi::Function::New(env, dequantize_sync, "dequantizeSync"));
}

}  // namespace claq::binding
