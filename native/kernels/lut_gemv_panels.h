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

// 3-bit columns per chunk. The kernel sweeps a chunk's column blocks over
// every panel of its range, then moves to the next chunk. Between two reads
// of a 3-bit block's tables, one panel's 3-bit codes of the chunk pass (768
// KB), so the tables are still in L2. When whole panels were swept, a 4096 x
// 11008 3-bit layer streamed at 0.45 to 0.48 of the memory pass, and at 0.73
// when every block used tables held in L1 (Intel Xeon, 1 thread).
// 2- and 4-bit columns do not count. On the Intel Xeon, 4096 x 11008 layers
// of 2 and 4 bits ran 2 to 8 % faster as whole panels than in chunks of 4096
// columns (1 and 2 threads, two alternating rounds). Chunks of 2048 were
// slower still.
constexpr int64_t kChunkColumns = 4096;

// A position in the layer's column blocks: group index, then block.
struct BlockCursor {
  size_t group = 0;
  int64_t block = 0;
};

// The cursor after `from` that ends a chunk of at most kChunkColumns 3-bit
// columns (at least one block).
inline BlockCursor chunk_end(const PackedLayer& layer, BlockCursor from) {
  int64_t columns = 0;
  while (from.group < layer.groups.size()) {
    const PackedTileFormat& format = *layer.groups[from.group].format;
    const int64_t width = format.bits == 3 ? format.block_columns : 0;
    if (columns > 0 && columns + width > kChunkColumns) break;
    columns += width;
    if (++from.block == layer.groups[from.group].blocks) from = {from.group + 1, 0};
  }
  return from;
}

// run_block(group, tiles, block_tables, count, y_panel) adds the block's
// look-ups for `count` row tiles starting at `tiles` to y_panel.
template <typename RunBlock>
void lut_gemv_panels(const PackedLayer& layer, const float* tables, int64_t panel_begin, int64_t panel_end,
                     float* y, RunBlock run_block) {
  if (panel_begin >= panel_end) return;
  const int64_t tile_begin = panel_begin * kPanelTiles;
  const int64_t tile_end = std::min(panel_end * kPanelTiles, layer.row_tiles);
  std::fill(y + tile_begin * kPackedTileRows, y + tile_end * kPackedTileRows, 0.0f);

  for (BlockCursor chunk; chunk.group < layer.groups.size();) {
    const BlockCursor end = chunk_end(layer, chunk);
    for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
      const int64_t first = panel * kPanelTiles;
      const int64_t count = std::min(kPanelTiles, layer.row_tiles - first);
      float* y_panel = y + first * kPackedTileRows;
      for (BlockCursor at = chunk; at.group != end.group || at.block != end.block;) {
        const PackedGroup& group = layer.groups[at.group];
        const float* block_tables = tables + (group.slot_offset + at.block * group.format->slots) * 16;
        run_block(group, packed_tile(layer, group, at.block, first), block_tables, count, y_panel);
        if (++at.block == group.blocks) at = {at.group + 1, 0};
      }
    }
    chunk = end;
  }
}

}  // namespace
}  // namespace claq
