#include "neuncut/methods/ncut/landmark_spectral_clustering.hpp"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "methods/ncut/ncut_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/file_rows.hpp"
#include "test_data.hpp"
#include "test_util.hpp"

namespace neuncut {
using testing::synthetic;
namespace {

SpectralClusteringParams landmark_params(int k, int landmarks) {
  SpectralClusteringParams p;
  p.n_clusters = k;
  p.solver = NcutSolver::Landmark;
  p.landmarks = landmarks;
  return p;
}

// On blobs (some of them touching) the landmark solver finds the exact solver's partition.
TEST(LandmarkSpectralClustering, AgreesWithTheExactSolverOnBlobs) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 3000, 6, 0.5, 3);
  SpectralClusteringParams p = landmark_params(6, 200);
  p.normalize = false;
  const SpectralClusteringResult r = fit_spectral_clustering(d.features, p);
  EXPECT_EQ(r.solver, NcutSolver::Landmark);
  EXPECT_EQ(r.n_landmarks, 200);
  EXPECT_EQ(count_clusters(r.labels), 6);
  EXPECT_NEAR(r.eigenvalues[0], 1.0, 1e-6);  // W's degrees are 1: its top eigenvalue is exactly 1
  p.solver = NcutSolver::Exact;
  const SpectralClusteringResult exact = fit_spectral_clustering(d.features, p);
  EXPECT_EQ(exact.solver, NcutSolver::Exact);
  EXPECT_GT(adjusted_rand_index(exact.labels, r.labels), 0.95);
  EXPECT_GT(adjusted_rand_index(d.labels, r.labels), adjusted_rand_index(d.labels, exact.labels) - 0.02);
}

TEST(LandmarkSpectralClustering, AutoUsesTheExactSolverForSmallData) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 300, 3, 1.0, 1);
  SpectralClusteringParams p;
  p.n_clusters = 3;
  p.normalize = false;
  EXPECT_EQ(fit_spectral_clustering(d.features, p).solver, NcutSolver::Exact);
  EXPECT_EQ(fit_spectral_clustering(d.features, p).n_landmarks, 0);
}

// Steps 1-2 against a plain reference: every row joins exactly its r nearest landmarks (by
// direct distance of the normalized row), with non-negative weights summing to 1, larger for nearer.
TEST(LandmarkSpectralClustering, EveryRowJoinsItsNearestLandmarksWithRowStochasticWeights) {
  const MatrixF x = testing::gaussian_matrix(500, 8, 4);
  SpectralClusteringParams p = landmark_params(3, 40);
  p.landmark_neighbors = 4;
  const LandmarkGraph g = landmark_graph(x, p);
  ASSERT_EQ(g.landmarks.rows(), 40);
  ASSERT_EQ(g.neighbors, 4);
  for (Index i = 0; i < x.rows(); ++i) {
    const Eigen::RowVectorXf xi = x.row(i) / x.row(i).norm();
    std::vector<std::pair<float, Index>> dist;
    for (Index c = 0; c < 40; ++c) dist.push_back({(xi - g.landmarks.row(c)).squaredNorm(), c});
    std::sort(dist.begin(), dist.end());
    std::set<Index> want, got;
    for (int j = 0; j < 4; ++j) want.insert(dist[std::size_t(j)].second);
    double sum = 0;
    std::vector<std::pair<float, float>> dist_weight;
    for (SparseMatrixF::InnerIterator it(g.weights, i); it; ++it) {
      got.insert(it.col());
      EXPECT_GT(it.value(), 0.0f);
      sum += it.value();
      dist_weight.push_back({(xi - g.landmarks.row(it.col())).squaredNorm(), it.value()});
    }
    EXPECT_EQ(got, want) << "row " << i;
    EXPECT_NEAR(sum, 1.0, 1e-5);
    std::sort(dist_weight.begin(), dist_weight.end());
    for (std::size_t j = 1; j < dist_weight.size(); ++j)
      EXPECT_LE(dist_weight[j].second, dist_weight[j - 1].second + 1e-6f);
  }
}

// The embedding against the definition: the leading eigenvectors of the dense W = Z L^-1 Z^T.
TEST(LandmarkSpectralClustering, EmbeddingSpansTheLeadingEigenvectorsOfTheLandmarkAffinity) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 400, 4, 1.5, 2);
  SpectralClusteringParams p = landmark_params(4, 30);
  p.normalize = false;
  p.normalization = EmbeddingNormalization::Degree;  // W's degrees are 1: the embedding is U itself
  const LandmarkGraph g = landmark_graph(d.features, p);
  const MatrixD z = MatrixD(g.weights.cast<double>());
  const VectorD col = z.colwise().sum().transpose();
  MatrixD lambda_inv = MatrixD::Zero(col.size(), col.size());
  for (Index c = 0; c < col.size(); ++c) lambda_inv(c, c) = col[c] > 0 ? 1.0 / col[c] : 0.0;
  const MatrixD w = z * lambda_inv * z.transpose();
  EXPECT_LT((w.rowwise().sum() - VectorD::Ones(w.rows())).cwiseAbs().maxCoeff(), 1e-6);  // Z is stored in float
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(w);
  const Eigen::MatrixXd reference = eig.eigenvectors().rightCols(4);

  const SpectralClusteringResult r = fit_landmark_spectral_clustering(d.features, p);
  ASSERT_EQ(r.embedding.cols(), 4);
  const Eigen::MatrixXd u = r.embedding.cast<double>();
  EXPECT_LT((u.transpose() * u - Eigen::MatrixXd::Identity(4, 4)).cwiseAbs().maxCoeff(), 1e-4);
  // Same subspace: equal projectors.
  EXPECT_LT((u * u.transpose() - reference * reference.transpose()).cwiseAbs().maxCoeff(), 1e-4);
  for (Index j = 0; j < 4; ++j) EXPECT_NEAR(r.eigenvalues[j], eig.eigenvalues()[w.rows() - 1 - j], 1e-6);
}

// Rows are normalized on the fly: scaling a row by a power of two changes nothing, bit for bit.
TEST(LandmarkSpectralClustering, RowScaleDoesNotMatterWhenNormalizing) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 1200, 5, 1.0, 5, 10);
  MatrixF scaled = d.features;
  for (Index i = 0; i < scaled.rows(); ++i) scaled.row(i) *= std::ldexp(1.0f, int(i % 7) - 3);
  const SpectralClusteringParams p = landmark_params(5, 100);
  const SpectralClusteringResult a = fit_spectral_clustering(d.features, p);
  const SpectralClusteringResult b = fit_spectral_clustering(scaled, p);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_GT(adjusted_rand_index(d.labels, a.labels), 0.9);
}

TEST(LandmarkSpectralClustering, SameLabelsForAnyThreadCount) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 2500, 4, 1.5, 6);
  SpectralClusteringParams p = landmark_params(4, 150);
  p.normalize = false;
  p.threads = 1;
  const Labels one = fit_spectral_clustering(d.features, p).labels;
  p.threads = 2;
  EXPECT_EQ(fit_spectral_clustering(d.features, p).labels, one);
}

// One landmark per point leaves every landmark its own component: the graph is rebuilt with more.
TEST(LandmarkSpectralClustering, RebuildsAGraphWithMoreComponentsThanClusters) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 1000, 3, 1.0, 7);
  SpectralClusteringParams p = landmark_params(3, 50);
  p.normalize = false;
  p.landmark_neighbors = 1;
  const SpectralClusteringResult r = fit_spectral_clustering(d.features, p);
  EXPECT_GT(r.landmark_neighbors_used, 1);
  EXPECT_LE(r.n_components, 3);
  EXPECT_NE(r.message().find("rebuilt"), std::string::npos) << r.message();
  EXPECT_GT(adjusted_rand_index(d.labels, r.labels), 0.9);
}

TEST(LandmarkSpectralClustering, RefusesFewerLandmarksThanClusters) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 200, 3, 1.0, 1);
  SpectralClusteringParams p = landmark_params(10, 10);
  try {
    fit_spectral_clustering(d.features, p);
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("landmarks"), std::string::npos) << e.what();
  }
  p.landmarks = 1;
  EXPECT_THROW(fit_spectral_clustering(d.features, p), InvalidArgument);
  p.landmarks = 100;
  p.landmark_neighbors = 0;
  EXPECT_THROW(fit_spectral_clustering(d.features, p), InvalidArgument);
  // The public steps check their data as fit_spectral_clustering does.
  MatrixF bad = d.features;
  bad(17, 1) = std::numeric_limits<float>::quiet_NaN();
  p = landmark_params(3, 50);
  EXPECT_THROW(landmark_graph(bad, p), InvalidArgument);
  EXPECT_THROW(fit_landmark_spectral_clustering(bad, p), InvalidArgument);
}

using testing::RecordingRows;

bool same_bits(const MatrixF& a, const MatrixF& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.array() == b.array()).all();
}

// Rows read a block at a time (a file larger than memory) give the matrix's result bit for bit,
// with and without normalization, and through rebuilds (one more pass each); the rows are read
// as the sample of 10 p rows, then blocks of at most block_rows, once per pass.
TEST(LandmarkSpectralClustering, RowsReadABlockAtATimeGiveTheMatrixResult) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 5000, 5, 1.0, 11);
  for (bool normalize : {false, true}) {
    for (int neighbors : {5, 1}) {
      SCOPED_TRACE(::testing::Message() << "normalize " << normalize << ", landmark_neighbors " << neighbors);
      SpectralClusteringParams p = landmark_params(5, 120);
      p.normalize = normalize;
      p.landmark_neighbors = neighbors;
      p.threads = 2;
      const SpectralClusteringResult whole = fit_landmark_spectral_clustering(d.features, p);
      const RecordingRows rows(d.features);
      const SpectralClusteringResult streamed = detail::landmark_spectral_clustering_of_rows(rows, p, 1024);
      EXPECT_EQ(streamed.labels, whole.labels);
      EXPECT_TRUE(same_bits(streamed.embedding, whole.embedding));
      EXPECT_EQ(streamed.eigenvalues, whole.eigenvalues);
      EXPECT_EQ(streamed.landmark_neighbors_used, whole.landmark_neighbors_used);
      EXPECT_EQ(streamed.n_components, whole.n_components);
      EXPECT_EQ(streamed.warnings, whole.warnings);
      if (!normalize) {
        EXPECT_GT(adjusted_rand_index(d.labels, streamed.labels), 0.9);
      }
      // Passes: the first r, then one per doubling up to the r used.
      int passes = 1;
      for (int r = neighbors; r < streamed.landmark_neighbors_used; r *= 2) ++passes;
      if (neighbors == 1) {
        EXPECT_GT(passes, 1);  // the rebuild is exercised
      }
      std::vector<Index> expected{1200};
      for (int pass = 0; pass < passes; ++pass)
        for (Index first = 0; first < 5000; first += 1024) expected.push_back(std::min<Index>(1024, 5000 - first));
      EXPECT_EQ(rows.sizes, expected);
    }
  }
}

// fit_spectral_clustering on a file: the landmark solver streams it, with the matrix's result; a
// NaN is named by its row in the whole file; the exact solver gathers the rows and gives the
// matrix's result too.
TEST(LandmarkSpectralClustering, FitOnAFileStreamsTheLandmarkSolver) {
  const Dataset d = synthetic(SyntheticKind::Blobs, 3000, 4, 1.0, 12);
  testing::TempDir dir;
  const std::string path = dir.file("x.npy");
  write_npy(path, d.features);
  SpectralClusteringParams p = landmark_params(4, 100);
  EXPECT_TRUE(uses_landmark_solver(p, 10));
  const FileRows rows(path);
  const SpectralClusteringResult streamed = fit_spectral_clustering(rows, p);
  EXPECT_EQ(streamed.solver, NcutSolver::Landmark);
  EXPECT_EQ(streamed.labels, fit_spectral_clustering(d.features, p).labels);
  EXPECT_GT(streamed.total_seconds, 0.0);

  p.solver = NcutSolver::Auto;  // 3000 rows: exact
  EXPECT_FALSE(uses_landmark_solver(p, 3000));
  EXPECT_TRUE(uses_landmark_solver(p, kLandmarkSolverMinRows));
  const SpectralClusteringResult exact = fit_spectral_clustering(FileRows(path), p);
  EXPECT_EQ(exact.solver, NcutSolver::Exact);
  EXPECT_EQ(exact.labels, fit_spectral_clustering(d.features, p).labels);

  // An Inf far from the sample's rows: named as the matrix overload names it.
  MatrixF bad = d.features;
  bad(2900, 1) = std::numeric_limits<float>::infinity();
  write_npy(path, bad);
  p.solver = NcutSolver::Landmark;
  std::string from_matrix, from_file;
  try {
    fit_spectral_clustering(bad, p);
  } catch (const InvalidArgument& e) {
    from_matrix = e.what();
  }
  try {
    fit_spectral_clustering(FileRows(path), p);
  } catch (const InvalidArgument& e) {
    from_file = e.what();
  }
  EXPECT_NE(from_matrix.find("row 2900, column 1"), std::string::npos) << from_matrix;
  EXPECT_EQ(from_file, from_matrix);
  // The parameter checks are the matrix overload's.
  p.sigma = std::numeric_limits<double>::quiet_NaN();
  write_npy(path, d.features);
  EXPECT_THROW(fit_spectral_clustering(FileRows(path), p), InvalidArgument);
  p = landmark_params(4, 100);
  p.n_clusters = 3000;
  EXPECT_THROW(fit_spectral_clustering(FileRows(path), p), InvalidArgument);
}

}  // namespace
}  // namespace neuncut
