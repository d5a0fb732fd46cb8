// The checkpoint code stream against a bit-by-bit reference: every width
// from 1 to 8 bits, mixed widths, row counts around the 64-row passes, the
// padding check, and masking of codes wider than their column.
#include <cstdint>
#include <vector>

#include "core/code_stream.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

struct Lcg {
  uint64_t state;
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  }
};

// Bit k of the stream is bit (k - 8 * start of column j) of column j's codes,
// written one bit at a time.
std::vector<uint8_t> reference_stream(const std::vector<uint8_t>& codes, int64_t rows, const std::vector<uint8_t>& bits) {
  const int64_t cols = static_cast<int64_t>(bits.size());
  std::vector<uint8_t> stream;
  for (int64_t j = 0; j < cols; ++j) {
    const size_t start = stream.size();
    stream.resize(start + static_cast<size_t>((rows * bits[j] + 7) / 8), 0);
    for (int64_t i = 0; i < rows; ++i) {
      for (int b = 0; b < bits[j]; ++b) {
        const int64_t bit = i * bits[j] + b;
        if ((codes[i * cols + j] >> b) & 1) stream[start + bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
      }
    }
  }
  return stream;
}

void check_round_trip(int64_t rows, const std::vector<uint8_t>& bits, uint64_t seed) {
  const int64_t cols = static_cast<int64_t>(bits.size());
  Lcg lcg{seed};
  std::vector<uint8_t> codes(static_cast<size_t>(rows * cols));
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) codes[i * cols + j] = static_cast<uint8_t>(lcg.next() % (1u << bits[j]));
  }
  const std::vector<uint8_t> expected = reference_stream(codes, rows, bits);
  CHECK_EQ(code_stream_bytes(rows, bits.data(), cols), static_cast<int64_t>(expected.size()));

  std::vector<uint8_t> stream(expected.size(), 0xa5);  // every byte must be written
  pack_code_stream(codes.data(), rows, cols, bits.data(), stream.data());
  CHECK(stream == expected);

  std::vector<uint8_t> unpacked(codes.size(), 0xa5);
  CHECK_EQ(unpack_code_stream(stream.data(), rows, cols, bits.data(), unpacked.data()), int64_t{-1});
  CHECK(unpacked == codes);
}

}  // namespace

CLAQ_TEST(code_stream_matches_reference_for_each_width) {
  for (int width = 1; width <= 8; ++width) {
    for (int64_t rows : {0, 1, 7, 63, 64, 65, 130, 200}) {
      check_round_trip(rows, std::vector<uint8_t>(5, static_cast<uint8_t>(width)), 11 + rows * width);
    }
  }
}

CLAQ_TEST(code_stream_matches_reference_for_mixed_widths) {
  const std::vector<uint8_t> bits = {2, 3, 4, 3, 2, 8, 1, 5, 4, 2, 6, 7};
  for (int64_t rows : {1, 3, 64, 127, 129, 257}) check_round_trip(rows, bits, 5 + rows);
}

CLAQ_TEST(code_stream_finds_nonzero_padding) {
  // 3 rows of 3 bits fill 9 bits: column 0 has 7 padding bits in byte 1.
  const std::vector<uint8_t> bits = {3, 3};
  std::vector<uint8_t> stream = {0x00, 0x00, 0x00, 0x00};
  std::vector<uint8_t> codes(6);
  CHECK_EQ(unpack_code_stream(stream.data(), 3, 2, bits.data(), codes.data()), int64_t{-1});
  stream[3] = 0x02;  // column 1's padding
  CHECK_EQ(unpack_code_stream(stream.data(), 3, 2, bits.data(), codes.data()), int64_t{1});
  stream[1] = 0x80;  // column 0's padding too: the first column is reported
  CHECK_EQ(unpack_code_stream(stream.data(), 3, 2, bits.data(), codes.data()), int64_t{0});
}

CLAQ_TEST(code_stream_masks_wide_codes) {
  // Code 7 in a 2-bit column keeps its low bits (3) and leaves the next code alone.
  const std::vector<uint8_t> bits = {2};
  const std::vector<uint8_t> codes = {7, 0, 1, 2};
  std::vector<uint8_t> stream(1);
  pack_code_stream(codes.data(), 4, 1, bits.data(), stream.data());
  CHECK_EQ(static_cast<int>(stream[0]), 0b10010011);
}
