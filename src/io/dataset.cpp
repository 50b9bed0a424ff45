// Loading data sets by spec, and writing results by extension.
#include "neuncut/io/dataset.hpp"

#include <filesystem>
#include <memory>
#include <string>

#include "core/resources_internal.hpp"
#include "io/fashion_mnist.hpp"
#include "io/hdf5.hpp"
#include "io/idx.hpp"
#include "io/io_util.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/row_writer.hpp"

namespace neuncut {

namespace {

Dataset load_fashion_mnist() {
  const std::filesystem::path dir(kFashionMnistDir);
  const char* parts[2] = {"train", "t10k"};
  for (const char* part : parts)
    for (const char* kind : {"-images-idx3-ubyte.gz", "-labels-idx1-ubyte.gz"}) {
      const std::filesystem::path file = dir / (std::string(part) + kind);
      NEUNCUT_REQUIRE(std::filesystem::exists(file), IoError, "Fashion-MNIST file '", file.string(),
                      "' not found; install the Debian package: apt-get install dataset-fashion-mnist");
    }

  detail::IdxArray images[2], labels[2];
  for (int s = 0; s < 2; ++s) {
    images[s] = detail::read_idx((dir / (std::string(parts[s]) + "-images-idx3-ubyte.gz")).string());
    labels[s] = detail::read_idx((dir / (std::string(parts[s]) + "-labels-idx1-ubyte.gz")).string());
    const auto& im = images[s].dims;
    const auto& lb = labels[s].dims;
    NEUNCUT_REQUIRE(images[s].type == 0x08 && im.size() == 3 && im[1] == 28 && im[2] == 28, FormatError,
                    "Fashion-MNIST ", parts[s], " images are not N x 28 x 28 uint8");
    NEUNCUT_REQUIRE(labels[s].type == 0x08 && lb.size() == 1 && lb[0] == im[0], FormatError, "Fashion-MNIST ", parts[s],
                    " labels do not match the images (", lb.empty() ? 0 : lb[0], " vs ", im[0], ")");
  }

  Dataset out;
  out.name = "fashion-mnist";
  out.image_shape = "28x28";
  const Index n = static_cast<Index>(images[0].dims[0] + images[1].dims[0]);
  out.features.resize(n, 784);
  out.labels.reserve(static_cast<std::size_t>(n));
  float* dst = out.features.data();
  // Straight from the uint8 payload, so the float matrix is the only large allocation.
  for (int s = 0; s < 2; ++s) {
    for (unsigned char px : images[s].data) *dst++ = static_cast<float>(px) / 255.0f;
    for (unsigned char label : labels[s].data) {
      NEUNCUT_REQUIRE(label <= 9, FormatError, "Fashion-MNIST label ", int(label), " is outside 0..9");
      out.labels.push_back(label);
    }
  }
  return out;
}

bool is_csv_extension(const std::string& ext) { return ext == ".csv" || ext == ".txt"; }

}  // namespace

std::string image_shape_string(Index height, Index width) {
  return std::to_string(height) + "x" + std::to_string(width);
}

Dataset load_dataset(const std::string& spec, const CsvOptions& csv) {
  if (spec == "fashion-mnist") return load_fashion_mnist();
  NEUNCUT_REQUIRE(!spec.empty(), InvalidArgument, "data set spec is empty; give a file path or 'fashion-mnist'");
  detail::Hdf5Spec h5;
  if (detail::parse_hdf5_spec(spec, &h5)) {
    detail::require_readable_file(h5.file, "HDF5 file");
    const std::unique_ptr<detail::RowSource> rows = detail::open_hdf5_rows(h5);
    // A chunked dataset may declare any shape with no data stored (unwritten chunks read as the
    // fill value), so unlike a .npy file its shape cannot be checked against the file's length:
    // a shape beyond this machine's memory is refused before it is allocated.
    require_memory("reading '" + spec + "' whole",
                   {{detail::concat("its ", rows->rows(), " x ", rows->cols(), " values as float32"),
                     4.0 * double(rows->rows()) * double(rows->cols())}},
                   "predict and features stream it, and fit --train-size reads only the rows it samples");
    Dataset out;
    out.name = spec;
    out.image_shape = rows->image_shape();
    out.features.resize(rows->rows(), rows->cols());
    rows->read_rows(rows->rows(), out.features.data());
    return out;
  }
  detail::require_readable_file(spec, "data file");
  const std::string ext = detail::lower_extension(spec);
  if (is_csv_extension(ext)) return read_csv(spec, csv);
  Dataset out;
  out.name = spec;
  out.features = ext == ".npy" ? read_npy_matrix(spec, &out.image_shape) : read_idx_matrix(spec, &out.image_shape);
  return out;
}

Labels load_labels(const std::string& path) {
  detail::Hdf5Spec h5;
  if (detail::parse_hdf5_spec(path, &h5)) {
    detail::require_readable_file(h5.file, "HDF5 labels file");
    return detail::read_hdf5_labels(h5);
  }
  detail::require_readable_file(path, "labels file");
  const std::string ext = detail::lower_extension(path);
  if (ext == ".npy") return read_npy_labels(path);
  if (is_csv_extension(ext)) {
    CsvOptions options;
    options.label_column = 0;
    Dataset d = read_csv(path, options);
    NEUNCUT_REQUIRE(d.features.cols() == 0, FormatError, "'", path, "': a labels file must have one column, found ",
                    d.features.cols() + 1);
    return std::move(d.labels);
  }
  return read_idx_labels(path);
}

void write_labels(const std::string& path, const Labels& labels) {
  RowWriter file = RowWriter::labels(path, Index(labels.size()));
  file.append(labels);
  file.commit();
}

void write_matrix(const std::string& path, const MatrixF& matrix) {
  RowWriter file = RowWriter::matrix(path, matrix.rows(), matrix.cols());
  file.append(matrix);
  file.commit();
}

}  // namespace neuncut
