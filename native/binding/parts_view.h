// Reading a QuantizedParts object (lib/quantized-parts.ts) from JavaScript.
#pragma once

#include <napi.h>

#include <string>

#include "core/pack.h"

namespace claq::binding {

// Returns a view of the typed arrays of `parts`. It checks the types, that
// rows and cols are integers in [1, 2^30], and that rowScales and rowZeros
// come together. Sizes and values are left to validate_parts (core/pack.h)
// or check_dequantize_parts (core/dequantize.h). Messages name a field as
// `label` + "." + field. The view is valid while `parts` and its arrays live.
QuantizedPartsView read_parts_view(Napi::Env env, Napi::Object parts, const std::string& label);

}  // namespace claq::binding
