// Reading a data set a block of rows at a time, so that labelling a file needs memory for
// one block rather than the whole file (neuncut predict; docs/data.md "Labelling a file
// larger than memory").
//
// .npy (C order, every dtype load_dataset reads, 2-D or 3-D images), MNIST IDX files
// (plain or .gz) and HDF5 datasets ("file.h5:/x", read a hyperslab of rows at a time) are
// streamed: the header is read and checked at open, each block is read
// from the file when asked for, converted to float32 and checked exactly as load_dataset
// does (the same values, the same messages naming the row and column in the whole file).
// CSV files and "fashion-mnist" are read whole at open (a CSV file's row count is only known
// at its end) and handed out in blocks from memory; streams() says which.
#pragma once

#include <memory>
#include <string>

#include "neuncut/core/types.hpp"
#include "neuncut/io/dataset.hpp"

namespace neuncut {

namespace detail {
class RowSource;
}

class RowReader {
 public:
  /// Opens a data set by the spec load_dataset takes (same formats, same IoError and
  /// FormatError for a missing file or a bad header). Reads no rows of a streamed file.
  explicit RowReader(const std::string& spec, const CsvOptions& csv = {});
  ~RowReader();
  RowReader(RowReader&&) noexcept;
  RowReader& operator=(RowReader&&) noexcept;

  /// Rows and values per row of the whole data set, known from the header.
  Index rows() const;
  Index cols() const;
  /// The spec it was opened with, and "HxW" when each row is an image (as Dataset).
  const std::string& name() const { return name_; }
  const std::string& image_shape() const { return image_shape_; }
  /// Labels that came with the data (CSV --label-column, fashion-mnist); empty otherwise.
  const Labels& labels() const { return labels_; }
  /// True when blocks are read from the file as they are asked for; false when the data was
  /// read whole at open (CSV, fashion-mnist).
  bool streams() const { return streams_; }
  /// What streams() will say for a reader of `spec`, without opening it.
  static bool streams(const std::string& spec);

  /// Rows handed out so far: the index in the whole data set of the next block's first row.
  Index next_row() const { return next_row_; }
  bool done() const { return next_row_ == rows(); }
  /// The next min(max_rows, rows() - next_row()) rows (max_rows >= 1) as float32; 0 rows once
  /// done(). FormatError for a value the full loader refuses (float64 beyond float32's
  /// range, a truncated gzip stream), naming its place in the whole file.
  MatrixF read(Index max_rows);
  /// Moves past the next `rows` rows (0 <= rows <= rows() - next_row(); InvalidArgument otherwise)
  /// without converting or checking them: a reader of one slice of the file (an MPI rank's
  /// rows) starts at its first row. .npy files seek; the other formats read and drop the rows.
  void skip(Index rows);

 private:
  std::unique_ptr<detail::RowSource> source_;
  std::string name_, image_shape_;
  Labels labels_;
  bool streams_ = true;
  Index next_row_ = 0;
};

}  // namespace neuncut
