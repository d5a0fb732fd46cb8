#include "binding/parts_view.h"

#include <cstdint>
#include <tuple>
#include <utility>

#include "binding/args.h"

namespace claq::binding {
namespace {

template <typename T>
std::pair<const T*, size_t> typed_array(Napi::Env env, Napi::Object parts, const std::string& label, const char* name,
                                        napi_typedarray_type type, const char* type_name) {
  Napi::Value value = parts.Get(name);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw Napi::TypeError::New(env, label + "." + name + " must be a " + type_name + ", received " + describe(value));
  }
  Napi::TypedArrayOf<T> array = value.As<Napi::TypedArrayOf<T>>();
  return {array.Data(), array.ElementLength()};
}

// Reads rowScales and rowZeros, which must be both absent (undefined) or both
// Float32Arrays.
void read_row_grid(Napi::Env env, Napi::Object parts, const std::string& label, QuantizedPartsView* view) {
  const bool scales = !parts.Get("rowScales").IsUndefined(), zeros = !parts.Get("rowZeros").IsUndefined();
  if (scales != zeros) {
    throw Napi::TypeError::New(env, label + "." + (scales ? "rowZeros" : "rowScales") + " must be given with " +
                                        (scales ? "rowScales" : "rowZeros"));
  }
  if (!scales) return;
  std::tie(view->row_scales, view->row_scales_length) =
      typed_array<float>(env, parts, label, "rowScales", napi_float32_array, "Float32Array");
  std::tie(view->row_zeros, view->row_zeros_length) =
      typed_array<float>(env, parts, label, "rowZeros", napi_float32_array, "Float32Array");
}

}  // namespace

QuantizedPartsView read_parts_view(Napi::Env env, Napi::Object parts, const std::string& label) {
  QuantizedPartsView view;
  view.rows = read_integer(parts.Get("rows"), (label + ".rows").c_str(), 1, kMaxPackedDimension);
  view.cols = read_integer(parts.Get("cols"), (label + ".cols").c_str(), 1, kMaxPackedDimension);
  std::tie(view.bits_per_column, view.bits_per_column_length) =
      typed_array<uint8_t>(env, parts, label, "bitsPerColumn", napi_uint8_array, "Uint8Array");
  std::tie(view.permutation, view.permutation_length) =
      typed_array<int32_t>(env, parts, label, "permutation", napi_int32_array, "Int32Array");
  std::tie(view.codes, view.codes_length) =
      typed_array<uint8_t>(env, parts, label, "codes", napi_uint8_array, "Uint8Array");
  std::tie(view.codebook_offsets, view.codebook_offsets_length) =
      typed_array<uint32_t>(env, parts, label, "codebookOffsets", napi_uint32_array, "Uint32Array");
  std::tie(view.codebooks, view.codebooks_length) =
      typed_array<float>(env, parts, label, "codebooks", napi_float32_array, "Float32Array");
  std::tie(view.outlier_rows, view.outlier_rows_length) =
      typed_array<int32_t>(env, parts, label, "outlierRows", napi_int32_array, "Int32Array");
  std::tie(view.outlier_cols, view.outlier_cols_length) =
      typed_array<int32_t>(env, parts, label, "outlierCols", napi_int32_array, "Int32Array");
  std::tie(view.outlier_values, view.outlier_values_length) =
      typed_array<float>(env, parts, label, "outlierValues", napi_float32_array, "Float32Array");
  read_row_grid(env, parts, label, &view);
  return view;
}

}  // namespace claq::binding
