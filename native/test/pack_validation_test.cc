// pack_layer rejects every malformed part with InvalidArgument and leaves the
// output empty, so no crafted input reaches a kernel. Exact checks only.
#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "core/pack.h"
#include "test/packed_parts_fixture.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

QuantizedLayerData valid_parts() {
  test::Rng rng(1);
  return test::make_parts(5, 6, test::BitsMix::kAll, 0.2, rng);
}

void expect_rejected(const char* what, const std::function<void(QuantizedLayerData&)>& corrupt,
                     const char* message_part) {
  QuantizedLayerData parts = valid_parts();
  corrupt(parts);
  PackedLayer layer;
  const Status status = pack_layer(view_of(parts), &layer);
  if (status.ok() || status.message().find(message_part) == std::string::npos) {
    std::fprintf(stderr, "  %s: status '%s', expected a message containing '%s'\n", what,
                 status.message().c_str(), message_part);
  }
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message().find(message_part) != std::string::npos);
  CHECK(layer.groups.empty());
  CHECK(layer.codes.data() == nullptr);
}

}  // namespace

CLAQ_TEST(pack_layer_accepts_the_valid_fixture) {
  QuantizedLayerData parts = valid_parts();
  CHECK(!parts.outlier_rows.empty());
  PackedLayer layer;
  CHECK(pack_layer(view_of(parts), &layer).ok());
  CHECK_EQ(layer.outlier_rows.size(), parts.outlier_rows.size());
}

CLAQ_TEST(pack_layer_accepts_columns_with_fewer_centroids) {
  QuantizedLayerData parts = valid_parts();
  // Column 0 keeps only its first centroid; every code of it becomes 0.
  const uint32_t removed = parts.codebook_offsets[1] - parts.codebook_offsets[0] - 1;
  parts.codebooks.erase(parts.codebooks.begin() + 1, parts.codebooks.begin() + 1 + removed);
  for (size_t j = 1; j < parts.codebook_offsets.size(); ++j) parts.codebook_offsets[j] -= removed;
  for (int64_t r = 0; r < parts.rows; ++r) parts.codes[r * parts.cols] = 0;
  PackedLayer layer;
  CHECK(pack_layer(view_of(parts), &layer).ok());
  parts.codes[0] = 1;
  CHECK(pack_layer(view_of(parts), &layer).code() == StatusCode::kInvalidArgument);
}

CLAQ_TEST(pack_layer_rejects_malformed_parts) {
  expect_rejected("zero rows", [](QuantizedLayerData& p) { p.rows = 0; }, "rows");
  expect_rejected("negative cols", [](QuantizedLayerData& p) { p.cols = -3; }, "cols");
  expect_rejected("short codes", [](QuantizedLayerData& p) { p.codes.pop_back(); }, "codes has length");
  expect_rejected("short bits", [](QuantizedLayerData& p) { p.bits_per_column.pop_back(); }, "bitsPerColumn");
  expect_rejected("bits 5", [](QuantizedLayerData& p) { p.bits_per_column[2] = 5; }, "bitsPerColumn[2]");
  expect_rejected("bits 1", [](QuantizedLayerData& p) { p.bits_per_column[0] = 1; }, "bitsPerColumn[0]");
  expect_rejected("repeated column", [](QuantizedLayerData& p) { p.permutation[1] = p.permutation[0]; },
                  "repeats a column");
  expect_rejected("column out of range", [](QuantizedLayerData& p) { p.permutation[3] = 6; }, "permutation[3]");
  expect_rejected("negative column", [](QuantizedLayerData& p) { p.permutation[3] = -1; }, "permutation[3]");
  expect_rejected("code too wide", [](QuantizedLayerData& p) { p.codes[7] = 16; }, "codes[7]");
  expect_rejected("empty codebook", [](QuantizedLayerData& p) { p.codebook_offsets[1] = 0; }, "codebookOffsets[1]");
  expect_rejected("offsets start", [](QuantizedLayerData& p) { p.codebook_offsets[0] = 1; }, "codebookOffsets[0]");
  expect_rejected("offsets step", [](QuantizedLayerData& p) { p.codebook_offsets[2] += 1; }, "codebookOffsets");
  expect_rejected("offsets length", [](QuantizedLayerData& p) { p.codebook_offsets.pop_back(); },
                  "codebookOffsets has length");
  expect_rejected("offsets end", [](QuantizedLayerData& p) { p.codebooks.push_back(0); }, "codebooks length");
  expect_rejected("NaN centroid",
                  [](QuantizedLayerData& p) { p.codebooks[3] = std::numeric_limits<float>::quiet_NaN(); },
                  "codebooks[3]");
  expect_rejected("outlier row", [](QuantizedLayerData& p) { p.outlier_rows[0] = 5; }, "outlierRows[0]");
  expect_rejected("outlier col", [](QuantizedLayerData& p) { p.outlier_cols[0] = -1; }, "outlierCols[0]");
  expect_rejected("outlier value",
                  [](QuantizedLayerData& p) { p.outlier_values[0] = std::numeric_limits<float>::infinity(); },
                  "outlierValues[0]");
  expect_rejected("outlier lengths", [](QuantizedLayerData& p) { p.outlier_values.pop_back(); }, "outlierValues");
  expect_rejected("outlier repeat",
                  [](QuantizedLayerData& p) {
                    p.outlier_rows.push_back(p.outlier_rows.back());
                    p.outlier_cols.push_back(p.outlier_cols.back());
                    p.outlier_values.push_back(1.0f);
                  },
                  "sorted by column");
  expect_rejected("outliers unsorted",
                  [](QuantizedLayerData& p) {
                    std::swap(p.outlier_cols.front(), p.outlier_cols.back());
                    std::swap(p.outlier_rows.front(), p.outlier_rows.back());
                  },
                  "sorted by column");
}
