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
    case SimdLevel::kAvx512: return {lut_build_tables_avx512, lut_gemv_avx512, packed_dequantize_avx512, gemm_f32_panel16_avx512,
                                    kTokenBlockAvx512};
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

// Adds the outliers of packed columns [first, first + depth) that fall in
// `tile` to the panel, advancing each column's cursor (tiles run in order).
// NOTE: this costs about 15 ns of CPU per outlier (4096 x 4096, 1 % outliers:
// 2.5 ms per call), likely the scalar store into a panel vector that the
// micro-kernel then loads whole. A vector correction would avoid it.
// next_row[p] caches the row of column p's next outlier (INT32_MAX when none
// is left), so the common case, no outlier in this tile, reads one
// contiguous array instead of one scattered outlier entry per column.
void fold_outliers(const PackedLayer& layer, int64_t first, int64_t depth, int64_t tile, uint32_t* cursor,
                   int32_t* next_row, float* panel) {
  const int64_t row_begin = tile * kPackedTileRows, row_end = row_begin + kPackedTileRows;
  for (int64_t c = 0; c < depth; ++c) {
    const int64_t p = first + c;
    if (next_row[p] >= row_end) continue;
    const uint32_t end = layer.outlier_column_start[p + 1];
    uint32_t k = cursor[p];
    for (; k < end && layer.outlier_rows[k] < row_end; ++k) {
      panel[c * 16 + (layer.outlier_rows[k] - row_begin)] += layer.outlier_corrections[k];
    }
    cursor[p] = k;
    next_row[p] = k < end ? layer.outlier_rows[k] : INT32_MAX;
  }
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
  std::vector<uint32_t> cursor;   // GEMM: per packed column, next outlier entry
  std::vector<int32_t> next_row;  // GEMM: per packed column, the row of that entry
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
  scratch->cursor.resize(layer.packed_columns);
  scratch->next_row.resize(layer.packed_columns);
  const bool has_outliers = !layer.outlier_rows.empty();
  if (has_outliers) {
    for (int64_t p = 0; p < layer.packed_columns; ++p) {
      const uint32_t k = first_outlier_at(layer, p, tile_begin * kPackedTileRows);
      scratch->cursor[p] = k;
      scratch->next_row[p] = k < layer.outlier_column_start[p + 1] ? layer.outlier_rows[k] : INT32_MAX;
    }
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
          fold_outliers(layer, first, depth, tile, scratch->cursor.data(), scratch->next_row.data(),
                        scratch->panel.data());
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
  return Status::Ok();
}

}  // namespace

Status packed_matmul(const PackedLayer& layer, const float* x, int64_t tokens, float* y,
                     const PackedMatmulOptions& options) {
  Status status = check_arguments(layer, x, tokens, y, options);
  if (!status.ok()) return status;
  const KernelTable kernels = kernels_for(active_simd_level());
  Scratch& scratch = t_scratch;

  try {
    grow_or_throw(scratch.x_packed, tokens * layer.packed_columns);
    permute_x(layer, x, tokens, scratch.x_packed.data());
    const float* x_packed = scratch.x_packed.data();

    if (tokens < options.gemm_min_tokens) {
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

}  // namespace claq
