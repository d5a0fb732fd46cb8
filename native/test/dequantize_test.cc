// Dequantized weights from parts: a hand-worked layer, a row grid, random
// layers against a plain reference, and every malformed input rejected.
#include <string>
#include <vector>

#include "core/dequantize.h"
#include "test/packed_parts_fixture.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

// Two rows, three columns of 1, 2 and 3 bits, one outlier at [1, 2].
QuantizedLayerData hand_parts() {
  QuantizedLayerData p;
  p.rows = 2;
  p.cols = 3;
  p.bits_per_column = {1, 2, 3};
  p.permutation = {2, 0, 1};
  p.codes.assign({1, 3, 0,    // row 0
                  0, 2, 4});  // row 1
  p.codebook_offsets = {0, 2, 6, 11};
  p.codebooks = {-1, 1,          // column 0
                 -2, -1, 0.5, 4,  // column 1
                 0, 1, 2, 3, 8};  // column 2: 5 of 8 centroids
  p.outlier_rows = {1};
  p.outlier_cols = {2};
  p.outlier_values = {100};
  return p;
}

std::vector<float> dequantized(const QuantizedLayerData& parts) {
  std::vector<float> out(static_cast<size_t>(parts.rows * parts.cols), -7.0f);
  dequantize_parts(view_of(parts), out.data());
  return out;
}

void expect_rejected(const char* what, void (*corrupt)(QuantizedLayerData&), const char* message_part) {
  QuantizedLayerData parts = hand_parts();
  corrupt(parts);
  const Status status = check_dequantize_parts(view_of(parts), "dequantizeParts");
  if (status.ok() || status.message().find(message_part) == std::string::npos) {
    std::fprintf(stderr, "  %s: status '%s', expected a message containing '%s'\n", what, status.message().c_str(),
                 message_part);
  }
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message().find(message_part) != std::string::npos);
  CHECK(status.message().rfind("dequantizeParts: ", 0) == 0);
}

}  // namespace

CLAQ_TEST(dequantize_hand_worked_layer) {
  const QuantizedLayerData parts = hand_parts();
  CHECK(check_dequantize_parts(view_of(parts), "dequantizeParts").ok());
  const std::vector<float> expected = {1, 4, 0, -1, 0.5f, 100};
  CHECK(dequantized(parts) == expected);
}

CLAQ_TEST(dequantize_row_grid_scales_and_shifts) {
  QuantizedLayerData parts = hand_parts();
  parts.outlier_rows.clear();
  parts.outlier_cols.clear();
  parts.outlier_values.clear();
  parts.row_scales = {0.5f, 0.25f};
  parts.row_zeros = {1, 2};
  CHECK(check_dequantize_parts(view_of(parts), "dequantizeParts").ok());
  // Row 0: 0.5 * (c - 1) for c = 1, 4, 0; row 1: 0.25 * (c - 2) for c = -1, 0.5, 8.
  const std::vector<float> expected = {0, 1.5f, -0.5f, -0.75f, -0.375f, 1.5f};
  CHECK(dequantized(parts) == expected);
}

CLAQ_TEST(dequantize_random_layers_match_reference) {
  test::Rng rng(3);
  for (const test::BitsMix mix : {test::BitsMix::k2, test::BitsMix::k3And4, test::BitsMix::kAll}) {
    const QuantizedLayerData parts = test::make_parts(37, 129, mix, 0.3, rng);
    CHECK(check_dequantize_parts(view_of(parts), "dequantizeParts").ok());
    std::vector<float> expected(static_cast<size_t>(parts.rows * parts.cols));
    for (int64_t i = 0; i < parts.rows; ++i) {
      for (int64_t j = 0; j < parts.cols; ++j) {
        const uint8_t code = parts.codes[i * parts.cols + j];
        expected[i * parts.cols + j] = parts.codebooks[parts.codebook_offsets[j] + code];
      }
    }
    for (size_t k = 0; k < parts.outlier_values.size(); ++k) {
      expected[parts.outlier_rows[k] * parts.cols + parts.outlier_cols[k]] = parts.outlier_values[k];
    }
    CHECK(!parts.outlier_values.empty());
    CHECK(dequantized(parts) == expected);
  }
}

CLAQ_TEST(dequantize_rejects_malformed_parts) {
  expect_rejected("short codes", [](QuantizedLayerData& p) { p.codes.resize(5); }, "parts.codes has 5 elements");
  expect_rejected("short offsets", [](QuantizedLayerData& p) { p.codebook_offsets.pop_back(); },
                  "parts.codebookOffsets has 3 elements");
  expect_rejected("a 9-bit column", [](QuantizedLayerData& p) { p.bits_per_column[0] = 9; }, "column 0 (9 bits)");
  expect_rejected("a 0-bit column", [](QuantizedLayerData& p) { p.bits_per_column[1] = 0; }, "column 1 (0 bits)");
  expect_rejected("too many centroids", [](QuantizedLayerData& p) { p.codebook_offsets[1] = 3; },
                  "column 0 (1 bits) has codebook entries [0, 3)");
  expect_rejected("an empty codebook", [](QuantizedLayerData& p) { p.codebook_offsets[2] = 2; },
                  "column 1 (2 bits) has codebook entries [2, 2)");
  expect_rejected("offsets past the codebooks", [](QuantizedLayerData& p) { p.codebooks.pop_back(); },
                  "of the 10 codebook values");
  expect_rejected("a code above its codebook", [](QuantizedLayerData& p) { p.codes[5] = 5; },
                  "parts.codes[5] = 5 (row 1, column 2) is not below the column's 5 centroids");
  expect_rejected("an outlier row outside", [](QuantizedLayerData& p) { p.outlier_rows[0] = 2; },
                  "outlier 0 is at [row 2, column 2], outside the 2 x 3 layer");
  expect_rejected("a negative outlier column", [](QuantizedLayerData& p) { p.outlier_cols[0] = -1; },
                  "outlier 0 is at [row 1, column -1]");
  expect_rejected("outlier arrays of different lengths", [](QuantizedLayerData& p) { p.outlier_cols.clear(); },
                  "parts.outlierCols has 0 elements, expected 1");
  expect_rejected("scales without zeros", [](QuantizedLayerData& p) { p.row_scales = {1, 1}; },
                  "parts.rowZeros has 0 elements, expected 2");
}
