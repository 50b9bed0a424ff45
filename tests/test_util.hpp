// Helpers shared by the test files: parameters, a recording RowAccess, temporary directories
// and running the CLI.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "neuncut/core/param_table.hpp"
#include "neuncut/core/row_access.hpp"

namespace neuncut::testing {

/// Sets parameter `name` from text through its table, as the CLI and Python do (the only way
/// text such as an unknown choice reaches a parameter struct).
template <class Params>
void set_param(Params& params, const std::vector<ParamInfo<Params>>& table, const std::string& name,
               const std::string& text) {
  for (const auto& info : table)
    if (info.name == name) return info.set(params, text);
  throw std::logic_error("no parameter " + name);
}

/// A small network (two hidden layers of 32, one thread) for quick fits of three clusters:
/// NeuNcutParams or SpectralNetParams.
template <class Params>
Params small_network_params(int epochs) {
  Params p;
  p.n_clusters = 3;
  p.hidden = {32, 32};
  p.epochs = epochs;
  p.threads = 1;
  return p;
}

/// A matrix seen through RowAccess::gather alone, as a file is, recording what each gather asked
/// for: every row index handed out, in order (`read`), and each gather's row count (`sizes`).
class RecordingRows final : public RowAccess {
 public:
  explicit RecordingRows(const MatrixF& data) : inner_(data) {}
  Index rows() const override { return inner_.rows(); }
  Index cols() const override { return inner_.cols(); }
  MatrixF gather(const std::vector<Index>& rows) const override {
    read.insert(read.end(), rows.begin(), rows.end());
    sizes.push_back(Index(rows.size()));
    return inner_.gather(rows);
  }
  mutable std::vector<Index> read, sizes;

 private:
  MatrixRowAccess inner_;
};

/// A fresh temporary directory removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "neuncut-test-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

/// Result of running a command: exit code and the combined stdout.
struct CommandResult {
  int exit_code;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// The CLI binary the tests run: $NEUNCUT_TEST_CLI when set (to run the CLI tests against
/// another build, e.g. the code before a fix), else the one built with the tests.
inline std::string cli_path() {
  const char* override_path = std::getenv("NEUNCUT_TEST_CLI");
#ifdef NEUNCUT_CLI_PATH
  return override_path ? override_path : NEUNCUT_CLI_PATH;
#else
  return override_path ? override_path : "";
#endif
}

/// Runs `args` with the neuncut CLI (shell-quoted by the caller where needed). `shell_prefix`
/// runs first in the same shell (e.g. "ulimit -f 8;" or "timeout 30"): limits apply to the CLI.
inline CommandResult run_cli(const std::string& args, const std::string& workdir,
                             const std::string& shell_prefix = "") {
  const std::string out = workdir + "/.stdout", err = workdir + "/.stderr";
  const std::string cmd = shell_prefix + " " + cli_path() + " " + args + " >" + out + " 2>" + err + " </dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(out), read_text(err)};
}

}  // namespace neuncut::testing
