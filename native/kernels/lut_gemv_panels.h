// The panel loop that every table look-up GEMV (lut_gemv_*.cc) shares. For
// each row panel it zeroes the panel's slice of y and runs the ISA's block
// kernel over every column block of every group, so the panel's codes stream
// front to back (packed_layout.h).
//
// The template sits in an unnamed namespace on purpose: each ISA file
// compiles its own copy with its own flags. A shared inline instance could be
// merged at link time with the copy from an AVX-512 file and run on a CPU
// without AVX-512.
#pragma once

#include <algorithm>
#include <cstdint>

#include "kernels/packed_layout.h"

namespace claq {
namespace {

// run_block(group, tiles, block_tables, count, y_panel) adds the block's
// look-ups for `count` row tiles starting at `tiles` to y_panel.
template <typename RunBlock>
void lut_gemv_panels(const PackedLayer& layer, const float* tables, int64_t panel_begin, int64_t panel_end,
                     float* y, RunBlock run_block) {
  for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
    const int64_t first = panel * kPanelTiles;
    const int64_t count = std::min(kPanelTiles, layer.row_tiles - first);
    float* y_panel = y + first * kPackedTileRows;
    std::fill(y_panel, y_panel + count * kPackedTileRows, 0.0f);
    for (const PackedGroup& group : layer.groups) {
      for (int64_t block = 0; block < group.blocks; ++block) {
        const float* block_tables = tables + (group.slot_offset + block * group.format->slots) * 16;
        run_block(group, packed_tile(layer, group, block, first), block_tables, count, y_panel);
      }
    }
  }
}

}  // namespace
}  // namespace claq
