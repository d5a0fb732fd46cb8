// AVX-512 kernels of the K-Means dynamic program: 8 float64 lanes, over
// splits j (scan) or over 8 consecutive rows i (group). Contract in
// kernels/kmeans_dp.h. The cost is computed with the scalar code's operation
// order and no fused multiply-add, so both give bitwise equal costs and splits.
// Long scans skip blocks of splits whose lower bound rules them out
// (pruned_scan); the blocks they evaluate hold the same minimum.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/kmeans_dp.h"
#include "kernels/x86/block_scan_avx512.h"

namespace claq {
namespace {

// Hides a product from the compiler so that it cannot fuse the following
// subtraction into an FMA (GCC contracts intrinsics too), which would round
// differently from the scalar kernel.
inline __m512d unfused(__m512d product) {
  __asm__("" : "+v"(product));
  return product;
}

}  // namespace

namespace {

// The costs of the eight splits j0 .. j0 + 7 for row i. The counts i - j come
// from the reversed table, so all three arrays are read at ascending addresses.
struct ScanRow {
  const KMeansDpArrays& a;
  const double* inverse;  // inverse[j] = 1 / (i - j)
  __m512d s1_i;

  ScanRow(const KMeansDpArrays& arrays, int64_t i)
      : a(arrays), inverse(arrays.inverse_count_reversed - i), s1_i(_mm512_set1_pd(arrays.s1[i])) {}

  __m512d cost(int64_t j0) const {
    return combine(_mm512_loadu_pd(a.s1 + j0), _mm512_loadu_pd(a.previous + j0),
                   _mm512_loadu_pd(inverse + j0));
  }

  // Lanes outside `valid` read nothing.
  __m512d cost(int64_t j0, __mmask8 valid) const {
    return combine(_mm512_maskz_loadu_pd(valid, a.s1 + j0),
                   _mm512_maskz_loadu_pd(valid, a.previous + j0),
                   _mm512_maskz_loadu_pd(valid, inverse + j0));
  }

  __m512d combine(__m512d s1_j, __m512d previous, __m512d inverse_j) const {
    const __m512d d1 = _mm512_sub_pd(s1_i, s1_j);
    return _mm512_sub_pd(previous, unfused(_mm512_mul_pd(_mm512_mul_pd(d1, d1), inverse_j)));
  }
};

// The running best cost and split of one lane set. A strictly lower cost
// replaces the best, so each lane keeps its leftmost minimiser.
struct SplitLanes {
  __m512d best = _mm512_set1_pd(std::numeric_limits<double>::infinity());
  __m512i best_j;

  explicit SplitLanes(int64_t j_begin) : best_j(_mm512_set1_epi64(j_begin)) {}

  void update(__m512d cost, __m512i j, __mmask8 valid = 0xff) {
    const __mmask8 better = _mm512_mask_cmp_pd_mask(valid, cost, best, _CMP_LT_OQ);
    best = _mm512_mask_mov_pd(best, better, cost);
    best_j = _mm512_mask_mov_epi64(best_j, better, j);
  }
};

// Splits in blocks of 32, visited in ascending order: four lane sets (j0,
// j0 + 8, j0 + 16, j0 + 24) give four independent dependency chains. The
// lanes stay in registers only when every member is inlined.
constexpr int64_t kBlock = 32;
#define CLAQ_INLINE inline __attribute__((always_inline))

class BlockScan {
 public:
  BlockScan(const KMeansDpArrays& a, int64_t i, int64_t j_begin)
      : row_(a, i), j_begin_(j_begin), lanes0_(j_begin), lanes1_(j_begin), lanes2_(j_begin),
        lanes3_(j_begin) {}

  // The splits j0 .. min(j0 + 31, j_end).
  CLAQ_INLINE void block(int64_t j0, int64_t j_end) {
    const __m512i step = _mm512_set1_epi64(8);
    const __m512i j = _mm512_add_epi64(_mm512_set1_epi64(j0), _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0));
    if (j0 + kBlock - 1 <= j_end) {
      const __m512i j8 = _mm512_add_epi64(j, step);
      const __m512i j16 = _mm512_add_epi64(j8, step);
      lanes0_.update(row_.cost(j0), j);
      lanes1_.update(row_.cost(j0 + 8), j8);
      lanes2_.update(row_.cost(j0 + 16), j16);
      lanes3_.update(row_.cost(j0 + 24), _mm512_add_epi64(j16, step));
      return;
    }
    partial(lanes0_, j0, j_end, j);
    partial(lanes1_, j0 + 8, j_end, _mm512_add_epi64(j, step));
    partial(lanes2_, j0 + 16, j_end, _mm512_add_epi64(j, _mm512_set1_epi64(16)));
    partial(lanes3_, j0 + 24, j_end, _mm512_add_epi64(j, _mm512_set1_epi64(24)));
  }

  // Leftmost overall: the smallest j among the lanes holding the minimum.
  CLAQ_INLINE int64_t result(double* best_cost) const {
    const __m512d lowest = _mm512_min_pd(_mm512_min_pd(lanes0_.best, lanes1_.best),
                                         _mm512_min_pd(lanes2_.best, lanes3_.best));
    const double minimum = _mm512_reduce_min_pd(lowest);
    const __m512d target = _mm512_set1_pd(minimum);
    __m512i candidates = _mm512_set1_epi64(INT64_MAX);
    candidates = keep_at(lanes0_, target, candidates);
    candidates = keep_at(lanes1_, target, candidates);
    candidates = keep_at(lanes2_, target, candidates);
    candidates = keep_at(lanes3_, target, candidates);
    const int64_t best = _mm512_reduce_min_epi64(candidates);
    *best_cost = minimum;
    return best != INT64_MAX ? best : j_begin_;
  }

 private:
  // The splits j0 .. min(j0 + 7, j_end), if any.
  CLAQ_INLINE void partial(SplitLanes& lanes, int64_t j0, int64_t j_end, __m512i j) const {
    const int64_t remaining = j_end - j0 + 1;
    if (remaining <= 0) return;
    const __mmask8 valid = remaining >= 8 ? 0xff : static_cast<__mmask8>((1u << remaining) - 1);
    lanes.update(row_.cost(j0, valid), j, valid);
  }

  // The smaller of `candidates` and the splits of the lanes whose best is `target`.
  CLAQ_INLINE static __m512i keep_at(const SplitLanes& lanes, __m512d target, __m512i candidates) {
    const __mmask8 at = _mm512_cmp_pd_mask(lanes.best, target, _CMP_EQ_OQ);
    return _mm512_mask_min_epi64(candidates, at, candidates, lanes.best_j);
  }

  ScanRow row_;
  int64_t j_begin_;
  SplitLanes lanes0_;
  SplitLanes lanes1_;
  SplitLanes lanes2_;
  SplitLanes lanes3_;
};

// Scans of at least this many splits skip the blocks that cannot hold the
// minimum (pruned_scan).
constexpr int64_t kPrunedScanLength = 256;
constexpr int64_t kChunkBlocks = 64;
// Splits per bounded block: two blocks of the scan. As in
// kmeans_pair_avx512.cc, fewer bounds paid off: 16-cluster fits of real
// columns took 3 % less time than with 32 (Intel Xeon, thread CPU time).
constexpr int64_t kBoundBlock = 2 * kBlock;

// The scan over blocks of 32 splits [ja, jb], skipping a block when a lower
// bound of its costs exceeds a cost already found. The previous layer's cost
// D_{l-1}[j] = previous[j] + s2[j] never decreases with j (more values never
// cost less), and the cost of the run [j, i) never increases with j. So every
// cost in the block is at least D_{l-1}[ja] + cost of [jb, i), and the cost
// at jb itself is a found cost. In the E form of the kernel (both minus
// s2[i]) the bound is
//   previous[ja] + (s2[ja] - s2[jb]) - (s1[i] - s1[jb])^2 / (i - jb)
// and the found cost previous[jb] - (s1[i] - s1[jb])^2 / (i - jb).
// Rounding breaks both orders only slightly. By an estimate of the prefix
// sums' errors (Cauchy-Schwarz on their sums), the costs computed from them
// are off by at most 2 * n^1.5 * 1.1e-16 of the total square sum s2[n], far
// less in practice. The E form adds a rounding of about ulp(s2[n]) per layer
// and one in the bound, because all their terms are at most s2[n] in
// magnitude. A block is skipped only when its bound exceeds the best found
// cost by 1e-7 + 4e-16 * n^1.5 of s2[n], which covers both. Every cost in it
// is then higher than the minimum, and the blocks evaluated give the same
// minimum and leftmost split as a full scan.
int64_t pruned_scan(const KMeansDpArrays& a, int64_t i, int64_t j_begin, int64_t j_end,
                    double* best_cost) {
  const double s1_i = a.s1[i];
  const double n = static_cast<double>(a.n);
  const double margin = (1e-7 + 4e-16 * n * std::sqrt(n)) * std::fabs(a.s2[a.n]);
  const double* inverse = a.inverse_count_reversed - i;
  BlockScan scan(a, i, j_begin);
  double found = std::numeric_limits<double>::infinity();
  double bound[kChunkBlocks];
  for (int64_t chunk = j_begin; chunk <= j_end; chunk += kChunkBlocks * kBoundBlock) {
    const int64_t blocks = std::min(kChunkBlocks, (j_end - chunk) / kBoundBlock + 1);
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t ja = chunk + b * kBoundBlock;
      const int64_t jb = std::min(ja + kBoundBlock - 1, j_end);
      const double d1 = s1_i - a.s1[jb];
      const double run = d1 * d1 * inverse[jb];
      bound[b] = (a.previous[ja] + (a.s2[ja] - a.s2[jb])) - run;
      found = std::min(found, a.previous[jb] - run);
    }
    for (int64_t b = 0; b < blocks; ++b) {
      if (bound[b] > found + margin) continue;
      const int64_t ja = chunk + b * kBoundBlock;
      scan.block(ja, j_end);
      if (ja + kBlock <= j_end) scan.block(ja + kBlock, j_end);
    }
  }
  return scan.result(best_cost);
}

}  // namespace

int64_t kmeans_dp_scan_avx512(const KMeansDpArrays& a, int64_t i, int64_t j_begin,
                              int64_t j_end, double* best_cost) {
  if (j_end - j_begin + 1 >= kPrunedScanLength) return pruned_scan(a, i, j_begin, j_end, best_cost);
  BlockScan scan(a, i, j_begin);
  for (int64_t j0 = j_begin; j0 <= j_end; j0 += kBlock) scan.block(j0, j_end);
  return scan.result(best_cost);
}

namespace {

// One vector of rows [i_begin, i_begin + 8): the running best cost and split.
struct RowLanes {
  __m512d s1_i;
  __m512d best;
  __m512i best_j;

  RowLanes(const KMeansDpArrays& a, int64_t i_begin, __mmask8 rows, int64_t j_begin)
      : s1_i(_mm512_maskz_loadu_pd(rows, a.s1 + i_begin)),
        best(_mm512_set1_pd(std::numeric_limits<double>::infinity())),
        best_j(_mm512_set1_epi64(j_begin)) {}

  // Lane r reads 1 / (i_begin + r - j). With kSomeEmpty (j >= i_begin) a
  // count <= 0 reads the padding 0 and marks j >= i, an empty cluster.
  template <bool kSomeEmpty>
  void update(const KMeansDpArrays& a, int64_t i_begin, int64_t j, __m512d s1_j,
              __m512d previous_j) {
    const __m512d inverse = _mm512_loadu_pd(a.inverse_count + (i_begin - j));
    const __mmask8 valid =
        kSomeEmpty ? _mm512_cmp_pd_mask(inverse, _mm512_setzero_pd(), _CMP_GT_OQ) : 0xff;
    const __m512d d1 = _mm512_sub_pd(s1_i, s1_j);
    const __m512d cost =
        _mm512_sub_pd(previous_j, unfused(_mm512_mul_pd(_mm512_mul_pd(d1, d1), inverse)));
    const __mmask8 better = _mm512_mask_cmp_pd_mask(valid, cost, best, _CMP_LT_OQ);
    best = _mm512_mask_mov_pd(best, better, cost);
    best_j = _mm512_mask_mov_epi64(best_j, better, _mm512_set1_epi64(j));
  }

  // Takes the other lanes' best where it is lower, or equal at a smaller
  // split: both sets keep their leftmost minimiser, so the merge does too.
  void merge(const RowLanes& other) {
    const __mmask8 lower = _mm512_cmp_pd_mask(other.best, best, _CMP_LT_OQ);
    const __mmask8 equal = _mm512_cmp_pd_mask(other.best, best, _CMP_EQ_OQ);
    const __mmask8 earlier = _mm512_cmp_epi64_mask(other.best_j, best_j, _MM_CMPINT_LT);
    const __mmask8 take = static_cast<__mmask8>(lower | (equal & earlier));
    best = _mm512_mask_mov_pd(best, take, other.best);
    best_j = _mm512_mask_mov_epi64(best_j, take, other.best_j);
  }

  void store(int64_t i_begin, __mmask8 rows, double* next, int32_t* split) const {
    _mm512_mask_storeu_pd(next + i_begin, rows, best);
    _mm512_mask_cvtepi64_storeu_epi32(split + i_begin, rows, best_j);
  }
};

__mmask8 first_lanes(int count) {
  return count >= 8 ? __mmask8{0xff} : static_cast<__mmask8>((1u << count) - 1);
}

}  // namespace

void kmeans_dp_group_avx512(const KMeansDpArrays& a, int64_t i_begin, int count, int64_t j_begin,
                            int64_t j_end, double* next, int32_t* split) {
  // No row takes a split at or past the last row.
  if (j_end > i_begin + count - 2) j_end = i_begin + count - 2;

  // Two vectors of rows, each with one set of lanes for even and one for odd
  // steps over j: four independent dependency chains.
  const int upper_count = count > 8 ? count - 8 : 0;
  RowLanes lower(a, i_begin, first_lanes(count), j_begin);
  RowLanes upper(a, i_begin + 8, first_lanes(upper_count), j_begin);
  RowLanes lower_odd = lower;
  RowLanes upper_odd = upper;

  const auto step = [&](auto some_empty, int64_t j, RowLanes& low_rows, RowLanes& high_rows) {
    constexpr bool kSomeEmpty = decltype(some_empty)::value;
    const __m512d s1_j = _mm512_set1_pd(a.s1[j]);
    const __m512d previous_j = _mm512_set1_pd(a.previous[j]);
    low_rows.update<kSomeEmpty>(a, i_begin, j, s1_j, previous_j);
    if (upper_count > 0) high_rows.update<kSomeEmpty>(a, i_begin + 8, j, s1_j, previous_j);
  };

  // Below i_begin every row has a non-empty last cluster. From i_begin on,
  // some lanes must be masked.
  const std::false_type all_rows;
  const std::true_type some_rows;
  const int64_t full_end = std::min(j_end, i_begin - 1);
  int64_t j = j_begin;
  for (; j + 1 <= full_end; j += 2) {
    step(all_rows, j, lower, upper);
    step(all_rows, j + 1, lower_odd, upper_odd);
  }
  if (j <= full_end) {
    step(all_rows, j, lower, upper);
    ++j;
    if (j <= j_end) step(some_rows, j++, lower_odd, upper_odd);
  }
  for (; j + 1 <= j_end; j += 2) {
    step(some_rows, j, lower, upper);
    step(some_rows, j + 1, lower_odd, upper_odd);
  }
  if (j <= j_end) step(some_rows, j, lower, upper);
  lower.merge(lower_odd);
  upper.merge(upper_odd);

  lower.store(i_begin, first_lanes(count), next, split);
  if (upper_count > 0) upper.store(i_begin + 8, first_lanes(upper_count), next, split);
}

namespace {

// Returns the one-cluster layer in E form, -(s1 * s1 * inverse). The sign bit
// is flipped as by the scalar negation, so a zero becomes -0 in both.
__m512d one_cluster_layer(__m512d s1, __m512d inverse) {
  const __m512d sign = _mm512_set1_pd(-0.0);
  return _mm512_xor_pd(_mm512_mul_pd(_mm512_mul_pd(s1, s1), inverse), sign);
}

}  // namespace

namespace {

// The prefix kernel's body; kFirst writes the one-cluster layer too.
template <bool kFirst>
void prefix_sums(const float* sorted, int64_t n, double shift, const double* inverse_count,
                 double* s1, double* s2, double* first) {
  const __m512i last_lane = _mm512_set1_epi64(7);
  const __m512d shift_vector = _mm512_set1_pd(shift);
  __m512d carry1 = _mm512_setzero_pd();
  __m512d carry2 = _mm512_setzero_pd();
  s1[0] = 0;
  s2[0] = 0;
  if (kFirst) first[0] = 0;

  // One block of eight values from `start`. Lanes outside `valid` are zero
  // and are not stored, and whole blocks take unmasked loads and stores.
  const auto block = [&](int64_t start, __mmask8 valid) {
    const bool whole = valid == 0xff;
    const __m512d v = load_shifted_block(sorted + start, valid, shift_vector);
    const __m512d scan1 = block_scan_lanes(v);
    const __m512d scan2 = block_scan_lanes(_mm512_mul_pd(v, v));
    const __m512d a = _mm512_add_pd(carry1, scan1);
    const __m512d b = _mm512_add_pd(carry2, scan2);
    // carry + (block total) equals the last lane of a and b, with one add on
    // the dependency chain instead of an add and a permute.
    carry1 = _mm512_add_pd(carry1, _mm512_permutexvar_pd(last_lane, scan1));
    carry2 = _mm512_add_pd(carry2, _mm512_permutexvar_pd(last_lane, scan2));
    if (whole) {
      _mm512_storeu_pd(s1 + start + 1, a);
      _mm512_storeu_pd(s2 + start + 1, b);
    } else {
      _mm512_mask_storeu_pd(s1 + start + 1, valid, a);
      _mm512_mask_storeu_pd(s2 + start + 1, valid, b);
    }
    if (kFirst) {
      const double* inverse_at = inverse_count + start + 1;
      const __m512d inverse = whole ? _mm512_loadu_pd(inverse_at)
                                    : _mm512_maskz_loadu_pd(valid, inverse_at);
      const __m512d cost = one_cluster_layer(a, inverse);
      if (whole) {
        _mm512_storeu_pd(first + start + 1, cost);
      } else {
        _mm512_mask_storeu_pd(first + start + 1, valid, cost);
      }
    }
  };
  int64_t start = 0;
  for (; start + 8 <= n; start += 8) block(start, 0xff);
  if (start < n) block(start, static_cast<__mmask8>((1u << (n - start)) - 1));
}

}  // namespace

void kmeans_dp_prefix_avx512(const float* sorted, int64_t n, double shift,
                             const double* inverse_count, double* s1, double* s2, double* first) {
  if (first != nullptr) {
    prefix_sums<true>(sorted, n, shift, inverse_count, s1, s2, first);
  } else {
    prefix_sums<false>(sorted, n, shift, inverse_count, s1, s2, nullptr);
  }
}

void kmeans_dp_mirror_avx512(const double* s1, const double* s2, int64_t n,
                             const double* inverse_count, double* t1, double* t2,
                             double* mirrored_first) {
  // Lanes m .. m + 7 read positions n - m - 7 .. n - m, loaded and reversed.
  const __m512i reverse = _mm512_set_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  const __m512d total1 = _mm512_set1_pd(s1[n]);
  const __m512d total2 = _mm512_set1_pd(s2[n]);
  for (int64_t m = 0; m <= n; m += 8) {
    const int64_t count = n + 1 - m;
    const __mmask8 valid = count >= 8 ? __mmask8{0xff} : static_cast<__mmask8>((1u << count) - 1);
    const __mmask8 reversed_valid =
        static_cast<__mmask8>(count >= 8 ? 0xffu : (0xffu << (8 - count)) & 0xffu);
    const int64_t low = n - m - 7;  // may be negative: those lanes are masked off
    const __m512d forward1 =
        _mm512_permutexvar_pd(reverse, _mm512_maskz_loadu_pd(reversed_valid, s1 + low));
    const __m512d forward2 =
        _mm512_permutexvar_pd(reverse, _mm512_maskz_loadu_pd(reversed_valid, s2 + low));
    const __m512d a = _mm512_sub_pd(forward1, total1);
    const __m512d b = _mm512_sub_pd(total2, forward2);
    const __m512d inverse = _mm512_maskz_loadu_pd(valid, inverse_count + m);
    _mm512_mask_storeu_pd(t1 + m, valid, a);
    _mm512_mask_storeu_pd(t2 + m, valid, b);
    _mm512_mask_storeu_pd(mirrored_first + m, valid, one_cluster_layer(a, inverse));
  }
}

}  // namespace claq
