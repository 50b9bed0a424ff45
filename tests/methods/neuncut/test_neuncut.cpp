// NeuNcut end to end: clustering quality on synthetic sets with default settings,
// reproducibility, save/load, chunked and permuted inference, schedules, collapse
// detection and input validation.
#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <thread>

#include "methods/neuncut/neuncut_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "row_invariance.hpp"
#include "test_data.hpp"
#include "test_util.hpp"

using namespace neuncut;

namespace {
Dataset blobs(Index n = 600, int clusters = 3, std::uint64_t seed = 1) {
  return neuncut::testing::synthetic(SyntheticKind::Blobs, n, clusters, 0.5, seed);
}

NeuNcutParams small_params(int k) {
  NeuNcutParams p;
  p.n_clusters = k;
  p.hidden = {32, 32};
  p.epochs = 20;
  p.threads = 1;
  return p;
}

// n images (side x side) of stripes in one of three orientations (horizontal, vertical,
// diagonal), period 4 pixels, each at a random phase, plus noise: pixels of one class barely
// correlate (the phase moves every stripe), their scattering features do.
Dataset stripes(Index n, Index side, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  Dataset ds;
  ds.features.resize(n, side * side);
  for (Index i = 0; i < n; ++i) {
    const int cls = int(i % 3);
    const float phase = unit(rng) * 6.2832f;
    for (Index y = 0; y < side; ++y)
      for (Index x = 0; x < side; ++x) {
        const float t = cls == 0 ? float(y) : cls == 1 ? float(x) : float(x + y) * 0.7071f;
        ds.features(i, y * side + x) = 0.5f + 0.4f * std::sin(1.5708f * t + phase) + 0.1f * (unit(rng) - 0.5f);
      }
    ds.labels.push_back(cls);
  }
  return ds;
}

// Three clusters with a network small enough for a quick bf16 fit.
NeuNcutParams bf16_params() {
  NeuNcutParams p;
  p.n_clusters = 3;
  p.hidden = {64, 64};
  p.threads = 2;
  p.precision = Precision::Bf16;
  return p;
}
}  // namespace

TEST(NeuNcut, RecoversBlobsWithDefaultSettings) {
  const Dataset ds = blobs(900, 3, 2);
  NeuNcutParams p;
  p.n_clusters = 3;
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  EXPECT_TRUE(r.collapse.empty()) << r.collapse;
  EXPECT_GE(clustering_accuracy(ds.labels, model.predict(ds.features)), 0.99);
}

// Two moons need the spectral warm start (the default): from a random network, training
// keeps a straight cut through both moons (ACC 0.85-0.88 for seeds 0-2), a local minimum of
// the loss (docs/defaults.md). Two seeds, to show it is not one lucky draw.
TEST(NeuNcut, RecoversTwoMoonsWithDefaultSettings) {
  for (std::uint64_t seed : {1, 2}) {
    SyntheticParams sp;
    sp.kind = SyntheticKind::Moons;
    sp.n_samples = 1000;
    sp.seed = seed;
    const Dataset ds = make_synthetic(sp);
    NeuNcutParams p;
    p.n_clusters = 2;
    p.seed = seed;
    NeuNcut model(p);
    const FitResult r = model.fit(ds.features);
    EXPECT_GE(r.init_agreement, 0.99) << "seed " << seed;
    EXPECT_GE(clustering_accuracy(ds.labels, model.predict(ds.features)), 0.95) << "seed " << seed;
  }
}

// Concentric circles, whose two rings k-means or a straight cut would split wrongly: 1500
// points, all of them in the warm start's sample (more than one batch of 1000).
namespace {
Dataset two_rings() {
  SyntheticParams sp;
  sp.kind = SyntheticKind::Circles;
  sp.n_samples = 1500;
  sp.noise = 0.03;
  sp.seed = 4;
  return make_synthetic(sp);
}

NeuNcutParams two_rings_params() {
  NeuNcutParams p;
  p.n_clusters = 2;
  p.init_sample = 1500;
  p.hidden = {64, 64};
  p.quality_points = 0;
  p.threads = 1;
  return p;
}
}  // namespace

// With the knn affinity the warm start is classic Ncut's partition of up to init_sample
// training points on the preprocessed rows: a network trained one step after it labels the
// whole set as classic Ncut on the same rows does.
TEST(NeuNcut, WarmStartReproducesClassicNcutOnTheSample) {
  const Dataset ds = two_rings();
  NeuNcutParams p = two_rings_params();
  p.epochs = 1;  // one batch of 1000: one step
  p.init_steps = 300;
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  EXPECT_GE(r.init_agreement, 0.99);

  Preprocessor pre(FeatureScaling::Standardize, false);  // what auto means for a 2-column table
  MatrixF rows = ds.features;
  pre.fit(rows);
  pre.transform_in_place(rows);
  SpectralClusteringParams ncut;
  ncut.n_clusters = 2;
  ncut.n_neighbors = p.affinity_neighbors;
  ncut.normalize = false;
  ncut.threads = 1;
  const Labels classic = fit_spectral_clustering(rows, ncut).labels;
  ASSERT_EQ(classic.size(), ds.labels.size());
  EXPECT_GE(clustering_accuracy(classic, model.predict(ds.features)), 0.99);
  EXPECT_GE(clustering_accuracy(ds.labels, classic), 0.99);  // the rings themselves
}

// init_anchor keeps the sampled rows on the warm start's partition through training: 30
// epochs later the network still labels the rings as classic Ncut does.
TEST(NeuNcut, AnchorKeepsTheWarmStartPartitionThroughTraining) {
  const Dataset ds = two_rings();
  NeuNcutParams p = two_rings_params();
  p.init_anchor = 10;
  p.epochs = 30;
  NeuNcut model(p);
  model.fit(ds.features);
  EXPECT_GE(clustering_accuracy(ds.labels, model.predict(ds.features)), 0.99);
}

// k = 50 on 150 points (3 per cluster) with the defaults: every cluster stays in use. With
// the anchor's weight not scaled by k / 10 (anchor_weight), 3 of the 50 clusters of this set
// emptied during training, as 1 to 5 did on iris, wine and glass (docs/defaults.md, "Number
// of clusters").
TEST(NeuNcut, KeepsFiftyClustersOnOneHundredFiftyPoints) {
  const Dataset ds = neuncut::testing::synthetic(SyntheticKind::Blobs, 150, 5, 2.0, 1, /*dim=*/8);
  NeuNcutParams p;
  p.n_clusters = 50;
  p.threads = 1;
  NeuNcut model(p);
  model.fit(ds.features);
  const Labels labels = model.predict(ds.features);
  EXPECT_EQ(std::set<std::int32_t>(labels.begin(), labels.end()).size(), 50u);
}

// k = N and k = N - 1: the warm start's classic Ncut needs k < N, so such a sample takes the
// dense NJW partition instead of refusing a fit the dense path always accepted.
TEST(NeuNcut, FitsAsManyClustersAsPoints) {
  const MatrixF x = MatrixF::Random(6, 3);
  for (int k : {5, 6}) {
    NeuNcutParams p;
    p.n_clusters = k;
    p.hidden = {8};
    p.epochs = 2;
    p.threads = 1;
    NeuNcut model(p);
    EXPECT_NO_THROW(model.fit(x)) << "k " << k;
    EXPECT_EQ(model.predict(x).size(), 6u) << "k " << k;
  }
}

TEST(NeuNcut, SameSeedSameThreadsGivesIdenticalModel) {
  const Dataset ds = blobs(500);
  for (int threads : {1, 2}) {
    NeuNcutParams p = small_params(3);
    p.threads = threads;
    NeuNcut a(p), b(p);
    a.fit(ds.features);
    b.fit(ds.features);
    const auto pa = a.network().parameters(), pb = b.network().parameters();
    EXPECT_TRUE(std::equal(pa.begin(), pa.end(), pb.begin())) << "threads " << threads;
    EXPECT_EQ(a.predict(ds.features), b.predict(ds.features));
  }
  NeuNcutParams p = small_params(3);
  NeuNcut a(p);
  p.seed = 7;
  NeuNcut c(p);
  a.fit(ds.features);
  c.fit(ds.features);
  EXPECT_FALSE(
      std::equal(a.network().parameters().begin(), a.network().parameters().end(), c.network().parameters().begin()));
}

TEST(NeuNcut, SaveLoadRoundTripPredictsIdentically) {
  const Dataset ds = blobs(400);
  NeuNcut model(small_params(3));
  model.fit(ds.features);
  neuncut::testing::TempDir dir;
  model.save(dir.file("m.nnc"));
  const NeuNcut loaded = NeuNcut::load(dir.file("m.nnc"));
  EXPECT_EQ(loaded.params().n_clusters, 3);
  EXPECT_EQ(loaded.params().hidden, model.params().hidden);
  EXPECT_DOUBLE_EQ(loaded.sigma(), model.sigma());
  const MatrixF pa = model.predict_proba(ds.features), pb = loaded.predict_proba(ds.features);
  EXPECT_EQ((pa - pb).cwiseAbs().maxCoeff(), 0.0f);
}

TEST(NeuNcut, ChunkedAndPermutedInferenceAgree) {
  const Dataset ds = blobs(500);
  NeuNcut model(small_params(3));
  model.fit(ds.features);
  const Labels whole = model.predict(ds.features, 100000);
  EXPECT_EQ(model.predict(ds.features, 7), whole);
  const MatrixF proba = model.predict_proba(ds.features);
  EXPECT_NEAR(proba.rowwise().sum().minCoeff(), 1.0f, 1e-5);
  // Reversing the rows reverses the labels: each row is labelled on its own.
  const MatrixF reversed = ds.features.colwise().reverse();
  const Labels rev = model.predict(reversed);
  EXPECT_TRUE(std::equal(whole.rbegin(), whole.rend(), rev.begin()));
}

TEST(NeuNcut, AllZeroRowsAreKeptAtZeroUnderL2Normalization) {
  // 20 features: rows are L2-normalized by default. A zero row (empty counts) was refused;
  // it is kept at zero, as sklearn.preprocessing.normalize does, in fit and predict.
  MatrixF x = blobs(200).features;
  MatrixF wide(x.rows(), 20);
  wide << x, x, x, x, x, x, x, x, x, x;
  wide.row(7).setZero();
  NeuNcutParams p = small_params(3);
  p.epochs = 2;
  p.scaling = ScalingChoice::None;  // standardization (the default for tables) would move the row off the origin
  NeuNcut model(p);
  model.fit(wide);
  ASSERT_TRUE(model.preprocessor().l2_normalize());
  EXPECT_EQ(model.preprocessor().transform(wide).row(7).cwiseAbs().maxCoeff(), 0.0f);
  const MatrixF proba = model.predict_proba(wide);
  EXPECT_TRUE(proba.allFinite());
  EXPECT_NEAR(proba.row(7).sum(), 1.0f, 1e-5f);
}

TEST(NeuNcut, OneClusterGivesLabelZeroAndMembershipOne) {
  const Dataset ds = blobs(200);
  NeuNcutParams p = small_params(1);
  p.epochs = 2;
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  EXPECT_TRUE(r.collapse.empty()) << r.collapse;
  EXPECT_EQ(model.predict(ds.features), Labels(std::size_t(ds.features.rows()), 0));
  EXPECT_EQ(model.predict_proba(ds.features), MatrixF::Ones(ds.features.rows(), 1));
  neuncut::testing::TempDir dir;
  model.save(dir.file("k1.nnc"));
  EXPECT_EQ(NeuNcut::load(dir.file("k1.nnc")).predict_proba(ds.features), MatrixF::Ones(ds.features.rows(), 1));
}

TEST(NeuNcut, MembershipsOfARowDoNotDependOnItsBatch) {
  // predict_proba on rows in any order and any batch gives each row the same bits (scikit-
  // learn's check_methods_sample_order_invariance, at the depth of the products), with and
  // without L2 normalization, at 1 and 2 threads; a block size below the row tile too.
  const Dataset ds = blobs(300);
  for (RowNormalization normalize : {RowNormalization::None, RowNormalization::L2}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(::testing::Message() << "normalize " << normalize << ", threads " << threads);
      NeuNcutParams p = small_params(3);
      p.normalize = normalize;
      p.threads = threads;
      p.epochs = 2;
      NeuNcut model(p);
      model.fit(ds.features);
      neuncut::testing::expect_rows_independent_of_batch(
          ds.features, [&](const MatrixF& rows) { return model.predict_proba(rows); });
      EXPECT_EQ(model.predict_proba(ds.features, 37), model.predict_proba(ds.features));
    }
  }
}

TEST(NeuNcut, GammaAndLearningRateSchedulesFollowTheirDefinitions) {
  const Dataset ds = blobs(300);
  NeuNcutParams p = small_params(3);
  p.epochs = 7;
  p.gamma = 10;
  p.gamma_factor = 2;
  p.gamma_step = 2;
  p.gamma_max = 50;
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  const std::vector<double> expected_gamma = {10, 10, 20, 20, 40, 40, 50};
  ASSERT_EQ(r.history.size(), 7u);
  for (int e = 0; e < 7; ++e) {
    EXPECT_DOUBLE_EQ(r.history[e].gamma, expected_gamma[e]);
    EXPECT_NEAR(r.history[e].learning_rate, p.learning_rate * 0.5 * (1 + std::cos(M_PI * e / 7.0)), 1e-12);
  }
}

TEST(NeuNcut, ReportsCollapseToTheTrivialSolution) {
  // Without the penalty (gamma 0) the loss is the soft cut alone, minimized by the uniform P.
  // From a random network (a spectral warm start begins at a hard partition, which 40 steps
  // do not undo).
  const Dataset ds = blobs(300);
  NeuNcutParams p = small_params(3);
  p.init = InitMethod::Random;
  p.gamma = 0;
  p.epochs = 40;
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  EXPECT_NE(r.collapse, "");
  EXPECT_NE(r.history.back().collapse, "");
  EXPECT_EQ(collapse_status(10, 10, 0.9), "");
  EXPECT_NE(collapse_status(10, 10, 0.15).description().find("near-uniform"), std::string::npos);
  EXPECT_NE(collapse_status(10, 7, 0.9).description().find("3 of 10 clusters empty"), std::string::npos);
}

TEST(NeuNcut, CollapseRecoveryGoesBackToTheBestHealthyEpoch) {
  // Without the penalty (gamma 0) the soft cut alone pulls P towards the uniform memberships:
  // from the spectral warm start (a hard, healthy partition) a large learning rate drives
  // training into that collapse within a few epochs, and again after each rollback. The
  // anchor would hold the warm start's partition and prevent the collapse: off here.
  const Dataset ds = blobs(300);
  NeuNcutParams p = small_params(3);
  p.init_anchor = 0;
  p.gamma = 0;
  p.epochs = 150;
  p.lr_schedule = LrSchedule::Constant;
  p.learning_rate = 0.1;
  p.collapse_rollbacks = 0;
  const FitResult plain = NeuNcut(p).fit(ds.features);
  ASSERT_NE(plain.collapse, "") << "the scenario must collapse without recovery";
  EXPECT_EQ(plain.collapse_rollbacks, 0);
  EXPECT_EQ(plain.restored_epoch, 0);

  p.collapse_rollbacks = 2;
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  ASSERT_EQ(r.history.size(), std::size_t(150));
  EXPECT_EQ(r.collapse_rollbacks, 2);
  double lr = p.learning_rate;
  for (const EpochStats& s : r.history) {
    EXPECT_DOUBLE_EQ(s.learning_rate, lr) << "epoch " << s.epoch;
    if (s.rolled_back_to == 0) continue;
    // A collapsed epoch goes back to the healthy epoch with the lowest loss before it.
    EXPECT_NE(s.collapse, "");
    ASSERT_LT(s.rolled_back_to, s.epoch);
    const EpochStats& target = r.history[std::size_t(s.rolled_back_to - 1)];
    EXPECT_EQ(target.collapse, "");
    for (int e = 1; e < s.epoch; ++e) {
      if (r.history[std::size_t(e - 1)].collapse.empty()) {
        EXPECT_LE(target.loss, r.history[std::size_t(e - 1)].loss);
      }
    }
    lr /= 2;
  }
  // Still collapsed at the end: the model is the best healthy epoch's network.
  EXPECT_NE(r.history.back().collapse, "");
  EXPECT_GT(r.restored_epoch, 0);
  EXPECT_EQ(r.collapse, "");
  EXPECT_GE(clustering_accuracy(ds.labels, model.predict(ds.features)), 0.95);
}

TEST(NeuNcut, CollapseRecoveryLeavesHealthyTrainingUntouched) {
  const Dataset ds = blobs(400);
  NeuNcutParams p = small_params(3);
  p.collapse_rollbacks = 0;
  NeuNcut off(p);
  const FitResult r_off = off.fit(ds.features);
  p.collapse_rollbacks = 3;
  NeuNcut on(p);
  const FitResult r_on = on.fit(ds.features);
  ASSERT_EQ(r_on.collapse, "");
  EXPECT_EQ(r_on.collapse_rollbacks, 0);
  EXPECT_EQ(r_on.restored_epoch, 0);
  EXPECT_TRUE(on.predict_proba(ds.features) == off.predict_proba(ds.features));
}

TEST(NeuNcut, CallbackCanStopTraining) {
  const Dataset ds = blobs(300);
  NeuNcut model(small_params(3));
  int calls = 0;
  EXPECT_THROW(model.fit(ds.features,
                         [&](const EpochStats& s) {
                           ++calls;
                           return s.epoch < 3;
                         }),
               Interrupted);
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(model.fitted());
}

TEST(NeuNcut, RejectsBadInputBeforeWork) {
  const Dataset ds = blobs(100);
  auto fit_with = [&](const MatrixF& X, NeuNcutParams p) { NeuNcut(p).fit(X); };
  NeuNcutParams p = small_params(3);
  EXPECT_THROW(fit_with(MatrixF(0, 2), p), InvalidArgument);
  EXPECT_THROW(fit_with(MatrixF(5, 0), p), InvalidArgument);
  MatrixF nan = ds.features;
  nan(3, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(fit_with(nan, p), InvalidArgument);
  MatrixF inf = ds.features;
  inf(4, 0) = std::numeric_limits<float>::infinity();
  EXPECT_THROW(fit_with(inf, p), InvalidArgument);
  NeuNcutParams bad = p;
  bad.n_clusters = 0;
  EXPECT_THROW(fit_with(ds.features, bad), InvalidArgument);
  bad = p;
  bad.n_clusters = 101;
  EXPECT_THROW(fit_with(ds.features, bad), InvalidArgument);
  bad = p;
  bad.sigma = -1;
  EXPECT_THROW(fit_with(ds.features, bad), InvalidArgument);
  bad = p;
  bad.batch_size = 101;
  EXPECT_THROW(fit_with(ds.features, bad), InvalidArgument);
  bad = p;
  EXPECT_THROW(neuncut::testing::set_param(bad, neuncut_param_table(), "optimizer", "sgd"), InvalidArgument);
  bad = p;
  EXPECT_THROW(neuncut::testing::set_param(bad, neuncut_param_table(), "init", "pca"), InvalidArgument);
  bad = p;
  bad.init_steps = 0;
  EXPECT_THROW(fit_with(ds.features, bad), InvalidArgument);
  bad = p;
  bad.init_sample = 1;
  EXPECT_THROW(fit_with(ds.features, bad), InvalidArgument);
  for (double anchor : {-1.0, double(NAN), double(INFINITY)}) {
    bad = p;
    bad.init_anchor = anchor;
    EXPECT_THROW(fit_with(ds.features, bad), InvalidArgument) << anchor;
  }

  NeuNcut model(p);
  EXPECT_THROW(model.predict(ds.features), InvalidArgument);  // not fitted
  model.fit(ds.features);
  EXPECT_THROW(model.predict(MatrixF::Random(5, 3)), InvalidArgument);  // 3 features, trained on 2
}

TEST(NeuNcut, ParameterTableRoundTripsEveryField) {
  NeuNcutParams p;
  p.hidden = {7, 3};
  p.gamma = 12.5;
  p.seed = 99;
  p.optimizer = WeightDecayMode::Decoupled;
  NeuNcutParams q;
  for (const auto& info : neuncut_param_table()) info.set(q, info.get(p));
  for (const auto& info : neuncut_param_table()) EXPECT_EQ(info.get(q), info.get(p)) << info.name;
  EXPECT_THROW(neuncut_param_table().front().set(q, "ten"), InvalidArgument);
}

TEST(NeuNcut, AutomaticEpochsGiveAtLeast500StepsAndAtLeast50Epochs) {
  EXPECT_EQ(resolve_epochs(7, 1), 7);    // given: used as is
  EXPECT_EQ(resolve_epochs(0, 20), 50);  // Fashion-MNIST: 20,000 / 1000 = 20 steps per epoch
  EXPECT_EQ(resolve_epochs(0, 1), 500);  // data within one batch
  EXPECT_EQ(resolve_epochs(0, 3), 167);  // rounded up: 501 steps
  EXPECT_EQ(resolve_epochs(0, 100), 50);
}

// --- precision bf16 (mixed precision through oneDNN) ---

#define SKIP_WITHOUT_BF16() \
  if (!bf16_available()) GTEST_SKIP() << "bf16 unavailable: " << bf16_unavailable_reason()

TEST(NeuNcut, RejectsUnknownOrUnavailablePrecisionBeforeWork) {
  const Dataset ds = blobs(100);
  NeuNcutParams p = small_params(3);
  try {
    neuncut::testing::set_param(p, neuncut_param_table(), "precision", "fp16");
    NeuNcut(p).fit(ds.features);
    ADD_FAILURE() << "fp16 accepted";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("'fp16'"), std::string::npos) << e.what();
  }
  NeuNcut fitted(small_params(3));
  fitted.fit(ds.features);
  EXPECT_THROW(fitted.set_precision("fp16"), InvalidArgument);
  if (bf16_available()) return;  // the CLI test covers a CPU limited below bf16
  p.precision = Precision::Bf16;
  try {
    NeuNcut(p).fit(ds.features);
    ADD_FAILURE() << "bf16 accepted where unavailable";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(bf16_unavailable_reason()), std::string::npos) << e.what();
  }
  EXPECT_THROW(fitted.set_precision("bf16"), InvalidArgument);
}

// Low-dimensional blobs: the network trains in bf16; the affinity stays fp32 (the rows are
// standardized, not unit length, so its Gram matrix would lose the small distances).
TEST(NeuNcut, Bf16RecoversBlobs) {
  SKIP_WITHOUT_BF16();
  const Dataset ds = blobs(900, 3, 2);
  NeuNcut model(bf16_params());
  const FitResult r = model.fit(ds.features);
  EXPECT_EQ(r.precision, Precision::Bf16);
  EXPECT_EQ(r.affinity_precision, Precision::Fp32);
  EXPECT_TRUE(r.collapse.empty()) << r.collapse;
  EXPECT_GE(clustering_accuracy(ds.labels, model.predict(ds.features)), 0.99);
}

// 40-dimensional blobs are L2-normalized: with bf16 the Gaussian affinity's Gram matrix is
// bf16 too (the kNN affinity has no bf16 path).
TEST(NeuNcut, Bf16RecoversNormalizedBlobsWithBf16Affinity) {
  SKIP_WITHOUT_BF16();
  SyntheticParams sp;
  sp.n_samples = 900;
  sp.n_clusters = 3;
  sp.dim = 40;
  sp.noise = 2.0;
  sp.seed = 3;
  const Dataset ds = make_synthetic(sp);
  NeuNcutParams p = bf16_params();
  p.affinity = BatchAffinityKind::Gaussian;
  NeuNcut model(p);
  const FitResult r = model.fit(ds.features);
  EXPECT_TRUE(r.l2_normalized);
  ASSERT_GE(r.sigma, NeuNcut::kBf16AffinityMinSigma);
  EXPECT_EQ(r.affinity_precision, Precision::Bf16);
  EXPECT_GE(clustering_accuracy(ds.labels, model.predict(ds.features)), 0.99);
}

TEST(NeuNcut, Bf16ModelIsReproducibleAndKeepsItsPrecisionThroughSaveLoad) {
  SKIP_WITHOUT_BF16();
  const Dataset ds = blobs(500);
  NeuNcutParams p = small_params(3);
  p.precision = Precision::Bf16;
  p.threads = 2;
  NeuNcut a(p), b(p);
  a.fit(ds.features);
  b.fit(ds.features);
  EXPECT_TRUE(
      std::equal(a.network().parameters().begin(), a.network().parameters().end(), b.network().parameters().begin()));
  neuncut::testing::TempDir dir;
  a.save(dir.file("m.nnc"));
  NeuNcut loaded = NeuNcut::load(dir.file("m.nnc"));
  EXPECT_EQ(loaded.params().precision, Precision::Bf16);
  EXPECT_EQ(loaded.network().precision(), Precision::Bf16);
  const MatrixF pa = a.predict_proba(ds.features), pb = loaded.predict_proba(ds.features);
  EXPECT_EQ((pa - pb).cwiseAbs().maxCoeff(), 0.0f);
  // Switched to fp32, the same weights give nearly the same memberships.
  loaded.set_precision("fp32");
  EXPECT_EQ(loaded.network().precision(), Precision::Fp32);
  EXPECT_LT((loaded.predict_proba(ds.features) - pa).cwiseAbs().maxCoeff(), 0.05f);
  EXPECT_GE(clustering_accuracy(a.predict(ds.features), loaded.predict(ds.features)), 0.99);
}

TEST(NeuNcut, ScatteringFeaturesClusterStripesByOrientationAtAnyPhase) {
  const Dataset ds = stripes(300, 16, 4);
  NeuNcutParams p = small_params(3);
  p.image_shape = "16x16";  // features auto: scattering
  NeuNcut model(p);
  const FitResult fit = model.fit(ds.features);
  EXPECT_EQ(fit.features, FeatureMap::Scattering);
  EXPECT_EQ(fit.feature_dim, 400);  // 16 + 2^2 -> 32 x 32 grid, 4 x 4 cells, 25 channels
  EXPECT_EQ(model.input_dim(), 256);
  EXPECT_EQ(model.feature_dim(), 400);
  EXPECT_GE(clustering_accuracy(ds.labels, model.predict(ds.features)), 0.95);

  // The model keeps its feature map: a reloaded model labels raw images identically.
  neuncut::testing::TempDir dir;
  model.save(dir.file("stripes.nnc"));
  const NeuNcut loaded = NeuNcut::load(dir.file("stripes.nnc"));
  EXPECT_EQ(loaded.feature_dim(), 400);
  EXPECT_EQ(loaded.preprocessor().features().params().height, 16);
  EXPECT_EQ((loaded.predict_proba(ds.features) - model.predict_proba(ds.features)).cwiseAbs().maxCoeff(), 0.0f);
  // Each row on its own, whatever the chunking.
  EXPECT_EQ(loaded.predict(ds.features, 7), model.predict(ds.features));
}

TEST(NeuNcut, FeatureChoiceFollowsTheImageShapeAndIsValidated) {
  const Dataset ds = stripes(60, 8, 1);
  NeuNcutParams p = small_params(3);
  p.epochs = 1;
  p.image_shape = "8x8";
  p.features = FeatureMap::Raw;  // rows as given even when they are images
  NeuNcut raw(p);
  EXPECT_EQ(raw.fit(ds.features).feature_dim, 64);
  p.features = FeatureMap::Auto;
  p.image_shape = "";  // no shape: auto means raw
  NeuNcut plain(p);
  EXPECT_EQ(plain.fit(ds.features).features, FeatureMap::Raw);
  p.features = FeatureMap::Scattering;  // asked for, but no shape
  EXPECT_THROW(NeuNcut(p).fit(ds.features), InvalidArgument);
  p.image_shape = "9x9";  // 81 pixels, rows have 64
  EXPECT_THROW(NeuNcut(p).fit(ds.features), InvalidArgument);
  p.image_shape = "8by8";
  EXPECT_THROW(NeuNcut(p).fit(ds.features), InvalidArgument);
  p.image_shape = "8x8";
  p.scattering_order = 3;
  EXPECT_THROW(NeuNcut(p).fit(ds.features), InvalidArgument);
  p.scattering_order = 2;
  EXPECT_THROW(neuncut::testing::set_param(p, neuncut_param_table(), "sigma_rule", "widest"), InvalidArgument);
}

namespace {
using neuncut::testing::RecordingRows;

bool same_parameters(const NeuNcut& a, const NeuNcut& b) {
  const auto pa = a.network().parameters(), pb = b.network().parameters();
  return pa.size() == pb.size() && std::equal(pa.begin(), pa.end(), pb.begin());
}
}  // namespace

// Issue 14: fit on a RowAccess reads only the training subset and the quality check's sample
// (each candidate's subset under select auto), and trains the model of fit on the whole
// matrix, bit for bit, with the same result.
TEST(NeuNcut, FitOnRowAccessReadsOnlyItsSamplesAndTrainsTheSameModel) {
  const Dataset ds = blobs(600);
  for (Selection select : {Selection::None, Selection::Auto}) {
    NeuNcutParams p = small_params(3);
    p.train_size = 150;
    p.quality_points = 100;
    p.select = select;
    p.select_candidates = 2;
    NeuNcut whole(p), sampled(p);
    const NeuNcutFitResult a = whole.fit(ds.features);
    RecordingRows rows(ds.features);
    const NeuNcutFitResult b = sampled.fit(rows);
    const std::size_t trainings = select == Selection::Auto ? 2 : 1;
    EXPECT_EQ(rows.read.size(), trainings * 150 + 100) << to_string(select);
    EXPECT_TRUE(same_parameters(whole, sampled)) << to_string(select);
    EXPECT_EQ(whole.predict(ds.features), sampled.predict(ds.features));
    EXPECT_EQ(a.history.back().loss, b.history.back().loss);
    EXPECT_EQ(a.quality.ncut, b.quality.ncut);
    EXPECT_EQ(a.selected_candidate, b.selected_candidate);
  }
}

// The rows a RowAccess fit reads are checked, the message naming the row of the data set; a
// row it never reads is not (neuncut fit meets it when labelling the file).
TEST(NeuNcut, FitOnRowAccessChecksTheRowsItReads) {
  const Dataset ds = blobs(600);
  NeuNcutParams p = small_params(3);
  p.train_size = 150;
  p.quality_points = 100;
  RecordingRows clean(ds.features);
  NeuNcut(p).fit(clean);
  const std::set<Index> read(clean.read.begin(), clean.read.end());
  const Index sampled_row = clean.read.front();  // the training subset's first row
  Index unread_row = 0;
  while (read.count(unread_row)) ++unread_row;

  MatrixF bad = ds.features;
  bad(sampled_row, 1) = std::numeric_limits<float>::quiet_NaN();
  RecordingRows bad_rows(bad);
  try {
    NeuNcut(p).fit(bad_rows);
    ADD_FAILURE() << "a NaN in a sampled row was not refused";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(
        std::string(e.what()).find("training data contains NaN at row " + std::to_string(sampled_row) + ", column 1"),
        std::string::npos)
        << e.what();
  }
  MatrixF unread = ds.features;
  unread(unread_row, 0) = std::numeric_limits<float>::infinity();
  RecordingRows unread_rows(unread);
  NeuNcut model(p);
  EXPECT_NO_THROW(model.fit(unread_rows));
  EXPECT_THROW(model.predict(unread), InvalidArgument);
  EXPECT_THROW(NeuNcut(p).fit(unread), InvalidArgument);  // a matrix is checked whole
}

namespace {
// An allreduce between threads of one process, standing in for MPI's: each caller blocks until
// all `ranks` have given their values, then gets their sum (for two ranks a + b, the same sum
// whichever arrives first).
class ThreadAllreduce {
 public:
  explicit ThreadAllreduce(int ranks) : ranks_(ranks) {}
  void sum(double* values, std::size_t n) {
    std::unique_lock<std::mutex> lock(mutex_);
    const unsigned generation = generation_;
    if (arrived_ == 0) acc_.assign(values, values + n);
    else
      for (std::size_t i = 0; i < n; ++i) acc_[i] += values[i];
    if (++arrived_ == ranks_) {
      result_ = acc_;
      arrived_ = 0;
      ++generation_;
      done_.notify_all();
    } else {
      done_.wait(lock, [&] { return generation_ != generation; });
    }
    std::copy(result_.begin(), result_.end(), values);
    ++calls;
  }
  int calls = 0;

 private:
  int ranks_, arrived_ = 0;
  unsigned generation_ = 0;
  std::vector<double> acc_, result_;
  std::mutex mutex_;
  std::condition_variable done_;
};
}  // namespace

// Issue 14: data-parallel training. Two ranks (threads exchanging through ThreadAllreduce) train
// identical networks, each on half of every epoch's batches, and recover the blobs; one rank is
// the single-process fit bit for bit and exchanges nothing; more ranks than batches, a rank out
// of range and several ranks without a sum are refused.
TEST(NeuNcut, DataParallelRanksTrainOneModel) {
  const Dataset ds = blobs(2000);
  NeuNcutParams p = small_params(3);
  p.batch_size = 250;  // 8 batches an epoch: 4 per rank
  NeuNcut single(p);
  single.fit(ds.features);
  NeuNcut one(p);
  one.set_data_parallel({0, 1, {}});
  one.fit(ds.features);
  EXPECT_TRUE(same_parameters(single, one));

  ThreadAllreduce allreduce(2);
  std::vector<NeuNcut> ranks(2, NeuNcut(p));
  std::vector<NeuNcutFitResult> results(2);
  std::vector<std::thread> threads;
  for (int r = 0; r < 2; ++r) {
    ranks[std::size_t(r)].set_data_parallel({r, 2, [&](double* v, std::size_t n) { allreduce.sum(v, n); }});
    threads.emplace_back([&, r] { results[std::size_t(r)] = ranks[std::size_t(r)].fit(ds.features); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(same_parameters(ranks[0], ranks[1]));
  EXPECT_FALSE(same_parameters(ranks[0], single));
  // Per rank and epoch: 4 gradient exchanges and one of the statistics.
  EXPECT_EQ(allreduce.calls, 2 * p.epochs * (4 + 1));
  EXPECT_EQ(results[0].history.back().loss, results[1].history.back().loss);
  EXPECT_GE(score_clustering(ds.labels, ranks[0].predict(ds.features)).acc, 0.99);

  NeuNcut too_many(p);
  too_many.set_data_parallel({0, 9, [](double*, std::size_t) {}});
  EXPECT_THROW(too_many.fit(ds.features), InvalidArgument);
  EXPECT_THROW(NeuNcut(p).set_data_parallel({2, 2, [](double*, std::size_t) {}}), InvalidArgument);
  EXPECT_THROW(NeuNcut(p).set_data_parallel({0, 2, {}}), InvalidArgument);
}
