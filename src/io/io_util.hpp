// PRIVATE header: small helpers shared by the file readers and writers (npy, idx, csv, dataset).
#pragma once

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "neuncut/core/error.hpp"

namespace neuncut::detail {

/// The .npy magic string (numpy/lib/format.py), read by npy.cpp and written by row_writer.cpp.
inline constexpr char kNpyMagic[] = "\x93NUMPY";
inline constexpr std::size_t kNpyMagicLen = 6;

/// The path's extension in lower case, with the dot (".npy"), or "" when there is none.
inline std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

/// Throws IoError naming `path` unless it is a regular file (or a link to one). An ifstream
/// opens a directory without complaint and then reports its size as 2^63 - 1; opening a FIFO
/// without a writer blocks forever; a device has no size to check a header against. So
/// inputs are regular files only, checked with stat (which never blocks) before opening.
inline void require_readable_file(const std::string& path, const char* what) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  NEUNCUT_REQUIRE(std::filesystem::exists(status), IoError, "cannot open ", what, " '", path,
                  "': no such file or directory");
  using std::filesystem::file_type;
  const file_type type = status.type();
  NEUNCUT_REQUIRE(type == file_type::regular, IoError, "cannot open ", what, " '", path, "': it is ",
                  type == file_type::directory                               ? "a directory"
                  : type == file_type::fifo                                  ? "a FIFO (named pipe)"
                  : type == file_type::character || type == file_type::block ? "a device"
                  : type == file_type::socket                                ? "a socket"
                                                                             : "not a regular file",
                  "; neuncut reads regular files only");
}

/// Throws FormatError unless `v` (read from a float64 input) fits in float32, the type
/// neuncut computes in: 1e300 is finite but would become Inf. `where` names the position.
template <class... Where>
inline void require_float32_range(double v, const std::string& path, const Where&... where) {
  NEUNCUT_REQUIRE(!std::isfinite(v) || std::abs(v) <= double(std::numeric_limits<float>::max()), FormatError, "'", path,
                  "': value ", v, where..., " is outside the float32 range (largest ",
                  std::numeric_limits<float>::max(), ") that neuncut computes in; rescale the data");
}

/// Reads a T stored in the given byte order from unaligned memory.
template <class T>
T load_bytes(const unsigned char* p, bool big_endian) {
  unsigned char b[sizeof(T)];
  std::memcpy(b, p, sizeof(T));
  if (big_endian != (std::endian::native == std::endian::big)) std::reverse(b, b + sizeof(T));
  T value;
  std::memcpy(&value, b, sizeof(T));
  return value;
}

/// Stores a T little-endian into unaligned memory.
template <class T>
void store_little_endian(unsigned char* p, T value) {
  std::memcpy(p, &value, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) std::reverse(p, p + sizeof(T));
}

/// a * b, or false when it overflows uint64.
inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

/// The row length of an array of shape `dims` read as a matrix (the product of every
/// dimension after the first; 1 for a 1-D array), or false when it overflows or exceeds
/// Eigen's index range. The header's element count does not bound it when the first
/// dimension is 0, so it is checked on its own.
inline bool row_length(const std::vector<std::uint64_t>& dims, std::uint64_t& out) {
  out = 1;
  for (std::size_t d = 1; d < dims.size(); ++d)
    if (!checked_mul(out, dims[d], out)) return false;
  return out <= static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max());
}

/// True when v is an integral value representable as int32 (NaN and Inf are not).
inline bool is_int32_value(double v) {
  return std::isfinite(v) && v == std::floor(v) && v >= std::numeric_limits<std::int32_t>::min() &&
         v <= std::numeric_limits<std::int32_t>::max();
}

}  // namespace neuncut::detail
