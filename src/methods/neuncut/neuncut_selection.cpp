// NeuNcut::fit around one training run: the recipe, label-free model selection among
// restarts (select auto) and the label-free quality check of the result.
#include <algorithm>
#include <limits>

#include "core/data_check.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "methods/neuncut/neuncut_internal.hpp"
#include "methods/neuncut/neuncut_steps.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/features/scattering.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"

namespace neuncut {

namespace {
// The check graph's sample is drawn from its own seed, derived from the fit's seed, so that the
// graph is the same for every candidate of a selection and for a plain fit with that seed.
std::uint64_t quality_seed(std::uint64_t seed) { return detail::Rng(seed ^ 0x5155414c49545955ull).split(); }

// The check's sample of raw rows, and the graph on a model's preprocessing of them.
struct CheckSample {
  MatrixF raw;
  std::uint64_t assess_seed = 0;
};

// values_checked false: the sample's rows are checked as they are gathered (fit on a RowAccess).
CheckSample check_sample(const RowAccess& data, Index points, std::uint64_t seed, bool values_checked, int threads) {
  detail::Rng rng(seed);
  std::vector<Index> rows = rng.sample_without_replacement(data.rows(), std::min<Index>(points, data.rows()));
  std::sort(rows.begin(), rows.end());
  CheckSample out;
  out.raw = data.gather(rows);
  if (!values_checked) {
    detail::DataCheck check;
    check.what = "data";
    check.threads = threads;
    detail::check_gathered_values(out.raw, rows, check);
  }
  out.assess_seed = rng.split();
  return out;
}

// The check sees the data through the model's feature map (scattering for images), each
// feature then z-scored on the sample (constant ones stay 0), whatever scaling and
// normalization the model trained with: the check must judge the partition on the data, not
// on the view the model chose. A model that standardized nothing sees a 19-feature table of
// mixed units through its few largest columns, and its partition can look fine there while
// it is at chance on the data (issue 13's Segment set).
QualityGraph check_graph(const NeuNcut& model, const CheckSample& sample, int threads) {
  constexpr int kNeighbors = 10;  // classic Ncut's default graph (neuncut ncut)
  const ScatteringTransform& features = model.preprocessor().features();
  MatrixF view = features.empty() ? sample.raw : features.transform(sample.raw, threads);
  const Eigen::RowVectorXd mean = view.cast<double>().colwise().mean();
  const Eigen::RowVectorXd sd =
      ((view.cast<double>().rowwise() - mean).array().square().colwise().mean()).sqrt().matrix();
  for (Index j = 0; j < view.cols(); ++j) {
    const double inv = sd[j] > 0 ? 1.0 / sd[j] : 0.0;
    view.col(j) = ((view.col(j).cast<double>().array() - mean[j]) * inv).cast<float>().matrix();
  }
  // max_points = all: the graph keeps every sampled row, in order.
  return QualityGraph(view, view.rows(), kNeighbors, 0, threads);
}

// The quality check of a fitted model's labels on a sample of `data` (none for under 3 rows).
PartitionQuality quality_of(const NeuNcut& model, const RowAccess& data, Index points, std::uint64_t seed,
                            bool values_checked) {
  if (data.rows() < 3) return {};
  const int threads = detail::resolve_threads(model.params().threads);
  const CheckSample sample = check_sample(data, points, seed, values_checked, threads);
  return check_graph(model, sample, threads)
      .assess(model.predict(sample.raw), model.params().n_clusters, sample.assess_seed, threads);
}

}  // namespace

bool refit_standardized(const NeuNcutFitResult& result) {
  // Raw L2 rows were chosen by the eigengap alone. Should their directions have shown a
  // structure the data does not have, the check (z-scored columns) sees the partition ignore
  // the data: then the table is fitted again as every other table is, standardized.
  const bool raw_l2_chosen = !result.geometry_eigengaps.empty() && result.scaling == FeatureScaling::None;
  return raw_l2_chosen && !result.geometry_fallback &&
         (result.quality.verdict == QualityVerdict::Weak || result.quality.verdict == QualityVerdict::Chance);
}

NeuNcutParams resolve_recipe(const NeuNcutParams& params) {
  if (params.recipe == Recipe::Default) return params;
  // He et al.'s reference code: full Gaussian kernel with sigma 3 on L2-normalized rows, the
  // network trained from its random initialization (zero biases) by Adam at 5e-3 for 300
  // epochs with gamma 80; nothing rolled back. Its batches of 1000 are the default batch size
  // already (min(1000, training points), so that small data still fits one batch).
  const NeuNcutParams defaults;
  NeuNcutParams p = params;
  auto paper = [](auto& field, const auto& default_value, const auto& paper_value) {
    if (field == default_value) field = paper_value;
  };
  paper(p.affinity, defaults.affinity, BatchAffinityKind::Gaussian);
  paper(p.sigma, defaults.sigma, 3.0);
  paper(p.normalize, defaults.normalize, RowNormalization::L2);
  paper(p.scaling, defaults.scaling, ScalingChoice::None);
  paper(p.bias_init, defaults.bias_init, BiasInit::Zero);
  paper(p.init, defaults.init, InitMethod::Random);
  paper(p.learning_rate, defaults.learning_rate, 5e-3);
  paper(p.epochs, defaults.epochs, 300);
  paper(p.gamma, defaults.gamma, 80.0);
  paper(p.collapse_rollbacks, defaults.collapse_rollbacks, 0);
  return p;
}

PartitionQuality check_quality(const NeuNcut& model, const Eigen::Ref<const MatrixF>& data, Index points,
                               std::uint64_t seed) {
  NEUNCUT_REQUIRE(model.fitted(), InvalidArgument, "quality check: the model is not fitted");
  NEUNCUT_REQUIRE(points >= 3, InvalidArgument, "quality check: points must be >= 3, got ", points);
  return quality_of(model, MatrixRowAccess(data), points, seed, true);
}

NeuNcutFitResult NeuNcut::fit(const Eigen::Ref<const MatrixF>& data, const NeuNcutProgress& progress) {
  validate(params_);
  // Every value of a matrix is checked before any work, the message naming the first bad one.
  detail::check_training_values(params_, data);
  return fit_rows(MatrixRowAccess(data), progress, true);
}

NeuNcutFitResult NeuNcut::fit(const RowAccess& data, const NeuNcutProgress& progress) {
  validate(params_);
  return fit_rows(data, progress, false);
}

NeuNcutFitResult NeuNcut::fit_rows(const RowAccess& data, const NeuNcutProgress& progress, bool values_checked) {
  params_ = resolve_recipe(params_);
  if (params_.select == Selection::Auto) return fit_selected(data, progress, values_checked);
  NeuNcutFitResult result = fit_single(data, progress, values_checked);
  if (params_.quality_points <= 0) return result;
  result.quality = quality_of(*this, data, params_.quality_points, quality_seed(params_.seed), values_checked);
  if (refit_standardized(result)) {
    const NeuNcutParams asked = params_;
    params_.scaling = ScalingChoice::Standardize;
    NeuNcutFitResult refit = fit_single(data, progress, values_checked);
    refit.quality = quality_of(*this, data, params_.quality_points, quality_seed(params_.seed), values_checked);
    refit.geometry_eigengaps = result.geometry_eigengaps;
    refit.geometry_fallback = true;
    params_ = asked;  // the model records what was asked for; the result says what was done
    return refit;
  }
  return result;
}

NeuNcutFitResult NeuNcut::fit_selected(const RowAccess& data, const NeuNcutProgress& progress, bool values_checked) {
  const int k = params_.n_clusters;
  const int threads = detail::resolve_threads(params_.threads);
  const Index points = params_.quality_points > 0 ? params_.quality_points : 3000;
  std::vector<NeuNcut> candidates;
  std::vector<NeuNcutFitResult> results;
  for (int c = 0; c < params_.select_candidates; ++c) {
    NeuNcutParams p = params_;
    p.select = Selection::None;
    p.seed = params_.seed + std::uint64_t(c);  // candidate 0 is the plain fit with this seed
    candidates.emplace_back(p);
    candidates.back().data_parallel_ = data_parallel_;
    results.push_back(candidates.back().fit_single(data, progress, values_checked));
  }
  if (data.rows() < 3) {  // no graph to compare on: the first candidate
    NeuNcutFitResult result = std::move(results[0]);
    result.selected_candidate = 0;
    const NeuNcutParams asked = params_;
    *this = std::move(candidates[0]);
    params_ = asked;
    return result;
  }
  // One graph for all candidates (their feature map is the same).
  const CheckSample sample = check_sample(data, points, quality_seed(params_.seed), values_checked, threads);
  const QualityGraph graph = check_graph(candidates[0], sample, threads);
  std::vector<double> ncuts;
  std::vector<Labels> labels;
  int best = 0;
  for (int c = 0; c < int(candidates.size()); ++c) {
    labels.push_back(candidates[c].predict(sample.raw));
    ncuts.push_back(graph.ncut(labels.back(), k));
    // A collapsed candidate wins only when all are collapsed.
    const bool healthy = !results[c].collapse.collapsed(), best_healthy = !results[best].collapse.collapsed();
    if ((healthy && !best_healthy) || (healthy == best_healthy && ncuts[c] < ncuts[best])) best = c;
  }
  NeuNcutFitResult result = std::move(results[best]);
  result.selected_candidate = best;
  result.candidate_ncuts = ncuts;
  if (params_.quality_points > 0) result.quality = graph.assess(labels[best], k, sample.assess_seed, threads);
  const NeuNcutParams asked = params_;
  *this = std::move(candidates[best]);
  params_ = asked;  // the model records what was asked for (seed, select auto); result says which won
  return result;
}

}  // namespace neuncut
