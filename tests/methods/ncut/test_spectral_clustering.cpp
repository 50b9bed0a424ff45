#include "neuncut/methods/ncut/spectral_clustering.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/random.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/eval/metrics.hpp"
#include "test_data.hpp"

namespace neuncut {
using testing::synthetic;
namespace {

TEST(SpectralClustering, LanczosEigenpairsHaveSmallResiduals) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 1500, 4, 1.5, 1);
  const SparseMatrixF w = knn_affinity(knn_exact(d.features, 10));
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 4;
  const SpectralEigenResult eig = normalized_affinity_eigenvectors(w, p);
  ASSERT_TRUE(eig.converged) << eig.solver_status;
  ASSERT_EQ(eig.eigenvalues.size(), 4);
  ASSERT_EQ(eig.eigenvectors.cols(), 4);
  const Eigen::SparseMatrix<double> a = normalized_affinity(w).cast<double>();
  const MatrixD u = eig.eigenvectors.cast<double>();
  for (Index j = 0; j < 4; ++j) {
    const VectorD uj = u.col(j);
    const double residual = (a * uj - eig.eigenvalues[j] * uj).norm();
    EXPECT_LT(residual, 1e-5) << "eigenpair " << j;
    EXPECT_NEAR(uj.norm(), 1.0, 1e-5);
    if (j > 0) {
      EXPECT_LE(eig.eigenvalues[j], eig.eigenvalues[j - 1]);
    }
  }
  EXPECT_NEAR(eig.eigenvalues[0], 1.0, 1e-6);  // connected graph: top eigenvalue exactly 1
  EXPECT_LT((u.transpose() * u - MatrixD::Identity(4, 4)).cwiseAbs().maxCoeff(), 1e-5);
}

TEST(SpectralClustering, RecoversBlobs) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 900, 3, 0.5, 2);
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 3;
  const SpectralClusteringResult r = fit_spectral_clustering(d.features, p);
  ASSERT_TRUE(r.converged) << r.message();
  EXPECT_GE(clustering_accuracy(d.labels, r.labels), 0.99);
  EXPECT_EQ(r.embedding.rows(), 900);
  EXPECT_GT(r.total_seconds, 0.0);
}

TEST(SpectralClustering, RecoversConcentricCirclesAndMoons) {
  for (SyntheticKind kind : {SyntheticKind::Circles, SyntheticKind::Moons}) {
    const Dataset d = synthetic(kind, 1000, 2, 0.05, 3);
    for (AffinityKind affinity : {AffinityKind::SelfTuning, AffinityKind::Connectivity}) {
      SpectralClusteringParams p;
      p.normalize = false;
      p.n_clusters = 2;
      p.affinity = affinity;
      const SpectralClusteringResult r = fit_spectral_clustering(d.features, p);
      ASSERT_TRUE(r.converged) << r.message();
      EXPECT_GE(clustering_accuracy(d.labels, r.labels), 0.99) << to_string(kind) << " with " << to_string(affinity);
    }
  }
}

TEST(SpectralClustering, DisconnectedGraphIsReported) {
  // Three far blobs with few neighbours: three components, reported, still clustered.
  SyntheticParams sp;
  sp.n_samples = 600;
  sp.n_clusters = 3;
  sp.noise = 0.1;
  sp.center_box = 50;
  sp.seed = 4;
  const Dataset d = make_synthetic(sp);
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 3;
  p.n_neighbors = 5;
  const SpectralClusteringResult r = fit_spectral_clustering(d.features, p);
  EXPECT_EQ(r.n_components, 3);
  EXPECT_EQ(r.n_neighbors_used, 5);  // no more components than clusters: the graph is kept
  EXPECT_NE(r.message().find("connected components"), std::string::npos);
  ASSERT_TRUE(r.converged) << r.message();
  EXPECT_GE(clustering_accuracy(d.labels, r.labels), 0.99);
}

TEST(SpectralClustering, TooManyComponentsIsAClearErrorNotAnAllocationFailure) {
  // 20,000 pairs of near-duplicates on a wide grid, one neighbour each: 20,000 components.
  // One embedding vector per component would be 40,000 x 20,000 floats (3 GiB).
  const Index pairs = 20000;
  MatrixF x(2 * pairs, 2);
  for (Index i = 0; i < pairs; ++i) {
    x.row(2 * i) << float(i % 200) * 10.0f, float(i / 200) * 10.0f;
    x(2 * i + 1, 0) = x(2 * i, 0) + 0.01f;
    x(2 * i + 1, 1) = x(2 * i, 1);
  }
  // On the data itself ncut now rebuilds the graph with more neighbours (see
  // MoreComponentsThanClustersAreJoined); a precomputed affinity cannot be rebuilt.
  const SparseMatrixF w = knn_affinity(knn_exact(x, 1));
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 3;
  p.n_neighbors = 1;
  try {
    fit_spectral_clustering(w, p);
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("20000 connected components"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("n_neighbors"), std::string::npos) << e.what();
  }
}

// Two true clusters, each a chain of 20 tight groups of 6 points (spacing 1, spread 0.1), the
// chains 10 apart. With 5 neighbours every group is its own component (40 > k = 2), and an
// embedding of component indicators lets k-means join arbitrary groups; with more neighbours
// the groups of a chain connect and the chains are the clusters.
TEST(SpectralClustering, MoreComponentsThanClustersAreJoined) {
  constexpr int kGroups = 20, kPerGroup = 6;
  MatrixF x(2 * kGroups * kPerGroup, 2);
  Labels truth;
  detail::Rng rng(7);
  Index row = 0;
  for (int chain = 0; chain < 2; ++chain)
    for (int g = 0; g < kGroups; ++g)
      for (int i = 0; i < kPerGroup; ++i, ++row) {
        x(row, 0) = float(g) + float(rng.normal()) * 0.1f;
        x(row, 1) = float(10 * chain) + float(rng.normal()) * 0.1f;
        truth.push_back(chain);
      }
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 2;
  p.n_neighbors = 5;
  ASSERT_GT(connected_components(knn_affinity(knn_exact(x, 5))), 2);  // the premise
  const SpectralClusteringResult r = fit_spectral_clustering(x, p);
  ASSERT_TRUE(r.converged) << r.message();
  EXPECT_GT(r.n_neighbors_used, 5);
  EXPECT_LE(r.n_components, 2);
  EXPECT_NE(r.message().find("rebuilt with"), std::string::npos) << r.message();
  EXPECT_GE(clustering_accuracy(truth, r.labels), 0.99);
}

TEST(SpectralClustering, NotConvergedLeavesNoLabels) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 2000, 8, 3.0, 5);
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 8;
  p.eigen_max_restarts = 1;
  p.ncv = 9;
  p.eigen_tol = 1e-12;
  const SpectralClusteringResult r = fit_spectral_clustering(d.features, p);
  EXPECT_FALSE(r.converged);
  EXPECT_EQ(r.solver_status, SolverStatus::NotConverging);
  EXPECT_TRUE(r.labels.empty());
  EXPECT_NE(r.message().find("did not converge"), std::string::npos);
}

TEST(SpectralClustering, DeterministicPerSeedAndThreadCount) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 1200, 5, 2.5, 6);
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 5;
  p.seed = 9;
  p.threads = 1;
  const SpectralClusteringResult a = fit_spectral_clustering(d.features, p);
  p.threads = 2;
  const SpectralClusteringResult b = fit_spectral_clustering(d.features, p);
  const SpectralClusteringResult c = fit_spectral_clustering(d.features, p);
  EXPECT_EQ(b.labels, c.labels);
  EXPECT_EQ(b.eigenvalues, c.eigenvalues);
  EXPECT_EQ(a.labels, b.labels);
}

TEST(SpectralClustering, PrecomputedAffinity) {
  const Dataset d = synthetic(SyntheticKind::Circles, 600, 2, 0.03, 7);
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 2;
  const SparseMatrixF w = knn_affinity(knn_exact(d.features, 10));
  const SpectralClusteringResult r = fit_spectral_clustering(w, p);
  ASSERT_TRUE(r.converged);
  EXPECT_GE(clustering_accuracy(d.labels, r.labels), 0.99);
  SparseMatrixF asym = w;
  asym.coeffRef(0, w.outerIndexPtr()[0] == w.outerIndexPtr()[1] ? 1 : SparseMatrixF::InnerIterator(w, 0).col()) += 1;
  EXPECT_THROW(fit_spectral_clustering(asym, p), InvalidArgument);
}

TEST(SpectralClustering, OneClusterLabelsEverythingZero) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 60, 2, 0.5, 9);
  SpectralClusteringParams p;
  p.n_clusters = 1;
  const SpectralClusteringResult r = fit_spectral_clustering(d.features, p);
  ASSERT_TRUE(r.converged) << r.message();
  EXPECT_EQ(r.labels, Labels(std::size_t(d.features.rows()), 0));
}

TEST(SpectralClustering, NanOrInfIsNamedBeforeParametersAreCheckedAgainstTheData) {
  // scikit-learn's check_estimators_nan_inf fits 10 rows with the defaults (n_neighbors 10 >
  // N - 1): the error must name the NaN, not the neighbour count.
  MatrixF x = MatrixF::Random(10, 3);
  x(0, 0) = std::numeric_limits<float>::infinity();
  SpectralClusteringParams p;
  p.n_clusters = 3;
  try {
    fit_spectral_clustering(x, p);
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("NaN or Inf"), std::string::npos) << e.what();
  }
}

TEST(SpectralClustering, MoreNeighboursThanPointsConnectsEveryPair) {
  // 10 points with the default degree 10: each point has only 9 others, so the graph uses 9
  // (and says so) instead of refusing the data.
  const Dataset d = synthetic(SyntheticKind::Blobs, 10, 2, 0.3, 11);
  SpectralClusteringParams p;
  p.n_clusters = 2;
  p.n_neighbors = 10;
  const SpectralClusteringResult r = fit_spectral_clustering(d.features, p);
  EXPECT_EQ(r.n_edges, 10 * 9);
  EXPECT_NE(r.message().find("n_neighbors 10 lowered to N - 1 = 9"), std::string::npos) << r.message();
  EXPECT_EQ(r.labels.size(), 10u);
}

TEST(SpectralClustering, AllZeroRowsStayZeroUnderNormalization) {
  Dataset d = synthetic(SyntheticKind::Blobs, 60, 2, 0.5, 10);
  MatrixF wide(d.features.rows(), 4);
  wide << d.features, d.features;
  wide.row(3).setZero();
  SpectralClusteringParams p;
  p.n_clusters = 2;
  p.n_neighbors = 5;
  const SpectralClusteringResult r = fit_spectral_clustering(wide, p);
  EXPECT_EQ(r.labels.size(), std::size_t(wide.rows()));
}

TEST(SpectralClustering, BadInputThrows) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 50, 2, 1.0, 8);
  SpectralClusteringParams p;
  p.normalize = false;
  p.n_clusters = 0;
  EXPECT_THROW(fit_spectral_clustering(d.features, p), InvalidArgument);
  p.n_clusters = 50;
  EXPECT_THROW(fit_spectral_clustering(d.features, p), InvalidArgument);
  p.n_clusters = 2;
  p.n_neighbors = 0;
  EXPECT_THROW(fit_spectral_clustering(d.features, p), InvalidArgument);
  p.n_neighbors = 5;
  p.ncv = 2;
  EXPECT_THROW(fit_spectral_clustering(d.features, p), InvalidArgument);
  p.ncv = 0;
  p.eigen_tol = 0;
  EXPECT_THROW(fit_spectral_clustering(d.features, p), InvalidArgument);
  p.eigen_tol = 1e-7;
  MatrixF bad = d.features;
  bad(4, 0) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(fit_spectral_clustering(bad, p), InvalidArgument);
  EXPECT_THROW(fit_spectral_clustering(MatrixF(0, 2), p), InvalidArgument);
  EXPECT_THROW(parse_embedding_normalization("none"), InvalidArgument);
}

}  // namespace
}  // namespace neuncut
