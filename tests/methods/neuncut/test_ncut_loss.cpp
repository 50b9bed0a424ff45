// The NeuNcut batch loss: analytic gradient against finite differences (through the loss
// alone and through the softmax), closed-form values, and invariances.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <vector>

#include "fixed_order_sum.hpp"
#include "neuncut/batch_affinity.hpp"
#include "neuncut/ncut_loss.hpp"
#include "neuncut/error.hpp"
#include "neuncut/precision.hpp"
#include "random.hpp"

using namespace neuncut;
using MatD = Eigen::Matrix<double, -1, -1, Eigen::RowMajor>;
using VecD = Eigen::VectorXd;

namespace {

// A random symmetric affinity with unit diagonal and positive entries, and its degrees.
void random_affinity(Index m, std::uint64_t seed, MatD& W, VecD& d) {
  detail::Rng rng(seed);
  W.resize(m, m);
  for (Index i = 0; i < m; ++i)
    for (Index j = 0; j <= i; ++j) W(i, j) = W(j, i) = (i == j) ? 1.0 : rng.uniform(0.01, 1.0);
  d = W.rowwise().sum();
}

MatD random_logits(Index m, Index k, std::uint64_t seed, double scale = 1.0) {
  detail::Rng rng(seed);
  MatD Z(m, k);
  for (Index i = 0; i < Z.size(); ++i) Z.data()[i] = scale * rng.normal();
  return Z;
}

MatD softmax(MatD Z) {
  softmax_rows(Z);
  return Z;
}

// Central-difference gradient of f at x (all entries).
template <class F>
MatD numeric_gradient(const MatD& x, F&& f, double h = 1e-6) {
  MatD g(x.rows(), x.cols());
  MatD xp = x;
  for (Index i = 0; i < x.size(); ++i) {
    const double v = xp.data()[i];
    xp.data()[i] = v + h;
    const double fp = f(xp);
    xp.data()[i] = v - h;
    const double fm = f(xp);
    xp.data()[i] = v;
    g.data()[i] = (fp - fm) / (2 * h);
  }
  return g;
}

double relative_error(const MatD& a, const MatD& b) { return (a - b).norm() / std::max(1e-12, b.norm()); }

}  // namespace

TEST(NcutLoss, GradientWrtMembershipsMatchesFiniteDifferences) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    MatD W;
    VecD d;
    random_affinity(12, seed, W, d);
    const MatD P = softmax(random_logits(12, 4, seed + 10));
    const double gamma = 7.0, eps = 1e-6;
    MatD analytic;
    ncut_loss(W, d, P, gamma, eps, &analytic);
    const MatD numeric = numeric_gradient(P, [&](const MatD& Q) { return ncut_loss(W, d, Q, gamma, eps, (MatD*)nullptr).loss; });
    EXPECT_LT(relative_error(analytic, numeric), 1e-6) << "seed " << seed;
  }
}

TEST(NcutLoss, GradientWrtLogitsThroughSoftmaxMatchesFiniteDifferences) {
  MatD W;
  VecD d;
  random_affinity(15, 7, W, d);
  const MatD Z = random_logits(15, 3, 8, 2.0);
  const double gamma = 80.0, eps = 1e-6;
  const MatD P = softmax(Z);
  MatD grad;
  ncut_loss(W, d, P, gamma, eps, &grad);
  softmax_backward(P, grad);
  const MatD numeric = numeric_gradient(Z, [&](const MatD& Zp) { return ncut_loss(W, d, softmax(Zp), gamma, eps, (MatD*)nullptr).loss; });
  EXPECT_LT(relative_error(grad, numeric), 1e-6);
}

TEST(NcutLoss, TraceTermOnlyGradientWhenGammaIsZero) {
  MatD W;
  VecD d;
  random_affinity(10, 4, W, d);
  const MatD P = softmax(random_logits(10, 3, 5));
  MatD g;
  const auto t = ncut_loss(W, d, P, 0.0, 1e-6, &g);
  EXPECT_DOUBLE_EQ(t.penalty, 0.0);
  EXPECT_DOUBLE_EQ(t.loss, t.trace);
  const MatD numeric = numeric_gradient(P, [&](const MatD& Q) { return ncut_loss(W, d, Q, 0.0, 1e-6, (MatD*)nullptr).trace; });
  EXPECT_LT(relative_error(g, numeric), 1e-6);
}

TEST(NcutLoss, UniformMembershipsHaveZeroCutAndPenaltySqrtKMinusOne) {
  MatD W;
  VecD d;
  random_affinity(20, 9, W, d);
  for (Index k : {2, 5, 10}) {
    const MatD P = MatD::Constant(20, k, 1.0 / double(k));
    const auto t = ncut_loss(W, d, P, 80.0, 1e-12, (MatD*)nullptr);
    EXPECT_NEAR(t.trace, 0.0, 1e-9);
    EXPECT_NEAR(t.orthogonality, std::sqrt(double(k - 1)), 1e-6);
    EXPECT_NEAR(t.penalty, 40.0 * std::sqrt(double(k - 1)) / double(k), 1e-5);
  }
}

TEST(NcutLoss, HardPartitionGivesDiscreteNcutAndNoPenalty) {
  // Two blocks joined by weak edges: Ncut = sum_c cut(c)/vol(c), computed here by hand loops.
  MatD W;
  VecD d;
  random_affinity(8, 11, W, d);
  MatD P = MatD::Zero(8, 2);
  for (Index i = 0; i < 8; ++i) P(i, i < 3 ? 0 : 1) = 1.0;
  double cut = 0, vol0 = 0, vol1 = 0;
  for (Index i = 0; i < 8; ++i) {
    (i < 3 ? vol0 : vol1) += d[i];
    for (Index j = 0; j < 8; ++j)
      if ((i < 3) != (j < 3)) cut += W(i, j);
  }
  cut /= 2;  // each crossing edge counted twice above
  const auto t = ncut_loss(W, d, P, 80.0, 1e-12, (MatD*)nullptr);
  EXPECT_NEAR(t.trace, cut / vol0 + cut / vol1, 1e-9);
  EXPECT_NEAR(t.orthogonality, 0.0, 1e-9);
}

TEST(NcutLoss, InvariantToRowOrderAndColumnPermutation) {
  MatD W;
  VecD d;
  random_affinity(9, 21, W, d);
  const MatD P = softmax(random_logits(9, 3, 22));
  const auto base = ncut_loss(W, d, P, 10.0, 1e-6, (MatD*)nullptr);
  // Permute points (rows of P, rows and columns of W) and clusters (columns of P).
  Eigen::PermutationMatrix<-1> rows(9), cols(3);
  rows.indices() << 3, 0, 8, 1, 7, 2, 6, 4, 5;
  cols.indices() << 2, 0, 1;
  const MatD W2 = rows * W * rows.transpose();
  const VecD d2 = rows * d;
  const MatD P2 = rows * P * cols;
  const auto t = ncut_loss(W2, d2, P2, 10.0, 1e-6, (MatD*)nullptr);
  EXPECT_NEAR(t.loss, base.loss, 1e-10);
  EXPECT_NEAR(t.trace, base.trace, 1e-10);
}

TEST(NcutLoss, FloatPathAgreesWithDoublePath) {
  MatD W;
  VecD d;
  random_affinity(30, 5, W, d);
  const MatD P = softmax(random_logits(30, 5, 6));
  MatD gd;
  const auto td = ncut_loss(W, d, P, 80.0, 1e-6, &gd);
  MatrixF gf;
  const MatrixF Wf = W.cast<float>(), Pf = P.cast<float>();
  const VectorF df = d.cast<float>();
  const auto tf = ncut_loss(Wf, df, Pf, 80.0, 1e-6, &gf);
  EXPECT_NEAR(tf.loss, td.loss, 1e-4 * std::abs(td.loss));
  EXPECT_LT(relative_error(gf.cast<double>(), gd), 1e-4);
}

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

TEST(FixedOrderSum, AccurateAndIndependentOfAlignment) {
  // The degrees' sum: within the worst-case bound of any fp32 summation order (gamma_n times
  // the sum of magnitudes) of the exact sum, and bit for bit the same wherever the values sit
  // in memory (a vectorizing compiler may not reassociate it by alignment), at every length.
  detail::Rng rng(9);
  std::vector<float> buffer(1100 + 16);
  for (Index n : {0, 1, 5, 15, 16, 17, 31, 100, 1000, 1023, 1100}) {
    std::vector<float> values(static_cast<std::size_t>(n));
    for (auto& v : values) v = float(rng.normal() * std::exp(3 * rng.normal()));
    double exact = 0, magnitude = 0;
    for (float v : values) exact += v, magnitude += std::abs(v);
    const float first = detail::fixed_order_sum(values.data(), n);
    const double gamma = double(n) * std::ldexp(1.0, -24) / (1 - double(n) * std::ldexp(1.0, -24));
    EXPECT_LE(std::abs(first - exact), gamma * magnitude + 1e-30) << "n " << n;
    for (Index offset = 1; offset < 16; ++offset) {
      std::copy(values.begin(), values.end(), buffer.begin() + offset);
      ASSERT_EQ(std::bit_cast<std::uint32_t>(detail::fixed_order_sum(buffer.data() + offset, n)),
                std::bit_cast<std::uint32_t>(first))
          << "n " << n << ", offset " << offset;
    }
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
