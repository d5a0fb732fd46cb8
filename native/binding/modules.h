// One register function per binding file; addon.cc calls each at load.
#pragma once

#include <napi.h>

namespace claq::binding {

void register_simd(Napi::Env env, Napi::Object exports);
void register_finite(Napi::Env env, Napi::Object exports);
void register_llama(Napi::Env env, Napi::Object exports);
void register_packed(Napi::Env env, Napi::Object exports);
void register_bench(Napi::Env env, Napi::Object exports);
void register_linalg(Napi::Env env, Napi::Object exports);
void register_convert(Napi::Env env, Napi::Object exports);
void register_code_stream(Napi::Env env, Napi::Object exports);
void register_dequantize(Napi::Env env, Napi::Object exports);
void register_hessian(Napi::Env env, Napi::Object exports);
void register_quantize(Napi::Env env, Napi::Object exports);
void register_output_error(Napi::Env env, Napi::Object exports);

}  // namespace claq::binding
