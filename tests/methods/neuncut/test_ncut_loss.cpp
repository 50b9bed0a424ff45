// The NeuNcut batch loss: analytic gradient against finite differences (through the loss
// alone and through the softmax), closed-form values, and invariances. The batch's affinity
// is tested in tests/graph/test_batch_affinity.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/random.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/methods/neuncut/ncut_loss.hpp"

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
    const MatD numeric =
        numeric_gradient(P, [&](const MatD& Q) { return ncut_loss(W, d, Q, gamma, eps, (MatD*)nullptr).loss; });
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
  const MatD numeric = numeric_gradient(
      Z, [&](const MatD& Zp) { return ncut_loss(W, d, softmax(Zp), gamma, eps, (MatD*)nullptr).loss; });
  EXPECT_LT(relative_error(grad, numeric), 1e-6);
}

// The anchor term (init_anchor) added to the loss's logit gradient: the sum's gradient matches
// finite differences of loss + weight * mean cross-entropy over the labelled rows; rows
// labelled -1 take no part; with no labelled row the term is 0 and changes nothing.
TEST(NcutLoss, AnchorCrossEntropyGradientMatchesFiniteDifferences) {
  MatD W;
  VecD d;
  random_affinity(10, 5, W, d);
  const MatD Z = random_logits(10, 4, 6, 2.0);
  const std::vector<std::int32_t> labels = {0, -1, 3, 3, -1, 1, 2, -1, 0, 2};
  const double gamma = 80.0, eps = 1e-6, weight = 2.5;
  auto anchor_value = [&](const MatD& P) {
    double sum = 0;
    int rows = 0;
    for (Index i = 0; i < P.rows(); ++i)
      if (labels[std::size_t(i)] >= 0) sum -= std::log(P(i, labels[std::size_t(i)])), ++rows;
    return weight * sum / rows;
  };
  const MatD P = softmax(Z);
  MatD grad;
  const double loss = ncut_loss(W, d, P, gamma, eps, &grad).loss;
  softmax_backward(P, grad);
  const double value = add_anchor_cross_entropy(P, labels, weight, grad);
  EXPECT_NEAR(value, anchor_value(P), 1e-12);
  EXPECT_GT(value, 0);
  const MatD numeric = numeric_gradient(Z, [&](const MatD& Zp) {
    const MatD Pp = softmax(Zp);
    return ncut_loss(W, d, Pp, gamma, eps, (MatD*)nullptr).loss + anchor_value(Pp);
  });
  EXPECT_LT(relative_error(grad, numeric), 1e-6);
  EXPECT_GT(std::abs(value), 1e-3 * std::abs(loss));  // the term is not negligible in this check

  MatD unchanged = grad;
  EXPECT_EQ(add_anchor_cross_entropy(P, std::vector<std::int32_t>(10, -1), weight, unchanged), 0.0);
  EXPECT_EQ(unchanged, grad);
}

TEST(NcutLoss, AnchorWeightIsInitAnchorUpToTenClustersThenGrowsWithK) {
  for (int k : {1, 2, 10}) EXPECT_EQ(anchor_weight(10.0, k), 10.0) << "k " << k;
  EXPECT_DOUBLE_EQ(anchor_weight(10.0, 26), 26.0);
  EXPECT_DOUBLE_EQ(anchor_weight(10.0, 50), 50.0);
  EXPECT_EQ(anchor_weight(0.0, 50), 0.0);  // off stays off
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
  const MatD numeric =
      numeric_gradient(P, [&](const MatD& Q) { return ncut_loss(W, d, Q, 0.0, 1e-6, (MatD*)nullptr).trace; });
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
