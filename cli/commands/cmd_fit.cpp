// neuncut fit: train NeuNcut, label every row, save the model, report metrics.
#include <algorithm>
#include <iostream>
#include <optional>
#include <vector>

#include "common.hpp"
#include "mpi.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "outputs.hpp"
#include "progress.hpp"
#include "result_json.hpp"
#include "streamed_labels.hpp"

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
  sub->add_option("--chunk-rows", opts->chunk_rows,
                  "rows per inference chunk (bounds memory); on a .npy, IDX or HDF5 file with --train-size > 0, "
                  "also the rows read at a time when labelling it (only the sampled rows are read for training)")
      ->default_val(NeuNcut::kDefaultChunkRows);
  opts->output.add_to(sub);
  auto flags = std::make_shared<ParamFlags<NeuNcutParams>>(sub, neuncut_param_table(), "NeuNcut parameters");

  sub->callback([opts, flags] {
    const auto start = std::chrono::steady_clock::now();
    NeuNcutParams params;
    flags->apply(params);
    validate(params);
    warn_thread_bound(params.threads);
    NEUNCUT_REQUIRE(opts->chunk_rows >= 1, InvalidArgument, "--chunk-rows must be >= 1, got ", opts->chunk_rows);
    // Check output destinations before hours of training.
    OutputSet outputs;
    outputs.reads(opts->data)
        .add("--model", opts->model_out, OutputSet::Kind::Model)
        .add("--labels-out", opts->labels_out, OutputSet::Kind::Table)
        .add("--proba-out", opts->proba_out, OutputSet::Kind::Table)
        .check();
    // With train_size > 0 (the default) and a file read block by block (.npy, IDX, HDF5), only
    // the sampled rows are read for training and the labelling streams the file: memory for the sample, not
    // the data (docs/streaming.md). The model is the same, bit for bit (NeuNcut::fit on a
    // RowAccess). Otherwise the data is loaded whole.
    const bool sampled = params.train_size > 0 && RowReader::streams(opts->data.data);
    std::optional<Dataset> ds;
    std::optional<FileRows> file;
    if (sampled) file.emplace(opts->data.open_rows());
    else ds.emplace(opts->data.load());
    const Index n = sampled ? file->rows() : ds->features.rows();
    const Index d = sampled ? file->cols() : ds->features.cols();
    const std::string& data_name = sampled ? file->name() : ds->name;
    const Labels truth = sampled ? opts->data.ground_truth(file->labels(), n) : ds->labels;
    const double load_s = seconds_since(start);
    // Images carry their shape (IDX image files, 3-D .npy, fashion-mnist): with features auto,
    // NeuNcut then trains on their scattering transform. --image-shape given by hand wins.
    if (params.image_shape.empty()) params.image_shape = sampled ? file->image_shape() : ds->image_shape;
    validate(params);
    if (!opts->output.quiet && mpi::rank() == 0)
      std::fprintf(stderr, "neuncut fit: %ld x %ld from %s, k %d, %s in %.1fs\n", long(n), long(d), data_name.c_str(),
                   params.n_clusters, sampled ? "opened (rows read where sampled)" : "loaded", load_s);

    NeuNcut model(params);
    // `mpirun -np R neuncut fit`: every rank reads the data and trains the same network on its
    // share of each epoch's mini-batches, gradients averaged over the ranks (docs/mpi.md); rank
    // 0 reports progress, labels the rows and writes the outputs.
    const int ranks = mpi::size();
    if (ranks > 1)
      model.set_data_parallel({mpi::rank(), ranks, [](double* v, std::size_t n) { mpi::sum_over_ranks(v, n); }});
    const bool quiet = opts->output.quiet || mpi::rank() != 0;
    const NeuNcutProgress progress = [quiet](const NeuNcutEpochStats& s) { return report_epoch(s, quiet); };
    const NeuNcutFitResult fit = sampled ? model.fit(*file, progress) : model.fit(ds->features, progress);
    if (mpi::rank() != 0) return;
    const auto predict_start = std::chrono::steady_clock::now();
    StreamedLabels labelled;
    double predict_s = 0;
    if (sampled) {
      // Labelled block by block as the outputs are written (all of them or none).
      const Index k = params.n_clusters;
      const LabelBlock label = [&](const MatrixF& x, Index first_row, MatrixF* proba) {
        return label_with_neuncut(model, x, opts->chunk_rows, first_row, proba);
      };
      outputs.write([&] {
        if (!opts->model_out.empty()) model.save(opts->model_out);
        std::optional<RowWriter> labels_out, proba_out;
        if (!opts->labels_out.empty()) labels_out = RowWriter::labels(opts->labels_out, n);
        if (!opts->proba_out.empty()) proba_out = RowWriter::matrix(opts->proba_out, n, k);
        RowReader data = opts->data.open();
        labelled = label_stream(data, opts->chunk_rows, k, label, labels_out ? &*labels_out : nullptr,
                                proba_out ? &*proba_out : nullptr, !truth.empty());
        if (labels_out) labels_out->commit();
        if (proba_out) proba_out->commit();
      });
      predict_s = labelled.seconds;
    } else {
      labelled.labels = model.predict(ds->features, opts->chunk_rows);
      labelled.used.assign(std::size_t(params.n_clusters), false);
      for (std::int32_t c : labelled.labels) labelled.used[std::size_t(c)] = true;
      MatrixF proba;
      if (!opts->proba_out.empty()) proba = model.predict_proba(ds->features, opts->chunk_rows);
      predict_s = seconds_since(predict_start);
      // All computation is done; now write the outputs, all of them or none.
      outputs.write([&] {
        if (!opts->model_out.empty()) model.save(opts->model_out);
        if (!opts->labels_out.empty()) write_labels(opts->labels_out, labelled.labels);
        if (!opts->proba_out.empty()) write_matrix(opts->proba_out, proba);
      });
    }
    const Labels& labels = labelled.labels;

    const int used = int(std::count(labelled.used.begin(), labelled.used.end(), true));
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
    // Result fields by their table (result_json.hpp's kFitSummary), in the summary's order.
    const auto field = [&](std::string_view name) { add_result_field(summary, kFitSummary, fit, name); };
    summary.add("method", "neuncut").add("data", data_name);
    summary.add("n", long(n)).add("d", long(d)).add("k", params.n_clusters);
    summary.add("read", sampled ? "sampled rows" : "whole");
    if (ranks > 1) summary.add("ranks", ranks);
    field("train_points");
    field("batch_size");
    summary.add("epochs", int(fit.history.size())).add("seed", (unsigned long)params.seed);
    field("sigma");
    field("sigma_estimated");
    field("features");
    field("feature_dim");
    if (!params.image_shape.empty()) summary.add("image_shape", params.image_shape);
    field("l2_normalized");
    field("scaling");
    if (!fit.geometry_eigengaps.empty()) {
      field("geometry_eigengaps");
      field("geometry_fallback");
    }
    field("precision");
    field("affinity_precision");
    summary.add("final_loss", fit.history.back().loss).add("final_trace", fit.history.back().trace);
    summary.add("final_penalty", fit.history.back().penalty);
    summary.add("clusters_used", used);
    if (collapse.empty()) summary.null("collapse");
    else summary.add("collapse", collapse);
    field("collapse_rollbacks");
    field("restored_epoch");
    field("quality");
    summary.add("recipe", to_string(params.recipe)).add("select", to_string(params.select));
    if (fit.selected_candidate >= 0) {  // six significant digits, as the summary has always shown them
      field("selected_candidate");
      summary.add("candidate_ncuts", fit.candidate_ncuts, 6);
    }
    if (!truth.empty()) add_scores(summary, truth, labels);
    field("threads");
    summary.add("load_seconds", load_s);
    field("features_seconds");
    // The model's parameters: the recipe resolved (params is what the flags said).
    summary.add("init", to_string(model.params().init));
    field("init_seconds");
    if (model.params().init == InitMethod::Spectral) field("init_agreement");
    field("train_seconds");
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
