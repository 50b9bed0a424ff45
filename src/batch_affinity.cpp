#include "neuncut/batch_affinity.hpp"

#include <algorithm>
#include <cmath>

#include "neuncut/error.hpp"
#include "parallel.hpp"
#include "random.hpp"

namespace neuncut {

void gaussian_batch_affinity(const Eigen::Ref<const MatrixF>& batch, float sigma, MatrixF& W, VectorF& degree,
                             int threads) {
  const Index m = batch.rows();
  W.resize(m, m);
  degree.resize(m);
  {
    detail::ThreadCountScope scope(threads);
    W.noalias() = batch * batch.transpose();  // Gram matrix: the one GEMM of the affinity
  }
  const VectorF sq = batch.rowwise().squaredNorm();
  const float neg_inv_two_s2 = -1.0f / (2.0f * sigma * sigma);
  // Fused: distance from the Gram matrix, exp, and the degree, in one pass over W.
  detail::parallel_for(0, m, threads, [&](Index i) {
    float* row = W.row(i).data();
    float sum = 0.0f;
    for (Index j = 0; j < m; ++j) {
      const float dist2 = std::max(sq[i] + sq[j] - 2.0f * row[j], 0.0f);
      row[j] = std::exp(dist2 * neg_inv_two_s2);
      sum += row[j];
    }
    degree[i] = sum;
  });
}

double estimate_sigma(const Eigen::Ref<const MatrixF>& data, const SigmaRule& rule, int threads) {
  NEUNCUT_REQUIRE(rule.neighbor >= 1, InvalidArgument, "sigma neighbour rank must be >= 1, got ", rule.neighbor);
  NEUNCUT_REQUIRE(rule.scale > 0, InvalidArgument, "sigma scale must be > 0, got ", rule.scale);
  const Index m = std::min(data.rows(), rule.sample_size);
  NEUNCUT_REQUIRE(m > rule.neighbor, InvalidArgument, "cannot estimate sigma from ", m, " points with neighbour rank ",
                  rule.neighbor, "; give sigma explicitly");
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
