#include "neuncut/eval/partition_quality.hpp"

#include <algorithm>

#include "core/random.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/graph/knn.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"

namespace neuncut {

QualityVerdict quality_verdict(double relative) {
  // Thresholds from the suite (docs/defaults.md): good fits lay at or below k-means' Ncut
  // (relative <= 0.2 on every set where ACC matched the references); the chance-level
  // partitions of issue 13 sat near 1.
  if (relative >= 0.6) return QualityVerdict::Chance;
  if (relative > 0.35) return QualityVerdict::Weak;
  return QualityVerdict::Good;
}

QualityGraph::QualityGraph(const Eigen::Ref<const MatrixF>& data, Index max_points, int n_neighbors, std::uint64_t seed,
                           int threads) {
  NEUNCUT_REQUIRE(data.rows() >= 3, InvalidArgument, "quality check needs at least 3 points, got ", data.rows());
  const Index s = std::min<Index>(max_points, data.rows());
  detail::Rng rng(seed);
  rows_ = rng.sample_without_replacement(data.rows(), s);
  std::sort(rows_.begin(), rows_.end());
  points_.resize(s, data.cols());
  for (Index i = 0; i < s; ++i) points_.row(i) = data.row(rows_[i]);
  const KnnGraph graph = knn_exact(points_, int(std::min<Index>(n_neighbors, s - 1)), threads);
  affinity_ = knn_affinity(graph);  // self-tuning, averaged: classic Ncut's default graph
  degree_ = VectorD::Zero(s);
  for (Index i = 0; i < s; ++i)
    for (SparseMatrixF::InnerIterator it(affinity_, i); it; ++it) degree_[i] += it.value();
}

double QualityGraph::ncut(const Labels& labels, int k) const {
  NEUNCUT_REQUIRE(Index(labels.size()) == size(), InvalidArgument, "quality check: ", labels.size(), " labels for ",
                  size(), " points");
  std::vector<double> volume(static_cast<std::size_t>(k), 0.0), within(static_cast<std::size_t>(k), 0.0);
  for (Index i = 0; i < size(); ++i) {
    const std::int32_t a = labels[i];
    NEUNCUT_REQUIRE(a >= 0 && a < k, InvalidArgument, "quality check: label ", a, " outside [0, ", k, ")");
    volume[a] += degree_[i];
    for (SparseMatrixF::InnerIterator it(affinity_, i); it; ++it)
      if (labels[it.col()] == a) within[a] += it.value();
  }
  double total = 0;
  for (int j = 0; j < k; ++j) total += volume[j] > 0 ? (volume[j] - within[j]) / volume[j] : 1.0;
  return total;
}

PartitionQuality QualityGraph::assess(const Labels& labels, int k, std::uint64_t seed, int threads) const {
  PartitionQuality q;
  q.sample_points = size();
  if (size() < Index(k) + 1) return q;  // too few points for a meaningful comparison
  q.ncut = ncut(labels, k);
  detail::Rng rng(seed);
  // Chance: the same cluster sizes, assigned at random; the mean of a few draws (their
  // spread is small: a random partition cuts about (1 - |A_j| / n) of every cluster's volume).
  constexpr int kChanceDraws = 5;
  Labels shuffled = labels;
  for (int r = 0; r < kChanceDraws; ++r) {
    rng.shuffle(shuffled);
    q.chance_ncut += ncut(shuffled, k) / kChanceDraws;
  }
  KMeansParams kp;
  kp.n_clusters = k;
  kp.normalize = false;  // the points are already as the network saw them
  kp.n_init = 3;
  kp.seed = rng.split();
  kp.threads = threads;
  q.kmeans_ncut = ncut(fit_kmeans(points_, kp).labels, k);
  // A k-means partition at chance level (no structure at all) leaves no scale to compare on.
  const double span = std::max(q.chance_ncut - q.kmeans_ncut, 1e-3 * std::max(q.chance_ncut, 1e-12));
  q.relative = (q.ncut - q.kmeans_ncut) / span;
  q.verdict = quality_verdict(q.relative);
  if (q.verdict == QualityVerdict::Chance)
    q.advice =
        "the partition cuts the data's kNN graph no better than a random one: check the features' units "
        "(--scaling standardize when columns differ), leave affinity and scaling at their defaults, try more "
        "epochs, and compare with `neuncut kmeans` and `neuncut ncut`";
  else if (q.verdict == QualityVerdict::Weak)
    q.advice =
        "the partition cuts the data's kNN graph clearly worse than k-means does: try --select auto "
        "(trains restarts and keeps the best by this check), more epochs, or compare with `neuncut kmeans`";
  return q;
}

}  // namespace neuncut
