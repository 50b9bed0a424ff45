#include "neuncut/graph/knn.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/random.hpp"
#include "neuncut/core/error.hpp"
#include "test_data.hpp"

namespace neuncut {
using testing::gaussian_matrix;
namespace {

// Naive reference: all distances in double, sorted by (distance, index).
void naive_knn(const MatrixF& x, int m, Index i, std::vector<std::pair<double, int>>& out) {
  out.clear();
  for (Index j = 0; j < x.rows(); ++j)
    if (j != i) out.emplace_back((x.row(i) - x.row(j)).cast<double>().norm(), int(j));
  std::sort(out.begin(), out.end());
  out.resize(std::size_t(m));
}

TEST(Knn, ExactMatchesNaiveReference) {
  // 2500 points: more than two 1024-row tiles, so off-diagonal and ragged tiles are exercised.
  const MatrixF x = gaussian_matrix(2500, 12, 1);
  const KnnGraph g = knn_exact(x, 7, 2);
  ASSERT_EQ(g.indices.rows(), 2500);
  ASSERT_EQ(g.indices.cols(), 7);
  EXPECT_EQ(g.method, KnnMethod::Exact);
  std::vector<std::pair<double, int>> ref;
  for (Index i = 0; i < x.rows(); ++i) {
    naive_knn(x, 7, i, ref);
    for (int c = 0; c < 7; ++c) {
      EXPECT_EQ(g.indices(i, c), ref[std::size_t(c)].second) << "point " << i << " rank " << c;
      EXPECT_NEAR(g.distances(i, c), ref[std::size_t(c)].first, 1e-4 * (1 + ref[std::size_t(c)].first));
    }
  }
}

TEST(Knn, ExactIndependentOfThreadCountAndExcludesSelfNotDuplicates) {
  MatrixF x = gaussian_matrix(1500, 5, 2);
  x.row(10) = x.row(20);  // a duplicate pair: each is the other's nearest neighbour at distance 0
  const KnnGraph a = knn_exact(x, 5, 1), b = knn_exact(x, 5, 2);
  EXPECT_EQ(a.indices, b.indices);
  EXPECT_EQ(a.distances, b.distances);
  for (Index i = 0; i < x.rows(); ++i)
    for (Index c = 0; c < 5; ++c) EXPECT_NE(a.indices(i, c), i);
  EXPECT_EQ(a.indices(10, 0), 20);
  EXPECT_EQ(a.indices(20, 0), 10);
  EXPECT_EQ(a.distances(10, 0), 0.0f);
}

TEST(Knn, HnswRecallAgainstExact) {
  if (!hnsw_available()) GTEST_SKIP() << "built without hnswlib";
  // Clustered data in 16-D (harder than uniform low-D data for a graph index).
  detail::Rng rng(3);
  const Index n = 4000, d = 16;
  const MatrixF centres = gaussian_matrix(20, d, 4) * 3.0f;
  MatrixF x(n, d);
  for (Index i = 0; i < n; ++i) x.row(i) = centres.row(Index(rng.below(20))) + gaussian_matrix(1, d, rng.split());
  const KnnGraph exact = knn_exact(x, 10, 2);
  KnnParams p;
  p.n_neighbors = 10;
  p.method = KnnMethod::Hnsw;
  const KnnGraph approx = knn_graph(x, p);
  EXPECT_EQ(approx.method, KnnMethod::Hnsw);
  const double recall = knn_recall(approx, exact);
  EXPECT_GE(recall, 0.9);
  EXPECT_NEAR(knn_recall(exact, exact), 1.0, 1e-12);
  for (Index i = 0; i < n; ++i) {
    for (Index c = 0; c < 10; ++c) EXPECT_NE(approx.indices(i, c), i);
    for (Index c = 1; c < 10; ++c) EXPECT_LE(approx.distances(i, c - 1), approx.distances(i, c));
  }
}

// Data of low intrinsic dimension embedded in many dimensions (as images are): 300-D points
// on a random 20-D subspace plus small isotropic noise, in clusters.
MatrixF low_rank_data(Index n, std::uint64_t seed) {
  detail::Rng rng(seed);
  const Index d = 300, r = 20;
  const MatrixF basis = gaussian_matrix(r, d, seed + 1);
  const MatrixF centres = gaussian_matrix(8, r, seed + 2) * 2.0f;
  MatrixF latent(n, r);
  for (Index i = 0; i < n; ++i) latent.row(i) = centres.row(Index(rng.below(8))) + gaussian_matrix(1, r, rng.split());
  return latent * basis + 0.05f * gaussian_matrix(n, d, seed + 3);
}

TEST(Knn, ProjectedMatchesExactOnLowIntrinsicDimension) {
  const MatrixF x = low_rank_data(3000, 11);
  const KnnGraph exact = knn_exact(x, 10, 2);
  KnnParams p;
  p.n_neighbors = 10;
  p.method = KnnMethod::Projected;
  p.projection_dims = 32;
  const KnnGraph approx = knn_graph(x, p);
  EXPECT_EQ(approx.method, KnnMethod::Projected);
  EXPECT_GE(knn_recall(approx, exact), 0.99);
  ASSERT_EQ(approx.indices.cols(), 10);
  // Distances are exact full-space distances, sorted, and never to the point itself.
  for (Index i = 0; i < x.rows(); ++i) {
    for (Index c = 0; c < 10; ++c) {
      EXPECT_NE(approx.indices(i, c), i);
      EXPECT_NEAR(approx.distances(i, c), (x.row(i) - x.row(approx.indices(i, c))).norm(), 1e-3f);
      if (c > 0) {
        EXPECT_LE(approx.distances(i, c - 1), approx.distances(i, c));
      }
    }
  }
}

TEST(Knn, ProjectedWithAllDimensionsIsExact) {
  // Projecting onto every principal axis is a rotation: distances are unchanged, so the
  // candidates contain the true neighbours (up to float rounding at ties).
  const MatrixF x = gaussian_matrix(500, 12, 21);
  KnnParams p;
  p.n_neighbors = 5;
  p.method = KnnMethod::Projected;
  p.projection_dims = 12;
  p.projection_candidates = 5;
  EXPECT_GE(knn_recall(knn_graph(x, p), knn_exact(x, 5, 1)), 0.999);
  // Same input, same seed: same graph at any thread count.
  p.threads = 1;
  const KnnGraph one = knn_graph(x, p);
  p.threads = 2;
  const KnnGraph two = knn_graph(x, p);
  EXPECT_EQ(one.indices, two.indices);
  p.projection_dims = 0;
  EXPECT_THROW(knn_graph(x, p), InvalidArgument);
}

TEST(Knn, AutoUsesExactForSmallData) {
  const MatrixF x = gaussian_matrix(300, 3, 5);
  KnnParams p;
  p.n_neighbors = 4;
  EXPECT_EQ(knn_graph(x, p).method, KnnMethod::Exact);
  p.exact_max_points = 100;
  EXPECT_EQ(knn_graph(x, p).method, hnsw_available() ? KnnMethod::Hnsw : KnnMethod::Exact);
  // Many features: candidates from the projection.
  p.exact_max_points = 100000;
  p.projection_dims = 1;
  EXPECT_EQ(knn_graph(x, p).method, KnnMethod::Projected);
}

TEST(Knn, BadInputThrows) {
  MatrixF x = gaussian_matrix(20, 3, 6);
  EXPECT_THROW(knn_exact(x, 0), InvalidArgument);
  EXPECT_THROW(knn_exact(x, 20), InvalidArgument);
  EXPECT_THROW(knn_exact(MatrixF(0, 3), 2), InvalidArgument);
  x(2, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(knn_exact(x, 3), InvalidArgument);
  EXPECT_THROW(parse_knn_method("kdtree"), InvalidArgument);
  EXPECT_EQ(parse_knn_method(to_string(KnnMethod::Hnsw)), KnnMethod::Hnsw);
  EXPECT_EQ(parse_knn_method(to_string(KnnMethod::Projected)), KnnMethod::Projected);
  KnnGraph a = knn_exact(gaussian_matrix(20, 3, 7), 3), b = knn_exact(gaussian_matrix(20, 3, 7), 4);
  EXPECT_THROW(knn_recall(a, b), InvalidArgument);
}

}  // namespace
}  // namespace neuncut
