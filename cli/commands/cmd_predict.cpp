// neuncut predict: label rows with any saved model (NeuNcut, SpectralNet, k-means: the method
// tag in the file decides), and with NeuNcut models also write soft memberships.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <vector>

#include "common.hpp"
#include "mpi.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/io/row_reader.hpp"
#include "neuncut/io/row_writer.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"
#include "outputs.hpp"
#include "streamed_labels.hpp"

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

// The summary of a predict run, on one process or (ranks > 1, rank 0) several.
void print_predict_summary(const PredictOptions& opts, ModelMethod method, const std::string& data_name, Index n,
                           Index k, int ranks, const std::vector<bool>& used, const Labels& truth, const Labels& labels,
                           double predict_s, std::chrono::steady_clock::time_point start) {
  JsonObject summary;
  summary.add("method", to_string(method)).add("model", opts.model).add("data", data_name);
  summary.add("n", long(n)).add("k", long(k));
  if (ranks > 1) summary.add("ranks", ranks);
  summary.add("clusters_used", int(std::count(used.begin(), used.end(), true)));
  if (!truth.empty()) add_scores(summary, truth, labels);
  summary.add("predict_seconds", predict_s);
  summary.add("rows_per_second", double(n) / std::max(predict_s, 1e-9));
  summary.add("total_seconds", seconds_since(start));
  if (!opts.labels_out.empty()) summary.add("labels_out", opts.labels_out);
  print_summary(summary, opts.output.json);
}

// A temporary file of one rank's raw labels or memberships, beside the output (on a cluster,
// on the shared file system every rank and rank 0 see). Removed when it goes out of scope.
struct PartFile {
  std::string path;
  PartFile() = default;
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;
  ~PartFile() {
    if (!path.empty()) std::remove(path.c_str());
  }
};

std::string part_path(const std::string& beside, std::uint64_t token, const char* what, int rank) {
  const std::filesystem::path dir = std::filesystem::path(beside).parent_path();
  return (dir / (".neuncut-predict-" + std::to_string(token) + "-" + what + "-" + std::to_string(rank))).string();
}

// `mpirun -np R neuncut predict`: rank r labels rows [N r / R, N (r + 1) / R) of the file, read
// from its first row on (RowReader::skip) in --chunk-rows chunks, into raw part files; rank 0
// then writes the outputs from the parts in rank order, through the same RowWriter and
// OutputSet as one process. Every row's labels depend on that row alone, so the files are those
// of a single process, byte for byte. A failure on any rank (a NaN in its slice) is shared by an
// allreduce: every rank stops, the failing rank reports its error, no output is written and the
// part files are removed.
void predict_on_ranks(const PredictOptions& opts, const OutputSet& outputs, const LabelBlock& label, Index input_dim,
                      Index k, ModelMethod method, std::chrono::steady_clock::time_point start) {
  const int rank = mpi::rank(), ranks = mpi::size();
  const std::uint64_t token =
      mpi::broadcast(std::uint64_t(::getpid()) * 1000003u + std::uint64_t(start.time_since_epoch().count() & 0xfffff));
  const std::string beside = !opts.labels_out.empty()  ? opts.labels_out
                             : !opts.proba_out.empty() ? opts.proba_out
                                                       : "./predict";
  std::vector<PartFile> label_parts(static_cast<std::size_t>(ranks)), proba_parts(static_cast<std::size_t>(ranks));
  for (int q = 0; q < ranks; ++q) {
    label_parts[std::size_t(q)].path = rank == 0 || q == rank ? part_path(beside, token, "labels", q) : "";
    if (!opts.proba_out.empty())
      proba_parts[std::size_t(q)].path = rank == 0 || q == rank ? part_path(beside, token, "proba", q) : "";
  }
  Index n = 0;
  Labels truth;
  std::string data_name;
  double predict_s = 0;
  std::exception_ptr error;
  try {
    RowReader data = opts.data.open();
    n = data.rows();
    data_name = data.name();
    truth = opts.data.ground_truth(data.labels(), n);
    NEUNCUT_REQUIRE(data.cols() == input_dim, InvalidArgument, "data has ", data.cols(), " features but the model '",
                    opts.model, "' was trained on ", input_dim);
    NEUNCUT_REQUIRE(n >= 1, InvalidArgument, "'", data.name(), "' has no rows to label");
    const Index lo = n * rank / ranks, hi = n * (rank + 1) / ranks;
    data.skip(lo);
    std::ofstream labels_file(label_parts[std::size_t(rank)].path, std::ios::binary);
    std::ofstream proba_file;
    if (!opts.proba_out.empty()) proba_file.open(proba_parts[std::size_t(rank)].path, std::ios::binary);
    while (data.next_row() < hi) {
      const Index first_row = data.next_row();
      const MatrixF x = data.read(std::min(opts.chunk_rows, hi - first_row));
      const auto t0 = std::chrono::steady_clock::now();
      MatrixF proba;
      const Labels block = label(x, first_row, opts.proba_out.empty() ? nullptr : &proba);
      predict_s += seconds_since(t0);
      labels_file.write(reinterpret_cast<const char*>(block.data()), std::streamsize(block.size() * 4));
      if (proba_file.is_open())
        proba_file.write(reinterpret_cast<const char*>(proba.data()), std::streamsize(proba.size() * 4));
    }
    labels_file.close();
    if (proba_file.is_open()) proba_file.close();
    NEUNCUT_REQUIRE(labels_file && (opts.proba_out.empty() || proba_file), IoError, "rank ", rank,
                    ": cannot write its part file beside '", beside, "'");
  } catch (...) {
    error = std::current_exception();
  }
  if (mpi::max_over_ranks(error ? 1 : 0) != 0) {
    if (error) std::rethrow_exception(error);
    throw Error(detail::concat("rank ", rank, ": stopped because another rank failed (that rank prints why)"));
  }
  predict_s = mpi::max_over_ranks(predict_s);
  mpi::barrier();  // every part is complete
  if (rank != 0) {
    // Rank 0 reads this part and removes it (also when it fails).
    label_parts[static_cast<std::size_t>(rank)].path.clear();
    proba_parts[static_cast<std::size_t>(rank)].path.clear();
    return;
  }

  Labels labels;
  std::vector<bool> used(static_cast<std::size_t>(k));
  outputs.write([&] {
    std::optional<RowWriter> labels_out, proba_out;
    if (!opts.labels_out.empty()) labels_out = RowWriter::labels(opts.labels_out, n);
    if (!opts.proba_out.empty()) proba_out = RowWriter::matrix(opts.proba_out, n, k);
    for (int q = 0; q < ranks; ++q) {
      const Index rows = n * (q + 1) / ranks - n * q / ranks;
      std::ifstream part(label_parts[std::size_t(q)].path, std::ios::binary);
      std::ifstream proba_part;
      if (proba_out) proba_part.open(proba_parts[std::size_t(q)].path, std::ios::binary);
      for (Index done = 0; done < rows;) {
        const Index m = std::min(opts.chunk_rows, rows - done);
        Labels block(static_cast<std::size_t>(m));
        part.read(reinterpret_cast<char*>(block.data()), std::streamsize(m * 4));
        NEUNCUT_REQUIRE(part.gcount() == std::streamsize(m * 4), IoError, "rank ", q, "'s part file '",
                        label_parts[std::size_t(q)].path, "' is short");
        for (std::int32_t c : block) used[static_cast<std::size_t>(c)] = true;
        if (!truth.empty()) labels.insert(labels.end(), block.begin(), block.end());
        if (labels_out) labels_out->append(block);
        if (proba_out) {
          MatrixF p(m, k);
          proba_part.read(reinterpret_cast<char*>(p.data()), std::streamsize(p.size() * 4));
          NEUNCUT_REQUIRE(proba_part.gcount() == std::streamsize(p.size() * 4), IoError, "rank ", q, "'s part file '",
                          proba_parts[std::size_t(q)].path, "' is short");
          proba_out->append(p);
        }
        done += m;
      }
    }
    if (labels_out) labels_out->commit();
    if (proba_out) proba_out->commit();
  });

  print_predict_summary(opts, method, data_name, n, k, ranks, used, truth, labels, predict_s, start);
}
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
    LabelBlock label;
    if (method == ModelMethod::NeuNcut) {
      auto model = std::make_shared<NeuNcut>(NeuNcut::load(opts->model));
      model->set_threads(opts->threads);
      if (!opts->precision.empty()) model->set_precision(opts->precision);
      input_dim = model->input_dim();
      k = model->params().n_clusters;
      label = [model, opts](const MatrixF& x, Index first_row, MatrixF* proba) {
        return label_with_neuncut(*model, x, opts->chunk_rows, first_row, proba);
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
    if (mpi::size() > 1) {
      predict_on_ranks(*opts, outputs, label, input_dim, k, method, start);
      return;
    }
    // The data is read --chunk-rows rows at a time (RowReader), each block labelled and
    // written before the next is read, so memory holds one block whatever the file's size.
    RowReader data = opts->data.open();
    const Index n = data.rows();
    const Labels truth = opts->data.ground_truth(data.labels(), n);
    NEUNCUT_REQUIRE(data.cols() == input_dim, InvalidArgument, "data has ", data.cols(), " features but the model '",
                    opts->model, "' was trained on ", input_dim);
    // All labels are kept (4 bytes a row) only to score them against the ground truth.
    StreamedLabels streamed;
    outputs.write([&] {
      std::optional<RowWriter> labels_out, proba_out;
      if (!opts->labels_out.empty()) labels_out = RowWriter::labels(opts->labels_out, n);
      if (!opts->proba_out.empty()) proba_out = RowWriter::matrix(opts->proba_out, n, k);
      streamed = label_stream(data, opts->chunk_rows, k, label, labels_out ? &*labels_out : nullptr,
                              proba_out ? &*proba_out : nullptr, !truth.empty());
      if (labels_out) labels_out->commit();
      if (proba_out) proba_out->commit();
    });

    print_predict_summary(*opts, method, data.name(), n, k, 1, streamed.used, truth, streamed.labels, streamed.seconds,
                          start);
  });
}

}  // namespace neuncut::cli
