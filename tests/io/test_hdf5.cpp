// Tests for src/io/hdf5.cpp (built only when HDF5 is): datasets written here with HDF5's C
// API are read whole (load_dataset, load_labels) and in blocks (RowReader) as the same floats,
// hostile files are refused with messages naming the file and the problem, and the CLI's
// predict on an .h5 file writes the bytes it writes for the same data as .npy.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/row_reader.hpp"
#include "test_util.hpp"

namespace neuncut {
namespace {

using testing::TempDir;

// One dataset to write: its path in the file, HDF5 file type, memory type of `data`, shape.
struct H5Dataset {
  std::string path;
  hid_t file_type, mem_type;
  std::vector<hsize_t> dims;
  const void* data;
  std::vector<hsize_t> chunk = {};  // chunked and gzip-compressed when given
};

void write_h5(const std::string& file, const std::vector<H5Dataset>& datasets) {
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  for (const H5Dataset& d : datasets) {
    const hid_t space = H5Screate_simple(int(d.dims.size()), d.dims.data(), nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (!d.chunk.empty()) {
      H5Pset_chunk(dcpl, int(d.chunk.size()), d.chunk.data());
      H5Pset_deflate(dcpl, 4);
    }
    const hid_t ds = H5Dcreate2(f, d.path.c_str(), d.file_type, space, lcpl, dcpl, H5P_DEFAULT);
    ASSERT_GE(ds, 0) << d.path;
    ASSERT_GE(H5Dwrite(ds, d.mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.data), 0) << d.path;
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
  }
  H5Pclose(lcpl);
  H5Fclose(f);
}

constexpr Index kRows = 100, kCols = 3;

std::vector<double> doubles(std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(double(i) * 0.37) * 1000.0 + 1.0 / 3.0;
  return v;
}

MatrixF as_float(const std::vector<double>& v, Index rows, Index cols) {
  MatrixF m(rows, cols);
  for (Index i = 0; i < rows * cols; ++i) m.data()[i] = static_cast<float>(v[std::size_t(i)]);
  return m;
}

// Every block of `block` rows stacked, checking the block sizes on the way.
MatrixF read_in_blocks(const std::string& spec, Index block) {
  RowReader reader(spec);
  EXPECT_TRUE(reader.streams());
  MatrixF all(reader.rows(), reader.cols());
  while (!reader.done()) {
    const Index first = reader.next_row();
    const MatrixF rows = reader.read(block);
    EXPECT_EQ(rows.rows(), std::min(block, reader.rows() - first));
    all.middleRows(first, rows.rows()) = rows;
  }
  EXPECT_EQ(reader.read(block).rows(), 0);
  return all;
}

template <class Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class Hdf5 : public ::testing::Test {
 protected:
  void SetUp() override {
    x_ = doubles(std::size_t(kRows * kCols));
    for (std::size_t i = 0; i < images_.size(); ++i) images_[i] = static_cast<std::uint8_t>(i * 7 % 256);
    for (std::size_t i = 0; i < labels_.size(); ++i) labels_[i] = std::int32_t(i % 4) - 1;
    write_h5(file_,
             {{"/x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {hsize_t(kRows), hsize_t(kCols)}, x_.data()},
              {"/images/train", H5T_STD_U8LE, H5T_NATIVE_UINT8, {10, 4, 5}, images_.data()},
              {"/y", H5T_STD_I32BE, H5T_NATIVE_INT32, {hsize_t(kRows)}, labels_.data()},
              {"/packed", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, {hsize_t(kRows), hsize_t(kCols)}, x_.data(), {7, 2}}});
  }
  TempDir dir_;
  std::string file_ = dir_.file("data.h5");
  std::vector<double> x_;
  std::vector<std::uint8_t> images_ = std::vector<std::uint8_t>(200);
  std::vector<std::int32_t> labels_ = std::vector<std::int32_t>(kRows);
};

TEST_F(Hdf5, Float64MatrixLoadsAsFloat32) {
  const Dataset ds = load_dataset(file_ + ":/x");
  EXPECT_EQ(ds.features, as_float(x_, kRows, kCols));
  EXPECT_EQ(ds.image_shape, "");
  EXPECT_EQ(ds.name, file_ + ":/x");
  EXPECT_TRUE(ds.labels.empty());
  // Big-endian, chunked and compressed: the same values.
  EXPECT_EQ(load_dataset(file_ + ":/packed").features, as_float(x_, kRows, kCols));
  // The dataset path without its leading slash, and the .hdf5 / .he5 extensions in any case.
  EXPECT_EQ(load_dataset(file_ + ":x").features, as_float(x_, kRows, kCols));
  std::filesystem::copy_file(file_, dir_.file("data.HDF5"));
  EXPECT_EQ(load_dataset(dir_.file("data.HDF5") + ":/x").features, as_float(x_, kRows, kCols));
}

TEST_F(Hdf5, Uint8ImagesAreRowsWithTheirShape) {
  const Dataset ds = load_dataset(file_ + ":/images/train");
  ASSERT_EQ(ds.features.rows(), 10);
  ASSERT_EQ(ds.features.cols(), 20);
  EXPECT_EQ(ds.image_shape, "4x5");
  for (Index i = 0; i < 200; ++i) EXPECT_EQ(ds.features.data()[i], float(images_[std::size_t(i)])) << i;
}

TEST_F(Hdf5, OneDimensionalDatasetIsAColumn) {
  const Dataset ds = load_dataset(file_ + ":/y");
  ASSERT_EQ(ds.features.rows(), kRows);
  ASSERT_EQ(ds.features.cols(), 1);
  for (Index i = 0; i < kRows; ++i) EXPECT_EQ(ds.features(i, 0), float(labels_[std::size_t(i)]));
}

TEST_F(Hdf5, LabelsFromAnIntegerDataset) {
  EXPECT_EQ(load_labels(file_ + ":/y"), Labels(labels_.begin(), labels_.end()));
  // A bare file with one 1-D dataset: that one.
  write_h5(dir_.file("y.h5"), {{"/y", H5T_STD_I64LE, H5T_NATIVE_INT32, {hsize_t(kRows)}, labels_.data()}});
  EXPECT_EQ(load_labels(dir_.file("y.h5")), Labels(labels_.begin(), labels_.end()));
  // Out of int32's range, and float labels that are not integers.
  const std::vector<std::int64_t> big = {1, std::int64_t(1) << 40};
  const std::vector<double> half = {1.0, 2.5};
  write_h5(dir_.file("bad.h5"), {{"/big", H5T_STD_I64LE, H5T_NATIVE_INT64, {2}, big.data()},
                                 {"/half", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2}, half.data()}});
  EXPECT_THROW(load_labels(dir_.file("bad.h5") + ":/big"), FormatError);
  EXPECT_TRUE(contains(error_of([&] { load_labels(dir_.file("bad.h5") + ":/big"); }), "label 1"));
  EXPECT_THROW(load_labels(dir_.file("bad.h5") + ":/half"), FormatError);
  EXPECT_THROW(load_labels(dir_.file("bad.h5")), InvalidArgument) << "two 1-D datasets: which?";
}

TEST_F(Hdf5, BlocksOfRowsAreTheWholeRead) {
  for (const std::string name : {"/x", "/packed", "/images/train", "/y"}) {
    const std::string spec = file_ + ":" + name;
    const MatrixF whole = load_dataset(spec).features;
    for (Index block : {Index(1), Index(7), Index(100000)}) {
      SCOPED_TRACE(spec + " in blocks of " + std::to_string(block));
      EXPECT_EQ(read_in_blocks(spec, block), whole);
    }
  }
  RowReader images(file_ + ":/images/train");
  EXPECT_EQ(images.image_shape(), "4x5");
  EXPECT_EQ(images.rows(), 10);
  EXPECT_EQ(images.cols(), 20);
}

TEST_F(Hdf5, BareFileUsesItsOnlyMatrixOrListsTheCandidates) {
  // One 2-D dataset beside labels: that one.
  write_h5(dir_.file("one.h5"), {{"/x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {hsize_t(kRows), hsize_t(kCols)}, x_.data()},
                                 {"/y", H5T_STD_I32LE, H5T_NATIVE_INT32, {hsize_t(kRows)}, labels_.data()}});
  EXPECT_EQ(load_dataset(dir_.file("one.h5")).features, as_float(x_, kRows, kCols));
  EXPECT_EQ(RowReader(dir_.file("one.h5")).rows(), kRows);
  // Three candidates: refused with every dataset listed.
  const std::string e = error_of([&] { load_dataset(file_); });
  EXPECT_THROW(load_dataset(file_), InvalidArgument);
  for (const char* part : {"holds 3 numeric 2-D or 3-D datasets", "/x (float64, 100 x 3)",
                           "/images/train (uint8, 10 x 4 x 5)", "/y (int32, 100)", "/packed", file_.c_str()})
    EXPECT_TRUE(contains(e, part)) << part << " not in: " << e;
}

TEST_F(Hdf5, HostileInputsAreRefusedWithTheFileAndTheProblem) {
  const std::vector<double> four(16, 1.0);
  struct Pair {
    std::int32_t a;
    double b;
  } pairs[2] = {{1, 2.0}, {3, 4.0}};
  const hid_t pair = H5Tcreate(H5T_COMPOUND, sizeof(Pair));
  H5Tinsert(pair, "a", HOFFSET(Pair, a), H5T_NATIVE_INT32);
  H5Tinsert(pair, "b", HOFFSET(Pair, b), H5T_NATIVE_DOUBLE);
  const hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 4);
  const char text[2][4] = {"abc", "def"};
  const std::vector<double> huge = {1.0, 2.0, 1e300, 4.0};
  const std::string h = dir_.file("hostile.h5");
  write_h5(h, {{"/four", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2, 2, 2, 2}, four.data()},
               {"/pairs", pair, pair, {2}, pairs},
               {"/text", str, str, {2}, text},
               {"/huge", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2, 2}, huge.data()},
               {"/group/inner", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2, 2}, four.data()}});
  H5Tclose(pair);
  H5Tclose(str);

  struct Case {
    std::string spec, expected;
  };
  // A truncated file (the first 1,000 bytes), and text named .h5.
  const std::string whole = testing::read_text(file_);
  testing::write_text(dir_.file("truncated.h5"), whole.substr(0, 1000));
  testing::write_text(dir_.file("text.h5"), "x,y\n1,2\n");
  const std::vector<Case> cases = {
      {dir_.file("missing.h5") + ":/x", "no such file"},
      {h + ":/nope", "has no dataset '/nope'"},
      {h + ":/no/such/group", "has no dataset '/no/such/group'"},
      {h + ":/group", "is a group"},
      {h + ":/four", "is 4-D (2 x 2 x 2 x 2)"},
      {h + ":/pairs", "holds compound values"},
      {h + ":/text", "holds string values"},
      {h + ":/huge", "value 1e+300 at row 1, column 0 is outside the float32 range"},
      {dir_.file("truncated.h5") + ":/x", "is not a readable HDF5 file"},
      {dir_.file("text.h5"), "is not a readable HDF5 file"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    const std::string whole_read = error_of([&] { load_dataset(c.spec); });
    EXPECT_TRUE(contains(whole_read, c.expected)) << whole_read;
    EXPECT_TRUE(contains(whole_read, c.spec.substr(0, c.spec.find(".h5") + 3))) << "names the file: " << whole_read;
    // The streamed reader refuses at open, or at the block holding the bad value.
    const std::string streamed = error_of([&] {
      RowReader reader(c.spec);
      while (!reader.done()) reader.read(1);
    });
    EXPECT_EQ(streamed, whole_read);
  }
}

// A chunked dataset can declare a shape with nothing stored: 2^40 x 1000 float32 (4 PB) in a
// file of a few KB. Read whole it is refused before any allocation, naming the file and the
// memory; the streamed reader opens it (it reads only the rows asked for).
TEST_F(Hdf5, AHugeDeclaredShapeIsRefusedBeforeItIsAllocated) {
  const std::string path = dir_.file("sparse.h5");
  {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hsize_t dims[2] = {hsize_t(1) << 40, 1000}, chunk[2] = {1024, 1000};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    const hid_t ds = H5Dcreate2(f, "/x", H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(ds, 0);
    H5Dclose(ds);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(f);
  }
  const std::string error = error_of([&] { load_dataset(path + ":/x"); });
  EXPECT_TRUE(contains(error, "reading '" + path + ":/x' whole needs about")) << error;
  EXPECT_TRUE(contains(error, "of physical memory")) << error;
  RowReader reader(path + ":/x");
  EXPECT_EQ(reader.rows(), Index(1) << 40);
  EXPECT_EQ(reader.read(2), MatrixF::Zero(2, 1000));
}

// A compressed chunk overwritten with garbage: the block that holds it fails with the file,
// the rows and HDF5's reason; the blocks before it were read.
TEST_F(Hdf5, CorruptChunkFailsAtItsBlock) {
  const std::string f = dir_.file("corrupt.h5");
  write_h5(f, {{"/x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {hsize_t(kRows), hsize_t(kCols)}, x_.data(), {10, 3}}});
  haddr_t addr = 0;
  hsize_t size = 0;
  {
    const hid_t file = H5Fopen(f.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t ds = H5Dopen2(file, "/x", H5P_DEFAULT);
    const hid_t space = H5Dget_space(ds);
    hsize_t offset[2];
    unsigned mask = 0;
    ASSERT_GE(H5Dget_chunk_info(ds, space, 5, offset, &mask, &addr, &size), 0);  // rows 50..59
    EXPECT_EQ(offset[0], 50u);
    H5Sclose(space);
    H5Dclose(ds);
    H5Fclose(file);
  }
  std::string bytes = testing::read_text(f);
  ASSERT_LE(addr + size, bytes.size());
  for (hsize_t i = 0; i < size; ++i) bytes[std::size_t(addr + i)] = char(0xA5 ^ i);
  testing::write_text(f, bytes);

  RowReader reader(f + ":/x");
  EXPECT_EQ(reader.read(50).rows(), 50);
  const std::string e = error_of([&] { reader.read(10); });
  EXPECT_TRUE(contains(e, "'" + f + ":/x': cannot read rows 50 to 59")) << e;
  EXPECT_THROW(load_dataset(f + ":/x"), FormatError);
}

// Two readers on two threads: HDF5's serial build is not thread-safe, neuncut's lock makes it so.
TEST_F(Hdf5, ReadersOnTwoThreadsGetTheirRows) {
  const MatrixF whole = load_dataset(file_ + ":/packed").features;
  MatrixF got[2];
  std::thread threads[2];
  for (int t = 0; t < 2; ++t)
    threads[t] = std::thread([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat) got[t] = read_in_blocks(file_ + ":/packed", 3 + t);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(got[0], whole);
  EXPECT_EQ(got[1], whole);
}

TEST_F(Hdf5, PredictOnHdf5WritesTheBytesOfPredictOnNpy) {
#ifndef NEUNCUT_CLI_PATH
  GTEST_SKIP() << "CLI not built";
#else
  using testing::run_cli;
  const std::string cwd = dir_.file("");
  ASSERT_EQ(run_cli("generate --kind blobs -n 300 --clusters 3 --noise 0.5 --seed 4 --out " + dir_.file("x.npy"), cwd)
                .exit_code,
            0);
  ASSERT_EQ(
      run_cli("fit --data " + dir_.file("x.npy") + " --k 3 --epochs 2 --hidden 8 --quiet --model " + dir_.file("m.nnc"),
              cwd)
          .exit_code,
      0);
  // The same float32 values in an HDF5 file, chunked and compressed.
  const MatrixF x = read_npy_matrix(dir_.file("x.npy"));
  write_h5(dir_.file("x.h5"), {{"/data/x",
                                H5T_IEEE_F32LE,
                                H5T_NATIVE_FLOAT,
                                {hsize_t(x.rows()), hsize_t(x.cols())},
                                x.data(),
                                {64, hsize_t(x.cols())}}});
  const auto npy = run_cli("predict --model " + dir_.file("m.nnc") + " --data " + dir_.file("x.npy") +
                               " --labels-out " + dir_.file("from-npy.npy") + " --proba-out " + dir_.file("p-npy.npy"),
                           cwd);
  ASSERT_EQ(npy.exit_code, 0) << npy.err;
  for (const char* chunk : {"1", "7", "100000"}) {
    SCOPED_TRACE(std::string("--chunk-rows ") + chunk);
    const auto h5 =
        run_cli("predict --model " + dir_.file("m.nnc") + " --data " + dir_.file("x.h5") + ":/data/x --chunk-rows " +
                    chunk + " --labels-out " + dir_.file("from-h5.npy") + " --proba-out " + dir_.file("p-h5.npy"),
                cwd);
    ASSERT_EQ(h5.exit_code, 0) << h5.err;
    EXPECT_EQ(testing::read_text(dir_.file("from-h5.npy")), testing::read_text(dir_.file("from-npy.npy")));
    EXPECT_EQ(testing::read_text(dir_.file("p-h5.npy")), testing::read_text(dir_.file("p-npy.npy")));
  }
  // A dataset that is not there: an error naming it, a non-zero exit, and no output file.
  const auto bad = run_cli("predict --model " + dir_.file("m.nnc") + " --data " + dir_.file("x.h5") +
                               ":/data/nope --labels-out " + dir_.file("none.npy"),
                           cwd);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_TRUE(contains(bad.err, "has no dataset '/data/nope'")) << bad.err;
  EXPECT_TRUE(contains(bad.err, "/data/x (float32, 300 x 2)")) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("none.npy")));
  // HDF5 prints nothing of its own.
  EXPECT_FALSE(contains(bad.err, "HDF5-DIAG")) << bad.err;
#endif
}

}  // namespace
}  // namespace neuncut
