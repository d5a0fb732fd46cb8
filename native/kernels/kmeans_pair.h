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
  const double* s2;             // prefix sums of their squares (bounds of pruned scans)
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

struct KMeansPairKernels {
  KMeansPairScanFn scan;
  KMeansPairGroupFn group;
};

int64_t kmeans_pair_scan_ref(const KMeansPairSide& side, int64_t b, int64_t j_begin,
                             int64_t j_end, double* best_value);
void kmeans_pair_group_ref(const KMeansPairSide& side, int64_t b_begin, int count,
                           int64_t j_begin, int64_t j_end, double* value, int32_t* split);
int64_t kmeans_pair_scan_avx512(const KMeansPairSide& side, int64_t b, int64_t j_begin,
                                int64_t j_end, double* best_value);
void kmeans_pair_group_avx512(const KMeansPairSide& side, int64_t b_begin, int count,
                              int64_t j_begin, int64_t j_end, double* value, int32_t* split);

// The kernels for active_simd_level(). AVX2 and NEON use the scalar kernels.
KMeansPairKernels select_kmeans_pair_kernels();

}  // namespace claq
