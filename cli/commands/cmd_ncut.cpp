// neuncut ncut: classic normalized-cut spectral clustering (kNN graph, Lanczos, k-means).
// Exits with status 1 and no labels when the eigensolver did not converge.
#include <optional>
#include <string>
#include <vector>

#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/file_rows.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"
#include "outputs.hpp"
#include "result_json.hpp"

namespace neuncut::cli {

void register_ncut(CLI::App& app);

namespace {
struct NcutOptions {
  DataOptions data;
  OutputOptions output;
  std::string labels_out, embedding_out;
};
}  // namespace

void register_ncut(CLI::App& app) {
  auto* sub = app.add_subcommand("ncut", "baseline: classic Ncut spectral clustering (Ng-Jordan-Weiss, Lanczos)");
  auto opts = std::make_shared<NcutOptions>();
  opts->data.add_to(sub);
  sub->add_option("--labels-out", opts->labels_out, "write the labels of all rows (.npy int32 or .csv)");
  sub->add_option("--embedding-out", opts->embedding_out, "write the N x k spectral embedding (.npy or .csv)");
  opts->output.add_to(sub);
  auto flags = std::make_shared<ParamFlags<SpectralClusteringParams>>(sub, ncut_param_table(), "Ncut parameters");

  sub->callback([opts, flags] {
    const auto start = std::chrono::steady_clock::now();
    SpectralClusteringParams params;
    flags->apply(params);
    validate(params);
    warn_thread_bound(params.threads);
    OutputSet outputs;
    outputs.reads(opts->data)
        .add("--labels-out", opts->labels_out, OutputSet::Kind::Table)
        .add("--embedding-out", opts->embedding_out, OutputSet::Kind::Table)
        .check();
    // A file the landmark solver will cluster is streamed (its rows read a block at a time, never
    // whole: 10 million rows of 400 features are 16 GB); anything else is loaded.
    const StreamedOrLoaded in = opts->data.stream_or_load(
        [&](Index rows) { return params.solver != NcutSolver::Exact && uses_landmark_solver(params, rows); });
    const auto& streamed = in.streamed;
    const Dataset& ds = in.ds;
    const Index n = in.rows(), d = in.cols();
    const bool quiet = opts->output.quiet;
    if (!quiet)
      std::fprintf(
          stderr, "neuncut ncut: %ld x %ld from %s, k %d, %s solver, kNN %d (%s), %s affinity, %s\n", long(n), long(d),
          ds.name.c_str(), params.n_clusters, to_string(params.solver).c_str(), params.n_neighbors,
          to_string(params.knn_method).c_str(), to_string(params.affinity).c_str(),
          streamed ? "streamed from the file" : ("loaded in " + format_duration(seconds_since(start))).c_str());
    const SpectralClusteringResult r =
        streamed ? fit_spectral_clustering(*streamed, params) : fit_spectral_clustering(ds.features, params);
    if (!quiet && r.solver == NcutSolver::Landmark) {
      std::fprintf(stderr,
                   "landmark graph %.1fs (%d landmarks, %d per point, %d components), eigenvectors %.1fs, "
                   "k-means %.1fs\n",
                   r.knn_seconds + r.affinity_seconds, r.n_landmarks, r.landmark_neighbors_used, r.n_components,
                   r.eigen_seconds, r.kmeans_seconds);
    } else if (!quiet) {
      std::fprintf(stderr,
                   "kNN graph (%s) %.1fs, affinity %.1fs (%ld edges, %d components), Lanczos %.1fs "
                   "(%s, %d restarts, %d products), k-means %.1fs\n",
                   to_string(r.knn_method).c_str(), r.knn_seconds, r.affinity_seconds, long(r.n_edges), r.n_components,
                   r.eigen_seconds, to_string(r.solver_status).c_str(), r.restarts, r.matvecs, r.kmeans_seconds);
    }
    if (!r.warnings.empty()) std::fprintf(stderr, "neuncut ncut: WARNING: %s\n", r.message().c_str());
    NEUNCUT_REQUIRE(r.converged, Error, "ncut: the eigensolver did not converge (", r.solver_status,
                    "); no labels written");
    outputs.write([&] {
      if (!opts->labels_out.empty()) write_labels(opts->labels_out, r.labels);
      if (!opts->embedding_out.empty()) write_matrix(opts->embedding_out, r.embedding);
    });

    JsonObject summary;
    // Result fields by their table (result_json.hpp's kNcutSummary), in the summary's order.
    const auto field = [&](std::string_view name) { add_result_field(summary, kNcutSummary, r, name); };
    summary.add("method", "ncut").add("data", ds.name);
    summary.add("n", long(n)).add("d", long(d)).add("k", params.n_clusters);
    summary.add("streamed", streamed.has_value());
    summary.add("n_neighbors", params.n_neighbors);
    field("n_neighbors_used");
    summary.add("affinity", to_string(params.affinity));
    field("knn_method");
    field("solver");
    if (r.solver == NcutSolver::Landmark) {
      field("n_landmarks");
      field("landmark_neighbors_used");
    }
    summary.add("seed", (unsigned long)params.seed);
    for (const char* name :
         {"converged", "solver_status", "restarts", "matvecs", "n_components", "isolated_points", "n_edges"})
      field(name);
    // Six decimals, as the summary has always shown them.
    std::vector<double> eig;
    for (Index i = 0; i < r.eigenvalues.size(); ++i) eig.push_back(std::stod(std::to_string(r.eigenvalues[i])));
    summary.add("eigenvalues", eig);
    field("kmeans_converged");
    summary.add("clusters_used", count_clusters(r.labels));
    field("warnings");
    if (!ds.labels.empty()) add_scores(summary, ds.labels, r.labels);
    for (const char* name : {"knn_seconds", "eigen_seconds", "kmeans_seconds", "total_seconds"}) field(name);
    summary.add("total_seconds", seconds_since(start));
    if (!opts->labels_out.empty()) summary.add("labels_out", opts->labels_out);
    print_summary(summary, opts->output.json);
  });
}

}  // namespace neuncut::cli
