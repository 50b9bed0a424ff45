// neuncut predict: label rows with any saved model (NeuNcut, SpectralNet, k-means: the method
// tag in the file decides), and with NeuNcut models also write soft memberships.
#include <functional>

#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"
#include "outputs.hpp"

namespace neuncut::cli {

namespace {
struct PredictOptions {
  DataOptions data;
  OutputOptions output;
  std::string model, labels_out, proba_out;
  Index chunk_rows = NeuNcut::kDefaultChunkRows;
  int threads = 0;
  std::string precision;
};
}  // namespace

void register_predict(CLI::App& app) {
  auto* sub = app.add_subcommand("predict", "label rows with a saved model (NeuNcut, SpectralNet or k-means)");
  auto opts = std::make_shared<PredictOptions>();
  sub->add_option("--model", opts->model, "model file written by fit, spectralnet or kmeans")->required();
  opts->data.add_to(sub);
  sub->add_option("--labels-out", opts->labels_out, "write labels (.npy int32 or .csv)");
  sub->add_option("--proba-out", opts->proba_out,
                  "write soft memberships N x k (.npy float32 or .csv; NeuNcut models)");
  sub->add_option("--chunk-rows", opts->chunk_rows, "rows per inference chunk (bounds memory)")
      ->default_val(NeuNcut::kDefaultChunkRows);
  sub->add_option("--threads", opts->threads, "threads (0: all cores)")->default_val(0);
  sub->add_option("--precision", opts->precision,
                  "NeuNcut models: fp32 or bf16 (default: the precision the model was trained with)");
  opts->output.add_to(sub);

  sub->callback([opts] {
    const auto start = std::chrono::steady_clock::now();
    // Everything is read and checked before any work: the outputs, the model (its method
    // from the tag), then the data, then the dimensions.
    warn_thread_bound(opts->threads);
    OutputSet outputs;
    outputs.reads(opts->data)
        .input("--model", opts->model)
        .add("--labels-out", opts->labels_out, OutputSet::Kind::Table)
        .add("--proba-out", opts->proba_out, OutputSet::Kind::Table)
        .check();
    const ModelMethod method = read_model_file(opts->model).method;
    NEUNCUT_REQUIRE(opts->proba_out.empty() || method == ModelMethod::NeuNcut, InvalidArgument,
                    "--proba-out needs a NeuNcut model; '", opts->model, "' holds a ", to_string(method), " model");
    Index input_dim = 0, k = 0;
    std::function<Labels(const Dataset&)> label;
    std::function<MatrixF(const Dataset&)> memberships;
    if (method == ModelMethod::NeuNcut) {
      auto model = std::make_shared<NeuNcut>(NeuNcut::load(opts->model));
      model->set_threads(opts->threads);
      if (!opts->precision.empty()) model->set_precision(opts->precision);
      input_dim = model->input_dim();
      k = model->params().n_clusters;
      label = [model, opts](const Dataset& ds) { return model->predict(ds.features, opts->chunk_rows); };
      memberships = [model, opts](const Dataset& ds) { return model->predict_proba(ds.features, opts->chunk_rows); };
    } else if (method == ModelMethod::SpectralNet) {
      auto model = std::make_shared<SpectralNet>(SpectralNet::load(opts->model));
      model->set_threads(opts->threads);
      input_dim = model->network().input_dim();
      k = model->params().n_clusters;
      label = [model, opts](const Dataset& ds) { return model->predict(ds.features, opts->chunk_rows); };
    } else {
      auto model = std::make_shared<KMeansModel>(KMeansModel::load(opts->model));
      input_dim = model->dim();
      k = model->k();
      label = [model, opts](const Dataset& ds) { return model->predict(ds.features, opts->threads); };
    }
    const Dataset ds = opts->data.load();
    NEUNCUT_REQUIRE(ds.features.cols() == input_dim, InvalidArgument, "data has ", ds.features.cols(),
                    " features but the model '", opts->model, "' was trained on ", input_dim);
    const auto t0 = std::chrono::steady_clock::now();
    const Labels labels = label(ds);
    const double predict_s = seconds_since(t0);
    MatrixF proba;
    if (!opts->proba_out.empty()) proba = memberships(ds);
    outputs.write([&] {
      if (!opts->labels_out.empty()) write_labels(opts->labels_out, labels);
      if (!opts->proba_out.empty()) write_matrix(opts->proba_out, proba);
    });

    JsonObject summary;
    summary.add("method", to_string(method)).add("model", opts->model).add("data", ds.name);
    summary.add("n", long(ds.features.rows())).add("k", long(k));
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
