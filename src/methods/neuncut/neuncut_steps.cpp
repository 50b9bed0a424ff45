#include "methods/neuncut/neuncut_steps.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <optional>

#include "core/data_check.hpp"
#include "core/parallel.hpp"
#include "core/resources_internal.hpp"
#include "core/timing.hpp"
#include "methods/neuncut/neuncut_internal.hpp"
#include "methods/neuncut/table_geometry.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/resources.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"
#include "neuncut/methods/neuncut/ncut_loss.hpp"
#include "neuncut/methods/neuncut/spectral_init.hpp"
#include "nn/epoch_trainer.hpp"

namespace neuncut::detail {
namespace {

// Training flushes subnormal floats to zero (float_env.hpp), and squares of values below
// about 1e-19 underflow anyway: data whose every nonzero value is subnormal would train as one
// point repeated, and be reported as duplicates. The scan stops at the first normal value.
void require_normal_values(const Eigen::Ref<const MatrixF>& data, const std::string& what) {
  std::uint32_t largest = 0;  // magnitude bit pattern: exponent bits zero means subnormal
  for (Index j = 0; j < data.cols(); ++j)
    for (Index i = 0; i < data.rows(); ++i) {
      const std::uint32_t bits = std::bit_cast<std::uint32_t>(data(i, j)) & 0x7fffffffu;
      if (bits >= 0x00800000u) return;
      largest = std::max(largest, bits);
    }
  // Printed from the bits (mantissa x 2^-149): arithmetic on subnormals is what is unreliable.
  NEUNCUT_REQUIRE(largest == 0, InvalidArgument, what,
                  ": every nonzero value is subnormal in float32 (largest magnitude ",
                  std::ldexp(double(largest), -149),
                  ", below the smallest normal 1.18e-38); neuncut computes such "
                  "values as 0, so all points would be the same: rescale the data");
}

// The most rows the dense warm-start partition takes: it is a dense eigen-decomposition
// (O(s^3) time, s^2 memory).
constexpr Index kDenseWarmStartRows = 1000;

// Rows of the warm start's sample: with the knn affinity up to init_sample training points,
// whose sparse graph classic Ncut partitions in about linear time; with the gaussian affinity
// at most one batch, and no more than the dense partition takes.
Index warm_start_rows(const NeuNcutParams& p, Index n, Index m) {
  const Index s = p.affinity == BatchAffinityKind::Knn ? std::min<Index>(n, p.init_sample)
                                                       : std::min<Index>(m, kDenseWarmStartRows);
  return std::max<Index>(p.n_clusters, s);
}

// Refuses, before anything is allocated, a configuration that cannot fit in memory. The
// estimate counts what the fit allocates in proportion to the user's sizes: the training
// copy, the network with its gradient, Adam's two moments and the collapse snapshot of all
// three, a batch's activations (forward values and their gradients), the batch affinity with
// the Gram matrix it is built from, and inference's per-thread blocks. Scattering features are
// counted at the input width (their width is only known once the transform is built).
void require_fit_memory(const NeuNcutParams& p, Index n, Index dim, Index m, int threads) {
  std::vector<Index> widths = {dim};
  for (int w : p.hidden) widths.push_back(w);
  widths.push_back(p.n_clusters);
  double units = 0;
  for (Index w : widths) units += double(w);
  const double network = network_parameter_bytes(widths);
  const Index init_rows = p.init == InitMethod::Spectral ? warm_start_rows(p, n, m) : 0;
  require_memory("NeuNcut fit",
                 {{"training copy of the data", 4.0 * double(n) * double(dim)},
                  {"network weights, gradient, Adam state and snapshot", 7.0 * network},
                  {"activations of a batch of " + std::to_string(m) + " rows", 3.0 * 4.0 * double(m) * units},
                  {"batch affinity", 2.0 * 4.0 * double(m) * double(m)},
                  {"warm start on " + std::to_string(init_rows) + " rows (sample, activations)",
                   4.0 * double(init_rows) * (double(dim) + 3.0 * units)},
                  {"inference blocks", 2.0 * 4.0 * double(threads) * double(NeuNcut::kInferenceBlockRows) * units}},
                 "use narrower hidden layers (hidden), a smaller batch_size or train_size");
}

double learning_rate_at(const NeuNcutParams& p, int epoch, int epochs) {
  if (p.lr_schedule == LrSchedule::Constant) return p.learning_rate;
  return p.learning_rate * 0.5 * (1.0 + std::cos(M_PI * double(epoch) / double(epochs)));
}

double gamma_at(const NeuNcutParams& p, int epoch) {
  if (p.gamma_step <= 0) return p.gamma;
  return std::min(p.gamma_max, p.gamma * std::pow(p.gamma_factor, double(epoch / p.gamma_step)));
}

// Counts per-cluster argmax wins and sums max probabilities of rows of P.
void tally(const MatrixF& P, std::vector<Index>& counts, double& max_prob_sum) {
  for (Index i = 0; i < P.rows(); ++i) {
    Index j;
    max_prob_sum += P.row(i).maxCoeff(&j);
    ++counts[j];
  }
}

int clusters_won(const std::vector<Index>& counts) {
  return int(std::count_if(counts.begin(), counts.end(), [](Index c) { return c > 0; }));
}

// The dense NJW partition of a batch-sized sample under the loss's own affinity kind.
Labels dense_warm_start_partition(const MatrixF& sample, const NeuNcutParams& p, float sigma, std::uint64_t seed,
                                  int threads) {
  if (p.affinity != BatchAffinityKind::Knn) return spectral_batch_partition(sample, sigma, p.n_clusters, seed, threads);
  const MatrixF w = knn_batch_affinity(sample, std::min<int>(p.affinity_neighbors, int(sample.rows()) - 1));
  return njw_partition(w, w.rowwise().sum(), p.n_clusters, seed, threads);
}

// The warm start's partition. With the knn affinity it is classic Ncut's on the whole sample
// (the graph `neuncut ncut` builds, on the already preprocessed rows): on the quality suite a
// sample of 5000 instead of one batch of 1000 raised digits20, satellite, letter and circles and
// steadied their seeds, and cost segment ACC (docs/defaults.md, "Warm start from classic Ncut").
// An unconverged eigensolver falls back to the dense partition of the sample's first batch, and
// so does a sample of no more than k points (classic Ncut needs k < N; the dense NJW does not).
Labels warm_start_partition(const MatrixF& sample, const NeuNcutParams& p, Index m, float sigma, std::uint64_t seed,
                            int threads) {
  if (p.affinity == BatchAffinityKind::Knn && sample.rows() > p.n_clusters) {
    SpectralClusteringParams ncut;
    ncut.n_clusters = p.n_clusters;
    ncut.n_neighbors = p.affinity_neighbors;
    ncut.normalize = false;  // the rows are preprocessed already, as the loss sees them
    ncut.seed = seed;
    ncut.threads = threads;
    SpectralClusteringResult r = fit_spectral_clustering(sample, ncut);
    if (!r.labels.empty()) return std::move(r.labels);
  }
  const Index rows = std::max<Index>(p.n_clusters, std::min<Index>({sample.rows(), m, kDenseWarmStartRows}));
  const MatrixF batch = sample.topRows(rows);
  Labels labels = dense_warm_start_partition(batch, p, sigma, seed, threads);
  return labels;
}

// Collapse recovery. Training can fall off a cliff late: after many healthy epochs with a
// falling loss, within two epochs the loss jumps and a cluster empties for good (seen on
// Fashion-MNIST; docs/measurements.md). The healthy epoch with the lowest loss is kept; a
// collapsed epoch goes back to it with half the learning rate (docs/defaults.md).
// The network and optimizer state of the best healthy epoch. Outside CollapseGuard: clang
// does not treat a nested class with default member initializers as default-constructible
// inside the enclosing class's definition (std::optional::emplace() then fails to compile).
struct CollapseSnapshot {
  AlignedFloats parameters;
  Adam adam;
  double loss = 0;
  int epoch = 0;
};

class CollapseGuard {
 public:
  explicit CollapseGuard(int max_rollbacks) : max_rollbacks_(max_rollbacks) {}

  // After an epoch's statistics: remembers a healthy epoch with a new lowest loss, or rolls a
  // collapsed one back to the best (network and optimizer), halving lr_scale.
  void after_epoch(NeuNcutEpochStats& st, Network& net, double& lr_scale, int& rollbacks) {
    if (max_rollbacks_ <= 0) return;
    if (!st.collapse.collapsed()) {
      if (!best_ || st.loss < best_->loss) {
        if (!best_) best_.emplace();
        best_->parameters.assign(net.mlp.parameters().begin(), net.mlp.parameters().end());
        best_->adam = net.adam;
        best_->loss = st.loss;
        best_->epoch = st.epoch;
      }
    } else if (best_ && rollbacks < max_rollbacks_) {
      net.mlp.set_parameters(best_->parameters);
      net.adam = best_->adam;
      lr_scale *= 0.5;
      ++rollbacks;
      st.rolled_back_to = best_->epoch;
    }
  }

  // Still collapsed at the end (and not just rolled back): the best healthy network. Returns
  // the epoch restored, 0 if none.
  int restore_if_collapsed(const NeuNcutEpochStats& last, Mlp& mlp) const {
    if (!best_ || !last.collapse.collapsed() || last.rolled_back_to != 0) return 0;
    mlp.set_parameters(best_->parameters);
    return best_->epoch;
  }

 private:
  int max_rollbacks_;
  std::optional<CollapseSnapshot> best_;
};

// NeuNcut's part of the epoch loop (epoch_trainer.hpp): the schedules, the step on one batch
// under the Ncut loss, and the epoch's statistics with the collapse guard. Everything the step
// touches is allocated once and reused.
class NcutEpochs {
 public:
  using Stats = NeuNcutEpochStats;

  NcutEpochs(const NeuNcutParams& p, Index m, double sigma, int epochs, const Labels& anchor, Network& net, int threads,
             const DataParallel& parallel, NeuNcutFitResult& result)
      : p_(p),
        m_(m),
        sigma_(float(sigma)),
        epochs_(epochs),
        anchor_(anchor),
        batch_anchor_(anchor.empty() ? 0 : static_cast<std::size_t>(m)),
        net_(net),
        threads_(threads),
        parallel_(parallel),
        result_(result),
        knn_(p.affinity == BatchAffinityKind::Knn),
        // A batch of m points has m - 1 neighbours to offer: tiny data (scikit-learn's 10-point
        // checks) runs with the knn default instead of being refused.
        affinity_neighbors_(std::min<int>(p.affinity_neighbors, int(m) - 1)),
        gradient_(static_cast<std::size_t>(net.mlp.num_parameters())),
        counts_(static_cast<std::size_t>(p.n_clusters)),
        guard_(p.collapse_rollbacks) {}

  NeuNcutEpochStats begin_epoch(int epoch) {
    NeuNcutEpochStats st;
    st.gamma = gamma_at(p_, epoch);
    st.learning_rate = learning_rate_at(p_, epoch, epochs_) * lr_scale_;
    std::fill(counts_.begin(), counts_.end(), 0);
    max_prob_sum_ = 0;
    steps_ = 0;
    return st;
  }

  void step(const MatrixF& batch, const Index* rows, NeuNcutEpochStats& st) {
    if (knn_) {
      W_ = knn_batch_affinity(batch, affinity_neighbors_, affinity_params_);
      degree_ = W_.rowwise().sum();
    } else {
      gaussian_batch_affinity(batch, sigma_, W_, degree_, threads_, result_.affinity_precision);
    }
    net_.mlp.forward(batch, ws_);
    P_ = ws_.activations.back();
    softmax_rows(P_);
    const NcutLossTerms terms = ncut_loss(W_, degree_, P_, st.gamma, p_.eps, &grad_p_);
    tally(P_, counts_, max_prob_sum_);
    softmax_backward(P_, grad_p_);
    // init_anchor: the sampled rows of the batch are also pulled towards their warm-start
    // labels, so training refines classic Ncut's partition instead of drifting from it.
    if (!anchor_.empty()) {
      for (Index i = 0; i < m_; ++i) batch_anchor_[std::size_t(i)] = anchor_[std::size_t(rows[i])];
      add_anchor_cross_entropy(P_, batch_anchor_, anchor_weight(p_.init_anchor, p_.n_clusters), grad_p_);
    }
    net_.mlp.backward(batch, ws_, grad_p_, gradient_);
    if (parallel_.active()) average_over_ranks(gradient_);
    net_.adam.step(net_.mlp.parameters(), gradient_, st.learning_rate, threads_);
    st.loss += terms.loss;
    st.trace += terms.trace;
    st.penalty += terms.penalty;
    st.orthogonality += terms.orthogonality;
    ++steps_;
  }

  void end_epoch(NeuNcutEpochStats& st) {
    if (parallel_.active()) sum_over_ranks(st);
    const double steps = double(steps_);
    st.loss /= steps;
    st.trace /= steps;
    st.penalty /= steps;
    st.orthogonality /= steps;
    st.clusters_used = clusters_won(counts_);
    st.mean_max_probability = max_prob_sum_ / (steps * double(m_));
    st.largest_cluster_fraction = double(*std::max_element(counts_.begin(), counts_.end())) / (steps * double(m_));
    st.collapse = collapse_status(p_.n_clusters, st.clusters_used, st.mean_max_probability);
    guard_.after_epoch(st, net_, lr_scale_, result_.collapse_rollbacks);
    NEUNCUT_REQUIRE(std::isfinite(st.loss), Error, "training diverged at epoch ", st.epoch,
                    " (non-finite loss); lower the learning rate or check sigma");
  }

  const CollapseGuard& guard() const { return guard_; }

 private:
  // The mean of every rank's gradient, on every rank: exact for two ranks (a float sum is exact
  // in double, and halving it too), so both apply the same update to the same network.
  void average_over_ranks(AlignedFloats& gradient) {
    exchange_.assign(gradient.begin(), gradient.end());
    parallel_.sum(exchange_.data(), exchange_.size());
    const double inv = 1.0 / double(parallel_.ranks);
    for (std::size_t i = 0; i < gradient.size(); ++i) gradient[i] = static_cast<float>(exchange_[i] * inv);
  }

  // The epoch's sums over all ranks' batches, so that every rank averages, detects collapse
  // and rolls back (the collapse guard) on the same numbers.
  void sum_over_ranks(NeuNcutEpochStats& st) {
    exchange_ = {st.loss, st.trace, st.penalty, st.orthogonality, max_prob_sum_, double(steps_)};
    exchange_.insert(exchange_.end(), counts_.begin(), counts_.end());
    parallel_.sum(exchange_.data(), exchange_.size());
    st.loss = exchange_[0];
    st.trace = exchange_[1];
    st.penalty = exchange_[2];
    st.orthogonality = exchange_[3];
    max_prob_sum_ = exchange_[4];
    steps_ = Index(exchange_[5]);
    for (std::size_t j = 0; j < counts_.size(); ++j) counts_[j] = Index(exchange_[6 + j]);
  }

  const NeuNcutParams& p_;
  Index m_;
  float sigma_;
  int epochs_;
  const Labels& anchor_;  // warm-start label per training row, -1 off the sample; empty: no anchor
  Labels batch_anchor_;   // anchor_ of the batch's rows
  Network& net_;
  int threads_;
  const DataParallel& parallel_;
  NeuNcutFitResult& result_;
  bool knn_;
  int affinity_neighbors_;
  AffinityParams affinity_params_;  // self-tuning weights, average symmetrization
  MatrixF W_, P_, grad_p_;
  VectorF degree_;
  MlpWorkspace ws_;
  AlignedFloats gradient_;
  std::vector<Index> counts_;
  double max_prob_sum_ = 0;
  Index steps_ = 0;
  double lr_scale_ = 1.0;
  CollapseGuard guard_;
  std::vector<double> exchange_;  // what is summed over the ranks
};

}  // namespace

FitShape check_fit_shape(const NeuNcutParams& p, Index rows, Index cols) {
  validate(p);
  FitShape s;
  s.k = p.n_clusters;
  s.threads = resolve_threads(p.threads);
  check_data_shape(rows, cols, training_data_check(p));
  s.n = p.train_size > 0 ? std::min<Index>(p.train_size, rows) : rows;
  NEUNCUT_REQUIRE(s.n >= 2, InvalidArgument, "training needs at least 2 points (pairs to cut), got 1 sample");
  NEUNCUT_REQUIRE(s.k <= s.n, InvalidArgument, "k (", s.k, ") exceeds the training subset (", s.n, " points)");
  NEUNCUT_REQUIRE(p.batch_size <= s.n, InvalidArgument, "batch size (", p.batch_size,
                  ") exceeds the number of training points (", s.n, ")");
  s.m = p.batch_size > 0 ? p.batch_size : std::min<Index>(1000, s.n);
  NEUNCUT_REQUIRE(s.m >= s.k, InvalidArgument, "batch size (", s.m, ") must be >= k (", s.k, ")");
  require_fit_memory(p, s.n, cols, s.m, s.threads);
  return s;
}

DataCheck training_data_check(const NeuNcutParams& p) {
  DataCheck check;
  check.what = "training data";
  check.k = p.n_clusters;
  check.threads = resolve_threads(p.threads);
  return check;
}

void check_training_values(const NeuNcutParams& p, const Eigen::Ref<const MatrixF>& data) {
  check_data(data, training_data_check(p));
  require_normal_values(data, "training data");
}

MatrixF draw_training_set(const RowAccess& data, Index n, Rng& rng, const NeuNcutParams* check_values_of) {
  std::vector<Index> rows;
  if (n == data.rows()) {
    rng.split();  // keep the stream aligned whether or not a subset was drawn
    rows.resize(std::size_t(n));
    std::iota(rows.begin(), rows.end(), Index{0});
  } else {
    rows = rng.sample_without_replacement(data.rows(), n);
  }
  MatrixF train = data.gather(rows);
  if (check_values_of) {
    check_gathered_values(train, rows, training_data_check(*check_values_of));
    require_normal_values(train, "training data");
  }
  return train;
}

Preprocessor fit_features(const NeuNcutParams& p, MatrixF& train, int threads, NeuNcutFitResult& result) {
  const auto start = Clock::now();
  ScatteringTransform features = resolve_features(p, train.cols());
  const bool scattering = !features.empty();
  const Index dim = scattering ? features.output_dim() : train.cols();  // what the network sees
  bool l2 = resolve_normalize(p.normalize, dim);
  FeatureScaling scaling = resolve_scaling(p.scaling, !p.image_shape.empty(), l2);
  // A table: standardized columns unless raw L2 rows hold k clusters far more clearly.
  result.geometry_eigengaps = apply_table_geometry(train, p.n_clusters, p.scaling, p.normalize,
                                                   p.image_shape.empty() && !scattering, p.seed, threads, scaling, l2);
  Preprocessor pre(scaling, l2, std::move(features));
  pre.fit_transform_in_place(train, threads);  // validates the rows
  result.features = scattering ? FeatureMap::Scattering : FeatureMap::Raw;
  result.feature_dim = dim;
  result.features_seconds = seconds_since(start);
  result.l2_normalized = pre.l2_normalize();
  result.scaling = pre.scaling();
  return pre;
}

double choose_sigma(const NeuNcutParams& p, const MatrixF& train, const Preprocessor& pre, Index m, Rng& rng,
                    int threads, NeuNcutFitResult& result) {
  result.sigma_estimated = p.sigma <= 0;
  SigmaRule rule;
  rule.sample_size = m;
  // The median rule (a wide kernel) where the neighbour rule's local scale is far too narrow:
  // scattering features of one class lie much closer together than pixels do
  // (docs/defaults.md, "Image features").
  rule.pairwise_median =
      p.sigma_rule == SigmaRuleChoice::Median || (p.sigma_rule == SigmaRuleChoice::Auto && !pre.features().empty());
  rule.neighbor = std::min<int>(p.sigma_neighbors, int(m) - 1);
  rule.scale = p.sigma_scale;
  rule.seed = rng.split();  // drawn whether or not sigma is estimated
  result.sigma = result.sigma_estimated ? estimate_sigma(train, rule, threads) : p.sigma;
  return result.sigma;
}

Network build_network(const NeuNcutParams& p, const Preprocessor& pre, double sigma, Rng& rng,
                      NeuNcutFitResult& result) {
  const Index dim = pre.output_dim();
  std::vector<Index> widths = {dim};
  for (int w : p.hidden) widths.push_back(w);
  widths.push_back(p.n_clusters);
  Network net{Mlp(widths), AdamParams{}, Adam{}};
  result.precision = p.precision;
  net.mlp.set_precision(result.precision);
  // The Gram matrix in bf16 only where its rounding is small against the kernel's scale.
  if (result.precision == Precision::Bf16 && p.affinity == BatchAffinityKind::Gaussian && pre.l2_normalize() &&
      sigma >= NeuNcut::kBf16AffinityMinSigma)
    result.affinity_precision = Precision::Bf16;
  const bool uniform_bias = p.bias_init == BiasInit::Uniform || (p.bias_init == BiasInit::Auto && dim <= 10);
  net.mlp.initialize(rng.split(), uniform_bias);
  net.adam_params.weight_decay = p.weight_decay;
  net.adam_params.mode = p.optimizer;
  net.adam = Adam(net.mlp.num_parameters(), net.adam_params);
  return net;
}

Labels warm_start(const NeuNcutParams& p, const MatrixF& train, Index m, double sigma, std::uint64_t init_seed,
                  Network& net, int threads, NeuNcutFitResult& result) {
  if (p.init != InitMethod::Spectral || p.n_clusters <= 1) return {};  // one cluster: nothing to warm-start
  const auto start = Clock::now();
  Rng init_rng(init_seed);
  const Index s = warm_start_rows(p, train.rows(), m);
  const auto rows = init_rng.sample_without_replacement(train.rows(), s);
  MatrixF sample(s, train.cols());
  for (Index i = 0; i < s; ++i) sample.row(i) = train.row(rows[i]);
  Labels spectral = warm_start_partition(sample, p, m, float(sigma), init_rng.split(), threads);
  // A fallback partition covers only the sample's first rows: fit the network to those.
  if (Index(spectral.size()) < s) sample.conservativeResize(Index(spectral.size()), Eigen::NoChange);
  result.init_agreement =
      fit_network_to_labels(net.mlp, sample, spectral, p.init_steps, p.learning_rate, net.adam_params, threads);
  result.init_seconds = seconds_since(start);
  if (p.init_anchor <= 0) return {};
  Labels anchor(static_cast<std::size_t>(train.rows()), -1);
  for (std::size_t i = 0; i < spectral.size(); ++i) anchor[std::size_t(rows[i])] = spectral[i];
  return anchor;
}

void train_network(const NeuNcutParams& p, const MatrixF& train, const Labels& anchor, Index m, double sigma, Rng& rng,
                   Network& net, int threads, const DataParallel& parallel, const NeuNcutProgress& progress,
                   NeuNcutFitResult& result) {
  EpochPlan plan;
  plan.batch_rows = m;
  plan.batches = train.rows() / m;  // the remainder is dropped; it is drawn in other epochs
  plan.epochs = resolve_epochs(p.epochs, plan.batches);
  plan.threads = threads;
  plan.rank = parallel.rank;
  plan.ranks = parallel.ranks;
  NcutEpochs method(p, m, sigma, plan.epochs, anchor, net, threads, parallel, result);
  result.train_seconds = run_epochs(method, train, plan, rng, result.history, progress);
  result.restored_epoch = method.guard().restore_if_collapsed(result.history.back(), net.mlp);
}

void check_health(const Mlp& mlp, const MatrixF& train, int k, NeuNcutFitResult& result) {
  std::vector<Index> counts(static_cast<std::size_t>(k));
  double max_prob_sum = 0;
  const Index n = train.rows();
  for (Index lo = 0; lo < n; lo += 8192) {
    const Index rows = std::min<Index>(8192, n - lo);
    MatrixF P = mlp.predict_logits(train.middleRows(lo, rows));
    softmax_rows(P);
    tally(P, counts, max_prob_sum);
  }
  result.clusters_used = clusters_won(counts);
  result.mean_max_probability = max_prob_sum / double(n);
  result.collapse = collapse_status(k, result.clusters_used, result.mean_max_probability);
}

}  // namespace neuncut::detail
