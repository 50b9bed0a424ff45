// The one data check every estimator runs (src/data_check.hpp): each message names the
// problem, the matrix and where the bad value is; and each entry point words it the same way.
#include "core/data_check.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "methods/neuncut/neuncut_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"

namespace neuncut {
namespace {

using detail::DataCheck;

// The message of the InvalidArgument that f throws; "" (and a failure) if it throws none.
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected InvalidArgument";
  return "";
}

DataCheck check_for(const std::string& who, Index k = 0) {
  DataCheck c;
  c.who = who;
  c.k = k;
  return c;
}

MatrixF ramp(Index rows, Index cols) {
  MatrixF x(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) x(i, j) = float(i * cols + j) * 0.25f;
  return x;
}

TEST(DataCheck, AcceptsFiniteDataWithKWithinThePoints) {
  EXPECT_NO_THROW(detail::check_data(ramp(5, 3), check_for("kmeans", 5)));
  EXPECT_NO_THROW(detail::check_data(ramp(5, 3), check_for("kmeans")));  // k 0: not checked
}

TEST(DataCheck, EmptyNamesTheShape) {
  EXPECT_EQ(message_of([] { detail::check_data(MatrixF(0, 2), check_for("kmeans")); }),
            "kmeans: data is empty (0 x 2)");
  EXPECT_EQ(message_of([] { detail::check_data(MatrixF(4, 0), check_for("")); }), "data is empty (4 x 0)");
  DataCheck none_needed = check_for("spectralnet");
  none_needed.min_points = 0;  // prediction on no rows gives no labels
  EXPECT_NO_THROW(detail::check_data(MatrixF(0, 2), none_needed));
  EXPECT_THROW(detail::check_data(MatrixF(3, 0), none_needed), InvalidArgument);
}

TEST(DataCheck, NonFiniteNamesTheValueRowAndColumn) {
  MatrixF x = ramp(6, 3);
  x(4, 2) = std::numeric_limits<float>::quiet_NaN();
  x(5, 0) = std::numeric_limits<float>::infinity();  // after the NaN: the first one is named
  DataCheck c = check_for("ncut");
  c.threads = 2;
  EXPECT_EQ(message_of([&] { detail::check_data(x, c); }),
            "ncut: data contains NaN at row 4, column 2: every value must be finite (no NaN or Inf)");
  x(4, 2) = 1.0f;
  c.what = "training data";
  EXPECT_EQ(
      message_of([&] { detail::check_data(x, c); }),
      "ncut: training data contains infinity (Inf) at row 5, column 0: every value must be finite (no NaN or Inf)");
  x(5, 0) = -std::numeric_limits<float>::infinity();
  EXPECT_NE(message_of([&] { detail::check_data(x, c); }).find("infinity (Inf) at row 5, column 0"), std::string::npos);
}

TEST(DataCheck, NonFiniteIsNamedBeforeKAndSize) {
  MatrixF x = ramp(1, 2);
  x(0, 1) = std::numeric_limits<float>::quiet_NaN();
  DataCheck c = check_for("ncut", 3);
  c.min_points = 2;
  EXPECT_NE(message_of([&] { detail::check_data(x, c); }).find("NaN at row 0, column 1"), std::string::npos);
}

TEST(DataCheck, KAgainstThePoints) {
  EXPECT_EQ(message_of([] { detail::check_data(ramp(4, 2), check_for("kmeans", 5)); }),
            "kmeans: k (5) exceeds the number of points (4)");
  EXPECT_EQ(message_of([] { detail::check_data(ramp(4, 2), check_for("", 5)); }),
            "k (5) exceeds the number of points (4)");
  DataCheck strict = check_for("ncut", 4);
  strict.k_below_points = true;
  EXPECT_EQ(message_of([&] { detail::check_data(ramp(4, 2), strict); }),
            "ncut: k (4) must be smaller than the number of points (4)");
  strict.k = 3;
  EXPECT_NO_THROW(detail::check_data(ramp(4, 2), strict));
}

TEST(DataCheck, TooFewPointsNamesTheNeed) {
  DataCheck c = check_for("ncut");
  c.min_points = 2;
  c.min_points_reason = "a graph";
  EXPECT_EQ(message_of([&] { detail::check_data(ramp(1, 2), c); }),
            "ncut: data has 1 sample; a graph needs at least 2 points");
}

SparseMatrixF sparse(const MatrixF& dense) { return dense.sparseView(); }

TEST(DataCheck, AffinityShapeValuesSymmetryAndK) {
  DataCheck c = check_for("ncut", 2);
  c.what = "affinity";
  c.k_below_points = true;
  MatrixF w(3, 3);
  w << 0, 1, 0.5f, 1, 0, 0.25f, 0.5f, 0.25f, 0;
  EXPECT_NO_THROW(detail::check_affinity(sparse(w), c));
  EXPECT_EQ(message_of([&] { detail::check_affinity(SparseMatrixF(3, 2), c); }),
            "ncut: the affinity must be square and non-empty, got 3 x 2");
  EXPECT_EQ(message_of([&] { detail::check_affinity(SparseMatrixF(0, 0), c); }),
            "ncut: the affinity must be square and non-empty, got 0 x 0");
  MatrixF negative = w;
  negative(0, 1) = negative(1, 0) = -1;
  EXPECT_EQ(message_of([&] { detail::check_affinity(sparse(negative), c); }),
            "ncut: affinity entry (0, 1) = -1 is negative or not finite");
  MatrixF nan = w;
  nan(2, 0) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(message_of([&] { detail::check_affinity(sparse(nan), c); }).find("affinity entry (2, 0) = nan"),
            std::string::npos);
  MatrixF asym = w;
  asym(0, 2) = 0.75f;
  EXPECT_EQ(message_of([&] { detail::check_affinity(sparse(asym), c); }),
            "ncut: the affinity is not symmetric (max |W - W^T| = 0.25)");
  c.k = 3;
  EXPECT_EQ(message_of([&] { detail::check_affinity(sparse(w), c); }),
            "ncut: k (3) must be smaller than the number of points (3)");
}

// Every entry point words a NaN the same way, prefixed with its name.
TEST(DataCheck, EveryEntryPointNamesTheNonFiniteValue) {
  MatrixF x = ramp(40, 2);
  x(7, 1) = std::numeric_limits<float>::quiet_NaN();
  const std::string nan_at = "data contains NaN at row 7, column 1: every value must be finite (no NaN or Inf)";
  KMeansParams kp;
  kp.n_clusters = 2;
  EXPECT_EQ(message_of([&] { fit_kmeans(x, kp); }), "kmeans: " + nan_at);
  SpectralClusteringParams sp;
  sp.n_clusters = 2;
  EXPECT_EQ(message_of([&] { fit_spectral_clustering(x, sp); }), "ncut: " + nan_at);
  SpectralNetParams np;
  np.n_clusters = 2;
  EXPECT_EQ(message_of([&] { SpectralNet(np).fit(x); }), "spectralnet: " + nan_at);
  NeuNcutParams nn;
  nn.n_clusters = 2;
  EXPECT_EQ(message_of([&] { NeuNcut(nn).fit(x); }), "training " + nan_at);
  EXPECT_EQ(message_of([&] { validate_data(x, "input data"); }), "input " + nan_at);
}

TEST(DataCheck, EveryEntryPointNamesKAgainstThePoints) {
  const MatrixF x = ramp(5, 2);
  KMeansParams kp;
  kp.n_clusters = 6;
  EXPECT_EQ(message_of([&] { fit_kmeans(x, kp); }), "kmeans: k (6) exceeds the number of points (5)");
  SpectralNetParams np;
  np.n_clusters = 6;
  EXPECT_EQ(message_of([&] { SpectralNet(np).fit(x); }), "spectralnet: k (6) exceeds the number of points (5)");
  NeuNcutParams nn;
  nn.n_clusters = 6;
  EXPECT_EQ(message_of([&] { NeuNcut(nn).fit(x); }), "k (6) exceeds the number of points (5)");
  SpectralClusteringParams sp;
  sp.n_clusters = 5;
  EXPECT_EQ(message_of([&] { fit_spectral_clustering(x, sp); }),
            "ncut: k (5) must be smaller than the number of points (5)");
  // The precomputed affinity path: the same check on the affinity's rows.
  const SparseMatrixF w = MatrixF::Ones(5, 5).sparseView();
  EXPECT_EQ(message_of([&] { fit_spectral_clustering(w, sp); }),
            "ncut: k (5) must be smaller than the number of points (5)");
}

}  // namespace
}  // namespace neuncut
