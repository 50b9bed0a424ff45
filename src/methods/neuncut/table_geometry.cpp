#include "methods/neuncut/table_geometry.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "core/random.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/row_access.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/graph/knn.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"

namespace neuncut::detail {

namespace {

constexpr int kNeighbors = 10;             // classic Ncut's default graph, as the quality check's
constexpr double kFragmentedGraph = 1e-3;  // lambda_{k+1} below this: more than k near-components

// The rows as training would see them under this scaling and normalization, or nothing when
// that preprocessing cannot be applied (a row whose norm overflows float cannot be L2-normalized:
// then that geometry is not a candidate).
std::optional<MatrixF> preprocessed(const MatrixF& x, FeatureScaling scaling, bool l2, int threads) {
  MatrixF out = x;
  try {
    Preprocessor(scaling, l2).fit_transform_in_place(out, threads);
  } catch (const InvalidArgument&) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

double column_spread_ratio(const MatrixF& x) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (Index j = 0; j < x.cols(); ++j) {
    const double mean = x.col(j).cast<double>().mean();
    const double sd = std::sqrt((x.col(j).cast<double>().array() - mean).square().mean());
    if (!(sd > 0)) continue;
    lo = std::min(lo, sd);
    hi = std::max(hi, sd);
  }
  return hi > 0 && hi > lo ? hi / lo : 1.0;
}

double eigengap_ratio(const MatrixF& points, int k, std::uint64_t seed, int threads) {
  constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();
  if (k < 1 || points.rows() < Index(k) + 3) return kUndefined;
  const int neighbors = int(std::min<Index>(kNeighbors, points.rows() - 1));
  const SparseMatrixF affinity = knn_affinity(knn_exact(points, neighbors, threads));
  SpectralClusteringParams params;
  params.n_clusters = k + 1;
  params.seed = seed;
  params.threads = threads;
  const SpectralEigenResult eig = normalized_affinity_eigenvectors(affinity, params);
  // c >= k + 1 components give c eigenvalues 1, so lambda_{k+1} = 0: undefined, as it should be.
  if (!eig.converged || eig.eigenvalues.size() < k + 1) return kUndefined;
  const double lambda_k = std::max(0.0, 1.0 - eig.eigenvalues[k - 1]);
  const double lambda_k1 = 1.0 - eig.eigenvalues[k];
  if (!(lambda_k1 >= kFragmentedGraph)) return kUndefined;
  return std::min(1.0, lambda_k / lambda_k1);
}

TableGeometry choose_table_geometry(const MatrixF& train, int k, bool l2_after_standardize, Index max_points,
                                    std::uint64_t seed, int threads) {
  Rng rng(seed);
  MatrixF sample;
  if (train.rows() <= max_points) {
    sample = train;
  } else {
    std::vector<Index> rows = rng.sample_without_replacement(train.rows(), max_points);
    std::sort(rows.begin(), rows.end());
    sample = MatrixRowAccess(train).gather(rows);
  }
  const std::uint64_t eigen_seed = rng.split();
  TableGeometry g;
  g.spread_ratio = column_spread_ratio(sample);
  if (!(g.spread_ratio <= kCommonUnitSpread)) return g;
  const std::optional<MatrixF> standardized =
      preprocessed(sample, FeatureScaling::Standardize, l2_after_standardize, threads);
  const std::optional<MatrixF> raw_l2 = preprocessed(sample, FeatureScaling::None, true, threads);
  if (!standardized || !raw_l2) return g;
  g.compared = true;
  g.standardized = eigengap_ratio(*standardized, k, eigen_seed, threads);
  g.raw_l2 = eigengap_ratio(*raw_l2, k, eigen_seed, threads);
  // NaN compares false: an undefined ratio on either side keeps the standardized default, and
  // so does a tie (both graphs with exactly k components give 0 and 0).
  g.choose_raw_l2 = g.raw_l2 < kRawL2Margin * g.standardized;
  return g;
}

std::vector<double> apply_table_geometry(const MatrixF& train, int k, ScalingChoice scaling_asked,
                                         RowNormalization normalize_asked, bool table, std::uint64_t fit_seed,
                                         int threads, FeatureScaling& scaling, bool& l2) {
  if (!table || scaling_asked != ScalingChoice::Auto || normalize_asked != RowNormalization::Auto) return {};
  const TableGeometry g =
      choose_table_geometry(train, k, l2, kTableGeometryPoints, Rng(fit_seed ^ 0x47454f4d45545259ull).split(), threads);
  if (g.choose_raw_l2) {
    scaling = FeatureScaling::None;
    l2 = true;
  }
  if (!g.compared) return {};
  return {g.standardized, g.raw_l2};
}

}  // namespace neuncut::detail
