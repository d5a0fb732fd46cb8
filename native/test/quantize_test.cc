// quantize_layer against the float64 reference loop in quantize_reference.h.
// The engine keeps weights and U in float32, so results agree to float32
// rounding carried through the feedback: dequantized weights within 2e-3 of
// max|W| and the loss within 1e-3 relative. A code may flip only where a
// weight sits within that rounding of a decision midpoint. The seeds here hit
// no such case (the dequantized weights agree exactly), and a flip would show
// up as a dequantized difference.
#include <cmath>
#include <sstream>
#include <vector>

#include "core/float16.h"
#include "core/quantize.h"
#include "test/quantize_fixtures.h"
#include "test/quantize_reference.h"
#include "test/test_framework.h"

using namespace claq;
using namespace claq::test;

namespace {

void compare_with_reference(const char* label, const Layer& layer, const QuantizeOptions& options,
                            const ReferenceCodebook& codebook, int64_t per_tail) {
  QuantizedLayerData out;
  const Status status = quantize_layer(layer.weight.data(), layer.rows, layer.cols,
                                       layer.hessian.data(), options, {}, &out);
  CHECK(status.ok());
  if (!status.ok()) return;

  ReferenceResult reference;
  CHECK(reference_quantize(layer.weight, layer.rows, layer.cols, layer.hessian, options.low_bits,
                           per_tail, options.act_order, options.damping, codebook, &reference));

  CHECK(out.permutation == reference.permutation);
  const std::vector<double> dequantized = dequantize(out);
  double max_weight = 0, max_difference = 0;
  for (size_t t = 0; t < dequantized.size(); ++t) {
    max_weight = std::max(max_weight, std::fabs(static_cast<double>(layer.weight[t])));
    max_difference = std::max(max_difference, std::fabs(dequantized[t] - reference.dequantized[t]));
  }
  if (!(max_difference <= 2e-3 * max_weight)) {
    std::ostringstream os;
    os << label << " " << layer.rows << "x" << layer.cols << " block " << options.block_size
       << ": max |engine - reference| = " << max_difference << " (max |W| " << max_weight << ")";
    record_failure(__FILE__, __LINE__, os.str());
  }
  CHECK_NEAR(out.stats.loss, reference.loss, 1e-3 * reference.loss + 1e-12);
  CHECK_EQ(out.stats.damping, options.damping);
}

}  // namespace

CLAQ_TEST(gptq_loop_matches_float64_reference) {
  for (auto shape : {std::pair<int64_t, int64_t>{8, 6}, {17, 33}}) {
    const Layer layer = make_layer(shape.first, shape.second, 21);
    for (int block : {1, 4, 128}) {
      QuantizeOptions options = gptq_options(3);
      options.block_size = block;
      compare_with_reference("gptq", layer, options, reference_grid, 0);
    }
  }
}

CLAQ_TEST(claq_loop_matches_float64_reference) {
  for (auto shape : {std::pair<int64_t, int64_t>{8, 6}, {17, 33}}) {
    const Layer layer = make_layer(shape.first, shape.second, 22);
    for (int block : {1, 4, 128}) {
      QuantizeOptions options = claq_options(2);
      options.block_size = block;
      compare_with_reference("claq", layer, options, reference_kmeans, 0);
    }
  }
}

CLAQ_TEST(claq_with_outlier_reservation_matches_reference) {
  const Layer layer = make_layer(17, 33, 23);
  for (int block : {1, 4, 128}) {
    QuantizeOptions options = claq_options(2);
    options.block_size = block;
    options.outlier_column_fraction = 0;
    options.outlier_low_fraction = 0.1;  // round(17 * 0.1) = 2 per tail
    compare_with_reference("claq+OR", layer, options, reference_kmeans, 2);
  }
}

CLAQ_TEST(gptq_without_act_order_matches_reference) {
  const Layer layer = make_layer(17, 33, 24);
  QuantizeOptions options = gptq_options(4);
  options.act_order = false;
  options.block_size = 4;
  compare_with_reference("gptq no act order", layer, options, reference_grid, 0);
}

CLAQ_TEST(quantize_outputs_float16_codebooks_in_original_order) {
  const Layer layer = make_layer(17, 33, 25);
  QuantizeOptions options = claq_options(3);
  options.low_bits = 3;
  options.high_bits = 4;
  options.target_bits = 3.5;
  QuantizedLayerData out;
  CHECK(quantize_layer(layer.weight.data(), 17, 33, layer.hessian.data(), options, {}, &out).ok());

  CHECK_EQ(out.codebook_offsets.size(), size_t{34});
  CHECK_EQ(out.codebook_offsets[33], static_cast<uint32_t>(out.codebooks.size()));
  int64_t high = 0;
  for (int64_t j = 0; j < 33; ++j) {
    const uint32_t begin = out.codebook_offsets[j];
    const uint32_t end = out.codebook_offsets[j + 1];
    CHECK_EQ(end - begin, 1u << out.bits_per_column[j]);
    for (uint32_t c = begin; c < end; ++c) {
      CHECK_EQ(round_to_float16(out.codebooks[c]), out.codebooks[c]);
      if (c > begin) CHECK(out.codebooks[c - 1] <= out.codebooks[c]);
    }
    high += out.bits_per_column[j] == 4;
  }
  CHECK_EQ(high, int64_t{17});  // round half up of 33 * 0.5 = 16.5
  for (size_t t = 0; t < out.codes.size(); ++t) {
    const int64_t j = static_cast<int64_t>(t % 33);
    CHECK(out.codes[t] < (1u << out.bits_per_column[j]));
  }
}
