#include "neuncut/methods/kmeans/kmeans.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "core/random.hpp"
#include "kernels/pairwise_distance.hpp"
#include "methods/kmeans/kmeans_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/model_file.hpp"
#include "row_invariance.hpp"
#include "test_util.hpp"

namespace neuncut {
namespace {

// Well-separated Gaussian blobs (centres on a scaled simplex, std 0.3), labels by blob.
MatrixF blobs(Index per_cluster, int k, int dim, std::uint64_t seed, Labels* truth) {
  detail::Rng rng(seed);
  MatrixF x(per_cluster * k, dim);
  truth->assign(std::size_t(per_cluster * k), 0);
  for (int c = 0; c < k; ++c)
    for (Index i = 0; i < per_cluster; ++i) {
      const Index row = c * per_cluster + i;
      for (int j = 0; j < dim; ++j) x(row, j) = float((j == c % dim ? 10.0 * (1 + c / dim) : 0.0) + 0.3 * rng.normal());
      (*truth)[std::size_t(row)] = c;
    }
  return x;
}

// Same partition up to a renaming of the labels.
bool same_partition(const Labels& a, const Labels& b) {
  if (a.size() != b.size()) return false;
  std::map<int, int> ab, ba;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto [it1, new1] = ab.emplace(a[i], b[i]);
    auto [it2, new2] = ba.emplace(b[i], a[i]);
    if (it1->second != b[i] || it2->second != a[i]) return false;
  }
  return true;
}

TEST(KMeans, RecoversSeparatedBlobs) {
  Labels truth;
  const MatrixF x = blobs(200, 4, 3, 1, &truth);
  KMeansParams p;
  p.normalize = false;
  p.n_clusters = 4;
  p.seed = 3;
  const KMeansResult r = fit_kmeans(x, p);
  EXPECT_TRUE(r.converged) << r.message();
  EXPECT_TRUE(same_partition(r.labels, truth));
  EXPECT_EQ(r.model.k(), 4);
  EXPECT_EQ(r.model.dim(), 3);
  // Inertia equals the sum of squared distances to the assigned centroids.
  double inertia = 0;
  for (Index i = 0; i < x.rows(); ++i)
    inertia += (x.row(i) - r.model.centroids().row(r.labels[std::size_t(i)])).cast<double>().squaredNorm();
  EXPECT_NEAR(r.inertia, inertia, 1e-3 * inertia);
  EXPECT_NEAR(r.model.inertia(x), r.inertia, 1e-3 * inertia);
}

TEST(KMeans, DistancesOfARowDoNotDependOnItsBatch) {
  // The nearest centre and the squared distance to it: the same bits for a row in any batch
  // (odd dimension: rows sit at every alignment), normalized or not, at 1 and 2 threads.
  Labels truth;
  const MatrixF x = blobs(100, 3, 7, 3, &truth);
  for (bool normalize : {false, true}) {
    for (int threads : {1, 2}) {
      SCOPED_TRACE(::testing::Message() << "normalize " << normalize << ", threads " << threads);
      KMeansParams p;
      p.n_clusters = 3;
      p.normalize = normalize;
      p.threads = threads;
      const KMeansModel model = fit_kmeans(x, p).model;
      neuncut::testing::expect_rows_independent_of_batch(x, [&](const MatrixF& rows) {
        const MatrixF pre = model.preprocessor().transform(rows);
        std::vector<std::int32_t> labels(std::size_t(rows.rows()));
        MatrixF out(rows.rows(), 2);
        std::vector<float> dist(std::size_t(rows.rows()));
        detail::nearest_centres(pre, detail::squared_row_norms(pre, threads), model.centroids(), labels.data(),
                                dist.data(), threads);
        for (Index i = 0; i < rows.rows(); ++i) out.row(i) << float(labels[std::size_t(i)]), dist[std::size_t(i)];
        EXPECT_EQ(model.predict(rows, threads), labels);
        return out;
      });
    }
  }
}

TEST(KMeans, InertiaTraceIsNonIncreasing) {
  detail::Rng rng(7);
  MatrixF x(3000, 5);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = float(rng.normal());  // no cluster structure: many iterations
  KMeansParams p;
  p.normalize = false;
  p.n_clusters = 12;
  p.n_init = 2;
  p.tol = 0;
  const KMeansResult r = fit_kmeans(x, p);
  ASSERT_GE(r.inertia_trace.size(), 3u);
  for (std::size_t t = 1; t < r.inertia_trace.size(); ++t)
    EXPECT_LE(r.inertia_trace[t], r.inertia_trace[t - 1] * (1 + 1e-5)) << "iteration " << t;
  EXPECT_LE(r.inertia, r.inertia_trace.back() * (1 + 1e-5));
}

TEST(KMeans, DeterministicPerSeedAndThreadCount) {
  Labels truth;
  const MatrixF x = blobs(300, 5, 4, 2, &truth);
  KMeansParams p;
  p.normalize = false;
  p.n_clusters = 6;  // one more than the blobs: the split is seed-dependent
  p.seed = 11;
  p.threads = 1;
  const KMeansResult a = fit_kmeans(x, p);
  p.threads = 2;
  const KMeansResult b = fit_kmeans(x, p);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.model.centroids(), b.model.centroids());
  EXPECT_EQ(a.inertia, b.inertia);
}

TEST(KMeans, PlusPlusPicksDistinctPointsAcrossBlobs) {
  Labels truth;
  const MatrixF x = blobs(100, 5, 5, 4, &truth);
  const std::vector<Index> seeds = detail::kmeans_plus_plus(x, 5, 0, 2);
  std::set<int> blobs_hit;
  for (Index s : seeds) blobs_hit.insert(truth[std::size_t(s)]);
  EXPECT_EQ(blobs_hit.size(), 5u);  // far-apart blobs: each gets one seed
}

TEST(KMeans, DuplicatePointsFewerThanK) {
  MatrixF x(6, 2);
  x << 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5;
  KMeansParams p;
  p.normalize = false;
  p.n_clusters = 3;
  p.n_init = 2;
  const KMeansResult r = fit_kmeans(x, p);
  EXPECT_NEAR(r.inertia, 0.0, 1e-6);
  EXPECT_FALSE(r.message().empty());
  EXPECT_NE(r.labels[0], r.labels[3]);
}

TEST(KMeans, EmptyClusterIsReseeded) {
  // Two far groups; k = 3 with one centroid starting in an isolated spot reached by nobody is
  // hard to force through k-means++, so check the invariant instead: every cluster is used.
  Labels truth;
  const MatrixF x = blobs(50, 3, 3, 9, &truth);
  KMeansParams p;
  p.normalize = false;
  p.n_clusters = 8;
  const KMeansResult r = fit_kmeans(x, p);
  std::set<int> used(r.labels.begin(), r.labels.end());
  EXPECT_EQ(used.size(), 8u);
}

TEST(KMeans, PredictMatchesTrainingLabelsAndSaveLoadRoundTrip) {
  Labels truth;
  const MatrixF x = blobs(100, 3, 2, 5, &truth);
  KMeansParams p;
  p.normalize = false;
  p.n_clusters = 3;
  const KMeansResult r = fit_kmeans(x, p);
  EXPECT_EQ(r.model.predict(x), r.labels);
  testing::TempDir dir;
  const std::string path = dir.file("km.nnc");
  r.model.save(path);
  const KMeansModel loaded = KMeansModel::load(path);
  EXPECT_EQ(loaded.centroids(), r.model.centroids());
  EXPECT_EQ(loaded.predict(x), r.labels);
  // A file of another method is refused.
  write_model_file(dir.file("other.nnc"), ModelMethod::SpectralNet, {});
  EXPECT_THROW(KMeansModel::load(dir.file("other.nnc")), FormatError);
}

TEST(KMeans, NormalizeIsStoredInTheModel) {
  // Two directions at very different scales: with L2 normalization the scale is irrelevant.
  detail::Rng rng(12);
  MatrixF x(400, 2);
  Labels truth(400);
  for (Index i = 0; i < 400; ++i) {
    const int c = int(i % 2);
    const float scale = float(rng.uniform(0.1, 100.0));
    x(i, 0) = scale * float(c == 0 ? 1.0 + 0.05 * rng.normal() : 0.05 * rng.normal());
    x(i, 1) = scale * float(c == 1 ? 1.0 + 0.05 * rng.normal() : 0.05 * rng.normal());
    truth[std::size_t(i)] = c;
  }
  KMeansParams p;
  p.n_clusters = 2;
  p.normalize = true;
  const KMeansResult r = fit_kmeans(x, p);
  EXPECT_TRUE(same_partition(r.labels, truth));
  EXPECT_TRUE(r.model.preprocessor().l2_normalize());
  testing::TempDir dir;
  r.model.save(dir.file("n.nnc"));
  EXPECT_EQ(KMeansModel::load(dir.file("n.nnc")).predict(x * 7.0f), r.labels);
}

TEST(KMeans, OneClusterIsTheMeanAndSavesAndLoads) {
  Labels truth;
  const MatrixF x = blobs(30, 3, 4, 8, &truth);
  KMeansParams p;
  p.n_clusters = 1;
  p.normalize = false;
  const KMeansResult r = fit_kmeans(x, p);
  EXPECT_EQ(r.labels, Labels(std::size_t(x.rows()), 0));
  const VectorD mean = x.cast<double>().colwise().mean().transpose();
  EXPECT_LE((r.model.centroids().row(0).transpose().cast<double>() - mean).cwiseAbs().maxCoeff(), 1e-5);
  neuncut::testing::TempDir dir;
  r.model.save(dir.file("k1.nnc"));
  EXPECT_EQ(KMeansModel::load(dir.file("k1.nnc")).predict(x), r.labels);
}

TEST(KMeans, AllZeroRowsStayZeroUnderNormalization) {
  // As sklearn.preprocessing.normalize: a zero row has no direction and is kept at zero (it
  // was refused); the other rows are unit vectors.
  Labels truth;
  MatrixF x = blobs(20, 2, 3, 9, &truth);
  x.row(5).setZero();
  KMeansParams p;
  p.n_clusters = 2;
  const KMeansResult r = fit_kmeans(x, p);
  const MatrixF pre = r.model.preprocessor().transform(x);
  EXPECT_EQ(pre.row(5).cwiseAbs().maxCoeff(), 0.0f);
  for (Index i = 0; i < x.rows(); ++i) {
    if (i != 5) {
      EXPECT_NEAR(pre.row(i).norm(), 1.0f, 1e-6f) << i;
    }
  }
  EXPECT_EQ(r.model.predict(x)[5], r.labels[5]);
  MatrixF huge = x;
  huge(2, 0) = 1e30f;  // finite, but its squared norm overflows: refused, naming the row
  try {
    r.model.predict(huge);
    ADD_FAILURE() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("row 2"), std::string::npos) << e.what();
  }
}

TEST(KMeans, BadInputThrows) {
  MatrixF x = MatrixF::Random(10, 2);
  KMeansParams p;
  p.normalize = false;
  p.n_clusters = 0;
  EXPECT_THROW(fit_kmeans(x, p), InvalidArgument);
  p.n_clusters = 11;
  EXPECT_THROW(fit_kmeans(x, p), InvalidArgument);
  p.n_clusters = 2;
  p.n_init = 0;
  EXPECT_THROW(fit_kmeans(x, p), InvalidArgument);
  p.n_init = 1;
  p.tol = -1;
  EXPECT_THROW(fit_kmeans(x, p), InvalidArgument);
  p.tol = 1e-4;
  EXPECT_THROW(fit_kmeans(MatrixF(0, 2), p), InvalidArgument);
  x(3, 1) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(fit_kmeans(x, p), InvalidArgument);
  x(3, 1) = std::numeric_limits<float>::infinity();
  try {
    fit_kmeans(x, p);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("NaN or Inf"), std::string::npos);
  }
  const KMeansModel m(MatrixF::Zero(2, 3));
  EXPECT_THROW(m.predict(MatrixF::Zero(4, 2)), InvalidArgument);
  EXPECT_THROW(KMeansModel().predict(MatrixF::Zero(4, 2)), InvalidArgument);
}

// Large data: the restarts run on a sample, then Lloyd passes over all rows. 5,000 rows read
// 1,024 at a time give the matrix's result bit for bit, and each pass reads every row once.
TEST(KMeans, SampledRestartsReadRowsABlockAtATimeAndGiveTheMatrixResult) {
  Labels truth;
  const MatrixF x = blobs(1000, 5, 6, 21, &truth);
  for (const bool normalize : {false, true}) {
    SCOPED_TRACE(normalize ? "normalize" : "raw");
    KMeansParams p;
    p.n_clusters = 5;
    p.sample = 700;
    p.normalize = normalize;
    p.seed = 4;
    p.threads = 2;
    const KMeansResult m = fit_kmeans(x, p);
    EXPECT_EQ(m.sample_rows, 700);
    EXPECT_GE(m.full_passes, 1);
    EXPECT_TRUE(m.converged) << m.message();
    if (!normalize) EXPECT_TRUE(same_partition(m.labels, truth));
    testing::RecordingRows rows(x);
    const KMeansResult r = detail::kmeans_of_rows(rows, p, 1024);
    EXPECT_EQ(r.labels, m.labels);
    EXPECT_EQ(r.inertia, m.inertia);
    EXPECT_EQ(r.inertia_trace, m.inertia_trace);
    EXPECT_EQ(r.full_passes, m.full_passes);
    EXPECT_TRUE(r.model.centroids() == m.model.centroids());
    EXPECT_EQ(r.model.preprocessor().l2_normalize(), normalize);
    // One gather of the sample, then 5 blocks (4 x 1,024 + 904) per pass.
    ASSERT_EQ(rows.sizes.size(), 1 + 5 * std::size_t(r.full_passes));
    EXPECT_EQ(rows.sizes[0], 700);
    for (std::size_t g = 1; g < rows.sizes.size(); ++g) EXPECT_EQ(rows.sizes[g], g % 5 == 0 ? 904 : 1024) << g;
    // Lloyd's fixed point on all rows: each label is its row's nearest centroid, and the
    // inertia is the sum of those distances.
    EXPECT_EQ(r.model.predict(x), r.labels);
    EXPECT_NEAR(r.model.inertia(x), r.inertia, 1e-4 * r.inertia);
  }
}

// The passes over all rows move the sample's centroids to Lloyd's fixed point on all rows: the
// inertia on all rows ends lower than that of k-means run on the sample alone, and falls pass
// by pass.
TEST(KMeans, PassesOverAllRowsLowerTheSampleCentroidsInertia) {
  detail::Rng rng(5);
  MatrixF x(6000, 4);  // one broad cloud: k-means' optimum depends on every row
  for (Index i = 0; i < x.rows(); ++i)
    for (Index j = 0; j < x.cols(); ++j) x(i, j) = float(rng.normal() * (1.0 + double(j)));
  KMeansParams p;
  p.n_clusters = 6;
  p.normalize = false;
  p.sample = 300;
  const KMeansResult all = fit_kmeans(x, p);
  MatrixF sample(300, 4);
  const std::vector<Index> rows = [&] {
    testing::RecordingRows rec(x);
    detail::kmeans_of_rows(rec, p, 1024);
    return std::vector<Index>(rec.read.begin(), rec.read.begin() + 300);
  }();
  for (Index i = 0; i < 300; ++i) sample.row(i) = x.row(rows[std::size_t(i)]);
  KMeansParams sp = p;
  sp.sample = 0;
  const KMeansResult on_sample = fit_kmeans(sample, sp);
  EXPECT_LT(all.inertia, on_sample.model.inertia(x));
  for (std::size_t i = 1; i < all.inertia_trace.size(); ++i)
    EXPECT_LE(all.inertia_trace[i], all.inertia_trace[i - 1] * (1 + 1e-6)) << i;
  EXPECT_GE(all.full_passes, 2);
}

TEST(KMeans, SampleRowsAreAutoAboveTwoHundredThousandOrAsGiven) {
  KMeansParams p;
  EXPECT_EQ(kmeans_sample_rows(p, 150000), 150000);
  EXPECT_EQ(kmeans_sample_rows(p, 200000), 200000);
  EXPECT_EQ(kmeans_sample_rows(p, 3000000), 200000);
  p.sample = 5000;
  EXPECT_EQ(kmeans_sample_rows(p, 3000000), 5000);
  EXPECT_EQ(kmeans_sample_rows(p, 4000), 4000);
  // Below the threshold nothing changes: the restarts see every row and no pass follows.
  Labels truth;
  const MatrixF x = blobs(100, 3, 3, 2, &truth);
  KMeansParams q;
  q.n_clusters = 3;
  const KMeansResult r = fit_kmeans(x, q);
  EXPECT_EQ(r.sample_rows, 300);
  EXPECT_EQ(r.full_passes, 0);
  testing::RecordingRows rows(x);
  const KMeansResult g = detail::kmeans_of_rows(rows, q, 1024);
  EXPECT_EQ(g.labels, r.labels);
  EXPECT_EQ(rows.sizes, std::vector<Index>{300});  // gathered whole, once
}

// Two distinct points and k = 3: the third cluster empties in every pass over all rows and is
// re-seeded from the farthest points kept in that pass; matrix and rows agree on it too.
TEST(KMeans, PassesOverAllRowsReseedEmptyClustersAsTheMatrix) {
  MatrixF x(3000, 2);
  for (Index i = 0; i < x.rows(); ++i) x.row(i) << float(i % 2) * 5.0f, 1.0f;
  KMeansParams p;
  p.n_clusters = 3;
  p.n_init = 2;
  p.normalize = false;
  p.sample = 1100;
  const KMeansResult m = fit_kmeans(x, p);
  testing::RecordingRows rows(x);
  const KMeansResult r = detail::kmeans_of_rows(rows, p, 1024);
  EXPECT_EQ(r.labels, m.labels);
  EXPECT_EQ(r.empty_cluster_reseeds, m.empty_cluster_reseeds);
  EXPECT_GT(m.empty_cluster_reseeds, 0);
  EXPECT_GE(m.full_passes, 1);
  EXPECT_NEAR(m.inertia, 0.0, 1e-6);
  EXPECT_NE(m.labels[0], m.labels[1]);
  EXPECT_FALSE(m.message().empty());  // fewer distinct points than k, or not converged
}

TEST(KMeans, SampledFitNamesBadRowsAndParameters) {
  Labels truth;
  MatrixF x = blobs(1000, 3, 4, 8, &truth);
  KMeansParams p;
  p.n_clusters = 3;
  p.sample = 500;
  x(2900, 1) = std::numeric_limits<float>::infinity();
  for (const bool streamed : {false, true}) {
    try {
      if (streamed) {
        testing::RecordingRows rows(x);
        detail::kmeans_of_rows(rows, p, 1024);
      } else {
        fit_kmeans(x, p);
      }
      FAIL() << "no error";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("row 2900"), std::string::npos) << e.what();
    }
  }
  x(2900, 1) = 0;
  p.sample = 2;
  EXPECT_THROW(fit_kmeans(x, p), InvalidArgument);  // fewer sampled rows than k
  testing::RecordingRows rows(x);
  EXPECT_THROW(detail::kmeans_of_rows(rows, p, 1024), InvalidArgument);
  p.sample = -1;
  EXPECT_THROW(fit_kmeans(x, p), InvalidArgument);
  p.sample = 500;
  EXPECT_THROW(detail::kmeans_of_rows(rows, p, 1000), InvalidArgument);  // not a multiple of 1,024
}

}  // namespace
}  // namespace neuncut
