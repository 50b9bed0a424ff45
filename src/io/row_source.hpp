// PRIVATE header: the readers that hand out a data file's rows in order, a block at a time,
// converted to float32 (.npy and IDX; row_reader.cpp adds one over rows already in memory).
// read_npy_matrix and RowReader share them, so a file read whole and a file read in blocks
// give the same floats and the same errors.
#pragma once

#include <memory>
#include <string>

#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// Rows of a matrix read front to back.
class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual Index rows() const = 0;
  virtual Index cols() const = 0;
  /// "HxW" when each row is an image, else "".
  virtual std::string image_shape() const = 0;
  /// Converts the next `n` rows into dst (n * cols() floats, row-major). Throws FormatError
  /// for a value the full loader refuses (naming its row and column in the whole file) and
  /// IoError for a read error; the caller never asks beyond rows().
  virtual void read_rows(Index n, float* dst) = 0;
  /// Passes over the next `n` rows without converting them (the caller never asks beyond rows()).
  /// The default reads and drops them a block at a time; a reader that can seek overrides it.
  virtual void skip_rows(Index n);
};

/// A .npy file (the header checked against the file's length at open).
std::unique_ptr<RowSource> open_npy_rows(const std::string& path);
/// An MNIST IDX file, plain or .gz (a gzip file's length is only checked as it is read).
std::unique_ptr<RowSource> open_idx_rows(const std::string& path);

}  // namespace neuncut::detail
