// NEON table look-up GEMV. A register has four lanes, so a tile is four
// quarters of 4 rows, and the tables are looked up with tbl
// (arm/lut_nibble_neon.h).
#include <arm_neon.h>

#include <utility>

#include "kernels/arm/lut_nibble_neon.h"
#include "kernels/lut_gemv.h"
#include "kernels/lut_gemv_panels.h"

namespace claq {
namespace {

template <size_t... S>
inline float32x4_t sum_nibbles(uint32x4_t word, const float* tables, std::index_sequence<S...>) {
  float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
  ((acc[S & 1] = vaddq_f32(acc[S & 1],
                           neon::lookup16(neon::shift_right<4 * S>(word), neon::load_table(tables + 16 * S)))),
   ...);
  return vaddq_f32(acc[0], acc[1]);
}

template <size_t... C>
inline float32x4_t sum_3bit(uint32x4_t w0, uint32x4_t w1, uint32x4_t w2, const float* tables,
                            std::index_sequence<C...>) {
  float32x4_t acc[2] = {vdupq_n_f32(0), vdupq_n_f32(0)};
  ((acc[C & 1] = vaddq_f32(acc[C & 1], neon::lookup16(neon::window_3bit<C>(w0, w1, w2),
                                                      neon::load_table(tables + 16 * C)))),
   ...);
  return vaddq_f32(acc[0], acc[1]);
}

void run_block(const PackedGroup& group, const uint32_t* tiles, const float* tables, int64_t count, float* y) {
  const bool three_bit = group.format->bits == 3;

  for (int64_t t = 0; t < count; ++t) {
    for (int quarter = 0; quarter < 4; ++quarter) {
      float* out = y + t * 16 + quarter * 4;
      float32x4_t sum;
      if (three_bit) {
        const uint32_t* rows = tiles + t * 48 + quarter * 4;
        sum = sum_3bit(vld1q_u32(rows), vld1q_u32(rows + 16), vld1q_u32(rows + 32), tables,
                       std::make_index_sequence<32>());
      } else {
        sum = sum_nibbles(vld1q_u32(tiles + t * 16 + quarter * 4), tables, std::make_index_sequence<8>());
      }
      vst1q_f32(out, vaddq_f32(vld1q_f32(out), sum));
    }
  }
}

}  // namespace

void lut_gemv_neon(const PackedLayer& layer, const float*, const float* tables, int64_t panel_begin,
                   int64_t panel_end, float* y) {
  lut_gemv_panels(layer, tables, panel_begin, panel_end, y, run_block);
}

}  // namespace claq
