// neuncut fit: train NeuNcut, label every row, save the model, report metrics.
#include <algorithm>
#include <iostream>
#include <vector>

#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "outputs.hpp"
#include "progress.hpp"

namespace neuncut::cli {

namespace {
// Median wall time of one epoch: robust to a slow first epoch (page faults, thread start-up)
// and to a noisy neighbour, so benchmarks can divide it by the steps per epoch.
double median_epoch_seconds(const std::vector<NeuNcutEpochStats>& history) {
  std::vector<double> t;
  double previous = 0;
  for (const NeuNcutEpochStats& s : history) {
    t.push_back(s.elapsed_seconds - previous);
    previous = s.elapsed_seconds;
  }
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

// The label-free quality check (partition_quality.hpp) as a JSON object.
JsonObject quality_json(const PartitionQuality& q) {
  JsonObject o;
  o.add("verdict", to_string(q.verdict));
  if (q.verdict == QualityVerdict::NotChecked) return o;
  o.add("ncut", q.ncut).add("kmeans_ncut", q.kmeans_ncut).add("chance_ncut", q.chance_ncut);
  o.add("relative", q.relative).add("sample_points", long(q.sample_points));
  if (q.advice.empty()) o.null("what_to_try");
  else o.add("what_to_try", q.advice);
  return o;
}

void report_quality(const NeuNcutFitResult& fit) {
  const PartitionQuality& q = fit.quality;
  if (q.verdict == QualityVerdict::NotChecked) return;
  std::fprintf(stderr,
               "neuncut fit: quality check (kNN graph of %ld points): Ncut %.3f, k-means %.3f, chance %.3f: %s\n",
               long(q.sample_points), q.ncut, q.kmeans_ncut, q.chance_ncut, to_string(q.verdict).c_str());
  if (q.verdict == QualityVerdict::Chance)
    std::fprintf(stderr, "neuncut fit: WARNING: the partition is no better than chance; %s\n", q.advice.c_str());
  else if (q.verdict == QualityVerdict::Weak)
    std::fprintf(stderr, "neuncut fit: WARNING: the partition is clearly worse than k-means'; %s\n", q.advice.c_str());
}

struct FitOptions {
  DataOptions data;
  OutputOptions output;
  std::string model_out, labels_out, proba_out;
  Index chunk_rows = NeuNcut::kDefaultChunkRows;
};
}  // namespace

void register_fit(CLI::App& app) {
  auto* sub = app.add_subcommand("fit", "train NeuNcut on (a subset of) the data and label all rows");
  auto opts = std::make_shared<FitOptions>();
  opts->data.add_to(sub);
  sub->add_option("--model", opts->model_out, "where to save the trained model (.nnc); none: not saved");
  sub->add_option("--labels-out", opts->labels_out, "write the labels of all rows (.npy int32 or .csv)");
  sub->add_option("--proba-out", opts->proba_out, "write the soft memberships N x k (.npy float32 or .csv)");
  sub->add_option("--chunk-rows", opts->chunk_rows, "rows per inference chunk (bounds memory)")
      ->default_val(NeuNcut::kDefaultChunkRows);
  opts->output.add_to(sub);
  auto flags = std::make_shared<ParamFlags<NeuNcutParams>>(sub, neuncut_param_table(), "NeuNcut parameters");

  sub->callback([opts, flags] {
    const auto start = std::chrono::steady_clock::now();
    NeuNcutParams params;
    flags->apply(params);
    validate(params);
    warn_thread_bound(params.threads);
    // Check output destinations before hours of training.
    OutputSet outputs;
    outputs.reads(opts->data)
        .add("--model", opts->model_out, OutputSet::Kind::Model)
        .add("--labels-out", opts->labels_out, OutputSet::Kind::Table)
        .add("--proba-out", opts->proba_out, OutputSet::Kind::Table)
        .check();
    const Dataset ds = opts->data.load();
    const double load_s = seconds_since(start);
    // Images carry their shape (IDX image files, 3-D .npy, fashion-mnist): with features auto,
    // NeuNcut then trains on their scattering transform. --image-shape given by hand wins.
    if (params.image_shape.empty()) params.image_shape = ds.image_shape;
    validate(params);
    if (!opts->output.quiet)
      std::fprintf(stderr, "neuncut fit: %ld x %ld from %s, k %d, loaded in %.1fs\n", long(ds.features.rows()),
                   long(ds.features.cols()), ds.name.c_str(), params.n_clusters, load_s);

    NeuNcut model(params);
    const bool quiet = opts->output.quiet;
    const NeuNcutFitResult fit = model.fit(ds.features, [quiet](const NeuNcutEpochStats& s) { return report_epoch(s, quiet); });
    const auto predict_start = std::chrono::steady_clock::now();
    const Labels labels = model.predict(ds.features, opts->chunk_rows);
    const double predict_s = seconds_since(predict_start);
    MatrixF proba;
    if (!opts->proba_out.empty()) proba = model.predict_proba(ds.features, opts->chunk_rows);

    // All computation is done; now write the outputs, all of them or none.
    outputs.write([&] {
      if (!opts->model_out.empty()) model.save(opts->model_out);
      if (!opts->labels_out.empty()) write_labels(opts->labels_out, labels);
      if (!opts->proba_out.empty()) write_matrix(opts->proba_out, proba);
    });

    const int used = count_clusters(labels);
    const std::string collapse =
        fit.collapse.collapsed() ? fit.collapse.description()
        : used < params.n_clusters
            ? detail::concat(params.n_clusters - used, " of ", params.n_clusters, " clusters empty on the full data")
            : std::string();
    if (!collapse.empty()) std::fprintf(stderr, "neuncut fit: WARNING: collapse detected: %s\n", collapse.c_str());
    if (fit.restored_epoch > 0 && !opts->output.quiet)
      std::fprintf(stderr,
                   "neuncut fit: training ended collapsed; the model is the network of epoch %d, the healthy "
                   "epoch with the lowest loss\n",
                   fit.restored_epoch);

    if (!opts->output.quiet ||
        (fit.quality.verdict != QualityVerdict::Good && fit.quality.verdict != QualityVerdict::NotChecked))
      report_quality(fit);

    JsonObject summary;
    summary.add("method", "neuncut").add("data", ds.name);
    summary.add("n", long(ds.features.rows())).add("d", long(ds.features.cols())).add("k", params.n_clusters);
    summary.add("train_points", long(fit.train_points)).add("batch_size", long(fit.batch_size));
    summary.add("epochs", int(fit.history.size())).add("seed", (unsigned long)params.seed);
    summary.add("sigma", fit.sigma).add("sigma_estimated", fit.sigma_estimated);
    summary.add("features", to_string(fit.features)).add("feature_dim", long(fit.feature_dim));
    if (!params.image_shape.empty()) summary.add("image_shape", params.image_shape);
    summary.add("l2_normalized", fit.l2_normalized);
    summary.add("precision", to_string(fit.precision)).add("affinity_precision", to_string(fit.affinity_precision));
    summary.add("final_loss", fit.history.back().loss).add("final_trace", fit.history.back().trace);
    summary.add("final_penalty", fit.history.back().penalty);
    summary.add("clusters_used", used);
    if (collapse.empty()) summary.null("collapse");
    else summary.add("collapse", collapse);
    summary.add("collapse_rollbacks", fit.collapse_rollbacks).add("restored_epoch", fit.restored_epoch);
    summary.add("quality", quality_json(fit.quality));
    summary.add("recipe", to_string(params.recipe)).add("select", to_string(params.select));
    if (fit.selected_candidate >= 0)  // six significant digits, as the summary has always shown them
      summary.add("selected_candidate", fit.selected_candidate).add("candidate_ncuts", fit.candidate_ncuts, 6);
    if (!ds.labels.empty()) add_scores(summary, ds.labels, labels);
    summary.add("threads", fit.threads);
    summary.add("load_seconds", load_s);
    summary.add("features_seconds", fit.features_seconds);
    // The model's parameters: the recipe resolved (params is what the flags said).
    summary.add("init", to_string(model.params().init)).add("init_seconds", fit.init_seconds);
    if (model.params().init == InitMethod::Spectral) summary.add("init_agreement", fit.init_agreement);
    summary.add("train_seconds", fit.train_seconds);
    summary.add("seconds_per_epoch", fit.train_seconds / double(fit.history.size()));
    summary.add("seconds_per_epoch_median", median_epoch_seconds(fit.history));
    summary.add("predict_seconds", predict_s);
    summary.add("total_seconds", seconds_since(start));
    if (!opts->model_out.empty()) summary.add("model", opts->model_out);
    if (!opts->labels_out.empty()) summary.add("labels_out", opts->labels_out);
    print_summary(summary, opts->output.json);
  });
}

}  // namespace neuncut::cli
