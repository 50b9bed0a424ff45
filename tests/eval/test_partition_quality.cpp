// The label-free quality check (partition_quality.hpp) and NeuNcut's use of it: the discrete
// Ncut against its closed forms, the verdicts on a true, a random and a collapsed partition,
// a fit that is good and a fit forced to ignore the data's structure; the paper recipe and
// model selection among restarts.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "methods/neuncut/neuncut_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/eval/partition_quality.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "test_data.hpp"
#include "test_util.hpp"

using namespace neuncut;

namespace {
Dataset blobs(Index n, int clusters, std::uint64_t seed) {
  return neuncut::testing::synthetic(SyntheticKind::Blobs, n, clusters, 0.5, seed);
}

NeuNcutParams small_params(int epochs) { return neuncut::testing::small_network_params<NeuNcutParams>(epochs); }

Labels random_labels(Index n, int k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Labels l(static_cast<std::size_t>(n));
  for (auto& v : l) v = std::int32_t(rng() % std::uint64_t(k));
  return l;
}
}  // namespace

TEST(PartitionQuality, NcutIsZeroForDisconnectedComponentsAndCountsEmptyClustersAsOne) {
  // Two groups 100 apart: no kNN edge (10 neighbours of 30 points) crosses between them.
  MatrixF x(60, 2);
  std::mt19937_64 rng(3);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  Labels truth;
  for (Index i = 0; i < 60; ++i) {
    x(i, 0) = noise(rng) + (i < 30 ? 0.0f : 100.0f);
    x(i, 1) = noise(rng);
    truth.push_back(i < 30 ? 0 : 1);
  }
  const QualityGraph g(x, 60, 10, 0, 1);
  EXPECT_NEAR(g.ncut(truth, 2), 0.0, 1e-12);
  // One cluster holding everything: the whole graph has no cut, the empty cluster counts 1.
  EXPECT_NEAR(g.ncut(Labels(60, 0), 2), 1.0, 1e-12);
  // A third, empty label adds exactly 1.
  EXPECT_NEAR(g.ncut(truth, 3), 1.0, 1e-12);
  // Any split of one component cuts edges.
  Labels split = truth;
  split[0] = 1;
  EXPECT_GT(g.ncut(split, 2), 0.0);
  EXPECT_THROW(g.ncut(Labels(59, 0), 2), InvalidArgument);
  EXPECT_THROW(g.ncut(Labels(60, 2), 2), InvalidArgument);
}

TEST(PartitionQuality, TruePartitionIsGoodRandomIsChance) {
  const Dataset ds = blobs(900, 4, 5);
  const QualityGraph g(ds.features, 600, 10, 1, 1);
  Labels truth;
  for (Index r : g.rows()) truth.push_back(ds.labels[r]);
  const PartitionQuality good = g.assess(truth, 4, 2, 1);
  EXPECT_EQ(good.verdict, QualityVerdict::Good);
  EXPECT_EQ(good.sample_points, 600);
  EXPECT_LT(good.relative, 0.2);  // about k-means' level: both find the blobs
  EXPECT_LT(good.ncut, good.chance_ncut);
  EXPECT_TRUE(good.advice.empty());

  const PartitionQuality chance = g.assess(random_labels(600, 4, 9), 4, 2, 1);
  EXPECT_EQ(chance.verdict, QualityVerdict::Chance);
  EXPECT_GT(chance.relative, 0.8);
  EXPECT_FALSE(chance.advice.empty());
  // The chance level of k equal random clusters is about k - 1 (each keeps 1/k of its volume).
  EXPECT_NEAR(chance.chance_ncut, 3.0, 0.2);
}

TEST(PartitionQuality, VerdictThresholdsAreOrdered) {
  EXPECT_EQ(quality_verdict(-0.5), QualityVerdict::Good);
  EXPECT_EQ(quality_verdict(0.0), QualityVerdict::Good);
  EXPECT_EQ(quality_verdict(0.5), QualityVerdict::Weak);
  EXPECT_EQ(quality_verdict(1.0), QualityVerdict::Chance);
  EXPECT_EQ(to_string(QualityVerdict::Chance), "chance");
}

TEST(PartitionQuality, GoodFitIsReportedGood) {
  const Dataset ds = blobs(600, 3, 1);
  NeuNcutParams p = small_params(20);
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  EXPECT_GE(neuncut::clustering_accuracy(ds.labels, model.predict(ds.features)), 0.95);
  EXPECT_EQ(r.quality.verdict, QualityVerdict::Good);
  EXPECT_EQ(r.quality.sample_points, 600);
  // The same check, called again with the same seed, gives the same numbers.
  p.quality_points = 0;
  NeuNcut unchecked(p);
  EXPECT_EQ(unchecked.fit(ds.features).quality.verdict, QualityVerdict::NotChecked);
}

// The failure of issue 13 made on purpose: one pure-noise column in units 10,000 times larger
// than the 20 informative ones, and a model told to neither scale nor normalize, so that its
// network and affinity see almost only the noise. Its partition is then unrelated to the
// clusters; the check, which z-scores every feature, must say so.
TEST(PartitionQuality, FitForcedOntoNoiseIsFlagged) {
  const Index n = 900, informative = 20;
  std::mt19937_64 rng(11);
  std::normal_distribution<float> unit(0.0f, 1.0f);
  MatrixF x(n, informative + 1);
  Labels truth;
  for (Index i = 0; i < n; ++i) {
    const int c = int(i % 3);
    for (Index j = 0; j < informative; ++j) x(i, j) = unit(rng) + (j % 3 == c ? 6.0f : 0.0f);
    x(i, informative) = 1e4f * unit(rng);
    truth.push_back(c);
  }
  NeuNcutParams p = small_params(20);
  p.scaling = ScalingChoice::None;
  p.normalize = RowNormalization::None;
  NeuNcut model(p);
  const FitResult r = model.fit(x);
  const double acc = neuncut::clustering_accuracy(truth, model.predict(x));
  EXPECT_LT(acc, 0.6) << "the construction failed: the model found the clusters";
  EXPECT_NE(r.quality.verdict, QualityVerdict::Good) << "relative " << r.quality.relative;
  EXPECT_FALSE(r.quality.advice.empty());
  // The defaults standardize the columns and find the clusters; the check agrees.
  p.scaling = ScalingChoice::Auto;
  p.normalize = RowNormalization::Auto;
  NeuNcut fixed(p);
  const FitResult good = fixed.fit(x);
  EXPECT_GE(neuncut::clustering_accuracy(truth, fixed.predict(x)), 0.95);
  EXPECT_EQ(good.quality.verdict, QualityVerdict::Good) << "relative " << good.quality.relative;
}

TEST(Recipe, PaperSetsParametersLeftAtDefaultsOnly) {
  NeuNcutParams p;
  p.recipe = Recipe::Paper;
  p.learning_rate = 2e-3;  // given explicitly: wins over the recipe's 5e-3
  const NeuNcutParams r = resolve_recipe(p);
  EXPECT_EQ(r.init, InitMethod::Random);
  EXPECT_EQ(r.affinity, BatchAffinityKind::Gaussian);
  EXPECT_EQ(r.normalize, RowNormalization::L2);
  EXPECT_EQ(r.scaling, ScalingChoice::None);
  EXPECT_EQ(r.sigma, 3.0);
  EXPECT_EQ(r.epochs, 300);
  EXPECT_EQ(r.batch_size, 0);  // min(1000, n): the paper's 1000 wherever the data allows
  EXPECT_EQ(r.gamma, 80.0);
  EXPECT_EQ(r.collapse_rollbacks, 0);
  EXPECT_EQ(r.learning_rate, 2e-3);
  // The default recipe changes nothing; an unknown one is refused by name.
  NeuNcutParams d;
  d.learning_rate = 2e-3;
  EXPECT_EQ(resolve_recipe(d).learning_rate, 2e-3);
  EXPECT_EQ(resolve_recipe(d).init, NeuNcutParams{}.init);
  EXPECT_THROW(neuncut::testing::set_param(d, neuncut_param_table(), "recipe", "papr"), InvalidArgument);
}

TEST(Select, AutoKeepsTheCandidateWithTheLowestCheckNcut) {
  const Dataset ds = blobs(600, 3, 2);
  NeuNcutParams p = small_params(10);
  p.select = Selection::Auto;
  p.select_candidates = 3;
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  ASSERT_EQ(r.candidate_ncuts.size(), 3u);
  ASSERT_GE(r.selected_candidate, 0);
  for (double v : r.candidate_ncuts) EXPECT_LE(r.candidate_ncuts[std::size_t(r.selected_candidate)], v);
  EXPECT_EQ(model.params().seed, p.seed);  // the model records what was asked
  EXPECT_EQ(model.params().select, Selection::Auto);
  // The kept network is the candidate's own: the plain fit with that candidate's seed.
  NeuNcutParams single = p;
  single.select = Selection::None;
  single.seed = p.seed + std::uint64_t(r.selected_candidate);
  NeuNcut same(single);
  same.fit(ds.features);
  EXPECT_EQ(same.predict(ds.features), model.predict(ds.features));
  // Candidate 0 is the plain fit with the given seed.
  single.seed = p.seed;
  NeuNcut first(single);
  const FitResult r0 = first.fit(ds.features);
  EXPECT_EQ(r0.selected_candidate, -1);
  EXPECT_TRUE(r0.candidate_ncuts.empty());
  p.select_candidates = 1;
  EXPECT_THROW(validate(p), InvalidArgument);
}
