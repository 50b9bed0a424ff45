#include "outputs.hpp"

#include <sys/stat.h>

#include <cctype>
#include <filesystem>

#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/atomic_file.hpp"
#include "signals.hpp"

namespace neuncut::cli {

namespace {
// What makes two paths the same file: the inode when the file exists (symbolic links, "./"
// prefixes and hard links all end there), else the absolute path with "." and ".." and
// links in the existing directories resolved.
std::string identity(const std::string& destination) {
  struct stat st {};
  if (::stat(destination.c_str(), &st) == 0)
    return "inode " + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  std::error_code ec;
  const auto path = std::filesystem::weakly_canonical(std::filesystem::absolute(destination), ec);
  return "path " + (ec ? destination : path.string());
}
}  // namespace

OutputSet& OutputSet::add(const std::string& flag, const std::string& path, Kind kind) {
  if (!path.empty()) outputs_.push_back({flag, path, kind});
  return *this;
}

OutputSet& OutputSet::input(const std::string& flag, const std::string& path) {
  if (!path.empty()) inputs_.push_back({flag, path, Kind::Table});
  return *this;
}

OutputSet& OutputSet::reads(const DataOptions& data) { return input("--data", data.data).input("--truth", data.truth); }

void OutputSet::check() const {
  std::vector<std::string> input_identities;
  for (const Output& in : inputs_) input_identities.push_back(identity(in.path));
  std::vector<std::string> identities;
  for (const Output& out : outputs_) {
    if (out.kind == Kind::Table) {
      std::string ext = std::filesystem::path(out.path).extension().string();
      for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));  // as the writers read it
      NEUNCUT_REQUIRE(ext == ".npy" || ext == ".csv" || ext == ".txt", InvalidArgument, out.flag, " '", out.path,
                      "' must end in .npy, .csv or .txt");
    }
    const std::string destination = resolve_output_destination(out.path);
    check_output_directory(out.path);
    identities.push_back(identity(destination));
    for (std::size_t i = 0; i + 1 < identities.size(); ++i)
      NEUNCUT_REQUIRE(identities[i] != identities.back(), InvalidArgument, outputs_[i].flag, " '", outputs_[i].path,
                      "' and ", out.flag, " '", out.path, "' are the same file; give each output its own path");
    for (std::size_t i = 0; i < inputs_.size(); ++i)
      NEUNCUT_REQUIRE(input_identities[i] != identities.back(), InvalidArgument, out.flag, " '", out.path,
                      "' is the same file as the input ", inputs_[i].flag, " '", inputs_[i].path,
                      "'; writing it would destroy the input");
  }
}

void OutputSet::write(const std::function<void()>& write_all) const {
  AtomicFileSet set;
  write_all();
  commit_deferring_signals(set);
}

}  // namespace neuncut::cli
