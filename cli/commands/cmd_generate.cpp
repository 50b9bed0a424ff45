// neuncut generate: write a seeded synthetic data set (features and labels) as .npy/.csv.
#include "common.hpp"
#include "neuncut/data/synthetic.hpp"
#include "outputs.hpp"

namespace neuncut::cli {

namespace {
struct GenerateOptions {
  SyntheticParams params;
  std::string kind = "blobs", out, labels_out;
  bool json = false;
};
}  // namespace

void register_generate(CLI::App& app) {
  auto* sub = app.add_subcommand("generate", "write a synthetic data set with known clusters");
  auto opts = std::make_shared<GenerateOptions>();
  auto& p = opts->params;
  sub->add_option("--kind", opts->kind, "moons, circles, blobs or imbalanced-blobs")
      ->default_val("blobs")
      ->check(CLI::IsMember({"moons", "circles", "blobs", "imbalanced-blobs"}));
  sub->add_option("-n,--n-samples", p.n_samples, "number of points")->default_val(p.n_samples);
  sub->add_option("--clusters", p.n_clusters, "clusters (blob kinds; moons and circles have 2)")
      ->default_val(p.n_clusters);
  sub->add_option("--dim", p.dim, "dimension (blob kinds; moons and circles are 2-D)")->default_val(p.dim);
  sub->add_option("--noise", p.noise, "noise std (moons, circles) or cluster std (blobs)")->default_val(p.noise);
  sub->add_option("--factor", p.factor, "circles: inner / outer radius")->default_val(p.factor);
  sub->add_option("--imbalance", p.imbalance, "imbalanced-blobs: largest / smallest cluster size")
      ->default_val(p.imbalance);
  sub->add_option("--center-box", p.center_box, "blobs: centres uniform in [-box, box]^dim")->default_val(p.center_box);
  sub->add_option("--seed", p.seed, "random seed")->default_val(p.seed);
  sub->add_option("--out", opts->out, "features output (.npy or .csv)")->required();
  sub->add_option("--labels-out", opts->labels_out, "labels output (.npy or .csv)");
  sub->add_flag("--json", opts->json, "print a one-line JSON summary");

  sub->callback([opts] {
    opts->params.kind = parse_synthetic_kind(opts->kind);
    OutputSet outputs;
    outputs.add("--out", opts->out, OutputSet::Kind::Table)
        .add("--labels-out", opts->labels_out, OutputSet::Kind::Table)
        .check();
    const Dataset ds = make_synthetic(opts->params);
    outputs.write([&] {
      write_matrix(opts->out, ds.features);
      if (!opts->labels_out.empty()) write_labels(opts->labels_out, ds.labels);
    });
    JsonObject summary;
    summary.add("kind", opts->kind).add("n", long(ds.features.rows())).add("d", long(ds.features.cols()));
    summary.add("clusters", count_clusters(ds.labels)).add("out", opts->out);
    if (!opts->labels_out.empty()) summary.add("labels_out", opts->labels_out);
    print_summary(summary, opts->json);
  });
}

}  // namespace neuncut::cli
