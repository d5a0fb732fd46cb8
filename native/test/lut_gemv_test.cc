// Every table look-up GEMV kernel of this build, called directly, against the
// float64 product of the parts. packed_matmul picks one GEMV kernel per level
// (AVX-512 with VBMI on CPUs that have it), so the kernels it passes over on
// this machine are only checked here.
//
// Tolerance: as in packed_test.cc, |y - y_exact| <= (2 * cols + 8) * 2^-24 * S
// with S the sum of |centroid * x_j| over the row. The layers have no
// outliers: the kernels leave those to packed_matmul.
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/pack.h"
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
  bool runs;  // the CPU runs it
};

std::vector<GemvKernel> kernels_to_check() {
  std::vector<GemvKernel> kernels = {{"scalar", lut_build_tables_ref, lut_gemv_ref, true}};
#if defined(__x86_64__)
  kernels.push_back({"avx2", lut_build_tables_avx2, lut_gemv_avx2, simd_level_supported(SimdLevel::kAvx2)});
  kernels.push_back({"avx512", lut_build_tables_avx512, lut_gemv_avx512, simd_level_supported(SimdLevel::kAvx512)});
  kernels.push_back({"avx512 vbmi", lut_build_tables_avx512, lut_gemv_vbmi_avx512, cpu_has_avx512_vbmi()});
#endif
#if defined(__aarch64__)
  kernels.push_back({"neon", lut_build_tables_ref, lut_gemv_neon, true});
#endif
  return kernels;
}

// Runs `kernel` over the layer's panels in two calls (first panel, then the
// rest) and checks every real row against the float64 product.
void check_kernel(const GemvKernel& kernel, const QuantizedLayerData& parts, const PackedLayer& layer,
                  test::Rng& rng) {
  const std::vector<float> x = test::random_x(1, parts.cols, 1.0, rng);
  std::vector<float> x_packed(layer.packed_columns, 0.0f);
  for (int64_t p = 0; p < layer.packed_columns; ++p) {
    if (layer.column_source[p] >= 0) x_packed[p] = x[layer.column_source[p]];
  }
  AlignedArray<float> tables(layer.slots * 16);
  std::vector<float> y(layer.row_tiles * kPackedTileRows, -1.0f);
  kernel.build(layer, x_packed.data(), tables.data());
  kernel.gemv(layer, x_packed.data(), tables.data(), 0, 1, y.data());
  kernel.gemv(layer, x_packed.data(), tables.data(), 1, layer.panels, y.data());

  const test::Reference ref = test::reference_matmul(parts, x, 1);
  int reported = 0;
  for (int64_t r = 0; r < parts.rows; ++r) {
    const double bound = (2.0 * parts.cols + 8) * std::ldexp(1.0, -24) * ref.scale[r] + 1e-30;
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
  const int64_t shapes[][2] = {{1, 1}, {15, 17}, {16, 33}, {17, 31}, {129, 127}, {600, 70}, {1100, 129}};
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
