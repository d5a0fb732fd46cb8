#include "core/finite.h"

#include <cstring>

namespace claq {
namespace {

// An exponent of all ones means NaN or infinity. The test on those bits has
// no branch, so the compiler vectorizes the chunk loop. Only a chunk with a
// hit is scanned again to find its first index.
constexpr int64_t kChunk = 1024;

template <typename Bits, typename Value>
int64_t first_non_finite(const Value* data, int64_t count, Bits exponent_mask) {
  for (int64_t start = 0; start < count; start += kChunk) {
    const int64_t end = count - start < kChunk ? count : start + kChunk;
    Bits hit = 0;
    for (int64_t i = start; i < end; ++i) {
      Bits bits;
      std::memcpy(&bits, &data[i], sizeof(bits));
      hit |= static_cast<Bits>((bits & exponent_mask) == exponent_mask);
    }
    if (hit == 0) continue;
    for (int64_t i = start; i < end; ++i) {
      Bits bits;
      std::memcpy(&bits, &data[i], sizeof(bits));
      if ((bits & exponent_mask) == exponent_mask) return i;
    }
  }
  return -1;
}

}  // namespace

int64_t copy_first_non_finite_f32(const float* from, float* to, int64_t count) {
  constexpr uint32_t kExponent = 0x7F800000u;
  for (int64_t start = 0; start < count; start += kChunk) {
    const int64_t end = count - start < kChunk ? count : start + kChunk;
    uint32_t hit = 0;
    for (int64_t i = start; i < end; ++i) {
      uint32_t bits;
      std::memcpy(&bits, &from[i], sizeof(bits));
      std::memcpy(&to[i], &bits, sizeof(bits));
      hit |= static_cast<uint32_t>((bits & kExponent) == kExponent);
    }
    if (hit != 0) return start + first_non_finite<uint32_t>(from + start, end - start, kExponent);
  }
  return -1;
}

int64_t first_non_finite_f32(const float* data, int64_t count) {
  return first_non_finite<uint32_t>(data, count, 0x7F800000u);
}

int64_t first_non_finite_f64(const double* data, int64_t count) {
  return first_non_finite<uint64_t>(data, count, 0x7FF0000000000000ull);
}

}  // namespace claq
