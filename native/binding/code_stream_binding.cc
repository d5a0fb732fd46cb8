// Bindings of core/code_stream.h for lib/checkpoint/code-packing.ts. The
// caller provides the output buffer; every length and width is checked here
// again, because the widths and the stream come from checkpoint files.
#include <string>

#include "binding/args.h"
#include "binding/modules.h"
#include "core/code_stream.h"

namespace claq::binding {
namespace {

struct StreamArguments {
  Napi::Uint8Array codes;
  int64_t rows = 0;
  Napi::Uint8Array bits;
  Napi::Uint8Array stream;
};

Napi::Uint8Array uint8_argument(const Napi::CallbackInfo& info, size_t index, const std::string& label) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), label + " must be a Uint8Array, received " + describe(value));
  }
  return value.As<Napi::Uint8Array>();
}

// (codes, rows, bits, stream) for packing, or (stream, rows, bits, codes) for
// unpacking: the order of the JavaScript call.
StreamArguments read_arguments(const Napi::CallbackInfo& info, const std::string& operation, bool packing) {
  Napi::Env env = info.Env();
  if (info.Length() != 4) throw Napi::TypeError::New(env, operation + ": expected 4 arguments");
  StreamArguments args;
  args.codes = uint8_argument(info, packing ? 0 : 3, operation + ": codes");
  args.stream = uint8_argument(info, packing ? 3 : 0, operation + ": stream");
  args.rows = read_integer(info[1], (operation + ": rows").c_str(), 0, int64_t{1} << 40);
  args.bits = uint8_argument(info, 2, operation + ": bitsPerColumn");

  const int64_t cols = static_cast<int64_t>(args.bits.ElementLength());
  const uint8_t* bits = args.bits.Data();
  for (int64_t j = 0; j < cols; ++j) {
    if (bits[j] < 1 || bits[j] > 8) {
      throw Napi::RangeError::New(env, operation + ": bitsPerColumn[" + std::to_string(j) + "] = " +
                                           std::to_string(bits[j]) + " is not in [1, 8]");
    }
  }
  const int64_t count = static_cast<int64_t>(args.codes.ElementLength());
  if (cols == 0 ? count != 0 : (count % cols != 0 || count / cols != args.rows)) {
    throw Napi::RangeError::New(env, operation + ": codes has " + std::to_string(count) + " elements, expected rows * " +
                                         "columns = " + std::to_string(args.rows) + " * " + std::to_string(cols));
  }
  const int64_t bytes = code_stream_bytes(args.rows, args.bits.Data(), cols);
  if (static_cast<int64_t>(args.stream.ElementLength()) != bytes) {
    throw Napi::RangeError::New(env, operation + ": stream has " + std::to_string(args.stream.ElementLength()) +
                                         " bytes, expected " + std::to_string(bytes));
  }
  return args;
}

// packCodesSync(codes, rows, bitsPerColumn, stream): fills stream.
Napi::Value pack_codes_sync(const Napi::CallbackInfo& info) {
  StreamArguments args = read_arguments(info, "packCodesSync", true);
  pack_code_stream(args.codes.Data(), args.rows, static_cast<int64_t>(args.bits.ElementLength()), args.bits.Data(),
                   args.stream.Data());
  return info.Env().Undefined();
}

// unpackCodesSync(stream, rows, bitsPerColumn, codes): fills codes and returns
// the first column with nonzero padding bits, or -1.
Napi::Value unpack_codes_sync(const Napi::CallbackInfo& info) {
  StreamArguments args = read_arguments(info, "unpackCodesSync", false);
  const int64_t bad = unpack_code_stream(args.stream.Data(), args.rows, static_cast<int64_t>(args.bits.ElementLength()),
                                         args.bits.Data(), args.codes.Data());
  return Napi::Number::New(info.Env(), static_cast<double>(bad));
}

// firstCodeAboveSync(codes, largest): the index of the first code above its
// column's largest code (codes is [rows, largest.length]), or -1.
Napi::Value first_code_above_sync(const Napi::CallbackInfo& info) {
  const std::string operation = "firstCodeAboveSync";
  if (info.Length() != 2) throw Napi::TypeError::New(info.Env(), operation + ": expected 2 arguments");
  Napi::Uint8Array codes = uint8_argument(info, 0, operation + ": codes");
  Napi::Uint8Array largest = uint8_argument(info, 1, operation + ": largest");
  const int64_t cols = static_cast<int64_t>(largest.ElementLength());
  const int64_t count = static_cast<int64_t>(codes.ElementLength());
  if (cols == 0 ? count != 0 : count % cols != 0) {
    throw Napi::RangeError::New(info.Env(), operation + ": codes has " + std::to_string(count) +
                                                " elements, not a multiple of the " + std::to_string(cols) + " columns");
  }
  const int64_t rows = cols == 0 ? 0 : count / cols;
  return Napi::Number::New(info.Env(), static_cast<double>(first_code_above(codes.Data(), rows, cols, largest.Data())));
}

}  // namespace

void register_code_stream(Napi::Env env, Napi::Object exports) {
  exports.Set("firstCodeAboveSync", Napi::Function::New(env, first_code_above_sync, "firstCodeAboveSync"));
  exports.Set("packCodesSync", Napi::Function::New(env, pack_codes_sync, "packCodesSync"));
  exports.Set("unpackCodesSync", Napi::Function::New(env, unpack_codes_sync, "unpackCodesSync"));
}

}  // namespace claq::binding
