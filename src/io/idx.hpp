// PRIVATE header: the raw IDX reader behind read_idx_matrix/read_idx_labels and the
// Fashion-MNIST loader (which converts the uint8 pixels itself, without a float copy).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuncut::detail {

/// An IDX array as stored: its element type code, dimensions and big-endian payload bytes.
struct IdxArray {
  int type = 0;                       ///< 0x08 ubyte, 0x09 sbyte, 0x0B short, 0x0C int, 0x0D float, 0x0E double.
  std::vector<std::uint64_t> dims;    ///< Dimension sizes, outermost first.
  std::vector<unsigned char> data;    ///< product(dims) * element size bytes, big-endian.
  std::size_t element_size() const;   ///< Bytes per element for `type`.
  double value(std::size_t i) const;  ///< Element i converted to double.
};

/// Reads an IDX file, plain or gzip-compressed (detected by the gzip magic bytes).
/// IoError when it cannot be opened, FormatError when it is malformed or truncated.
IdxArray read_idx(const std::string& path);

}  // namespace neuncut::detail
