// k-means clustering (Lloyd's algorithm with greedy k-means++ seeding and restarts): a
// baseline on its own, and the last step of classic Ncut and SpectralNet.
//
// Algorithm, per restart:
//   1. Greedy k-means++ seeding (Arthur and Vassilvitskii 2007; the "greedy" variant of
//      scikit-learn): the first centre is a uniformly random point; each further centre is the
//      best, by resulting potential, of 2 + floor(ln k) candidates drawn with probability
//      proportional to the squared distance to the nearest centre chosen so far.
//   2. Lloyd iterations: assign every point to its nearest centroid (squared Euclidean
//      distances ||x||^2 - 2 x.c + ||c||^2 through a blocked GEMM, parallel over point blocks),
//      then move each centroid to the mean of its points (summed in double, in point order,
//      parallel over clusters, so the result does not depend on the thread count).
//   3. A cluster that loses all its points is re-seeded with the point farthest from its own
//      centroid (among clusters with more than one point), which is moved out of its cluster.
//   4. Stops when no label changes, or when the total squared centroid shift is at most
//      tol * mean per-feature variance of the data (scikit-learn's relative tolerance), or
//      after max_iter iterations (then `converged` is false).
// The restart with the lowest inertia wins. A final assignment step makes the labels
// consistent with the returned centroids.
//
// Large data (`sample`): above 200,000 rows by default the restarts (seeding and Lloyd, as
// above) run on a uniform sample of 200,000 rows, and the winning restart's centroids then start
// Lloyd iterations over all rows (steps 2-4, one pass over the data each; the tolerance is
// scaled by the sample's variance; an empty cluster is re-seeded from the k points farthest from
// their centroids in that pass). Ten restarts of up to 300 passes over 10 million rows would read
// the data thousands of times; this reads it once per refinement iteration, and a RowAccess (a
// file larger than memory) is read a block of about 64 MB at a time, with the same result as the
// matrix. Memory beyond the sample: N labels (4 bytes a row) and one block.
//
// Determinism: the same data, parameters and seed give the same centroids and labels for any
// thread count (restart seeds are drawn from `seed` with detail::Rng).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "neuncut/core/param_table.hpp"
#include "neuncut/core/result_fields.hpp"
#include "neuncut/core/row_access.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/features/preprocessing.hpp"

// The one table of k-means' parameters: X(type, name, CLI flag, default, doc). Defaults follow
// scikit-learn's KMeans, except `normalize`: on by default so that every method of this tool
// sees the same (L2-normalized) data; code that clusters an embedding turns it off.
#define NEUNCUT_KMEANS_PARAMS(X)                                                                                    \
  X(int, n_clusters, "k", 10, "number of clusters k (1 <= k <= N)")                                                 \
  X(int, n_init, "n-init", 10, "independent k-means++ restarts; the lowest inertia wins (>= 1)")                    \
  X(int, max_iter, "max-iter", 300, "Lloyd iterations per restart, and passes over all rows after a sample (>= 1)") \
  X(double, tol, "tol", 1e-4, "stop when the total squared centroid shift is <= tol * mean feature variance")       \
  X(bool, normalize, "normalize", true, "L2-normalize every row first (stored in the model, applied by predict)")   \
  X(std::int64_t, sample, "sample", std::int64_t{0},                                                                \
    "rows the restarts run on: 0 = auto (all rows up to 200,000, else a 200,000-row sample whose best restart "     \
    "then starts Lloyd iterations over all rows, one pass each); N or more: all rows")                              \
  X(std::uint64_t, seed, "seed", std::uint64_t{0}, "random seed (seeding and restarts)")                            \
  X(int, threads, "threads", 0, "worker threads (0: all cores)")

namespace neuncut {

/// Parameters of fit_kmeans (see NEUNCUT_KMEANS_PARAMS for each field's meaning and default).
struct KMeansParams {
  NEUNCUT_KMEANS_PARAMS(NEUNCUT_PARAM_MEMBER)
};

/// The parameter table as data, for the CLI, Python bindings and docs.
const std::vector<ParamInfo<KMeansParams>>& kmeans_param_table();

/// A fitted k-means model: the centroids, and nearest-centroid prediction for new points.
class KMeansModel {
 public:
  KMeansModel() = default;
  /// Wraps given centroids (k x d, k >= 1, d >= 1, finite; InvalidArgument otherwise) and the
  /// preprocessing applied to rows before they are compared with them (default: none).
  explicit KMeansModel(MatrixF centroids, Preprocessor preprocessor = Preprocessor(FeatureScaling::None, false));

  /// The preprocessing predict() applies first (fitted on the training data).
  const Preprocessor& preprocessor() const { return preprocessor_; }
  /// k x d centroids in the preprocessed space, row c is cluster c.
  const MatrixF& centroids() const { return centroids_; }
  Index k() const { return centroids_.rows(); }
  Index dim() const { return centroids_.cols(); }
  bool empty() const { return centroids_.size() == 0; }

  /// Index of the nearest centroid (squared Euclidean; ties go to the lower index) for each
  /// preprocessed row of `data` (N x dim(), finite). InvalidArgument on a dimension mismatch,
  /// or an empty model (an all-zero row stays at zero when the model normalizes rows).
  /// `first_row`: the index of data's first row when a caller labels a larger data set part by
  /// part, so that messages name the row of the whole set (as NeuNcut::predict_proba).
  Labels predict(const Eigen::Ref<const MatrixF>& data, int threads = 0, Index first_row = 0) const;
  /// Sum over preprocessed rows of the squared distance to the nearest centroid.
  double inertia(const Eigen::Ref<const MatrixF>& data, int threads = 0) const;

  /// Writes a model file (model_file.hpp container, ModelMethod::KMeans). Payload:
  /// u32 payload version (1), Preprocessor, matrix centroids.
  void save(const std::string& path) const;
  /// Reads a file written by save(); FormatError if it holds another method or is malformed.
  static KMeansModel load(const std::string& path);

 private:
  MatrixF centroids_;
  Preprocessor preprocessor_{FeatureScaling::None, false};
};

// Outcome of a k-means fit: X(type, name, default, doc).
#define NEUNCUT_KMEANS_RESULT_FIELDS(X)                                                                               \
  X(::neuncut::Labels, labels, {}, "nearest-centroid label of every training point")                                  \
  X(double, tol_absolute, 0.0, "the tolerance actually used: tol * mean feature variance")                            \
  X(double, inertia, 0.0, "sum of squared distances to the assigned centroids")                                       \
  X(int, iterations, 0, "Lloyd iterations of the winning restart (on the sample when sampled)")                       \
  X(bool, converged, false, "the last Lloyd run met the tolerance before max_iter")                                   \
  X(int, best_init, 0, "which restart won (0-based)")                                                                 \
  X(int, empty_cluster_reseeds, 0, "empty clusters re-seeded, summed over all restarts")                              \
  X(std::vector<double>, inertia_trace, {},                                                                           \
    "the last Lloyd run (the winning restart, or the pass over all rows after a sample): inertia "                    \
    "of the assignment at each iteration (non-increasing)")                                                           \
  X(::neuncut::Index, sample_rows, 0, "rows the restarts ran on (N: all)")                                            \
  X(int, full_passes, 0, "Lloyd passes over all rows after the sample's restarts (0 when the restarts saw all rows)") \
  X(std::vector<std::string>, warnings, {},                                                                           \
    "what the caller should know, one sentence each: not converged, fewer distinct points than k")                    \
  X(double, seconds, 0.0, "wall time of the fit")

/// Outcome of KMeans::fit (see NEUNCUT_KMEANS_RESULT_FIELDS).
struct KMeansFitResult {
  NEUNCUT_KMEANS_RESULT_FIELDS(NEUNCUT_RESULT_MEMBER)
  /// The warnings joined by "; " (empty when there are none), as the CLI and Python show them.
  std::string message() const { return join_warnings(warnings); }
};
NEUNCUT_RESULT_FIELDS(KMeansFitResult, NEUNCUT_KMEANS_RESULT_FIELDS)

/// Outcome of fit_kmeans, the earlier free-function form: the fit result and the model.
struct KMeansResult : KMeansFitResult {
  KMeansModel model;  ///< The winning restart's centroids.
};

/// What one restart did (k-means' counterpart of an epoch).
struct KMeansRestartStats {
  int restart = 0;         ///< 1-based.
  int restarts = 0;        ///< n_init.
  double inertia = 0;      ///< This restart's inertia.
  int iterations = 0;      ///< Its Lloyd iterations.
  bool converged = false;  ///< Whether it met the tolerance.
};

/// Called after every restart; return false to stop (fit then throws Interrupted).
using KMeansProgress = std::function<bool(const KMeansRestartStats&)>;

/// Throws InvalidArgument naming the first invalid field.
void validate(const KMeansParams& params);

/// k-means in the estimators' shape (NeuNcut, SpectralNet): parameters in, fit, predict,
/// save and load.
class KMeans {
 public:
  explicit KMeans(KMeansParams params = {}) : params_(std::move(params)) {}

  /// Clusters the rows of `data` (N x d, finite, N >= k), L2-normalized first when
  /// params.normalize, and keeps the winning centroids. Throws InvalidArgument naming the
  /// value for empty data, k < 1, k > N, NaN/Inf, n_init < 1, max_iter < 1 or tol < 0, and
  /// Interrupted when the callback returns false.
  KMeansFitResult fit(const Eigen::Ref<const MatrixF>& data, const KMeansProgress& progress = {});
  /// The same on rows read by index (fit_kmeans(const RowAccess&, ...): a file larger than memory).
  KMeansFitResult fit(const RowAccess& rows, const KMeansProgress& progress = {});
  /// Nearest centroid of each row (KMeansModel::predict on params().threads threads).
  Labels predict(const Eigen::Ref<const MatrixF>& data) const;

  /// Saves the centroids and preprocessing (KMeansModel::save; the same file as before).
  void save(const std::string& path) const;
  /// Loads a file written by save() or KMeansModel::save (k and normalize from the file).
  static KMeans load(const std::string& path);

  bool fitted() const { return !model_.empty(); }
  const KMeansParams& params() const { return params_; }
  /// Threads for predict (0: all cores).
  void set_threads(int threads) { params_.threads = threads; }
  const KMeansModel& model() const { return model_; }

 private:
  KMeansParams params_;
  KMeansModel model_;
};

/// Clusters the rows of `data` as KMeans::fit does and returns the model with the result
/// (the earlier form; KMeans is the estimator).
KMeansResult fit_kmeans(const Eigen::Ref<const MatrixF>& data, const KMeansParams& params,
                        const KMeansProgress& progress = {});

/// The same on rows read by index (a file larger than memory: io/file_rows.hpp): the sample is
/// gathered, then every pass over all rows reads a block of about 64 MB at a time, checking its
/// values (a NaN or Inf is named by its row). Same result as the matrix overload, bit for bit.
/// With sample_rows N (the restarts see every row) the rows are gathered whole first.
KMeansResult fit_kmeans(const RowAccess& rows, const KMeansParams& params, const KMeansProgress& progress = {});

/// Rows the restarts of fit_kmeans run on for N rows (params.sample resolved).
Index kmeans_sample_rows(const KMeansParams& params, Index n);

}  // namespace neuncut
