// Inner loops of the four-cluster K-Means search (core/kmeans_four.cc). With
// a middle boundary b, each side of b contains two clusters, and the best split
// j of a side maximises the sum of squared cluster sums over cluster sizes:
//
//   V(j, b) = (s1[j] - outer_sum)^2 / |outer cluster| + (s1[j] - s1[b])^2 / |b - j|
//
// where the outer cluster is [0, j) on the prefix side (outer_sum 0) and
// [j, n) on the suffix side (outer_sum s1[n]). Its within-cluster cost is
// the square sum of the side minus V, so no square sums enter the loop: a
// scan reads s1 and two tables of 1 / count, and needs no mirrored arrays.
//
// Every kernel computes V with the scalar code's operation order and no fused
// multiply-add, so all levels give the same values and splits. On ties the
// prefix side keeps its lowest split and the suffix side its highest one,
// which is the leftmost split of the mirrored problem.
#pragma once

#include <cstdint>

namespace claq {

// The arrays of one side. Each table is indexed as its comment says and must
// be readable where stated.
struct KMeansPairSide {
  const double* s1;             // prefix sums of the values, positions 0 .. n
  const double* s2_blocks;      // [u]: the square sum of the first min(8u, n) values,
                                // u in 0 .. ceil(n / 8) (bounds of pruned scans)
  int64_t n;
  double outer_sum;             // 0 for the prefix side, s1[n] for the suffix side
  const double* outer_inverse;  // [j]: 1 / size of the outer cluster at split j
  const double* scan_inverse;   // [j - b]: 1 / |b - j|, for the splits of one scan
  const double* row_inverse;    // [b - j]: 1 / |b - j|, and 0 where j lies on the
                                // wrong side of b, for b - j in -16 .. n + 16
  bool suffix;                  // the side above b: ties go to the highest split
};

// Returns the best split j in [j_begin, j_end] for the middle boundary b and
// writes its V to *best_value. Every j must lie on the side's half of the
// values: below b for the prefix side, above b for the suffix side.
using KMeansPairScanFn = int64_t (*)(const KMeansPairSide& side, int64_t b, int64_t j_begin,
                                     int64_t j_end, double* best_value);

// For each row b in [b_begin, b_begin + count), count in 1 .. 16: the best
// split among the j in [j_begin, j_end] on the side's half of the values,
// written to value[b] and split[b]. The zeros of row_inverse skip the other
// splits, and every row must have at least one.
using KMeansPairGroupFn = void (*)(const KMeansPairSide& side, int64_t b_begin, int count,
                                   int64_t j_begin, int64_t j_end, double* value, int32_t* split);

// The sums a four-cluster fit needs, of v = sorted[t] - shift for t < n
// (in float64). s1 receives positions 0 .. n with the same bits as the DP's
// prefix kernel (kernels/kmeans_dp.h). The square sums are kept only at
// every eighth position, s2_blocks[0 .. ceil(n / 8)]. Block u of eight values
// (the last padded with zeros) has the total ((q0 + q1) + (q2 + q3)) + ((q4 +
// q5) + (q6 + q7)) of its squares q. The totals of eight consecutive blocks
// are summed like the values of one block: an in-vector scan in three steps,
// then the running total of the blocks before. Every level follows this
// order, so all give the same bits.
using KMeansPairPrefixFn = void (*)(const float* sorted, int64_t n, double shift, double* s1,
                                    double* s2_blocks);

struct KMeansPairKernels {
  KMeansPairScanFn scan;
  KMeansPairGroupFn group;
  KMeansPairPrefixFn prefix;
};

int64_t kmeans_pair_scan_ref(const KMeansPairSide& side, int64_t b, int64_t j_begin,
                             int64_t j_end, double* best_value);
void kmeans_pair_group_ref(const KMeansPairSide& side, int64_t b_begin, int count,
                           int64_t j_begin, int64_t j_end, double* value, int32_t* split);
void kmeans_pair_prefix_ref(const float* sorted, int64_t n, double shift, double* s1,
                            double* s2_blocks);
void kmeans_pair_prefix_avx512(const float* sorted, int64_t n, double shift, double* s1,
                               double* s2_blocks);
int64_t kmeans_pair_scan_avx512(const KMeansPairSide& side, int64_t b, int64_t j_begin,
                                int64_t j_end, double* best_value);
void kmeans_pair_group_avx512(const KMeansPairSide& side, int64_t b_begin, int count,
                              int64_t j_begin, int64_t j_end, double* value, int32_t* split);

// The kernels for active_simd_level(). AVX2 and NEON use the scalar kernels.
KMeansPairKernels select_kmeans_pair_kernels();

}  // namespace claq
