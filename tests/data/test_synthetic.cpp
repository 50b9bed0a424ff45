// Tests for src/data/synthetic.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "neuncut/core/error.hpp"
#include "neuncut/data/synthetic.hpp"

namespace neuncut {
namespace {

std::vector<Index> cluster_sizes(const Labels& labels) {
  std::vector<Index> sizes;
  for (int l : labels) {
    EXPECT_GE(l, 0);
    if (l >= static_cast<int>(sizes.size())) sizes.resize(static_cast<std::size_t>(l) + 1, 0);
    ++sizes[static_cast<std::size_t>(l)];
  }
  return sizes;
}

SyntheticParams params(SyntheticKind kind, Index n, std::uint64_t seed = 1) {
  SyntheticParams p;
  p.kind = kind;
  p.n_samples = n;
  p.seed = seed;
  return p;
}

TEST(Synthetic, KindNamesRoundTrip) {
  for (SyntheticKind k :
       {SyntheticKind::Moons, SyntheticKind::Circles, SyntheticKind::Blobs, SyntheticKind::ImbalancedBlobs})
    EXPECT_EQ(parse_synthetic_kind(to_string(k)), k);
  EXPECT_EQ(to_string(SyntheticKind::ImbalancedBlobs), "imbalanced-blobs");
  EXPECT_THROW(parse_synthetic_kind("spirals"), InvalidArgument);
  EXPECT_THROW(parse_synthetic_kind(""), InvalidArgument);
}

TEST(Synthetic, MoonsShapeAndGeometry) {
  SyntheticParams p = params(SyntheticKind::Moons, 101);
  p.noise = 0.0;
  const Dataset d = make_synthetic(p);
  ASSERT_EQ(d.features.rows(), 101);
  ASSERT_EQ(d.features.cols(), 2);
  EXPECT_EQ(cluster_sizes(d.labels), (std::vector<Index>{50, 51}));  // n // 2 outer, the rest inner
  for (Index i = 0; i < 101; ++i) {
    const double x = d.features(i, 0), y = d.features(i, 1);
    if (d.labels[i] == 0) {  // upper half of the unit circle
      EXPECT_NEAR(x * x + y * y, 1.0, 1e-5);
      EXPECT_GE(y, -1e-6);
    } else {  // lower half circle centred at (1, 0.5)
      EXPECT_NEAR((x - 1) * (x - 1) + (y - 0.5) * (y - 0.5), 1.0, 1e-5);
      EXPECT_LE(y, 0.5 + 1e-6);
    }
  }
}

TEST(Synthetic, CirclesShapeAndRadii) {
  SyntheticParams p = params(SyntheticKind::Circles, 200);
  p.noise = 0.0;
  p.factor = 0.3;
  const Dataset d = make_synthetic(p);
  ASSERT_EQ(d.features.rows(), 200);
  ASSERT_EQ(d.features.cols(), 2);
  EXPECT_EQ(cluster_sizes(d.labels), (std::vector<Index>{100, 100}));
  for (Index i = 0; i < 200; ++i) EXPECT_NEAR(d.features.row(i).norm(), d.labels[i] == 0 ? 1.0 : 0.3, 1e-5);
}

TEST(Synthetic, NoiseHasTheRequestedSpread) {
  SyntheticParams p = params(SyntheticKind::Circles, 4000);
  p.noise = 0.1;
  const Dataset d = make_synthetic(p);
  double sum_sq = 0;
  for (Index i = 0; i < d.features.rows(); ++i) {
    const double r = d.features.row(i).cast<double>().norm() - (d.labels[i] == 0 ? 1.0 : p.factor);
    sum_sq += r * r;
  }
  // The radial deviation of isotropic 2-D noise has std ~ noise for noise << radius.
  EXPECT_NEAR(std::sqrt(sum_sq / 4000.0), 0.1, 0.02);
}

TEST(Synthetic, BlobsShapeSizesAndSpread) {
  SyntheticParams p = params(SyntheticKind::Blobs, 1003);
  p.n_clusters = 4;
  p.dim = 5;
  p.noise = 0.5;
  p.center_box = 20.0;
  const Dataset d = make_synthetic(p);
  ASSERT_EQ(d.features.rows(), 1003);
  ASSERT_EQ(d.features.cols(), 5);
  EXPECT_EQ(cluster_sizes(d.labels), (std::vector<Index>{251, 251, 251, 250}));
  for (int c = 0; c < 4; ++c) {
    Eigen::VectorXd mean = Eigen::VectorXd::Zero(5);
    Index m = 0;
    for (Index i = 0; i < d.features.rows(); ++i)
      if (d.labels[i] == c) {
        mean += d.features.row(i).cast<double>().transpose();
        ++m;
      }
    mean /= double(m);
    EXPECT_LE(mean.cwiseAbs().maxCoeff(), 20.0 + 0.5);
    double ss = 0;
    for (Index i = 0; i < d.features.rows(); ++i)
      if (d.labels[i] == c) ss += (d.features.row(i).cast<double>().transpose() - mean).squaredNorm();
    EXPECT_NEAR(std::sqrt(ss / double(m * 5)), 0.5, 0.05) << "cluster " << c;
  }
}

TEST(Synthetic, ImbalancedBlobSizesFallGeometrically) {
  SyntheticParams p = params(SyntheticKind::ImbalancedBlobs, 1100);
  p.n_clusters = 4;
  p.imbalance = 10.0;
  const Dataset d = make_synthetic(p);
  const std::vector<Index> sizes = cluster_sizes(d.labels);
  ASSERT_EQ(sizes.size(), 4u);
  Index total = 0;
  for (Index s : sizes) total += s;
  EXPECT_EQ(total, 1100);
  EXPECT_TRUE(std::is_sorted(sizes.rbegin(), sizes.rend()));
  EXPECT_NEAR(double(sizes.front()) / double(sizes.back()), 10.0, 0.5);
  // Consecutive ratios are all 10^(1/3).
  for (std::size_t c = 1; c < sizes.size(); ++c)
    EXPECT_NEAR(double(sizes[c - 1]) / double(sizes[c]), std::cbrt(10.0), 0.1);
}

TEST(Synthetic, ImbalancedBlobsKeepEveryClusterNonEmpty) {
  for (Index n : {5, 6, 9, 20}) {
    SyntheticParams p = params(SyntheticKind::ImbalancedBlobs, n);
    p.n_clusters = 5;
    p.imbalance = 1000.0;
    const std::vector<Index> sizes = cluster_sizes(make_synthetic(p).labels);
    ASSERT_EQ(sizes.size(), 5u) << "n = " << n;
    Index total = 0;
    for (Index s : sizes) {
      EXPECT_GE(s, 1);
      total += s;
    }
    EXPECT_EQ(total, n);
    EXPECT_TRUE(std::is_sorted(sizes.rbegin(), sizes.rend()));
  }
  SyntheticParams p = params(SyntheticKind::ImbalancedBlobs, 7);
  p.n_clusters = 1;
  EXPECT_EQ(cluster_sizes(make_synthetic(p).labels), (std::vector<Index>{7}));
  p.n_clusters = 3;
  p.imbalance = 1.0;
  p.n_samples = 9;
  EXPECT_EQ(cluster_sizes(make_synthetic(p).labels), (std::vector<Index>{3, 3, 3}));
}

TEST(Synthetic, SameSeedSameDataOtherSeedOtherData) {
  for (SyntheticKind k :
       {SyntheticKind::Moons, SyntheticKind::Circles, SyntheticKind::Blobs, SyntheticKind::ImbalancedBlobs}) {
    SCOPED_TRACE(to_string(k));
    const Dataset a = make_synthetic(params(k, 300, 42));
    const Dataset b = make_synthetic(params(k, 300, 42));
    const Dataset c = make_synthetic(params(k, 300, 43));
    EXPECT_EQ(a.features, b.features);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_NE(a.features, c.features);
    EXPECT_NE(a.labels, c.labels);  // the shuffle differs too
  }
}

TEST(Synthetic, RowsAreShuffled) {
  const Dataset d = make_synthetic(params(SyntheticKind::Blobs, 1000));
  EXPECT_FALSE(std::is_sorted(d.labels.begin(), d.labels.end()));
  EXPECT_FALSE(d.name.empty());
}

TEST(Synthetic, BadParametersThrow) {
  auto bad = [](SyntheticParams p) { EXPECT_THROW(make_synthetic(p), InvalidArgument); };
  const SyntheticParams base;
  SyntheticParams p = base;
  p.noise = -0.1;
  bad(p);
  p.noise = std::numeric_limits<double>::quiet_NaN();
  bad(p);
  p = base;
  p.n_clusters = 0;
  bad(p);
  p = base;
  p.n_samples = 2;  // fewer than the 3 clusters
  bad(p);
  p = base;
  p.n_samples = 0;
  bad(p);
  p = base;
  p.dim = 0;
  bad(p);
  p = base;
  p.center_box = std::numeric_limits<double>::infinity();
  bad(p);
  p = base;
  p.kind = SyntheticKind::Circles;
  for (double f : {0.0, 1.0, -0.5, 2.0}) {
    p.factor = f;
    bad(p);
  }
  p = base;
  p.kind = SyntheticKind::ImbalancedBlobs;
  p.imbalance = 0.5;
  bad(p);
  p.imbalance = std::numeric_limits<double>::infinity();
  bad(p);
  p = base;
  p.kind = SyntheticKind::Moons;
  p.n_samples = 1;
  bad(p);
  // Parameters a kind does not use are not checked: moons ignores n_clusters and dim.
  p.n_samples = 10;
  p.n_clusters = 0;
  p.dim = 0;
  EXPECT_EQ(make_synthetic(p).features.cols(), 2);
}

}  // namespace
}  // namespace neuncut
