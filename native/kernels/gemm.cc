// Portable GEMM/SYRK driver: cache blocking, packing, threading and edge
// tiles around the per-ISA micro-kernels declared in gemm.h.
#include <algorithm>
#include <cstdlib>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/thread_pool.h"
#include "kernels/gemm.h"
#include "kernels/simd_level.h"

namespace claq {
namespace {

// Block sizes. An MR-row micro-panel of A (12 KiB for kc = 256, MR = 12)
// stays in the 48 KiB L1 data cache of Zen 4/5 and Golden Cove cores while
// the kc x NR micro-panels of B stream past it from a slice of kSliceCols
// columns of the kc x nc block of B, and the MR rows of C it updates are
// read and written from left to right. Those are MR + 1 sequential streams,
// which the hardware prefetchers follow. The opposite order, one B
// micro-panel in L1 against every micro-panel of A, touched C in jumps of MR
// rows that no prefetcher followed: the epilogue's C loads took a fifth of
// the time, and the quantizer's far update (m = k = 128, n = 4096) ran at 168
// GFLOP/s per CPU-second against 222 in this order (Zen 5, one thread).
// All micro-panels of a packed A block (192 KiB) pass over one slice of B
// (512 KiB) before the next slice. So the slice is read from L2, which is
// 1 MiB on Zen 5 and 2 MiB on a Xeon core. On a Xeon (2 threads) the
// 4096^3 product ran at 185 GFLOP/s when every micro-panel of A swept the
// whole 4 MiB block of B from L3. Blocks of B of 512 columns ran at 248 but
// packed A eight times as often. Slices run at 257 to 272 (numpy: 292 to 306).
constexpr int64_t kBlockK = 256;
constexpr int64_t kBlockRowsMax = 192;  // multiple of every MR used here (4, 6, 8, 12)
constexpr int64_t kBlockCols = 4096;
constexpr int64_t kSliceCols = 512;     // rounded down to a multiple of NR
constexpr int kMaxTileFloats = 16 * 32;

// Below this many multiply-adds a call runs on the calling thread only,
// because the wake-up of the workers would cost more than the work. 2^22
// multiply-adds take about 30 us on one Zen 5 core. That is the order of a
// worker's wake-up in a virtual machine (an estimate, not measured here).
// The recursive inverse factor makes a few hundred calls of 64^3 to 128^3.
constexpr int64_t kMinParallelWork = int64_t{1} << 22;

struct FloatDeleter {
  void operator()(float* p) const { std::free(p); }
};

// A 64-byte aligned float buffer that only grows. Each calling thread keeps
// its own (thread_local below), so repeated calls reuse pages instead of
// mapping and zeroing fresh ones, because glibc serves blocks above 128 KiB
// with mmap.
// NOTE: a thread that has called a GEMM keeps up to about 8.5 MiB of packing
// buffers (two kc x nc blocks of B plus one A block per pool thread) until it
// exits.
class PackBuffer {
 public:
  float* get(int64_t count) {
    if (count > capacity_) {
      const size_t bytes = (static_cast<size_t>(count) * sizeof(float) + 63) / 64 * 64;
      void* p = std::aligned_alloc(64, bytes);
      if (p == nullptr) throw std::bad_alloc();
      data_.reset(static_cast<float*>(p));
      capacity_ = count;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<float[], FloatDeleter> data_;
  int64_t capacity_ = 0;
};

int64_t round_up(int64_t value, int64_t multiple) { return (value + multiple - 1) / multiple * multiple; }

// A matrix operand seen as panels: element(i, p) is entry p (along k) of
// panel line i (a row of op(A) or a column of op(B)).
struct PanelSource {
  const float* data;
  int64_t ld;
  bool depth_major;     // element(i, p) = data[p * ld + i], else data[i * ld + p]
  // Entries taken as 0 whatever memory holds: a lower-triangular op(A) is 0
  // where p > i, a lower-triangular op(B) (lines are its columns) where p < i.
  enum class Zero { kNone, kDepthAfterLine, kDepthBeforeLine } zero;
};

// The depth range [begin, end) of line `line` that a zero pattern leaves
// nonzero, intersected with [p0, p0 + kc) and returned relative to p0.
void nonzero_depths(const PanelSource& src, int64_t line, int64_t p0, int64_t kc, int64_t* begin, int64_t* end) {
  *begin = 0;
  *end = kc;
  if (src.zero == PanelSource::Zero::kDepthAfterLine) *end = std::clamp<int64_t>(line + 1 - p0, 0, kc);
  if (src.zero == PanelSource::Zero::kDepthBeforeLine) *begin = std::clamp<int64_t>(line - p0, 0, kc);
  if (*end < *begin) *end = *begin;
}

// The union of nonzero_depths over lines [first, first + lines): the depth
// steps that a tile or block made of these lines needs.
void nonzero_depths_of_lines(const PanelSource& src, int64_t first, int64_t lines, int64_t p0, int64_t kc,
                             int64_t* begin, int64_t* end) {
  int64_t unused = 0;
  nonzero_depths(src, first, p0, kc, begin, &unused);
  nonzero_depths(src, first + lines - 1, p0, kc, &unused, end);
  if (*end < *begin) *end = *begin;
}

// Depth steps that pack_panels moves at once from a source whose lines are
// contiguous: one 64-byte cache line of floats.
constexpr int64_t kGatherSteps = 16;
constexpr int kMaxPanelWidth = 32;

// Writes kGatherSteps depth steps of `width` lines, line i starting at
// from + i * ld, to `to` in micro-panel order (step-major, `width` floats a
// step).
void gather_steps(const float* from, int64_t ld, int width, float* to) {
  float tile[kMaxPanelWidth][kGatherSteps];
  for (int i = 0; i < width; ++i) std::copy(from + i * ld, from + i * ld + kGatherSteps, tile[i]);
  for (int64_t p = 0; p < kGatherSteps; ++p) {
    for (int i = 0; i < width; ++i) to[p * width + i] = tile[i][p];
  }
}

// Copies lines [i0, i0 + lines) x depth [p0, p0 + kc) into micro-panels of
// `width` lines, p-major inside each micro-panel. It zero-pads the last
// micro-panel and writes zeros where src.zero marks entries as zero, without
// reading memory there. Depth steps where every line of a full micro-panel
// is nonzero take a branch-free copy. Only the steps at the edge of a
// triangle test each line.
void pack_panels(const PanelSource& src, int64_t i0, int64_t lines, int64_t p0, int64_t kc,
                 int width, float* out) {
  // The depth steps [full_begin, full_end) of a micro-panel where all of its
  // `width` lines are nonzero (empty for a partial micro-panel).
  const auto full_steps = [&](int64_t first, int64_t* full_begin, int64_t* full_end) {
    *full_begin = 0;
    *full_end = 0;
    if (lines - first < width) return;
    // Later lines start later (upper pattern) or end later (lower pattern), so
    // the first and the last line bound the steps that all lines share.
    int64_t first_begin = 0, first_end = 0, last_begin = 0, last_end = 0;
    nonzero_depths(src, i0 + first, p0, kc, &first_begin, &first_end);
    nonzero_depths(src, i0 + first + width - 1, p0, kc, &last_begin, &last_end);
    *full_begin = std::max(first_begin, last_begin);
    *full_end = std::max(*full_begin, std::min(first_end, last_end));
  };
  // One depth step of lines [first, first + valid) at `to`, testing each line.
  const auto copy_edge_step = [&](int64_t first, int64_t p, const float* from, int64_t stride, float* to) {
    const int64_t valid = std::min<int64_t>(width, lines - first);
    for (int64_t i = 0; i < valid; ++i) {
      int64_t begin = 0, end = 0;
      nonzero_depths(src, i0 + first + i, p0, kc, &begin, &end);
      to[i] = (p >= begin && p < end) ? from[i * stride] : 0.0f;
    }
    for (int64_t i = valid; i < width; ++i) to[i] = 0.0f;
  };

  if (src.depth_major) {
    // Rows of the source run along the lines: one depth step of a
    // micro-panel is a run of `width` consecutive floats. The loop reads each
    // source row once from start to end, across all micro-panels.
    for (int64_t p = 0; p < kc; ++p) {
      const float* row = src.data + (p0 + p) * src.ld + i0;
      for (int64_t first = 0; first < lines; first += width) {
        float* to = out + first * kc + p * width;
        int64_t full_begin = 0, full_end = 0;
        full_steps(first, &full_begin, &full_end);
        if (p >= full_begin && p < full_end) {
          for (int64_t i = 0; i < width; ++i) to[i] = row[first + i];
        } else {
          copy_edge_step(first, p, row + first, 1, to);
        }
      }
    }
    return;
  }
  // Each line is contiguous in the source. Full runs of kGatherSteps depth
  // steps go through a local tile, so each source cache line is read once.
  // Lines ld apart map to the same L1 sets when ld is a power of two, so
  // reading one float of every line per step thrashed those sets.
  for (int64_t first = 0; first < lines; first += width) {
    const float* block = src.data + (i0 + first) * src.ld + p0;
    float* panel = out + first * kc;
    int64_t full_begin = 0, full_end = 0;
    full_steps(first, &full_begin, &full_end);
    int64_t p = 0;
    while (p < kc) {
      if (p >= full_begin && p + kGatherSteps <= full_end) {
        gather_steps(block + p, src.ld, width, panel + p * width);
        p += kGatherSteps;
        continue;
      }
      float* to = panel + p * width;
      if (p >= full_begin && p < full_end) {
        for (int64_t i = 0; i < width; ++i) to[i] = block[i * src.ld + p];
      } else {
        copy_edge_step(first, p, block + p, src.ld, to);
      }
      ++p;
    }
  }
}

struct Problem {
  GemmMicroKernel kernel;
  PanelSource a;  // lines are rows of op(A)
  PanelSource b;  // lines are columns of op(B)
  int64_t m, n, k;
  float alpha, beta;
  float* c;
  int64_t ldc;
  // The part of C that is computed and written: all of it, j <= i, or j >= i.
  enum class Part { kFull, kLower, kUpper } c_part;
  const float* prepacked_b = nullptr;  // all of op(B) in packed_b_offset layout, or null
};

// Where the packed (column block jc, depth block pc) of op(B) [k, n] starts
// in a GemmPackedB: column blocks one after the other, each k x
// round_up(nc, nr) floats, depth blocks in order inside.
int64_t packed_b_offset(int64_t k, int64_t n, int nr, int64_t jc, int64_t pc) {
  const int64_t nc = std::min(kBlockCols, n - jc);
  return (jc / kBlockCols) * k * round_up(kBlockCols, nr) + pc * round_up(nc, nr);
}

// The columns [*begin, *end) of C, relative to j0 and inside [j0, j0 + cols),
// that row i has in the part of C this problem writes.
void columns_of_row(const Problem& pr, int64_t i, int64_t j0, int64_t cols, int64_t* begin, int64_t* end) {
  *begin = 0;
  *end = cols;
  if (pr.c_part == Problem::Part::kLower) *end = std::clamp<int64_t>(i - j0 + 1, 0, cols);
  if (pr.c_part == Problem::Part::kUpper) *begin = std::clamp<int64_t>(i - j0, 0, cols);
  if (*end < *begin) *end = *begin;
}

// Writes beta * C over columns [j0, j0 + cols) of rows [i0, i0 + rows) of
// the part of C this problem writes; beta == 0 writes zeros without reading.
void scale_rows(const Problem& pr, float beta, int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
  for (int64_t i = i0; i < i0 + rows; ++i) {
    int64_t begin = 0, end = 0;
    columns_of_row(pr, i, j0, cols, &begin, &end);
    float* row = pr.c + i * pr.ldc + j0;
    for (int64_t j = begin; j < end; ++j) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
  }
}

// Computes one MR x NR tile whose top-left element is C[i0][j0]. Full tiles
// inside the written part go straight to the micro-kernel. Edge tiles and
// tiles on the diagonal of a triangular C go through a local buffer and are
// copied out element by element. The micro-kernel runs over kc packed depth
// steps of a_panel and b_panel, which callers have already offset to the
// first step that can be nonzero.
void run_tile(const Problem& pr, const float* a_panel, const float* b_panel, int64_t kc,
              float beta, int64_t i0, int64_t j0) {
  const int mr = pr.kernel.mr;
  const int nr = pr.kernel.nr;
  const int64_t rows = std::min<int64_t>(mr, pr.m - i0);
  const int64_t cols = std::min<int64_t>(nr, pr.n - j0);
  const bool lower = pr.c_part == Problem::Part::kLower;
  const bool upper = pr.c_part == Problem::Part::kUpper;
  if (lower && j0 > i0 + rows - 1) return;  // entirely above the diagonal
  if (upper && j0 + cols - 1 < i0) return;  // entirely below the diagonal
  if (kc == 0) {  // a triangular operand is zero on this whole depth block
    if (beta != 1.0f) scale_rows(pr, beta, i0, rows, j0, cols);
    return;
  }
  float* c = pr.c + i0 * pr.ldc + j0;
  const bool crosses_diagonal = (lower && j0 + cols - 1 > i0) || (upper && j0 < i0 + rows - 1);
  if (rows == mr && cols == nr && !crosses_diagonal) {
    pr.kernel.run(kc, a_panel, b_panel, pr.alpha, beta, c, pr.ldc);
    return;
  }

  alignas(64) float tile[kMaxTileFloats];
  pr.kernel.run(kc, a_panel, b_panel, pr.alpha, 0.0f, tile, nr);
  for (int64_t i = 0; i < rows; ++i) {
    int64_t begin = 0, end = 0;
    columns_of_row(pr, i0 + i, j0, cols, &begin, &end);
    float* row = c + i * pr.ldc;
    const float* from = tile + i * nr;
    for (int64_t j = begin; j < end; ++j) {
      row[j] = beta == 0.0f ? from[j] : from[j] + beta * row[j];
    }
  }
}

// Computes the tiles of rows [ic, ic + mc) of C, whose op(A) block is packed,
// against the columns [js, js_end) of the packed kc x nc panel of B that
// starts at column jc. It runs one row tile at a time from left to right (see
// the block sizes above). A tile runs only over the depth steps where both its rows of op(A) and its
// columns of op(B) can be nonzero. A tile with none left is only scaled by
// beta.
void run_block_slice(const Problem& pr, const float* a_packed, const float* b_packed, int64_t ic, int64_t mc,
                     int64_t jc, int64_t nc, int64_t js, int64_t js_end, int64_t pc, int64_t kc, float beta) {
  const int mr = pr.kernel.mr;
  const int nr = pr.kernel.nr;
  for (int64_t ir = 0; ir < mc; ir += mr) {
    int64_t a_begin = 0, a_end = 0;
    nonzero_depths_of_lines(pr.a, ic + ir, std::min<int64_t>(mr, mc - ir), pc, kc, &a_begin, &a_end);
    for (int64_t jr = js; jr < js_end; jr += nr) {
      int64_t b_begin = 0, b_end = 0;
      nonzero_depths_of_lines(pr.b, jc + jr, std::min<int64_t>(nr, nc - jr), pc, kc, &b_begin, &b_end);
      const int64_t begin = std::max(a_begin, b_begin);
      const int64_t end = std::max(begin, std::min(a_end, b_end));
      const float* a_panel = a_packed + ir * kc + begin * mr;
      const float* b_panel = b_packed + jr * kc + begin * nr;
      run_tile(pr, a_panel, b_panel, end - begin, beta, ic + ir, jc + jr);
    }
  }
}

// Computes rows [row_begin, row_end) of C against the packed kc x nc panel of
// B that starts at column jc, in blocks of at most kBlockRowsMax rows. Each
// block of op(A) is packed once and swept over the panel one slice of kSliceCols
// columns at a time.
void run_row_range(const Problem& pr, const float* b_packed, int64_t jc, int64_t nc, int64_t pc,
                   int64_t kc, float beta, int64_t row_begin, int64_t row_end, float* a_packed) {
  for (int64_t ic = row_begin; ic < row_end; ic += kBlockRowsMax) {
    const int64_t mc = std::min(kBlockRowsMax, row_end - ic);
    int64_t block_begin = 0, block_end = 0;
    nonzero_depths_of_lines(pr.a, ic, mc, pc, kc, &block_begin, &block_end);
    const bool block_is_zero = block_end == block_begin;
    if (block_is_zero && beta == 1.0f) continue;
    if (!block_is_zero) pack_panels(pr.a, ic, mc, pc, kc, pr.kernel.mr, a_packed);
    const int64_t slice = kSliceCols / pr.kernel.nr * pr.kernel.nr;
    for (int64_t js = 0; js < nc; js += slice) {
      run_block_slice(pr, a_packed, b_packed, ic, mc, jc, nc, js, std::min(nc, js + slice), pc, kc, beta);
    }
  }
}

// Splits rows [first, last) into `parts` ranges with about the same number
// of multiply-adds for this (column block, depth block), at multiples of mr.
std::vector<int64_t> split_rows(const Problem& pr, int64_t first, int64_t last, int64_t jc, int64_t nc,
                                int64_t pc, int64_t kc, int parts) {
  const int mr = pr.kernel.mr;
  std::vector<int64_t> prefix;  // work of the mr-row groups before each group
  prefix.push_back(0);
  for (int64_t row = first; row < last; row += mr) {
    int64_t work = 0;
    const int64_t rows = std::min<int64_t>(mr, last - row);
    for (int64_t i = row; i < row + rows; ++i) {
      int64_t begin = 0, end = 0;
      columns_of_row(pr, i, jc, nc, &begin, &end);
      work += end - begin;
    }
    int64_t depth_begin = 0, depth_end = 0;
    nonzero_depths_of_lines(pr.a, row, rows, pc, kc, &depth_begin, &depth_end);
    prefix.push_back(prefix.back() + work * (depth_end - depth_begin));
  }

  std::vector<int64_t> bounds(parts + 1, last);
  bounds[0] = first;
  size_t group = 0;
  for (int t = 1; t < parts; ++t) {
    const int64_t target = prefix.back() * t / parts;
    while (group + 1 < prefix.size() && prefix[group + 1] <= target) ++group;
    bounds[t] = std::min(first + static_cast<int64_t>(group) * mr, last);
  }
  return bounds;
}

void run_problem(const Problem& pr, ThreadPool* pool) {
  if (pr.m <= 0 || pr.n <= 0) return;
  if (pr.k <= 0 || pr.alpha == 0.0f) {
    scale_rows(pr, pr.beta, 0, pr.m, 0, pr.n);
    return;
  }

  const bool parallel = pool != nullptr && pool->size() > 1 && pr.m * pr.n * pr.k >= kMinParallelWork;
  const int parts = parallel ? pool->size() : 1;
  const int nr = pr.kernel.nr;
  const int64_t kc_max = std::min(kBlockK, pr.k);
  const int64_t nc_max = std::min(kBlockCols, pr.n);
  thread_local PackBuffer b_storage[2];
  thread_local PackBuffer a_storage;
  const int64_t b_floats = kc_max * round_up(nc_max, nr);
  // On the pool, each depth block's packed B is built while the previous
  // block's product runs, into the other of two buffers.
  const bool overlap = parallel && pr.prepacked_b == nullptr && pr.k > kBlockK;
  float* b_buffers[2] = {nullptr, nullptr};
  if (pr.prepacked_b == nullptr) b_buffers[0] = b_storage[0].get(b_floats);
  b_buffers[1] = overlap ? b_storage[1].get(b_floats) : b_buffers[0];
  float* a_packed = a_storage.get(int64_t{parts} * kBlockRowsMax * kc_max);

  for (int64_t jc = 0; jc < pr.n; jc += kBlockCols) {
    const int64_t nc = std::min(kBlockCols, pr.n - jc);
    // A triangular C has no entries of this column block above row jc (lower)
    // or from row jc + nc on (upper).
    const int64_t first_row = pr.c_part == Problem::Part::kLower ? std::min(jc, pr.m) : 0;
    const int64_t last_row = pr.c_part == Problem::Part::kUpper ? std::min(jc + nc, pr.m) : pr.m;
    if (first_row >= last_row) continue;
    const int64_t panels = (nc + nr - 1) / nr;

    // Packs micro-panels [begin, end) of depth block pc into buffer.
    auto pack_b = [&](float* buffer, int64_t pc, int64_t begin, int64_t end) {
      const int64_t kc = std::min(kBlockK, pr.k - pc);
      const int64_t col0 = begin * nr;
      const int64_t cols = std::min(end * nr, nc) - col0;
      if (cols > 0) pack_panels(pr.b, jc + col0, cols, pc, kc, nr, buffer + col0 * kc);
    };
    if (parallel && b_buffers[0] != nullptr) {
      pool->parallel_for(panels, [&](int64_t begin, int64_t end) { pack_b(b_buffers[0], 0, begin, end); });
    }

    for (int64_t pc = 0, step = 0; pc < pr.k; pc += kBlockK, ++step) {
      const int64_t kc = std::min(kBlockK, pr.k - pc);
      const float beta = pc == 0 ? pr.beta : 1.0f;
      const std::vector<int64_t> bounds = split_rows(pr, first_row, last_row, jc, nc, pc, kc, parts);
      const float* b_packed = pr.prepacked_b == nullptr
                                  ? b_buffers[step % 2]
                                  : pr.prepacked_b + packed_b_offset(pr.k, pr.n, nr, jc, pc);
      const bool pack_next = overlap && pc + kBlockK < pr.k;
      auto compute = [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
          float* a_buffer = a_packed + t * kBlockRowsMax * kc_max;
          run_row_range(pr, b_packed, jc, nc, pc, kc, beta, bounds[t], bounds[t + 1], a_buffer);
          if (pack_next) pack_b(b_buffers[(step + 1) % 2], pc + kBlockK, panels * t / parts, panels * (t + 1) / parts);
        }
      };
      if (parallel) {
        pool->parallel_for(parts, compute);
      } else {
        if (b_buffers[0] != nullptr) pack_b(b_buffers[0], pc, 0, panels);
        compute(0, 1);
      }
    }
  }
}

Problem make_problem(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                     int64_t ldc) {
  Problem pr;
  pr.kernel = select_gemm_micro_kernel();
  pr.a = PanelSource{a, lda, trans_a, PanelSource::Zero::kNone};
  pr.b = PanelSource{b, ldb, !trans_b, PanelSource::Zero::kNone};
  pr.m = m;
  pr.n = n;
  pr.k = k;
  pr.alpha = alpha;
  pr.beta = beta;
  pr.c = c;
  pr.ldc = ldc;
  pr.c_part = Problem::Part::kFull;
  return pr;
}

}  // namespace

GemmMicroKernel select_gemm_micro_kernel() {
  switch (active_simd_level()) {
#if defined(__x86_64__)
    case SimdLevel::kAvx512: return GemmMicroKernel{12, 32, gemm_f32_12x32_avx512};
    case SimdLevel::kAvx2: return GemmMicroKernel{6, 16, gemm_f32_6x16_avx2};
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return GemmMicroKernel{8, 12, gemm_f32_8x12_neon};
#endif
    default: return GemmMicroKernel{4, 8, gemm_f32_4x8_ref};
  }
}

void gemm_f32(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
              int64_t ldc, ThreadPool* pool) {
  run_problem(make_problem(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), pool);
}

void gemm_lower_f32(bool trans_a, bool trans_b, int64_t n, int64_t k, float alpha,
                    const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                    float* c, int64_t ldc, ThreadPool* pool) {
  Problem pr = make_problem(trans_a, trans_b, n, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  pr.c_part = Problem::Part::kLower;
  run_problem(pr, pool);
}

void gemm_upper_f32(bool trans_a, bool trans_b, int64_t n, int64_t k, float alpha,
                    const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
                    float* c, int64_t ldc, ThreadPool* pool) {
  Problem pr = make_problem(trans_a, trans_b, n, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  pr.c_part = Problem::Part::kUpper;
  run_problem(pr, pool);
}

void trmm_lower_f32(int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                    ThreadPool* pool) {
  Problem pr = make_problem(false, false, m, n, m, alpha, a, lda, b, ldb, beta, c, ldc);
  pr.a.zero = PanelSource::Zero::kDepthAfterLine;
  run_problem(pr, pool);
}

void trmm_right_lower_f32(int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
                          const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                          ThreadPool* pool) {
  Problem pr = make_problem(false, false, m, n, n, alpha, a, lda, b, ldb, beta, c, ldc);
  pr.b.zero = PanelSource::Zero::kDepthBeforeLine;
  run_problem(pr, pool);
}

void trmm_upper_f32(int64_t m, int64_t n, float alpha, const float* a, int64_t lda, bool trans_b,
                    const float* b, int64_t ldb, float beta, float* c, int64_t ldc, ThreadPool* pool) {
  Problem pr = make_problem(false, trans_b, m, n, m, alpha, a, lda, b, ldb, beta, c, ldc);
  pr.a.zero = PanelSource::Zero::kDepthBeforeLine;
  run_problem(pr, pool);
}

void trmm_right_upper_f32(int64_t m, int64_t n, float alpha, const float* a, int64_t lda,
                          const float* b, int64_t ldb, float beta, float* c, int64_t ldc,
                          ThreadPool* pool) {
  Problem pr = make_problem(false, false, m, n, n, alpha, a, lda, b, ldb, beta, c, ldc);
  pr.b.zero = PanelSource::Zero::kDepthAfterLine;
  run_problem(pr, pool);
}

void GemmPackedB::pack(bool trans_b, int64_t k, int64_t n, const float* b, int64_t ldb,
                       ThreadPool* pool) {
  kernel_ = select_gemm_micro_kernel();
  k_ = std::max<int64_t>(k, 0);
  n_ = std::max<int64_t>(n, 0);
  const int nr = kernel_.nr;
  const int64_t blocks = (n_ + kBlockCols - 1) / kBlockCols;
  const int64_t floats = blocks == 0 ? 0 : packed_b_offset(k_, n_, nr, (blocks - 1) * kBlockCols, k_);
  // Packing writes every float of every panel, padding included, so only
  // growth needs the (zeroing) resize.
  if (storage_.size() < static_cast<size_t>(floats + 16)) storage_.resize(static_cast<size_t>(floats + 16));
  const size_t misalignment = reinterpret_cast<uintptr_t>(storage_.data()) % 64 / sizeof(float);
  offset_ = misalignment == 0 ? 0 : 16 - misalignment;

  const PanelSource source{b, ldb, !trans_b, PanelSource::Zero::kNone};
  for (int64_t jc = 0; jc < n_; jc += kBlockCols) {
    const int64_t nc = std::min(kBlockCols, n_ - jc);
    for (int64_t pc = 0; pc < k_; pc += kBlockK) {
      const int64_t kc = std::min(kBlockK, k_ - pc);
      float* block = data() + packed_b_offset(k_, n_, nr, jc, pc);
      auto pack_range = [&](int64_t begin, int64_t end) {
        const int64_t col0 = begin * nr;
        const int64_t cols = std::min(end * nr, nc) - col0;
        pack_panels(source, jc + col0, cols, pc, kc, nr, block + col0 * kc);
      };
      const int64_t panels = (nc + nr - 1) / nr;
      if (pool != nullptr) {
        pool->parallel_for(panels, pack_range);
      } else {
        pack_range(0, panels);
      }
    }
  }
}

void gemm_packed_b_f32(bool trans_a, int64_t m, float alpha, const float* a, int64_t lda,
                       const GemmPackedB& b, float beta, float* c, int64_t ldc, ThreadPool* pool) {
  Problem pr = make_problem(trans_a, false, m, b.n(), b.k(), alpha, a, lda, nullptr, 0, beta, c, ldc);
  pr.kernel = b.kernel_;
  pr.prepacked_b = b.data();
  run_problem(pr, pool);
}

void syrk_lower_f32(int64_t n, int64_t k, const float* x, int64_t ldx, float* c, int64_t ldc,
                    ThreadPool* pool) {
  gemm_lower_f32(true, false, n, k, 1.0f, x, ldx, x, ldx, 1.0f, c, ldc, pool);
}

}  // namespace claq
