#include "neuncut/methods/spectralnet/spectralnet.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/random.hpp"
#include "methods/spectralnet/spectralnet_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/model_file.hpp"
#include "row_invariance.hpp"
#include "test_util.hpp"

namespace neuncut {
namespace {

Dataset blobs(Index n, int k, std::uint64_t seed) {
  SyntheticParams p;
  p.kind = SyntheticKind::Blobs;
  p.n_samples = n;
  p.n_clusters = k;
  p.dim = 5;
  p.noise = 0.5;
  p.seed = seed;
  return make_synthetic(p);
}

SpectralNetParams small_params(int k) {
  SpectralNetParams p;
  p.n_clusters = k;
  p.hidden = {32, 32};
  p.epochs = 15;
  p.batch_size = 256;
  p.learning_rate = 3e-3;
  p.normalize = RowNormalization::None;
  p.scaling = ScalingChoice::None;
  p.kmeans_n_init = 3;
  p.threads = 2;
  return p;
}

TEST(SpectralNet, OrthonormalizationMakesBatchOrthonormal) {
  detail::Rng rng(1);
  MatrixF out(200, 4);
  for (Index i = 0; i < out.size(); ++i) out.data()[i] = float(rng.normal() + 0.3);
  bool fallback = true;
  const MatrixD m = detail::orthonormalizer(out, 1e-6, &fallback);
  EXPECT_FALSE(fallback);
  const MatrixD y = out.cast<double>() * m;
  EXPECT_LT((y.transpose() * y / 200.0 - MatrixD::Identity(4, 4)).cwiseAbs().maxCoeff(), 1e-5);
}

// The loss as a function of the network outputs F alone: Y = F M(F), M from F itself.
double orthonormalized_loss(const MatrixF& f, const MatrixF& w) {
  const MatrixF y = f * detail::orthonormalizer(f, 1e-6, nullptr).cast<float>();
  return detail::spectralnet_loss(y, w, nullptr);
}

TEST(SpectralNet, GradientThroughOrthonormalizerMatchesFiniteDifferences) {
  detail::Rng rng(3);
  const Index m = 40, k = 3;
  MatrixF f(m, k), x(m, 2);
  for (Index i = 0; i < f.size(); ++i) f.data()[i] = float(rng.normal() + 0.2);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.normal());
  const MatrixF w = knn_batch_affinity(x, 5);
  const MatrixF ortho = detail::orthonormalizer(f, 1e-6, nullptr).cast<float>();
  const MatrixF y = f * ortho;
  MatrixF grad_y;
  detail::spectralnet_loss(y, w, &grad_y);
  const MatrixF analytic = detail::gradient_through_orthonormalizer(f, y, grad_y, ortho);
  const MatrixF fixed_m = grad_y * ortho.transpose();
  double worst = 0, scale = 0, fixed_gap = 0;
  for (Index i = 0; i < m; ++i)
    for (Index c = 0; c < k; ++c) {
      const float h = 1e-2f;
      MatrixF plus = f, minus = f;
      plus(i, c) += h;
      minus(i, c) -= h;
      const double numeric = (orthonormalized_loss(plus, w) - orthonormalized_loss(minus, w)) / (2.0 * h);
      worst = std::max(worst, std::abs(numeric - double(analytic(i, c))));
      fixed_gap = std::max(fixed_gap, std::abs(numeric - double(fixed_m(i, c))));
      scale = std::max(scale, std::abs(numeric));
    }
  EXPECT_LT(worst, 2e-2 * scale) << "scale " << scale;
  // Holding M fixed is not the gradient of this loss: the correction term matters.
  EXPECT_GT(fixed_gap, 10 * worst);
}

// Two moons with the defaults but narrow layers: the Fiedler direction of the kNN graph
// separates the moons, which k-means on the raw points cannot do (docs/baselines.md).
TEST(SpectralNet, DefaultsSeparateTwoMoons) {
  SyntheticParams sp;
  sp.kind = SyntheticKind::Moons;
  sp.n_samples = 400;
  sp.n_clusters = 2;
  sp.noise = 0.05;
  sp.seed = 1;
  const Dataset d = make_synthetic(sp);
  SpectralNetParams p;
  p.n_clusters = 2;
  p.hidden = {64, 64};
  p.threads = 1;
  SpectralNet model(p);
  const SpectralNetFitResult r = model.fit(d.features);
  EXPECT_FALSE(model.preprocessor().l2_normalize());  // 2 features: the geometry is kept
  EXPECT_EQ(model.preprocessor().scaling(), FeatureScaling::Standardize);
  EXPECT_GE(Index(r.history.size()) * (r.train_points / r.batch_size), 1500);  // epochs auto: min_steps steps
  EXPECT_GT(clustering_accuracy(d.labels, r.labels), 0.98);
}

// A model written by neuncut 0.1 (normalize still a bool) with the labels it gave; later
// releases must keep reading it and predicting the same labels.
TEST(SpectralNet, ReadsVersion1Fixture) {
  const std::string dir = NEUNCUT_TEST_DATA_DIR;
  const SpectralNet model = SpectralNet::load(dir + "/spectralnet_v1_blobs.nnc");
  EXPECT_EQ(model.params().normalize, RowNormalization::L2);
  EXPECT_EQ(model.params().scaling, ScalingChoice::None);
  EXPECT_EQ(model.params().features, FeatureMap::Raw);
  const MatrixF x = read_npy_matrix(dir + "/blobs_200.npy");
  EXPECT_EQ(model.predict(x), read_npy_labels(dir + "/spectralnet_v1_blobs_labels.npy"));
}

TEST(SpectralNet, ImagesGetTheScatteringFeatures) {
  const Dataset d = blobs(120, 2, 9);
  MatrixF images(120, 64);
  for (Index i = 0; i < 120; ++i)
    for (Index j = 0; j < 64; ++j) images(i, j) = d.features(i, j % 5) + 0.1f * float(j);
  SpectralNetParams p = small_params(2);
  p.normalize = RowNormalization::Auto;
  p.scaling = ScalingChoice::Auto;
  p.image_shape = "8x8";
  p.epochs = 1;
  p.batch_size = 60;
  SpectralNet model(p);
  model.fit(images);
  EXPECT_FALSE(model.preprocessor().features().empty());
  EXPECT_EQ(model.network().widths().front(), model.preprocessor().output_dim());
  neuncut::testing::TempDir dir;
  model.save(dir.file("img.nnc"));
  EXPECT_EQ(SpectralNet::load(dir.file("img.nnc")).predict(images), model.predict(images));
}

TEST(SpectralNet, RankDeficientBatchUsesRidgeFallback) {
  MatrixF out(100, 3);
  detail::Rng rng(2);
  for (Index i = 0; i < 100; ++i) {
    out(i, 0) = float(rng.normal());
    out(i, 1) = 2 * out(i, 0);  // rank 2
    out(i, 2) = float(rng.normal());
  }
  bool fallback = false;
  const MatrixD m = detail::orthonormalizer(out, 1e-6, &fallback);
  EXPECT_TRUE(fallback);
  EXPECT_TRUE(m.allFinite());
}

TEST(SpectralNet, LossGradientMatchesFiniteDifferences) {
  detail::Rng rng(3);
  MatrixF x(30, 3), y(30, 2);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.normal());
  for (Index i = 0; i < y.size(); ++i) y.data()[i] = float(rng.normal());
  const MatrixF w = knn_batch_affinity(x, 4);
  MatrixF grad;
  detail::spectralnet_loss(y, w, &grad);
  // Direct definition of the loss.
  auto direct = [&](const MatrixF& yy) {
    double s = 0;
    for (Index i = 0; i < 30; ++i)
      for (Index j = 0; j < 30; ++j) s += w(i, j) * (yy.row(i) - yy.row(j)).cast<double>().squaredNorm();
    return s / 30;
  };
  EXPECT_NEAR(detail::spectralnet_loss(y, w, nullptr), direct(y), 1e-4 * direct(y));
  for (Index t = 0; t < 10; ++t) {
    const Index i = Index(rng.below(30)), j = Index(rng.below(2));
    MatrixF plus = y, minus = y;
    plus(i, j) += 1e-2f;
    minus(i, j) -= 1e-2f;
    EXPECT_NEAR((direct(plus) - direct(minus)) / 2e-2, grad(i, j), 2e-3 * (1 + std::abs(grad(i, j))));
  }
}

TEST(SpectralNet, RecoversBlobsDeterministicallyAndRoundTrips) {
  const Dataset d = blobs(1200, 3, 4);
  // Two threads (small_params): a second fit in the same process must repeat the first bit
  // for bit, which needs every Eigen view over flat parameter buffers to be aligned alike.
  SpectralNetParams p1 = small_params(3);
  SpectralNet net(p1);
  std::vector<double> losses;
  const SpectralNetFitResult r = net.fit(d.features, [&](const SpectralNetEpochStats& s) {
    losses.push_back(s.loss);
    return true;
  });
  EXPECT_EQ(losses.size(), 15u);
  EXPECT_GE(clustering_accuracy(d.labels, r.labels), 0.99) << r.message();
  EXPECT_EQ(net.ortho_matrix().rows(), 3);
  // The stored orthonormalization makes the training embedding orthonormal.
  const MatrixF y = net.embed(d.features);
  EXPECT_LT((y.transpose() * y / float(y.rows()) - MatrixF::Identity(3, 3)).cwiseAbs().maxCoeff(), 1e-3f);
  // Stable labels: predict twice, then after save/load.
  EXPECT_EQ(net.predict(d.features), r.labels);
  testing::TempDir dir;
  net.save(dir.file("sn.nnc"));
  const SpectralNet loaded = SpectralNet::load(dir.file("sn.nnc"));
  EXPECT_EQ(loaded.predict(d.features), r.labels);
  EXPECT_EQ(loaded.params().hidden, net.params().hidden);
  EXPECT_THROW(SpectralNet::load((write_model_file(dir.file("km.nnc"), ModelMethod::KMeans, {}), dir.file("km.nnc"))),
               FormatError);
  // Same seed, same model.
  SpectralNet again(p1);
  const SpectralNetFitResult r2 = again.fit(d.features);
  EXPECT_EQ(r2.labels, r.labels);
  EXPECT_TRUE(std::equal(again.network().parameters().begin(), again.network().parameters().end(),
                         net.network().parameters().begin()));
}

TEST(SpectralNet, EmbeddingOfARowDoesNotDependOnItsBatch) {
  // transform (embed) and predict on rows in any order and any batch: the same bits per row
  // (scikit-learn's check_methods_sample_order_invariance failed by 1.5e-7 on AVX2).
  const Dataset ds = blobs(300, 3, 4);
  for (bool normalize : {false, true}) {
    SCOPED_TRACE(::testing::Message() << "normalize " << normalize);
    SpectralNetParams p = small_params(3);
    p.normalize = normalize ? RowNormalization::L2 : RowNormalization::None;
    p.epochs = 2;
    p.batch_size = 100;
    SpectralNet model(p);
    model.fit(ds.features);
    neuncut::testing::expect_rows_independent_of_batch(ds.features,
                                                       [&](const MatrixF& rows) { return model.embed(rows); });
    const Labels labels = model.predict(ds.features);
    neuncut::testing::expect_rows_independent_of_batch(ds.features, [&](const MatrixF& rows) {
      const Labels l = model.predict(rows);
      return MatrixF(Eigen::Map<const Eigen::Matrix<std::int32_t, -1, 1>>(l.data(), Index(l.size())).cast<float>());
    });
    EXPECT_EQ(model.embed(ds.features, 29), model.embed(ds.features));
  }
}

TEST(SpectralNet, OneClusterLabelsEverythingZeroAndRoundTrips) {
  const Dataset d = blobs(300, 3, 7);
  SpectralNetParams p = small_params(1);
  p.epochs = 2;
  SpectralNet model(p);
  const SpectralNetFitResult r = model.fit(d.features);
  EXPECT_EQ(r.labels, Labels(std::size_t(d.features.rows()), 0));
  EXPECT_EQ(model.embed(d.features).cols(), 1);
  neuncut::testing::TempDir dir;
  model.save(dir.file("k1.nnc"));
  EXPECT_EQ(SpectralNet::load(dir.file("k1.nnc")).predict(d.features), r.labels);
}

TEST(SpectralNet, AllZeroRowsStayZeroUnderNormalization) {
  Dataset d = blobs(300, 3, 8);
  d.features.row(11).setZero();
  SpectralNetParams p = small_params(3);
  p.normalize = RowNormalization::L2;
  p.epochs = 2;
  SpectralNet model(p);
  model.fit(d.features);
  EXPECT_TRUE(model.embed(d.features).allFinite());
}

TEST(SpectralNet, InterruptedByCallback) {
  const Dataset d = blobs(600, 2, 5);
  SpectralNet net(small_params(2));
  EXPECT_THROW(net.fit(d.features, [](const SpectralNetEpochStats&) { return false; }), Interrupted);
}

TEST(SpectralNet, BadInputThrows) {
  const Dataset d = blobs(300, 2, 6);
  SpectralNetParams p = small_params(2);
  p.n_clusters = 0;
  EXPECT_THROW(SpectralNet(p).fit(d.features), InvalidArgument);
  p = small_params(2);
  p.batch_size = 1000;
  EXPECT_THROW(SpectralNet(p).fit(d.features), InvalidArgument);
  p = small_params(2);
  p.learning_rate = 0;
  EXPECT_THROW(SpectralNet(p).fit(d.features), InvalidArgument);
  p = small_params(2);
  MatrixF bad = d.features;
  bad(7, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(SpectralNet(p).fit(bad), InvalidArgument);
  EXPECT_THROW(SpectralNet(p).fit(MatrixF(0, 3)), InvalidArgument);
  EXPECT_THROW(SpectralNet(p).predict(d.features), InvalidArgument);  // not fitted
  SpectralNet net(p);
  p.epochs = 1;
  SpectralNet quick(p);
  quick.fit(d.features);
  EXPECT_THROW(quick.predict(MatrixF::Zero(3, 2)), InvalidArgument);
  // The parameter table parses the affinity choice and refuses unknown ones.
  for (const auto& info : spectralnet_param_table())
    if (info.name == "affinity") {
      info.set(p, "gaussian");
      EXPECT_EQ(p.affinity, AffinityKind::Gaussian);
      EXPECT_THROW(info.set(p, "rbf"), InvalidArgument);
    }
}

}  // namespace
}  // namespace neuncut
