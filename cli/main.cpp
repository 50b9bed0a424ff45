// neuncut: command-line front end. Each subcommand lives in its own cmd_*.cpp file.
//
// Exit codes: 0 success; 1 runtime or I/O failure; 2 bad input or usage (invalid argument,
// malformed file, unknown flag); 130 interrupted by Ctrl-C. Outputs are written atomically,
// so a failure or interrupt never leaves a partial model or label file.
#include <csignal>
#include <iostream>

#include "common.hpp"
#include "neuncut/error.hpp"
#include "neuncut/precision.hpp"

namespace {
void on_sigint(int) {
  // Second Ctrl-C: leave immediately (outputs are atomic, nothing half-written remains).
  if (neuncut::cli::g_interrupted.exchange(true)) std::_Exit(130);
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"neuncut: scalable spectral clustering by Neural Normalized Cut (NeuNcut)"};
  app.require_subcommand(1);
  // The version line also says which library runs fp32 products and whether precision bf16
  // can run (build and CPU), for scripts such as bench/run.py that record and choose their
  // configurations from it.
  app.set_version_flag("--version", [] {
    const std::string& why_not = neuncut::bf16_unavailable_reason();
    const std::string isa = neuncut::onednn_cpu_isa();
    return "neuncut 0.1.0 (fp32 products: " + neuncut::fp32_gemm_library() +
           "; bf16: " + (why_not.empty() ? "available" : "unavailable, " + why_not) +
           (isa.empty() ? std::string() : "; oneDNN kernels: " + isa) + ")";
  });
  neuncut::cli::register_fit(app);
  neuncut::cli::register_predict(app);
  neuncut::cli::register_evaluate(app);
  neuncut::cli::register_generate(app);
  neuncut::cli::register_ncut(app);
  neuncut::cli::register_spectralnet(app);
  neuncut::cli::register_kmeans(app);
  neuncut::cli::register_features(app);
  neuncut::cli::register_params(app);
  std::signal(SIGINT, on_sigint);
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
  } catch (const std::exception& e) {
    std::cerr << "neuncut: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
