#include "neuncut/methods/kmeans/kmeans.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/blocked_rows.hpp"
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
  NEUNCUT_REQUIRE(params.sample >= 0, InvalidArgument, "kmeans: sample must be >= 0 (0: auto), got ", params.sample);
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

namespace {

// Above this many rows the restarts run on a sample of this many (params.sample = 0).
constexpr Index kAutoSampleRows = 200000;

// The restarts of steps 1-4 on `data` (preprocessed), into `result`; returns the winner.
RunResult run_restarts(const Eigen::Ref<const MatrixF>& data, const KMeansParams& params, detail::Rng& rng,
                       const KMeansProgress& progress, KMeansResult& result) {
  const VectorF norms = detail::squared_row_norms(data, params.threads);
  const double tol_abs = params.tol * mean_feature_variance(data);
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
  result.tol_absolute = tol_abs;
  result.iterations = best.iterations;
  return best;
}

// The warnings every fit ends with, from its labels and convergence.
void add_warnings(const KMeansParams& params, KMeansResult& result) {
  std::vector<char> used(static_cast<std::size_t>(params.n_clusters), 0);
  for (std::int32_t l : result.labels) used[std::size_t(l)] = 1;
  const auto distinct = std::count(used.begin(), used.end(), char{1});
  if (!result.converged) {
    result.warnings.push_back(detail::concat(
        "k-means did not converge in ", params.max_iter,
        result.full_passes ? " passes over all rows (after the sample's restarts)" : " iterations (best restart)",
        "; increase max_iter or tol"));
  } else if (distinct < params.n_clusters) {
    result.warnings.push_back(detail::concat("only ", distinct, " of ", params.n_clusters,
                                             " clusters are non-empty: the data has fewer distinct points than k"));
  }
}

// One of the k points farthest from their centroids in a pass over all rows: where an emptied
// cluster is re-seeded from (step 3, without keeping N distances).
struct FarPoint {
  float dist = 0;
  Index row = 0;
  std::int32_t label = 0;
  VectorF x;
};
// Farther first; of equal distances the earlier row (the order of step 3's stable sort).
bool farther(const FarPoint& a, const FarPoint& b) { return a.dist > b.dist || (a.dist == b.dist && a.row < b.row); }

// Lloyd iterations over all rows from `centroids` (steps 2-4, a pass over the rows each), then
// a last assignment unless the labels stopped changing.
class FullPasses {
 public:
  FullPasses(const detail::BlockedRows& rows, const Preprocessor& preprocessor, const KMeansParams& params)
      : rows_(rows), preprocessor_(preprocessor), params_(params), chunk_(detail::pass_block_rows(rows.cols())) {}

  void run(MatrixF centroids, double tol_abs, KMeansResult& result) {
    const Index k = centroids.rows();
    labels_.assign(std::size_t(rows_.rows()), -1);
    bool fixed_point = false;
    for (int it = 0; it < params_.max_iter; ++it) {
      const Index changed = pass(centroids, true);
      result.inertia_trace.push_back(inertia_);
      if (changed == 0) {  // the centroids are already the means of these labels
        fixed_point = result.converged = true;
        break;
      }
      result.empty_cluster_reseeds += reseed_empty_clusters();
      const MatrixF previous = centroids;
      for (Index c = 0; c < k; ++c)
        if (counts_[std::size_t(c)] > 0)
          centroids.row(c) = (sums_[std::size_t(c)] / double(counts_[std::size_t(c)])).cast<float>().transpose();
      ++result.full_passes;
      if ((centroids - previous).cast<double>().squaredNorm() <= tol_abs) {
        result.converged = true;
        break;
      }
    }
    if (!fixed_point) pass(centroids, false);
    ++result.full_passes;
    result.labels = std::move(labels_);
    result.inertia = inertia_;
    result.model = KMeansModel(std::move(centroids), preprocessor_);
  }

 private:
  // Assigns every row to its nearest centroid; with `accumulate`, also sums each cluster's rows
  // (double, in row order), counts them and keeps the k farthest points. Returns the rows whose
  // label changed.
  Index pass(const MatrixF& centroids, bool accumulate) {
    const Index k = centroids.rows(), d = centroids.cols();
    if (accumulate) {
      sums_.assign(std::size_t(k), VectorD::Zero(d));
      counts_.assign(std::size_t(k), 0);
      far_.clear();
    }
    inertia_ = 0;
    Index changed = 0;
    std::vector<std::int32_t> assigned;
    std::vector<float> dist;
    MatrixF scaled;  // one buffer for every chunk: a fresh 64 MB a chunk costs page faults
    rows_.for_each_block([&](Index first, const Eigen::Ref<const MatrixF>& block) {
      // A matrix is one block; it is preprocessed a chunk at a time, the same chunks as a file's.
      for (Index lo = 0; lo < block.rows(); lo += chunk_) {
        const Index n = std::min(chunk_, block.rows() - lo), row0 = first + lo;
        if (params_.normalize) {
          scaled = block.middleRows(lo, n);
          preprocessor_.transform_in_place(scaled, row0);
        }
        const Eigen::Ref<const MatrixF> x =
            params_.normalize ? Eigen::Ref<const MatrixF>(scaled) : Eigen::Ref<const MatrixF>(block.middleRows(lo, n));
        assigned.resize(std::size_t(n));
        dist.resize(std::size_t(n));
        detail::nearest_centres(x, detail::squared_row_norms(x, params_.threads), centroids, assigned.data(),
                                dist.data(), params_.threads);
        for (Index i = 0; i < n; ++i) {
          inertia_ += dist[std::size_t(i)];
          std::int32_t& label = labels_[std::size_t(row0 + i)];
          if (label != assigned[std::size_t(i)]) ++changed;
          label = assigned[std::size_t(i)];
        }
        if (accumulate) accumulate_chunk(x, assigned, dist, row0);
      }
    });
    return changed;
  }

  void accumulate_chunk(const Eigen::Ref<const MatrixF>& x, const std::vector<std::int32_t>& assigned,
                        const std::vector<float>& dist, Index row0) {
    const Index n = x.rows(), k = Index(sums_.size());
    detail::parallel_for(0, k, params_.threads, [&](Index c) {
      VectorD& sum = sums_[std::size_t(c)];
      for (Index i = 0; i < n; ++i)
        if (assigned[std::size_t(i)] == c) {
          sum += x.row(i).transpose().cast<double>();
          ++counts_[std::size_t(c)];
        }
    });
    for (Index i = 0; i < n; ++i) {
      FarPoint p{dist[std::size_t(i)], row0 + i, assigned[std::size_t(i)], {}};
      if (Index(far_.size()) == k && !farther(p, far_.front())) continue;
      p.x = x.row(i).transpose();
      if (Index(far_.size()) == k) {
        std::pop_heap(far_.begin(), far_.end(), farther);
        far_.pop_back();
      }
      far_.push_back(std::move(p));
      std::push_heap(far_.begin(), far_.end(), farther);  // front: the nearest of the kept points
    }
  }

  // Step 3 on the pass's sums: each empty cluster takes the farthest kept point whose cluster
  // keeps at least one other point. Returns how many were re-seeded.
  int reseed_empty_clusters() {
    if (std::find(counts_.begin(), counts_.end(), Index{0}) == counts_.end()) return 0;
    std::sort(far_.begin(), far_.end(), farther);
    int reseeds = 0;
    std::size_t next = 0;
    for (std::size_t c = 0; c < counts_.size(); ++c) {
      if (counts_[c] != 0) continue;
      while (next < far_.size() && counts_[std::size_t(far_[next].label)] <= 1) ++next;
      if (next == far_.size()) break;  // leave the centroid where it is
      const FarPoint& p = far_[next++];
      const VectorD x = p.x.cast<double>();
      sums_[std::size_t(p.label)] -= x;
      --counts_[std::size_t(p.label)];
      sums_[c] = x;
      counts_[c] = 1;
      labels_[std::size_t(p.row)] = std::int32_t(c);
      ++reseeds;
    }
    return reseeds;
  }

  const detail::BlockedRows& rows_;
  const Preprocessor& preprocessor_;
  const KMeansParams& params_;
  const Index chunk_;
  Labels labels_;
  double inertia_ = 0;
  std::vector<VectorD> sums_;
  std::vector<Index> counts_;
  std::vector<FarPoint> far_;
};

// Restarts on a sample of `sample_rows` rows, then Lloyd passes over all of them.
KMeansResult fit_on_sample(const detail::BlockedRows& rows, Index sample_rows, const KMeansParams& params,
                           const KMeansProgress& progress) {
  NEUNCUT_REQUIRE(sample_rows >= params.n_clusters, InvalidArgument, "kmeans: sample (", params.sample,
                  ") must be at least k (", params.n_clusters, ")");
  const auto start = std::chrono::steady_clock::now();
  detail::ThreadCountScope scope(params.threads);
  detail::Rng rng(params.seed);
  MatrixF sample = rows.gather(detail::sorted_sample(rows.rows(), sample_rows, rng.split()));
  Preprocessor preprocessor(FeatureScaling::None, params.normalize);
  preprocessor.fit(sample);
  if (params.normalize) sample = preprocessor.transform(sample);
  KMeansResult result;
  result.sample_rows = sample_rows;
  const RunResult best = run_restarts(sample, params, rng, progress, result);
  sample = MatrixF();
  FullPasses(rows, preprocessor, params).run(best.centroids, result.tol_absolute, result);
  add_warnings(params, result);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

Index kmeans_sample_rows(const KMeansParams& params, Index n) {
  const Index asked = params.sample > 0 ? Index(params.sample) : kAutoSampleRows;
  return std::min(n, asked);
}

KMeansResult fit_kmeans(const Eigen::Ref<const MatrixF>& input, const KMeansParams& params,
                        const KMeansProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  validate(params);
  validate_data(input, params.threads, "kmeans", params.n_clusters);
  const Index sample_rows = kmeans_sample_rows(params, input.rows());
  if (sample_rows < input.rows()) return fit_on_sample(detail::BlockedRows(input), sample_rows, params, progress);

  Preprocessor preprocessor(FeatureScaling::None, params.normalize);
  MatrixF normalized;
  if (params.normalize) {
    preprocessor.fit(input);
    normalized = preprocessor.transform(input);
  }
  const Eigen::Ref<const MatrixF> data = params.normalize ? Eigen::Ref<const MatrixF>(normalized) : input;
  detail::ThreadCountScope scope(params.threads);
  detail::Rng rng(params.seed);
  KMeansResult result;
  result.sample_rows = input.rows();
  RunResult best = run_restarts(data, params, rng, progress, result);
  result.model = KMeansModel(std::move(best.centroids), std::move(preprocessor));
  result.labels = std::move(best.labels);
  result.inertia = best.inertia;
  result.converged = best.converged;
  result.inertia_trace = std::move(best.trace);
  add_warnings(params, result);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

KMeansResult fit_kmeans(const RowAccess& rows, const KMeansParams& params, const KMeansProgress& progress) {
  return detail::kmeans_of_rows(rows, params, detail::pass_block_rows(rows.cols()), progress);
}

namespace detail {
KMeansResult kmeans_of_rows(const RowAccess& rows, const KMeansParams& params, Index block_rows,
                            const KMeansProgress& progress) {
  validate(params);
  DataCheck check;
  check.who = "kmeans";
  check.k = params.n_clusters;
  check.threads = params.threads;
  check_data_shape(rows.rows(), rows.cols(), check);
  const BlockedRows blocked(rows, check, block_rows);
  const Index sample_rows = kmeans_sample_rows(params, rows.rows());
  if (sample_rows == rows.rows()) {  // the restarts need every row in memory anyway
    std::vector<Index> all(std::size_t(rows.rows()));
    std::iota(all.begin(), all.end(), Index{0});
    return fit_kmeans(blocked.gather(all), params, progress);
  }
  return fit_on_sample(blocked, sample_rows, params, progress);
}
}  // namespace detail

KMeansFitResult KMeans::fit(const Eigen::Ref<const MatrixF>& data, const KMeansProgress& progress) {
  KMeansResult r = fit_kmeans(data, params_, progress);
  model_ = std::move(r.model);
  return std::move(static_cast<KMeansFitResult&>(r));
}

KMeansFitResult KMeans::fit(const RowAccess& rows, const KMeansProgress& progress) {
  KMeansResult r = fit_kmeans(rows, params_, progress);
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
