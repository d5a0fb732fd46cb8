#include <napi.h>

#include "binding/modules.h"

namespace {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  claq::binding::register_simd(env, exports);
  claq::binding::register_finite(env, exports);
  claq::binding::register_llama(env, exports);
  claq::binding::register_packed(env, exports);
  claq::binding::register_bench(env, exports);
  claq::binding::register_linalg(env, exports);
  claq::binding::register_convert(env, exports);
  claq::binding::register_code_stream(env, exports);
  claq::binding::register_dequantize(env, exports);
  claq::binding::register_hessian(env, exports);
  claq::binding::register_quantize(env, exports);
  claq::binding::register_output_error(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(claq, init)
