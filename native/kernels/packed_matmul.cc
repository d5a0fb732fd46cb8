#include "kernels/packed_matmul.h"

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/lut_gemv.h"
#include "kernels/packed_gemm.h"
#include "kernels/simd_level.h"

namespace claq {
namespace {

// Columns per dequantized panel: 16 rows x 256 columns of float32 (16 KiB)
// stay in L1 while every token block reads them.
constexpr int64_t kPanelDepth = 256;

using BuildTablesFn = void (*)(const PackedLayer&, const float*, float*);
using GemvFn = void (*)(const PackedLayer&, const float*, const float*, int64_t, int64_t, float*);
using DequantizeFn = void (*)(const PackedLayer&, const PackedGroup&, const float*, int64_t, int64_t, int64_t,
                              float*);
using PanelFn = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t, bool);

struct KernelTable {
  BuildTablesFn build_tables;
  GemvFn gemv;
  DequantizeFn dequantize;
  PanelFn panel;
  int token_block;
};

KernelTable kernels_for(SimdLevel level) {
  switch (level) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512:
      // Integer tables for 3-bit blocks where the CPU can look them up
      // (lut_3bit_int.h). From memory they streamed 1.1 to 1.4 times as
      // fast as float32 tables on an Intel Xeon (docs/BENCHMARKS.md).
      if (cpu_has_avx512_vbmi_vnni()) {
        return {lut_build_tables_int3_avx512,
                cpu_prefers_vbmi_windows() ? lut_gemv_vbmi_int3_avx512 : lut_gemv_int3_avx512,
                packed_dequantize_avx512, gemm_f32_panel16_avx512, kTokenBlockAvx512};
      }
      // Otherwise float32 tables at every width.
      return {lut_build_tables_avx512, cpu_prefers_vbmi_windows() ? lut_gemv_vbmi_avx512 : lut_gemv_avx512,
              packed_dequantize_avx512, gemm_f32_panel16_avx512, kTokenBlockAvx512};
    case SimdLevel::kAvx2: return {lut_build_tables_avx2, lut_gemv_avx2, packed_dequantize_avx2, gemm_f32_panel16_avx2,
                                  kTokenBlockAvx2};
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return {lut_build_tables_ref, lut_gemv_neon, packed_dequantize_neon, gemm_f32_panel16_neon,
                                  kTokenBlockNeon};
#endif
    default: return {lut_build_tables_ref, lut_gemv_ref, packed_dequantize_ref, gemm_f32_panel16_ref,
                     kTokenBlockRef};
  }
}

// x in the packed column order, zeros at padding columns: [tokens, packed_columns].
void permute_x(const PackedLayer& layer, const float* x, int64_t tokens, float* x_packed) {
  for (int64_t t = 0; t < tokens; ++t) {
    const float* source = x + t * layer.cols;
    float* target = x_packed + t * layer.packed_columns;
    for (int64_t p = 0; p < layer.packed_columns; ++p) {
      const int32_t j = layer.column_source[p];
      target[p] = j >= 0 ? source[j] : 0.0f;
    }
  }
}

// First outlier entry of packed column p whose row is `row_begin` or later.
uint32_t first_outlier_at(const PackedLayer& layer, int64_t p, int64_t row_begin) {
  const uint32_t begin = layer.outlier_column_start[p], end = layer.outlier_column_start[p + 1];
  if (row_begin == 0) return begin;
  const int32_t* rows = layer.outlier_rows.data();
  return static_cast<uint32_t>(std::lower_bound(rows + begin, rows + end, row_begin) - rows);
}

// y[row] += correction * x_packed[p] for the outliers in rows [row_begin, row_end).
void add_outliers(const PackedLayer& layer, const float* x_packed, int64_t row_begin, int64_t row_end, float* y) {
  if (layer.outlier_rows.empty()) return;
  const int32_t* rows = layer.outlier_rows.data();
  const float* corrections = layer.outlier_corrections.data();
  for (int64_t p = 0; p < layer.packed_columns; ++p) {
    const uint32_t end = layer.outlier_column_start[p + 1];
    const float x = x_packed[p];
    for (uint32_t k = first_outlier_at(layer, p, row_begin); k < end && rows[k] < row_end; ++k) {
      y[rows[k]] += corrections[k] * x;
    }
  }
}

// The GEMV path for row panels [panel_begin, panel_end), one token at a time.
void gemv_panels(const KernelTable& kernels, const PackedLayer& layer, const float* x_packed, int64_t tokens,
                 int64_t panel_begin, int64_t panel_end, float* tables, float* y_padded, float* y) {
  const int64_t row_begin = panel_begin * kPanelTiles * kPackedTileRows;
  const int64_t row_end = std::min(layer.rows, panel_end * kPanelTiles * kPackedTileRows);
  for (int64_t t = 0; t < tokens; ++t) {
    const float* xt = x_packed + t * layer.packed_columns;
    kernels.build_tables(layer, xt, tables);
    kernels.gemv(layer, xt, tables, panel_begin, panel_end, y_padded);
    add_outliers(layer, xt, row_begin, row_end, y_padded);
    std::copy(y_padded + row_begin, y_padded + row_end, y + t * layer.rows + row_begin);
  }
}

// One outlier correction in a thread's tile-ordered list (see sort_outliers).
struct TileOutlier {
  int32_t column;    // packed column
  int32_t lane;      // row within the tile
  float correction;  // value - centroid
};

// Copies the outliers of row tiles [tile_begin, tile_end) into `sorted`, ordered
// by tile, then packed column. tile_start[t - tile_begin] is the first entry
// of tile t. The CSC arrays are read once, in order, so the GEMM folds a
// tile's corrections from one short contiguous run. Visiting every column of
// every tile instead cost about 15 ns per outlier.
void sort_outliers(const PackedLayer& layer, int64_t tile_begin, int64_t tile_end, std::vector<TileOutlier>* sorted,
                   std::vector<uint32_t>* tile_start) {
  const int64_t row_begin = tile_begin * kPackedTileRows;
  const int64_t row_end = std::min(layer.rows, tile_end * kPackedTileRows);
  const int32_t* rows = layer.outlier_rows.data();
  tile_start->assign(tile_end - tile_begin + 1, 0);
  for (int64_t p = 0; p < layer.packed_columns; ++p) {
    const uint32_t end = layer.outlier_column_start[p + 1];
    for (uint32_t k = first_outlier_at(layer, p, row_begin); k < end && rows[k] < row_end; ++k) {
      ++(*tile_start)[rows[k] / kPackedTileRows - tile_begin + 1];
    }
  }
  for (size_t t = 1; t < tile_start->size(); ++t) (*tile_start)[t] += (*tile_start)[t - 1];

  sorted->resize(tile_start->back());
  std::vector<uint32_t> next(tile_start->begin(), tile_start->end() - 1);
  for (int64_t p = 0; p < layer.packed_columns; ++p) {
    const uint32_t end = layer.outlier_column_start[p + 1];
    for (uint32_t k = first_outlier_at(layer, p, row_begin); k < end && rows[k] < row_end; ++k) {
      const int64_t tile = rows[k] / kPackedTileRows;
      (*sorted)[next[tile - tile_begin]++] = {static_cast<int32_t>(p), rows[k] % kPackedTileRows,
                                              layer.outlier_corrections[k]};
    }
  }
}

// Adds the corrections of one tile for packed columns before `column_end` to
// the panel, which starts at packed column `first`. `cursor` is the tile's
// next entry, and it only moves forward because columns are visited in order.
void fold_outliers(const TileOutlier* entries, uint32_t end, int64_t first, int64_t column_end, uint32_t* cursor,
                   float* panel) {
  uint32_t k = *cursor;
  for (; k < end && entries[k].column < column_end; ++k) {
    panel[(entries[k].column - first) * 16 + entries[k].lane] += entries[k].correction;
  }
  *cursor = k;
}

// Per-thread scratch, kept between calls (pool threads live as long as the
// pool), so the steady state allocates nothing.
// NOTE: a thread keeps the largest scratch it ever needed until it exits,
// e.g. 5.6 MB of x_packed after 128 tokens of an 11008-column layer.
struct Scratch {
  AlignedArray<float> x_packed;   // calling thread: [tokens, packed_columns]
  AlignedArray<float> y_padded;   // calling thread: [row_tiles * 16]
  AlignedArray<float> tables;     // GEMV look-up tables, or the calling thread's dequantization tables
  AlignedArray<float> panel;      // GEMM: one dequantized panel
  AlignedArray<float> x_panel;    // GEMM: the tokens' slice of one column chunk (gemm_f32_pack_x)
  AlignedArray<float> tail;       // GEMM: [tokens, 16], the last, partial row tile
  std::vector<TileOutlier> outliers;  // GEMM: this thread's outliers, by tile then column
  std::vector<uint32_t> tile_start;   // GEMM: per tile, its first entry in `outliers`
  std::vector<uint32_t> cursor;       // GEMM: per tile, its next entry
};

thread_local Scratch t_scratch;

void grow_or_throw(AlignedArray<float>& array, int64_t count) {
  if (!array.grow(static_cast<size_t>(count))) throw std::bad_alloc();
}

// Runs fn(begin, end) over [0, count) on the pool, or inline without one.
template <typename Fn>
void run_parallel(ThreadPool* pool, int64_t count, Fn&& fn) {
  if (pool == nullptr) {
    fn(int64_t{0}, count);
  } else {
    pool->parallel_for(count, fn);
  }
}

void gemm_rows(const KernelTable& kernels, const PackedLayer& layer, const float* tables, const float* x_packed,
               int64_t tokens, int64_t tile_begin, int64_t tile_end, float* y) {
  Scratch* scratch = &t_scratch;
  grow_or_throw(scratch->panel, kPanelDepth * 16);
  grow_or_throw(scratch->tail, tokens * 16);
  grow_or_throw(scratch->x_panel, tokens * kPanelDepth);
  const bool has_outliers = !layer.outlier_rows.empty();
  if (has_outliers) {
    sort_outliers(layer, tile_begin, tile_end, &scratch->outliers, &scratch->tile_start);
    scratch->cursor.assign(scratch->tile_start.begin(), scratch->tile_start.end() - 1);
  }
  const bool partial_last = tile_end * kPackedTileRows > layer.rows;

  // Column chunks outside, tiles inside: the chunk's slice of x_packed
  // (tokens x depth, packed once per chunk) stays in L2 while all row tiles
  // stream past it.
  bool accumulate = false;
  for (const PackedGroup& group : layer.groups) {
    const int64_t chunk_blocks = std::max<int64_t>(1, kPanelDepth / group.format->block_columns);
    for (int64_t block = 0; block < group.blocks; block += chunk_blocks) {
      const int64_t block_end = std::min(group.blocks, block + chunk_blocks);
      const int64_t first = group.column_begin + block * group.format->block_columns;
      const int64_t depth = (block_end - block) * group.format->block_columns;
      gemm_f32_pack_x(x_packed + first, layer.packed_columns, tokens, depth, kernels.token_block,
                      scratch->x_panel.data());
      for (int64_t tile = tile_begin; tile < tile_end; ++tile) {
        kernels.dequantize(layer, group, tables, block, block_end, tile, scratch->panel.data());
        if (has_outliers) {
          const int64_t t = tile - tile_begin;
          fold_outliers(scratch->outliers.data(), scratch->tile_start[t + 1], first, first + depth,
                        &scratch->cursor[t], scratch->panel.data());
        }
        const bool tail = partial_last && tile + 1 == tile_end;
        float* c = tail ? scratch->tail.data() : y + tile * kPackedTileRows;
        const int64_t ldc = tail ? 16 : layer.rows;
        kernels.panel(scratch->panel.data(), depth, scratch->x_panel.data(), tokens, c, ldc, accumulate);
      }
      accumulate = true;
    }
  }

  if (partial_last) {
    const int64_t row_begin = (tile_end - 1) * kPackedTileRows;
    for (int64_t t = 0; t < tokens; ++t) {
      std::copy(scratch->tail.data() + t * 16, scratch->tail.data() + t * 16 + (layer.rows - row_begin),
                y + t * layer.rows + row_begin);
    }
  }
}

Status check_arguments(const PackedLayer& layer, const float* x, int64_t tokens, const float* y,
                       const PackedMatmulOptions& options) {
  if (layer.groups.empty() || layer.codes.data() == nullptr) {
    return Status::InvalidArgument("matmul: the packed layer is empty or released");
  }
  if (tokens < 1) return Status::InvalidArgument("matmul: tokens must be >= 1, received " + std::to_string(tokens));
  if (x == nullptr || y == nullptr) return Status::InvalidArgument("matmul: x and y must not be null");
  const PackedRowGrid* grid = options.row_grid;
  if (grid != nullptr && !grid->empty() &&
      (static_cast<int64_t>(grid->scales.size()) != layer.rows || grid->zeros.size() != grid->scales.size())) {
    return Status::InvalidArgument("matmul: the row grid has " + std::to_string(grid->scales.size()) + " scales and " +
                                   std::to_string(grid->zeros.size()) + " zeros for " + std::to_string(layer.rows) +
                                   " rows");
  }
  return Status::Ok();
}

// The product with the layer's codebooks, outliers included.
Status codebook_product(const PackedLayer& layer, const float* x, int64_t tokens, float* y,
                        const PackedMatmulOptions& options) {
  const KernelTable kernels = kernels_for(active_simd_level());
  Scratch& scratch = t_scratch;

  try {
    grow_or_throw(scratch.x_packed, tokens * layer.packed_columns);
    permute_x(layer, x, tokens, scratch.x_packed.data());
    const float* x_packed = scratch.x_packed.data();

    const int64_t gemm_min_tokens =
        options.gemm_min_tokens > 0 ? options.gemm_min_tokens : 8 * layer.packed_columns / layer.slots;
    if (tokens < gemm_min_tokens) {
      // Each thread builds its own copy of the look-up tables: a few
      // microseconds, cheaper than a barrier between building and using them.
      grow_or_throw(scratch.y_padded, layer.row_tiles * kPackedTileRows);
      float* y_padded = scratch.y_padded.data();
      run_parallel(options.pool, layer.panels, [&](int64_t begin, int64_t end) {
        AlignedArray<float>& tables = t_scratch.tables;
        grow_or_throw(tables, layer.slots * 16);
        gemv_panels(kernels, layer, x_packed, tokens, begin, end, tables.data(), y_padded, y);
      });
      return Status::Ok();
    }

    grow_or_throw(scratch.tables, layer.packed_columns * 16);
    packed_build_dequantize_tables(layer, scratch.tables.data());
    const float* tables = scratch.tables.data();
    run_parallel(options.pool, layer.row_tiles, [&](int64_t begin, int64_t end) {
      gemm_rows(kernels, layer, tables, x_packed, tokens, begin, end, y);
    });
  } catch (const std::bad_alloc&) {
    return Status::OutOfMemory("matmul: cannot allocate scratch buffers for " + std::to_string(tokens) +
                               " tokens");
  }
  return Status::Ok();
}

}  // namespace

Status packed_matmul(const PackedLayer& layer, const float* x, int64_t tokens, float* y,
                     const PackedMatmulOptions& options) {
  Status status = check_arguments(layer, x, tokens, y, options);
  if (status.ok()) status = codebook_product(layer, x, tokens, y, options);
  if (status.ok() && options.row_grid != nullptr && !options.row_grid->empty()) {
    apply_row_grid(*options.row_grid, x, tokens, layer.cols, layer.rows, y);
  }
  return status;
}

}  // namespace claq
