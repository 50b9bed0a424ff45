#include "neuncut/methods/neuncut/neuncut.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>

#include "core/float_env.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/methods/neuncut/ncut_loss.hpp"
#include "neuncut/nn/optimizer.hpp"
#include "neuncut/core/resources.hpp"
#include "neuncut/methods/neuncut/spectral_init.hpp"
#include "kernels/pairwise_distance.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "core/resources_internal.hpp"
#include "methods/neuncut/neuncut_internal.hpp"

namespace neuncut {

const std::vector<ParamInfo<NeuNcutParams>>& neuncut_param_table() {
  using ParamsType = NeuNcutParams;
  static const std::vector<ParamInfo<NeuNcutParams>> table = {NEUNCUT_NEUNCUT_PARAMS(NEUNCUT_PARAM_INFO)};
  return table;
}

void validate(const NeuNcutParams& p) {
  NEUNCUT_REQUIRE(p.n_clusters >= 1, InvalidArgument, "k (n_clusters) must be >= 1, got ", p.n_clusters);
  NEUNCUT_REQUIRE(p.epochs >= 0, InvalidArgument, "epochs must be >= 1, or 0 for automatic; got ", p.epochs);
  NEUNCUT_REQUIRE(p.batch_size >= 0, InvalidArgument, "batch_size must be >= 0 (0: automatic), got ", p.batch_size);
  NEUNCUT_REQUIRE(p.batch_size != 1, InvalidArgument, "batch_size 1 has no pairs to cut; use >= 2");
  NEUNCUT_REQUIRE(p.train_size >= 0, InvalidArgument, "train_size must be >= 0 (0: all points), got ", p.train_size);
  NEUNCUT_REQUIRE(p.learning_rate > 0, InvalidArgument, "learning rate must be > 0, got ", p.learning_rate);
  NEUNCUT_REQUIRE(p.weight_decay >= 0, InvalidArgument, "weight decay must be >= 0, got ", p.weight_decay);
  NEUNCUT_REQUIRE(p.gamma >= 0, InvalidArgument, "gamma must be >= 0, got ", p.gamma);
  NEUNCUT_REQUIRE(p.gamma_factor > 0, InvalidArgument, "gamma_factor must be > 0, got ", p.gamma_factor);
  NEUNCUT_REQUIRE(p.gamma_step >= 0, InvalidArgument, "gamma_step must be >= 0, got ", p.gamma_step);
  NEUNCUT_REQUIRE(p.gamma_max >= p.gamma, InvalidArgument, "gamma_max (", p.gamma_max, ") must be >= gamma (", p.gamma, ")");
  NEUNCUT_REQUIRE(p.sigma >= 0, InvalidArgument, "sigma must be > 0, or 0 to choose it from the data; got ", p.sigma);
  NEUNCUT_REQUIRE(p.sigma_neighbors >= 1, InvalidArgument, "sigma_neighbors must be >= 1, got ", p.sigma_neighbors);
  NEUNCUT_REQUIRE(p.sigma_scale > 0, InvalidArgument, "sigma_scale must be > 0, got ", p.sigma_scale);
  NEUNCUT_REQUIRE(p.sigma_rule == "auto" || p.sigma_rule == "neighbor" || p.sigma_rule == "median", InvalidArgument,
                  "unknown sigma_rule '", p.sigma_rule, "' (expected auto, neighbor or median)");
  NEUNCUT_REQUIRE(p.features == "auto" || p.features == "raw" || p.features == "scattering", InvalidArgument,
                  "unknown features '", p.features, "' (expected auto, raw or scattering)");
  if (!p.image_shape.empty()) parse_image_shape(p.image_shape);
  NEUNCUT_REQUIRE(p.features != "scattering" || !p.image_shape.empty(), InvalidArgument,
                  "features 'scattering' needs the image shape (image_shape, e.g. 28x28)");
  NEUNCUT_REQUIRE(p.scattering_order == 1 || p.scattering_order == 2, InvalidArgument,
                  "scattering_order must be 1 or 2, got ", p.scattering_order);
  NEUNCUT_REQUIRE(p.scattering_scales >= 1 && p.scattering_scales <= 8, InvalidArgument,
                  "scattering_scales must be in [1, 8], got ", p.scattering_scales);
  NEUNCUT_REQUIRE(p.scattering_angles >= 1 && p.scattering_angles <= 32, InvalidArgument,
                  "scattering_angles must be in [1, 32], got ", p.scattering_angles);
  NEUNCUT_REQUIRE(p.eps > 0, InvalidArgument, "eps must be > 0, got ", p.eps);
  NEUNCUT_REQUIRE(p.threads >= 0, InvalidArgument, "threads must be >= 0 (0: all cores), got ", p.threads);
  NEUNCUT_REQUIRE(p.lr_schedule == "cosine" || p.lr_schedule == "constant", InvalidArgument,
                  "unknown lr schedule '", p.lr_schedule, "' (expected cosine or constant)");
  resolve_normalize(p.normalize, 1);
  NEUNCUT_REQUIRE(p.affinity == "gaussian" || p.affinity == "knn", InvalidArgument, "unknown affinity '",
                  p.affinity, "' (expected gaussian or knn)");
  NEUNCUT_REQUIRE(p.affinity_neighbors >= 1, InvalidArgument, "affinity_neighbors must be >= 1, got ",
                  p.affinity_neighbors);
  NEUNCUT_REQUIRE(p.bias_init == "auto" || p.bias_init == "zero" || p.bias_init == "uniform", InvalidArgument,
                  "unknown bias_init '", p.bias_init, "' (expected auto, zero or uniform)");
  NEUNCUT_REQUIRE(p.init == "spectral" || p.init == "random", InvalidArgument, "unknown init '", p.init,
                  "' (expected spectral or random)");
  NEUNCUT_REQUIRE(p.init_steps >= 1, InvalidArgument, "init_steps must be >= 1, got ", p.init_steps);
  NEUNCUT_REQUIRE(p.collapse_rollbacks >= 0, InvalidArgument, "collapse_rollbacks must be >= 0, got ",
                  p.collapse_rollbacks);
  NEUNCUT_REQUIRE(p.recipe == "default" || p.recipe == "paper", InvalidArgument, "unknown recipe '", p.recipe,
                  "' (expected default or paper)");
  NEUNCUT_REQUIRE(p.select == "none" || p.select == "auto", InvalidArgument, "unknown select '", p.select,
                  "' (expected none or auto)");
  NEUNCUT_REQUIRE(p.select_candidates >= 2, InvalidArgument, "select_candidates must be >= 2, got ",
                  p.select_candidates);
  NEUNCUT_REQUIRE(p.quality_points >= 0, InvalidArgument, "quality_points must be >= 0 (0: no check), got ",
                  p.quality_points);
  parse_weight_decay_mode(p.optimizer);
  if (p.scaling != "auto") parse_feature_scaling(p.scaling);
  require_precision_available(parse_precision(p.precision), "precision bf16");
}

void validate_data(const Eigen::Ref<const MatrixF>& data, const std::string& what) {
  NEUNCUT_REQUIRE(data.rows() > 0 && data.cols() > 0, InvalidArgument, what, " is empty (", data.rows(), " x ",
                  data.cols(), ")");
  if (!detail::all_finite(data, 1)) {  // serial: callers hold no thread count here
    for (Index i = 0; i < data.rows(); ++i)
      for (Index j = 0; j < data.cols(); ++j)
        NEUNCUT_REQUIRE(std::isfinite(data(i, j)), InvalidArgument, what, " contains ",
                        std::isnan(data(i, j)) ? "NaN" : "infinity (Inf)", " at row ", i, ", column ", j);
  }
}

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
  NEUNCUT_REQUIRE(largest == 0, InvalidArgument, what, ": every nonzero value is subnormal in float32 (largest magnitude ",
                  std::ldexp(double(largest), -149), ", below the smallest normal 1.18e-38); neuncut computes such "
                  "values as 0, so all points would be the same: rescale the data");
}
}  // namespace

ScatteringTransform resolve_features(const NeuNcutParams& params, Index dim) {
  if (params.features == "raw" || (params.features == "auto" && params.image_shape.empty())) return {};
  return ScatteringTransform(scattering_params(params.image_shape, dim, params.scattering_scales,
                                                params.scattering_angles, params.scattering_order));
}

bool resolve_normalize(const std::string& normalize, Index dim) {
  if (normalize == "l2") return true;
  if (normalize == "none") return false;
  NEUNCUT_REQUIRE(normalize == "auto", InvalidArgument, "unknown normalize '", normalize,
                  "' (expected auto, l2 or none)");
  // Projecting onto the unit sphere removes one of d degrees of freedom: harmless for images
  // and embeddings (direction is content), destructive for 2-D shapes such as two moons.
  return dim > 10;
}

FeatureScaling resolve_scaling(const std::string& scaling, bool images, bool l2) {
  if (scaling != "auto") return parse_feature_scaling(scaling);
  // Columns of a table come in their own units: unscaled, the largest few decide every
  // distance (a 19-feature table gave chance-level partitions; docs/defaults.md). Pixels
  // share one unit and standardizing them weighs the near-empty border as much as the
  // centre, so images are only standardized when they are not projected onto the sphere (a
  // ReLU net then sees features centred on the origin with unit spread).
  if (!images) return FeatureScaling::Standardize;
  return l2 ? FeatureScaling::None : FeatureScaling::Standardize;
}

int resolve_epochs(int epochs, Index steps_per_epoch) {
  if (epochs > 0) return epochs;
  constexpr Index kMinEpochs = 50, kMinSteps = 500;
  const Index steps = std::max<Index>(1, steps_per_epoch);
  return int(std::max(kMinEpochs, (kMinSteps + steps - 1) / steps));
}

std::string collapse_status(int k, int clusters_used, double mean_max_probability) {
  const double uniform = 1.0 / k;
  if (mean_max_probability < uniform + 0.1 * (1.0 - uniform))
    return detail::concat("near-uniform memberships (mean max probability ", mean_max_probability, ", uniform is ",
                          uniform, "): the trivial solution");
  if (clusters_used < k) return detail::concat(k - clusters_used, " of ", k, " clusters empty");
  return "";
}

namespace {

double learning_rate_at(const NeuNcutParams& p, int epoch, int epochs) {
  if (p.lr_schedule == "constant") return p.learning_rate;
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

// The warm start's partition under the loss's own affinity kind.
Labels warm_start_partition(const MatrixF& sample, const NeuNcutParams& p, float sigma, std::uint64_t seed,
                            int threads) {
  if (p.affinity != "knn") return spectral_batch_partition(sample, sigma, p.n_clusters, seed, threads);
  const MatrixF w = knn_batch_affinity(sample, std::min<int>(p.affinity_neighbors, int(sample.rows()) - 1));
  return njw_partition(w, w.rowwise().sum(), p.n_clusters, seed, threads);
}

}  // namespace

namespace {
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
  require_memory("NeuNcut fit",
                 {{"training copy of the data", 4.0 * double(n) * double(dim)},
                  {"network weights, gradient, Adam state and snapshot", 7.0 * network},
                  {"activations of a batch of " + std::to_string(m) + " rows", 3.0 * 4.0 * double(m) * units},
                  {"batch affinity", 2.0 * 4.0 * double(m) * double(m)},
                  {"inference blocks", 2.0 * 4.0 * double(threads) * double(NeuNcut::kInferenceBlockRows) * units}},
                 "use narrower hidden layers (hidden), a smaller batch_size or train_size");
}
}  // namespace

NeuNcut::NeuNcut(NeuNcutParams params) : params_(std::move(params)) {}

FitResult NeuNcut::fit_single(const Eigen::Ref<const MatrixF>& data, const ProgressCallback& progress) {
  using Clock = std::chrono::steady_clock;
  validate(params_);
  validate_data(data, "training data");
  require_normal_values(data, "training data");
  const Index n_all = data.rows(), k = params_.n_clusters;
  NEUNCUT_REQUIRE(k <= n_all, InvalidArgument, "k (", k, ") exceeds the number of points (", n_all, ")");
  const Index n = params_.train_size > 0 ? std::min<Index>(params_.train_size, n_all) : n_all;
  NEUNCUT_REQUIRE(n >= 2, InvalidArgument, "training needs at least 2 points (pairs to cut), got 1 sample");
  NEUNCUT_REQUIRE(k <= n, InvalidArgument, "k (", k, ") exceeds the training subset (", n, " points)");
  NEUNCUT_REQUIRE(params_.batch_size <= n, InvalidArgument, "batch size (", params_.batch_size,
                  ") exceeds the number of training points (", n, ")");
  const Index m = params_.batch_size > 0 ? params_.batch_size : std::min<Index>(1000, n);
  NEUNCUT_REQUIRE(m >= k, InvalidArgument, "batch size (", m, ") must be >= k (", k, ")");
  const int threads = detail::resolve_threads(params_.threads);
  require_fit_memory(params_, n, data.cols(), m, threads);
  // Every Eigen product in the step (affinity, MLP, loss) runs on exactly `threads` threads:
  // GEMM blocking depends on the thread count, so this is what makes runs reproducible.
  detail::ThreadCountScope thread_scope(threads);
  detail::FlushDenormalsScope flush(threads);
  detail::Rng rng(params_.seed);

  // Training subset, preprocessing fitted on it (the rows are validated by transform).
  MatrixF train;
  if (n < n_all) {
    const auto rows = rng.sample_without_replacement(n_all, n);
    train.resize(n, data.cols());
    for (Index i = 0; i < n; ++i) train.row(i) = data.row(rows[i]);
  } else {
    rng.split();  // keep the stream aligned whether or not a subset was drawn
    train = data;
  }
  ScatteringTransform features = resolve_features(params_, data.cols());
  const bool scattering = !features.empty();
  const Index dim = scattering ? features.output_dim() : data.cols();  // what the network sees
  const bool l2 = resolve_normalize(params_.normalize, dim);
  const FeatureScaling scaling = resolve_scaling(params_.scaling, !params_.image_shape.empty(), l2);
  Preprocessor pre(scaling, l2, std::move(features));
  const auto features_start = Clock::now();
  pre.fit_transform_in_place(train, threads);

  FitResult result;
  result.features = scattering ? "scattering" : "raw";
  result.feature_dim = dim;
  result.features_seconds = std::chrono::duration<double>(Clock::now() - features_start).count();
  result.train_points = n;
  result.threads = threads;
  result.l2_normalized = pre.l2_normalize();
  result.batch_size = m;
  result.sigma_estimated = params_.sigma <= 0;
  SigmaRule rule;
  rule.sample_size = m;
  // The median rule (a wide kernel) where the neighbour rule's local scale is far too narrow:
  // on scattering features of Fashion-MNIST it gives 0.16 where sigma 1.0-3.0 works
  // (docs/defaults.md, "Image features").
  rule.pairwise_median = params_.sigma_rule == "median" || (params_.sigma_rule == "auto" && scattering);
  rule.neighbor = std::min<int>(params_.sigma_neighbors, int(m) - 1);
  rule.scale = params_.sigma_scale;
  rule.seed = rng.split();
  const double sigma = result.sigma_estimated ? estimate_sigma(train, rule, threads) : params_.sigma;
  result.sigma = sigma;

  std::vector<Index> widths = {dim};
  for (int w : params_.hidden) widths.push_back(w);
  widths.push_back(k);
  Mlp mlp(widths);
  result.precision = parse_precision(params_.precision);
  mlp.set_precision(result.precision);
  // The Gram matrix in bf16 only where its rounding is small against the kernel's scale.
  if (result.precision == Precision::Bf16 && params_.affinity == "gaussian" && pre.l2_normalize() &&
      sigma >= kBf16AffinityMinSigma)
    result.affinity_precision = Precision::Bf16;
  const bool uniform_bias = params_.bias_init == "uniform" || (params_.bias_init == "auto" && dim <= 10);
  mlp.initialize(rng.split(), uniform_bias);
  AdamParams adam_params;
  adam_params.weight_decay = params_.weight_decay;
  adam_params.mode = parse_weight_decay_mode(params_.optimizer);
  Adam adam(mlp.num_parameters(), adam_params);

  const bool knn_affinity_kind = params_.affinity == "knn";
  // A batch of m points has m - 1 neighbours to offer: tiny data (scikit-learn's 10-point
  // checks) runs with the knn default instead of being refused.
  const int affinity_neighbors = std::min<int>(params_.affinity_neighbors, int(m) - 1);
  AffinityParams affinity_params;  // self-tuning weights, average symmetrization
  // Everything the step touches is allocated once, here.
  const Index steps_per_epoch = n / m;  // the remainder is dropped; it is drawn in other epochs
  const int epochs = resolve_epochs(params_.epochs, steps_per_epoch);
  MatrixF batch(m, dim), W, P, grad_p;
  VectorF degree;
  MlpWorkspace ws;
  AlignedFloats gradient(static_cast<std::size_t>(mlp.num_parameters()));
  std::vector<Index> counts(static_cast<std::size_t>(k));
  std::vector<Index> order(static_cast<std::size_t>(n));

  // The warm start draws from its own stream, split off whichever init is chosen, so that
  // the training batches are the same for both.
  const std::uint64_t init_seed = rng.split();
  if (params_.init == "spectral" && k > 1) {  // one cluster: nothing to warm-start
    const auto t0 = Clock::now();
    detail::Rng init_rng(init_seed);
    // At most kMaxInitSample points: the dense eigen-decomposition costs O(s^3) (timings in
    // docs/measurements.md), and one default-sized batch is what the loss sees.
    constexpr Index kMaxInitSample = 1000;
    const Index s = std::max<Index>(k, std::min<Index>(m, kMaxInitSample));
    const auto rows = init_rng.sample_without_replacement(n, s);
    MatrixF sample(s, train.cols());
    for (Index i = 0; i < s; ++i) sample.row(i) = train.row(rows[i]);
    const Labels spectral = warm_start_partition(sample, params_, float(sigma), init_rng.split(), threads);
    result.init_agreement = fit_network_to_labels(mlp, sample, spectral, params_.init_steps, params_.learning_rate,
                                                  adam_params, threads);
    result.init_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }

  // Collapse recovery. Training can fall off a cliff late: after many healthy epochs with a
  // falling loss, within two epochs the loss jumps and a cluster empties for good (seen on
  // Fashion-MNIST; docs/measurements.md). The healthy epoch with the lowest loss is kept; a
  // collapsed epoch goes back to it with half the learning rate (docs/defaults.md).
  struct Snapshot {
    AlignedFloats parameters;
    Adam adam;
    double loss = 0;
    int epoch = 0;
  };
  std::optional<Snapshot> best;
  double lr_scale = 1.0;

  const auto start = Clock::now();
  for (int epoch = 0; epoch < epochs; ++epoch) {
    EpochStats st;
    st.epoch = epoch + 1;
    st.epochs = epochs;
    st.gamma = gamma_at(params_, epoch);
    st.learning_rate = learning_rate_at(params_, epoch, epochs) * lr_scale;
    std::fill(counts.begin(), counts.end(), 0);
    double max_prob_sum = 0;
    order = rng.permutation(n);
    for (Index s = 0; s < steps_per_epoch; ++s) {
      // The gather copies m rows from all over the training set, memory-bound enough that
      // splitting it over the threads pays (docs/measurements.md).
      detail::parallel_blocks(m, threads, [&](Index lo, Index hi) {
        for (Index i = lo; i < hi; ++i) batch.row(i) = train.row(order[s * m + i]);
      });
      if (knn_affinity_kind) {
        W = knn_batch_affinity(batch, affinity_neighbors, affinity_params);
        degree = W.rowwise().sum();
      } else {
        gaussian_batch_affinity(batch, float(sigma), W, degree, threads, result.affinity_precision);
      }
      mlp.forward(batch, ws);
      P = ws.activations.back();
      softmax_rows(P);
      const NcutLossTerms terms = ncut_loss(W, degree, P, st.gamma, params_.eps, &grad_p);
      tally(P, counts, max_prob_sum);
      softmax_backward(P, grad_p);
      mlp.backward(batch, ws, grad_p, gradient);
      adam.step(mlp.parameters(), gradient, st.learning_rate, threads);
      st.loss += terms.loss;
      st.trace += terms.trace;
      st.penalty += terms.penalty;
      st.orthogonality += terms.orthogonality;
    }
    const double steps = double(steps_per_epoch);
    st.loss /= steps;
    st.trace /= steps;
    st.penalty /= steps;
    st.orthogonality /= steps;
    st.clusters_used = int(std::count_if(counts.begin(), counts.end(), [](Index c) { return c > 0; }));
    st.mean_max_probability = max_prob_sum / (steps * double(m));
    st.largest_cluster_fraction = double(*std::max_element(counts.begin(), counts.end())) / (steps * double(m));
    st.collapse = collapse_status(int(k), st.clusters_used, st.mean_max_probability);
    if (params_.collapse_rollbacks > 0) {
      if (st.collapse.empty()) {
        if (!best || st.loss < best->loss) {
          if (!best) best.emplace();
          best->parameters.assign(mlp.parameters().begin(), mlp.parameters().end());
          best->adam = adam;
          best->loss = st.loss;
          best->epoch = st.epoch;
        }
      } else if (best && result.rollbacks < params_.collapse_rollbacks) {
        mlp.set_parameters(best->parameters);
        adam = best->adam;
        lr_scale *= 0.5;
        ++result.rollbacks;
        st.rolled_back_to = best->epoch;
      }
    }
    st.elapsed_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    st.eta_seconds = st.elapsed_seconds / double(epoch + 1) * double(epochs - epoch - 1);
    NEUNCUT_REQUIRE(std::isfinite(st.loss), Error, "training diverged at epoch ", epoch + 1,
                    " (non-finite loss); lower the learning rate or check sigma");
    result.history.push_back(st);
    if (progress && !progress(st)) throw Interrupted(detail::concat("training stopped by the caller at epoch ", epoch + 1));
  }
  // Still collapsed at the end (and not just rolled back): return the best healthy network.
  if (best && !result.history.back().collapse.empty() && result.history.back().rolled_back_to == 0) {
    mlp.set_parameters(best->parameters);
    result.restored_epoch = best->epoch;
  }
  result.train_seconds = std::chrono::duration<double>(Clock::now() - start).count();

  preprocessor_ = std::move(pre);
  mlp_ = std::move(mlp);
  sigma_ = sigma;

  // Final health check on the whole training subset with the trained model.
  {
    std::fill(counts.begin(), counts.end(), 0);
    double max_prob_sum = 0;
    for (Index lo = 0; lo < n; lo += 8192) {
      const Index rows = std::min<Index>(8192, n - lo);
      MatrixF Pc = mlp_.predict_logits(train.middleRows(lo, rows));
      softmax_rows(Pc);
      tally(Pc, counts, max_prob_sum);
    }
    result.clusters_used = int(std::count_if(counts.begin(), counts.end(), [](Index c) { return c > 0; }));
    result.mean_max_probability = max_prob_sum / double(n);
    result.collapse = collapse_status(int(k), result.clusters_used, result.mean_max_probability);
  }
  return result;
}

MatrixF NeuNcut::predict_proba(const Eigen::Ref<const MatrixF>& data, Index chunk_rows) const {
  NEUNCUT_REQUIRE(fitted(), InvalidArgument, "the model is not fitted; call fit() or load a model first");
  NEUNCUT_REQUIRE(chunk_rows >= 1, InvalidArgument, "chunk_rows must be >= 1, got ", chunk_rows);
  NEUNCUT_REQUIRE(data.cols() == input_dim(), InvalidArgument, "data has ", data.cols(),
                  " features, the model was trained on ", input_dim());
  validate_data(data, "input data");
  require_precision_available(mlp_.precision(), "this model's precision bf16 (predict --precision fp32, or "
                                                "set_precision(\"fp32\"), switches it)");
  const int threads = detail::resolve_threads(params_.threads);
  detail::FlushDenormalsScope flush(threads);
  // Blocks of rows are spread over the threads, each computed by one thread with
  // single-threaded GEMMs: no synchronization inside a block, so throughput scales with the
  // threads (a threaded GEMM per block reached about 60% of 2x on 2 cores), every row's result
  // is the same at any thread count, and memory stays at threads x block rows. A block is
  // chunk_rows rows, or kInferenceBlockRows when that is smaller: large chunks split unevenly
  // over the threads (7 chunks of 10,000 rows on 2 threads: 4 against 3) and their activations
  // fall out of cache.
  detail::ThreadCountScope single(1);
  MatrixF out(data.rows(), mlp_.output_dim());
  const Index block = std::min(chunk_rows, kInferenceBlockRows);
  const Index blocks = (data.rows() + block - 1) / block;
  detail::parallel_for(0, blocks, threads, [&](Index c) {
    const Index lo = c * block, rows = std::min(block, data.rows() - lo);
    MatrixF chunk = data.middleRows(lo, rows);
    preprocessor_.transform_in_place(chunk, lo);
    MatrixF P = mlp_.predict_logits(chunk);
    softmax_rows(P);
    out.middleRows(lo, rows) = P;
  });
  return out;
}

void NeuNcut::set_precision(const std::string& precision) {
  const Precision p = parse_precision(precision);
  require_precision_available(p, "precision bf16");
  params_.precision = precision;
  mlp_.set_precision(p);
}

Labels NeuNcut::predict(const Eigen::Ref<const MatrixF>& data, Index chunk_rows) const {
  const MatrixF P = predict_proba(data, chunk_rows);  // N x k: small next to the data itself
  Labels labels(static_cast<std::size_t>(data.rows()));
  for (Index i = 0; i < P.rows(); ++i) {
    Index j;
    P.row(i).maxCoeff(&j);
    labels[i] = static_cast<std::int32_t>(j);
  }
  return labels;
}

void NeuNcut::save(const std::string& path) const {
  NEUNCUT_REQUIRE(fitted(), InvalidArgument, "cannot save a model that is not fitted");
  ByteWriter out;
  const auto& table = neuncut_param_table();
  out.u64(table.size());
  for (const auto& info : table) {
    out.str(info.name);
    out.str(info.get(params_));
  }
  preprocessor_.save(out);
  out.f64(sigma_);
  out.u64(mlp_.widths().size());
  for (Index w : mlp_.widths()) out.i64(w);
  out.floats(mlp_.parameters().data(), mlp_.parameters().size());
  write_model_file(path, ModelMethod::NeuNcut, out.bytes());
}

NeuNcut NeuNcut::load(const std::string& path) {
  const ModelFileContents file = read_model_file(path);
  NEUNCUT_REQUIRE(file.method == ModelMethod::NeuNcut, FormatError, "'", path, "' holds a ", to_string(file.method),
                  " model, not a NeuNcut model");
  ByteReader in(file.payload, "model file '" + path + "'");
  NeuNcutParams params;
  const auto& table = neuncut_param_table();
  const std::uint64_t count = in.u64();
  NEUNCUT_REQUIRE(count <= 1000, FormatError, "model file '", path, "': corrupted parameter count");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string name = in.str(), value = in.str();
    // Unknown names come from a newer minor version; they cannot change inference, so skip them.
    for (const auto& info : table)
      if (info.name == name) info.set(params, value);
  }
  NeuNcut model(params);
  model.preprocessor_ = Preprocessor::load(in, file.version);
  model.sigma_ = in.f64();
  NEUNCUT_REQUIRE(std::isfinite(model.sigma_) && model.sigma_ > 0, FormatError, "model file '", path,
                  "': invalid kernel width sigma ", model.sigma_);
  const std::uint64_t layers = in.u64();
  NEUNCUT_REQUIRE(layers >= 2 && layers <= 64, FormatError, "model file '", path, "': corrupted layer count");
  std::vector<Index> widths;
  for (std::uint64_t i = 0; i < layers; ++i) {
    widths.push_back(in.i64());
    NEUNCUT_REQUIRE(widths.back() >= 1 && widths.back() <= (Index(1) << 24), FormatError, "model file '", path,
                    "': corrupted layer width");
  }
  NEUNCUT_REQUIRE(widths.front() == model.preprocessor_.output_dim() && widths.back() == params.n_clusters, FormatError,
                  "model file '", path, "': network shape does not match its preprocessing or k");
  const std::vector<float> weights = in.floats("network weights");
  in.expect_end();
  // Before building the network: corrupted widths must not allocate what they claim.
  NEUNCUT_REQUIRE(Index(weights.size()) == Mlp::parameter_count(widths), FormatError, "model file '", path,
                  "': weight count does not match the network shape");
  model.mlp_ = Mlp(widths);
  model.mlp_.set_parameters(weights);
  // The stored precision (checked when predicting, so that a bf16 model still loads where
  // bf16 is unavailable and can be switched to fp32). Files older than the parameter: fp32.
  NEUNCUT_REQUIRE(params.precision == "fp32" || params.precision == "bf16", FormatError, "model file '", path,
                  "': unknown precision '", params.precision, "'");
  model.mlp_.set_precision(parse_precision(params.precision));
  return model;
}

}  // namespace neuncut
