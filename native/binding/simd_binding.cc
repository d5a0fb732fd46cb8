#include <string>

#include "binding/modules.h"
#include "kernels/simd_level.h"

namespace claq::binding {
namespace {

Napi::Value simd_level(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), simd_level_name(active_simd_level()));
}

Napi::Value supported_levels(const Napi::CallbackInfo& info) {
  const std::vector<SimdLevel> levels = supported_simd_levels();
  Napi::Array result = Napi::Array::New(info.Env(), levels.size());
  for (size_t i = 0; i < levels.size(); ++i) {
    result.Set(static_cast<uint32_t>(i), simd_level_name(levels[i]));
  }
  return result;
}

Napi::Value set_level(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(env, "setSimdLevel: level must be a string");
  }
  const std::string name = info[0].As<Napi::String>();
  SimdLevel level;
  if (!parse_simd_level(name, &level)) {
    throw Napi::RangeError::New(env, "setSimdLevel: unknown level '" + name +
                                         "' (expected scalar, avx2, avx512 or neon)");
  }
  if (!set_simd_level(level)) {
    throw Napi::RangeError::New(env, "setSimdLevel: level '" + name +
                                         "' is not supported by this CPU or build");
  }
  return env.Undefined();
}

Napi::Value level_warning(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), simd_level_warning());
}

}  // namespace

void register_simd(Napi::Env env, Napi::Object exports) {
  exports.Set("simdLevel", Napi::Function::New(env, simd_level, "simdLevel"));
  exports.Set("supportedSimdLevels", Napi::Function::New(env, supported_levels, "supportedSimdLevels"));
  exports.Set("setSimdLevel", Napi::Function::New(env, set_level, "setSimdLevel"));
  exports.Set("simdLevelWarning", Napi::Function::New(env, level_warning, "simdLevelWarning"));
}

}  // namespace claq::binding
