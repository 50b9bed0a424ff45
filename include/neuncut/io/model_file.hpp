// The neuncut model container: one versioned binary format for every trained model
// (NeuNcut, SpectralNet, k-means), written atomically and verified on load.
//
// Layout (all integers little-endian):
//   offset  size  field
//   0       8     magic "NEUNCUT\0"
//   8       4     u32 format version (kModelFormatVersion; a newer one is refused)
//   12      4     u32 method tag (ModelMethod)
//   16      1     u8  sizeof(float) == 4, check byte
//   17      7     reserved, zero
//   24      8     u64 payload size in bytes
//   32      n     payload (method-specific; see each model's save())
//   32+n    4     u32 CRC-32 (zlib) of bytes [8, 32+n): header after magic and payload
// The payload is a sequence of fields written by ByteWriter: fixed-size scalars, strings and
// arrays as u64 length + bytes. Readers check every length against the bytes left before
// allocating, so a truncated or corrupted file fails with FormatError, never a crash.
//
// Version history: 1 - first release; 2 - the preprocessing may hold a feature map (the
// scattering transform of images). Version 1 files still load.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut {

inline constexpr std::uint32_t kModelFormatVersion = 2;

/// Which estimator a model file holds.
enum class ModelMethod : std::uint32_t { NeuNcut = 1, SpectralNet = 2, KMeans = 3 };
NEUNCUT_ENUM_NAMES(ModelMethod, "model method", {ModelMethod::NeuNcut, "neuncut"},
                   {ModelMethod::SpectralNet, "spectralnet"}, {ModelMethod::KMeans, "kmeans"})

/// Appends typed fields to a byte buffer (the payload of a model file).
class ByteWriter {
 public:
  void u32(std::uint32_t v) { raw(&v, 4); }
  void u64(std::uint64_t v) { raw(&v, 8); }
  void i64(std::int64_t v) { raw(&v, 8); }
  void f32(float v) { raw(&v, 4); }
  void f64(double v) { raw(&v, 8); }
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void floats(const float* data, std::size_t n) {
    u64(n);
    raw(data, n * sizeof(float));
  }
  void matrix(const MatrixF& m) {
    i64(m.rows());
    i64(m.cols());
    floats(m.data(), static_cast<std::size_t>(m.size()));
  }
  void vector(const VectorF& v) { floats(v.data(), static_cast<std::size_t>(v.size())); }
  const std::vector<char>& bytes() const { return buf_; }

 private:
  void raw(const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
  }
  std::vector<char> buf_;
};

/// Reads typed fields back, checking every size against what is left (FormatError).
class ByteReader {
 public:
  ByteReader(const std::vector<char>& bytes, std::string what) : buf_(bytes), what_(std::move(what)) {}
  std::uint32_t u32() { return pod<std::uint32_t>(); }
  std::uint64_t u64() { return pod<std::uint64_t>(); }
  std::int64_t i64() { return pod<std::int64_t>(); }
  float f32() { return pod<float>(); }
  double f64() { return pod<double>(); }
  std::string str() {
    const std::uint64_t n = length(1);
    std::string s(buf_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  /// A float array. Every float a model stores (weights, preprocessing means and scales,
  /// centroids) is finite, so NaN or Inf means a file written by something else: refused,
  /// naming `field` and the element, instead of predicting NaN memberships for every row.
  std::vector<float> floats(const char* field) {
    const std::uint64_t n = length(sizeof(float));
    std::vector<float> v(n);
    // An empty vector's data() may be null, and memcpy from or to null is undefined even for 0 bytes.
    if (n > 0) std::memcpy(v.data(), buf_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    for (std::size_t i = 0; i < v.size(); ++i)
      NEUNCUT_REQUIRE(std::isfinite(v[i]), FormatError, what_, ": ", field, " hold a non-finite value (",
                      std::isnan(v[i]) ? "NaN" : "Inf", " at element ", i, ")");
    return v;
  }
  MatrixF matrix(const char* field) {
    const std::int64_t r = i64(), c = i64();
    NEUNCUT_REQUIRE(r >= 0 && c >= 0 && (c == 0 || r <= std::int64_t(remaining() / 4) / c), FormatError, what_,
                    ": corrupted matrix shape ", r, " x ", c);
    std::vector<float> v = floats(field);
    NEUNCUT_REQUIRE(std::int64_t(v.size()) == r * c, FormatError, what_, ": matrix size mismatch");
    return Eigen::Map<MatrixF>(v.data(), r, c);
  }
  VectorF vector(const char* field) {
    std::vector<float> v = floats(field);
    return Eigen::Map<VectorF>(v.data(), Index(v.size()));
  }
  std::size_t remaining() const { return buf_.size() - pos_; }
  /// Throws unless every byte was consumed (trailing garbage means a format mismatch).
  void expect_end() const {
    NEUNCUT_REQUIRE(pos_ == buf_.size(), FormatError, what_, ": ", remaining(), " unexpected trailing bytes");
  }

 private:
  template <class T>
  T pod() {
    NEUNCUT_REQUIRE(remaining() >= sizeof(T), FormatError, what_, ": truncated payload");
    T v;
    std::memcpy(&v, buf_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::uint64_t length(std::size_t element_size) {
    const std::uint64_t n = u64();
    NEUNCUT_REQUIRE(n <= remaining() / element_size, FormatError, what_, ": corrupted length field (", n, " elements, ",
                    remaining(), " bytes left)");
    return n;
  }
  const std::vector<char>& buf_;
  std::string what_;
  std::size_t pos_ = 0;
};

/// Writes a model file atomically: header, payload, checksum.
void write_model_file(const std::string& path, ModelMethod method, const std::vector<char>& payload);

/// A model file's method tag and verified payload.
struct ModelFileContents {
  ModelMethod method;
  std::uint32_t version;
  std::vector<char> payload;
};
/// Reads and verifies a model file: IoError if unreadable; FormatError if it is not a neuncut
/// model, is truncated, fails its checksum, or has a newer format version than this build reads.
ModelFileContents read_model_file(const std::string& path);

}  // namespace neuncut
