// Dense float32 weights from the stored parts of a quantized layer.
#pragma once

#include <string>

#include "core/pack.h"
#include "core/status.h"

namespace claq {

// Checks everything that dequantize_parts indexes with. Each array must have
// the length the shape implies, and a row grid `rows` scales and zeros. Each column's
// codebook offsets must give it 1 to 2^bits centroids (bits in [1, 8])
// inside the codebooks, each code must be below its column's count, and each
// outlier must lie inside the layer. Unlike validate_parts (core/pack.h), it
// accepts every bit width from 1 to 8 and leaves order and values unchecked.
// Returns InvalidArgument naming the first bad entry, after "operation: ".
Status check_dequantize_parts(const QuantizedPartsView& parts, const std::string& operation);

// Writes W [rows, cols], row-major, for parts that check_dequantize_parts
// accepts: W[i][j] = scale_i * (c - zero_i), where c is column j's centroid
// for the code at [i, j], evaluated in float64 and rounded to float32.
// Without a row grid W[i][j] is the centroid. Each reserved outlier then
// replaces the weight at its position.
void dequantize_parts(const QuantizedPartsView& parts, float* out);

}  // namespace claq
