// The packed in-memory form of a quantized layer, shared by the packer
// (core/pack.cc) and every kernel that reads it (lut_gemv_*, packed_gemm_*).
//
// Columns are reordered into the packed order: grouped by code width (2, then
// 3, then 4 bits), act order inside a group, each group padded with empty
// columns to a whole number of column blocks. The permutation is applied to
// the activations (x_packed[p] = x[column_source[p]]), never to the weights.
//
// Within a group the codes form tiles of kPackedTileRows consecutive rows of
// one column block. Row r of a tile owns `words` 32-bit words, read as one
// little-endian bit string, and column c of the block sits at bits
// [bits * c, bits * c + bits). The tile stores word w of every row together
// (a "word plane"), so one 512-bit load reads word w of all 16 rows:
//
//   tile (2-bit, 16 columns):   plane 0: [row0 w0][row1 w0] ... [row15 w0]
//   tile (3-bit, 32 columns):   plane 0: [row0 w0] ... [row15 w0]
//                               plane 1: [row0 w1] ... [row15 w1]
//                               plane 2: [row0 w2] ... [row15 w2]
//   bits of one 3-bit row:      w0: c0..c9, c10 bits 0-1 | w1: c10 bit 2,
//                               c11..c20, c21 bit 0 | w2: c21 bits 1-2, c22..c31
//
// Tiles are ordered row panel -> group -> column block -> row tile -> word
// plane -> row. A row panel is kPanelTiles consecutive row tiles (the last
// one may be shorter), so one thread's rows are one contiguous stretch of
// memory, and a kernel that sweeps a panel's tiles block by block streams it
// front to back:
//
//   codes: [panel 0: [group 2-bit: [block 0: tile 0 .. tile 31][block 1: ...]]
//                    [group 3-bit: ...][group 4-bit: ...]]
//          [panel 1: ...] ...
//
// Rows beyond `rows` in the last tile and padding columns hold code 0;
// padding columns have all-zero codebooks, so they add exact zeros.
//
// Look-up slots: a kernel reads 4-bit windows of a row's bit string and looks
// each up in a 16-entry table. For 4-bit codes a window is one column; for
// 2-bit codes a window is two adjacent columns (table entry n covers
// codes n & 3 and n >> 2); for 3-bit codes the window starts at the column
// and its top bit belongs to the next column, so the table repeats its 8
// entries twice and that bit does not matter.
//
// Reserved outliers are stored in compressed sparse column form over the
// packed columns, as the correction value - centroid, so the dense pass uses
// the centroid everywhere with no branch and the sparse pass adds the rest.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "kernels/huge_pages.h"

namespace claq {

// Rows per tile: one 512-bit register of float32 or uint32 lanes.
constexpr int kPackedTileRows = 16;

// Row tiles per row panel (512 rows). The GEMV's slice of y (2 KiB) stays in
// L1 while the panel's column blocks stream past. The look-up tables are read
// once per block and panel: 512 bytes beside 2 KiB of codes for 2- and 4-bit
// blocks, 2 KiB beside 6 KiB for 3-bit blocks, from L2 once a layer's tables
// outgrow L1. They do not set the speed: on the Intel Xeon, 2- and 4-bit
// GEMV on 65536 x 256 layers (8 KiB of tables) streamed codes as fast as on
// 4096 x 4096 layers (128 KiB), `node dist/bench/packed.js --gemv --shapes
// 65536x256,4096x4096 --configs 2,4`.
constexpr int64_t kPanelTiles = 32;

// Byte alignment of the code array: one cache line and one ZMM load.
constexpr size_t kPackedAlignment = 64;

// One code width's tile geometry. The packer and every kernel read it from
// packed_tile_format(), so the layout has a single definition.
struct PackedTileFormat {
  uint8_t bits;           // code width
  uint8_t block_columns;  // columns per column block (one tile's width)
  uint8_t words;          // 32-bit words per row of a tile (bits * block_columns / 32)
  uint8_t slots;          // 4-bit look-up windows per row of a tile
};
static_assert(sizeof(PackedTileFormat) == 4, "PackedTileFormat must stay 4 bytes");

constexpr PackedTileFormat kPackedTile2{2, 16, 1, 8};
constexpr PackedTileFormat kPackedTile3{3, 32, 3, 32};
constexpr PackedTileFormat kPackedTile4{4, 8, 1, 8};
static_assert(kPackedTile2.bits * kPackedTile2.block_columns == 32 * kPackedTile2.words, "2-bit tile");
static_assert(kPackedTile3.bits * kPackedTile3.block_columns == 32 * kPackedTile3.words, "3-bit tile");
static_assert(kPackedTile4.bits * kPackedTile4.block_columns == 32 * kPackedTile4.words, "4-bit tile");

// The format for `bits` (2, 3 or 4); nullptr for any other width.
inline const PackedTileFormat* packed_tile_format(int bits) {
  switch (bits) {
    case 2: return &kPackedTile2;
    case 3: return &kPackedTile3;
    case 4: return &kPackedTile4;
    default: return nullptr;
  }
}

// Uint32 words of one tile (all planes).
inline int64_t packed_tile_words(const PackedTileFormat& format) {
  return int64_t{format.words} * kPackedTileRows;
}

// A 64-byte aligned array, so SIMD kernels may use aligned loads on tiles.
// One zeroed 64-byte line follows the last element, so a kernel may read a
// tile through unaligned loads that run up to 63 bytes past it. Arrays of 2
// MiB and more start on a 2 MiB boundary and ask for huge pages
// (kernels/huge_pages.h). A GEMV streams them, and it ran 5 to 10 % faster
// with huge pages than with 4 KiB pages (`npm run bench:packed`, Intel Xeon).
template <typename T>
class AlignedArray {
 public:
  AlignedArray() = default;
  explicit AlignedArray(size_t count) { reset(count); }

  // Allocates `count` zeroed elements; returns false when the allocation fails.
  bool reset(size_t count) {
    data_.reset();
    size_ = 0;
    if (count == 0) return true;
    const size_t bytes =
        (count * sizeof(T) + kPackedAlignment - 1) / kPackedAlignment * kPackedAlignment + kPackedAlignment;
    const bool huge = bytes >= kHugePageBytes;
    const size_t rounded = huge ? (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes
                                : bytes;
    void* memory = std::aligned_alloc(huge ? kHugePageBytes : kPackedAlignment, rounded);
    if (memory == nullptr) return false;
    if (huge) advise_huge_pages(memory, rounded);
    std::fill_n(static_cast<unsigned char*>(memory), bytes, 0);
    data_.reset(static_cast<T*>(memory));
    size_ = count;
    return true;
  }

  // Makes room for `count` elements, reallocating (zeroed) only when the
  // array is smaller; for reusable scratch. Returns false when allocation fails.
  bool grow(size_t count) { return count <= size_ || reset(count); }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }
  T& operator[](size_t i) { return data_.get()[i]; }
  const T& operator[](size_t i) const { return data_.get()[i]; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  size_t size_ = 0;
};

// One code width's columns, contiguous in the packed order.
struct PackedGroup {
  const PackedTileFormat* format = nullptr;
  int64_t column_begin = 0;    // first packed column of the group
  int64_t columns = 0;         // real columns (the rest of the last block is padding)
  int64_t blocks = 0;          // column blocks: ceil(columns / block_columns)
  int64_t panel_word_offset = 0; // words per row tile of the groups before this one
  int64_t slot_offset = 0;       // first look-up slot of the group (slots of blocks before it)
  int64_t codebook_offset = 0;   // first float of the group in PackedLayer::codebooks
};

struct PackedLayer {
  int64_t rows = 0;
  int64_t cols = 0;             // original columns
  int64_t row_tiles = 0;        // ceil(rows / kPackedTileRows)
  int64_t packed_columns = 0;   // columns in the packed order, padding included
  int64_t panels = 0;           // ceil(row_tiles / kPanelTiles)
  int64_t tile_row_words = 0;   // words of one row tile across every group and block
  int64_t slots = 0;            // look-up slots across every group and block

  std::vector<PackedGroup> groups;    // ascending bits; empty widths are left out
  AlignedArray<uint32_t> codes;       // the tiles of every group
  std::vector<float> codebooks;       // per packed column, 2^bits ascending centroids (zeros for padding)
  std::vector<int32_t> column_source; // [packed_columns]: original column, or -1 for padding

  // Reserved outliers, compressed sparse column over packed columns: column p's
  // entries are [outlier_column_start[p], outlier_column_start[p + 1]), rows
  // ascending, each storing value - centroid.
  std::vector<uint32_t> outlier_column_start; // [packed_columns + 1]
  std::vector<int32_t> outlier_rows;
  std::vector<float> outlier_corrections;

  // Storage bits per weight: the bytes of the layer in a claq checkpoint
  // (docs/FORMAT.md) x 8 / (rows * cols), computed by the packer.
  double storage_bits_per_weight = 0;

  // Bytes of memory this object owns.
  size_t bytes() const {
    return codes.size() * sizeof(uint32_t) + codebooks.size() * sizeof(float) +
           column_source.size() * sizeof(int32_t) + outlier_column_start.size() * sizeof(uint32_t) +
           outlier_rows.size() * sizeof(int32_t) + outlier_corrections.size() * sizeof(float);
  }
};

// Offset in PackedLayer::codes of the first word of tile (block, tile) of `group`.
inline int64_t packed_tile_offset(const PackedLayer& layer, const PackedGroup& group, int64_t block, int64_t tile) {
  const int64_t first = tile / kPanelTiles * kPanelTiles;
  const int64_t count = std::min(kPanelTiles, layer.row_tiles - first);
  return first * layer.tile_row_words + group.panel_word_offset * count +
         (block * count + (tile - first)) * packed_tile_words(*group.format);
}

// Pointer to the first word of tile (block, tile) of `group`. The tiles of one
// block within a row panel are consecutive.
inline const uint32_t* packed_tile(const PackedLayer& layer, const PackedGroup& group, int64_t block,
                                   int64_t tile) {
  return layer.codes.data() + packed_tile_offset(layer, group, block, tile);
}

// Code of row `lane` of a tile for column `column` of its block (scalar reading).
inline unsigned packed_tile_code(const uint32_t* tile, const PackedTileFormat& format, int lane, int column) {
  const int bit = format.bits * column;
  const int word = bit / 32;
  const int shift = bit % 32;
  uint64_t window = tile[word * kPackedTileRows + lane] >> shift;
  if (shift + format.bits > 32) {
    window |= uint64_t{tile[(word + 1) * kPackedTileRows + lane]} << (32 - shift);
  }
  return static_cast<unsigned>(window) & ((1u << format.bits) - 1);
}

}  // namespace claq
