// Code assignment of one column against its rounded codebook, fused with the
// quantized values and the squared error, and the OR tail flags
// (core/column_loop.cc).
//
// For each row i: codes[i] = #{c < levels - 1 : w[i] > thresholds[c]},
// quantized[i] = codebook[codes[i]], except where reserved[i] != 0, whose
// quantized[i] the caller has already written and the kernel keeps. Returns
// the sum of d^2 in float64, where d = w[i] - quantized[i] is rounded to
// float32 (a vector subtraction) and squared in float64, over eight partial sums
// (partial l takes the rows i = l mod 8 of every whole block of eight, the
// rows after the last whole block go to partial 0), combined as
// ((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)), with no fused
// multiply-add, so every level gives the same bits. 2 <= levels <= 16, and
// `reserved` may be null (no reserved rows).
#pragma once

#include <cstdint>

namespace claq {

double assign_codebook_ref(const float* w, int64_t rows, const float* thresholds, int levels,
                           const float* codebook, const uint8_t* reserved, uint8_t* codes,
                           float* quantized);
double assign_codebook_avx512(const float* w, int64_t rows, const float* thresholds, int levels,
                              const float* codebook, const uint8_t* reserved, uint8_t* codes,
                              float* quantized);

// Marks the values outside [low, high]: flags[i] = 1 where w[i] < low or
// w[i] > high, else 0. Writes the count below low to *below and returns the
// count above high. Unless `listed` is null it also receives the marked rows
// in ascending order, and needs room for 16 more entries than there are.
int64_t flag_tails_ref(const float* w, int64_t rows, float low, float high, uint8_t* flags,
                       int64_t* below, int32_t* listed);
int64_t flag_tails_avx512(const float* w, int64_t rows, float low, float high, uint8_t* flags,
                          int64_t* below, int32_t* listed);

// The versions for active_simd_level().
int64_t flag_tails(const float* w, int64_t rows, float low, float high, uint8_t* flags,
                   int64_t* below, int32_t* listed = nullptr);
double assign_codebook(const float* w, int64_t rows, const float* thresholds, int levels,
                       const float* codebook, const uint8_t* reserved, uint8_t* codes,
                       float* quantized);

}  // namespace claq
