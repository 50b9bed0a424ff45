#include "neuncut/io/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "neuncut/core/error.hpp"

namespace neuncut {

namespace {
std::atomic<unsigned> tmp_counter{0};
thread_local AtomicFileSet* current_set = nullptr;

// Temporary files that exist right now, kept where a signal handler can read them without
// allocating or locking: fixed slots whose state is an atomic. A path too long for a slot
// (or more files than slots) is still written safely, only not removed by a signal handler.
constexpr std::size_t kSlots = 64, kSlotPath = 4096;
enum SlotState : int { kFree = 0, kBusy = 1, kLive = 2 };
struct TempSlot {
  std::atomic<int> state{kFree};
  char path[kSlotPath];
};
std::array<TempSlot, kSlots> temp_slots;

int register_temporary(const std::string& path) {
  if (path.size() >= kSlotPath) return -1;
  for (std::size_t i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (temp_slots[i].state.compare_exchange_strong(expected, kBusy)) {
      std::memcpy(temp_slots[i].path, path.c_str(), path.size() + 1);
      temp_slots[i].state.store(kLive);
      return int(i);
    }
  }
  return -1;
}

void unregister_temporary(const std::string& path) {
  for (auto& slot : temp_slots) {
    int expected = kLive;
    if (slot.state.load() == kLive && std::strcmp(slot.path, path.c_str()) == 0 &&
        slot.state.compare_exchange_strong(expected, kBusy)) {
      slot.state.store(kFree);
      return;
    }
  }
}

std::string describe_file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

void rename_or_throw(const std::string& from, const std::string& to) {
  NEUNCUT_REQUIRE(std::rename(from.c_str(), to.c_str()) == 0, IoError, "cannot rename '", from, "' to '", to,
                  "': ", std::strerror(errno));
}
}  // namespace

std::string resolve_output_destination(const std::string& path) {
  NEUNCUT_REQUIRE(!path.empty(), InvalidArgument, "output path is empty");
  struct stat link_st {};
  if (::lstat(path.c_str(), &link_st) != 0) return path;  // nothing there yet: created by the rename
  if (S_ISREG(link_st.st_mode)) return path;
  if (!S_ISLNK(link_st.st_mode))
    throw IoError("output '" + path + "' is " + describe_file_type(link_st.st_mode) +
                  "; neuncut writes regular files only (a write would replace the node)");
  struct stat st {};
  NEUNCUT_REQUIRE(::stat(path.c_str(), &st) == 0, IoError, "output '", path,
                  "' is a symbolic link that cannot be followed (", std::strerror(errno),
                  "); neuncut replaces the target of a link to a regular file only");
  NEUNCUT_REQUIRE(S_ISREG(st.st_mode), IoError, "output '", path, "' is a symbolic link to ",
                  describe_file_type(st.st_mode), "; neuncut writes regular files only");
  std::error_code ec;
  const std::filesystem::path target = std::filesystem::canonical(path, ec);
  NEUNCUT_REQUIRE(!ec, IoError, "cannot resolve the symbolic link '", path, "': ", ec.message());
  return target.string();
}

void check_output_directory(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(resolve_output_destination(path)).parent_path();
  const std::string dir = parent.empty() ? "." : parent.string();
  struct stat st {};
  NEUNCUT_REQUIRE(::stat(dir.c_str(), &st) == 0, IoError, "cannot write '", path, "': directory '", dir,
                  "' does not exist");
  NEUNCUT_REQUIRE(S_ISDIR(st.st_mode), IoError, "cannot write '", path, "': '", dir, "' is not a directory");
  NEUNCUT_REQUIRE(::access(dir.c_str(), W_OK | X_OK) == 0, IoError, "cannot write '", path, "': directory '", dir,
                  "' is not writable (", std::strerror(errno), ")");
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  destination_ = resolve_output_destination(path_);
  tmp_path_ = destination_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(tmp_counter++);
  register_temporary(tmp_path_);  // before the file exists, so that no moment is unregistered
  out_.open(tmp_path_, std::ios::binary | std::ios::trunc);
  if (!out_.is_open()) {
    const int error = errno;
    unregister_temporary(tmp_path_);
    throw IoError("cannot open '" + path_ + "' for writing: " + std::strerror(error));
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::remove(tmp_path_.c_str());
    unregister_temporary(tmp_path_);
  }
}

void AtomicFile::commit() {
  out_.flush();
  NEUNCUT_REQUIRE(out_.good(), IoError, "write error on '", path_, "' (", std::strerror(errno), ")");
  out_.close();
  NEUNCUT_REQUIRE(!out_.fail(), IoError, "write error on '", path_, "' while closing it");
  // fsync so a power loss right after the rename cannot expose an empty file.
  if (int fd = ::open(tmp_path_.c_str(), O_RDONLY); fd >= 0) {
    const int synced = ::fsync(fd);
    const int error = errno;
    ::close(fd);
    NEUNCUT_REQUIRE(synced == 0 || error == EINVAL, IoError, "cannot sync '", path_, "': ", std::strerror(error));
  }
  if (current_set) {
    current_set->stage(tmp_path_, destination_);
  } else {
    rename_or_throw(tmp_path_, destination_);
    unregister_temporary(tmp_path_);
  }
  committed_ = true;
}

AtomicFileSet::AtomicFileSet() {
  NEUNCUT_REQUIRE(current_set == nullptr, InvalidArgument, "AtomicFileSet: sets do not nest");
  current_set = this;
}

AtomicFileSet::~AtomicFileSet() {
  if (current_set == this) current_set = nullptr;
  if (committed_) return;
  for (const auto& [tmp, destination] : staged_) {
    std::remove(tmp.c_str());
    unregister_temporary(tmp);
  }
}

void AtomicFileSet::stage(std::string tmp_path, std::string destination) {
  staged_.emplace_back(std::move(tmp_path), std::move(destination));
}

void AtomicFileSet::commit_all() {
  if (current_set == this) current_set = nullptr;
  std::size_t renamed = 0;
  try {
    for (; renamed < staged_.size(); ++renamed) {
      rename_or_throw(staged_[renamed].first, staged_[renamed].second);
      unregister_temporary(staged_[renamed].first);
    }
  } catch (...) {
    staged_.erase(staged_.begin(), staged_.begin() + std::ptrdiff_t(renamed));  // the destructor removes the rest
    throw;
  }
  committed_ = true;
}

void remove_temporary_files() noexcept {
  for (auto& slot : temp_slots)
    if (slot.state.load() == kLive) ::unlink(slot.path);
}

}  // namespace neuncut
