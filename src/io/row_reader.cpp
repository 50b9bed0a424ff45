#include "neuncut/io/row_reader.hpp"

#include <algorithm>
#include <vector>

#include "io/hdf5.hpp"
#include "io/io_util.hpp"
#include "io/row_source.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut {

namespace {

// Rows already in memory (a CSV file, fashion-mnist), handed out in blocks like a file's.
class MemoryRows final : public detail::RowSource {
 public:
  MemoryRows(MatrixF features, std::string image_shape)
      : features_(std::move(features)), image_shape_(std::move(image_shape)) {}
  Index rows() const override { return features_.rows(); }
  Index cols() const override { return features_.cols(); }
  std::string image_shape() const override { return image_shape_; }
  void read_rows(Index n, float* dst) override {
    const float* src = features_.data() + next_ * features_.cols();
    std::copy(src, src + n * features_.cols(), dst);
    next_ += n;
  }

 private:
  MatrixF features_;
  std::string image_shape_;
  Index next_ = 0;
};

}  // namespace

namespace detail {
void RowSource::skip_rows(Index n) {
  constexpr Index kBlockRows = 1024;
  std::vector<float> block(static_cast<std::size_t>(std::min(n, kBlockRows) * std::max<Index>(cols(), 1)));
  for (Index done = 0; done < n;) {
    const Index m = std::min(kBlockRows, n - done);
    read_rows(m, block.data());
    done += m;
  }
}
}  // namespace detail

bool RowReader::streams(const std::string& spec) {
  const std::string ext = detail::lower_extension(spec);
  detail::Hdf5Spec h5;
  return detail::parse_hdf5_spec(spec, &h5) ||
         (spec != "fashion-mnist" && !spec.empty() && ext != ".csv" && ext != ".txt");
}

RowReader::RowReader(const std::string& spec, const CsvOptions& csv) : name_(spec) {
  const std::string ext = detail::lower_extension(spec);
  detail::Hdf5Spec h5;
  if (detail::parse_hdf5_spec(spec, &h5)) {
    detail::require_readable_file(h5.file, "HDF5 file");
    source_ = detail::open_hdf5_rows(h5);
  } else if (streams(spec)) {
    detail::require_readable_file(spec, "data file");
    source_ = ext == ".npy" ? detail::open_npy_rows(spec) : detail::open_idx_rows(spec);
  } else {
    // The whole file through load_dataset (its messages for an empty spec, a missing file).
    Dataset ds = load_dataset(spec, csv);
    labels_ = std::move(ds.labels);
    source_ = std::make_unique<MemoryRows>(std::move(ds.features), std::move(ds.image_shape));
    streams_ = false;
  }
  image_shape_ = source_->image_shape();
}

RowReader::~RowReader() = default;
RowReader::RowReader(RowReader&&) noexcept = default;
RowReader& RowReader::operator=(RowReader&&) noexcept = default;

Index RowReader::rows() const { return source_->rows(); }
Index RowReader::cols() const { return source_->cols(); }

void RowReader::skip(Index rows) {
  NEUNCUT_REQUIRE(rows >= 0 && rows <= this->rows() - next_row_, InvalidArgument, "RowReader::skip: ", rows,
                  " rows asked for, ", this->rows() - next_row_, " left");
  source_->skip_rows(rows);
  next_row_ += rows;
}

MatrixF RowReader::read(Index max_rows) {
  NEUNCUT_REQUIRE(max_rows >= 1, InvalidArgument, "RowReader::read: max_rows must be >= 1, got ", max_rows);
  MatrixF block(std::min(max_rows, rows() - next_row_), cols());
  source_->read_rows(block.rows(), block.data());
  next_row_ += block.rows();
  return block;
}

}  // namespace neuncut
