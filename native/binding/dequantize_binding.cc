// Binding of core/dequantize.h for lib/dequantize-parts.ts:
//   dequantizeSync(parts: QuantizedParts, out: Float32Array): void
// The addon checks every array and index it reads first
// (check_dequantize_parts), since the parts may come from a caller or a file.
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
  Napi::Float32Array out = read_typed_array<float>(info[1], "dequantizeParts: out", napi_float32_array, "Float32Array",
                                                   view.rows * view.cols);
  throw_if_error(env, check_dequantize_parts(view, "dequantizeParts"));
  dequantize_parts(view, out.Data());
  return env.Undefined();
}

}  // namespace

void register_dequantize(Napi::Env env, Napi::Object exports) {
  exports.Set("dequantizeSync", Napi::Function::New(env, dequantize_sync, "dequantizeSync"));
}

}  // namespace claq::binding
