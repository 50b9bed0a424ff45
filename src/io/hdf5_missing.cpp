// A neuncut built without HDF5 (libhdf5-dev was not found at configure time): HDF5 specs are
// recognised and refused with the reason, instead of being read as IDX files.
#include "io/hdf5.hpp"

#include "neuncut/core/error.hpp"

namespace neuncut {

namespace {
[[noreturn]] void refuse(const detail::Hdf5Spec& spec) {
  throw IoError("cannot read '" + spec.file +
                "': this neuncut was built without HDF5 (install libhdf5-dev and rebuild)");
}
}  // namespace

bool detail::hdf5_available() { return false; }
std::unique_ptr<detail::RowSource> detail::open_hdf5_rows(const Hdf5Spec& spec) { refuse(spec); }
Labels detail::read_hdf5_labels(const Hdf5Spec& spec) { refuse(spec); }

}  // namespace neuncut
