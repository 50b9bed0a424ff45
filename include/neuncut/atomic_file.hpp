// Crash-safe file output: everything neuncut writes (models, labels, memberships) goes to
// a temporary file in the destination's directory, which is flushed and renamed over the
// destination only when complete. An error or crash midway never leaves half a file, and
// an existing file at the destination stays intact until the new one is complete.
#pragma once

#include <fstream>
#include <string>

namespace neuncut {

class AtomicFile {
 public:
  /// Opens "<path>.tmp-<pid>-<n>" for binary writing; throws IoError if it cannot.
  explicit AtomicFile(std::string path);
  /// Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// The stream to write to.
  std::ofstream& stream() { return out_; }
  /// Flushes, checks for write errors, fsyncs and renames onto the destination.
  void commit();

 private:
  std::string path_, tmp_path_;
  std::ofstream out_;
  bool committed_ = false;
};

}  // namespace neuncut
