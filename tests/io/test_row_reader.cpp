// Tests for src/io/row_reader.cpp: blocks of rows read from a file are the rows the full
// loader (load_dataset) returns, with the same conversions and the same errors, for every
// format, dtype and block size (7 rows on 100: a block size that does not divide N).
#include "neuncut/io/row_reader.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "io/file_builders.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/file_rows.hpp"
#include "test_util.hpp"

namespace neuncut {
namespace {

using namespace testing;  // the file builders, TempDir, write_text

constexpr Index kRows = 100, kCols = 3;

// Every block of `block` rows, stacked; checks next_row() and done() on the way.
MatrixF read_in_blocks(const std::string& spec, Index block) {
  RowReader reader(spec);
  MatrixF all(reader.rows(), reader.cols());
  while (!reader.done()) {
    const Index first = reader.next_row();
    const MatrixF rows = reader.read(block);
    EXPECT_EQ(rows.rows(), std::min(block, reader.rows() - first));
    EXPECT_EQ(rows.cols(), reader.cols());
    all.middleRows(first, rows.rows()) = rows;
    EXPECT_EQ(reader.next_row(), first + rows.rows());
  }
  EXPECT_EQ(reader.read(block).rows(), 0) << "nothing after the last block";
  return all;
}

void expect_blocks_equal_the_full_read(const std::string& spec) {
  const MatrixF whole = load_dataset(spec).features;
  for (Index block : {Index(1), Index(7), kRows - 1, kRows, Index(1000)}) {
    SCOPED_TRACE("blocks of " + std::to_string(block));
    EXPECT_EQ(read_in_blocks(spec, block), whole);
  }
  // A slice's reader (an MPI rank's) skips to its first row, then reads the rest.
  for (Index wanted : {Index(0), Index(1), Index(37), whole.rows()}) {
    const Index skip = std::min(wanted, whole.rows());
    SCOPED_TRACE("skip " + std::to_string(skip));
    RowReader reader(spec);
    const MatrixF first = reader.read(std::max<Index>(1, std::min<Index>(3, skip)));
    reader.skip(skip - first.rows() > 0 ? skip - first.rows() : 0);
    EXPECT_EQ(reader.next_row(), std::max(skip, first.rows()));
    MatrixF rest(0, reader.cols());
    while (!reader.done()) {
      const MatrixF block = reader.read(7);
      rest.conservativeResize(rest.rows() + block.rows(), Eigen::NoChange);
      rest.bottomRows(block.rows()) = block;
    }
    EXPECT_EQ(rest, whole.bottomRows(whole.rows() - std::max(skip, first.rows())));
    EXPECT_THROW(reader.skip(1), InvalidArgument);
  }
}

// kRows x kCols values of T, some negative where T is signed.
template <class T>
std::vector<T> values_of() {
  std::vector<T> v(std::size_t(kRows * kCols));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<T>(std::numeric_limits<T>::is_signed && i % 3 == 1 ? -double(i % 100) : double(i % 250));
  return v;
}

template <class T>
void check_npy_dtype(const std::string& descr) {
  SCOPED_TRACE(descr);
  TempDir dir;
  write_text(dir.file("a.npy"), npy_file(npy_dict(descr, "(100, 3)"), le_bytes(values_of<T>())));
  RowReader reader(dir.file("a.npy"));
  EXPECT_EQ(reader.rows(), kRows);
  EXPECT_EQ(reader.cols(), kCols);
  EXPECT_TRUE(reader.streams());
  EXPECT_EQ(reader.image_shape(), "");
  expect_blocks_equal_the_full_read(dir.file("a.npy"));
}

TEST(RowReader, NpyBlocksAreTheFullLoadersRowsForEveryDtype) {
  testing::for_each_npy_dtype([]<class T>(const std::string& descr) { check_npy_dtype<T>(descr); });
}

TEST(RowReader, ImagesAndColumnsKeepTheirShape) {
  TempDir dir;
  write_text(dir.file("img.npy"), npy_file(npy_dict("|u1", "(20, 3, 5)"), std::string(300, '\x07')));
  RowReader images(dir.file("img.npy"));
  EXPECT_EQ(images.rows(), 20);
  EXPECT_EQ(images.cols(), 15);
  EXPECT_EQ(images.image_shape(), "3x5");
  expect_blocks_equal_the_full_read(dir.file("img.npy"));
  write_text(dir.file("col.npy"), npy_file(npy_dict("<f4", "(100,)"), le_bytes(values_of<float>()).substr(0, 400)));
  EXPECT_EQ(RowReader(dir.file("col.npy")).cols(), 1);
  expect_blocks_equal_the_full_read(dir.file("col.npy"));
}

TEST(RowReader, AFloat64BeyondFloat32InALateBlockFailsThereWithTheFullLoadersMessage) {
  TempDir dir;
  std::vector<double> v = values_of<double>();
  v[std::size_t(93 * kCols + 1)] = 1e300;  // row 93, column 1: in the 14th block of 7 rows
  write_text(dir.file("big.npy"), npy_file(npy_dict("<f8", "(100, 3)"), le_bytes(v)));
  std::string full_message;
  try {
    read_npy_matrix(dir.file("big.npy"));
  } catch (const FormatError& e) {
    full_message = e.what();
  }
  ASSERT_NE(full_message.find("at row 93, column 1"), std::string::npos) << full_message;
  RowReader reader(dir.file("big.npy"));
  for (int block = 0; block < 13; ++block) EXPECT_NO_THROW(reader.read(7)) << "block " << block;
  try {
    reader.read(7);
    ADD_FAILURE() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), full_message);
  }
}

TEST(RowReader, HeaderErrorsAreTheFullLoadersAtOpen) {
  TempDir dir;
  const std::string p = dir.file("bad.npy");
  auto expect_same_error = [&](const std::string& bytes) {
    write_text(p, bytes);
    std::string full_message;
    try {
      load_dataset(p);
    } catch (const Error& e) {
      full_message = e.what();
    }
    ASSERT_FALSE(full_message.empty());
    expect_throw_with<Error>([&] { RowReader reader(p); }, full_message);
  };
  expect_same_error(npy_file(npy_dict("<f4", "(2, 3)", true), le_bytes(std::vector<float>(6))));  // Fortran order
  expect_same_error(npy_file(npy_dict("<f4", "(2, 3)"), le_bytes(std::vector<float>(5))));        // truncated
  expect_same_error(npy_file(npy_dict("<f4", "(2, 3, 4, 5)"), le_bytes(std::vector<float>(120))));
  expect_same_error(npy_file(npy_dict("<c8", "(2, 3)"), le_bytes(std::vector<float>(12))));
  expect_same_error("not a file at all");  // bad magic
  expect_throw_with<IoError>([&] { RowReader reader(dir.file("missing.npy")); }, "missing.npy");
}

TEST(RowReader, IdxPlainAndGzipBlocksAreTheFullLoadersRows) {
  TempDir dir;
  std::string pixels;
  for (int i = 0; i < 100 * 2 * 3; ++i) pixels += static_cast<char>(i * 37 % 256);
  const std::string bytes = idx_file(0x08, {100, 2, 3}, pixels);
  write_text(dir.file("img-idx3-ubyte"), bytes);
  write_gz(dir.file("img-idx3-ubyte.gz"), bytes);
  for (const char* name : {"img-idx3-ubyte", "img-idx3-ubyte.gz"}) {
    SCOPED_TRACE(name);
    RowReader reader(dir.file(name));
    EXPECT_EQ(reader.rows(), 100);
    EXPECT_EQ(reader.cols(), 6);
    EXPECT_EQ(reader.image_shape(), "2x3");
    expect_blocks_equal_the_full_read(dir.file(name));
  }
  std::vector<double> v(300, 0.5);
  write_text(dir.file("f64-idx"), idx_file(0x0E, {100, 3}, be_bytes(v)));
  expect_blocks_equal_the_full_read(dir.file("f64-idx"));
}

TEST(RowReader, IdxErrorsAreTheFullLoaders) {
  TempDir dir;
  const std::string plain = dir.file("bad-idx"), gz = dir.file("bad-idx.gz");
  auto expect_in_blocks = [&](const std::string& bytes, const std::string& needle) {
    SCOPED_TRACE(needle);
    write_text(plain, bytes);
    write_gz(gz, bytes);
    for (const std::string& p : {plain, gz}) {
      expect_throw_with<FormatError>([&] { read_idx_matrix(p); }, needle);
      expect_throw_with<FormatError>([&] { read_in_blocks(p, 7); }, needle);
    }
  };
  expect_in_blocks(idx_file(0x08, {100, 3}, std::string(299, 'a')), "truncated");
  expect_in_blocks(idx_file(0x08, {100, 3}, std::string(301, 'a')), "unexpected bytes");
  std::vector<double> v(300, 0.5);
  v[290] = -1e300;
  expect_in_blocks(idx_file(0x0E, {100, 3}, be_bytes(v)), "value -1e+300 at element 290 is outside the float32 range");
}

TEST(RowReader, CsvIsReadWholeAndHandedOutInBlocks) {
  TempDir dir;
  std::string text = "a,b,label\n";
  for (int i = 0; i < 100; ++i)
    text += std::to_string(i) + "," + std::to_string(i * 0.5) + "," + std::to_string(i % 4) + "\n";
  write_text(dir.file("d.csv"), text);
  CsvOptions csv;
  csv.label_column = 2;
  RowReader reader(dir.file("d.csv"), csv);
  EXPECT_FALSE(reader.streams());
  EXPECT_EQ(reader.labels(), load_dataset(dir.file("d.csv"), csv).labels);
  const MatrixF whole = load_dataset(dir.file("d.csv"), csv).features;
  MatrixF all(reader.rows(), reader.cols());
  while (!reader.done()) {
    const Index first = reader.next_row();
    const MatrixF rows = reader.read(7);
    all.middleRows(first, rows.rows()) = rows;
  }
  EXPECT_EQ(all, whole);
}

TEST(RowReader, EmptyFilesHaveNoBlocks) {
  TempDir dir;
  write_text(dir.file("e.npy"), npy_file(npy_dict("<f4", "(0, 5)"), ""));
  RowReader reader(dir.file("e.npy"));
  EXPECT_TRUE(reader.done());
  const MatrixF rows = reader.read(7);
  EXPECT_EQ(rows.rows(), 0);
  EXPECT_EQ(rows.cols(), 5);
  EXPECT_THROW(reader.read(0), InvalidArgument);
}

// FileRows (file_rows.hpp): rows gathered by index, in the order asked for (unsorted, repeated,
// runs of neighbours, and going back to earlier rows, which reopens the reader), are the full
// loader's rows, for a streamed .npy of uint8 and for CSV read whole; rows skipped over
// are not read.
TEST(FileRows, GatheredRowsAreTheFullLoadersRowsInTheOrderAskedFor) {
  TempDir dir;
  write_text(dir.file("a.npy"), npy_file(npy_dict("|u1", "(100, 3)"), le_bytes(values_of<std::uint8_t>())));
  write_csv(dir.file("a.csv"), load_dataset(dir.file("a.npy")).features);
  EXPECT_TRUE(RowReader::streams(dir.file("a.npy")));
  EXPECT_TRUE(RowReader::streams(dir.file("a.h5:/x")));
  EXPECT_FALSE(RowReader::streams(dir.file("a.csv")));
  EXPECT_FALSE(RowReader::streams("fashion-mnist"));
  for (const std::string spec : {dir.file("a.npy"), dir.file("a.csv")}) {
    SCOPED_TRACE(spec);
    const MatrixF whole = load_dataset(spec).features;
    const FileRows rows(spec);
    EXPECT_EQ(rows.rows(), kRows);
    EXPECT_EQ(rows.cols(), kCols);
    for (const std::vector<Index>& ask :
         {std::vector<Index>{42, 3, 99, 4, 3, 5, 0}, std::vector<Index>{1, 2}, std::vector<Index>{}}) {
      const MatrixF got = rows.gather(ask);
      ASSERT_EQ(got.rows(), Index(ask.size()));
      for (std::size_t i = 0; i < ask.size(); ++i) EXPECT_EQ(got.row(Index(i)), whole.row(ask[i])) << ask[i];
    }
    // 6 + 2 rows read: 0, 3-5 (one block), 42 and 99, then 1-2 after reopening.
    EXPECT_EQ(rows.rows_read(), 8);
    EXPECT_THROW(rows.gather({100}), InvalidArgument);
    EXPECT_THROW(rows.gather({-1}), InvalidArgument);
  }
}

}  // namespace
}  // namespace neuncut
