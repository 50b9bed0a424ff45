#include "neuncut/graph/batch_affinity.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/fixed_order_sum.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "kernels/gemm.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut {

void gaussian_batch_affinity(const Eigen::Ref<const MatrixF>& batch, float sigma, MatrixF& W, VectorF& degree,
                             int threads, Precision precision) {
  const Index m = batch.rows();
  W.resize(m, m);
  degree.resize(m);
  const VectorF sq = batch.rowwise().squaredNorm();
  // The Gram matrix X X^T is symmetric: only its lower block triangle is computed, as
  // independent single-threaded products of kBlock x kBlock tiles spread over the threads.
  // That halves the step's largest product (2 m^2 d -> about m^2 d FLOPs) and, because each
  // tile is one product on one thread whatever the thread count, the result is the same at
  // any thread count. Panels of rows each run on all threads instead took as long as the full
  // product (docs/measurements.md).
  constexpr Index kBlock = 256;
  const Index blocks = (m + kBlock - 1) / kBlock;
  std::vector<std::pair<Index, Index>> tiles;  // (row block, column block), column <= row
  for (Index bi = 0; bi < blocks; ++bi)
    for (Index bj = 0; bj <= bi; ++bj) tiles.emplace_back(bi, bj);
  const float neg_inv_two_s2 = -1.0f / (2.0f * sigma * sigma);
  // bf16: the batch is rounded once and every tile reads its rows from there (kept per
  // thread, so a training loop does not allocate it every step).
  thread_local detail::Bf16Matrix rounded_here;
  detail::Bf16Matrix& rounded = rounded_here;  // the workers read this thread's copy, not their own
  if (precision == Precision::Bf16) rounded.assign(batch, threads);
  {
    // Inside an OpenMP region a product (oneDNN or Eigen) runs on the calling thread only; at
    // one thread the loop runs outside any region, so the thread count is pinned to 1 as well.
    detail::ThreadCountScope single(1);
    detail::parallel_for(0, Index(tiles.size()), threads, [&](Index t) {
      const Index r0 = tiles[t].first * kBlock, c0 = tiles[t].second * kBlock;
      const Index rows = std::min(kBlock, m - r0), cols = std::min(kBlock, m - c0);
      const bool diagonal = r0 == c0;
      if (precision == Precision::Bf16)
        detail::gemm(detail::gemm_operand(rounded, r0, rows), detail::gemm_operand(rounded, c0, cols, true),
                     W.data() + r0 * m + c0, m, precision);
      else
        detail::gemm(detail::gemm_operand(batch.middleRows(r0, rows)),
                     detail::gemm_operand(batch.middleRows(c0, cols), true), W.data() + r0 * m + c0, m, precision);
      // Distance and exp while the tile is in cache, then its mirror image into the upper
      // triangle. In a diagonal tile only j <= i is computed, and W_ii is set to 1 (the
      // rounded bf16 x_i.x_i would give d_ii != 0).
      for (Index r = 0; r < rows; ++r) {
        const Index i = r0 + r, width = diagonal ? r + 1 : cols;
        auto g = W.row(i).segment(c0, width).array();  // Eigen's vectorized exp: scalar std::exp was 3x slower
        g = ((sq.segment(c0, width).transpose().array() + sq[i] - 2.0f * g).max(0.0f) * neg_inv_two_s2).exp();
        if (diagonal) W(i, i) = 1.0f;
      }
      for (Index r = 0; r < rows; ++r)
        for (Index c = 0; c < (diagonal ? r : cols); ++c) W(c0 + c, r0 + r) = W(r0 + r, c0 + c);
    });
  }
  // Degrees: row sums in a fixed order (the same at any thread count).
  detail::parallel_for(0, m, threads, [&](Index i) { degree[i] = detail::fixed_order_sum(W.row(i).data(), m); });
}

double estimate_sigma(const Eigen::Ref<const MatrixF>& data, const SigmaRule& rule, int threads) {
  NEUNCUT_REQUIRE(rule.neighbor >= 1, InvalidArgument, "sigma neighbour rank must be >= 1, got ", rule.neighbor);
  NEUNCUT_REQUIRE(rule.scale > 0, InvalidArgument, "sigma scale must be > 0, got ", rule.scale);
  const Index m = std::min(data.rows(), rule.sample_size);
  NEUNCUT_REQUIRE(m > (rule.pairwise_median ? 1 : rule.neighbor), InvalidArgument, "cannot estimate sigma from ", m,
                  " points with neighbour rank ", rule.neighbor, "; give sigma explicitly");
  detail::Rng rng(rule.seed);
  const auto rows = rng.sample_without_replacement(data.rows(), m);
  MatrixF sample(m, data.cols());
  for (Index i = 0; i < m; ++i) sample.row(i) = data.row(rows[i]);
  MatrixF gram;
  {
    detail::ThreadCountScope scope(threads);
    gram.noalias() = sample * sample.transpose();
  }
  const VectorF sq = sample.rowwise().squaredNorm();
  if (rule.pairwise_median) {
    // The median of the squared distances, then one square root (sqrt is monotonic).
    std::vector<float> d2;
    d2.reserve(static_cast<std::size_t>(m * (m - 1) / 2));
    for (Index i = 1; i < m; ++i)
      for (Index j = 0; j < i; ++j) d2.push_back(std::max(sq[i] + sq[j] - 2.0f * gram(i, j), 0.0f));
    std::nth_element(d2.begin(), d2.begin() + d2.size() / 2, d2.end());
    const double median = std::sqrt(double(d2[d2.size() / 2]));
    NEUNCUT_REQUIRE(
        median > 0, InvalidArgument,
        "cannot estimate sigma: most sampled points are duplicates (median distance 0); give sigma explicitly");
    return rule.scale * 2.0 * median;
  }
  std::vector<double> kth(static_cast<std::size_t>(m));
  detail::parallel_for(0, m, threads, [&](Index i) {
    std::vector<float> d2(static_cast<std::size_t>(m));
    for (Index j = 0; j < m; ++j) d2[j] = std::max(sq[i] + sq[j] - 2.0f * gram(i, j), 0.0f);
    d2[i] = -1.0f;  // self sorts first and is skipped: rank m is the m-th other point
    std::nth_element(d2.begin(), d2.begin() + rule.neighbor, d2.end());
    kth[i] = std::sqrt(double(d2[rule.neighbor]));
  });
  std::nth_element(kth.begin(), kth.begin() + m / 2, kth.end());
  const double median = kth[m / 2];
  NEUNCUT_REQUIRE(median > 0, InvalidArgument, "cannot estimate sigma: the data has too many duplicate points (",
                  "median distance to neighbour ", rule.neighbor, " is 0); give sigma explicitly");
  return rule.scale * median;
}

}  // namespace neuncut
