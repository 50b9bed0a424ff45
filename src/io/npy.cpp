// NumPy .npy files (format versions 1.0, 2.0 and 3.0), as specified in numpy/lib/format.py.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "io/io_util.hpp"
#include "io/row_source.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/row_writer.hpp"

namespace neuncut {

namespace {

// numpy itself refuses headers over 10,000 bytes by default; ours is looser but still
// bounded so that a corrupted length cannot make us allocate gigabytes for the header.
constexpr std::uint64_t kMaxHeaderLen = std::uint64_t(1) << 20;
constexpr std::size_t kChunkBytes = std::size_t(1) << 20;

enum class Dtype { B1, U1, I1, U2, I2, U4, I4, U8, I8, F4, F8 };

struct NpyHeader {
  Dtype dtype = Dtype::F4;
  std::size_t itemsize = 4;
  std::vector<std::uint64_t> shape;
  std::uint64_t count = 1;
};

[[noreturn]] void bad_header(const std::string& path, const std::string& header, const std::string& why) {
  std::string shown = header.size() > 200 ? header.substr(0, 200) + "..." : header;
  throw FormatError("'" + path + "': malformed .npy header (" + why + "): " + shown);
}

// A parser for the Python dict literal numpy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class DictParser {
 public:
  DictParser(const std::string& path, const std::string& text) : path_(path), s_(text) {}

  NpyHeader parse() {
    std::string descr;
    bool have_descr = false, have_order = false, have_shape = false, fortran = false;
    std::vector<std::uint64_t> shape;
    skip_ws();
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() == '[') fail("structured dtypes (a list descr) are not supported");
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = parse_bool();
        have_order = true;
      } else if (key == "shape") {
        shape = parse_shape();
        have_shape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') fail("expected ',' or '}'");
    }
    ++pos_;
    skip_ws();
    if (pos_ != s_.size()) fail("trailing characters after the dict");
    if (!have_descr || !have_order || !have_shape) fail("it needs the keys 'descr', 'fortran_order' and 'shape'");

    NpyHeader h;
    set_dtype(descr, h);
    NEUNCUT_REQUIRE(!fortran || trivially_ordered(shape), FormatError, "'", path_,
                    "' is stored in Fortran order (fortran_order: True); only C-order arrays are supported "
                    "(save np.ascontiguousarray(a) instead)");
    NEUNCUT_REQUIRE(!shape.empty(), FormatError, "'", path_, "' holds a 0-d array (shape ()); expected 1-D or 2-D");
    h.shape = shape;
    for (std::uint64_t d : shape)
      NEUNCUT_REQUIRE(detail::checked_mul(h.count, d, h.count), FormatError, "'", path_,
                      "': the .npy shape overflows (", shape_string(shape), ")");
    return h;
  }

  static std::string shape_string(const std::vector<std::uint64_t>& shape) {
    std::string out = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
    return out + (shape.size() == 1 ? ",)" : ")");
  }

 private:
  // With at most one dimension longer than 1, C and Fortran order lay out the same bytes.
  static bool trivially_ordered(const std::vector<std::uint64_t>& shape) {
    int long_dims = 0;
    for (std::uint64_t d : shape) long_dims += d > 1;
    return long_dims <= 1;
  }

  void set_dtype(const std::string& descr, NpyHeader& h) {
    if (descr.size() < 3) fail("unsupported dtype '" + descr + "'");
    const char order = descr[0];
    const std::string code = descr.substr(1);
    struct Entry {
      const char* code;
      Dtype dtype;
      std::size_t size;
    };
    static constexpr Entry kTypes[] = {{"b1", Dtype::B1, 1}, {"u1", Dtype::U1, 1}, {"i1", Dtype::I1, 1},
                                       {"u2", Dtype::U2, 2}, {"i2", Dtype::I2, 2}, {"u4", Dtype::U4, 4},
                                       {"i4", Dtype::I4, 4}, {"u8", Dtype::U8, 8}, {"i8", Dtype::I8, 8},
                                       {"f4", Dtype::F4, 4}, {"f8", Dtype::F8, 8}};
    for (const Entry& e : kTypes) {
      if (code != e.code) continue;
      NEUNCUT_REQUIRE(order == '<' || order == '|' || order == '=' || order == '>', FormatError, "'", path_,
                      "': unsupported dtype '", descr, "'");
      NEUNCUT_REQUIRE(order != '>' || e.size == 1, FormatError, "'", path_, "': big-endian dtype '", descr,
                      "' is not supported; convert with a.astype(a.dtype.newbyteorder('<'))");
      // '=' means the writer's native order, which the file does not record; numpy itself
      // never writes it, so we read it as little-endian like every common platform.
      h.dtype = e.dtype;
      h.itemsize = e.size;
      return;
    }
    throw FormatError("'" + path_ + "': unsupported .npy dtype '" + descr +
                      "' (supported: bool, uint8/16/32/64, int8/16/32/64, float32, float64)");
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  [[noreturn]] void fail(const std::string& why) const { bad_header(path_, s_, why); }

  std::string parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const std::size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }

  bool parse_bool() {
    if (s_.compare(pos_, 4, "True") == 0) {
      pos_ += 4;
      return true;
    }
    if (s_.compare(pos_, 5, "False") == 0) {
      pos_ += 5;
      return false;
    }
    fail("expected True or False");
  }

  std::vector<std::uint64_t> parse_shape() {
    std::vector<std::uint64_t> shape;
    expect('(');
    while (true) {
      skip_ws();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("shape entries must be non-negative integers");
      std::uint64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (!detail::checked_mul(v, 10, v) || __builtin_add_overflow(v, std::uint64_t(peek() - '0'), &v))
          fail("shape entry too large");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 longs in old files
      shape.push_back(v);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') fail("expected ',' or ')' in shape");
    }
    ++pos_;
    return shape;
  }

  const std::string& path_;
  const std::string& s_;
  std::size_t pos_ = 0;
};

// Opens a .npy file, parses and validates its header against the file length, and leaves
// the stream at the first data byte.
class NpyReader {
 public:
  explicit NpyReader(const std::string& path) : path_(path) {
    detail::require_readable_file(path, ".npy file");
    in_.open(path, std::ios::binary);
    NEUNCUT_REQUIRE(in_.is_open(), IoError, "cannot open .npy file '", path, "': ", std::strerror(errno));
    in_.seekg(0, std::ios::end);
    const std::streamoff file_size = in_.tellg();
    NEUNCUT_REQUIRE(file_size >= 0, IoError, "cannot read '", path, "'");
    in_.seekg(0);

    unsigned char pre[12] = {};
    const std::size_t got = read_some(pre, 10);
    NEUNCUT_REQUIRE(got >= detail::kNpyMagicLen && std::memcmp(pre, detail::kNpyMagic, detail::kNpyMagicLen) == 0,
                    FormatError, "'", path, "' is not a .npy file (bad magic string)");
    NEUNCUT_REQUIRE(got == 10, FormatError, "'", path, "': truncated .npy header");
    const int major = pre[6], minor = pre[7];
    NEUNCUT_REQUIRE((major == 1 || major == 2 || major == 3) && minor == 0, FormatError, "'", path,
                    "': unsupported .npy format version ", major, ".", minor, " (supported: 1.0, 2.0, 3.0)");
    std::uint64_t header_len = 0, prefix = 10;
    if (major == 1) {
      header_len = detail::load_bytes<std::uint16_t>(pre + 8, false);
    } else {
      NEUNCUT_REQUIRE(read_some(pre + 10, 2) == 2, FormatError, "'", path, "': truncated .npy header");
      header_len = detail::load_bytes<std::uint32_t>(pre + 8, false);
      prefix = 12;
    }
    const std::uint64_t size = static_cast<std::uint64_t>(file_size);
    NEUNCUT_REQUIRE(header_len <= kMaxHeaderLen && prefix + header_len <= size, FormatError, "'", path,
                    "': truncated .npy header (header length ", header_len, ", file size ", size, ")");
    std::string text(header_len, '\0');
    NEUNCUT_REQUIRE(read_some(text.data(), header_len) == header_len, FormatError, "'", path,
                    "': truncated .npy header");
    header_ = DictParser(path, text).parse();

    std::uint64_t bytes = 0;
    NEUNCUT_REQUIRE(detail::checked_mul(header_.count, header_.itemsize, bytes), FormatError, "'", path,
                    "': the .npy shape ", DictParser::shape_string(header_.shape), " overflows");
    const std::uint64_t available = size - prefix - header_len;
    NEUNCUT_REQUIRE(bytes <= available, FormatError, "'", path, "': truncated .npy data: shape ",
                    DictParser::shape_string(header_.shape), " needs ", bytes, " bytes but the file has ", available);
    NEUNCUT_REQUIRE(bytes == available, FormatError, "'", path, "': ", available - bytes,
                    " unexpected bytes after the .npy data for shape ", DictParser::shape_string(header_.shape));
  }

  const NpyHeader& header() const { return header_; }

  // Decodes the next `count` elements as T (in file order) and hands them to
  // sink(index_in_file, values, n), at most kChunkBytes of the file at a time.
  template <class T, class Sink>
  void read_next(std::uint64_t count, Sink&& sink) {
    const std::size_t per_chunk = kChunkBytes / header_.itemsize;
    raw_.resize(static_cast<std::size_t>(std::min<std::uint64_t>(per_chunk, count)) * header_.itemsize);
    std::vector<T> values(raw_.size() / header_.itemsize);
    for (const std::uint64_t end = next_ + count; next_ < end;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(per_chunk, end - next_));
      NEUNCUT_REQUIRE(read_some(raw_.data(), n * header_.itemsize) == n * header_.itemsize, IoError, "read error on '",
                      path_, "'");
      convert(raw_.data(), n, values.data());
      sink(next_, values.data(), n);
      next_ += n;
    }
  }
  // Moves past the next `count` elements without reading them.
  void skip(std::uint64_t count) {
    in_.seekg(static_cast<std::streamoff>(count * header_.itemsize), std::ios::cur);
    NEUNCUT_REQUIRE(in_.good(), IoError, "seek error on '", path_, "'");
    next_ += count;
  }
  template <class T, class Sink>
  void read_all(Sink&& sink) {
    read_next<T>(header_.count, sink);
  }

 private:
  std::size_t read_some(void* dst, std::size_t n) {
    in_.read(static_cast<char*>(dst), static_cast<std::streamsize>(n));
    return static_cast<std::size_t>(in_.gcount());
  }

  template <class T>
  void convert(const unsigned char* src, std::size_t n, T* dst) const {
    auto run = [&]<class S>(S) {
      for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<T>(detail::load_bytes<S>(src + i * sizeof(S), false));
    };
    switch (header_.dtype) {
      case Dtype::B1:
        for (std::size_t i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i] != 0);
        break;
      case Dtype::U1:
        run(std::uint8_t{});
        break;
      case Dtype::I1:
        run(std::int8_t{});
        break;
      case Dtype::U2:
        run(std::uint16_t{});
        break;
      case Dtype::I2:
        run(std::int16_t{});
        break;
      case Dtype::U4:
        run(std::uint32_t{});
        break;
      case Dtype::I4:
        run(std::int32_t{});
        break;
      case Dtype::U8:
        run(std::uint64_t{});
        break;
      case Dtype::I8:
        run(std::int64_t{});
        break;
      case Dtype::F4:
        run(float{});
        break;
      case Dtype::F8:
        run(double{});
        break;
    }
  }

  std::string path_;
  std::ifstream in_;
  NpyHeader header_;
  std::uint64_t next_ = 0;          // elements read so far
  std::vector<unsigned char> raw_;  // the file's bytes, one piece at a time
};

bool is_integer_dtype(Dtype d) { return d != Dtype::F4 && d != Dtype::F8; }

// A 2-D (or 1-D, as N x 1) array, or a 3-D array of images (n, height, width) read as n rows
// of height * width pixels, handed out a block of rows at a time as float32.
class NpyRows final : public detail::RowSource {
 public:
  explicit NpyRows(const std::string& path) : path_(path), reader_(path) {
    const NpyHeader& h = reader_.header();
    NEUNCUT_REQUIRE(h.shape.size() <= 3, FormatError, "'", path,
                    "': expected a 1-D, 2-D or 3-D (images) array, got shape ", DictParser::shape_string(h.shape),
                    " (reshape it to (n_samples, n_features))");
    // With a zero dimension the element count is 0 whatever the others claim, so the row
    // length is checked on its own.
    const std::uint64_t rows = h.shape[0];
    std::uint64_t cols = 0;
    constexpr std::uint64_t kMaxDim = std::numeric_limits<Index>::max();
    NEUNCUT_REQUIRE(rows <= kMaxDim && detail::row_length(h.shape, cols), FormatError, "'", path, "': .npy shape ",
                    DictParser::shape_string(h.shape), " is out of range");
    rows_ = static_cast<Index>(rows);
    cols_ = static_cast<Index>(cols);
    if (h.shape.size() == 3 && cols > 0) image_shape_ = image_shape_string(Index(h.shape[1]), Index(h.shape[2]));
  }
  Index rows() const override { return rows_; }
  Index cols() const override { return cols_; }
  std::string image_shape() const override { return image_shape_; }

  void skip_rows(Index n) override {
    reader_.skip(std::uint64_t(n) * std::uint64_t(cols_));
    next_row_ += n;
  }
  void read_rows(Index n, float* dst) override {
    const std::uint64_t count = std::uint64_t(n) * std::uint64_t(cols_);
    const std::uint64_t cols = std::uint64_t(cols_), first_in_block = std::uint64_t(next_row_) * cols;
    next_row_ += n;
    if (reader_.header().dtype == Dtype::F8) {
      reader_.read_next<double>(count, [&](std::uint64_t first, const double* v, std::size_t m) {
        for (std::size_t i = 0; i < m; ++i) {
          detail::require_float32_range(v[i], path_, " at row ", (first + i) / cols, ", column ", (first + i) % cols);
          dst[first - first_in_block + i] = static_cast<float>(v[i]);
        }
      });
      return;
    }
    reader_.read_next<float>(count, [&](std::uint64_t first, const float* v, std::size_t m) {
      std::copy(v, v + m, dst + (first - first_in_block));
    });
  }

 private:
  std::string path_;
  NpyReader reader_;
  Index rows_ = 0, cols_ = 0, next_row_ = 0;
  std::string image_shape_;
};

}  // namespace

std::unique_ptr<detail::RowSource> detail::open_npy_rows(const std::string& path) {
  return std::make_unique<NpyRows>(path);
}

MatrixF read_npy_matrix(const std::string& path, std::string* image_shape) {
  NpyRows reader(path);
  if (image_shape) *image_shape = reader.image_shape();
  MatrixF out(reader.rows(), reader.cols());
  reader.read_rows(reader.rows(), out.data());
  return out;
}

Labels read_npy_labels(const std::string& path) {
  NpyReader reader(path);
  const NpyHeader& h = reader.header();
  const bool column = h.shape.size() == 2 && h.shape[1] == 1;
  NEUNCUT_REQUIRE(h.shape.size() == 1 || column, FormatError, "'", path, "': labels must be a 1-D array, got shape ",
                  DictParser::shape_string(h.shape));
  Labels out(static_cast<std::size_t>(h.count));
  if (is_integer_dtype(h.dtype)) {
    // Through int64 rather than double so that huge uint64/int64 values are not rounded into range.
    reader.read_all<std::int64_t>([&](std::uint64_t first, const std::int64_t* v, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        NEUNCUT_REQUIRE(v[i] >= std::numeric_limits<std::int32_t>::min() &&
                            v[i] <= std::numeric_limits<std::int32_t>::max() && (h.dtype != Dtype::U8 || v[i] >= 0),
                        FormatError, "'", path, "': label ", first + i, " does not fit in int32");
        out[first + i] = static_cast<std::int32_t>(v[i]);
      }
    });
  } else {
    reader.read_all<double>([&](std::uint64_t first, const double* v, std::size_t n) {
      for (std::size_t i = 0; i < n; ++i) {
        NEUNCUT_REQUIRE(detail::is_int32_value(v[i]), FormatError, "'", path, "': label ", first + i, " is ", v[i],
                        "; float labels must be integral values that fit in int32");
        out[first + i] = static_cast<std::int32_t>(v[i]);
      }
    });
  }
  return out;
}

void write_npy(const std::string& path, const MatrixF& matrix) {
  RowWriter file = RowWriter::npy_matrix(path, matrix.rows(), matrix.cols());
  file.append(matrix);
  file.commit();
}

void write_npy(const std::string& path, const Labels& labels) {
  RowWriter file = RowWriter::npy_labels(path, Index(labels.size()));
  file.append(labels);
  file.commit();
}

}  // namespace neuncut
