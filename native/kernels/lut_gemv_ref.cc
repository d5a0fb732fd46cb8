#include "kernels/lut_gemv.h"

#include <algorithm>

namespace claq {

void lut_build_block_tables(const PackedLayer& layer, const PackedGroup& group, int64_t block,
                            const float* x_packed, float* tables) {
  const PackedTileFormat& format = *group.format;
  const int64_t first = block * format.block_columns;
  const float* x = x_packed + group.column_begin + first;
  const float* codebook = layer.codebooks.data() + group.codebook_offset + (first << format.bits);

  for (int s = 0; s < format.slots; ++s) {
    float* table = tables + s * 16;
    if (format.bits == 2) {
      // Two columns per slot: entry n covers code n & 3 of the even column
      // and code n >> 2 of the odd one.
      const float* even = codebook + 8 * s;
      const float* odd = even + 4;
      for (int n = 0; n < 16; ++n) table[n] = even[n & 3] * x[2 * s] + odd[n >> 2] * x[2 * s + 1];
    } else if (format.bits == 3) {
      for (int n = 0; n < 16; ++n) table[n] = codebook[8 * s + (n & 7)] * x[s];
    } else {
      for (int n = 0; n < 16; ++n) table[n] = codebook[16 * s + n] * x[s];
    }
  }
}

void lut_build_tables_ref(const PackedLayer& layer, const float* x_packed, float* tables) {
  for (const PackedGroup& group : layer.groups) {
    for (int64_t block = 0; block < group.blocks; ++block) {
      lut_build_block_tables(layer, group, block, x_packed,
                             tables + (group.slot_offset + block * group.format->slots) * 16);
    }
  }
}

// The reference reads each code with packed_tile_code and multiplies by the
// centroid directly, independent of the table construction it checks.
void lut_gemv_ref(const PackedLayer& layer, const float* x_packed, const float*, int64_t panel_begin,
                  int64_t panel_end, float* y) {
  const int64_t tile_begin = panel_begin * kPanelTiles;
  const int64_t tile_end = std::min(layer.row_tiles, panel_end * kPanelTiles);
  if (tile_begin >= tile_end) return;
  std::fill(y + tile_begin * kPackedTileRows, y + tile_end * kPackedTileRows, 0.0f);
  for (const PackedGroup& group : layer.groups) {
    const PackedTileFormat& format = *group.format;
    const int entries = 1 << format.bits;
    for (int64_t block = 0; block < group.blocks; ++block) {
      for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
        const uint32_t* words = packed_tile(layer, group, block, tile);
        float* out = y + tile * kPackedTileRows;
        for (int c = 0; c < format.block_columns; ++c) {
          const int64_t column = block * format.block_columns + c;
          const float* centroids = layer.codebooks.data() + group.codebook_offset + column * entries;
          const float x = x_packed[group.column_begin + column];
          for (int lane = 0; lane < kPackedTileRows; ++lane) {
            out[lane] += centroids[packed_tile_code(words, format, lane, c)] * x;
          }
        }
      }
    }
  }
}

}  // namespace claq
