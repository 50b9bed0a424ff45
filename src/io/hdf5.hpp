// PRIVATE header: HDF5 datasets as input ("file.h5:/group/dataset"), read whole or a block
// of rows at a time. hdf5.cpp implements it over Debian's libhdf5 (libhdf5-dev); a build
// without HDF5 compiles hdf5_missing.cpp instead, whose functions refuse with the reason.
#pragma once

#include <memory>
#include <string>

#include "io/io_util.hpp"
#include "io/row_source.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut::detail {

/// A data set inside an HDF5 file.
struct Hdf5Spec {
  std::string file;     ///< The file's path.
  std::string dataset;  ///< The dataset's path inside it ("/x"); "" picks the file's only fitting dataset.
};

/// True (and `out` filled) when `spec` names an HDF5 file: a path ending in .h5, .hdf5 or .he5
/// (any case), alone or followed by ":" and a dataset path ("data/big.h5:/train/x"). The
/// colon is looked for right after the extension, so a path holding colons elsewhere is
/// still read whole as a file name.
inline bool parse_hdf5_spec(const std::string& spec, Hdf5Spec* out) {
  std::string lower = spec;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* ext : {".h5", ".hdf5", ".he5"}) {
    const std::string e(ext);
    const std::size_t at = lower.find(e + ":");
    if (at != std::string::npos) {
      out->file = spec.substr(0, at + e.size());
      out->dataset = spec.substr(at + e.size() + 1);
      return true;
    }
  }
  const std::string ext = lower_extension(spec);
  if (ext != ".h5" && ext != ".hdf5" && ext != ".he5") return false;
  out->file = spec;
  out->dataset.clear();
  return true;
}

/// True when this neuncut was built with HDF5.
bool hdf5_available();

/// A 1-D (N x 1), 2-D (N x d) or 3-D (N images of H x W, image_shape "HxW") dataset of any
/// integer or float type, as float32 rows; with no dataset named, the file's only 2-D or 3-D
/// dataset. IoError/FormatError naming the file and dataset for anything else.
std::unique_ptr<RowSource> open_hdf5_rows(const Hdf5Spec& spec);

/// A 1-D (or N x 1) dataset of integer labels (or integral floats) that fit in int32; with no
/// dataset named, the file's only 1-D or N x 1 dataset.
Labels read_hdf5_labels(const Hdf5Spec& spec);

}  // namespace neuncut::detail
