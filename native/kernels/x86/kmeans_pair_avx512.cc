// AVX-512 kernels of the four-cluster K-Means search: 8 float64 lanes, over
// splits j (scan) or over 8 consecutive rows b (group). Contract in
// kernels/kmeans_pair.h. V is computed in the scalar kernel's order with no
// fused multiply-add, so both give bitwise equal values and splits. Long
// scans skip the blocks of splits whose upper bound rules them out.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/kmeans_pair.h"
#include "kernels/x86/block_scan_avx512.h"

namespace claq {
namespace {

#define CLAQ_INLINE inline __attribute__((always_inline))

// Hides a product from the compiler so that it cannot fuse the following
// addition into an FMA (GCC contracts intrinsics too).
CLAQ_INLINE __m512d unfused(__m512d product) {
  __asm__("" : "+v"(product));
  return product;
}

CLAQ_INLINE __m512d square_times(__m512d d, __m512d inverse) {
  return unfused(_mm512_mul_pd(_mm512_mul_pd(d, d), inverse));
}

// The running best value and split of one set of lanes. kSuffix keeps the
// highest of equal values' splits (they arrive in ascending order), the
// prefix side the lowest.
template <bool kSuffix>
struct BestLanes {
  __m512d best = _mm512_set1_pd(-std::numeric_limits<double>::infinity());
  __m512i best_j;

  explicit BestLanes(int64_t j_begin) : best_j(_mm512_set1_epi64(j_begin)) {}

  CLAQ_INLINE void update(__m512d value, __m512i j, __mmask8 valid) {
    const __mmask8 better = _mm512_mask_cmp_pd_mask(valid, value, best,
                                                    kSuffix ? _CMP_GE_OQ : _CMP_GT_OQ);
    best = _mm512_mask_mov_pd(best, better, value);
    best_j = _mm512_mask_mov_epi64(best_j, better, j);
  }

  // Takes the other lanes' best where it wins, on ties by its split.
  CLAQ_INLINE void merge(const BestLanes& other) {
    const __mmask8 higher = _mm512_cmp_pd_mask(other.best, best, _CMP_GT_OQ);
    const __mmask8 equal = _mm512_cmp_pd_mask(other.best, best, _CMP_EQ_OQ);
    const __mmask8 preferred = kSuffix
        ? _mm512_cmp_epi64_mask(other.best_j, best_j, _MM_CMPINT_NLE)
        : _mm512_cmp_epi64_mask(other.best_j, best_j, _MM_CMPINT_LT);
    const __mmask8 take = static_cast<__mmask8>(higher | (equal & preferred));
    best = _mm512_mask_mov_pd(best, take, other.best);
    best_j = _mm512_mask_mov_epi64(best_j, take, other.best_j);
  }
};

// The values of eight splits j0 .. j0 + 7 for one middle boundary b.
struct ScanRow {
  const KMeansPairSide& side;
  const double* inverse;  // inverse[j] = 1 / |b - j|
  __m512d s1_b;
  __m512d outer_sum;

  ScanRow(const KMeansPairSide& s, int64_t b)
      : side(s), inverse(s.scan_inverse - b), s1_b(_mm512_set1_pd(s.s1[b])),
        outer_sum(_mm512_set1_pd(s.outer_sum)) {}

  CLAQ_INLINE __m512d value(int64_t j0, __mmask8 valid) const {
    const __m512d s1 = _mm512_maskz_loadu_pd(valid, side.s1 + j0);
    const __m512d outer = square_times(_mm512_sub_pd(s1, outer_sum),
                                       _mm512_maskz_loadu_pd(valid, side.outer_inverse + j0));
    const __m512d inner = square_times(_mm512_sub_pd(s1, s1_b),
                                       _mm512_maskz_loadu_pd(valid, inverse + j0));
    return _mm512_add_pd(outer, inner);
  }
};

constexpr int64_t kBlock = 32;

// Splits in blocks of 32, in ascending order: four sets of lanes (j0, j0 +
// 8, j0 + 16, j0 + 24) give four independent dependency chains.
template <bool kSuffix>
class BlockScan {
 public:
  BlockScan(const KMeansPairSide& side, int64_t b, int64_t j_begin)
      : row_(side, b), lanes_{BestLanes<kSuffix>(j_begin), BestLanes<kSuffix>(j_begin),
                              BestLanes<kSuffix>(j_begin), BestLanes<kSuffix>(j_begin)} {}

  // The splits j0 .. min(j0 + 31, j_end).
  CLAQ_INLINE void block(int64_t j0, int64_t j_end) {
    const __m512i j = _mm512_add_epi64(_mm512_set1_epi64(j0),
                                       _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    for (int set = 0; set < 4; ++set) {
      const int64_t first = j0 + 8 * set;
      const int64_t remaining = j_end - first + 1;
      if (remaining <= 0) return;
      const __mmask8 valid = remaining >= 8 ? 0xff : static_cast<__mmask8>((1u << remaining) - 1);
      lanes_[set].update(row_.value(first, valid),
                         _mm512_add_epi64(j, _mm512_set1_epi64(8 * set)), valid);
    }
  }

  CLAQ_INLINE int64_t result(double* best_value) {
    lanes_[0].merge(lanes_[1]);
    lanes_[2].merge(lanes_[3]);
    lanes_[0].merge(lanes_[2]);
    const double highest = _mm512_reduce_max_pd(lanes_[0].best);
    const __mmask8 at = _mm512_cmp_pd_mask(lanes_[0].best, _mm512_set1_pd(highest), _CMP_EQ_OQ);
    *best_value = highest;
    return kSuffix ? _mm512_mask_reduce_max_epi64(at, lanes_[0].best_j)
                   : _mm512_mask_reduce_min_epi64(at, lanes_[0].best_j);
  }

 private:
  ScanRow row_;
  BestLanes<kSuffix> lanes_[4];
};

// Scans of at least this many splits skip blocks (pruned_scan).
constexpr int64_t kPrunedScanLength = 256;
constexpr int64_t kChunkBlocks = 64;
// Splits per bounded block: two blocks of the scan. Bounds every 32 splits
// cost more time than their pruning saved. In replayed scans of real
// four-cluster fits (Intel Xeon, thread CPU time), the long scans took 0.6 us
// per column less with 64 than with 32, and 128 saved less than 64.
constexpr int64_t kBoundBlock = 2 * kBlock;

// The two terms of V at one split, as the scalar kernel computes them.
struct Terms {
  double outer;
  double inner;
};

Terms terms_at(const KMeansPairSide& side, int64_t b, int64_t j) {
  const double outer = side.s1[j] - side.outer_sum;
  const double inner = side.s1[j] - side.s1[b];
  return {outer * outer * side.outer_inverse[j], inner * inner * side.scan_inverse[j - b]};
}

// A block [ja, jb] of prefix splits: the cost of [0, j) never decreases with j,
// and that of [j, b) never increases. With the square sums s2, each V(j) in
// the block is therefore at most outer(ja) + inner(jb) + s2[jb] - s2[ja]. On
// the suffix side the roles swap: inner(ja) + outer(jb) + s2[jb] - s2[ja].
// Squares are never negative, so the square sums at the multiples of eight
// around the block (s2_blocks) bound s2[jb] - s2[ja] from above. V
// at the block's end toward b is a value found. Rounding breaks these orders
// only slightly (kmeans_dp_avx512.cc estimates by how much). A block is
// skipped only when its bound is below the best found value by the same
// margin as there, so the blocks evaluated hold the full scan's best value
// and split.
template <bool kSuffix>
int64_t pruned_scan(const KMeansPairSide& side, int64_t b, int64_t j_begin, int64_t j_end,
                    double* best_value) {
  const double n = static_cast<double>(side.n);
  const double margin = (1e-7 + 4e-16 * n * std::sqrt(n)) * std::fabs(side.s2_blocks[(side.n + 7) / 8]);
  BlockScan<kSuffix> scan(side, b, j_begin);
  double found = -std::numeric_limits<double>::infinity();
  double bound[kChunkBlocks];
  for (int64_t chunk = j_begin; chunk <= j_end; chunk += kChunkBlocks * kBoundBlock) {
    const int64_t blocks = std::min(kChunkBlocks, (j_end - chunk) / kBoundBlock + 1);
    for (int64_t t = 0; t < blocks; ++t) {
      const int64_t ja = chunk + t * kBoundBlock;
      const int64_t jb = std::min(ja + kBoundBlock - 1, j_end);
      const Terms low = terms_at(side, b, ja);
      const Terms high = terms_at(side, b, jb);
      const double squares = side.s2_blocks[(jb + 7) / 8] - side.s2_blocks[ja / 8];
      bound[t] = (kSuffix ? low.inner + high.outer : low.outer + high.inner) + squares;
      found = std::max(found, kSuffix ? low.outer + low.inner : high.outer + high.inner);
    }
    for (int64_t t = 0; t < blocks; ++t) {
      if (bound[t] < found - margin) continue;
      const int64_t ja = chunk + t * kBoundBlock;
      scan.block(ja, j_end);
      if (ja + kBlock <= j_end) scan.block(ja + kBlock, j_end);
    }
  }
  return scan.result(best_value);
}

template <bool kSuffix>
int64_t scan_side(const KMeansPairSide& side, int64_t b, int64_t j_begin, int64_t j_end,
                  double* best_value) {
  if (j_end - j_begin + 1 >= kPrunedScanLength) {
    return pruned_scan<kSuffix>(side, b, j_begin, j_end, best_value);
  }
  BlockScan<kSuffix> scan(side, b, j_begin);
  for (int64_t j0 = j_begin; j0 <= j_end; j0 += kBlock) scan.block(j0, j_end);
  return scan.result(best_value);
}

// One vector of rows [b0, b0 + 8) against one split j at a time.
template <bool kSuffix>
struct RowLanes {
  __m512d s1_b;
  BestLanes<kSuffix> lanes;

  RowLanes(const KMeansPairSide& side, int64_t b0, __mmask8 rows, int64_t j_begin)
      : s1_b(_mm512_maskz_loadu_pd(rows, side.s1 + b0)), lanes(j_begin) {}

  // Lane r reads 1 / |b0 + r - j|, which is 0 where j is on the wrong side.
  CLAQ_INLINE void update(const KMeansPairSide& side, int64_t b0, int64_t j, __m512d s1_j,
                          __m512d outer) {
    const __m512d inverse = _mm512_loadu_pd(side.row_inverse + (b0 - j));
    const __mmask8 valid = _mm512_cmp_pd_mask(inverse, _mm512_setzero_pd(), _CMP_GT_OQ);
    const __m512d value = _mm512_add_pd(outer, square_times(_mm512_sub_pd(s1_j, s1_b), inverse));
    lanes.update(value, _mm512_set1_epi64(j), valid);
  }
};

__mmask8 first_lanes(int count) {
  return count >= 8 ? __mmask8{0xff} : static_cast<__mmask8>((1u << std::max(count, 0)) - 1);
}

template <bool kSuffix>
void group_side(const KMeansPairSide& side, int64_t b_begin, int count, int64_t j_begin,
                int64_t j_end, double* value, int32_t* split) {
  // Two vectors of rows, each with one set of lanes for even and one for odd
  // splits: four independent dependency chains.
  const int upper_count = count - 8;
  RowLanes<kSuffix> lower(side, b_begin, first_lanes(count), j_begin);
  RowLanes<kSuffix> upper(side, b_begin + 8, first_lanes(upper_count), j_begin);
  RowLanes<kSuffix> lower_odd = lower;
  RowLanes<kSuffix> upper_odd = upper;

  const auto step = [&](int64_t j, RowLanes<kSuffix>& low_rows, RowLanes<kSuffix>& high_rows) {
    const double outer_term = side.s1[j] - side.outer_sum;
    const __m512d outer = _mm512_set1_pd(outer_term * outer_term * side.outer_inverse[j]);
    const __m512d s1_j = _mm512_set1_pd(side.s1[j]);
    low_rows.update(side, b_begin, j, s1_j, outer);
    if (upper_count > 0) high_rows.update(side, b_begin + 8, j, s1_j, outer);
  };
  int64_t j = j_begin;
  for (; j + 1 <= j_end; j += 2) {
    step(j, lower, upper);
    step(j + 1, lower_odd, upper_odd);
  }
  if (j <= j_end) step(j, lower, upper);
  lower.lanes.merge(lower_odd.lanes);
  upper.lanes.merge(upper_odd.lanes);

  _mm512_mask_storeu_pd(value + b_begin, first_lanes(count), lower.lanes.best);
  _mm512_mask_cvtepi64_storeu_epi32(split + b_begin, first_lanes(count), lower.lanes.best_j);
  if (upper_count > 0) {
    _mm512_mask_storeu_pd(value + b_begin + 8, first_lanes(upper_count), upper.lanes.best);
    _mm512_mask_cvtepi64_storeu_epi32(split + b_begin + 8, first_lanes(upper_count),
                                      upper.lanes.best_j);
  }
}

// The block totals of eight vectors of squares, lane u of the result for
// q[u]. Three levels add the even lanes of two vectors to their odd lanes, so
// each total is ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7)).
CLAQ_INLINE __m512d block_totals(const __m512d* q) {
  const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
  const auto pair_sums = [&](__m512d a, __m512d b) {
    return _mm512_add_pd(_mm512_permutex2var_pd(a, even, b), _mm512_permutex2var_pd(a, odd, b));
  };
  const __m512d pairs[4] = {pair_sums(q[0], q[1]), pair_sums(q[2], q[3]), pair_sums(q[4], q[5]),
                            pair_sums(q[6], q[7])};
  return pair_sums(pair_sums(pairs[0], pairs[1]), pair_sums(pairs[2], pairs[3]));
}

}  // namespace

void kmeans_pair_prefix_avx512(const float* sorted, int64_t n, double shift, double* s1,
                               double* s2_blocks) {
  const __m512i last_lane = _mm512_set1_epi64(7);
  const __m512d shift_vector = _mm512_set1_pd(shift);
  const int64_t blocks = (n + 7) / 8;
  __m512d carry1 = _mm512_setzero_pd();
  __m512d carry2 = _mm512_setzero_pd();
  s1[0] = 0;
  s2_blocks[0] = 0;

  // One block of values from `start`: s1 stored, the squares returned. Lanes
  // outside `valid` are zero and are not stored, and whole blocks take
  // unmasked loads and stores.
  const auto block = [&](int64_t start, __mmask8 valid) {
    const __m512d v = load_shifted_block(sorted + start, valid, shift_vector);
    const __m512d scan = block_scan_lanes(v);
    const __m512d sums = _mm512_add_pd(carry1, scan);
    if (valid == 0xff) {
      _mm512_storeu_pd(s1 + start + 1, sums);
    } else {
      _mm512_mask_storeu_pd(s1 + start + 1, valid, sums);
    }
    carry1 = _mm512_add_pd(carry1, _mm512_permutexvar_pd(last_lane, scan));
    return _mm512_mul_pd(v, v);
  };

  // The running square sums after eight more blocks, the first `count` stored.
  const auto store_blocks = [&](int64_t group, const __m512d* squares, int64_t count) {
    const __m512d scan = block_scan_lanes(block_totals(squares));
    const __mmask8 valid = count >= 8 ? 0xff : static_cast<__mmask8>((1u << count) - 1);
    _mm512_mask_storeu_pd(s2_blocks + group + 1, valid, _mm512_add_pd(carry2, scan));
    carry2 = _mm512_add_pd(carry2, _mm512_permutexvar_pd(last_lane, scan));
  };

  __m512d squares[8];
  int64_t group = 0;
  for (; (group + 8) * 8 <= n; group += 8) {
    for (int u = 0; u < 8; ++u) squares[u] = block((group + u) * 8, 0xff);
    store_blocks(group, squares, 8);
  }
  if (group < blocks) {
    for (int u = 0; u < 8; ++u) {
      const int64_t remaining = n - (group + u) * 8;
      squares[u] = remaining <= 0 ? _mm512_setzero_pd()
                                  : block((group + u) * 8, remaining >= 8 ? __mmask8{0xff}
                                              : static_cast<__mmask8>((1u << remaining) - 1));
    }
    store_blocks(group, squares, blocks - group);
  }
}

int64_t kmeans_pair_scan_avx512(const KMeansPairSide& side, int64_t b, int64_t j_begin,
                                int64_t j_end, double* best_value) {
  return side.suffix ? scan_side<true>(side, b, j_begin, j_end, best_value)
                     : scan_side<false>(side, b, j_begin, j_end, best_value);
}

void kmeans_pair_group_avx512(const KMeansPairSide& side, int64_t b_begin, int count,
                              int64_t j_begin, int64_t j_end, double* value, int32_t* split) {
  if (side.suffix) {
    group_side<true>(side, b_begin, count, j_begin, j_end, value, split);
  } else {
    group_side<false>(side, b_begin, count, j_begin, j_end, value, split);
  }
}

}  // namespace claq
