// HDF5 datasets (Debian's libhdf5, the serial build), read as float32 rows a hyperslab at a time.
#include "io/hdf5.hpp"

#include <hdf5.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"

namespace neuncut {

namespace {

// Debian's libhdf5 is built without --enable-threadsafe: no two HDF5 calls may run at once,
// and a RowReader may be used from any thread. Every call below holds this lock.
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

class Hdf5Lock {
 public:
  Hdf5Lock() : lock_(hdf5_mutex()) {
    // HDF5 prints its error stack to stderr by default; failures become neuncut's exceptions.
    static const bool quiet = [] { return H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) >= 0; }();
    (void)quiet;
  }

 private:
  std::lock_guard<std::mutex> lock_;
};

// The failed call's reason from HDF5's error stack: the API function's description and the
// innermost one ("unable to open file: file signature not found").
std::string hdf5_reason() {
  struct Walk {
    std::string outer, inner;
  } walk;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_DOWNWARD,
      [](unsigned n, const H5E_error2_t* e, void* data) -> herr_t {
        auto* w = static_cast<Walk*>(data);
        const std::string desc = e && e->desc ? e->desc : "";
        if (n == 0) w->outer = desc;
        w->inner = desc;
        return 0;
      },
      &walk);
  H5Eclear2(H5E_DEFAULT);
  if (walk.outer.empty()) return "HDF5 error";
  return walk.inner.empty() || walk.inner == walk.outer ? walk.outer : walk.outer + ": " + walk.inner;
}

// An HDF5 identifier, closed when it goes out of scope (always with the lock held).
class Hid {
 public:
  Hid() = default;
  Hid(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Hid() { reset(); }
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, -1);
      close_ = o.close_;
    }
    return *this;
  }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

std::string where(const std::string& file, const std::string& dataset) {
  return "'" + file + (dataset.empty() ? "" : ":" + dataset) + "'";
}

std::string type_name(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t bits = H5Tget_size(type) * 8;
  switch (cls) {
    case H5T_INTEGER:
      return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT:
      return "float" + std::to_string(bits);
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_REFERENCE:
      return "reference";
    default:
      return "unknown type";
  }
}

// A dataset's type and shape, for choosing and for messages.
struct DatasetInfo {
  std::string path;
  std::string type;
  bool numeric = false, is_float = false;
  std::size_t type_size = 0;
  bool simple = false;  // a simple dataspace (not scalar or null)
  std::vector<hsize_t> dims;

  std::string shape() const {
    if (!simple) return "scalar";
    std::string s;
    for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? " x " : "") + std::to_string(dims[i]);
    return dims.empty() ? "0-D" : s;
  }
  std::string describe() const { return path + " (" + type + ", " + shape() + ")"; }
};

DatasetInfo describe_dataset(hid_t dset, const std::string& path) {
  DatasetInfo info;
  info.path = path;
  Hid type(H5Dget_type(dset), H5Tclose);
  Hid space(H5Dget_space(dset), H5Sclose);
  if (type.valid()) {
    const H5T_class_t cls = H5Tget_class(type.get());
    info.type = type_name(type.get());
    info.numeric = cls == H5T_INTEGER || cls == H5T_FLOAT;
    info.is_float = cls == H5T_FLOAT;
    info.type_size = H5Tget_size(type.get());
  }
  if (space.valid() && H5Sget_simple_extent_type(space.get()) == H5S_SIMPLE) {
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank >= 0) {
      info.simple = true;
      info.dims.resize(std::size_t(rank));
      H5Sget_simple_extent_dims(space.get(), info.dims.data(), nullptr);
    }
  }
  return info;
}

// Every dataset reachable through hard links, in name order.
std::vector<DatasetInfo> list_datasets(hid_t file, const std::string& file_path) {
  std::vector<DatasetInfo> found;
  const herr_t status = H5Lvisit(
      file, H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t group, const char* name, const H5L_info_t* info, void* data) -> herr_t {
        if (info->type != H5L_TYPE_HARD) return 0;
        Hid obj(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
        if (obj.valid() && H5Iget_type(obj.get()) == H5I_DATASET)
          static_cast<std::vector<DatasetInfo>*>(data)->push_back(describe_dataset(obj.get(), "/" + std::string(name)));
        return 0;
      },
      &found);
  NEUNCUT_REQUIRE(status >= 0, FormatError, "'", file_path, "': cannot list the datasets of the HDF5 file (",
                  hdf5_reason(), ")");
  return found;
}

std::string list_string(const std::vector<DatasetInfo>& datasets) {
  if (datasets.empty()) return "none";
  std::string s;
  constexpr std::size_t kShown = 20;
  for (std::size_t i = 0; i < std::min(datasets.size(), kShown); ++i) s += (i ? ", " : "") + datasets[i].describe();
  if (datasets.size() > kShown) s += ", ... (" + std::to_string(datasets.size()) + " in all)";
  return s;
}

Hid open_file(const std::string& path) {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
#if H5_VERSION_GE(1, 10, 7)
  // Read-only opens take a shared lock where the file system has locks, and go on without
  // one where it does not (some network file systems), instead of failing.
  if (fapl.valid()) H5Pset_file_locking(fapl.get(), true, true);
#endif
  Hid file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.valid() ? fapl.get() : H5P_DEFAULT), H5Fclose);
  NEUNCUT_REQUIRE(file.valid(), FormatError, "'", path, "' is not a readable HDF5 file (", hdf5_reason(), ")");
  return file;
}

// Opens the named dataset, or the only one `fits` when none is named; `wanted` describes
// `fits` for the message.
template <class Fits>
Hid open_dataset(hid_t file, const detail::Hdf5Spec& spec, Fits fits, const char* wanted, std::string* path) {
  if (spec.dataset.empty()) {
    const std::vector<DatasetInfo> all = list_datasets(file, spec.file);
    std::vector<const DatasetInfo*> fitting;
    for (const DatasetInfo& d : all)
      if (fits(d)) fitting.push_back(&d);
    NEUNCUT_REQUIRE(fitting.size() == 1, InvalidArgument, "'", spec.file, "' holds ", fitting.size(), " ", wanted,
                    " datasets; name one as ", spec.file, ":/path/to/dataset. Datasets found: ", list_string(all));
    *path = fitting[0]->path;
  } else {
    *path = spec.dataset;
  }
  // H5Lexists fails (negative) rather than answering false when a group on the way is missing.
  const htri_t exists = path->empty() || *path == "/" ? 0 : H5Lexists(file, path->c_str(), H5P_DEFAULT);
  if (exists <= 0) {
    H5Eclear2(H5E_DEFAULT);
    std::string found;
    try {
      found = list_string(list_datasets(file, spec.file));
    } catch (const Error&) {
      found = "(cannot list them)";
    }
    throw InvalidArgument("'" + spec.file + "' has no dataset '" + *path + "'. Datasets found: " + found);
  }
  Hid obj(H5Oopen(file, path->c_str(), H5P_DEFAULT), H5Oclose);
  NEUNCUT_REQUIRE(obj.valid(), FormatError, where(spec.file, *path), ": cannot open the HDF5 object (", hdf5_reason(),
                  ")");
  const H5I_type_t kind = H5Iget_type(obj.get());
  NEUNCUT_REQUIRE(kind == H5I_DATASET, InvalidArgument, where(spec.file, *path), " is ",
                  kind == H5I_GROUP ? "a group, not a dataset" : "not a dataset");
  obj.reset();
  Hid dset(H5Dopen2(file, path->c_str(), H5P_DEFAULT), H5Dclose);
  NEUNCUT_REQUIRE(dset.valid(), FormatError, where(spec.file, *path), ": cannot open the HDF5 dataset (",
                  hdf5_reason(), ")");
  return dset;
}

void require_numeric(const DatasetInfo& info, const std::string& file) {
  NEUNCUT_REQUIRE(info.numeric, FormatError, where(file, info.path), " holds ", info.type,
                  " values; neuncut reads integer or float datasets");
  NEUNCUT_REQUIRE(info.simple, FormatError, where(file, info.path), " is a scalar or empty dataset, not an array");
}

// The HDF5 chunk cache of a chunked dataset, sized to hold one row of chunks (every chunk a
// block of rows touches), so that reading a chunk's rows in several blocks decompresses it
// once; HDF5's default (1 MiB) is kept when that is enough, and 256 MiB is the most.
void size_chunk_cache(hid_t dset, hid_t dapl, const DatasetInfo& info) {
  Hid dcpl(H5Dget_create_plist(dset), H5Pclose);
  if (!dcpl.valid() || H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return;
  std::vector<hsize_t> chunk(info.dims.size());
  if (H5Pget_chunk(dcpl.get(), int(chunk.size()), chunk.data()) != int(chunk.size())) return;
  double bytes = double(info.type_size), across = 1;
  for (std::size_t i = 0; i < chunk.size(); ++i) {
    if (chunk[i] == 0) return;
    bytes *= double(chunk[i]);
    if (i > 0) across *= double((info.dims[i] + chunk[i] - 1) / chunk[i]);
  }
  constexpr double kDefault = 1 << 20, kMost = 256 << 20;
  const double want = std::min(bytes * across, kMost);
  if (want <= kDefault) return;
  const std::size_t slots = std::size_t(std::min(across * 100, 1e6)) | 1;
  H5Pset_chunk_cache(dapl, std::max<std::size_t>(slots, 521), std::size_t(want), 1.0);
}

class Hdf5Rows final : public detail::RowSource {
 public:
  explicit Hdf5Rows(const detail::Hdf5Spec& spec) : file_path_(spec.file) {
    // Opened into locals and moved into the members only when nothing can throw any more, so
    // that a refused file is closed here, under the lock (a constructor that throws never
    // runs the destructor that takes it).
    Hdf5Lock lock;
    Hid file = open_file(spec.file);
    Hid dset = open_dataset(
        file.get(), spec, [](const DatasetInfo& d) { return d.numeric && (d.dims.size() == 2 || d.dims.size() == 3); },
        "numeric 2-D or 3-D", &dataset_path_);
    info_ = describe_dataset(dset.get(), dataset_path_);
    require_numeric(info_, file_path_);
    const std::vector<hsize_t>& dims = info_.dims;
    NEUNCUT_REQUIRE(dims.size() >= 1 && dims.size() <= 3, FormatError, where(file_path_, dataset_path_), " is ",
                    dims.size(), "-D (", info_.shape(),
                    "); neuncut reads 1-D, 2-D or 3-D (images) datasets (reshape it to (n_samples, n_features))");
    std::vector<std::uint64_t> shape(dims.begin(), dims.end());
    std::uint64_t cols = 0;
    constexpr std::uint64_t kMaxDim = std::numeric_limits<Index>::max();
    NEUNCUT_REQUIRE(shape[0] <= kMaxDim && detail::row_length(shape, cols), FormatError,
                    where(file_path_, dataset_path_), ": shape ", info_.shape(), " is out of range");
    rows_ = static_cast<Index>(shape[0]);
    cols_ = static_cast<Index>(cols);
    if (dims.size() == 3 && cols > 0) image_shape_ = image_shape_string(Index(dims[1]), Index(dims[2]));
    // Reopened with a chunk cache that fits the dataset's chunks.
    Hid dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose);
    if (dapl.valid()) {
      size_chunk_cache(dset.get(), dapl.get(), info_);
      dset.reset();
      dset = Hid(H5Dopen2(file.get(), dataset_path_.c_str(), dapl.get()), H5Dclose);
      NEUNCUT_REQUIRE(dset.valid(), FormatError, where(file_path_, dataset_path_),
                      ": cannot open the HDF5 dataset (", hdf5_reason(), ")");
    }
    Hid space(H5Dget_space(dset.get()), H5Sclose);
    NEUNCUT_REQUIRE(space.valid(), FormatError, where(file_path_, dataset_path_), ": cannot read the dataspace (",
                    hdf5_reason(), ")");
    spec_string_ = file_path_ + ":" + dataset_path_;
    file_ = std::move(file);
    dset_ = std::move(dset);
    file_space_ = std::move(space);
  }
  ~Hdf5Rows() override {
    Hdf5Lock lock;
    file_space_.reset();
    dset_.reset();
    file_.reset();
  }

  Index rows() const override { return rows_; }
  Index cols() const override { return cols_; }
  std::string image_shape() const override { return image_shape_; }

  void read_rows(Index n, float* dst) override {
    if (n == 0 || cols_ == 0) {
      next_row_ += n;
      return;
    }
    Hdf5Lock lock;
    // Floats wider than float32 are read as float64 a piece at a time and range-checked as
    // the .npy reader does (HDF5's own conversion would clip or overflow without a word).
    if (info_.is_float && info_.type_size > 4) {
      const Index piece = std::max<Index>(1, Index(kPieceBytes / (sizeof(double) * std::size_t(cols_))));
      std::vector<double> buffer;
      for (Index done = 0; done < n;) {
        const Index m = std::min(piece, n - done);
        buffer.resize(std::size_t(m * cols_));
        read_hyperslab(next_row_ + done, m, H5T_NATIVE_DOUBLE, buffer.data());
        const std::uint64_t cols = std::uint64_t(cols_), first = std::uint64_t(next_row_ + done) * cols;
        float* out = dst + done * cols_;
        for (std::size_t i = 0; i < buffer.size(); ++i) {
          detail::require_float32_range(buffer[i], spec_string_, " at row ", (first + i) / cols,
                                        ", column ", (first + i) % cols);
          out[i] = static_cast<float>(buffer[i]);
        }
        done += m;
      }
    } else {
      read_hyperslab(next_row_, n, H5T_NATIVE_FLOAT, dst);
    }
    next_row_ += n;
  }

 private:
  static constexpr std::size_t kPieceBytes = std::size_t(1) << 20;

  // Rows [first, first + n) of the dataset converted by HDF5 to `mem_type`, into dst.
  void read_hyperslab(Index first, Index n, hid_t mem_type, void* dst) {
    std::vector<hsize_t> start(info_.dims.size(), 0), count = info_.dims;
    start[0] = hsize_t(first);
    count[0] = hsize_t(n);
    herr_t status = H5Sselect_hyperslab(file_space_.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    const hsize_t elements = hsize_t(n) * hsize_t(cols_);
    Hid mem_space(H5Screate_simple(1, &elements, nullptr), H5Sclose);
    if (status >= 0 && mem_space.valid())
      status = H5Dread(dset_.get(), mem_type, mem_space.get(), file_space_.get(), H5P_DEFAULT, dst);
    NEUNCUT_REQUIRE(status >= 0 && mem_space.valid(), FormatError, where(file_path_, dataset_path_),
                    ": cannot read rows ", first, " to ", first + n - 1, " (", hdf5_reason(), ")");
  }

  std::string file_path_, dataset_path_, spec_string_;
  Hid file_, dset_, file_space_;
  DatasetInfo info_;
  Index rows_ = 0, cols_ = 0, next_row_ = 0;
  std::string image_shape_;
};

}  // namespace

bool detail::hdf5_available() { return true; }

std::unique_ptr<detail::RowSource> detail::open_hdf5_rows(const Hdf5Spec& spec) {
  return std::make_unique<Hdf5Rows>(spec);
}

Labels detail::read_hdf5_labels(const Hdf5Spec& spec) {
  Hdf5Lock lock;
  Hid file = open_file(spec.file);
  std::string path;
  Hid dset = open_dataset(
      file.get(), spec,
      [](const DatasetInfo& d) {
        return d.numeric && (d.dims.size() == 1 || (d.dims.size() == 2 && d.dims[1] == 1));
      },
      "numeric 1-D", &path);
  const DatasetInfo info = describe_dataset(dset.get(), path);
  require_numeric(info, spec.file);
  const bool column = info.dims.size() == 2 && info.dims[1] == 1;
  NEUNCUT_REQUIRE(info.dims.size() == 1 || column, FormatError, where(spec.file, path),
                  ": labels must be a 1-D dataset, got shape ", info.shape());
  constexpr hsize_t kMaxLabels = std::numeric_limits<std::int32_t>::max();
  NEUNCUT_REQUIRE(info.dims[0] <= kMaxLabels, FormatError, where(spec.file, path), ": ", info.dims[0],
                  " labels are more than neuncut handles");
  const std::size_t n = std::size_t(info.dims[0]);
  Labels out(n);
  if (n == 0) return out;
  auto read = [&](hid_t mem_type, void* dst) {
    NEUNCUT_REQUIRE(H5Dread(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) >= 0, FormatError,
                    where(spec.file, path), ": cannot read the labels (", hdf5_reason(), ")");
  };
  if (!info.is_float) {
    // Through int64 rather than double so that huge values are not rounded into range; HDF5
    // clips a uint64 beyond int64 to its largest value, which is refused below all the same.
    std::vector<long long> v(n);
    read(H5T_NATIVE_LLONG, v.data());
    for (std::size_t i = 0; i < n; ++i) {
      NEUNCUT_REQUIRE(v[i] >= std::numeric_limits<std::int32_t>::min() && v[i] <= std::numeric_limits<std::int32_t>::max(),
                      FormatError, where(spec.file, path), ": label ", i, " (", v[i], ") does not fit in int32");
      out[i] = static_cast<std::int32_t>(v[i]);
    }
  } else {
    std::vector<double> v(n);
    read(H5T_NATIVE_DOUBLE, v.data());
    for (std::size_t i = 0; i < n; ++i) {
      NEUNCUT_REQUIRE(detail::is_int32_value(v[i]), FormatError, where(spec.file, path), ": label ", i, " is ", v[i],
                      "; float labels must be integral values that fit in int32");
      out[i] = static_cast<std::int32_t>(v[i]);
    }
  }
  return out;
}

}  // namespace neuncut
