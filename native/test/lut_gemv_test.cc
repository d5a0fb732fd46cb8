// Every table look-up GEMV kernel of this build, called directly, against the
// float64 product of the parts. packed_matmul picks one GEMV kernel per level
// (AVX-512 with VBMI on CPUs that have it), so the kernels it passes over on
// this machine are only checked here.
//
// Tolerance: as in packed_test.cc, |y - y_exact| <= (2 * cols + 8) * 2^-24 * S
// with S the sum of |centroid * x_j| over the row, plus, for the kernels with
// integer 3-bit tables, the rounding of those tables (integer_table_error in
// packed_parts_fixture.h). The layers have no outliers: the kernels leave
// those to packed_matmul.
#include <cmath>
#include <cstdio>
#include <utility>
#include <vector>

#include "core/pack.h"
#include "kernels/lut_3bit_int.h"
#include "kernels/lut_gemv.h"
#include "kernels/simd_level.h"
#include "test/packed_parts_fixture.h"
#include "test/test_framework.h"

using namespace claq;
using claq::test::BitsMix;

namespace {

using BuildFn = void (*)(const PackedLayer&, const float*, float*);
using GemvFn = void (*)(const PackedLayer&, const float*, const float*, int64_t, int64_t, float*);

struct GemvKernel {
  const char* name;
  BuildFn build;
  GemvFn gemv;
  bool runs;            // the CPU runs it
  bool integer_tables;  // 3-bit blocks read integer tables
};

std::vector<GemvKernel> kernels_to_check() {
  std::vector<GemvKernel> kernels = {{"scalar", lut_build_tables_ref, lut_gemv_ref, true, false}};
#if defined(__x86_64__)
  kernels.push_back({"avx2", lut_build_tables_avx2, lut_gemv_avx2, simd_level_supported(SimdLevel::kAvx2), false});
  kernels.push_back(
      {"avx512", lut_build_tables_avx512, lut_gemv_avx512, simd_level_supported(SimdLevel::kAvx512), false});
  kernels.push_back({"avx512 vbmi", lut_build_tables_avx512, lut_gemv_vbmi_avx512, cpu_has_avx512_vbmi(), false});
  kernels.push_back({"avx512 integer 3-bit", lut_build_tables_int3_avx512, lut_gemv_int3_avx512,
                     cpu_has_avx512_vbmi_vnni(), true});
  kernels.push_back({"avx512 vbmi integer 3-bit", lut_build_tables_int3_avx512, lut_gemv_vbmi_int3_avx512,
                     cpu_has_avx512_vbmi_vnni(), true});
#endif
#if defined(__aarch64__)
  kernels.push_back({"neon", lut_build_tables_ref, lut_gemv_neon, true, false});
#endif
  return kernels;
}

// Runs `kernel` over the layer's panels in two calls (first panel, then the
// rest); returns y with its padding rows.
std::vector<float> run_kernel(const GemvKernel& kernel, const PackedLayer& layer, const std::vector<float>& x) {
  std::vector<float> x_packed(layer.packed_columns, 0.0f);
  for (int64_t p = 0; p < layer.packed_columns; ++p) {
    if (layer.column_source[p] >= 0) x_packed[p] = x[layer.column_source[p]];
  }
  AlignedArray<float> tables(layer.slots * 16);
  std::vector<float> y(layer.row_tiles * kPackedTileRows, -1.0f);
  kernel.build(layer, x_packed.data(), tables.data());
  kernel.gemv(layer, x_packed.data(), tables.data(), 0, 1, y.data());
  kernel.gemv(layer, x_packed.data(), tables.data(), 1, layer.panels, y.data());
  return y;
}

// Checks every real row of the kernel's y against the float64 product.
void check_kernel(const GemvKernel& kernel, const QuantizedLayerData& parts, const PackedLayer& layer,
                  test::Rng& rng) {
  const std::vector<float> x = test::random_x(1, parts.cols, 1.0, rng);
  const std::vector<float> y = run_kernel(kernel, layer, x);

  const test::Reference ref = test::reference_matmul(parts, x, 1);
  const double tables_error = kernel.integer_tables ? test::integer_table_error(parts, x.data(), kInt3Digits) : 0;
  int reported = 0;
  for (int64_t r = 0; r < parts.rows; ++r) {
    const double bound = (2.0 * parts.cols + 8) * std::ldexp(1.0, -24) * ref.scale[r] + tables_error + 1e-30;
    const bool close = std::fabs(y[r] - ref.y[r]) <= bound;
    if (!close && reported++ < 3) {
      std::fprintf(stderr, "  %s rows %lld cols %lld row %lld: %.9g vs %.9g (bound %g)\n", kernel.name,
                   static_cast<long long>(parts.rows), static_cast<long long>(parts.cols), static_cast<long long>(r),
                   y[r], ref.y[r], bound);
    }
    CHECK(close);
  }
}

}  // namespace

CLAQ_TEST(every_gemv_kernel_matches_float64_for_every_bit_mix_and_edge_shape) {
  test::Rng rng(700);
  const BitsMix mixes[] = {BitsMix::k2, BitsMix::k3, BitsMix::k4, BitsMix::k2And4, BitsMix::k3And4, BitsMix::kAll};
  // 40 x 9000 spans three chunks of 3-bit columns (lut_gemv_panels.h) when
  // every column has 3 bits, and two in the 3-and-4-bit mix, whose 4-bit
  // blocks join the last chunk.
  const int64_t shapes[][2] = {{1, 1}, {15, 17}, {16, 33}, {17, 31}, {129, 127}, {600, 70}, {1100, 129}, {40, 9000}};
  for (const GemvKernel& kernel : kernels_to_check()) {
    if (!kernel.runs) {
      std::fprintf(stderr, "  skipped: the CPU does not run the %s GEMV\n", kernel.name);
      continue;
    }
    for (BitsMix mix : mixes) {
      for (const auto& shape : shapes) {
        const QuantizedLayerData parts = test::make_parts(shape[0], shape[1], mix, 0.0, rng);
        PackedLayer layer;
        CHECK(pack_layer(view_of(parts), &layer).ok());
        check_kernel(kernel, parts, layer, rng);
      }
    }
  }
}

// With small integer centroids and x of +-1 or +-2, every table entry is an
// integer of at most 8, which integer tables hold exactly, and every sum is
// exact in float32. So each kernel must return the exact product.
CLAQ_TEST(every_gemv_kernel_is_exact_for_small_integer_products) {
  test::Rng rng(710);
  for (const GemvKernel& kernel : kernels_to_check()) {
    if (!kernel.runs) continue;
    for (const auto& shape : {std::pair<int64_t, int64_t>{17, 33}, {600, 129}}) {
      QuantizedLayerData parts = test::make_parts(shape.first, shape.second, BitsMix::kAll, 0.0, rng);
      for (int64_t j = 0; j < parts.cols; ++j) {
        const uint32_t first = parts.codebook_offsets[j], count = parts.codebook_offsets[j + 1] - first;
        for (uint32_t c = 0; c < count; ++c) parts.codebooks[first + c] = static_cast<float>(c) - count / 2;
      }
      PackedLayer layer;
      CHECK(pack_layer(view_of(parts), &layer).ok());
      std::vector<float> x(parts.cols);
      for (float& v : x) v = (rng.next() % 2 == 0 ? 1.0f : 2.0f) * (rng.uniform() < 0.5 ? -1.0f : 1.0f);
      const std::vector<float> y = run_kernel(kernel, layer, x);
      const test::Reference ref = test::reference_matmul(parts, x, 1);
      for (int64_t r = 0; r < parts.rows; ++r) CHECK(y[r] == ref.y[r]);
    }
  }
}

// Activations of 1e30, and x with NaN or infinity in some columns: large
// products stay finite and accurate, and NaN or infinity reaches every row
// as NaN or infinity, as in a dense product.
CLAQ_TEST(every_gemv_kernel_handles_huge_and_non_finite_activations) {
  test::Rng rng(720);
  for (const GemvKernel& kernel : kernels_to_check()) {
    if (!kernel.runs) continue;
    const QuantizedLayerData parts = test::make_parts(300, 100, BitsMix::kAll, 0.0, rng);
    PackedLayer layer;
    CHECK(pack_layer(view_of(parts), &layer).ok());
    std::vector<float> x = test::random_x(1, parts.cols, 1e30, rng);
    const std::vector<float> y = run_kernel(kernel, layer, x);
    const test::Reference ref = test::reference_matmul(parts, x, 1);
    const double tables_error = kernel.integer_tables ? test::integer_table_error(parts, x.data(), kInt3Digits) : 0;
    for (int64_t r = 0; r < parts.rows; ++r) {
      CHECK(std::isfinite(y[r]));
      CHECK(std::fabs(y[r] - ref.y[r]) <= (2.0 * parts.cols + 8) * std::ldexp(1.0, -24) * ref.scale[r] + tables_error);
    }

    for (float special : {NAN, INFINITY}) {
      std::vector<float> xs = test::random_x(1, parts.cols, 1.0, rng);
      for (int64_t j = 0; j < parts.cols; ++j) {
        if (parts.bits_per_column[j] == 3) xs[j] = special;  // every 3-bit column
      }
      xs[parts.cols / 2] = special;  // and one column of any width
      const std::vector<float> ys = run_kernel(kernel, layer, xs);
      for (int64_t r = 0; r < parts.rows; ++r) CHECK(!std::isfinite(ys[r]));
    }
  }
}
