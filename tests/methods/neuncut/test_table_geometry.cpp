// Which geometry a table is clustered in (table_geometry.hpp): the eigengap ratio's closed
// cases, the common-unit guard, the choice on tables built to want each geometry, the refit
// policy, and what NeuNcut and SpectralNet fits report and do with it.
#include <gtest/gtest.h>

#include <cmath>

#include "core/random.hpp"
#include "methods/neuncut/neuncut_internal.hpp"
#include "methods/neuncut/table_geometry.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"
#include "test_data.hpp"
#include "test_util.hpp"

using namespace neuncut;
using detail::choose_table_geometry;
using detail::column_spread_ratio;
using detail::eigengap_ratio;

namespace {

// Three clusters that differ in the direction of two wide columns (rays from the origin,
// each point at its own distance along its ray, as sizes of one kind of object vary), plus
// four narrower noise columns: spreads within 10x of each other. Raw L2 rows put each ray on
// one point; standardizing inflates the noise columns to the informative ones' weight.
Dataset rays_with_noise_columns(std::uint64_t seed) {
  const double directions[3][2] = {{6, 1}, {4, 4}, {1, 6}};
  detail::Rng rng(seed);
  const Index n = 300;
  Dataset d;
  d.features.resize(n, 6);
  d.labels.resize(std::size_t(n));
  for (Index i = 0; i < n; ++i) {
    const int c = int(i / 100);
    const double size = rng.uniform(0.5, 1.5);
    d.features(i, 0) = float(directions[c][0] * size + 0.15 * rng.normal());
    d.features(i, 1) = float(directions[c][1] * size + 0.15 * rng.normal());
    for (Index j = 2; j < 6; ++j) d.features(i, j) = float(0.5 * rng.normal());
    d.labels[std::size_t(i)] = c;
  }
  return d;
}

}  // namespace

TEST(EigengapRatio, NearZeroForSeparatedClustersAndLargeForOneBlob) {
  const Dataset three = neuncut::testing::synthetic(SyntheticKind::Blobs, 300, 3, 0.3, 2, 4);
  EXPECT_LT(eigengap_ratio(three.features, 3, 0, 1), 0.1);
  const MatrixF one_blob = neuncut::testing::gaussian_matrix(300, 4, 3);
  EXPECT_GT(eigengap_ratio(one_blob, 3, 0, 1), 0.5);
}

TEST(EigengapRatio, UndefinedWhenTheGraphHasMoreComponentsThanClusters) {
  // Five far-apart blobs asked for 3 clusters: lambda_4 = 0, so the ratio says nothing.
  const Dataset five = neuncut::testing::synthetic(SyntheticKind::Blobs, 500, 5, 0.05, 4, 4);
  EXPECT_TRUE(std::isnan(eigengap_ratio(five.features, 3, 0, 1)));
  // Too few points for k + 1 eigenvalues and a graph.
  EXPECT_TRUE(std::isnan(eigengap_ratio(five.features.topRows(4), 3, 0, 1)));
}

TEST(ColumnSpreadRatio, WidestOverNarrowestNonConstantColumn) {
  MatrixF x(4, 3);
  x << 0, 5, 0, 2, 5, 8, 0, 5, 0, 2, 5, 8;  // sd 1, constant, sd 4
  EXPECT_DOUBLE_EQ(column_spread_ratio(x), 4.0);
  EXPECT_DOUBLE_EQ(column_spread_ratio(MatrixF::Constant(3, 2, 1.0f)), 1.0);
}

TEST(TableGeometry, ChoosesRawL2RowsWhereDirectionsHoldTheClusters) {
  const Dataset d = rays_with_noise_columns(5);
  const detail::TableGeometry g = choose_table_geometry(d.features, 3, false, detail::kTableGeometryPoints, 0, 1);
  ASSERT_TRUE(g.compared);
  EXPECT_LT(g.spread_ratio, detail::kCommonUnitSpread);
  EXPECT_LT(g.raw_l2, detail::kRawL2Margin * g.standardized);
  EXPECT_TRUE(g.choose_raw_l2);
}

TEST(TableGeometry, KeepsStandardizedColumnsOnSeparatedBlobsAndOnMixedUnits) {
  // Clean blobs: both graphs hold exactly k components (0 and 0), a tie: the default stays.
  const Dataset blobs = neuncut::testing::synthetic(SyntheticKind::Blobs, 300, 3, 0.3, 2, 4);
  EXPECT_FALSE(choose_table_geometry(blobs.features, 3, false, 3000, 0, 1).choose_raw_l2);
  // One column 1000 times wider and bimodal: its raw L2 rows form two perfect clusters that
  // ignore the 20 columns holding the classes. Not even compared.
  Dataset mixed = neuncut::testing::synthetic(SyntheticKind::Blobs, 400, 2, 1.0, 6, 20);
  MatrixF x(mixed.features.rows(), 21);
  detail::Rng rng(7);
  for (Index i = 0; i < x.rows(); ++i) x(i, 0) = float(rng.below(2) == 0 ? -1000.0 : 1000.0);
  x.rightCols(20) = mixed.features;
  const detail::TableGeometry g = choose_table_geometry(x, 2, true, 3000, 0, 1);
  EXPECT_FALSE(g.compared);
  EXPECT_GT(g.spread_ratio, 100.0);
  EXPECT_FALSE(g.choose_raw_l2);
  // Rows whose norm overflows float have no raw L2 form (training would refuse them): not
  // compared, and a fit on them keeps standardizing instead of failing.
  const Dataset rays = rays_with_noise_columns(5);
  const MatrixF huge = rays.features * 1e30f;
  const detail::TableGeometry h = choose_table_geometry(huge, 3, false, 3000, 0, 1);
  EXPECT_LT(h.spread_ratio, detail::kCommonUnitSpread);
  EXPECT_FALSE(h.compared);
  EXPECT_FALSE(h.choose_raw_l2);
}

TEST(TableGeometry, ASubsampleIsSeeded) {
  const Dataset d = rays_with_noise_columns(8);
  const auto a = choose_table_geometry(d.features, 3, false, 150, 11, 1);
  const auto b = choose_table_geometry(d.features, 3, false, 150, 11, 1);
  EXPECT_EQ(a.standardized, b.standardized);
  EXPECT_EQ(a.raw_l2, b.raw_l2);
}

TEST(TableGeometry, RefitOnStandardizedColumnsOnlyAfterAWeakRawL2Partition) {
  NeuNcutFitResult r;
  r.geometry_eigengaps = {0.9, 0.1};
  r.scaling = FeatureScaling::None;
  for (QualityVerdict v : {QualityVerdict::Weak, QualityVerdict::Chance}) {
    r.quality.verdict = v;
    EXPECT_TRUE(refit_standardized(r));
  }
  r.quality.verdict = QualityVerdict::Good;
  EXPECT_FALSE(refit_standardized(r));
  r.quality.verdict = QualityVerdict::NotChecked;
  EXPECT_FALSE(refit_standardized(r));
  r.quality.verdict = QualityVerdict::Chance;
  r.geometry_fallback = true;  // already the refit
  EXPECT_FALSE(refit_standardized(r));
  r.geometry_fallback = false;
  r.scaling = FeatureScaling::Standardize;  // the eigengap kept the standardized columns
  EXPECT_FALSE(refit_standardized(r));
  r.scaling = FeatureScaling::None;
  r.geometry_eigengaps.clear();  // scaling none was asked for: nothing to fall back from
  EXPECT_FALSE(refit_standardized(r));
}

TEST(TableGeometry, NeuNcutFitsRaysOnRawL2RowsAndReportsIt) {
  const Dataset d = rays_with_noise_columns(5);
  NeuNcutParams p = neuncut::testing::small_network_params<NeuNcutParams>(20);
  NeuNcut model(p);
  const NeuNcutFitResult r = model.fit(d.features);
  ASSERT_EQ(r.geometry_eigengaps.size(), 2u);
  EXPECT_EQ(r.scaling, FeatureScaling::None);
  EXPECT_TRUE(r.l2_normalized);
  EXPECT_FALSE(r.geometry_fallback);
  EXPECT_EQ(model.params().scaling, ScalingChoice::Auto);  // what was asked for
  const Labels labels = model.predict(d.features);
  EXPECT_GT(clustering_accuracy(d.labels, labels), 0.95);

  // Given explicitly, the scaling is obeyed and nothing is compared.
  p.scaling = ScalingChoice::Standardize;
  NeuNcut standardized(p);
  const NeuNcutFitResult s = standardized.fit(d.features);
  EXPECT_TRUE(s.geometry_eigengaps.empty());
  EXPECT_EQ(s.scaling, FeatureScaling::Standardize);
  EXPECT_LT(clustering_accuracy(d.labels, standardized.predict(d.features)), clustering_accuracy(d.labels, labels));
}

TEST(TableGeometry, SpectralNetSeesTheGeometryNeuNcutChooses) {
  const Dataset d = rays_with_noise_columns(5);
  SpectralNetParams p = neuncut::testing::small_network_params<SpectralNetParams>(5);
  const SpectralNetFitResult r = SpectralNet(p).fit(d.features);
  ASSERT_EQ(r.geometry_eigengaps.size(), 2u);
  EXPECT_EQ(r.scaling, FeatureScaling::None);
  EXPECT_TRUE(r.l2_normalized);
  p.normalize = RowNormalization::None;  // given: obeyed, nothing compared
  const SpectralNetFitResult given = SpectralNet(p).fit(d.features);
  EXPECT_TRUE(given.geometry_eigengaps.empty());
  EXPECT_EQ(given.scaling, FeatureScaling::Standardize);
  EXPECT_FALSE(given.l2_normalized);
}
