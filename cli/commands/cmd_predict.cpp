// neuncut predict: label rows with any saved model (NeuNcut, SpectralNet, k-means: the method
// tag in the file decides), and with NeuNcut models also write soft memberships.
#include <algorithm>
#include <functional>
#include <optional>
#include <vector>

#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/io/row_reader.hpp"
#include "neuncut/io/row_writer.hpp"
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
  sub->add_option("--chunk-rows", opts->chunk_rows,
                  "rows read, labelled and written at a time: memory holds one chunk (.npy and IDX inputs are "
                  "streamed; CSV is read whole)")
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
    NEUNCUT_REQUIRE(opts->chunk_rows >= 1, InvalidArgument, "--chunk-rows must be >= 1, got ", opts->chunk_rows);
    // The labels of one block of rows (and, with NeuNcut models, its memberships when asked
    // for); first_row is the block's place in the data set, for messages naming a row.
    Index input_dim = 0, k = 0;
    std::function<Labels(const MatrixF&, Index, MatrixF*)> label;
    if (method == ModelMethod::NeuNcut) {
      auto model = std::make_shared<NeuNcut>(NeuNcut::load(opts->model));
      model->set_threads(opts->threads);
      if (!opts->precision.empty()) model->set_precision(opts->precision);
      input_dim = model->input_dim();
      k = model->params().n_clusters;
      label = [model, opts](const MatrixF& x, Index first_row, MatrixF* proba) {
        MatrixF P = model->predict_proba(x, opts->chunk_rows, first_row);
        Labels labels = NeuNcut::labels_from_proba(P);
        if (proba) *proba = std::move(P);
        return labels;
      };
    } else if (method == ModelMethod::SpectralNet) {
      auto model = std::make_shared<SpectralNet>(SpectralNet::load(opts->model));
      model->set_threads(opts->threads);
      input_dim = model->network().input_dim();
      k = model->params().n_clusters;
      label = [model, opts](const MatrixF& x, Index first_row, MatrixF*) {
        return model->predict(x, opts->chunk_rows, first_row);
      };
    } else {
      auto model = std::make_shared<KMeansModel>(KMeansModel::load(opts->model));
      input_dim = model->dim();
      k = model->k();
      label = [model, opts](const MatrixF& x, Index first_row, MatrixF*) {
        return model->predict(x, opts->threads, first_row);
      };
    }
    // The data is read --chunk-rows rows at a time (RowReader), each block labelled and
    // written before the next is read, so memory holds one block whatever the file's size.
    RowReader data = opts->data.open();
    const Index n = data.rows();
    const Labels truth = opts->data.ground_truth(data.labels(), n);
    NEUNCUT_REQUIRE(data.cols() == input_dim, InvalidArgument, "data has ", data.cols(), " features but the model '",
                    opts->model, "' was trained on ", input_dim);
    // All labels are kept (4 bytes a row) only to score them against the ground truth.
    Labels labels;
    std::vector<bool> used(static_cast<std::size_t>(k));
    double predict_s = 0;
    outputs.write([&] {
      std::optional<RowWriter> labels_out, proba_out;
      if (!opts->labels_out.empty()) labels_out = RowWriter::labels(opts->labels_out, n);
      if (!opts->proba_out.empty()) proba_out = RowWriter::matrix(opts->proba_out, n, k);
      // At least one block, so that empty data meets the model's own check and message.
      do {
        const Index first_row = data.next_row();
        const MatrixF x = data.read(opts->chunk_rows);
        const auto t0 = std::chrono::steady_clock::now();
        MatrixF proba;
        const Labels block = label(x, first_row, proba_out ? &proba : nullptr);
        predict_s += seconds_since(t0);
        for (std::int32_t c : block) used[static_cast<std::size_t>(c)] = true;
        if (!truth.empty()) labels.insert(labels.end(), block.begin(), block.end());
        if (labels_out) labels_out->append(block);
        if (proba_out) proba_out->append(proba);
      } while (!data.done());
      if (labels_out) labels_out->commit();
      if (proba_out) proba_out->commit();
    });

    JsonObject summary;
    summary.add("method", to_string(method)).add("model", opts->model).add("data", data.name());
    summary.add("n", long(n)).add("k", long(k));
    summary.add("clusters_used", int(std::count(used.begin(), used.end(), true)));
    if (!truth.empty()) add_scores(summary, truth, labels);
    summary.add("predict_seconds", predict_s);
    summary.add("rows_per_second", double(n) / std::max(predict_s, 1e-9));
    summary.add("total_seconds", seconds_since(start));
    if (!opts->labels_out.empty()) summary.add("labels_out", opts->labels_out);
    print_summary(summary, opts->output.json);
  });
}

}  // namespace neuncut::cli
