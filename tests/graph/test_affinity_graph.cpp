#include "neuncut/graph/affinity_graph.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/random.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/graph/knn.hpp"

namespace neuncut {
namespace {

MatrixF gaussian_data(Index n, Index d, std::uint64_t seed, float offset = 0) {
  detail::Rng rng(seed);
  MatrixF x(n, d);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.normal()) + offset;
  return x;
}

TEST(AffinityGraph, SelfTuningWeightsAreSymmetricAndMatchTheFormula) {
  const MatrixF x = gaussian_data(400, 3, 1);
  const KnnGraph g = knn_exact(x, 8);
  AffinityParams p;  // self-tuning, 7th neighbour, average
  const SparseMatrixF w = knn_affinity(g, p);
  const MatrixF dense(w);
  EXPECT_LT((dense - dense.transpose()).cwiseAbs().maxCoeff(), 1e-7f);
  EXPECT_EQ(dense.diagonal().cwiseAbs().maxCoeff(), 0.0f);
  // Directed weight of (i, its c-th neighbour), halved per direction it appears in.
  for (Index i = 0; i < 50; ++i)
    for (Index c = 0; c < 8; ++c) {
      const Index j = g.indices(i, c);
      const double d = (x.row(i) - x.row(j)).cast<double>().norm();
      const double expected_ij = std::exp(-d * d / (double(g.distances(i, 6)) * g.distances(j, 6)));
      bool j_lists_i = false;
      for (Index cc = 0; cc < 8; ++cc) j_lists_i |= g.indices(j, cc) == i;
      EXPECT_NEAR(dense(i, j), expected_ij * (j_lists_i ? 1.0 : 0.5), 1e-5);
    }
}

TEST(AffinityGraph, MaxSymmetrizationAndConnectivity) {
  const MatrixF x = gaussian_data(200, 2, 2);
  const KnnGraph g = knn_exact(x, 5);
  AffinityParams p;
  p.kind = AffinityKind::Connectivity;
  p.symmetrize = Symmetrization::Max;
  const MatrixF w(knn_affinity(g, p));
  for (Index i = 0; i < w.rows(); ++i)
    for (Index j = 0; j < w.cols(); ++j) EXPECT_TRUE(w(i, j) == 0.0f || w(i, j) == 1.0f);
  for (Index i = 0; i < w.rows(); ++i)
    for (Index c = 0; c < 5; ++c) EXPECT_EQ(w(i, g.indices(i, c)), 1.0f);
  p.symmetrize = Symmetrization::Average;
  const MatrixF avg(knn_affinity(g, p));
  EXPECT_TRUE(((avg.array() == 0) || (avg.array() == 0.5f) || (avg.array() == 1.0f)).all());
}

TEST(AffinityGraph, GaussianAutoSigmaIsMedianScaleDistance) {
  const MatrixF x = gaussian_data(301, 2, 3);
  const KnnGraph g = knn_exact(x, 7);
  AffinityParams p;
  p.kind = AffinityKind::Gaussian;
  std::vector<float> col(g.distances.rows());
  for (Index i = 0; i < g.distances.rows(); ++i) col[std::size_t(i)] = g.distances(i, 6);
  std::sort(col.begin(), col.end());
  EXPECT_FLOAT_EQ(float(gaussian_sigma(g, p)), col[150]);
  p.sigma = 0.25;
  EXPECT_EQ(gaussian_sigma(g, p), 0.25);
  const MatrixF w(knn_affinity(g, p));
  const Index j = g.indices(0, 0);
  const double d = g.distances(0, 0);
  EXPECT_GE(w(0, j), 0.5 * std::exp(-d * d / (2 * 0.0625)) * 0.999);
}

TEST(AffinityGraph, ConnectedComponentsOfSeparatedGroups) {
  MatrixF x(300, 2);
  x.topRows(100) = gaussian_data(100, 2, 4);
  x.middleRows(100, 100) = gaussian_data(100, 2, 5, 100.0f);
  x.bottomRows(100) = gaussian_data(100, 2, 6, -100.0f);
  const SparseMatrixF w = knn_affinity(knn_exact(x, 5));
  Labels comp;
  EXPECT_EQ(connected_components(w, &comp), 3);
  EXPECT_EQ(comp[0], 0);
  EXPECT_EQ(comp[100], 1);
  EXPECT_EQ(comp[299], 2);
  for (Index i = 0; i < 300; ++i) EXPECT_EQ(comp[std::size_t(i)], int(i / 100));
}

TEST(AffinityGraph, BatchAffinityEqualsSparseOnTheBatch) {
  const MatrixF x = gaussian_data(128, 4, 7);
  AffinityParams p;
  const MatrixF batch = knn_batch_affinity(x, 6, p);
  const MatrixF sparse(knn_affinity(knn_exact(x, 6), p));
  ASSERT_EQ(batch.rows(), 128);
  EXPECT_LT((batch - sparse).cwiseAbs().maxCoeff(), 1e-4f);
  EXPECT_LT((batch - batch.transpose()).cwiseAbs().maxCoeff(), 1e-7f);
  for (Index i = 0; i < 128; ++i) EXPECT_GE((batch.row(i).array() > 0).count(), 6);
}

TEST(AffinityGraph, BadInputThrows) {
  const MatrixF x = gaussian_data(10, 2, 8);
  EXPECT_THROW(knn_batch_affinity(x, 10), InvalidArgument);
  EXPECT_THROW(knn_batch_affinity(x, 0), InvalidArgument);
  EXPECT_THROW(knn_batch_affinity(x.topRows(1), 1), InvalidArgument);
  MatrixF bad = x;
  bad(0, 0) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(knn_batch_affinity(bad, 3), InvalidArgument);
  AffinityParams p;
  p.scale_neighbor = 0;
  EXPECT_THROW(knn_affinity(knn_exact(x, 3), p), InvalidArgument);
  EXPECT_THROW(knn_affinity(KnnGraph{}), InvalidArgument);
  EXPECT_THROW(parse_affinity_kind("rbf"), InvalidArgument);
  EXPECT_THROW(parse_symmetrization("min"), InvalidArgument);
  EXPECT_EQ(parse_affinity_kind(to_string(AffinityKind::SelfTuning)), AffinityKind::SelfTuning);
}

}  // namespace
}  // namespace neuncut
