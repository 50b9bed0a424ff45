// PRIVATE header: which geometry a table is clustered in when scaling and normalize are auto.
//
// Tables come in two kinds that want opposite preprocessing. Columns in unrelated units (a
// segmentation table's pixel counts next to its hue angles) must be standardized, or the
// largest few columns decide every distance (issue 13's Segment set fell to chance). Columns
// that measure one object in one unit (iris' four lengths in cm) carry the class in their raw
// proportions, and standardizing them inflates the uninformative ones (iris: ACC 0.81
// standardized, 0.96 on L2-normalized raw rows). No label-free score of the two partitions
// told them apart (docs/defaults.md, "Choosing between the two preprocessings"), but the
// graphs themselves do when the difference is large: the eigengap of the normalized Laplacian
// of a kNN graph says how clearly it holds k clusters (lambda_k / lambda_{k+1}: near 0 for k
// clean clusters, near 1 for none).
#pragma once

#include <cstdint>
#include <vector>

#include "neuncut/core/types.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"

namespace neuncut::detail {

/// lambda_k / lambda_{k+1} of the normalized Laplacian I - D^-1/2 W D^-1/2 of the symmetric
/// self-tuning kNN graph (10 neighbours, classic Ncut's default) of `points` as given, in
/// [0, 1]; NaN when the graph cannot say (lambda_{k+1} below 1e-3: the graph falls apart into
/// more than k near-components, as 1-D manifolds and outliers make it; or Lanczos did not
/// converge).
double eigengap_ratio(const MatrixF& points, int k, std::uint64_t seed, int threads);

/// Largest over smallest standard deviation of the non-constant columns of `x` (1 with fewer
/// than two of them).
double column_spread_ratio(const MatrixF& x);

/// Raw L2 rows are only considered when every column varies on a comparable scale (measured in
/// one unit, as iris' lengths): otherwise the directions of raw rows are those of the widest
/// columns, and one wide bimodal column makes two perfectly clean clusters that mean nothing.
inline constexpr double kCommonUnitSpread = 10;

/// The eigengap ratios of a sample of `train` (raw table rows) in the two geometries, each
/// preprocessed as training would (Preprocessor); both 0 and not compared (`compared` false)
/// when the columns' spreads differ by more than kCommonUnitSpread or a row cannot be
/// L2-normalized (its norm overflows float).
struct TableGeometry {
  bool compared = false;
  double spread_ratio = 1;  ///< column_spread_ratio of the sample.
  double standardized = 0;  ///< z-scored columns, L2-normalized rows when `l2_after_standardize`.
  double raw_l2 = 0;        ///< L2-normalized raw rows (the paper's and classic Ncut's preprocessing).
  bool choose_raw_l2 = false;
};

/// Raw L2 rows win only where the columns share a scale and their graph's eigengap ratio is
/// under kRawL2Margin times the standardized graph's (both defined): a far clearer k-cluster
/// structure. The margin is wide on purpose (docs/defaults.md, "Tables: standardized columns,
/// or raw L2 rows where the graph says so").
inline constexpr double kRawL2Margin = 0.5;

/// Rows of the training subset compared (the whole table below it): two exact kNN graphs and
/// two Lanczos runs, 0.16 s at most on the quality suite's tables (docs/defaults.md).
inline constexpr Index kTableGeometryPoints = 3000;

/// At most `max_points` rows of `train` (seeded) are compared.
TableGeometry choose_table_geometry(const MatrixF& train, int k, bool l2_after_standardize, Index max_points,
                                    std::uint64_t seed, int threads);

/// The rule NeuNcut and SpectralNet share: `scaling` and `l2` hold the resolved defaults on
/// entry; for a table (`table`: no image shape, no feature map) fitted with scaling and
/// normalize both auto (as asked), the geometries are compared on up to kTableGeometryPoints
/// rows of `train` (raw rows), with a seed of its own derived from the fit's (so that the
/// fit's other draws do not move), and `scaling`, `l2` become raw L2 rows (None, true) where
/// those win. Returns the two ratios {standardized, raw L2} when compared, for the fit's
/// result; empty otherwise.
std::vector<double> apply_table_geometry(const MatrixF& train, int k, ScalingChoice scaling_asked,
                                         RowNormalization normalize_asked, bool table, std::uint64_t fit_seed,
                                         int threads, FeatureScaling& scaling, bool& l2);

}  // namespace neuncut::detail
