#include "kernels/packed_gemm.h"

#include <algorithm>

namespace claq {

void packed_build_dequantize_tables(const PackedLayer& layer, float* tables) {
  for (const PackedGroup& group : layer.groups) {
    const int bits = group.format->bits;
    const int64_t padded = group.blocks * group.format->block_columns;
    for (int64_t c = 0; c < padded; ++c) {
      const float* centroids = layer.codebooks.data() + group.codebook_offset + (c << bits);
      float* table = tables + (group.column_begin + c) * 16;
      for (int n = 0; n < 16; ++n) {
        if (bits == 2) {
          // Both columns of a 2-bit pair read the same window: the even one
          // owns its low two bits, the odd one the high two.
          table[n] = centroids[(c & 1) ? (n >> 2) : (n & 3)];
        } else {
          table[n] = centroids[n & ((1 << bits) - 1)];
        }
      }
    }
  }
}

void packed_dequantize_ref(const PackedLayer& layer, const PackedGroup& group, const float* tables,
                           int64_t block_begin, int64_t block_end, int64_t tile, float* panel) {
  const PackedTileFormat& format = *group.format;
  const int entries = 1 << format.bits;
  for (int64_t block = block_begin; block < block_end; ++block) {
    const uint32_t* words = packed_tile(layer, group, block, tile);
    for (int c = 0; c < format.block_columns; ++c) {
      const int64_t column = block * format.block_columns + c;
      const float* centroids = layer.codebooks.data() + group.codebook_offset + column * entries;
      float* out = panel + (column - block_begin * format.block_columns) * 16;
      for (int lane = 0; lane < kPackedTileRows; ++lane) {
        out[lane] = centroids[packed_tile_code(words, format, lane, c)];
      }
    }
  }
}

void gemm_f32_pack_x(const float* x, int64_t ldx, int64_t tokens, int64_t depth, int token_block, float* x_panel) {
  for (int64_t t0 = 0; t0 < tokens; t0 += token_block) {
    const int64_t count = std::min<int64_t>(token_block, tokens - t0);
    float* block = x_panel + t0 * depth;
    for (int64_t m = 0; m < count; ++m) {
      const float* row = x + (t0 + m) * ldx;
      for (int64_t k = 0; k < depth; ++k) block[k * count + m] = row[k];
    }
  }
}

void gemm_f32_panel16_ref(const float* panel, int64_t depth, const float* x_panel, int64_t tokens, float* c,
                          int64_t ldc, bool accumulate) {
  for (int64_t t0 = 0; t0 < tokens; t0 += kTokenBlockRef) {
    const int64_t count = std::min<int64_t>(kTokenBlockRef, tokens - t0);
    const float* block = x_panel + t0 * depth;
    for (int64_t m = 0; m < count; ++m) {
      float* out = c + (t0 + m) * ldc;
      float acc[16];
      for (int lane = 0; lane < 16; ++lane) acc[lane] = accumulate ? out[lane] : 0.0f;
      for (int64_t k = 0; k < depth; ++k) {
        const float xk = block[k * count + m];
        for (int lane = 0; lane < 16; ++lane) acc[lane] += xk * panel[k * 16 + lane];
      }
      for (int lane = 0; lane < 16; ++lane) out[lane] = acc[lane];
    }
  }
}

}  // namespace claq
