// One register function per binding file; addon.cc calls each at load.
#pragma once

#include <napi.h>

namespace claq::binding {

void register_simd(Napi::Env env, Napi::Object exports);
void register_llama(Napi::Env env, Napi::Object exports);
void register_convert(Napi::Env env, Napi::Object exports);

}  // namespace claq::binding
