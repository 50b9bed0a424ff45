// The batch affinity NeuNcut's loss is computed on: the Gaussian kernel against a direct
// evaluation (blocked, threaded and bf16 paths), and the sigma rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/random.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/graph/batch_affinity.hpp"

using namespace neuncut;

TEST(BatchAffinity, MatchesDirectGaussianKernel) {
  detail::Rng rng(3);
  MatrixF X(40, 6);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = float(rng.normal());
  MatrixF W;
  VectorF deg;
  gaussian_batch_affinity(X, 1.3f, W, deg, 2);
  for (Index i = 0; i < 40; ++i) {
    double sum = 0;
    for (Index j = 0; j < 40; ++j) {
      const double expected = std::exp(-(X.row(i) - X.row(j)).cast<double>().squaredNorm() / (2 * 1.3 * 1.3));
      EXPECT_NEAR(W(i, j), expected, 1e-5);
      EXPECT_EQ(W(i, j), W(j, i));
      sum += W(i, j);
    }
    EXPECT_NEAR(deg[i], sum, 1e-4);
  }
}

TEST(BatchAffinity, BlockedSymmetricPathMatchesDirectKernelAtAnyThreadCount) {
  // 600 rows span several 256-row tiles, including a ragged last one.
  detail::Rng rng(5);
  MatrixF X(600, 17);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = float(rng.normal());
  MatrixF W1, W2;
  VectorF d1, d2;
  gaussian_batch_affinity(X, 4.0f, W1, d1, 1);
  gaussian_batch_affinity(X, 4.0f, W2, d2, 2);
  EXPECT_TRUE(W1 == W2);
  EXPECT_TRUE(d1 == d2);
  double worst = 0;
  for (Index i = 0; i < 600; i += 7)
    for (Index j = 0; j < 600; ++j) {
      const double expected = std::exp(-(X.row(i) - X.row(j)).cast<double>().squaredNorm() / (2 * 16.0));
      worst = std::max(worst, std::abs(W1(i, j) - expected));
      ASSERT_EQ(W1(i, j), W1(j, i));
    }
  EXPECT_LT(worst, 1e-5);
  EXPECT_NEAR(d1[599], W1.row(599).cast<double>().sum(), 1e-3);
}

// With bf16, the Gram matrix's operands are rounded to 8 significant bits: for unit rows
// |x_i.x_j error| <= e = (2u + u^2)(1 + gamma_d) + gamma_d, u = 2^-8 (see test_gemm.cpp),
// the squared distance is off by at most 2e, and since exp(-t) is 1-Lipschitz for t >= 0,
// W_ij by at most 2e / (2 sigma^2). The diagonal stays exactly 1 and W exactly symmetric.
TEST(BatchAffinity, Bf16GramOnUnitRowsStaysWithinItsBound) {
  if (!bf16_available()) GTEST_SKIP() << "bf16 unavailable: " << bf16_unavailable_reason();
  detail::Rng rng(4);
  const Index m = 300, d = 100;
  MatrixF X(m, d);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = float(rng.normal());
  X.rowwise().normalize();
  for (float sigma : {0.3f, 1.0f}) {
    MatrixF W32, W16;
    VectorF deg32, deg16;
    gaussian_batch_affinity(X, sigma, W32, deg32, 2);
    gaussian_batch_affinity(X, sigma, W16, deg16, 2, Precision::Bf16);
    const double u = std::ldexp(1.0, -8), gamma = double(d) * std::ldexp(1.0, -24);
    const double e = (2 * u + u * u) * (1 + gamma) + gamma;
    const double bound = 2 * e / (2.0 * sigma * sigma) + 1e-5;  // + fp32 arithmetic of both paths
    EXPECT_LE((W16 - W32).cwiseAbs().maxCoeff(), bound) << "sigma " << sigma;
    EXPECT_LE((deg16 - deg32).cwiseAbs().maxCoeff(), double(m) * bound) << "sigma " << sigma;
    EXPECT_GT((W16 - W32).cwiseAbs().maxCoeff(), 0.0f) << "bf16 did not run";
    EXPECT_EQ(W16, W16.transpose().eval());
    EXPECT_EQ(W16.diagonal().minCoeff(), 1.0f);
    // The tiles are the same products whatever thread runs them.
    MatrixF W16_one;
    VectorF deg16_one;
    gaussian_batch_affinity(X, sigma, W16_one, deg16_one, 1, Precision::Bf16);
    EXPECT_TRUE(W16_one == W16) << "sigma " << sigma;
    EXPECT_TRUE(deg16_one == deg16) << "sigma " << sigma;
  }
}

TEST(BatchAffinity, SigmaEstimateIsMedianNeighbourDistanceAndScales) {
  // Points on a line at spacing 1: the distance to the 2nd neighbour is 1 for all points
  // except the two ends (2); the median is 1.
  MatrixF X(101, 1);
  for (Index i = 0; i < 101; ++i) X(i, 0) = float(i);
  SigmaRule rule;
  rule.neighbor = 2;
  rule.sample_size = 101;
  EXPECT_NEAR(estimate_sigma(X, rule, 1), 1.0, 1e-6);
  const MatrixF X3 = X * 3.0f;  // the rule follows the data's units
  EXPECT_NEAR(estimate_sigma(X3, rule, 1), 3.0, 1e-5);
  rule.scale = 0.5;
  EXPECT_NEAR(estimate_sigma(X3, rule, 1), 1.5, 1e-5);
}

TEST(BatchAffinity, SigmaMedianRuleIsTwiceTheMedianPairwiseDistance) {
  // Points 0..100 on a line (sample = all): pairwise distances |i - j|; their median over the
  // 5050 pairs, counted by brute force.
  MatrixF X(101, 1);
  for (Index i = 0; i < 101; ++i) X(i, 0) = float(i);
  std::vector<double> d;
  for (Index i = 0; i < 101; ++i)
    for (Index j = 0; j < i; ++j) d.push_back(double(i - j));
  std::sort(d.begin(), d.end());
  SigmaRule rule;
  rule.pairwise_median = true;
  rule.sample_size = 101;
  EXPECT_NEAR(estimate_sigma(X, rule, 1), 2.0 * d[d.size() / 2], 1e-4);
  rule.scale = 0.5;
  EXPECT_NEAR(estimate_sigma(X * 4.0f, rule, 1), 4.0 * d[d.size() / 2], 1e-3);
  rule.scale = 1.0;
  EXPECT_THROW(estimate_sigma(MatrixF::Ones(50, 3), rule, 1), InvalidArgument);  // all duplicates
}

TEST(BatchAffinity, SigmaEstimateRejectsDegenerateData) {
  MatrixF same = MatrixF::Ones(50, 3);
  EXPECT_THROW(estimate_sigma(same, SigmaRule{}, 1), InvalidArgument);
  MatrixF tiny = MatrixF::Random(5, 3);
  EXPECT_THROW(estimate_sigma(tiny, SigmaRule{}, 1), InvalidArgument);  // 5 points, neighbour 10
}
