// neuncut export: write a NeuNcut model as an ONNX file (preprocessing, network, softmax).
//
// The graph is built by the Python package (python/neuncut/onnx_export.py, with Debian's
// python3-onnx), run here as `PYTHON -m neuncut.onnx_export`: ONNX's own helper and checker
// build and validate the file, and neither the library nor the CLI gains a protobuf/libonnx
// build dependency (docs/onnx.md, "How it is built").
// This command checks everything it can first (the output path, the model file and its
// method) so that common mistakes fail before Python starts; the exporter writes atomically.
// The interpreter: --python, else $NEUNCUT_PYTHON (the pip-installed `neuncut` sets it to its
// own interpreter), else the one this CLI was built for (NEUNCUT_DEFAULT_PYTHON).
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <vector>

#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/model_file.hpp"
#include "outputs.hpp"

#ifndef NEUNCUT_DEFAULT_PYTHON
#define NEUNCUT_DEFAULT_PYTHON "python3"
#endif

namespace neuncut::cli {

namespace {
struct ExportOptions {
  std::string model, out, python;
  bool quiet = false;
};

// Exit status of the child (0..255), or 128 + signal when a signal ended it.
int run_and_wait(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = fork();
  NEUNCUT_REQUIRE(pid >= 0, Error, "cannot start the ONNX exporter: fork failed: ", std::strerror(errno));
  if (pid == 0) {
    // If this CLI is ended by a signal (its handler exits at once), the exporter must not
    // live on and write the file after the command reported failure.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    execvp(args[0], args.data());
    std::cerr << "neuncut: error: cannot run the Python interpreter '" << argv[0] << "': " << std::strerror(errno)
              << "\n";
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    NEUNCUT_REQUIRE(errno == EINTR, Error, "waiting for the ONNX exporter failed: ", std::strerror(errno));
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}
}  // namespace

void register_export(CLI::App& app) {
  auto* sub =
      app.add_subcommand("export",
                         "write a NeuNcut model as ONNX (preprocessing, network, softmax; image models take scattering "
                         "features: docs/onnx.md)");
  auto opts = std::make_shared<ExportOptions>();
  sub->add_option("--model", opts->model, "NeuNcut model file written by fit")->required();
  sub->add_option("--out", opts->out, "ONNX file to write (written atomically)")->required();
  sub->add_option("--python", opts->python,
                  "Python interpreter with the neuncut package and onnx (default: $NEUNCUT_PYTHON, else " +
                      std::string(NEUNCUT_DEFAULT_PYTHON) + ")");
  sub->add_flag("-q,--quiet", opts->quiet, "print nothing on success");

  sub->callback([opts] {
    OutputSet outputs;
    outputs.input("--model", opts->model).add("--out", opts->out, OutputSet::Kind::Model).check();
    const ModelMethod method = read_model_file(opts->model).method;  // container checks: magic, version, CRC
    NEUNCUT_REQUIRE(method == ModelMethod::NeuNcut, InvalidArgument, "ONNX export supports NeuNcut models; '",
                    opts->model, "' holds a ", to_string(method), " model");
    std::string python = opts->python;
    if (python.empty()) {
      const char* env = std::getenv("NEUNCUT_PYTHON");
      python = env != nullptr && *env != '\0' ? env : NEUNCUT_DEFAULT_PYTHON;
    }
    const int status = run_and_wait({python, "-m", "neuncut.onnx_export", "--model", opts->model, "--out", opts->out});
    if (status == 0) {
      if (!opts->quiet) std::cerr << "neuncut: wrote " << opts->out << "\n";
      return;
    }
    if (status > 128 && status < 160)
      throw Interrupted("the ONNX exporter was ended by signal " + std::to_string(status - 128));
    // 2: the exporter refused the input and said why (above). Anything else: it could not
    // run; the usual cause is an interpreter without the neuncut package or onnx.
    NEUNCUT_REQUIRE(status != 2, InvalidArgument, "ONNX export of '", opts->model, "' failed (see above)");
    throw Error("ONNX export failed: '" + python + " -m neuncut.onnx_export' exited with status " +
                std::to_string(status) +
                "; it needs the neuncut Python package (pip install .) and onnx (Debian: python3-onnx) for that "
                "interpreter: choose it with --python or NEUNCUT_PYTHON; no output written");
  });
}

}  // namespace neuncut::cli
