// The row loop that every vector row_dot_f32 (row_dot.h) shares: for each
// row of W it runs the ISA's kernel on the tokens in groups of kRowDotTokens,
// so a row stays in cache for all groups.
//
// The template sits in an unnamed namespace on purpose: each ISA file
// compiles its own copy with its own flags. A shared inline instance could be
// merged at link time with the copy from an AVX-512 file and run on a CPU
// without AVX-512.
#pragma once

#include <cstdint>

namespace claq {
namespace {

// Tokens per pass over a row: each chunk of W is loaded once and multiplied
// into this many accumulators.
constexpr int kRowDotTokens = 4;

// Kernel::dot<count>(row, depth, x, y, ldy) writes y[t * ldy] = row . x[t]
// for the `count` <= kRowDotTokens token rows of x (leading dimension depth).
template <typename Kernel>
void row_dot_rows(const float* w, int64_t depth, int64_t row_begin, int64_t row_end, const float* x,
                  int64_t tokens, float* y, int64_t ldy) {
  for (int64_t o = row_begin; o < row_end; ++o) {
    const float* row = w + o * depth;
    for (int64_t t = 0; t < tokens; t += kRowDotTokens) {
      const float* token = x + t * depth;
      float* out = y + t * ldy + o;
      switch (tokens - t) {
        case 1: Kernel::template dot<1>(row, depth, token, out, ldy); break;
        case 2: Kernel::template dot<2>(row, depth, token, out, ldy); break;
        case 3: Kernel::template dot<3>(row, depth, token, out, ldy); break;
        default: Kernel::template dot<kRowDotTokens>(row, depth, token, out, ldy); break;
      }
    }
  }
}

}  // namespace
}  // namespace claq
