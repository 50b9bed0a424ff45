#include "neuncut/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "neuncut/error.hpp"

namespace neuncut {

namespace {
std::atomic<unsigned> tmp_counter{0};
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  NEUNCUT_REQUIRE(!path_.empty(), InvalidArgument, "output path is empty");
  tmp_path_ = path_ + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(tmp_counter++);
  out_.open(tmp_path_, std::ios::binary | std::ios::trunc);
  NEUNCUT_REQUIRE(out_.is_open(), IoError, "cannot open '", path_, "' for writing: ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::remove(tmp_path_.c_str());
  }
}

void AtomicFile::commit() {
  out_.flush();
  NEUNCUT_REQUIRE(out_.good(), IoError, "write error on '", path_, "' (disk full?)");
  out_.close();
  // fsync so a power loss right after the rename cannot expose an empty file.
  if (int fd = ::open(tmp_path_.c_str(), O_RDONLY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  NEUNCUT_REQUIRE(std::rename(tmp_path_.c_str(), path_.c_str()) == 0, IoError, "cannot rename '",
                  tmp_path_, "' to '", path_, "': ", std::strerror(errno));
  committed_ = true;
}

}  // namespace neuncut
