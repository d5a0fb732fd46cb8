// Packing and packed matmul (GEMV and GEMM paths) at every SIMD level this
// machine supports, against a float64 product built from the parts.
//
// Tolerance: every path accumulates in float32. Each table entry or panel
// product is one rounding of a term, the 2-bit pair tables add a second, and
// a row sums at most 2 * cols terms (columns plus per-block partial sums), so
// |y - y_exact| <= (2 * cols + 8) * 2^-24 * S, where S sums
// (|centroid| + |outlier correction|) * |x_j| over the row (the dense pass
// multiplies the centroid and the sparse pass the correction). Where the
// AVX-512 GEMV reads integer 3-bit tables (CPUs with VBMI and VNNI), their
// rounding adds integer_table_error (packed_parts_fixture.h). Dequantized
// panels are compared exactly: they are pure look-ups.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/pack.h"
#include "core/thread_pool.h"
#include "kernels/lut_3bit_int.h"
#include "kernels/packed_gemm.h"
#include "kernels/packed_matmul.h"
#include "kernels/simd_level.h"
#include "test/packed_parts_fixture.h"
#include "test/test_framework.h"

using namespace claq;
using claq::test::BitsMix;

namespace {

const int64_t kEdgeSizes[] = {1, 3, 15, 16, 17, 31, 33, 127, 129};

double tolerance(int64_t cols, double scale) { return (2.0 * cols + 8) * std::ldexp(1.0, -24) * scale + 1e-30; }

// True when packed_matmul's GEMV reads integer 3-bit tables at the active level.
bool integer_tables_active() {
  return active_simd_level() == SimdLevel::kAvx512 && cpu_has_avx512_vbmi_vnni();
}

// Runs packed_matmul and checks every output against the reference.
void check_matmul(const QuantizedLayerData& parts, const PackedLayer& layer, int64_t tokens, double x_scale,
                  const PackedMatmulOptions& options, uint64_t seed) {
  test::Rng rng(seed);
  const std::vector<float> x = test::random_x(tokens, parts.cols, x_scale, rng);
  std::vector<float> y(tokens * parts.rows, -1.0f);
  const Status status = packed_matmul(layer, x.data(), tokens, y.data(), options);
  CHECK(status.ok());
  const test::Reference ref = test::reference_matmul(parts, x, tokens);
  const bool integer_tables = integer_tables_active();
  int reported = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const float* xt = x.data() + i / parts.rows * parts.cols;
    const double bound = tolerance(parts.cols, ref.scale[i]) +
                         (integer_tables ? test::integer_table_error(parts, xt, kInt3Digits) : 0.0);
    if (!(std::fabs(y[i] - ref.y[i]) <= bound) && reported++ < 3) {
      std::fprintf(stderr, "  seed %llu level %s rows %lld cols %lld tokens %lld output %zu: %.9g vs %.9g (bound %g)\n",
                   static_cast<unsigned long long>(seed), simd_level_name(active_simd_level()),
                   static_cast<long long>(parts.rows), static_cast<long long>(parts.cols),
                   static_cast<long long>(tokens), i, y[i], ref.y[i], bound);
    }
    CHECK(std::fabs(y[i] - ref.y[i]) <= bound);
    if (reported > 3) break;
  }
}

PackedLayer pack_or_fail(const QuantizedLayerData& parts) {
  PackedLayer layer;
  const Status status = pack_layer(view_of(parts), &layer);
  if (!status.ok()) std::fprintf(stderr, "  pack_layer: %s\n", status.message().c_str());
  CHECK(status.ok());
  return layer;
}

// Runs `body` at every supported level, then restores the active one.
template <typename Body>
void at_every_level(Body&& body) {
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    body(level);
  }
  set_simd_level(original);
}

// The dequantize kernel of `level` (the scalar one for levels this build lacks).
void dequantize_at(SimdLevel level, const PackedLayer& layer, const PackedGroup& group, const float* tables,
                   int64_t blocks, int64_t tile, float* panel) {
  switch (level) {
#if defined(__x86_64__)
    case SimdLevel::kAvx2: return packed_dequantize_avx2(layer, group, tables, 0, blocks, tile, panel);
    case SimdLevel::kAvx512: return packed_dequantize_avx512(layer, group, tables, 0, blocks, tile, panel);
#endif
#if defined(__aarch64__)
    case SimdLevel::kNeon: return packed_dequantize_neon(layer, group, tables, 0, blocks, tile, panel);
#endif
    default: return packed_dequantize_ref(layer, group, tables, 0, blocks, tile, panel);
  }
}

}  // namespace

CLAQ_TEST(pack_layer_places_each_code_where_the_tile_format_reads_it) {
  test::Rng rng(11);
  for (BitsMix mix : {BitsMix::k2, BitsMix::k3, BitsMix::k4, BitsMix::kAll}) {
    const QuantizedLayerData parts = test::make_parts(37, 70, mix, 0.0, rng);
    const PackedLayer layer = pack_or_fail(parts);
    int64_t seen = 0;
    for (const PackedGroup& group : layer.groups) {
      for (int64_t c = 0; c < group.columns; ++c) {
        const int32_t j = layer.column_source[group.column_begin + c];
        CHECK_EQ(int(parts.bits_per_column[j]), int(group.format->bits));
        for (int64_t r = 0; r < parts.rows; ++r) {
          const uint32_t* tile = packed_tile(layer, group, c / group.format->block_columns, r / kPackedTileRows);
          const unsigned code = packed_tile_code(tile, *group.format, static_cast<int>(r % kPackedTileRows),
                                                 static_cast<int>(c % group.format->block_columns));
          if (code != parts.codes[r * parts.cols + j]) CHECK_EQ(code, unsigned(parts.codes[r * parts.cols + j]));
        }
        ++seen;
      }
    }
    CHECK_EQ(seen, parts.cols);
  }
}

CLAQ_TEST(pack_layer_keeps_act_order_inside_each_bit_group) {
  test::Rng rng(12);
  const QuantizedLayerData parts = test::make_parts(5, 90, BitsMix::kAll, 0.0, rng);
  const PackedLayer layer = pack_or_fail(parts);
  std::vector<int32_t> expected;
  for (int bits = 2; bits <= 4; ++bits) {
    for (int32_t j : parts.permutation) {
      if (parts.bits_per_column[j] == bits) expected.push_back(j);
    }
  }
  std::vector<int32_t> actual;
  for (int32_t j : layer.column_source) {
    if (j >= 0) actual.push_back(j);
  }
  CHECK(actual == expected);
}

CLAQ_TEST(dequantized_panels_match_scalar_exactly_at_every_level) {
  test::Rng rng(13);
  const QuantizedLayerData parts = test::make_parts(33, 129, BitsMix::kAll, 0.0, rng);
  const PackedLayer layer = pack_or_fail(parts);
  std::vector<float> tables(layer.packed_columns * 16);
  packed_build_dequantize_tables(layer, tables.data());
  AlignedArray<float> expected(32 * 16 * 4), actual(32 * 16 * 4);
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    for (const PackedGroup& group : layer.groups) {
      for (int64_t tile = 0; tile < layer.row_tiles; ++tile) {
        const int64_t blocks = std::min<int64_t>(group.blocks, 4);
        const int64_t floats = blocks * group.format->block_columns * 16;
        packed_dequantize_ref(layer, group, tables.data(), 0, blocks, tile, expected.data());
        dequantize_at(level, layer, group, tables.data(), blocks, tile, actual.data());
        bool same = true;
        for (int64_t i = 0; i < floats; ++i) same = same && expected[i] == actual[i];
        if (!same) std::fprintf(stderr, "  level %s bits %d tile %lld\n", simd_level_name(level), group.format->bits,
                                static_cast<long long>(tile));
        CHECK(same);
      }
    }
  }
  set_simd_level(original);
}

CLAQ_TEST(matmul_matches_float64_for_edge_shapes_at_every_level) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(100 + static_cast<int>(level));
    for (int64_t rows : kEdgeSizes) {
      for (int64_t cols : kEdgeSizes) {
        const BitsMix mix = static_cast<BitsMix>(rng.next() % 6);
        const QuantizedLayerData parts = test::make_parts(rows, cols, mix, 0.02, rng);
        const PackedLayer layer = pack_or_fail(parts);
        PackedMatmulOptions options;
        for (int64_t tokens : {1, 9}) check_matmul(parts, layer, tokens, 1.0, options, rng.next());
      }
    }
  });
}

CLAQ_TEST(matmul_matches_float64_for_every_bit_mix_with_and_without_outliers) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(200 + static_cast<int>(level));
    for (BitsMix mix : {BitsMix::k2, BitsMix::k3, BitsMix::k4, BitsMix::k2And4, BitsMix::k3And4, BitsMix::kAll}) {
      for (double outliers : {0.0, 0.05}) {
        const QuantizedLayerData parts = test::make_parts(67, 100, mix, outliers, rng);
        const PackedLayer layer = pack_or_fail(parts);
        ThreadPool pool(2);
        PackedMatmulOptions options;
        options.pool = &pool;
        for (int64_t tokens : {1, 2, 7, 8, 15, 29}) check_matmul(parts, layer, tokens, 1.0, options, rng.next());
      }
    }
  });
}

CLAQ_TEST(matmul_covers_token_counts_from_1_to_130) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(300 + static_cast<int>(level));
    const QuantizedLayerData parts = test::make_parts(33, 47, BitsMix::kAll, 0.03, rng);
    const PackedLayer layer = pack_or_fail(parts);
    PackedMatmulOptions options;
    for (int64_t tokens : {1, 5, 6, 7, 13, 14, 15, 28, 29, 64, 127, 130}) {
      check_matmul(parts, layer, tokens, 1.0, options, rng.next());
    }
  });
}

CLAQ_TEST(gemv_and_gemm_paths_agree_with_the_reference) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(400 + static_cast<int>(level));
    const QuantizedLayerData parts = test::make_parts(129, 33, BitsMix::kAll, 0.02, rng);
    const PackedLayer layer = pack_or_fail(parts);
    for (int64_t min_tokens : {1, 1000}) {
      PackedMatmulOptions options;
      options.gemm_min_tokens = min_tokens;
      check_matmul(parts, layer, 20, 1.0, options, 77);
    }
  });
}

CLAQ_TEST(matmul_stays_finite_and_accurate_with_1e30_activations) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(500 + static_cast<int>(level));
    const QuantizedLayerData parts = test::make_parts(31, 129, BitsMix::kAll, 0.02, rng);
    const PackedLayer layer = pack_or_fail(parts);
    PackedMatmulOptions options;
    for (int64_t tokens : {1, 16}) check_matmul(parts, layer, tokens, 1e30, options, rng.next());
  });
}

CLAQ_TEST(matmul_gives_identical_bytes_for_any_thread_count) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(600);
    const QuantizedLayerData parts = test::make_parts(127, 64, BitsMix::kAll, 0.02, rng);
    const PackedLayer layer = pack_or_fail(parts);
    for (int64_t tokens : {3, 17}) {
      const std::vector<float> x = test::random_x(tokens, parts.cols, 1.0, rng);
      std::vector<float> first;
      for (int threads : {1, 2, 3, 8}) {
        ThreadPool pool(threads);
        PackedMatmulOptions options;
        options.pool = &pool;
        std::vector<float> y(tokens * parts.rows);
        CHECK(packed_matmul(layer, x.data(), tokens, y.data(), options).ok());
        if (first.empty()) first = y;
        CHECK(y == first);
      }
    }
  });
}

CLAQ_TEST(matmul_rejects_bad_arguments) {
  test::Rng rng(700);
  const QuantizedLayerData parts = test::make_parts(4, 4, BitsMix::k2, 0.0, rng);
  const PackedLayer layer = pack_or_fail(parts);
  std::vector<float> x(8), y(8);
  PackedMatmulOptions options;
  CHECK(packed_matmul(layer, x.data(), 0, y.data(), options).code() == StatusCode::kInvalidArgument);
  CHECK(packed_matmul(layer, nullptr, 1, y.data(), options).code() == StatusCode::kInvalidArgument);
  const PackedLayer empty;
  CHECK(packed_matmul(empty, x.data(), 1, y.data(), options).code() == StatusCode::kInvalidArgument);
}
