// Spectral warm start: the batch partition is the NJW partition of the loss's own affinity
// (exact on separated clusters, invariant to row order up to label names), and the
// cross-entropy fit makes the network reproduce given labels.
#include <gtest/gtest.h>

#include <numeric>

#include "neuncut/core/error.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/methods/neuncut/spectral_init.hpp"
#include "neuncut/nn/mlp.hpp"
#include "test_data.hpp"

using namespace neuncut;

namespace {
Dataset standardized(SyntheticKind kind, Index n, int clusters, double noise, std::uint64_t seed) {
  Dataset ds = neuncut::testing::synthetic(kind, n, clusters, noise, seed);
  Preprocessor pre(FeatureScaling::Standardize, false);
  pre.fit(ds.features);
  pre.transform_in_place(ds.features);
  return ds;
}

double auto_sigma(const MatrixF& x) {
  SigmaRule rule;
  rule.sample_size = x.rows();
  return estimate_sigma(x, rule, 1);
}
}  // namespace

// Two moons are the case random initialization fails (a straight cut through both is a
// local minimum of the loss); on the loss's own affinity the NJW partition is the moons.
TEST(SpectralInit, BatchPartitionSeparatesTwoMoons) {
  const Dataset ds = standardized(SyntheticKind::Moons, 600, 2, 0.05, 3);
  const Labels labels = spectral_batch_partition(ds.features, float(auto_sigma(ds.features)), 2, 0, 1);
  EXPECT_EQ(clustering_accuracy(ds.labels, labels), 1.0);
}

TEST(SpectralInit, BatchPartitionSeparatesBlobsAndIgnoresRowOrder) {
  const Dataset ds = standardized(SyntheticKind::Blobs, 500, 4, 0.3, 5);
  const float sigma = float(auto_sigma(ds.features));
  const Labels labels = spectral_batch_partition(ds.features, sigma, 4, 7, 1);
  EXPECT_GE(clustering_accuracy(ds.labels, labels), 0.99);  // blobs touch: a point may sit on the wrong side

  // Reversed rows: the same partition, whatever names the clusters get (k-means++ draws its
  // seeds by row index, so only points on a boundary may change sides).
  MatrixF reversed = ds.features.colwise().reverse();
  Labels back = spectral_batch_partition(reversed, sigma, 4, 7, 1);
  std::reverse(back.begin(), back.end());
  EXPECT_GE(clustering_accuracy(labels, back), 0.995);
}

TEST(SpectralInit, SameInputSameLabelsAtAnyThreadCount) {
  const Dataset ds = standardized(SyntheticKind::Blobs, 400, 3, 0.8, 9);
  const float sigma = float(auto_sigma(ds.features));
  const Labels one = spectral_batch_partition(ds.features, sigma, 3, 1, 1);
  EXPECT_EQ(one, spectral_batch_partition(ds.features, sigma, 3, 1, 1));
  EXPECT_EQ(one, spectral_batch_partition(ds.features, sigma, 3, 1, 2));
}

TEST(SpectralInit, BatchPartitionRejectsBadArguments) {
  const MatrixF x = MatrixF::Random(5, 2);
  EXPECT_THROW(spectral_batch_partition(x, 1.0f, 6, 0, 1), InvalidArgument);
  EXPECT_THROW(spectral_batch_partition(x, 1.0f, 1, 0, 1), InvalidArgument);
  EXPECT_THROW(spectral_batch_partition(x, 0.0f, 2, 0, 1), InvalidArgument);
}

TEST(SpectralInit, NetworkLearnsGivenLabels) {
  const Dataset ds = standardized(SyntheticKind::Blobs, 300, 3, 0.5, 2);
  // Labels the data does not suggest on its own (a rotation of the true names), so the
  // agreement measures the fit, not the initialization.
  Labels target(ds.labels.size());
  for (std::size_t i = 0; i < target.size(); ++i) target[i] = (ds.labels[i] + 1) % 3;
  Mlp net({2, 32, 32, 3});
  net.initialize(4, true);
  const double agreement = fit_network_to_labels(net, ds.features, target, 200, 1e-2, AdamParams{}, 1);
  EXPECT_GE(agreement, 0.99);
  const MatrixF logits = net.predict_logits(ds.features);
  Index agree = 0;
  for (Index i = 0; i < logits.rows(); ++i) {
    Index j;
    logits.row(i).maxCoeff(&j);
    agree += j == target[i];
  }
  EXPECT_DOUBLE_EQ(double(agree) / double(logits.rows()), agreement);
}

TEST(SpectralInit, FitToLabelsRejectsMismatchedLabels) {
  const MatrixF x = MatrixF::Random(10, 2);
  Mlp net({2, 4, 3});
  net.initialize(0, true);
  EXPECT_THROW(fit_network_to_labels(net, x, Labels(9, 0), 1, 1e-3, AdamParams{}, 1), InvalidArgument);
  EXPECT_THROW(fit_network_to_labels(net, x, Labels(10, 3), 1, 1e-3, AdamParams{}, 1), InvalidArgument);
  EXPECT_THROW(fit_network_to_labels(net, x, Labels(10, -1), 1, 1e-3, AdamParams{}, 1), InvalidArgument);
}
