// Inner loops of the exact 1-D K-Means dynamic program (core/kmeans1d.cc).
// The layers are stored without the prefix square sums, in E form: layer l
// contains E_l[i] = D_l[i] - s2[i], where D_l[i] is the best cost of the
// first i values in l clusters. Since D_l[i] = min_j D_{l-1}[j] + (s2[i] -
// s2[j]) - (s1[i] - s1[j])^2 / (i - j), the square sums cancel. Every kernel
// evaluates, for a row i (a prefix length) and a split j < i,
//
//   cost(j, i) = previous[j] - (s1[i] - s1[j])^2 * inverse_count[i - j]
//
// which is E_l[i] for the best j, in float64, and keeps the leftmost
// minimiser (a strictly smaller cost replaces the best), so every level gives
// the same split as the scalar code up to the rounding of the arithmetic
// itself. The cost differs from the D-form cost by s2[i] alone, the same for
// every j, so the minimiser is that of D. The E values stay within s2[n] in
// magnitude (0 <= D_l[i] <= s2[i]), so their rounding errors are of the
// order of ulp(s2[n]) per layer, as those of D were.
//
// Layout and padding: s1, s2 and previous are indexed by position 0 .. n.
// Only the scan kernel's bounds for skipping blocks read s2, to turn E back
// into D (core/kmeans1d.cc does the same wherever a true cost is needed).
// inverse_count is indexed by count and must be readable from -16 to n + 16,
// with 0 stored at every count <= 0: the group kernel reads a whole vector
// of counts and treats a lane whose count is <= 0 (split j >= row i) as
// invalid. inverse_count_reversed contains the same values in reverse order:
// inverse_count_reversed[-c] = 1 / c for c in 1 .. n, so the scan kernel reads
// the counts of ascending splits j as ascending addresses (at j - i). Vector
// kernels use masked loads at the tails and read nothing outside these ranges.
#pragma once

#include <cstdint>

namespace claq {

struct KMeansDpArrays {
  const double* s1;             // prefix sums of the values (minus a shift)
  const double* s2;             // prefix sums of their squares
  const double* previous;       // the previous layer E_{l-1} = D_{l-1} - s2
  const double* inverse_count;           // 1 / c, padded as above
  const double* inverse_count_reversed;  // [-c] = 1 / c
  int64_t n;                             // the last valid position
};

// The leftmost j in [j_begin, j_end] minimising cost(j, i); writes the
// minimum (E form) to *best_cost. Requires j_begin <= j_end < i.
using KMeansDpScanFn = int64_t (*)(const KMeansDpArrays& a, int64_t i, int64_t j_begin,
                                   int64_t j_end, double* best_cost);

// For each row i in [i_begin, i_begin + count), count in 1 .. 16: the leftmost
// j in [j_begin, min(j_end, i - 1)] minimising cost(j, i), written to
// split[i], and the minimum (E form) to next[i]. Requires j_begin < i_begin
// and i_begin + count - 1 <= n. Any j_end is allowed (splits past the last
// row are never read).
using KMeansDpGroupFn = void (*)(const KMeansDpArrays& a, int64_t i_begin, int count,
                                 int64_t j_begin, int64_t j_end, double* next, int32_t* split);

// The prefix sums of v = sorted[t] - shift for t < n: s1[i] = sum of the
// first i values of v, s2[i] = sum of their squares, and the one-cluster
// layer in E form, first[i] = -(s1[i] * s1[i] * inverse_count[i]), for i in
// 0 .. n.
// The sums run in blocks of eight values: an in-block scan in three steps
// (adding the value 1, 2 and 4 places before, zero before the block start),
// then the running total of the previous blocks. The last block is padded
// with zeros. Every level follows this order, so all give the same bits.
// With `first` null only s1 and s2 are written.
using KMeansPrefixFn = void (*)(const float* sorted, int64_t n, double shift,
                                const double* inverse_count, double* s1, double* s2,
                                double* first);

// The same three arrays for the mirrored values (negated, in reverse order),
// derived from the forward sums: t1[m] = s1[n - m] - s1[n], t2[m] = s2[n] -
// s2[n - m], mirrored_first[m] = -(t1[m] * t1[m] * inverse_count[m]).
using KMeansMirrorFn = void (*)(const double* s1, const double* s2, int64_t n,
                                const double* inverse_count, double* t1, double* t2,
                                double* mirrored_first);

struct KMeansDpKernels {
  KMeansDpScanFn scan;
  KMeansDpGroupFn group;
  KMeansPrefixFn prefix;
  KMeansMirrorFn mirror;
};

int64_t kmeans_dp_scan_ref(const KMeansDpArrays& a, int64_t i, int64_t j_begin, int64_t j_end,
                           double* best_cost);
void kmeans_dp_group_ref(const KMeansDpArrays& a, int64_t i_begin, int count, int64_t j_begin,
                         int64_t j_end, double* next, int32_t* split);
int64_t kmeans_dp_scan_avx512(const KMeansDpArrays& a, int64_t i, int64_t j_begin,
                              int64_t j_end, double* best_cost);
void kmeans_dp_group_avx512(const KMeansDpArrays& a, int64_t i_begin, int count,
                            int64_t j_begin, int64_t j_end, double* next, int32_t* split);

void kmeans_dp_prefix_ref(const float* sorted, int64_t n, double shift,
                          const double* inverse_count, double* s1, double* s2, double* first);
void kmeans_dp_mirror_ref(const double* s1, const double* s2, int64_t n,
                          const double* inverse_count, double* t1, double* t2,
                          double* mirrored_first);
void kmeans_dp_prefix_avx512(const float* sorted, int64_t n, double shift,
                             const double* inverse_count, double* s1, double* s2, double* first);
void kmeans_dp_mirror_avx512(const double* s1, const double* s2, int64_t n,
                             const double* inverse_count, double* t1, double* t2,
                             double* mirrored_first);

// The kernels for active_simd_level(). AVX2 and NEON use the scalar kernels.
KMeansDpKernels select_kmeans_dp_kernels();

}  // namespace claq
