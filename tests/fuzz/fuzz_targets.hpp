// PRIVATE header: what each fuzzer does with one input, shared by the libFuzzer harnesses
// (fuzz_*.cpp) and the GoogleTest that replays the committed corpus (test_fuzz_corpus.cpp),
// so that a fuzzer's finding, once added to tests/fuzz/corpus/<reader>/, is a regression test
// in the ordinary suite too.
//
// The readers take paths, so an input goes into an anonymous in-memory file (memfd) opened by
// its /proc/self/fd path: nothing is written to disk per input, and runs side by side cannot
// see each other's inputs. A neuncut::Error (FormatError, IoError, InvalidArgument) is the
// expected outcome for bad input and is swallowed; anything else (a crash, a sanitizer report,
// another exception type, a huge allocation, a hang) is a finding.
#pragma once

#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"

namespace neuncut::fuzz {

using Bytes = std::vector<std::uint8_t>;

class InputFile {
 public:
  InputFile() {
    fd_ = ::memfd_create("neuncut-fuzz", 0);
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  /// Replaces the file's contents with data[0, size).
  void assign(const std::uint8_t* data, std::size_t size) {
    if (::ftruncate(fd_, 0) != 0) std::abort();
    for (std::size_t done = 0; done < size;) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
  }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

template <class Read>
void expect_read_or_error(Read&& read) {
  try {
    read();
  } catch (const neuncut::Error&) {}
}

/// .npy: read as a feature matrix and as labels.
inline void npy(InputFile& file, const std::uint8_t* data, std::size_t size) {
  file.assign(data, size);
  expect_read_or_error([&] {
    std::string image_shape;
    read_npy_matrix(file.path(), &image_shape);
  });
  expect_read_or_error([&] { read_npy_labels(file.path()); });
}

/// CSV with three option sets (comma with header detection; blank-separated with the label
/// in the first column; ';' with a forced header and the label in the second column), so that
/// one input covers each splitting and label path.
inline void csv(InputFile& file, const std::uint8_t* data, std::size_t size) {
  file.assign(data, size);
  const CsvOptions option_sets[] = {{',', -1, -1}, {' ', 0, 0}, {';', 1, 1}};
  for (const CsvOptions& options : option_sets) expect_read_or_error([&] { read_csv(file.path(), options); });
}

inline Bytes gzip(const std::uint8_t* data, std::size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  Bytes out(deflateBound(&z, static_cast<uLong>(size)));
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

/// MNIST IDX: read as a matrix and as labels, as given and, unless it already is gzip, once
/// more gzip-compressed, so that the fuzzer's IDX headers also reach the zlib path (mutated
/// .gz seeds mostly fail their CRC early).
inline void idx(InputFile& file, const std::uint8_t* data, std::size_t size) {
  auto read_both_ways = [&] {
    expect_read_or_error([&] {
      std::string image_shape;
      read_idx_matrix(file.path(), &image_shape);
    });
    expect_read_or_error([&] { read_idx_labels(file.path()); });
  };
  file.assign(data, size);
  read_both_ways();
  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return;
  const Bytes compressed = gzip(data, size);
  file.assign(compressed.data(), compressed.size());
  read_both_ways();
}

/// Model files: loaded by the NeuNcut, SpectralNet and k-means loaders as given, which
/// exercises the container checks (model_file.hpp); then, when the input is at least a header
/// and a checksum long, with its payload-size field and CRC-32 recomputed, so that mutations
/// of the payload get past the checksum and reach the payload parsers (parameter table,
/// preprocessing, network shape, matrices).
inline void model(InputFile& file, const std::uint8_t* data, std::size_t size) {
  auto load_all = [&] {
    expect_read_or_error([&] { NeuNcut::load(file.path()); });
    expect_read_or_error([&] { SpectralNet::load(file.path()); });
    expect_read_or_error([&] { KMeansModel::load(file.path()); });
  };
  file.assign(data, size);
  load_all();
  constexpr std::size_t kHeaderSize = 32, kCrcSize = 4;  // model_file.hpp
  if (size < kHeaderSize + kCrcSize) return;
  Bytes fixed(data, data + size);
  const std::uint64_t payload = size - kHeaderSize - kCrcSize;
  std::memcpy(fixed.data() + 24, &payload, 8);
  const auto crc = static_cast<std::uint32_t>(crc32(0, fixed.data() + 8, static_cast<uInt>(size - 8 - kCrcSize)));
  std::memcpy(fixed.data() + size - kCrcSize, &crc, kCrcSize);
  if (fixed == Bytes(data, data + size)) return;  // already consistent: loaded above
  file.assign(fixed.data(), fixed.size());
  load_all();
}

}  // namespace neuncut::fuzz
