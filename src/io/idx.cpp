// MNIST IDX files: magic 0x00 0x00 <type> <ndims>, ndims big-endian uint32 sizes, then the
// big-endian payload. Gzip-compressed files (magic 1f 8b) are read through zlib.
#include "io/idx.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

#include "io/io_util.hpp"
#include "io/row_source.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"

namespace neuncut {

namespace detail {

namespace {

constexpr std::size_t kChunk = std::size_t(1) << 20;

// A plain or gzip file read sequentially; which one is decided by the first two bytes, not
// the name, so a renamed file still works.
class ByteSource {
 public:
  explicit ByteSource(const std::string& path) : path_(path) {
    require_readable_file(path, "IDX file");
    file_ = std::fopen(path.c_str(), "rb");
    NEUNCUT_REQUIRE(file_ != nullptr, IoError, "cannot open IDX file '", path, "': ", std::strerror(errno));
    unsigned char magic[2] = {};
    const std::size_t got = std::fread(magic, 1, 2, file_);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
      std::fclose(file_);
      file_ = nullptr;
      gz_ = gzopen(path.c_str(), "rb");
      NEUNCUT_REQUIRE(gz_ != nullptr, IoError, "cannot open gzip file '", path, "': ", std::strerror(errno));
      gzbuffer(gz_, 1 << 17);
    } else {
      std::rewind(file_);
      if (std::fseek(file_, 0, SEEK_END) == 0) {
        const long size = std::ftell(file_);
        if (size >= 0) plain_size_ = static_cast<std::uint64_t>(size);
      }
      std::rewind(file_);
    }
  }
  ~ByteSource() {
    if (file_) std::fclose(file_);
    if (gz_) gzclose(gz_);
  }
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  /// Size of a plain file, or UINT64_MAX when unknown (gzip).
  std::uint64_t plain_size() const { return plain_size_; }

  /// Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(void* dst, std::size_t n) {
    if (file_) {
      const std::size_t got = std::fread(dst, 1, n, file_);
      NEUNCUT_REQUIRE(got == n || !std::ferror(file_), IoError, "read error on '", path_, "'");
      return got;
    }
    std::size_t total = 0;
    auto* out = static_cast<unsigned char*>(dst);
    while (total < n) {
      const unsigned want = static_cast<unsigned>(std::min<std::size_t>(n - total, kChunk));
      const int got = gzread(gz_, out + total, want);
      if (got < 0) {
        int code = 0;
        const char* msg = gzerror(gz_, &code);
        throw FormatError("'" + path_ + "': corrupt gzip data (" + (msg ? msg : "unknown error") + ")");
      }
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    if (total < n) {
      // A stream cut short mid-member reports Z_BUF_ERROR rather than a negative count.
      int code = 0;
      const char* msg = gzerror(gz_, &code);
      NEUNCUT_REQUIRE(code == Z_OK, FormatError, "'", path_, "': truncated or corrupt gzip data (", msg ? msg : "",
                      ")");
    }
    return total;
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  gzFile gz_ = nullptr;
  std::uint64_t plain_size_ = UINT64_MAX;
};

template <class F>
void dispatch_type(int type, F&& f) {
  switch (type) {
    case 0x08:
      f(std::uint8_t{});
      break;
    case 0x09:
      f(std::int8_t{});
      break;
    case 0x0B:
      f(std::int16_t{});
      break;
    case 0x0C:
      f(std::int32_t{});
      break;
    case 0x0D:
      f(float{});
      break;
    case 0x0E:
      f(double{});
      break;
    default:
      break;  // type codes are validated when the header is read
  }
}

std::size_t size_of_type(int type) {
  switch (type) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    case 0x0E:
      return 8;
    default:
      return 0;
  }
}

std::string dims_string(const std::vector<std::uint64_t>& dims) {
  std::string out;
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? " x " : "") + std::to_string(dims[i]);
  return out;
}

}  // namespace

std::size_t IdxArray::element_size() const { return size_of_type(type); }

double IdxArray::value(std::size_t i) const {
  double out = 0;
  dispatch_type(type, [&]<class S>(S) { out = static_cast<double>(load_bytes<S>(data.data() + i * sizeof(S), true)); });
  return out;
}

namespace {

// Reads and checks the magic number and dimensions; returns the payload's byte count and
// leaves `src` at its first byte. A plain file's length is checked against it here; a gzip
// file's only as it is read.
std::uint64_t read_idx_header(ByteSource& src, const std::string& path, IdxArray& out) {
  unsigned char magic[4] = {};
  NEUNCUT_REQUIRE(src.read(magic, 4) == 4 && magic[0] == 0 && magic[1] == 0 && size_of_type(magic[2]) != 0, FormatError,
                  "'", path,
                  "' is not an IDX file (bad magic number; expected 00 00 <type 08/09/0B/0C/0D/0E> <ndims>)");
  out.type = magic[2];
  const int ndims = magic[3];
  NEUNCUT_REQUIRE(ndims >= 1, FormatError, "'", path, "': IDX file with 0 dimensions");
  std::vector<unsigned char> raw(4 * static_cast<std::size_t>(ndims));
  NEUNCUT_REQUIRE(src.read(raw.data(), raw.size()) == raw.size(), FormatError, "'", path, "': truncated IDX header");
  std::uint64_t count = 1;
  for (int d = 0; d < ndims; ++d) {
    out.dims.push_back(load_bytes<std::uint32_t>(raw.data() + 4 * d, true));
    NEUNCUT_REQUIRE(checked_mul(count, out.dims.back(), count), FormatError, "'", path, "': IDX dimensions ",
                    dims_string(out.dims), " overflow");
  }
  std::uint64_t bytes = 0;
  NEUNCUT_REQUIRE(checked_mul(count, out.element_size(), bytes), FormatError, "'", path, "': IDX dimensions ",
                  dims_string(out.dims), " overflow");
  const std::uint64_t header = 4 + raw.size();
  if (src.plain_size() != UINT64_MAX) {
    const std::uint64_t available = src.plain_size() - header;
    NEUNCUT_REQUIRE(bytes <= available, FormatError, "'", path, "': truncated IDX data: dimensions ",
                    dims_string(out.dims), " need ", bytes, " bytes but the file has ", available);
  }
  return bytes;
}

// Reads `want` payload bytes into dst; `have` counts the payload bytes read before them.
void read_idx_payload(ByteSource& src, const std::string& path, const IdxArray& a, std::uint64_t bytes,
                      std::size_t have, unsigned char* dst, std::size_t want) {
  const std::size_t got = src.read(dst, want);
  NEUNCUT_REQUIRE(got == want, FormatError, "'", path, "': truncated IDX data: dimensions ", dims_string(a.dims),
                  " need ", bytes, " bytes but only ", have + got, " follow the header");
}

void require_idx_end(ByteSource& src, const std::string& path, const IdxArray& a) {
  unsigned char extra;
  NEUNCUT_REQUIRE(src.read(&extra, 1) == 0, FormatError, "'", path,
                  "': unexpected bytes after the IDX data for dimensions ", dims_string(a.dims));
}

// Elements [first, first + n) of the payload `src` (big-endian, of IDX type `type`) as
// float32; a float64 beyond float32's range is refused naming its index in the file.
void convert_idx(int type, const unsigned char* src, std::size_t n, std::uint64_t first, const std::string& path,
                 float* dst) {
  dispatch_type(type, [&]<class S>(S) {
    for (std::size_t i = 0; i < n; ++i) {
      const S v = load_bytes<S>(src + i * sizeof(S), true);
      if constexpr (std::is_same_v<S, double>) require_float32_range(v, path, " at element ", first + i);
      dst[i] = static_cast<float>(v);
    }
  });
}

std::string idx_image_shape(const IdxArray& a) {
  return a.dims.size() == 3 && a.dims[1] * a.dims[2] > 0 ? image_shape_string(Index(a.dims[1]), Index(a.dims[2])) : "";
}

Index idx_row_length(const IdxArray& a, const std::string& path) {
  // With a first dimension of 0 the element count is 0 whatever the others claim.
  std::uint64_t cols = 0;
  NEUNCUT_REQUIRE(row_length(a.dims, cols), FormatError, "'", path, "': IDX dimensions ", dims_string(a.dims),
                  " are out of range");
  return static_cast<Index>(cols);
}

// An IDX file read a block of rows at a time (rows: the first dimension).
class IdxRows final : public RowSource {
 public:
  explicit IdxRows(const std::string& path) : path_(path), src_(path) {
    bytes_ = read_idx_header(src_, path, header_);
    cols_ = idx_row_length(header_, path);
    NEUNCUT_REQUIRE(header_.dims[0] <= std::uint64_t(std::numeric_limits<Index>::max()), FormatError, "'", path,
                    "': IDX dimensions ", dims_string(header_.dims), " are out of range");
    if (bytes_ == 0) require_idx_end(src_, path_, header_);
  }
  Index rows() const override { return static_cast<Index>(header_.dims[0]); }
  Index cols() const override { return cols_; }
  std::string image_shape() const override { return idx_image_shape(header_); }

  void read_rows(Index n, float* dst) override {
    const std::size_t size = header_.element_size();
    std::uint64_t left = std::uint64_t(n) * std::uint64_t(cols_);
    while (left > 0) {
      const std::size_t m = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk / size, left));
      raw_.resize(m * size);
      read_idx_payload(src_, path_, header_, bytes_, static_cast<std::size_t>(next_ * size), raw_.data(), raw_.size());
      convert_idx(header_.type, raw_.data(), m, next_, path_, dst);
      next_ += m;
      dst += m;
      left -= m;
    }
    if (n > 0 && next_ * size == bytes_) require_idx_end(src_, path_, header_);
  }

 private:
  std::string path_;
  ByteSource src_;
  IdxArray header_;                     // type and dims; no data
  std::uint64_t bytes_ = 0, next_ = 0;  // payload bytes, elements read
  Index cols_ = 0;
  std::vector<unsigned char> raw_;
};

}  // namespace

IdxArray read_idx(const std::string& path) {
  ByteSource src(path);
  IdxArray out;
  const std::uint64_t bytes = read_idx_header(src, path, out);
  // Grow with the data actually read, so that a gzip file claiming huge dimensions fails on
  // its real length instead of allocating what its header claims.
  std::size_t have = 0;
  while (have < bytes) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, bytes - have));
    out.data.resize(have + want);
    read_idx_payload(src, path, out, bytes, have, out.data.data() + have, want);
    have += want;
  }
  require_idx_end(src, path, out);
  return out;
}

std::unique_ptr<RowSource> open_idx_rows(const std::string& path) { return std::make_unique<IdxRows>(path); }

}  // namespace detail

MatrixF read_idx_matrix(const std::string& path, std::string* image_shape) {
  // Read whole, not through IdxRows: the matrix is allocated after the payload was read, so a
  // gzip file claiming huge dimensions fails on its real length (see read_idx).
  const detail::IdxArray a = detail::read_idx(path);
  if (image_shape) *image_shape = detail::idx_image_shape(a);
  MatrixF out(static_cast<Index>(a.dims[0]), detail::idx_row_length(a, path));
  detail::convert_idx(a.type, a.data.data(), a.data.size() / a.element_size(), 0, path, out.data());
  return out;
}

Labels read_idx_labels(const std::string& path) {
  const detail::IdxArray a = detail::read_idx(path);
  NEUNCUT_REQUIRE(a.dims.size() == 1 || (a.dims.size() == 2 && a.dims[1] == 1), FormatError, "'", path,
                  "': labels must be a 1-D IDX array, got dimensions ", detail::dims_string(a.dims));
  Labels out(static_cast<std::size_t>(a.dims[0]));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double v = a.value(i);
    NEUNCUT_REQUIRE(detail::is_int32_value(v), FormatError, "'", path, "': label ", i, " is ", v,
                    "; labels must be integral values that fit in int32");
    out[i] = static_cast<std::int32_t>(v);
  }
  return out;
}

}  // namespace neuncut
