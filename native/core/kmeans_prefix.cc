#include "core/kmeans_prefix.h"

#include <algorithm>

namespace claq {
namespace {

constexpr size_t kInversePadding = 16;  // zeros below count 1 (kernels/kmeans_dp.h)

}  // namespace

InverseTables grow_inverse_tables(int64_t n, KMeansWorkspace& ws) {
  // 1/c replaces a division per cost evaluation by a multiplication.
  const size_t needed = static_cast<size_t>(n) + 17 + kInversePadding;
  if (ws.inverse_count.size() < needed) {
    const size_t old_size = ws.inverse_count.size();
    ws.inverse_count.resize(needed, 0.0);
    const size_t first = std::max(old_size, kInversePadding + 1);
    for (size_t t = first; t < needed; ++t) {
      ws.inverse_count[t] = 1.0 / static_cast<double>(t - kInversePadding);
    }
    ws.inverse_count_reversed.assign(ws.inverse_count.rbegin(), ws.inverse_count.rend());
  }
  return {ws.inverse_count.data() + kInversePadding,
          ws.inverse_count_reversed.data() + ws.inverse_count_reversed.size() - 1 -
              kInversePadding};
}

void build_prefix_sums(const float* sorted, int64_t n, const KMeansDpKernels& kernels,
                       bool one_cluster_layer, KMeansWorkspace& ws) {
  const InverseTables inverse = grow_inverse_tables(n, ws);
  ws.prefix_sum.resize(static_cast<size_t>(n) + 1);
  ws.prefix_square_sum.resize(static_cast<size_t>(n) + 1);
  if (one_cluster_layer) ws.previous_layer.resize(static_cast<size_t>(n) + 1);
  kernels.prefix(sorted, n, sorted[n / 2], inverse.by_count, ws.prefix_sum.data(),
                 ws.prefix_square_sum.data(), one_cluster_layer ? ws.previous_layer.data() : nullptr);
}

}  // namespace claq
