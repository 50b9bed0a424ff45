#include "neuncut/io/row_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "io/io_util.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/atomic_file.hpp"

namespace neuncut {

namespace {

constexpr std::size_t kAlign = 64;

std::string npy_header(const char* descr, const std::string& shape) {
  std::string dict = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // numpy pads with spaces and ends with '\n' so that the data starts on a 64-byte boundary.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict.append((kAlign - unpadded % kAlign) % kAlign, ' ');
  dict += '\n';
  std::string out(detail::kNpyMagic, detail::kNpyMagicLen);
  out += '\x01';
  out += '\x00';
  unsigned char len[2];
  detail::store_little_endian(len, static_cast<std::uint16_t>(dict.size()));
  out.append(reinterpret_cast<const char*>(len), 2);
  return out + dict;
}

template <class T>
void write_npy_payload(std::ofstream& out, const T* data, std::size_t n) {
  if constexpr (std::endian::native == std::endian::little) {
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(T)));
  } else {
    std::vector<unsigned char> buf(sizeof(T) * 4096);
    for (std::size_t first = 0; first < n; first += 4096) {
      const std::size_t m = std::min<std::size_t>(4096, n - first);
      for (std::size_t i = 0; i < m; ++i) detail::store_little_endian(buf.data() + i * sizeof(T), data[first + i]);
      out.write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(m * sizeof(T)));
    }
  }
}

}  // namespace

RowWriter::RowWriter(const std::string& path, Format format, bool labels, Index rows, Index cols)
    : file_(std::make_unique<AtomicFile>(path)),
      path_(path),
      format_(format),
      labels_(labels),
      rows_(rows),
      cols_(cols) {
  NEUNCUT_REQUIRE(rows >= 0 && cols >= 0, InvalidArgument, "RowWriter: negative shape ", rows, " x ", cols);
  if (format_ != Format::Npy) return;
  const std::string header = labels_ ? npy_header("<i4", detail::concat('(', rows_, ",)"))
                                     : npy_header("<f4", detail::concat('(', rows_, ", ", cols_, ')'));
  file_->stream().write(header.data(), static_cast<std::streamsize>(header.size()));
}

RowWriter::~RowWriter() = default;
RowWriter::RowWriter(RowWriter&&) noexcept = default;
RowWriter& RowWriter::operator=(RowWriter&&) noexcept = default;

RowWriter::Format RowWriter::format_of(const std::string& path, const char* what) {
  const std::string ext = detail::lower_extension(path);
  if (ext == ".npy") return Format::Npy;
  if (ext == ".csv" || ext == ".txt") return Format::Csv;
  throw InvalidArgument(std::string("cannot write ") + what + " to '" + path + "': unsupported extension '" + ext +
                        "' (use .npy, .csv or .txt)");
}

RowWriter RowWriter::labels(const std::string& path, Index rows) {
  return RowWriter(path, format_of(path, "labels"), true, rows, 1);
}
RowWriter RowWriter::matrix(const std::string& path, Index rows, Index cols) {
  return RowWriter(path, format_of(path, "a matrix"), false, rows, cols);
}
RowWriter RowWriter::npy_labels(const std::string& path, Index rows) {
  return RowWriter(path, Format::Npy, true, rows, 1);
}
RowWriter RowWriter::npy_matrix(const std::string& path, Index rows, Index cols) {
  return RowWriter(path, Format::Npy, false, rows, cols);
}
RowWriter RowWriter::csv_labels(const std::string& path, Index rows) {
  return RowWriter(path, Format::Csv, true, rows, 1);
}
RowWriter RowWriter::csv_matrix(const std::string& path, Index rows, Index cols) {
  return RowWriter(path, Format::Csv, false, rows, cols);
}

void RowWriter::append(std::span<const std::int32_t> labels) {
  NEUNCUT_REQUIRE(labels_, InvalidArgument, "RowWriter: '", path_, "' holds a matrix, not labels");
  NEUNCUT_REQUIRE(Index(labels.size()) <= rows_ - written_, InvalidArgument, "RowWriter: '", path_,
                  "' was declared with ", rows_, " labels; ", written_ + Index(labels.size()), " given");
  std::ofstream& out = file_->stream();
  if (format_ == Format::Npy) {
    write_npy_payload(out, labels.data(), labels.size());
  } else {
    std::string text;
    for (std::int32_t v : labels) {
      text += std::to_string(v);
      text += '\n';
    }
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  written_ += Index(labels.size());
  require_good();
}

void RowWriter::append(const MatrixF& block) {
  NEUNCUT_REQUIRE(!labels_, InvalidArgument, "RowWriter: '", path_, "' holds labels, not a matrix");
  NEUNCUT_REQUIRE(block.cols() == cols_ && block.rows() <= rows_ - written_, InvalidArgument, "RowWriter: '", path_,
                  "' was declared ", rows_, " x ", cols_, "; got ", block.rows(), " x ", block.cols(), " after ",
                  written_, " rows");
  std::ofstream& out = file_->stream();
  if (format_ == Format::Npy) {
    write_npy_payload(out, block.data(), static_cast<std::size_t>(block.size()));
  } else {
    std::string line;
    char buf[32];
    for (Index i = 0; i < block.rows(); ++i) {
      line.clear();
      for (Index j = 0; j < block.cols(); ++j) {
        if (j) line += ',';
        line.append(buf, static_cast<std::size_t>(std::snprintf(buf, sizeof buf, "%.9g", double(block(i, j)))));
      }
      line += '\n';
      out.write(line.data(), static_cast<std::streamsize>(line.size()));
    }
  }
  written_ += block.rows();
  require_good();
}

// A write that failed (a full disk) ends the command at once rather than after its last block.
void RowWriter::require_good() {
  NEUNCUT_REQUIRE(file_->stream().good(), IoError, "write error on '", path_, "' (", std::strerror(errno), ")");
}

void RowWriter::commit() {
  NEUNCUT_REQUIRE(written_ == rows_, InvalidArgument, "RowWriter: '", path_, "' was declared with ", rows_,
                  " rows but ", written_, " were written");
  file_->commit();
}

}  // namespace neuncut
