#include "neuncut/methods/kmeans/kmeans.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/data_check.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "kernels/pairwise_distance.hpp"
#include "methods/kmeans/kmeans_internal.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/model_file.hpp"

namespace neuncut {
namespace {

constexpr std::uint32_t kKMeansPayloadVersion = 1;

// The data check every estimator shares (data_check.hpp); k is checked against the rows when given.
void validate_data(const Eigen::Ref<const MatrixF>& data, int threads, const char* who, Index k = 0,
                   Index first_row = 0) {
  detail::DataCheck check;
  check.who = who;
  check.k = k;
  check.threads = threads;
  check.row_offset = first_row;
  detail::check_data(data, check);
}

// Mean over features of the per-feature variance (two-pass, double), as scikit-learn scales tol.
double mean_feature_variance(const Eigen::Ref<const MatrixF>& data) {
  const Index n = data.rows(), d = data.cols();
  VectorD mean = VectorD::Zero(d), var = VectorD::Zero(d);
  for (Index i = 0; i < n; ++i) mean += data.row(i).transpose().cast<double>();
  mean /= double(n);
  for (Index i = 0; i < n; ++i) var += (data.row(i).transpose().cast<double>() - mean).cwiseAbs2();
  return var.sum() / double(n) / double(d);
}

// Centroid c = mean of its points, summed in double in point order (thread-count independent).
void update_centroids(const Eigen::Ref<const MatrixF>& data, const Labels& labels, MatrixF& centroids,
                      std::vector<Index>& counts, int threads) {
  const Index n = data.rows(), k = centroids.rows();
  counts.assign(static_cast<std::size_t>(k), 0);
  for (Index i = 0; i < n; ++i) ++counts[static_cast<std::size_t>(labels[std::size_t(i)])];
  std::vector<Index> start(static_cast<std::size_t>(k) + 1, 0);
  for (Index c = 0; c < k; ++c) start[std::size_t(c) + 1] = start[std::size_t(c)] + counts[std::size_t(c)];
  std::vector<Index> order(static_cast<std::size_t>(n)), fill(start.begin(), start.end() - 1);
  for (Index i = 0; i < n; ++i) order[std::size_t(fill[std::size_t(labels[std::size_t(i)])]++)] = i;
  detail::parallel_for(0, k, threads, [&](Index c) {
    if (counts[std::size_t(c)] == 0) return;  // only possible before re-seeding; caller handles it
    VectorD sum = VectorD::Zero(data.cols());
    for (Index p = start[std::size_t(c)]; p < start[std::size_t(c) + 1]; ++p)
      sum += data.row(order[std::size_t(p)]).transpose().cast<double>();
    centroids.row(c) = (sum / double(counts[std::size_t(c)])).cast<float>().transpose();
  });
}

struct RunResult {
  MatrixF centroids;
  Labels labels;
  double inertia = 0;
  int iterations = 0;
  bool converged = false;
  int reseeds = 0;
  std::vector<double> trace;
};

double sum_of(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += x;
  return s;
}

RunResult lloyd(const Eigen::Ref<const MatrixF>& data, const VectorF& norms, const KMeansParams& p, double tol_abs,
                std::uint64_t seed) {
  const Index n = data.rows(), k = p.n_clusters;
  RunResult run;
  const std::vector<Index> seeds = detail::kmeans_plus_plus(data, p.n_clusters, seed, p.threads);
  run.centroids.resize(k, data.cols());
  for (Index c = 0; c < k; ++c) run.centroids.row(c) = data.row(seeds[std::size_t(c)]);

  Labels labels(static_cast<std::size_t>(n), -1), assigned(static_cast<std::size_t>(n));
  std::vector<float> dist(static_cast<std::size_t>(n));
  std::vector<Index> counts;
  MatrixF previous;
  bool need_final_assignment = true;
  for (int it = 0; it < p.max_iter; ++it) {
    detail::nearest_centres(data, norms, run.centroids, assigned.data(), dist.data(), p.threads);
    run.trace.push_back(sum_of(dist));
    if (assigned == labels) {  // fixed point: the centroids are already the means of these labels
      run.converged = true;
      need_final_assignment = false;
      break;
    }
    labels = assigned;

    // Re-seed empty clusters with the points farthest from their centroids.
    counts.assign(static_cast<std::size_t>(k), 0);
    for (Index i = 0; i < n; ++i) ++counts[std::size_t(labels[std::size_t(i)])];
    if (std::find(counts.begin(), counts.end(), Index{0}) != counts.end()) {
      std::vector<Index> by_distance(static_cast<std::size_t>(n));
      std::iota(by_distance.begin(), by_distance.end(), Index{0});
      std::stable_sort(by_distance.begin(), by_distance.end(),
                       [&](Index a, Index b) { return dist[std::size_t(a)] > dist[std::size_t(b)]; });
      std::size_t next = 0;
      for (Index c = 0; c < k; ++c) {
        if (counts[std::size_t(c)] != 0) continue;
        while (next < by_distance.size() && counts[std::size_t(labels[std::size_t(by_distance[next])])] <= 1) ++next;
        if (next == by_distance.size()) break;  // fewer distinct points than k: leave the centroid where it is
        const Index point = by_distance[next++];
        --counts[std::size_t(labels[std::size_t(point)])];
        labels[std::size_t(point)] = static_cast<std::int32_t>(c);
        counts[std::size_t(c)] = 1;
        ++run.reseeds;
      }
    }

    previous = run.centroids;
    update_centroids(data, labels, run.centroids, counts, p.threads);
    ++run.iterations;
    const double shift = (run.centroids - previous).cast<double>().squaredNorm();
    if (shift <= tol_abs) {
      run.converged = true;
      break;
    }
  }
  if (need_final_assignment) {
    detail::nearest_centres(data, norms, run.centroids, labels.data(), dist.data(), p.threads);
  }
  run.labels = std::move(labels);
  run.inertia = sum_of(dist);
  return run;
}

}  // namespace

namespace detail {

std::vector<Index> kmeans_plus_plus(const Eigen::Ref<const MatrixF>& data, int k, std::uint64_t seed, int threads) {
  const Index n = data.rows();
  Rng rng(seed);
  const VectorF norms = squared_row_norms(data, threads);
  const int trials = 2 + static_cast<int>(std::log(double(k)));
  std::vector<Index> chosen;
  chosen.push_back(static_cast<Index>(rng.below(std::uint64_t(n))));

  std::vector<float> closest(static_cast<std::size_t>(n));
  std::vector<std::int32_t> unused(static_cast<std::size_t>(n));
  nearest_centres(data, norms, MatrixF(data.row(chosen[0])), unused.data(), closest.data(), threads);
  std::vector<double> cumulative(static_cast<std::size_t>(n));
  std::vector<std::vector<float>> trial_dist(static_cast<std::size_t>(trials),
                                             std::vector<float>(static_cast<std::size_t>(n)));
  while (Index(chosen.size()) < k) {
    double potential = 0;
    for (Index i = 0; i < n; ++i) cumulative[std::size_t(i)] = potential += closest[std::size_t(i)];
    if (!(potential > 0)) {  // every point coincides with a centre: take unused indices in order
      for (Index i = 0; i < n && Index(chosen.size()) < k; ++i)
        if (std::find(chosen.begin(), chosen.end(), i) == chosen.end()) chosen.push_back(i);
      break;
    }
    MatrixF candidates(trials, data.cols());
    std::vector<Index> candidate_index(static_cast<std::size_t>(trials));
    for (int t = 0; t < trials; ++t) {
      const double r = rng.uniform() * potential;
      Index idx = std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin();
      idx = std::min(idx, n - 1);
      while (idx > 0 && closest[std::size_t(idx)] <= 0) --idx;  // rounding at the top end
      candidate_index[std::size_t(t)] = idx;
      candidates.row(t) = data.row(idx);
    }
    // Distances from every point to every candidate (one GEMM per block), then the potential
    // each candidate would leave.
    const VectorF c_norms = candidates.rowwise().squaredNorm();
    const Index blocks = (n + kDistanceBlockRows - 1) / kDistanceBlockRows;
    parallel_for(0, blocks, threads, [&](Index b) {
      const Index lo = b * kDistanceBlockRows, rows = std::min(kDistanceBlockRows, n - lo);
      MatrixF dots(rows, trials);
      dots.noalias() = data.middleRows(lo, rows) * candidates.transpose();
      for (Index r = 0; r < rows; ++r)
        for (int t = 0; t < trials; ++t) {
          const float d = std::max(0.0f, norms[lo + r] + c_norms[t] - 2.0f * dots(r, t));
          trial_dist[std::size_t(t)][std::size_t(lo + r)] = std::min(d, closest[std::size_t(lo + r)]);
        }
    });
    int best = 0;
    double best_potential = std::numeric_limits<double>::infinity();
    for (int t = 0; t < trials; ++t) {
      const double pot = sum_of(trial_dist[std::size_t(t)]);
      if (pot < best_potential) {
        best_potential = pot;
        best = t;
      }
    }
    chosen.push_back(candidate_index[std::size_t(best)]);
    closest.swap(trial_dist[std::size_t(best)]);
  }
  return chosen;
}

}  // namespace detail

const std::vector<ParamInfo<KMeansParams>>& kmeans_param_table() {
  using ParamsType = KMeansParams;
  static const std::vector<ParamInfo<KMeansParams>> table = {NEUNCUT_KMEANS_PARAMS(NEUNCUT_PARAM_INFO)};
  return table;
}

void validate(const KMeansParams& params) {
  NEUNCUT_REQUIRE(params.n_clusters >= 1, InvalidArgument, "kmeans: k must be >= 1, got ", params.n_clusters);
  NEUNCUT_REQUIRE(params.n_init >= 1, InvalidArgument, "kmeans: n_init must be >= 1, got ", params.n_init);
  NEUNCUT_REQUIRE(params.max_iter >= 1, InvalidArgument, "kmeans: max_iter must be >= 1, got ", params.max_iter);
  NEUNCUT_REQUIRE(params.tol >= 0 && std::isfinite(params.tol), InvalidArgument,
                  "kmeans: tol must be finite and >= 0, got ", params.tol);
}

KMeansModel::KMeansModel(MatrixF centroids, Preprocessor preprocessor)
    : centroids_(std::move(centroids)), preprocessor_(std::move(preprocessor)) {
  NEUNCUT_REQUIRE(centroids_.rows() >= 1 && centroids_.cols() >= 1, InvalidArgument,
                  "KMeansModel: centroids must be non-empty, got ", centroids_.rows(), " x ", centroids_.cols());
  NEUNCUT_REQUIRE(centroids_.allFinite(), InvalidArgument, "KMeansModel: centroids contain NaN or Inf");
  if (preprocessor_.dim() == 0) preprocessor_.fit(MatrixF(0, centroids_.cols()));
  NEUNCUT_REQUIRE(preprocessor_.dim() == centroids_.cols(), InvalidArgument, "KMeansModel: the preprocessing expects ",
                  preprocessor_.dim(), " features, the centroids have ", centroids_.cols());
}

Labels KMeansModel::predict(const Eigen::Ref<const MatrixF>& data, int threads, Index first_row) const {
  NEUNCUT_REQUIRE(!empty(), InvalidArgument, "KMeansModel::predict: the model is empty (not fitted or loaded)");
  NEUNCUT_REQUIRE(data.cols() == dim(), InvalidArgument, "KMeansModel::predict: data has ", data.cols(),
                  " features, the model expects ", dim());
  validate_data(data, threads, "KMeansModel::predict", 0, first_row);
  detail::ThreadCountScope scope(threads);
  Labels labels(static_cast<std::size_t>(data.rows()));
  std::vector<float> dist(static_cast<std::size_t>(data.rows()));
  const MatrixF x = preprocessor_.transform(data, first_row);
  detail::nearest_centres(x, detail::squared_row_norms(x, threads), centroids_, labels.data(), dist.data(), threads);
  return labels;
}

double KMeansModel::inertia(const Eigen::Ref<const MatrixF>& data, int threads) const {
  NEUNCUT_REQUIRE(!empty(), InvalidArgument, "KMeansModel::inertia: the model is empty (not fitted or loaded)");
  NEUNCUT_REQUIRE(data.cols() == dim(), InvalidArgument, "KMeansModel::inertia: data has ", data.cols(),
                  " features, the model expects ", dim());
  validate_data(data, threads, "KMeansModel::inertia");
  detail::ThreadCountScope scope(threads);
  Labels labels(static_cast<std::size_t>(data.rows()));
  std::vector<float> dist(static_cast<std::size_t>(data.rows()));
  const MatrixF x = preprocessor_.transform(data);
  detail::nearest_centres(x, detail::squared_row_norms(x, threads), centroids_, labels.data(), dist.data(), threads);
  return sum_of(dist);
}

void KMeansModel::save(const std::string& path) const {
  NEUNCUT_REQUIRE(!empty(), InvalidArgument, "KMeansModel::save: the model is empty (not fitted or loaded)");
  ByteWriter w;
  w.u32(kKMeansPayloadVersion);
  preprocessor_.save(w);
  w.matrix(centroids_);
  write_model_file(path, ModelMethod::KMeans, w.bytes());
}

KMeansModel KMeansModel::load(const std::string& path) {
  const ModelFileContents file = read_model_file(path);
  NEUNCUT_REQUIRE(file.method == ModelMethod::KMeans, FormatError, path, ": holds a ", to_string(file.method),
                  " model, expected a kmeans model");
  ByteReader r(file.payload, path);
  const std::uint32_t version = r.u32();
  NEUNCUT_REQUIRE(version == kKMeansPayloadVersion, FormatError, path, ": unsupported kmeans payload version ", version,
                  " (this build reads ", kKMeansPayloadVersion, ")");
  Preprocessor preprocessor = Preprocessor::load(r, file.version);
  MatrixF centroids = r.matrix("centroids");
  r.expect_end();
  NEUNCUT_REQUIRE(centroids.rows() >= 1 && centroids.cols() >= 1 && centroids.allFinite(), FormatError, path,
                  ": corrupted kmeans centroids (", centroids.rows(), " x ", centroids.cols(), ")");
  NEUNCUT_REQUIRE(preprocessor.dim() == 0 || preprocessor.dim() == centroids.cols(), FormatError, path,
                  ": preprocessing dimension ", preprocessor.dim(), " does not match the centroids' ",
                  centroids.cols());
  return KMeansModel(std::move(centroids), std::move(preprocessor));
}

KMeansResult fit_kmeans(const Eigen::Ref<const MatrixF>& input, const KMeansParams& params,
                        const KMeansProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  validate(params);
  validate_data(input, params.threads, "kmeans", params.n_clusters);

  Preprocessor preprocessor(FeatureScaling::None, params.normalize);
  MatrixF normalized;
  if (params.normalize) {
    preprocessor.fit(input);
    normalized = preprocessor.transform(input);
  }
  const Eigen::Ref<const MatrixF> data = params.normalize ? Eigen::Ref<const MatrixF>(normalized) : input;
  detail::ThreadCountScope scope(params.threads);
  const VectorF norms = detail::squared_row_norms(data, params.threads);
  const double tol_abs = params.tol * mean_feature_variance(data);
  detail::Rng rng(params.seed);
  KMeansResult result;
  RunResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int init = 0; init < params.n_init; ++init) {
    RunResult run = lloyd(data, norms, params, tol_abs, rng.split());
    result.empty_cluster_reseeds += run.reseeds;
    const KMeansRestartStats stats{init + 1, params.n_init, run.inertia, run.iterations, run.converged};
    if (run.inertia < best.inertia) {
      best = std::move(run);
      result.best_init = init;
    }
    if (progress && !progress(stats))
      throw Interrupted(detail::concat("k-means stopped by the caller after restart ", init + 1));
  }
  result.model = KMeansModel(std::move(best.centroids), std::move(preprocessor));
  result.tol_absolute = tol_abs;
  result.labels = std::move(best.labels);
  result.inertia = best.inertia;
  result.iterations = best.iterations;
  result.converged = best.converged;
  result.inertia_trace = std::move(best.trace);
  std::vector<char> used(static_cast<std::size_t>(params.n_clusters), 0);
  for (std::int32_t l : result.labels) used[std::size_t(l)] = 1;
  const auto distinct = std::count(used.begin(), used.end(), char{1});
  if (!result.converged) {
    result.warnings.push_back(detail::concat("k-means did not converge in ", params.max_iter,
                                             " iterations (best restart); increase max_iter or tol"));
  } else if (distinct < params.n_clusters) {
    result.warnings.push_back(detail::concat("only ", distinct, " of ", params.n_clusters,
                                             " clusters are non-empty: the data has fewer distinct points than k"));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

KMeansFitResult KMeans::fit(const Eigen::Ref<const MatrixF>& data, const KMeansProgress& progress) {
  KMeansResult r = fit_kmeans(data, params_, progress);
  model_ = std::move(r.model);
  return std::move(static_cast<KMeansFitResult&>(r));
}

Labels KMeans::predict(const Eigen::Ref<const MatrixF>& data) const {
  NEUNCUT_REQUIRE(fitted(), InvalidArgument, "the k-means model is not fitted; call fit() or load a model first");
  return model_.predict(data, params_.threads);
}

void KMeans::save(const std::string& path) const {
  NEUNCUT_REQUIRE(fitted(), InvalidArgument, "cannot save a k-means model that is not fitted");
  model_.save(path);
}

KMeans KMeans::load(const std::string& path) {
  KMeansModel model = KMeansModel::load(path);
  KMeansParams params;
  params.n_clusters = int(model.k());
  params.normalize = model.preprocessor().l2_normalize();
  KMeans out(params);
  out.model_ = std::move(model);
  return out;
}

}  // namespace neuncut
