// Reading data sets and writing results: .npy, numeric CSV, MNIST IDX (plain or .gz), HDF5
// datasets (when built with libhdf5), and the built-in name "fashion-mnist".
//
// Every reader validates before it allocates: sizes in a header are checked against the
// file's length and against overflow, so a truncated or hostile file raises FormatError
// instead of crashing or allocating gigabytes. Every writer is atomic (AtomicFile).
#pragma once

#include <string>

#include "neuncut/core/types.hpp"

namespace neuncut {

/// A feature matrix with optional ground-truth labels.
struct Dataset {
  MatrixF features;         ///< N x d, row-major float32.
  Labels labels;            ///< N ground-truth labels, or empty when none are known.
  std::string name;         ///< Where it came from (spec or path), for messages and summaries.
  std::string image_shape;  ///< "HxW" when each row is an image (IDX image files, 3-D .npy or HDF5, fashion-mnist), else "".
};

/// Options for numeric CSV input.
struct CsvOptions {
  char delimiter = ',';   ///< Field separator.
  int header = -1;        ///< 1: first line is a header, 0: it is not, -1: detect (non-numeric fields).
  int label_column = -1;  ///< Column holding integer labels (removed from the features); -1: none.
};

/// Loads a data set from a spec:
///  - "fashion-mnist": the 70,000 Fashion-MNIST images (train then test) as 784 floats in
///    [0, 1] (pixel / 255) with their labels; needs the Debian package dataset-fashion-mnist.
///  - a path ending in .npy: a 2-D array (float32/float64/uint8/int32/int64, C order, npy
///    format versions 1-3) converted to float32, or a 3-D array of images (n, height, width),
///    one row per image; no labels.
///  - a path ending in .csv or .txt: numeric CSV read with `csv`.
///  - "file.h5:/group/dataset" (also .hdf5, .he5): an HDF5 dataset of any integer or float
///    type, 1-D (N x 1), 2-D or 3-D images (n, height, width), converted to float32; a bare
///    "file.h5" reads the file's only numeric 2-D or 3-D dataset (InvalidArgument listing the
///    datasets otherwise). A build without HDF5 refuses these with IoError.
///  - any other path: an MNIST IDX file (plain or .gz); 3-D image files are flattened per image.
/// Throws IoError when the file cannot be read and FormatError when it is malformed.
/// Empty arrays (0 rows or 0 columns) are returned as they are; the estimators reject them.
Dataset load_dataset(const std::string& spec, const CsvOptions& csv = {});

/// "HxW", the form of Dataset::image_shape.
std::string image_shape_string(Index height, Index width);

/// Loads integer labels from .npy (any integer dtype, or float with integral values), CSV
/// (one column), IDX (1-D, plain or .gz) or an HDF5 dataset ("file.h5:/y", 1-D or N x 1; a bare
/// "file.h5" reads its only such dataset).
Labels load_labels(const std::string& path);

/// Reads a 2-D (or 1-D, as N x 1) .npy array as float32; a 3-D array (n, height, width) is
/// read as n rows of height * width pixels, and `image_shape` (when given) set to "HxW" (to ""
/// for other arrays).
MatrixF read_npy_matrix(const std::string& path, std::string* image_shape = nullptr);
/// Reads a 1-D integer .npy array as labels (values must fit in int32).
Labels read_npy_labels(const std::string& path);
/// Writes a float32 .npy array (format 1.0, C order), atomically.
void write_npy(const std::string& path, const MatrixF& matrix);
/// Writes an int32 1-D .npy array, atomically.
void write_npy(const std::string& path, const Labels& labels);

/// Reads an MNIST IDX file (ubyte/sbyte/short/int/float/double payloads; .gz transparently).
/// A 1-D file becomes N x 1, a k-D file N x (product of the other dimensions). For a 3-D
/// file (images), `image_shape` (when given) is set to "HxW" (to "" otherwise).
MatrixF read_idx_matrix(const std::string& path, std::string* image_shape = nullptr);
/// Reads a 1-D IDX file of integer labels.
Labels read_idx_labels(const std::string& path);

/// Reads numeric CSV; the label column (if any) goes to Dataset::labels. Blank lines are
/// skipped; a header is detected when a field of the first line is non-empty and not a number;
/// a ' ' delimiter means any run of blanks. "nan"/"inf" are read as written (the estimators
/// reject non-finite input later). Ragged rows, empty or non-numeric fields, labels that are
/// not int32 integers and an empty file raise FormatError naming the line (and column).
Dataset read_csv(const std::string& path, const CsvOptions& options = {});
/// Writes a matrix as CSV (%.9g, no header), atomically.
void write_csv(const std::string& path, const MatrixF& matrix);
/// Writes labels as CSV, one per line, atomically.
void write_csv(const std::string& path, const Labels& labels);

/// Writes labels as .npy or .csv/.txt chosen by the path's extension (InvalidArgument otherwise).
void write_labels(const std::string& path, const Labels& labels);
/// Writes a matrix (e.g. soft memberships) as .npy or .csv/.txt by extension.
void write_matrix(const std::string& path, const MatrixF& matrix);

}  // namespace neuncut
