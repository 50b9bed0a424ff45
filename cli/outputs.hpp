// The files one command writes, handled as a set: every path is checked before any work
// (supported extension, an existing directory this process can write to, a regular file or
// nothing at the destination, no two outputs the same file, no output the same file as an
// input the command reads), and the files are committed
// together at the end: all of them or none, never a mix of new and old.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace neuncut::cli {

struct DataOptions;

class OutputSet {
 public:
  /// What an output holds, which decides the extensions accepted.
  enum class Kind {
    Model,  ///< a model file (any name; .nnc by convention)
    Table,  ///< labels or a matrix: .npy, .csv or .txt
  };
  /// Registers the output given with `flag`; an empty path (flag not given) is ignored.
  OutputSet& add(const std::string& flag, const std::string& path, Kind kind);
  /// Registers a file the command reads, which no output may replace; empty paths are ignored.
  OutputSet& input(const std::string& flag, const std::string& path);
  /// Registers the files every data-reading command reads: --data and --truth.
  OutputSet& reads(const DataOptions& data);

  /// Throws InvalidArgument (bad extension, two outputs that are the same file, or an output
  /// that is the same file as an input, by name, symbolic link or hard link) or IoError (a destination that is not a
  /// regular file, a missing or unwritable directory). Call before any long work.
  void check() const;

  /// Runs `write_all`, which writes the outputs with the library's writers; the files it
  /// completes are kept as temporary files and renamed together once it returns. If it
  /// throws, every temporary file is removed and nothing is written.
  void write(const std::function<void()>& write_all) const;

 private:
  struct Output {
    std::string flag, path;
    Kind kind;
  };
  std::vector<Output> outputs_;
  std::vector<Output> inputs_;  // kind unused
};

}  // namespace neuncut::cli
