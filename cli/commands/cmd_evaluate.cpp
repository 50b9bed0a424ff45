// neuncut evaluate: score predicted labels against ground truth, and optionally the Ncut
// value of the partition on the data's Gaussian affinity.
#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"

namespace neuncut::cli {

namespace {
struct EvaluateOptions {
  std::string labels, truth;
  DataOptions data;
  double sigma = 0;
  std::string normalize = "auto";
  bool json = false;
};
constexpr Index kMaxDenseNcut = 20000;  // a dense N x N affinity beyond this needs > 1.6 GB
}  // namespace

void register_evaluate(CLI::App& app) {
  auto* sub = app.add_subcommand("evaluate", "score predicted labels: ACC, NMI, ARI, and optionally the Ncut value");
  auto opts = std::make_shared<EvaluateOptions>();
  sub->add_option("--labels", opts->labels, "predicted labels (.npy, .csv or IDX)")->required();
  opts->data.add_to(sub, false);
  sub->add_option("--sigma", opts->sigma,
                  "with --data: also report the Ncut value of the partition on the dense Gaussian affinity "
                  "of the rows (after --normalize) with this sigma (N <= 20000)")
      ->default_val(0);
  sub->add_option("--normalize", opts->normalize,
                  "row L2 normalization before the affinity: auto, l2 or none "
                  "(as fit's --normalize)")
      ->default_val("auto");
  sub->add_flag("--json", opts->json, "print a one-line JSON summary (keys acc, nmi, nmi_arithmetic, ari, ncut)");

  sub->callback([opts] {
    const Labels predicted = load_labels(opts->labels);
    // The data is opened for its row count and the labels that come with it; its rows are read
    // only for the dense Ncut (--sigma, at most kMaxDenseNcut rows), so scoring the labels of a
    // file larger than memory needs memory for the labels alone (.npy, IDX and HDF5 are not
    // read at open; CSV and fashion-mnist are).
    Labels truth;
    Index rows = 0;
    if (!opts->data.data.empty()) {
      const RowReader reader = opts->data.open();
      rows = reader.rows();
      truth = opts->data.ground_truth(reader.labels(), rows);
    } else if (!opts->data.truth.empty()) {
      truth = load_labels(opts->data.truth);
    }
    NEUNCUT_REQUIRE(!truth.empty() || opts->sigma > 0, InvalidArgument,
                    "nothing to evaluate: give --truth (or --data with labels), and/or --data with --sigma");
    JsonObject summary;
    summary.add("n", long(predicted.size())).add("clusters", count_clusters(predicted));
    if (!truth.empty()) {
      NEUNCUT_REQUIRE(truth.size() == predicted.size(), InvalidArgument, "labels have ", predicted.size(),
                      " entries but the ground truth has ", truth.size());
      summary.add("true_clusters", count_clusters(truth));
      add_scores(summary, truth, predicted);
    }
    if (opts->sigma > 0) {
      NEUNCUT_REQUIRE(rows > 0, InvalidArgument, "--sigma needs --data");
      NEUNCUT_REQUIRE(Index(predicted.size()) == rows, InvalidArgument, "labels have ", predicted.size(),
                      " entries but the data has ", rows, " rows");
      NEUNCUT_REQUIRE(rows <= kMaxDenseNcut, InvalidArgument, "the dense Ncut needs N <= ", kMaxDenseNcut, " (got ",
                      rows, "); evaluate a subsample");
      const Dataset ds = opts->data.load();
      Preprocessor pre(FeatureScaling::None,
                       resolve_normalize(parse_enum<RowNormalization>(opts->normalize), ds.features.cols()));
      pre.fit(ds.features);
      const MatrixF x = pre.transform(ds.features);
      MatrixF W;
      VectorF degree;
      gaussian_batch_affinity(x, float(opts->sigma), W, degree, 0);
      summary.add("ncut", ncut_value(W, predicted)).add("sigma", opts->sigma);
    }
    print_summary(summary, opts->json);
  });
}

}  // namespace neuncut::cli
