// The per-row grid of the GPTQ and RTN baselines (core/row_grid.h): RTN on
// hand-made rows against a float64 reference and hand-worked values, GPTQ
// against the float64 reference loop, and the option checks.
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "core/float16.h"
#include "core/quantize.h"
#include "test/quantize_fixtures.h"
#include "test/quantize_reference.h"
#include "test/test_framework.h"

using namespace claq;
using namespace claq::test;

namespace {

QuantizeOptions row_options(Method method, int bits) {
  QuantizeOptions options = gptq_options(bits);
  options.method = method;
  options.grid = Grid::kRow;
  return options;
}

// Rows that exercise the grid's corners, 7 columns each.
std::vector<float> corner_rows() {
  return {
      // scale 1 at 2 bits, zero round(1.5) = 2 (a tie), values at +-0.5 and +-1.5 (ties)
      -1.5f, 1.5f, 0.5f, -0.5f, 1.5f, -1.5f, 0.0f,
      // all zero: the range becomes [-1, 1]
      0, 0, 0, 0, 0, 0, 0,
      // only positive values: the range starts at 0, zero point 0
      0.25f, 3.0f, 1.7f, 0.9f, 2.2f, 0.6f, 1.1f,
      // only negative values: the range ends at 0, zero point at the top
      -0.3f, -2.5f, -1.25f, -0.01f, -1.9f, -0.7f, -2.2f,
      // mixed signs, values not on a grid
      0.37f, -1.13f, 2.71f, -0.05f, 0.88f, -2.02f, 1.49f,
  };
}

// Checks the row grid of `out` and every dequantized weight exactly against
// the reference grid of the original rows, for RTN (no feedback).
void check_rtn_against_reference(const std::vector<float>& weight, int64_t rows, int64_t cols,
                                  int bits, const QuantizedLayerData& out) {
  const ReferenceRowGrid grid = reference_row_grid(weight, rows, cols, bits);
  CHECK_EQ(out.row_scales.size(), static_cast<size_t>(rows));
  CHECK_EQ(out.row_zeros.size(), static_cast<size_t>(rows));
  if (out.row_scales.size() != static_cast<size_t>(rows)) return;

  double loss = 0;
  for (int64_t i = 0; i < rows; ++i) {
    CHECK_EQ(static_cast<double>(out.row_scales[i]), grid.scales[i]);
    CHECK_EQ(static_cast<double>(out.row_zeros[i]), grid.zeros[i]);
    for (int64_t j = 0; j < cols; ++j) {
      const double w = weight[i * cols + j];
      const double code = reference_row_code(grid, i, w);
      CHECK_EQ(static_cast<double>(out.codes[i * cols + j]), code);
      loss += 0.5 * (w - reference_row_value(grid, i, w)) * (w - reference_row_value(grid, i, w));
    }
  }
  const std::vector<double> dequantized = dequantize(out);
  for (int64_t t = 0; t < rows * cols; ++t) {
    CHECK_EQ(dequantized[t], reference_row_value(grid, t / cols, weight[t]));
  }
  CHECK_NEAR(out.stats.loss, loss, 1e-12 * loss + 1e-15);

  // Every column's codebook is the identity levels.
  for (int64_t j = 0; j < cols; ++j) {
    CHECK_EQ(out.codebook_offsets[j + 1] - out.codebook_offsets[j], 1u << bits);
    for (int c = 0; c < (1 << bits); ++c) {
      CHECK_EQ(out.codebooks[out.codebook_offsets[j] + c], static_cast<float>(c));
    }
  }
}

}  // namespace

CLAQ_TEST(rtn_row_grid_hand_worked_ties) {
  // Row 0 at 2 bits: range [-1.5, 1.5], scale 1, zero round(1.5) = 2.
  // -1.5 -> round(-1.5) = -2 -> 0; 1.5 -> 2 + 2 = 4 -> clamped to 3;
  // 0.5 -> round(0.5) = 0 -> 2; -0.5 -> round(-0.5) = 0 -> 2; 0 -> 2.
  const std::vector<float> weight = corner_rows();
  QuantizedLayerData out;
  CHECK(quantize_layer(weight.data(), 5, 7, nullptr, row_options(Method::kRtn, 2), {}, &out).ok());
  CHECK_EQ(out.row_scales[0], 1.0f);
  CHECK_EQ(out.row_zeros[0], 2.0f);
  const std::vector<uint8_t> codes(out.codes.begin(), out.codes.begin() + 7);
  CHECK((codes == std::vector<uint8_t>{0, 3, 2, 2, 3, 0, 2}));
  const std::vector<double> values = dequantize(out);
  const std::vector<double> row0(values.begin(), values.begin() + 7);
  CHECK((row0 == std::vector<double>{-2, 1, 0, 0, 1, -2, 0}));

  // The all-zero row: range [-1, 1], scale 2/3 in float16, zero round(1.5) = 2.
  CHECK_EQ(out.row_scales[1], round_to_float16(2.0f / 3.0f));
  CHECK_EQ(out.row_zeros[1], 2.0f);
  for (int64_t j = 0; j < 7; ++j) CHECK_EQ(values[7 + j], 0.0);
  // Only positive values: zero point 0. Only negative values: zero point 3.
  CHECK_EQ(out.row_zeros[2], 0.0f);
  CHECK_EQ(out.row_scales[2], 1.0f);  // 3 / 3
  CHECK_EQ(out.row_zeros[3], 3.0f);
}

CLAQ_TEST(rtn_row_grid_matches_float64_reference) {
  const std::vector<float> weight = corner_rows();
  for (int bits : {2, 3, 4}) {
    QuantizedLayerData out;
    CHECK(quantize_layer(weight.data(), 5, 7, nullptr, row_options(Method::kRtn, bits), {}, &out)
              .ok());
    check_rtn_against_reference(weight, 5, 7, bits, out);
  }
  for (int bits : {2, 3, 4}) {
    const Layer layer = make_layer(19, 23, 60 + bits);
    QuantizedLayerData out;
    CHECK(quantize_layer(layer.weight.data(), 19, 23, nullptr, row_options(Method::kRtn, bits), {},
                         &out)
              .ok());
    check_rtn_against_reference(layer.weight, 19, 23, bits, out);
  }
}

CLAQ_TEST(row_grid_scales_stay_in_float16_range) {
  // A tiny row would round its scale to 0 and a huge one to infinity; both
  // are clamped, to the smallest positive float16 and to 65504.
  const std::vector<float> weight = {1e-9f, -2e-9f, 1e9f, -3e9f};
  QuantizedLayerData out;
  CHECK(quantize_layer(weight.data(), 2, 2, nullptr, row_options(Method::kRtn, 3), {}, &out).ok());
  CHECK_EQ(out.row_scales[0], 1.0f / 16777216.0f);
  CHECK_EQ(out.row_scales[1], 65504.0f);
  for (float zero : out.row_zeros) CHECK(zero >= 0 && zero <= 7);
  for (double v : dequantize(out)) CHECK(std::isfinite(v));
  CHECK(std::isfinite(out.stats.loss));
}

CLAQ_TEST(gptq_row_grid_matches_float64_reference) {
  for (auto shape : {std::pair<int64_t, int64_t>{8, 6}, {17, 33}}) {
    const Layer layer = make_layer(shape.first, shape.second, 61);
    for (int bits : {2, 4}) {
      for (int block : {1, 4, 128}) {
        for (bool act_order : {true, false}) {
          QuantizeOptions options = row_options(Method::kGptq, bits);
          options.block_size = block;
          options.act_order = act_order;
          QuantizedLayerData out;
          CHECK(quantize_layer(layer.weight.data(), layer.rows, layer.cols, layer.hessian.data(),
                               options, {}, &out)
                    .ok());

          const ReferenceRowGrid grid =
              reference_row_grid(layer.weight, layer.rows, layer.cols, bits);
          ReferenceResult reference;
          CHECK(reference_quantize(layer.weight, layer.rows, layer.cols, layer.hessian, bits, 0,
                                   act_order, options.damping, reference_grid, &reference, &grid));
          CHECK(out.permutation == reference.permutation);
          for (int64_t i = 0; i < layer.rows; ++i) {
            CHECK_EQ(static_cast<double>(out.row_scales[i]), grid.scales[i]);
            CHECK_EQ(static_cast<double>(out.row_zeros[i]), grid.zeros[i]);
          }
          // Weights and U are float32 in the engine (see quantize_test.cc):
          // the seeds here flip no code, so the dequantized weights agree.
          const std::vector<double> dequantized = dequantize(out);
          double max_difference = 0;
          for (size_t t = 0; t < dequantized.size(); ++t) {
            max_difference =
                std::max(max_difference, std::fabs(dequantized[t] - reference.dequantized[t]));
          }
          if (!(max_difference <= 1e-6)) {
            std::ostringstream os;
            os << "gptq row grid " << layer.rows << "x" << layer.cols << " bits " << bits
               << " block " << block << " act order " << act_order
               << ": max |engine - reference| = " << max_difference;
            record_failure(__FILE__, __LINE__, os.str());
          }
          CHECK_NEAR(out.stats.loss, reference.loss, 1e-3 * reference.loss + 1e-12);
        }
      }
    }
  }
}

CLAQ_TEST(gptq_row_grid_comes_from_the_original_rows) {
  // Column 1 is dead (H[1][1] = 0), so its weights become 0 before the loop,
  // but the row grid is fit on the original rows, as in GPTQ's reference:
  // row 0's range is [-0.5, 6], not [-0.5, 1].
  const std::vector<float> weight = {1.0f, 6.0f, -0.5f, 0.25f, -4.0f, 0.75f};
  const std::vector<double> h = {2, 0, 0.5, 0, 0, 0, 0.5, 0, 1};
  QuantizedLayerData out;
  CHECK(quantize_layer(weight.data(), 2, 3, h.data(), row_options(Method::kGptq, 2), {}, &out)
            .ok());
  CHECK_EQ(out.stats.dead_columns, int64_t{1});
  CHECK_EQ(out.row_scales[0], round_to_float16(static_cast<float>(6.5 / 3)));
  CHECK_EQ(out.row_zeros[0], static_cast<float>(std::nearbyint(0.5 / (6.5 / 3))));
  const std::vector<double> values = dequantize(out);
  CHECK_EQ(values[1], 0.0);
  CHECK_EQ(values[4], 0.0);
}

CLAQ_TEST(row_grid_rejects_claq_mixed_bits_and_outliers) {
  const auto message_of = [](const QuantizeOptions& options) {
    const Status status = validate_quantize_options(options, 4, 4, true);
    CHECK(status.code() == StatusCode::kInvalidArgument);
    return status.message();
  };
  QuantizeOptions claq = claq_options(2);
  claq.grid = Grid::kRow;
  CHECK(message_of(claq).find("grid 'row' applies to the gptq and rtn methods") != std::string::npos);

  QuantizeOptions mixed = row_options(Method::kGptq, 2);
  mixed.high_bits = 4;
  mixed.target_bits = 2.5;
  CHECK(message_of(mixed).find("grid 'row' needs one bit width") != std::string::npos);

  QuantizeOptions reserved = row_options(Method::kRtn, 3);
  reserved.outlier_low_fraction = 0.01;
  CHECK(message_of(reserved).find("does not combine with outlier reservation") != std::string::npos);

  QuantizeOptions column = gptq_options(2);
  column.high_bits = 4;
  column.target_bits = 2.5;
  column.outlier_low_fraction = 0.01;
  CHECK(validate_quantize_options(column, 4, 4, true).ok());
}
