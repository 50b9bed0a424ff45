// Writing labels or a matrix a block of rows at a time, for outputs whose rows are computed
// in blocks (neuncut predict streams its input): the rows go straight into an AtomicFile, so
// memory holds one block, and the file appears complete or not at all, as every writer's
// output does (atomic_file.hpp; inside an AtomicFileSet, together with the set).
//
// The format follows the extension as write_labels/write_matrix choose it: .npy (labels int32
// 1-D, matrices float32 2-D; the header's shape is written first, so the number of rows is
// given up front) or .csv/.txt (%.9g, one row a line). write_npy and write_csv are this
// writer given every row at once, so a file written in blocks has the same bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "neuncut/core/types.hpp"

namespace neuncut {

class AtomicFile;

class RowWriter {
 public:
  /// A writer of `rows` labels (int32) to `path`: .npy, .csv or .txt (InvalidArgument otherwise).
  static RowWriter labels(const std::string& path, Index rows);
  /// A writer of a `rows` x `cols` float32 matrix to `path`: .npy, .csv or .txt.
  static RowWriter matrix(const std::string& path, Index rows, Index cols);
  /// The same, choosing .npy or CSV explicitly whatever the extension (write_npy, write_csv).
  static RowWriter npy_labels(const std::string& path, Index rows);
  static RowWriter npy_matrix(const std::string& path, Index rows, Index cols);
  static RowWriter csv_labels(const std::string& path, Index rows);
  static RowWriter csv_matrix(const std::string& path, Index rows, Index cols);
  ~RowWriter();
  RowWriter(RowWriter&&) noexcept;
  RowWriter& operator=(RowWriter&&) noexcept;

  /// Appends the next labels (a labels writer) or rows (a matrix writer, block.cols() == cols).
  /// InvalidArgument beyond the rows declared, or for the wrong kind or width; IoError when
  /// the write fails (a full disk).
  void append(std::span<const std::int32_t> labels);
  void append(const MatrixF& block);
  /// Rows appended so far.
  Index written() const { return written_; }
  /// Completes the file (AtomicFile::commit); InvalidArgument unless every declared row was
  /// appended. A writer destroyed without commit() leaves nothing behind.
  void commit();

 private:
  enum class Format { Npy, Csv };
  RowWriter(const std::string& path, Format format, bool labels, Index rows, Index cols);
  static Format format_of(const std::string& path, const char* what);
  void require_good();

  std::unique_ptr<AtomicFile> file_;
  std::string path_;
  Format format_ = Format::Npy;
  bool labels_ = true;
  Index rows_ = 0, cols_ = 1, written_ = 0;
};

}  // namespace neuncut
