// neuncut kmeans: k-means++ / Lloyd baseline; labels every row, optionally saves the model.
// A .npy, IDX or HDF5 file with more rows than the restarts' sample is streamed, never loaded.
#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "outputs.hpp"
#include "result_json.hpp"

namespace neuncut::cli {

void register_kmeans(CLI::App& app);

namespace {
struct KMeansOptions {
  DataOptions data;
  OutputOptions output;
  std::string model_out, labels_out;
};
}  // namespace

void register_kmeans(CLI::App& app) {
  auto* sub = app.add_subcommand("kmeans", "baseline: k-means (k-means++ seeding, n_init restarts) on the data");
  auto opts = std::make_shared<KMeansOptions>();
  opts->data.add_to(sub);
  sub->add_option("--model", opts->model_out, "where to save the centroids (.nnc); none: not saved");
  sub->add_option("--labels-out", opts->labels_out, "write the labels of all rows (.npy int32 or .csv)");
  opts->output.add_to(sub);
  auto flags = std::make_shared<ParamFlags<KMeansParams>>(sub, kmeans_param_table(), "k-means parameters");

  sub->callback([opts, flags] {
    const auto start = std::chrono::steady_clock::now();
    KMeansParams params;
    flags->apply(params);
    validate(params);
    warn_thread_bound(params.threads);
    OutputSet outputs;
    outputs.reads(opts->data)
        .add("--model", opts->model_out, OutputSet::Kind::Model)
        .add("--labels-out", opts->labels_out, OutputSet::Kind::Table)
        .check();
    // A file larger than the restarts' sample is streamed: the sample is read by index, then
    // every pass over all rows reads a block at a time (10 million rows of 400 features are 16 GB).
    const StreamedOrLoaded in =
        opts->data.stream_or_load([&](Index rows) { return kmeans_sample_rows(params, rows) < rows; });
    const auto& streamed = in.streamed;
    const Dataset& ds = in.ds;
    const Index n = in.rows(), d = in.cols();
    if (!opts->output.quiet)
      std::fprintf(
          stderr, "neuncut kmeans: %ld x %ld from %s, k %d, n_init %d on %ld rows, %s\n", long(n), long(d),
          ds.name.c_str(), params.n_clusters, params.n_init, long(kmeans_sample_rows(params, n)),
          streamed ? "streamed from the file" : ("loaded in " + format_duration(seconds_since(start))).c_str());
    KMeans model(params);
    const KMeansFitResult r = streamed ? model.fit(*streamed) : model.fit(ds.features);
    if (!r.warnings.empty()) std::fprintf(stderr, "neuncut kmeans: WARNING: %s\n", r.message().c_str());
    outputs.write([&] {
      if (!opts->model_out.empty()) model.save(opts->model_out);
      if (!opts->labels_out.empty()) write_labels(opts->labels_out, r.labels);
    });

    JsonObject summary;
    // Result fields by their table (result_json.hpp's kKMeansSummary), in the summary's order.
    const auto field = [&](std::string_view name) { add_result_field(summary, kKMeansSummary, r, name); };
    summary.add("method", "kmeans").add("data", ds.name);
    summary.add("n", long(n)).add("d", long(d)).add("k", params.n_clusters);
    summary.add("streamed", streamed.has_value());
    summary.add("n_init", params.n_init).add("seed", (unsigned long)params.seed);
    for (const char* name :
         {"sample_rows", "inertia", "iterations", "full_passes", "converged", "best_init", "empty_cluster_reseeds"})
      field(name);
    summary.add("clusters_used", count_clusters(r.labels));
    field("warnings");
    if (!ds.labels.empty()) add_scores(summary, ds.labels, r.labels);
    field("seconds");
    summary.add("total_seconds", seconds_since(start));
    if (!opts->model_out.empty()) summary.add("model", opts->model_out);
    if (!opts->labels_out.empty()) summary.add("labels_out", opts->labels_out);
    print_summary(summary, opts->output.json);
  });
}

}  // namespace neuncut::cli
