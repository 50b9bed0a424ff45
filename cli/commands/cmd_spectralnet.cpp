// neuncut spectralnet: SpectralNet baseline (MLP + orthonormalization layer + k-means);
// labels every row, optionally saves the model (`neuncut predict` labels new rows with it).
#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"
#include "outputs.hpp"
#include "result_json.hpp"

namespace neuncut::cli {

void register_spectralnet(CLI::App& app);

namespace {
struct SpectralNetOptions {
  DataOptions data;
  OutputOptions output;
  std::string model_out, labels_out, embedding_out;
};
}  // namespace

void register_spectralnet(CLI::App& app) {
  auto* sub = app.add_subcommand("spectralnet", "baseline: SpectralNet (Shaham et al. 2018), then k-means");
  auto opts = std::make_shared<SpectralNetOptions>();
  opts->data.add_to(sub);
  sub->add_option("--model", opts->model_out, "where to save the trained model (.nnc); none: not saved");
  sub->add_option("--labels-out", opts->labels_out, "write the labels of all rows (.npy int32 or .csv)");
  sub->add_option("--embedding-out", opts->embedding_out, "write the N x k embedding (.npy or .csv)");
  opts->output.add_to(sub);
  auto flags =
      std::make_shared<ParamFlags<SpectralNetParams>>(sub, spectralnet_param_table(), "SpectralNet parameters");

  sub->callback([opts, flags] {
    const auto start = std::chrono::steady_clock::now();
    SpectralNetParams params;
    flags->apply(params);
    validate(params);
    warn_thread_bound(params.threads);
    OutputSet outputs;
    outputs.reads(opts->data)
        .add("--model", opts->model_out, OutputSet::Kind::Model)
        .add("--labels-out", opts->labels_out, OutputSet::Kind::Table)
        .add("--embedding-out", opts->embedding_out, OutputSet::Kind::Table)
        .check();
    const Dataset ds = opts->data.load();
    // Images carry their shape (IDX, 3-D .npy, fashion-mnist): features auto then uses their
    // scattering transform, as neuncut fit does. --image-shape given by hand wins.
    if (params.image_shape.empty()) params.image_shape = ds.image_shape;
    validate(params);
    const bool quiet = opts->output.quiet;
    if (!quiet)
      std::fprintf(stderr, "neuncut spectralnet: %ld x %ld from %s, k %d, loaded in %.1fs\n", long(ds.features.rows()),
                   long(ds.features.cols()), ds.name.c_str(), params.n_clusters, seconds_since(start));
    SpectralNet model(params);
    const SpectralNetFitResult fit = model.fit(ds.features, [quiet](const SpectralNetEpochStats& s) {
      if (!quiet)
        std::fprintf(stderr, "epoch %d/%d  loss %.5f  lr %.3g  cholesky-fallbacks %d  elapsed %s  eta %s\n", s.epoch,
                     s.epochs, s.loss, s.learning_rate, s.cholesky_fallbacks,
                     format_duration(s.elapsed_seconds).c_str(), format_duration(s.eta_seconds).c_str());
      return true;  // a signal ends the process from its handler (signals.hpp)
    });
    if (!fit.warnings.empty()) std::fprintf(stderr, "neuncut spectralnet: WARNING: %s\n", fit.message().c_str());
    MatrixF embedding;
    if (!opts->embedding_out.empty()) embedding = model.embed(ds.features);
    outputs.write([&] {
      if (!opts->model_out.empty()) model.save(opts->model_out);
      if (!opts->labels_out.empty()) write_labels(opts->labels_out, fit.labels);
      if (!opts->embedding_out.empty()) write_matrix(opts->embedding_out, embedding);
    });

    JsonObject summary;
    // Result fields by their table (result_json.hpp's kSpectralNetSummary), in the summary's order.
    const auto field = [&](std::string_view name) { add_result_field(summary, kSpectralNetSummary, fit, name); };
    summary.add("method", "spectralnet").add("data", ds.name);
    summary.add("n", long(ds.features.rows())).add("d", long(ds.features.cols())).add("k", params.n_clusters);
    field("train_points");
    field("batch_size");
    field("scaling");
    field("l2_normalized");
    if (!fit.geometry_eigengaps.empty()) field("geometry_eigengaps");
    summary.add("epochs", int(fit.history.size())).add("seed", (unsigned long)params.seed);
    summary.add("final_loss", fit.history.back().loss);
    field("cholesky_fallbacks");
    field("kmeans_converged");
    summary.add("clusters_used", count_clusters(fit.labels));
    field("warnings");
    if (!ds.labels.empty()) add_scores(summary, ds.labels, fit.labels);
    field("train_seconds");
    summary.add("seconds_per_epoch", fit.train_seconds / double(fit.history.size()));
    field("total_seconds");
    summary.add("total_seconds", seconds_since(start));
    if (!opts->model_out.empty()) summary.add("model", opts->model_out);
    if (!opts->labels_out.empty()) summary.add("labels_out", opts->labels_out);
    print_summary(summary, opts->output.json);
  });
}

}  // namespace neuncut::cli
