// A label-free check of a clustering: is this partition any good on this data?
//
// Why: a fit can end with every cluster used and no collapse, yet a partition no better than
// chance (a 19-feature table of mixed units gave ACC 0.15, NMI 0.05 where k-means reaches
// 0.55 / 0.59; issue 13). The training loss cannot tell: it is measured on the network's own
// soft memberships and its own in-batch affinity. So the partition is scored on a graph the
// training never saw, against two references computed on the same graph:
//
//   graph:    the symmetric self-tuning kNN graph (10 neighbours, as classic Ncut's) of a
//             fixed sample of the points, each feature z-scored (NeuNcut: after its feature
//             map, whatever scaling the model chose, so that a model that looked at the data
//             through the wrong units is judged on the data);
//   score:    the discrete normalized cut, Ncut(A) = sum_j cut(A_j, rest) / vol(A_j), of the
//             hard partition restricted to the sample, with an empty cluster counted as 1
//             (the value a cluster cut off from nothing would not reach; so merging clusters
//             never looks better than keeping them);
//   chance:   the mean Ncut of random partitions with the same cluster sizes (a partition
//             that ignores the data);
//   k-means:  the Ncut of a k-means partition of the sample (a cheap reference that any
//             clustering method should match).
//
// `relative` = (ncut - kmeans_ncut) / (chance_ncut - kmeans_ncut): 0 means as good as
// k-means, 1 means chance, negative means better than k-means. The verdict thresholds are in
// docs/defaults.md ("Knowing when a result is bad") with the suite's numbers.
#pragma once

#include <cstdint>
#include <string>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut {

/// The verdict of assess_partition().
enum class QualityVerdict {
  NotChecked,  ///< No check was run (a fit without a quality check, or too few points).
  Good,        ///< At least close to the k-means reference on the check graph.
  Weak,        ///< Clearly worse than k-means on the check graph, but better than chance.
  Chance,      ///< No better than a random partition of the same cluster sizes.
};
NEUNCUT_ENUM_NAMES(QualityVerdict, "quality verdict", {QualityVerdict::NotChecked, "not_checked"},
                   {QualityVerdict::Good, "good"}, {QualityVerdict::Weak, "weak"}, {QualityVerdict::Chance, "chance"})

/// Outcome of assess_partition() (all Ncut values on the same check graph).
struct PartitionQuality {
  QualityVerdict verdict = QualityVerdict::NotChecked;
  double ncut = 0;          ///< Discrete Ncut of the partition (0 .. k; lower is better).
  double kmeans_ncut = 0;   ///< Of the k-means partition of the sample.
  double chance_ncut = 0;   ///< Mean over random partitions with the partition's cluster sizes.
  double relative = 0;      ///< (ncut - kmeans_ncut) / (chance_ncut - kmeans_ncut): 0 = k-means, 1 = chance.
  Index sample_points = 0;  ///< Points of the check graph.
  std::string advice;       ///< What to try; empty when the verdict is Good or NotChecked.
  /// How result tables (result_fields.hpp) name this field's type: the CLI's JSON and Python's
  /// dict hold these keys (advice as what_to_try; only the verdict when not checked).
  static constexpr const char* kFieldTypeName =
      "object: verdict, ncut, kmeans_ncut, chance_ncut, relative, sample_points, what_to_try";
};

/// The fixed graph a partition is checked on: a seeded sample of the rows and their
/// self-tuning kNN affinity. Built once, so that several partitions (restarts, candidates
/// of model selection) are compared on the same graph.
class QualityGraph {
 public:
  /// Samples min(max_points, rows) rows of `data` (seeded) and builds the symmetric
  /// self-tuning kNN affinity with min(n_neighbors, sample - 1) neighbours. Throws
  /// InvalidArgument for fewer than 3 rows.
  QualityGraph(const Eigen::Ref<const MatrixF>& data, Index max_points, int n_neighbors, std::uint64_t seed,
               int threads);

  /// The rows of the data the sample took (indices into the data given to the constructor).
  const std::vector<Index>& rows() const { return rows_; }
  /// The sampled rows themselves.
  const MatrixF& points() const { return points_; }
  Index size() const { return Index(rows_.size()); }

  /// Discrete Ncut of `labels` (one per sampled point, in [0, k)); an empty cluster counts 1.
  double ncut(const Labels& labels, int k) const;

  /// Scores `labels` (one per sampled point) against k-means and chance on this graph.
  PartitionQuality assess(const Labels& labels, int k, std::uint64_t seed, int threads) const;

 private:
  std::vector<Index> rows_;
  MatrixF points_;
  SparseMatrixF affinity_;
  VectorD degree_;
};

/// The verdict for a relative score (see the top of this file), and the advice for it.
QualityVerdict quality_verdict(double relative);

}  // namespace neuncut
