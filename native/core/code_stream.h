// The code stream of a claq checkpoint (docs/FORMAT.md): column by column in
// original column order, each column's `rows` codes of bits[j] bits packed
// LSB first into whole bytes, the last byte of a column padded with zero
// bits. Codes in memory are row-major [rows, cols], one byte each.
#pragma once

#include <cstdint>

namespace claq {

// Bytes of the stream: the sum over columns of ceil(rows * bits[j] / 8).
int64_t code_stream_bytes(int64_t rows, const uint8_t* bits, int64_t cols);

// Writes every byte of `stream` (code_stream_bytes long). Each code is
// masked to its column's width. Requires 1 <= bits[j] <= 8.
void pack_code_stream(const uint8_t* codes, int64_t rows, int64_t cols, const uint8_t* bits, uint8_t* stream);

// Writes every code of `codes` [rows, cols] from `stream` (code_stream_bytes
// long). Returns the first column whose padding bits are not zero, or -1.
// Requires 1 <= bits[j] <= 8.
int64_t unpack_code_stream(const uint8_t* stream, int64_t rows, int64_t cols, const uint8_t* bits, uint8_t* codes);

// The index (row * cols + column) of the first code above its column's
// largest[column], or -1 when there is none.
int64_t first_code_above(const uint8_t* codes, int64_t rows, int64_t cols, const uint8_t* largest);

}  // namespace claq
