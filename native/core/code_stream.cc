#include "core/code_stream.h"

#include <algorithm>
#include <vector>

namespace claq {
namespace {

// Rows per pass. 64 codes of b bits are 8b whole bytes, so every pass starts
// each column's part of the stream on a byte.
constexpr int64_t kPassRows = 64;
// Columns per tile: a pass goes through a local tile of 64 x 64 codes, read
// or written row by row in memory. Going down a column of the row-major
// codes directly touches addresses `cols` bytes apart, which map to the same
// L1 sets when cols is a multiple of 4096, and ran 4 times slower.
constexpr int64_t kTileColumns = 64;

struct Tile {
  uint8_t codes[kTileColumns][kPassRows];  // [column][row]
};

// Calls visit(first row, row count, first column, column count) for each
// tile, passes of rows outermost.
template <typename Visit>
void for_each_tile(int64_t rows, int64_t cols, Visit visit) {
  if (cols == 0) return;  // no work, however many rows
  for (int64_t first = 0; first < rows; first += kPassRows) {
    const int64_t count = std::min(kPassRows, rows - first);
    for (int64_t c0 = 0; c0 < cols; c0 += kTileColumns) visit(first, count, c0, std::min(kTileColumns, cols - c0));
  }
}

int64_t column_bytes(int64_t rows, int bits) { return (rows * bits + 7) / 8; }

std::vector<int64_t> column_starts(int64_t rows, const uint8_t* bits, int64_t cols) {
  std::vector<int64_t> starts(static_cast<size_t>(cols));
  int64_t start = 0;
  for (int64_t j = 0; j < cols; ++j) {
    starts[j] = start;
    start += column_bytes(rows, bits[j]);
  }
  return starts;
}

// Packs the `count` codes of one column at `codes` into whole bytes from
// `out`, the last one partly filled.
template <int kBits>
void pack_run(const uint8_t* codes, int64_t count, uint8_t* out) {
  constexpr uint32_t kMask = (1u << kBits) - 1;
  uint64_t pending = 0;  // bits not written yet, lowest first
  int filled = 0;
  for (int64_t i = 0; i < count; ++i) {
    pending |= uint64_t{codes[i] & kMask} << filled;
    filled += kBits;
    if (filled >= 8) {
      *out++ = static_cast<uint8_t>(pending);
      pending >>= 8;
      filled -= 8;
    }
  }
  if (filled > 0) *out = static_cast<uint8_t>(pending);
}

// Unpacks `count` codes of one column from the bytes at `in` into `codes`,
// reading only the bytes those codes occupy.
template <int kBits>
void unpack_run(const uint8_t* in, int64_t count, uint8_t* codes) {
  constexpr uint32_t kMask = (1u << kBits) - 1;
  uint64_t pending = 0;
  int available = 0;
  for (int64_t i = 0; i < count; ++i) {
    if (available < kBits) {
      pending |= uint64_t{*in++} << available;
      available += 8;
    }
    codes[i] = static_cast<uint8_t>(pending & kMask);
    pending >>= kBits;
    available -= kBits;
  }
}

using PackRunFn = void (*)(const uint8_t*, int64_t, uint8_t*);
using UnpackRunFn = void (*)(const uint8_t*, int64_t, uint8_t*);

// The runs for widths 1 to 8, indexed by width.
constexpr PackRunFn kPackRuns[9] = {nullptr, pack_run<1>, pack_run<2>, pack_run<3>, pack_run<4>,
                                    pack_run<5>, pack_run<6>, pack_run<7>, pack_run<8>};
constexpr UnpackRunFn kUnpackRuns[9] = {nullptr, unpack_run<1>, unpack_run<2>, unpack_run<3>, unpack_run<4>,
                                        unpack_run<5>, unpack_run<6>, unpack_run<7>, unpack_run<8>};

}  // namespace

int64_t first_code_above(const uint8_t* codes, int64_t rows, int64_t cols, const uint8_t* largest) {
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = codes + r * cols;
    // A whole row first, without an early exit, so the compiler vectorizes it.
    uint8_t above = 0;
    for (int64_t j = 0; j < cols; ++j) above |= static_cast<uint8_t>(row[j] > largest[j]);
    if (above == 0) continue;
    for (int64_t j = 0; j < cols; ++j) {
      if (row[j] > largest[j]) return r * cols + j;
    }
  }
  return -1;
}

int64_t code_stream_bytes(int64_t rows, const uint8_t* bits, int64_t cols) {
  int64_t total = 0;
  for (int64_t j = 0; j < cols; ++j) total += column_bytes(rows, bits[j]);
  return total;
}

void pack_code_stream(const uint8_t* codes, int64_t rows, int64_t cols, const uint8_t* bits, uint8_t* stream) {
  const std::vector<int64_t> starts = column_starts(rows, bits, cols);
  Tile tile;
  for_each_tile(rows, cols, [&](int64_t first, int64_t count, int64_t c0, int64_t width) {
    for (int64_t i = 0; i < count; ++i) {
      const uint8_t* row = codes + (first + i) * cols + c0;
      for (int64_t jj = 0; jj < width; ++jj) tile.codes[jj][i] = row[jj];
    }
    for (int64_t j = c0; j < c0 + width; ++j) {
      kPackRuns[bits[j]](tile.codes[j - c0], count, stream + starts[j] + first * bits[j] / 8);
    }
  });
}

int64_t unpack_code_stream(const uint8_t* stream, int64_t rows, int64_t cols, const uint8_t* bits, uint8_t* codes) {
  const std::vector<int64_t> starts = column_starts(rows, bits, cols);
  Tile tile;
  for_each_tile(rows, cols, [&](int64_t first, int64_t count, int64_t c0, int64_t width) {
    for (int64_t j = c0; j < c0 + width; ++j) {
      kUnpackRuns[bits[j]](stream + starts[j] + first * bits[j] / 8, count, tile.codes[j - c0]);
    }
    for (int64_t i = 0; i < count; ++i) {
      uint8_t* row = codes + (first + i) * cols + c0;
      for (int64_t jj = 0; jj < width; ++jj) row[jj] = tile.codes[jj][i];
    }
  });

  for (int64_t j = 0; j < cols; ++j) {
    const int64_t bytes = column_bytes(rows, bits[j]);
    const int64_t used = rows * bits[j] - (bytes - 1) * 8;  // bits used in the last byte
    if (bytes > 0 && used < 8 && (stream[starts[j] + bytes - 1] >> used) != 0) return j;
  }
  return -1;
}

}  // namespace claq
