// Argument readers for the binding. Each one checks the JavaScript type and
// range and throws a TypeError or RangeError that names the function and the
// argument, so no bad input reaches core code. TypeScript checks the same
// rules first; these checks guard direct calls to the addon.
#pragma once

#include <napi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace claq::binding {

inline std::string describe(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "the number " + value.ToString().Utf8Value();
    case napi_string: return "a string";
    case napi_object: return value.IsTypedArray() ? "a typed array of another type" : "an object";
    case napi_function: return "a function";
    default: return "a value of another type";
  }
}

// Reads an integer in [min, max]; rejects fractions, NaN and infinities.
inline int64_t read_integer(const Napi::Value& value, const char* what, int64_t min, int64_t max) {
  Napi::Env env = value.Env();
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a number, received " + describe(value));
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(min) ||
      number > static_cast<double>(max)) {
    throw Napi::RangeError::New(env, std::string(what) + " must be an integer in [" + std::to_string(min) +
                                         ", " + std::to_string(max) + "], received " + describe(value));
  }
  return static_cast<int64_t>(number);
}

// Reads a finite number in [min, max].
inline double read_number(const Napi::Value& value, const char* what, double min, double max) {
  Napi::Env env = value.Env();
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a number, received " + describe(value));
  }
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || number < min || number > max) {
    throw Napi::RangeError::New(env, std::string(what) + " must be a finite number in [" + std::to_string(min) +
                                         ", " + std::to_string(max) + "], received " + describe(value));
  }
  return number;
}

inline bool read_boolean(const Napi::Value& value, const char* what) {
  if (!value.IsBoolean()) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a boolean, received " + describe(value));
  }
  return value.As<Napi::Boolean>().Value();
}

inline std::string read_string(const Napi::Value& value, const char* what) {
  if (!value.IsString()) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + " must be a string, received " + describe(value));
  }
  return value.As<Napi::String>().Utf8Value();
}

// Reads a typed array of element type `type` and exactly `length` elements.
template <typename T>
Napi::TypedArrayOf<T> read_typed_array(const Napi::Value& value, const char* what, napi_typedarray_type type,
                                       const char* type_name, int64_t length) {
  Napi::Env env = value.Env();
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(env, std::string(what) + " must be a " + type_name + ", received " + describe(value));
  }
  Napi::TypedArrayOf<T> array = value.As<Napi::TypedArrayOf<T>>();
  if (static_cast<int64_t>(array.ElementLength()) != length) {
    throw Napi::RangeError::New(env, std::string(what) + " must have " + std::to_string(length) +
                                         " elements, received " + std::to_string(array.ElementLength()));
  }
  return array;
}

// Copies a native vector into a new JavaScript typed array.
template <typename T>
Napi::TypedArrayOf<T> to_typed_array(Napi::Env env, const T* data, size_t count) {
  Napi::TypedArrayOf<T> array = Napi::TypedArrayOf<T>::New(env, count);
  if (count > 0) std::copy(data, data + count, array.Data());
  return array;
}

// Moves a native vector into a new JavaScript typed array without a copy:
// the ArrayBuffer owns the vector and frees it, through its allocator, when
// collected. Runtimes that forbid external buffers (a V8 sandbox) get a copy
// instead.
template <typename T, typename Allocator>
Napi::TypedArrayOf<T> adopt_typed_array(Napi::Env env, std::vector<T, Allocator>&& values) {
  using Vector = std::vector<T, Allocator>;
  if (values.empty()) return Napi::TypedArrayOf<T>::New(env, 0);
  auto* owned = new Vector(std::move(values));
  const auto release = [](napi_env, void*, void* hint) { delete static_cast<Vector*>(hint); };
  napi_value buffer;
  const napi_status status =
      napi_create_external_arraybuffer(env, owned->data(), owned->size() * sizeof(T), release, owned, &buffer);
  if (status != napi_ok) {
    Napi::TypedArrayOf<T> copy = to_typed_array<T>(env, owned->data(), owned->size());
    delete owned;
    return copy;
  }
  return Napi::TypedArrayOf<T>::New(env, owned->size(), Napi::ArrayBuffer(env, buffer), 0);
}

}  // namespace claq::binding
