// AVX-512 quicksort of int32 keys (contract in kernels/sort_f32.h). A segment
// is split around a pivot from 16 sampled keys: their median, or for a
// segment of up to 352 keys the key that should leave about 232 keys above
// it. Each vector of 16 keys is compressed into the keys below the pivot
// (written to a second buffer) and the others (compacted in place). The first
// split reads the floats and makes them keys on the way.
//
// A segment of at most 256 keys is loaded into 1, 2, 4, 8 or 16 registers
// (padded with INT32_MAX) and sorted there by a bitonic network. With 8 or 16
// registers the network sorts across registers lane by lane, merges in
// lane-major order, then transposes. The keys are stored as floats at their
// final place. Past a recursion depth of twice log2(n) the segment falls back
// to std::sort, so no input is quadratic.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/sort_f32.h"

namespace claq {
namespace {

constexpr int kLanes = 16;

// The register arrays of the network stay in registers only when every
// level of the recursion is inlined.
#define CLAQ_INLINE inline __attribute__((always_inline))
constexpr int64_t kNetworkKeys = 256;  // 16 registers

// The lanes l with (l & bit) != 0, as a mask.
constexpr __mmask16 lanes_with(int bit) {
  unsigned mask = 0;
  for (int l = 0; l < kLanes; ++l) mask |= ((l & bit) != 0 ? 1u : 0u) << l;
  return static_cast<__mmask16>(mask);
}

// Compares lanes l and l ^ kDistance. Lanes in kUpper keep the larger.
template <int kDistance, __mmask16 kUpper>
inline __m512i compare_exchange(__m512i v) {
  __m512i partner;
  if constexpr (kDistance == 1) {
    partner = _mm512_shuffle_epi32(v, _MM_PERM_CDAB);
  } else if constexpr (kDistance == 2) {
    partner = _mm512_shuffle_epi32(v, _MM_PERM_BADC);
  } else if constexpr (kDistance == 4) {
    partner = _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(2, 3, 0, 1));
  } else {
    partner = _mm512_shuffle_i64x2(v, v, _MM_SHUFFLE(1, 0, 3, 2));
  }
  const __m512i low = _mm512_min_epi32(v, partner);
  return _mm512_mask_max_epi32(low, kUpper, v, partner);
}

// One step of a bitonic stage: runs of kRun lanes, built descending where
// lane bit kRun is set (never for kRun = 16).
template <int kRun, int kDistance>
inline __m512i bitonic_step(__m512i v) {
  constexpr __mmask16 upper = static_cast<__mmask16>(
      lanes_with(kDistance) ^ (kRun < kLanes ? lanes_with(kRun) : 0));
  return compare_exchange<kDistance, upper>(v);
}

// Sorts a bitonic register ascending.
inline __m512i clean_register(__m512i v) {
  v = bitonic_step<kLanes, 8>(v);
  v = bitonic_step<kLanes, 4>(v);
  v = bitonic_step<kLanes, 2>(v);
  return bitonic_step<kLanes, 1>(v);
}

// Sorts one register ascending: bitonic runs of 2, 4, 8, then 16 lanes.
inline __m512i sort_register(__m512i v) {
  v = bitonic_step<2, 1>(v);
  v = bitonic_step<4, 2>(v);
  v = bitonic_step<4, 1>(v);
  v = bitonic_step<8, 4>(v);
  v = bitonic_step<8, 2>(v);
  v = bitonic_step<8, 1>(v);
  return clean_register(v);
}

inline __m512i reverse_register(__m512i v) {
  return _mm512_permutexvar_epi32(
      _mm512_set_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), v);
}

// R registers holding one bitonic sequence in order -> ascending.
template <int R>
CLAQ_INLINE void clean_registers(__m512i* v) {
  if constexpr (R == 1) {
    v[0] = clean_register(v[0]);
  } else {
    for (int t = 0; t < R / 2; ++t) {
      const __m512i low = _mm512_min_epi32(v[t], v[t + R / 2]);
      v[t + R / 2] = _mm512_max_epi32(v[t], v[t + R / 2]);
      v[t] = low;
    }
    clean_registers<R / 2>(v);
    clean_registers<R / 2>(v + R / 2);
  }
}

// Two ascending halves of R registers each R / 2 -> one ascending run. The
// lower half against the reversed upper half leaves two bitonic halves.
template <int R>
CLAQ_INLINE void merge_registers(__m512i* v) {
  __m512i upper[R / 2];
  for (int t = 0; t < R / 2; ++t) {
    const __m512i mirrored = reverse_register(v[R - 1 - t]);
    upper[t] = _mm512_max_epi32(v[t], mirrored);
    v[t] = _mm512_min_epi32(v[t], mirrored);
  }
  for (int t = 0; t < R / 2; ++t) v[R / 2 + t] = upper[t];
  clean_registers<R / 2>(v);
  clean_registers<R / 2>(v + R / 2);
}

template <int R>
CLAQ_INLINE void sort_registers(__m512i* v) {
  if constexpr (R == 1) {
    v[0] = sort_register(v[0]);
  } else {
    sort_registers<R / 2>(v);
    sort_registers<R / 2>(v + R / 2);
    merge_registers<R>(v);
  }
}

// One layer of the network across R registers: v[r] and v[r ^ kDistance]
// exchange, ascending where bit kRun of r is clear. The loop must unroll so
// that v stays in registers: GCC 12 kept v on the stack when the layers
// were a loop at run time.
template <int R, int kRun, int kDistance>
CLAQ_INLINE void compare_registers(__m512i* v) {
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    const int partner = r ^ kDistance;
    if (partner < r) continue;
    const __m512i low = _mm512_min_epi32(v[r], v[partner]);
    const __m512i high = _mm512_max_epi32(v[r], v[partner]);
    const bool ascending = (r & kRun) == 0;
    v[r] = ascending ? low : high;
    v[partner] = ascending ? high : low;
  }
  if constexpr (kDistance > 1) compare_registers<R, kRun, kDistance / 2>(v);
}

// Bitonic runs of 2, 4, .. kRun registers, lane by lane.
template <int R, int kRun>
CLAQ_INLINE void sort_lanes_runs(__m512i* v) {
  if constexpr (kRun > 2) sort_lanes_runs<R, kRun / 2>(v);
  compare_registers<R, kRun, kRun / 2>(v);
}

// Merges the single lanes of R registers in the lane-major layout, where
// lane l of v[r] contains key R l + r, into runs of 2 lanes (2 R keys). Key e
// meets its mirror e ^ (2 R - 1) in register R - 1 - r at lane l ^ 1, and the
// one at the even lane keeps the smaller. The halves are then bitonic across
// registers.
template <int R>
CLAQ_INLINE void merge_single_lanes(__m512i* v) {
  constexpr __mmask16 odd_lanes = lanes_with(1);
  for (int r = 0; r < R / 2; ++r) {
    const __m512i mirrored = _mm512_shuffle_epi32(v[R - 1 - r], _MM_PERM_CDAB);
    const __m512i smaller = _mm512_min_epi32(v[r], mirrored);
    const __m512i larger = _mm512_max_epi32(v[r], mirrored);
    v[r] = _mm512_mask_blend_epi32(odd_lanes, smaller, larger);
    v[R - 1 - r] =
        _mm512_shuffle_epi32(_mm512_mask_blend_epi32(odd_lanes, larger, smaller), _MM_PERM_CDAB);
  }
  compare_registers<R, R, R / 2>(v);  // ascending at every distance
}

// Merges runs of kRunLanes = 2, 4 or 8 lanes across R = 8 or 16 registers
// in the lane-major layout into runs twice as long. The mirror step and the
// steps at lane distances compare key R l + r only with keys of registers r
// and R - 1 - r. So each such pair of registers goes through those steps on
// its own, in rounds. In a round, two 2-source shuffles put the lower key of
// each compared couple in one register and the higher key at the same lane
// of the other, then one min and one max compare them.
//
// That is 4 ops per pair of registers and step instead of 6 (a shuffle, a min
// and a masked max per register, as compare_exchange does). The keys keep the
// shuffled order from round to round, and two last shuffles put them back
// for the steps across registers. On an Intel Xeon of the Granite Rapids
// class the network of 16 registers took 182 instead of 213 ns, that of 8
// registers 76 instead of 92 ns (scratch program, thread CPU time).
//
// A key of the pair is e = 16 s + l: lane l of register r when s = 0, of
// register R - 1 - r when s = 1. PairRounds holds, for each round, the slots
// (0 .. 15 for the lanes of the first register, 16 .. 31 for those of the
// second) where the shuffles take the lower and the higher keys, and at the
// end the slot of each key.
template <int kRunLanes>
struct PairRounds {
  // The mirror, then one round per lane bit below kRunLanes.
  static constexpr int kRounds = 1 + (kRunLanes >= 2) + (kRunLanes >= 4) + (kRunLanes >= 8);
  int lower[kRounds][kLanes] = {};
  int higher[kRounds][kLanes] = {};
  int first_back[kLanes] = {};
  int second_back[kLanes] = {};
};

// Returns the key that key e meets in a round: first its mirror, lane
// l ^ (2 kRunLanes - 1) of the other register, then the lane kRunLanes / 2,
// .., 1 away in its own register.
template <int kRunLanes>
constexpr int pair_partner(int round, int e) {
  return round == 0 ? e ^ kLanes ^ (2 * kRunLanes - 1) : e ^ (kRunLanes >> round);
}

// Returns whether key e is the lower of the two in a round: in the lower run
// for the mirror, at the lower lane after it.
template <int kRunLanes>
constexpr bool pair_lower(int round, int e) {
  return round == 0 ? (e & kRunLanes) == 0 : (e & (kRunLanes >> round)) == 0;
}

// Computes the slots of every round. A round puts the lower keys in the lanes
// of the first register, in the order of e, and each higher key at the same
// lane of the second.
template <int kRunLanes>
constexpr PairRounds<kRunLanes> make_pair_rounds() {
  PairRounds<kRunLanes> rounds;
  int slot[2 * kLanes] = {};
  for (int e = 0; e < 2 * kLanes; ++e) slot[e] = e;

  for (int round = 0; round < PairRounds<kRunLanes>::kRounds; ++round) {
    int next[2 * kLanes] = {};
    int lane = 0;
    for (int e = 0; e < 2 * kLanes; ++e) {
      if (!pair_lower<kRunLanes>(round, e)) continue;
      const int partner = pair_partner<kRunLanes>(round, e);
      rounds.lower[round][lane] = slot[e];
      rounds.higher[round][lane] = slot[partner];
      next[e] = lane;
      next[partner] = kLanes + lane;
      ++lane;
    }
    for (int e = 0; e < 2 * kLanes; ++e) slot[e] = next[e];
  }

  for (int l = 0; l < kLanes; ++l) {
    rounds.first_back[l] = slot[l];
    rounds.second_back[l] = slot[kLanes + l];
  }
  return rounds;
}

// Takes lane j of the result from slot slots[j] of the pair (first, second).
inline __m512i gather_slots(__m512i first, const int* slots, __m512i second) {
  return _mm512_permutex2var_epi32(first, _mm512_loadu_si512(slots), second);
}

template <int R, int kRunLanes>
CLAQ_INLINE void merge_lane_runs_paired(__m512i* v) {
  static constexpr PairRounds<kRunLanes> kPairRounds = make_pair_rounds<kRunLanes>();
  for (int r = 0; r < R / 2; ++r) {
    __m512i first = v[r];
    __m512i second = v[R - 1 - r];
    for (int round = 0; round < PairRounds<kRunLanes>::kRounds; ++round) {
      const __m512i lower = gather_slots(first, kPairRounds.lower[round], second);
      const __m512i higher = gather_slots(first, kPairRounds.higher[round], second);
      first = _mm512_min_epi32(lower, higher);
      second = _mm512_max_epi32(lower, higher);
    }
    v[r] = gather_slots(first, kPairRounds.first_back, second);
    v[R - 1 - r] = gather_slots(first, kPairRounds.second_back, second);
  }
  compare_registers<R, R, R / 2>(v);  // ascending at every distance
}

// Transposes 16 registers of 16 lanes: lane c of v[r] goes to lane r of
// v[c]. Pairs of lanes, then of pairs, then of 128-bit blocks interleave.
CLAQ_INLINE void transpose_16(__m512i* v) {
  __m512i pairs[kLanes];
  for (int r = 0; r < kLanes; r += 2) {
    pairs[r] = _mm512_unpacklo_epi32(v[r], v[r + 1]);
    pairs[r + 1] = _mm512_unpackhi_epi32(v[r], v[r + 1]);
  }
  // quads[4g + m], block b: column 4b + m of rows 4g .. 4g + 3.
  __m512i quads[kLanes];
  for (int g = 0; g < kLanes; g += 4) {
    quads[g] = _mm512_unpacklo_epi64(pairs[g], pairs[g + 2]);
    quads[g + 1] = _mm512_unpackhi_epi64(pairs[g], pairs[g + 2]);
    quads[g + 2] = _mm512_unpacklo_epi64(pairs[g + 1], pairs[g + 3]);
    quads[g + 3] = _mm512_unpackhi_epi64(pairs[g + 1], pairs[g + 3]);
  }
  for (int m = 0; m < 4; ++m) {
    const __m512i even_low = _mm512_shuffle_i32x4(quads[m], quads[4 + m], 0x88);
    const __m512i odd_low = _mm512_shuffle_i32x4(quads[m], quads[4 + m], 0xdd);
    const __m512i even_high = _mm512_shuffle_i32x4(quads[8 + m], quads[12 + m], 0x88);
    const __m512i odd_high = _mm512_shuffle_i32x4(quads[8 + m], quads[12 + m], 0xdd);
    v[m] = _mm512_shuffle_i32x4(even_low, even_high, 0x88);
    v[8 + m] = _mm512_shuffle_i32x4(even_low, even_high, 0xdd);
    v[4 + m] = _mm512_shuffle_i32x4(odd_low, odd_high, 0x88);
    v[12 + m] = _mm512_shuffle_i32x4(odd_low, odd_high, 0xdd);
  }
}

// 8 registers in the lane-major layout (lane l of v[r] contains key 8 l + r)
// -> register order (lane j of v[t] contains key 16 t + j), so v[t] takes
// lane 2t of every register, then lane 2t + 1. The interleaves are those of
// transpose_16 for two groups of 4 rows; the blocks then pair up.
CLAQ_INLINE void transpose_8(__m512i* v) {
  __m512i pairs[8];
  for (int r = 0; r < 8; r += 2) {
    pairs[r] = _mm512_unpacklo_epi32(v[r], v[r + 1]);
    pairs[r + 1] = _mm512_unpackhi_epi32(v[r], v[r + 1]);
  }
  // quads[4g + m], block b: column 4b + m of rows 4g .. 4g + 3.
  __m512i quads[8];
  for (int g = 0; g < 8; g += 4) {
    quads[g] = _mm512_unpacklo_epi64(pairs[g], pairs[g + 2]);
    quads[g + 1] = _mm512_unpackhi_epi64(pairs[g], pairs[g + 2]);
    quads[g + 2] = _mm512_unpacklo_epi64(pairs[g + 1], pairs[g + 3]);
    quads[g + 3] = _mm512_unpackhi_epi64(pairs[g + 1], pairs[g + 3]);
  }
  // low_blocks[m]: blocks 0, 1 of quads[m], then blocks 0, 1 of quads[4 + m];
  // high_blocks[m] the same for blocks 2, 3.
  __m512i low_blocks[4];
  __m512i high_blocks[4];
  for (int m = 0; m < 4; ++m) {
    low_blocks[m] = _mm512_shuffle_i32x4(quads[m], quads[4 + m], 0x44);
    high_blocks[m] = _mm512_shuffle_i32x4(quads[m], quads[4 + m], 0xee);
  }
  // Columns 2t and 2t + 1 = 4b + m with b = t / 2 and m = 2 (t % 2) + 0, 1.
  for (int t = 0; t < 8; ++t) {
    const __m512i* blocks = t < 4 ? low_blocks : high_blocks;
    const int m = 2 * (t % 2);
    v[t] = (t / 2) % 2 == 0 ? _mm512_shuffle_i32x4(blocks[m], blocks[m + 1], 0x88)
                            : _mm512_shuffle_i32x4(blocks[m], blocks[m + 1], 0xdd);
  }
}

// R = 8 or 16 registers -> ascending. Sorted across lanes, every lane
// contains an ascending run of R keys. The runs merge in that lane-major
// layout, where fewer distances need shuffles than in register order, and
// one transpose puts the keys in register order. The runs of 2 lanes and
// more merge by pairs of registers. The runs of 1 lane merge in one step, the
// mirror, which costs 6 ops per pair of registers either way. By pairs it
// took no less time with 16 registers on the Xeon.
template <int R>
CLAQ_INLINE void sort_lane_major(__m512i* v) {
  sort_lanes_runs<R, R>(v);
  merge_single_lanes<R>(v);
  merge_lane_runs_paired<R, 2>(v);
  merge_lane_runs_paired<R, 4>(v);
  merge_lane_runs_paired<R, 8>(v);

  if constexpr (R == kLanes) {
    transpose_16(v);
  } else {
    transpose_8(v);
  }
}

// Keys back to float bits: the same flip undoes itself.
inline __m512i float_bits(__m512i keys) {
  const __m512i negative = _mm512_srai_epi32(keys, 31);
  return _mm512_xor_si512(keys, _mm512_and_si512(negative, _mm512_set1_epi32(0x7fffffff)));
}

// The first `count` lanes (clamped to 0 .. 16). It takes no branch, because
// the segment sizes that the network gets vary at random.
inline __mmask16 lanes_below(int64_t count) {
  const int64_t clamped = std::min<int64_t>(std::max<int64_t>(count, 0), kLanes);
  return static_cast<__mmask16>((1u << clamped) - 1);
}

// Masked loads and stores with an empty mask touch no memory, so registers
// past n need no test.
template <int R>
CLAQ_INLINE void sort_small(const int32_t* keys, int64_t n, float* out) {
  __m512i v[R];
  for (int t = 0; t < R; ++t) {
    v[t] = _mm512_mask_loadu_epi32(_mm512_set1_epi32(INT32_MAX), lanes_below(n - t * kLanes),
                                   keys + t * kLanes);
  }
  if constexpr (R >= 8) {
    sort_lane_major<R>(v);
  } else {
    sort_registers<R>(v);
  }
  for (int t = 0; t < R; ++t) {
    _mm512_mask_storeu_epi32(out + t * kLanes, lanes_below(n - t * kLanes), float_bits(v[t]));
  }
}

void sort_network(const int32_t* keys, int64_t n, float* out) {
  if (n <= 16) {
    sort_small<1>(keys, n, out);
  } else if (n <= 32) {
    sort_small<2>(keys, n, out);
  } else if (n <= 64) {
    sort_small<4>(keys, n, out);
  } else if (n <= 128) {
    // On an Intel Xeon of the Granite Rapids class, whose 512-bit min and max
    // run on 2 ports, the lane-major network of 8 registers took 92 ns for 65
    // to 128 keys. The register-order one took 126 ns and that of 16
    // registers 221 ns (scratch program, thread CPU time). With the merges by
    // pairs of registers (merge_lane_runs_paired) they took 76 and 182 ns. On Zen 5 the
    // register-order network of 8 registers (95 ns) lost to that of 16
    // (75 ns). NOTE: the lane-major one was not timed on Zen 5.
    sort_small<8>(keys, n, out);
  } else {
    sort_small<16>(keys, n, out);
  }
}

// A segment of 257 to kPeelLimit keys split at its median gives two leaves
// of 129 to 256 keys, each sorted by the network of 16 registers. Its pivot
// aims instead at a high part of kPeelTarget keys, which that network sorts,
// and a low part of at most 128 keys for the cheaper network of 8 registers.
// The margin below 256 absorbs most of the sampling error. Real columns of
// 4096 keys and normal ones of 4064 sorted 3 to 5 % faster on the Xeon
// (scratch program, thread CPU time).
constexpr int64_t kPeelLimit = 352;
constexpr int64_t kPeelTarget = 232;

// How many keys of a segment of n > kNetworkKeys keys the pivot should put
// in the low part.
int64_t low_part_target(int64_t n) { return n <= kPeelLimit ? n - kPeelTarget : (n + 1) / 2; }

// Returns a pivot that leaves about low_part_target(n) keys below it, from a
// sample of 16 keys spaced evenly across the segment. The sample's key of
// rank j (from 0) is expected to have (j + 1) / 17 of the segment below it.
// With kFloats the segment contains float bits, which are made keys first.
template <bool kFloats = false>
int32_t sample_pivot(const int32_t* keys, int64_t n) {
  alignas(64) int32_t sample[kLanes];
  for (int t = 0; t < kLanes; ++t) {
    std::memcpy(sample + t, keys + (2 * t + 1) * n / (2 * kLanes), sizeof sample[t]);
  }
  __m512i v = _mm512_load_si512(sample);
  if (kFloats) v = float_bits(v);
  _mm512_store_si512(sample, sort_register(v));

  // The nearest rank, clamped (for the median, 8 of 0 .. 15).
  const int64_t rank = (2 * low_part_target(n) * (kLanes + 1) + n) / (2 * n) - 1;
  return sample[std::min<int64_t>(std::max<int64_t>(rank, 0), kLanes - 1)];
}

// The lanes of v below the pivot (at most the pivot when kAtMost), among
// `valid`.
template <bool kAtMost>
inline __mmask16 lanes_below_pivot(__m512i v, __m512i pivot, __mmask16 valid) {
  return kAtMost ? _mm512_mask_cmple_epi32_mask(valid, v, pivot)
                 : _mm512_mask_cmplt_epi32_mask(valid, v, pivot);
}

// Moves the keys below the pivot (at most the pivot when kAtMost) to
// low_out[0 ..) and the others to high_out[0 ..), both in order, and returns
// how many went low. high_out may be `keys` itself: the compaction never
// overtakes the read. With kFloats `keys` contains float bits, made keys on the
// way. Stores are whole vectors, so both targets need 16 keys of slack past n.
// The main loop loads and compares 4 vectors before it stores any. That took
// 0.30 instead of 0.60 us per split of 4064 keys on Zen 5 (scratch program,
// thread CPU time).
template <bool kAtMost, bool kFloats = false>
int64_t partition(const int32_t* keys, int64_t n, int32_t pivot, int32_t* low_out,
                  int32_t* high_out) {
  constexpr int kUnroll = 4;
  const __m512i pivot_vector = _mm512_set1_epi32(pivot);
  int64_t low = 0;
  int64_t high = 0;
  int64_t i = 0;
  for (; i + kUnroll * kLanes <= n; i += kUnroll * kLanes) {
    __m512i v[kUnroll];
    __mmask16 below[kUnroll];
    for (int u = 0; u < kUnroll; ++u) {
      v[u] = _mm512_loadu_si512(keys + i + u * kLanes);
      if (kFloats) v[u] = float_bits(v[u]);
      below[u] = lanes_below_pivot<kAtMost>(v[u], pivot_vector, 0xffff);
    }
    for (int u = 0; u < kUnroll; ++u) {
      const __mmask16 above = static_cast<__mmask16>(~below[u]);
      _mm512_storeu_si512(low_out + low, _mm512_maskz_compress_epi32(below[u], v[u]));
      _mm512_storeu_si512(high_out + high, _mm512_maskz_compress_epi32(above, v[u]));
      const int count = __builtin_popcount(below[u]);
      low += count;
      high += kLanes - count;
    }
  }

  for (; i < n; i += kLanes) {
    const __mmask16 valid = lanes_below(n - i);
    __m512i v = _mm512_maskz_loadu_epi32(valid, keys + i);
    if (kFloats) v = float_bits(v);
    const __mmask16 below = lanes_below_pivot<kAtMost>(v, pivot_vector, valid);
    const __mmask16 above = static_cast<__mmask16>(valid & ~below);
    _mm512_storeu_si512(low_out + low, _mm512_maskz_compress_epi32(below, v));
    _mm512_storeu_si512(high_out + high, _mm512_maskz_compress_epi32(above, v));
    low += __builtin_popcount(below);
    high += __builtin_popcount(above);
  }
  return low;
}

void write_equal(int32_t key, int64_t n, float* out) {
  uint32_t bits = static_cast<uint32_t>(key);
  bits ^= (bits & 0x80000000u) != 0 ? 0x7fffffffu : 0u;
  float value;
  std::memcpy(&value, &bits, sizeof value);
  std::fill(out, out + n, value);
}

void sort_keys_fallback(int32_t* keys, int64_t n, float* out) {
  std::sort(keys, keys + n);
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits = static_cast<uint32_t>(keys[i]);
    bits ^= (bits & 0x80000000u) != 0 ? 0x7fffffffu : 0u;
    std::memcpy(out + i, &bits, sizeof bits);
  }
}

// Sorts the n keys in `keys` into out[0 .. n) as floats. `other` is a
// second buffer. Both have room for n + 16 keys and are clobbered. Each split
// leaves the low part in other[0 .. low), sorted next by recursion with the
// free end of `keys` as its scratch, and the rest at the front of `keys`,
// which the loop goes on with.
void sort_segment(int32_t* keys, int32_t* other, int64_t n, float* out, int depth) {
  int32_t pivot = n > kNetworkKeys ? sample_pivot(keys, n) : 0;
  while (n > kNetworkKeys) {
    if (depth-- == 0) {
      sort_keys_fallback(keys, n, out);
      return;
    }
    int64_t low = partition<false>(keys, n, pivot, other, keys);
    if (low == 0) {
      // The pivot is the smallest key: the keys equal to it are done.
      low = partition<true>(keys, n, pivot, other, keys);
      write_equal(pivot, low, out);
      n -= low;
      out += low;
      if (n > kNetworkKeys) pivot = sample_pivot(keys, n);
      continue;
    }
    // Sample the high part's pivot before the low part's recursion, so that
    // its latency overlaps the recursion's first steps.
    const int64_t high = n - low;
    if (high > kNetworkKeys) pivot = sample_pivot(keys, high);
    sort_segment(other, keys + high, low, out, depth);
    n = high;
    out += low;
  }
  sort_network(keys, n, out);
}

}  // namespace

void sort_f32_avx512(const float* values, int64_t n, float* sorted, int32_t* scratch) {
  int32_t* keys = scratch;
  int32_t* other = scratch + n + 16;
  int depth = 2;
  for (int64_t m = n; m > 1; m /= 2) depth += 2;
  const int32_t* bits = reinterpret_cast<const int32_t*>(values);  // read by vector loads only
  if (n <= kNetworkKeys) {
    for (int64_t i = 0; i < n; i += kLanes) {
      const __mmask16 valid = lanes_below(n - i);
      _mm512_mask_storeu_epi32(keys + i, valid,
                               float_bits(_mm512_maskz_loadu_epi32(valid, bits + i)));
    }
    sort_network(keys, n, sorted);
    return;
  }

  // The first split reads the floats and writes keys, the low part to
  // `other` and the rest to `keys`, as sort_segment leaves them.
  const int64_t low = partition<false, true>(bits, n, sample_pivot<true>(bits, n), other, keys);
  if (low == 0) {
    sort_segment(keys, other, n, sorted, depth);  // the same pivot again, and its rule
    return;
  }
  sort_segment(other, keys + (n - low), low, sorted, depth - 1);
  sort_segment(keys, other, n - low, sorted + low, depth - 1);
}

}  // namespace claq
