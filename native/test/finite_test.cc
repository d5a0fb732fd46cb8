// first_non_finite_f32/f64 and copy_first_non_finite_f32 against a plain
// std::isfinite scan, with hits at chunk boundaries and the largest finite
// values, subnormals and -0 as misses.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/finite.h"
#include "test/test_framework.h"

using namespace claq;

namespace {

template <typename T>
int64_t reference_first(const std::vector<T>& data) {
  for (size_t i = 0; i < data.size(); ++i) {
    if (!std::isfinite(data[i])) return static_cast<int64_t>(i);
  }
  return -1;
}

template <typename T>
void check_type(int64_t (*scan)(const T*, int64_t)) {
  const T specials[] = {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                        -std::numeric_limits<T>::infinity()};
  const T finite[] = {std::numeric_limits<T>::max(), -std::numeric_limits<T>::max(),
                      std::numeric_limits<T>::denorm_min(), T(-0.0), T(1)};
  for (size_t n : {0, 1, 7, 1023, 1024, 1025, 3000}) {
    std::vector<T> data(n);
    for (size_t i = 0; i < n; ++i) data[i] = finite[i % 5];
    CHECK_EQ(scan(data.data(), static_cast<int64_t>(n)), int64_t{-1});

    for (size_t position : {size_t{0}, n / 2, n > 0 ? n - 1 : 0, size_t{1023}, size_t{1024}}) {
      if (position >= n) continue;
      for (T special : specials) {
        std::vector<T> with_hit = data;
        with_hit[position] = special;
        if (position + 5 < n) with_hit[position + 5] = special;  // a later hit must not win
        CHECK_EQ(scan(with_hit.data(), static_cast<int64_t>(n)), reference_first(with_hit));
      }
    }
  }
}

}  // namespace

CLAQ_TEST(first_non_finite_f32_finds_the_first_nan_or_inf) { check_type<float>(first_non_finite_f32); }

CLAQ_TEST(first_non_finite_f64_finds_the_first_nan_or_inf) { check_type<double>(first_non_finite_f64); }

CLAQ_TEST(copy_first_non_finite_f32_copies_and_finds_the_first_hit) {
  // A float-only wrapper over the copy, so check_type can drive it like the scans.
  static std::vector<float> target;
  const auto copy_and_scan = [](const float* data, int64_t count) {
    target.assign(static_cast<size_t>(count) + 1, 7.0f);
    const int64_t index = copy_first_non_finite_f32(data, target.data(), count);
    // Everything before the hit is copied, and nothing past the count.
    const int64_t copied = index < 0 ? count : index;
    for (int64_t i = 0; i < copied; ++i) CHECK(std::memcmp(&target[i], &data[i], sizeof(float)) == 0);
    CHECK_EQ(target[count], 7.0f);
    return index;
  };
  check_type<float>(copy_and_scan);
}
