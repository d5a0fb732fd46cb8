// Conversion of core Status values to JavaScript errors. Argument errors become
// TypeError or RangeError; everything else an Error with a stable `code`
// (status_code_name), which lib/errors.ts maps to ClaqError or AbortError.
#pragma once

#include <napi.h>

#include <string>

#include "core/status.h"

namespace claq::binding {

inline Napi::Error make_error(Napi::Env env, const Status& status) {
  Napi::Error error = status.code() == StatusCode::kInvalidArgument
                          ? Napi::RangeError::New(env, status.message())
                          : Napi::Error::New(env, status.message());
  error.Set("code", Napi::String::New(env, status_code_name(status.code())));
  if (status.code() == StatusCode::kAborted) {
    error.Set("name", Napi::String::New(env, "AbortError"));
  }
  return error;
}

inline void throw_if_error(Napi::Env env, const Status& status) {
  if (!status.ok()) throw make_error(env, status);
}

}  // namespace claq::binding
