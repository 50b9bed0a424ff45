// neuncut predict: label (and optionally score) rows with a saved model.
#include "common.hpp"
#include "neuncut/error.hpp"
#include "neuncut/model_file.hpp"
#include "neuncut/neuncut.hpp"

namespace neuncut::cli {

namespace {
struct PredictOptions {
  DataOptions data;
  OutputOptions output;
  std::string model, labels_out, proba_out;
  Index chunk_rows = 8192;
  int threads = 0;
};
}  // namespace

void register_predict(CLI::App& app) {
  auto* sub = app.add_subcommand("predict", "label rows with a saved NeuNcut model");
  auto opts = std::make_shared<PredictOptions>();
  sub->add_option("--model", opts->model, "model file written by fit")->required();
  opts->data.add_to(sub);
  sub->add_option("--labels-out", opts->labels_out, "write labels (.npy int32 or .csv)");
  sub->add_option("--proba-out", opts->proba_out, "write soft memberships N x k (.npy float32 or .csv)");
  sub->add_option("--chunk-rows", opts->chunk_rows, "rows per inference chunk (bounds memory)")->default_val(8192);
  sub->add_option("--threads", opts->threads, "threads (0: all cores)")->default_val(0);
  opts->output.add_to(sub);

  sub->callback([opts] {
    const auto start = std::chrono::steady_clock::now();
    NeuNcut model = NeuNcut::load(opts->model);
    model.set_threads(opts->threads);
    const NeuNcutParams& params = model.params();
    const Dataset ds = opts->data.load();
    NEUNCUT_REQUIRE(ds.features.cols() == model.input_dim(), InvalidArgument, "data has ", ds.features.cols(),
                    " features but the model '", opts->model, "' was trained on ", model.input_dim());
    const auto t0 = std::chrono::steady_clock::now();
    const Labels labels = model.predict(ds.features, opts->chunk_rows);
    const double predict_s = seconds_since(t0);
    MatrixF proba;
    if (!opts->proba_out.empty()) proba = model.predict_proba(ds.features, opts->chunk_rows);
    if (!opts->labels_out.empty()) write_labels(opts->labels_out, labels);
    if (!opts->proba_out.empty()) write_matrix(opts->proba_out, proba);

    JsonObject summary;
    summary.add("method", "neuncut").add("model", opts->model).add("data", ds.name);
    summary.add("n", long(ds.features.rows())).add("k", params.n_clusters);
    summary.add("clusters_used", count_clusters(labels));
    if (!ds.labels.empty()) add_scores(summary, ds.labels, labels);
    summary.add("predict_seconds", predict_s);
    summary.add("rows_per_second", double(ds.features.rows()) / std::max(predict_s, 1e-9));
    summary.add("total_seconds", seconds_since(start));
    if (!opts->labels_out.empty()) summary.add("labels_out", opts->labels_out);
    print_summary(summary, opts->output.json);
  });
}

}  // namespace neuncut::cli
