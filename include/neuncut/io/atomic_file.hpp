// Crash-safe file output: everything neuncut writes (models, labels, memberships) goes to
// a temporary file in the destination's directory, which is flushed and renamed over the
// destination only when complete. An error or crash midway never leaves half a file, and
// an existing file at the destination stays intact until the new one is complete.
//
// Destinations (resolve_output_destination): a missing path is created; an existing regular
// file is replaced; a symbolic link to a regular file is followed and its target replaced
// atomically (the link stays a link); a directory, a device, a FIFO, a socket, a dangling
// link or a link to any of these is refused, because renaming over it would replace the
// node itself (a device node becoming a regular file) rather than write to it.
//
// Sets of outputs (AtomicFileSet): while a set is open on a thread, AtomicFile::commit()
// on that thread only completes and syncs its temporary file; the set's commit_all() then
// renames them all, and a set destroyed without commit_all() removes them all. A command
// with several outputs thereby writes all of them or none.
#pragma once

#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace neuncut {

/// The path a write to `path` replaces: `path` itself, or the target of a symbolic link to a
/// regular file. Throws IoError when the destination exists and is not a regular file
/// (directory, device, FIFO, socket), or is a dangling link or a link to such a node (as the
/// readers do for inputs); InvalidArgument when `path` is empty. Does not check that the
/// directory is writable (see check_output_directory).
std::string resolve_output_destination(const std::string& path);

/// Throws IoError naming `path` unless the directory it would be written in exists, is a
/// directory and is writable by this process (a temporary file is created there).
void check_output_directory(const std::string& path);

class AtomicFileSet;

class AtomicFile {
 public:
  /// Checks the destination (resolve_output_destination) and opens "<destination>.tmp-<pid>-<n>"
  /// for binary writing; throws IoError if it cannot.
  explicit AtomicFile(std::string path);
  /// Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// The stream to write to.
  std::ofstream& stream() { return out_; }
  /// Flushes, checks for write errors and fsyncs; then renames onto the destination, or,
  /// while an AtomicFileSet is open on this thread, hands the finished file to that set.
  void commit();

 private:
  std::string path_, destination_, tmp_path_;
  std::ofstream out_;
  bool committed_ = false;
};

/// Groups the files committed on the constructing thread into one all-or-nothing set (see
/// the file comment). Sets do not nest.
class AtomicFileSet {
 public:
  AtomicFileSet();
  /// Removes every finished temporary file unless commit_all() succeeded.
  ~AtomicFileSet();
  AtomicFileSet(const AtomicFileSet&) = delete;
  AtomicFileSet& operator=(const AtomicFileSet&) = delete;

  /// Renames every finished file onto its destination. Only renames remain at this point
  /// (every file is complete and synced), so a failure here needs the directory to change
  /// under the command; the files not yet renamed are then removed and IoError is thrown.
  void commit_all();
  /// Called by AtomicFile::commit(): the finished temporary file and its destination.
  void stage(std::string tmp_path, std::string destination);

 private:
  std::vector<std::pair<std::string, std::string>> staged_;  // (temporary, destination)
  bool committed_ = false;
};

/// Removes every temporary file of AtomicFile objects alive in this process, whether still
/// being written or finished in an AtomicFileSet. Async-signal-safe (unlink only): for a
/// signal handler that ends the process, so that an interrupt leaves no "*.tmp-*" files.
void remove_temporary_files() noexcept;

}  // namespace neuncut
