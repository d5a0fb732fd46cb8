// The per-row grid of gptq and rtn layers: packing checks and the product
// s_i * (acc - z_i * sum_j x_j) at every SIMD level, against a float64
// product of the weights dequantized here from the contract
// W_q[i][j] = s_i * (level(code_ij) - z_i).
//
// Tolerance: the levels product acc accumulates in float32 with at most
// (2 * cols + 8) roundings of terms bounded by (2^b - 1) * |x_j| (packed_test.cc).
// The epilogue adds: the float64 token sum rounded to float32 (u * sum |x|),
// times z_i <= 2^b - 1 and its product rounding, the subtraction (u times at
// most 2 (2^b - 1) sum |x|) and the final scale (the same again). So
// |y - y_exact| <= s_i * (2^b - 1) * sum_j |x_j| * (2 * cols + 14) * 2^-24.
// The bound scales with sum |x|, not with |y|: acc and z_i * sum x are both of
// order (2^b - 1) * sum |x| and cancel to a y that can be far smaller, so a
// bound relative to |y| would not hold. Where the AVX-512 GEMV reads integer
// 3-bit tables, their rounding adds s_i * integer_table_error
// (packed_parts_fixture.h).
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/float16.h"
#include "core/pack.h"
#include "core/thread_pool.h"
#include "kernels/lut_3bit_int.h"
#include "kernels/packed_matmul.h"
#include "kernels/row_grid_epilogue.h"
#include "kernels/simd_level.h"
#include "test/packed_parts_fixture.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

// A row-grid layer: identity level codebooks at one width, random codes and
// permutation, float16 scales over several octaves, integer zeros.
struct RowGridParts {
  QuantizedLayerData data;
  std::vector<float> scales;
  std::vector<float> zeros;

  QuantizedPartsView view() const {
    QuantizedPartsView v = view_of(data);
    v.row_scales = scales.data();
    v.row_scales_length = scales.size();
    v.row_zeros = zeros.data();
    v.row_zeros_length = zeros.size();
    return v;
  }
};

RowGridParts make_row_grid_parts(int64_t rows, int64_t cols, int bits, test::Rng& rng) {
  const test::BitsMix widths[] = {test::BitsMix::k2, test::BitsMix::k3, test::BitsMix::k4};
  RowGridParts p;
  p.data = test::make_parts(rows, cols, widths[bits - 2], 0.0, rng);
  for (int64_t j = 0; j < cols; ++j) {
    for (int level = 0; level < (1 << bits); ++level) p.data.codebooks[p.data.codebook_offsets[j] + level] = level;
  }
  for (int64_t i = 0; i < rows; ++i) {
    p.scales.push_back(round_to_float16(static_cast<float>(std::ldexp(0.5 + rng.uniform(), -static_cast<int>(rng.next() % 8)))));
    p.zeros.push_back(static_cast<float>(rng.next() % (1u << bits)));
  }
  return p;
}

struct Packed {
  PackedLayer layer;
  PackedRowGrid grid;
};

Packed pack_or_fail(const RowGridParts& parts) {
  Packed packed;
  const Status status = pack_layer(parts.view(), &packed.layer, &packed.grid);
  if (!status.ok()) std::fprintf(stderr, "  pack_layer: %s\n", status.message().c_str());
  CHECK(status.ok());
  return packed;
}

// Runs the product and checks every output against the float64 product of
// the weights dequantized from the contract.
void check_product(const RowGridParts& parts, const Packed& packed, int64_t tokens, double x_scale,
                   const PackedMatmulOptions& base, test::Rng& rng) {
  const QuantizedLayerData& d = parts.data;
  const int bits = d.bits_per_column[0];
  const std::vector<float> x = test::random_x(tokens, d.cols, x_scale, rng);
  std::vector<float> y(tokens * d.rows, -1.0f);
  PackedMatmulOptions options = base;
  options.row_grid = &packed.grid;
  CHECK(packed_matmul(packed.layer, x.data(), tokens, y.data(), options).ok());

  const bool integer_tables = active_simd_level() == SimdLevel::kAvx512 && cpu_has_avx512_vbmi_vnni();
  int reported = 0;
  for (int64_t t = 0; t < tokens; ++t) {
    const float* xt = x.data() + t * d.cols;
    double magnitude = 0;
    for (int64_t j = 0; j < d.cols; ++j) magnitude += std::fabs(xt[j]);
    const double tables_error = integer_tables ? test::integer_table_error(d, xt, kInt3Digits) : 0.0;
    for (int64_t i = 0; i < d.rows; ++i) {
      double exact = 0;
      for (int64_t j = 0; j < d.cols; ++j) {
        const double level = d.codes[i * d.cols + j];
        exact += double{parts.scales[i]} * (level - parts.zeros[i]) * xt[j];
      }
      const double bound = double{parts.scales[i]} *
                           (((1 << bits) - 1) * magnitude * (2.0 * d.cols + 14) * std::ldexp(1.0, -24) + tables_error);
      const double got = y[t * d.rows + i];
      if (!(std::fabs(got - exact) <= bound) && reported++ < 3) {
        std::fprintf(stderr, "  level %s rows %lld cols %lld bits %d tokens %lld (t %lld, i %lld): %.9g vs %.9g (bound %g)\n",
                     simd_level_name(active_simd_level()), static_cast<long long>(d.rows),
                     static_cast<long long>(d.cols), bits, static_cast<long long>(tokens), static_cast<long long>(t),
                     static_cast<long long>(i), got, exact, bound);
      }
      CHECK(std::fabs(got - exact) <= bound);
    }
  }
}

template <typename Body>
void at_every_level(Body&& body) {
  const SimdLevel original = active_simd_level();
  for (SimdLevel level : supported_simd_levels()) {
    CHECK(set_simd_level(level));
    body(level);
  }
  set_simd_level(original);
}

const int64_t kEdgeSizes[] = {1, 3, 15, 16, 17, 31, 33, 127, 129};

}  // namespace

CLAQ_TEST(row_grid_matmul_matches_float64_for_edge_shapes_at_every_level) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(1000 + static_cast<int>(level));
    for (int64_t rows : kEdgeSizes) {
      for (int64_t cols : kEdgeSizes) {
        const RowGridParts parts = make_row_grid_parts(rows, cols, 2 + static_cast<int>(rng.next() % 3), rng);
        const Packed packed = pack_or_fail(parts);
        for (int64_t tokens : {1, 17}) check_product(parts, packed, tokens, 1.0, PackedMatmulOptions(), rng);
      }
    }
  });
}

CLAQ_TEST(row_grid_matmul_covers_bits_and_tokens_1_to_130_on_both_paths) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(1100 + static_cast<int>(level));
    ThreadPool pool(2);
    for (int bits : {2, 3, 4}) {
      const RowGridParts parts = make_row_grid_parts(33, 129, bits, rng);
      const Packed packed = pack_or_fail(parts);
      PackedMatmulOptions options;
      options.pool = &pool;
      for (int64_t tokens : {1, 2, 7, 8, 15, 16, 31, 64, 130}) check_product(parts, packed, tokens, 1.0, options, rng);
      for (int64_t min_tokens : {1, 1000}) {
        options.gemm_min_tokens = min_tokens;
        check_product(parts, packed, 20, 1.0, options, rng);
      }
    }
  });
}

CLAQ_TEST(row_grid_matmul_stays_accurate_with_1e30_activations) {
  at_every_level([](SimdLevel level) {
    test::Rng rng(1200 + static_cast<int>(level));
    for (int bits : {2, 3, 4}) {
      const RowGridParts parts = make_row_grid_parts(31, 127, bits, rng);
      const Packed packed = pack_or_fail(parts);
      for (int64_t tokens : {1, 16}) check_product(parts, packed, tokens, 1e30, PackedMatmulOptions(), rng);
    }
  });
}

CLAQ_TEST(apply_row_grid_computes_the_hand_worked_case) {
  // Two rows, two tokens, three columns: sums 6 and -1.5.
  PackedRowGrid grid;
  grid.scales = {0.5f, 2.0f};
  grid.zeros = {1.0f, 3.0f};
  const float x[] = {1, 2, 3, -0.5f, 0, -1};
  float y[] = {10, 4, -2, 7};
  apply_row_grid(grid, x, 2, 3, 2, y);
  CHECK_EQ(y[0], 0.5f * (10 - 1 * 6.0f));
  CHECK_EQ(y[1], 2.0f * (4 - 3 * 6.0f));
  CHECK_EQ(y[2], 0.5f * (-2 - 1 * -1.5f));
  CHECK_EQ(y[3], 2.0f * (7 - 3 * -1.5f));
}

CLAQ_TEST(pack_layer_rejects_bad_row_grids_naming_the_field) {
  test::Rng rng(1300);
  const RowGridParts good = make_row_grid_parts(5, 6, 3, rng);
  Packed packed;
  auto message_of = [&](const QuantizedPartsView& view) {
    const Status status = pack_layer(view, &packed.layer, &packed.grid);
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK(packed.grid.empty());
    return status.message();
  };
  auto has = [](const std::string& text, const char* part) { return text.find(part) != std::string::npos; };

  CHECK(pack_layer(good.view(), &packed.layer, &packed.grid).ok());
  CHECK(packed.grid.scales == good.scales);
  // The two-argument form must not drop the grid.
  CHECK(has(pack_layer(good.view(), &packed.layer).message(), "row grid"));

  RowGridParts bad = good;
  bad.scales.pop_back();
  CHECK(has(message_of(bad.view()), "rowScales"));
  bad = good;
  bad.zeros.push_back(0);
  CHECK(has(message_of(bad.view()), "rowZeros"));
  for (float scale : {0.0f, -1.0f, NAN, INFINITY, 0.1f}) {
    bad = good;
    bad.scales[2] = scale;  // 0.1 is not a float16 value
    CHECK(has(message_of(bad.view()), "rowScales[2]"));
  }
  for (float zero : {-1.0f, 8.0f, 2.5f, NAN}) {
    bad = good;
    bad.zeros[4] = zero;
    CHECK(has(message_of(bad.view()), "rowZeros[4]"));
  }
  bad = good;
  bad.data.bits_per_column[3] = 4;
  for (int64_t j = 0; j < 6; ++j) bad.data.codebook_offsets[j + 1] = bad.data.codebook_offsets[j] + (j == 3 ? 16 : 8);
  bad.data.codebooks.resize(bad.data.codebook_offsets[6], 0.0f);
  CHECK(has(message_of(bad.view()), "bitsPerColumn[3]"));
  bad = good;
  bad.data.outlier_rows = {1};
  bad.data.outlier_cols = {2};
  bad.data.outlier_values = {1.5f};
  CHECK(has(message_of(bad.view()), "outlier"));
}

CLAQ_TEST(matmul_rejects_a_row_grid_of_the_wrong_length) {
  test::Rng rng(1400);
  const RowGridParts parts = make_row_grid_parts(4, 4, 2, rng);
  Packed packed = pack_or_fail(parts);
  packed.grid.zeros.pop_back();
  std::vector<float> x(4), y(4);
  PackedMatmulOptions options;
  options.row_grid = &packed.grid;
  CHECK(packed_matmul(packed.layer, x.data(), 1, y.data(), options).code() == StatusCode::kInvalidArgument);
}
