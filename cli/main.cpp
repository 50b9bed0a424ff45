// neuncut: command-line front end. Each subcommand lives in its own cmd_*.cpp file.
//
// Exit codes: 0 success; 1 runtime or I/O failure (out of memory included); 2 bad input or
// usage (invalid argument, malformed file, unknown flag); 128 + signal when ended by SIGINT
// (130), SIGTERM (143) or SIGHUP (129). A command's outputs are written as one set (OutputSet):
// a failure or a signal leaves all of them as they were, with no temporary files.
#include <iostream>
#include <new>
#include <string>

#include "common.hpp"
#include "mpi.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/version.hpp"
#include "signals.hpp"

namespace {
int run(int argc, char** argv);

// The subcommand named on the command line (the first argument that is not an option).
std::string subcommand_of(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (argv[i][0] != '-') return argv[i];
  return "";
}
}  // namespace

int main(int argc, char** argv) {
  // Under mpirun every rank runs this; `predict` shares the work (each rank labels its slice of
  // the rows) and `fit` trains data-parallel (each rank its share of the mini-batches). Any
  // other command, or a build without MPI, is refused on every rank before anything is read,
  // rank 0 saying why.
  const neuncut::cli::mpi::Session mpi_session(&argc, &argv);
  if (neuncut::cli::mpi::size() > 1) {
    const std::string sub = subcommand_of(argc, argv);
    const char* why = !neuncut::cli::mpi::built_with_mpi()
                          ? "this neuncut was built without MPI (install libopenmpi-dev and rebuild)"
                      : sub != "predict" && sub != "fit"
                          ? "only `predict` and `fit` run on several MPI ranks; run other commands as one process"
                          : nullptr;
    if (why) {
      if (neuncut::cli::mpi::rank() == 0) std::cerr << "neuncut: error: " << why << "\n";
      return 2;
    }
  }
  return run(argc, argv);
}

namespace {
int run(int argc, char** argv) {
  CLI::App app{"neuncut: scalable spectral clustering by Neural Normalized Cut (NeuNcut)"};
  app.require_subcommand(1);
  // The version line also says which library runs fp32 products and whether precision bf16
  // can run (build and CPU), for scripts such as bench/run.py that record and choose their
  // configurations from it.
  app.set_version_flag("--version", [] {
    const std::string& why_not = neuncut::bf16_unavailable_reason();
    const std::string isa = neuncut::onednn_cpu_isa();
    return std::string("neuncut ") + NEUNCUT_VERSION + " (fp32 products: " + neuncut::fp32_gemm_library() +
           "; bf16: " + (why_not.empty() ? "available" : "unavailable, " + why_not) +
           (isa.empty() ? std::string() : "; oneDNN kernels: " + isa) +
           "; MPI: " + (neuncut::cli::mpi::built_with_mpi() ? "yes" : "no") + ")";
  });
  neuncut::cli::register_fit(app);
  neuncut::cli::register_predict(app);
  neuncut::cli::register_evaluate(app);
  neuncut::cli::register_generate(app);
  neuncut::cli::register_ncut(app);
  neuncut::cli::register_spectralnet(app);
  neuncut::cli::register_kmeans(app);
  neuncut::cli::register_features(app);
  neuncut::cli::register_export(app);
  neuncut::cli::register_params(app);
  neuncut::cli::register_results(app);
  neuncut::cli::install_signal_handlers();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const neuncut::Interrupted& e) {
    std::cerr << "neuncut: interrupted: " << e.what() << "; no output written\n";
    return 130;
  } catch (const neuncut::InvalidArgument& e) {
    std::cerr << "neuncut: error: " << e.what() << "\n";
    return 2;
  } catch (const neuncut::FormatError& e) {
    std::cerr << "neuncut: error: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "neuncut: error: out of memory (std::bad_alloc): the data or the configuration needs more memory "
                 "than this process could get; no output written. Reduce the data, hidden widths or batch size\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "neuncut: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
}  // namespace
