// Tests for src/io/npy.cpp, src/io/idx.cpp, src/io/csv.cpp and src/io/dataset.cpp.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <zlib.h>
#include <numeric>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>

#include "io/fashion_mnist.hpp"
#include "io/file_builders.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"
#include "test_util.hpp"

namespace neuncut {
namespace {

using testing::be_bytes;
using testing::expect_throw_with;
using testing::idx_file;
using testing::le_bytes;
using testing::npy_dict;
using testing::npy_file;
using testing::read_text;
using testing::TempDir;
using testing::write_gz;
using testing::write_text;

bool dir_is_empty_but(const std::filesystem::path& dir, std::size_t expected_files) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                                std::filesystem::directory_iterator())) == expected_files;
}

MatrixF sample_matrix() {
  MatrixF m(3, 4);
  m << 1.5f, -2.25f, 0.0f, 3.0e-7f, 1e30f, -0.1f, 7.0f, 8.0f, 0.333333343f, 10.0f, -11.0f, 12.5f;
  return m;
}

// ---------------------------------------------------------------- npy

TEST(Npy, MatrixRoundTripAndAlignment) {
  TempDir dir;
  const MatrixF m = sample_matrix();
  write_npy(dir.file("m.npy"), m);
  EXPECT_EQ(read_npy_matrix(dir.file("m.npy")), m);
  const std::string bytes = read_text(dir.file("m.npy"));
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const std::size_t header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(bytes[10 + header_len - 1], '\n');
  EXPECT_NE(bytes.find("'shape': (3, 4)"), std::string::npos);
  EXPECT_EQ(bytes.size(), 10 + header_len + 12 * sizeof(float));
}

TEST(Npy, LabelsRoundTrip) {
  TempDir dir;
  const Labels labels = {0, 3, -1, 2147483647, -2147483647 - 1, 5};
  write_npy(dir.file("l.npy"), labels);
  EXPECT_EQ(read_npy_labels(dir.file("l.npy")), labels);
  EXPECT_NE(read_text(dir.file("l.npy")).find("'descr': '<i4'"), std::string::npos);
  EXPECT_NE(read_text(dir.file("l.npy")).find("'shape': (6,)"), std::string::npos);
}

TEST(Npy, EmptyArraysRoundTrip) {
  TempDir dir;
  write_npy(dir.file("e.npy"), MatrixF(0, 5));
  const MatrixF e = read_npy_matrix(dir.file("e.npy"));
  EXPECT_EQ(e.rows(), 0);
  EXPECT_EQ(e.cols(), 5);
  write_npy(dir.file("l.npy"), Labels{});
  EXPECT_TRUE(read_npy_labels(dir.file("l.npy")).empty());
}

template <class T>
void check_dtype(const std::string& descr) {
  SCOPED_TRACE(descr);
  TempDir dir;
  const std::vector<T> values = {0, 1, 2, 3, 4, 5};
  write_text(dir.file("a.npy"), npy_file(npy_dict(descr, "(2, 3)"), le_bytes(values)));
  MatrixF expected(2, 3);
  expected << 0, 1, 2, 3, 4, 5;
  EXPECT_EQ(read_npy_matrix(dir.file("a.npy")), expected);
  write_text(dir.file("l.npy"), npy_file(npy_dict(descr, "(6,)"), le_bytes(values)));
  EXPECT_EQ(read_npy_labels(dir.file("l.npy")), (Labels{0, 1, 2, 3, 4, 5}));
}

TEST(Npy, ReadsEveryDtype) {
  testing::for_each_npy_dtype([]<class T>(const std::string& descr) {
    if (descr != "|b1") check_dtype<T>(descr);  // bool: NegativeValuesAndBool
  });
  check_dtype<std::uint8_t>("<u1");  // byte order is meaningless for one byte
}

TEST(Npy, NegativeValuesAndBool) {
  TempDir dir;
  write_text(dir.file("a.npy"), npy_file(npy_dict("<i2", "(3,)"), le_bytes(std::vector<std::int16_t>{-7, 0, 300})));
  EXPECT_EQ(read_npy_labels(dir.file("a.npy")), (Labels{-7, 0, 300}));
  write_text(dir.file("b.npy"), npy_file(npy_dict("|b1", "(3,)"), std::string("\x01\x00\x01", 3)));
  EXPECT_EQ(read_npy_labels(dir.file("b.npy")), (Labels{1, 0, 1}));
}

TEST(Npy, FormatVersions1To3) {
  TempDir dir;
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  for (int major : {1, 2, 3}) {
    SCOPED_TRACE(major);
    write_text(dir.file("v.npy"), npy_file(npy_dict("<f4", "(3, 2)"), le_bytes(values), major));
    const MatrixF m = read_npy_matrix(dir.file("v.npy"));
    ASSERT_EQ(m.rows(), 3);
    ASSERT_EQ(m.cols(), 2);
    EXPECT_EQ(m(2, 1), 6.0f);
  }
}

TEST(Npy, OneDimensionalIsAColumn) {
  TempDir dir;
  write_text(dir.file("v.npy"), npy_file(npy_dict("<f8", "(4,)"), le_bytes(std::vector<double>{1, 2, 3, 4})));
  const MatrixF m = read_npy_matrix(dir.file("v.npy"));
  EXPECT_EQ(m.rows(), 4);
  EXPECT_EQ(m.cols(), 1);
  EXPECT_EQ(m(3, 0), 4.0f);
}

TEST(Npy, HeaderSpellingVariants) {
  TempDir dir;
  const std::string payload = le_bytes(std::vector<float>{1, 2, 3, 4, 5, 6});
  for (const std::string& dict : {
           std::string("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}"),
           std::string("{'shape':(2,3),'fortran_order':False,'descr':'<f4'}"),
           std::string("{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }"),
           std::string("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }"),
       }) {
    SCOPED_TRACE(dict);
    write_text(dir.file("h.npy"), npy_file(dict, payload));
    const MatrixF m = read_npy_matrix(dir.file("h.npy"));
    EXPECT_EQ(m.rows(), 2);
    EXPECT_EQ(m.cols(), 3);
    EXPECT_EQ(m(1, 2), 6.0f);
  }
}

TEST(Npy, MalformedFilesAreFormatErrors) {
  TempDir dir;
  const std::string p = dir.file("bad.npy");
  const std::string six = le_bytes(std::vector<float>{1, 2, 3, 4, 5, 6});
  auto expect_bad = [&](const std::string& bytes, const std::string& needle) {
    SCOPED_TRACE(needle);
    write_text(p, bytes);
    expect_throw_with<FormatError>([&] { read_npy_matrix(p); }, needle);
  };
  expect_bad("PK\x03\x04 not numpy at all", "bad magic");
  expect_bad("", "bad magic");
  expect_bad("\x93NUMPY\x01", "truncated");
  expect_bad(npy_file(npy_dict("<f4", "(2, 3)"), six.substr(0, 20)), "truncated");
  expect_bad(npy_file(npy_dict("<f4", "(2, 3)"), six + "xx"), "unexpected bytes");
  expect_bad(npy_file(npy_dict("<f4", "(2, 3)", true), six), "Fortran order");
  expect_bad(npy_file(npy_dict("<c8", "(2, 3)"), six), "unsupported .npy dtype '<c8'");
  expect_bad(npy_file(npy_dict("<U3", "(2,)"), six), "unsupported");
  expect_bad(npy_file(npy_dict("O", "(2,)"), six), "unsupported");
  expect_bad(npy_file(npy_dict(">f4", "(2, 3)"), six), "big-endian");
  expect_bad(npy_file(npy_dict("<f4", "()"), six.substr(0, 4)), "0-d");
  expect_bad(npy_file(npy_dict("<f4", "(2, 3, 1, 1)"), six), "1-D, 2-D or 3-D");
  // Sizes that would need terabytes or overflow 64 bits must fail before any allocation.
  expect_bad(npy_file(npy_dict("<f4", "(1125899906842624, 1)"), six), "truncated");
  expect_bad(npy_file(npy_dict("<f8", "(4294967296, 4294967296)"), six), "overflow");
  expect_bad(npy_file(npy_dict("<f4", "(99999999999999999999999, 1)"), six), "too large");
  expect_bad(npy_file(npy_dict("<f4", "(-2, 3)"), six), "non-negative");
  expect_bad(npy_file(npy_dict("<f4", "(0, 18446744073709551615)"), ""), "out of range");
  // With no rows the element count is 0, so only the row length bounds the images' pixels:
  // 2^33 * (2^31 + 1) wrapped to 2^33 columns before it was checked on its own.
  expect_bad(npy_file(npy_dict("<f4", "(0, 8589934592, 2147483649)"), ""), "out of range");
  expect_bad(npy_file("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", six), "structured");
  expect_bad(npy_file("{'descr': '<f4', 'shape': (2, 3), }", six), "needs the keys");
  expect_bad(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", six), "unexpected key");
  expect_bad(npy_file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3)}", six), "True or False");
  expect_bad(npy_file("not a dict", six), "malformed");
  std::string v4 = npy_file(npy_dict("<f4", "(2, 3)"), six);
  v4[6] = 4;
  expect_bad(v4, "version 4.0");
  std::string long_header = npy_file(npy_dict("<f4", "(2, 3)"), six);
  long_header[8] = '\xff';
  long_header[9] = '\xff';
  expect_bad(long_header, "truncated .npy header");
}

TEST(Npy, FortranOrderIsAcceptedWhereTheLayoutIsTheSame) {
  TempDir dir;
  write_text(dir.file("f.npy"), npy_file(npy_dict("<f4", "(3,)", true), le_bytes(std::vector<float>{1, 2, 3})));
  EXPECT_EQ(read_npy_matrix(dir.file("f.npy")).rows(), 3);
}

TEST(Npy, LabelValidation) {
  TempDir dir;
  write_text(dir.file("f.npy"), npy_file(npy_dict("<f8", "(3,)"), le_bytes(std::vector<double>{0, 1, 2})));
  EXPECT_EQ(read_npy_labels(dir.file("f.npy")), (Labels{0, 1, 2}));
  write_text(dir.file("c.npy"), npy_file(npy_dict("<i8", "(3, 1)"), le_bytes(std::vector<std::int64_t>{4, 5, 6})));
  EXPECT_EQ(read_npy_labels(dir.file("c.npy")), (Labels{4, 5, 6}));

  write_text(dir.file("g.npy"), npy_file(npy_dict("<f4", "(2,)"), le_bytes(std::vector<float>{0.5f, 1})));
  expect_throw_with<FormatError>([&] { read_npy_labels(dir.file("g.npy")); }, "integral");
  write_text(dir.file("n.npy"), npy_file(npy_dict("<f8", "(1,)"), le_bytes(std::vector<double>{NAN})));
  expect_throw_with<FormatError>([&] { read_npy_labels(dir.file("n.npy")); }, "integral");
  write_text(dir.file("h.npy"),
             npy_file(npy_dict("<i8", "(2,)"), le_bytes(std::vector<std::int64_t>{1, std::int64_t(1) << 40})));
  expect_throw_with<FormatError>([&] { read_npy_labels(dir.file("h.npy")); }, "int32");
  write_text(dir.file("u.npy"), npy_file(npy_dict("<u8", "(1,)"), le_bytes(std::vector<std::uint64_t>{~0ull})));
  expect_throw_with<FormatError>([&] { read_npy_labels(dir.file("u.npy")); }, "int32");
  write_text(dir.file("m.npy"), npy_file(npy_dict("<i4", "(2, 3)"), le_bytes(std::vector<int>{1, 2, 3, 4, 5, 6})));
  expect_throw_with<FormatError>([&] { read_npy_labels(dir.file("m.npy")); }, "1-D");
}

TEST(Npy, MissingFileIsIoErrorNamingIt) {
  TempDir dir;
  expect_throw_with<IoError>([&] { read_npy_matrix(dir.file("nope.npy")); }, "nope.npy");
}

// ---------------------------------------------------------------- IDX

TEST(Idx, PlainAndGzipImages) {
  TempDir dir;
  std::string pixels;
  for (int i = 0; i < 12; ++i) pixels += static_cast<char>(i * 20);
  const std::string bytes = idx_file(0x08, {2, 2, 3}, pixels);
  write_text(dir.file("img-idx3-ubyte"), bytes);
  write_gz(dir.file("img-idx3-ubyte.gz"), bytes);
  write_gz(dir.file("renamed-no-extension"), bytes);
  for (const char* name : {"img-idx3-ubyte", "img-idx3-ubyte.gz", "renamed-no-extension"}) {
    SCOPED_TRACE(name);
    const MatrixF m = read_idx_matrix(dir.file(name));
    ASSERT_EQ(m.rows(), 2);
    ASSERT_EQ(m.cols(), 6);
    EXPECT_EQ(m(0, 0), 0.0f);
    EXPECT_EQ(m(1, 5), 220.0f);
  }
}

TEST(Idx, ImageFilesAndThreeDimensionalNpyCarryTheirImageShape) {
  TempDir dir;
  std::string pixels;
  for (int i = 0; i < 12; ++i) pixels += static_cast<char>(i);
  write_text(dir.file("img-idx3-ubyte"), idx_file(0x08, {2, 2, 3}, pixels));
  const Dataset idx = load_dataset(dir.file("img-idx3-ubyte"));
  EXPECT_EQ(idx.image_shape, "2x3");
  EXPECT_EQ(idx.features.cols(), 6);
  write_text(dir.file("flat-idx2-ubyte"), idx_file(0x08, {2, 6}, pixels));
  EXPECT_EQ(load_dataset(dir.file("flat-idx2-ubyte")).image_shape, "");

  std::vector<float> values(12);
  std::iota(values.begin(), values.end(), 0.0f);
  write_text(dir.file("img.npy"), npy_file(npy_dict("<f4", "(2, 2, 3)"), le_bytes(values)));
  const Dataset npy = load_dataset(dir.file("img.npy"));
  EXPECT_EQ(npy.image_shape, "2x3");
  ASSERT_EQ(npy.features.rows(), 2);
  ASSERT_EQ(npy.features.cols(), 6);
  EXPECT_EQ(npy.features(1, 0), 6.0f);  // row-major pixels, one image per row
  EXPECT_EQ(npy.features(1, 5), 11.0f);
  write_text(dir.file("flat.npy"), npy_file(npy_dict("<f4", "(2, 6)"), le_bytes(values)));
  EXPECT_EQ(load_dataset(dir.file("flat.npy")).image_shape, "");
  write_text(dir.file("4d.npy"), npy_file(npy_dict("<f4", "(2, 1, 2, 3)"), le_bytes(values)));
  EXPECT_THROW(load_dataset(dir.file("4d.npy")), FormatError);
  if (std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz")) {
    EXPECT_EQ(load_dataset("fashion-mnist").image_shape, "28x28");
  }
}

TEST(Idx, EveryPayloadType) {
  TempDir dir;
  const std::string p = dir.file("x.idx");
  write_text(p, idx_file(0x09, {3}, std::string("\xff\x00\x05", 3)));
  EXPECT_EQ(read_idx_labels(p), (Labels{-1, 0, 5}));
  write_text(p, idx_file(0x0B, {3}, be_bytes(std::vector<std::int16_t>{-300, 0, 300})));
  EXPECT_EQ(read_idx_labels(p), (Labels{-300, 0, 300}));
  write_text(p, idx_file(0x0C, {2}, be_bytes(std::vector<std::int32_t>{-100000, 100000})));
  EXPECT_EQ(read_idx_labels(p), (Labels{-100000, 100000}));
  write_text(p, idx_file(0x0D, {2, 1}, be_bytes(std::vector<float>{1.5f, -2.0f})));
  EXPECT_EQ(read_idx_matrix(p)(0, 0), 1.5f);
  EXPECT_EQ(read_idx_matrix(p)(1, 0), -2.0f);
  write_text(p, idx_file(0x0E, {1, 2}, be_bytes(std::vector<double>{0.25, 4.0})));
  EXPECT_EQ(read_idx_matrix(p)(0, 1), 4.0f);
  write_text(p, idx_file(0x0E, {2}, be_bytes(std::vector<double>{0.25, 4.0})));
  expect_throw_with<FormatError>([&] { read_idx_labels(p); }, "integral");
}

TEST(Idx, MalformedFilesAreFormatErrors) {
  TempDir dir;
  const std::string p = dir.file("bad-idx"), gz = dir.file("bad-idx.gz");
  auto expect_bad = [&](const std::string& bytes, const std::string& needle) {
    SCOPED_TRACE(needle);
    write_text(p, bytes);
    expect_throw_with<FormatError>([&] { read_idx_matrix(p); }, needle);
    write_gz(gz, bytes);
    expect_throw_with<FormatError>([&] { read_idx_matrix(gz); }, needle);
  };
  expect_bad(idx_file(0x08, {2, 3}, "12345"), "truncated");
  expect_bad(idx_file(0x08, {2, 3}, "1234567"), "unexpected bytes");
  expect_bad(idx_file(0x07, {2}, "12"), "bad magic");
  expect_bad(std::string("\x01\x00\x08\x01\x00\x00\x00\x01x", 9), "bad magic");
  expect_bad(idx_file(0x08, {}, ""), "0 dimensions");
  expect_bad(std::string("\x00\x00\x08\x02\x00\x00", 6), "truncated IDX header");
  // A header claiming 2^32 x 2^32 x 2^32 elements overflows; 2^31 x 2^31 must not be allocated.
  expect_bad(idx_file(0x08, {0xffffffffu, 0xffffffffu, 0xffffffffu}, "abc"), "overflow");
  expect_bad(idx_file(0x08, {0x80000000u, 0x80000000u}, "abc"), "truncated");
  // No images of (2^32 - 1) x (2^32 - 1) pixels: an empty file whose row length exceeds
  // Eigen's index range (it became a negative column count).
  expect_bad(idx_file(0x08, {0, 0xffffffffu, 0xffffffffu}, ""), "out of range");
  write_text(p, idx_file(0x08, {2, 3}, "123456"));
  expect_throw_with<FormatError>([&] { read_idx_labels(p); }, "1-D");
}

TEST(Idx, CorruptGzipStream) {
  TempDir dir;
  std::string pixels(5000, '\0');
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<char>(i * 7919 % 251);
  write_gz(dir.file("full.gz"), idx_file(0x08, {50, 100}, pixels));
  const std::string gz = read_text(dir.file("full.gz"));
  write_text(dir.file("cut.gz"), gz.substr(0, gz.size() / 2));
  EXPECT_THROW(read_idx_matrix(dir.file("cut.gz")), FormatError);
  std::string garbled = gz;
  for (std::size_t i = 20; i < garbled.size() - 8; i += 3) garbled[i] = static_cast<char>(~garbled[i]);
  write_text(dir.file("garbled.gz"), garbled);
  EXPECT_THROW(read_idx_matrix(dir.file("garbled.gz")), FormatError);
}

TEST(Idx, LabelsAcceptIntegerTypes) {
  TempDir dir;
  write_gz(dir.file("labels-idx1-ubyte.gz"), idx_file(0x08, {4}, std::string("\x00\x09\x03\x01", 4)));
  EXPECT_EQ(read_idx_labels(dir.file("labels-idx1-ubyte.gz")), (Labels{0, 9, 3, 1}));
  EXPECT_EQ(load_labels(dir.file("labels-idx1-ubyte.gz")), (Labels{0, 9, 3, 1}));
}

// ---------------------------------------------------------------- CSV

TEST(Csv, PlainNumbers) {
  TempDir dir;
  write_text(dir.file("a.csv"), "1,2,3\n4.5, -5e-1 ,+6\n\n7,8,9\n");
  const Dataset d = read_csv(dir.file("a.csv"));
  MatrixF expected(3, 3);
  expected << 1, 2, 3, 4.5f, -0.5f, 6, 7, 8, 9;
  EXPECT_EQ(d.features, expected);
  EXPECT_TRUE(d.labels.empty());
}

TEST(Csv, HeaderDetectedOrForced) {
  TempDir dir;
  write_text(dir.file("h.csv"), "x,y\r\n1,2\r\n3,4\r\n");
  EXPECT_EQ(read_csv(dir.file("h.csv")).features.rows(), 2);
  CsvOptions forced;
  forced.header = 1;
  write_text(dir.file("n.csv"), "10,20\n1,2\n3,4\n");
  const Dataset d = read_csv(dir.file("n.csv"), forced);
  EXPECT_EQ(d.features.rows(), 2);
  EXPECT_EQ(d.features(0, 0), 1.0f);
  EXPECT_EQ(read_csv(dir.file("n.csv")).features.rows(), 3);
  CsvOptions none;
  none.header = 0;
  expect_throw_with<FormatError>([&] { read_csv(dir.file("h.csv"), none); }, "line 1, column 1");
  write_text(dir.file("only.csv"), "a,b,c\n");
  const Dataset empty = read_csv(dir.file("only.csv"));
  EXPECT_EQ(empty.features.rows(), 0);
  EXPECT_EQ(empty.features.cols(), 3);
}

TEST(Csv, LabelColumn) {
  TempDir dir;
  write_text(dir.file("l.csv"), "f1,label,f2\n0.5,3,1\n1.5,-2,2\n2.5,7.0,3\n");
  CsvOptions opt;
  opt.label_column = 1;
  const Dataset d = read_csv(dir.file("l.csv"), opt);
  MatrixF expected(3, 2);
  expected << 0.5f, 1, 1.5f, 2, 2.5f, 3;
  EXPECT_EQ(d.features, expected);
  EXPECT_EQ(d.labels, (Labels{3, -2, 7}));
  write_text(dir.file("bad.csv"), "0.5,3,1\n1.5,2.5,2\n");
  expect_throw_with<FormatError>([&] { read_csv(dir.file("bad.csv"), opt); }, "line 2, column 2");
  opt.label_column = 3;
  expect_throw_with<InvalidArgument>([&] { read_csv(dir.file("l.csv"), opt); }, "label column 3");
}

TEST(Csv, MalformedInput) {
  TempDir dir;
  write_text(dir.file("r.csv"), "1,2,3\n4,5,6\n7,8\n");
  expect_throw_with<FormatError>([&] { read_csv(dir.file("r.csv")); }, "line 3");
  write_text(dir.file("t.csv"), "1,2\n3,abc\n");
  expect_throw_with<FormatError>([&] { read_csv(dir.file("t.csv")); }, "line 2, column 2: 'abc'");
  write_text(dir.file("e.csv"), "1,,2\n");
  expect_throw_with<FormatError>([&] { read_csv(dir.file("e.csv")); }, "line 1, column 2");
  write_text(dir.file("big.csv"), "1\n1e39\n");
  expect_throw_with<FormatError>([&] { read_csv(dir.file("big.csv")); }, "float32 range");
  write_text(dir.file("empty.csv"), "");
  expect_throw_with<FormatError>([&] { read_csv(dir.file("empty.csv")); }, "empty");
  write_text(dir.file("blank.csv"), "\n  \n\n");
  expect_throw_with<FormatError>([&] { read_csv(dir.file("blank.csv")); }, "empty");
  expect_throw_with<IoError>([&] { read_csv(dir.file("missing.csv")); }, "missing.csv");
  CsvOptions bad;
  bad.header = 2;
  EXPECT_THROW(read_csv(dir.file("r.csv"), bad), InvalidArgument);
}

TEST(Csv, DelimitersAndSpecialValues) {
  TempDir dir;
  write_text(dir.file("s.txt"), "1;2\n3;4\n");
  CsvOptions semi;
  semi.delimiter = ';';
  EXPECT_EQ(read_csv(dir.file("s.txt"), semi).features(1, 1), 4.0f);
  write_text(dir.file("w.txt"), "  1   2\t3\n4 5  6  \n");
  CsvOptions space;
  space.delimiter = ' ';
  const MatrixF w = read_csv(dir.file("w.txt"), space).features;
  EXPECT_EQ(w.rows(), 2);
  EXPECT_EQ(w.cols(), 3);
  EXPECT_EQ(w(1, 2), 6.0f);
  // NaN and Inf are read as written; the estimators reject non-finite input later.
  write_text(dir.file("n.csv"), "nan,inf,-inf\n");
  const MatrixF n = read_csv(dir.file("n.csv")).features;
  EXPECT_TRUE(std::isnan(n(0, 0)));
  EXPECT_TRUE(std::isinf(n(0, 1)) && n(0, 1) > 0);
  EXPECT_TRUE(std::isinf(n(0, 2)) && n(0, 2) < 0);
}

TEST(Csv, WriteReadRoundTripIsExact) {
  TempDir dir;
  const MatrixF m = sample_matrix();
  write_csv(dir.file("m.csv"), m);
  EXPECT_EQ(read_csv(dir.file("m.csv")).features, m);
  const Labels labels = {3, 1, -4, 1, 5};
  write_csv(dir.file("l.csv"), labels);
  EXPECT_EQ(read_text(dir.file("l.csv")), "3\n1\n-4\n1\n5\n");
  EXPECT_EQ(load_labels(dir.file("l.csv")), labels);
}

// ---------------------------------------------------------------- dispatch and atomic writes

TEST(Dataset, LoadDispatchesByExtension) {
  TempDir dir;
  const MatrixF m = sample_matrix();
  write_matrix(dir.file("m.npy"), m);
  write_matrix(dir.file("m.csv"), m);
  write_matrix(dir.file("m.txt"), m);
  std::filesystem::copy_file(dir.file("m.npy"), dir.file("UPPER.NPY"));
  std::vector<float> raw(m.data(), m.data() + m.size());
  write_text(dir.file("m-idx2-float"), idx_file(0x0D, {3, 4}, be_bytes(raw)));
  for (const char* name : {"m.npy", "m.csv", "m.txt", "UPPER.NPY", "m-idx2-float"}) {
    SCOPED_TRACE(name);
    const Dataset d = load_dataset(dir.file(name));
    EXPECT_EQ(d.features, m);
    EXPECT_TRUE(d.labels.empty());
    EXPECT_EQ(d.name, dir.file(name));
  }
  write_text(dir.file("l.csv"), "1,2,0\n3,4,1\n");
  CsvOptions opt;
  opt.label_column = 2;
  EXPECT_EQ(load_dataset(dir.file("l.csv"), opt).labels, (Labels{0, 1}));
}

TEST(Dataset, MissingPathsAreIoErrors) {
  TempDir dir;
  expect_throw_with<IoError>([&] { load_dataset(dir.file("nothing-here.npy")); }, "nothing-here.npy");
  expect_throw_with<IoError>([&] { load_dataset(dir.file("nothing-here")); }, "nothing-here");
  expect_throw_with<IoError>([&] { load_dataset(dir.path().string()); }, "directory");
  expect_throw_with<IoError>([&] { load_labels(dir.file("none.csv")); }, "none.csv");
  EXPECT_THROW(load_dataset(""), InvalidArgument);
}

TEST(Dataset, LoadLabelsFormats) {
  TempDir dir;
  const Labels labels = {2, 0, 1, 1};
  write_labels(dir.file("l.npy"), labels);
  write_labels(dir.file("l.txt"), labels);
  write_text(dir.file("h.csv"), "label\n2\n0\n1\n1\n");
  write_text(dir.file("l-idx1-ubyte"), idx_file(0x08, {4}, std::string("\x02\x00\x01\x01", 4)));
  for (const char* name : {"l.npy", "l.txt", "h.csv", "l-idx1-ubyte"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(load_labels(dir.file(name)), labels);
  }
  write_text(dir.file("two.csv"), "1,2\n3,4\n");
  expect_throw_with<FormatError>([&] { load_labels(dir.file("two.csv")); }, "one column");
}

TEST(Dataset, WritersRejectUnknownExtensions) {
  TempDir dir;
  expect_throw_with<InvalidArgument>([&] { write_labels(dir.file("out.bin"), Labels{1}); }, "'.bin'");
  expect_throw_with<InvalidArgument>([&] { write_matrix(dir.file("out"), MatrixF(1, 1)); }, "unsupported extension");
  EXPECT_TRUE(dir_is_empty_but(dir.path(), 0));
}

TEST(Dataset, FailedWriteIntoMissingDirectoryLeavesNothing) {
  TempDir dir;
  const std::string target = dir.file("no-such-dir/out.npy");
  EXPECT_THROW(write_matrix(target, sample_matrix()), IoError);
  EXPECT_THROW(write_labels(dir.file("no-such-dir/out.csv"), Labels{1, 2}), IoError);
  EXPECT_FALSE(std::filesystem::exists(dir.file("no-such-dir")));
  EXPECT_TRUE(dir_is_empty_but(dir.path(), 0));
}

TEST(Dataset, FailedWriteKeepsTheExistingFile) {
  TempDir dir;
  const std::string target = dir.file("keep.npy");
  write_labels(target, Labels{1, 2, 3});
  const std::string before = read_text(target);

  // A file-size limit makes the write itself fail midway (EFBIG), even when run as root.
  struct rlimit saved {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 1024;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  bool threw = false;
  try {
    write_matrix(target, MatrixF::Ones(100, 100));
  } catch (const IoError&) {
    threw = true;
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(threw);
  EXPECT_EQ(read_text(target), before);
  EXPECT_TRUE(dir_is_empty_but(dir.path(), 1)) << "a temporary file was left behind";

  // Renaming onto a directory fails after the temporary file was written; it must be removed.
  std::filesystem::create_directories(dir.file("occupied.csv/child"));
  EXPECT_THROW(write_labels(dir.file("occupied.csv"), Labels{1}), IoError);
  EXPECT_TRUE(std::filesystem::is_directory(dir.file("occupied.csv/child")));
  EXPECT_TRUE(dir_is_empty_but(dir.path(), 2));
}

TEST(Dataset, OverwriteReplacesTheFile) {
  TempDir dir;
  write_labels(dir.file("l.csv"), Labels{1, 2, 3});
  write_labels(dir.file("l.csv"), Labels{4});
  EXPECT_EQ(read_text(dir.file("l.csv")), "4\n");
}

TEST(Dataset, FashionMnist) {
  if (!std::filesystem::exists(std::filesystem::path(kFashionMnistDir) / "train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const Dataset d = load_dataset("fashion-mnist");
  ASSERT_EQ(d.features.rows(), 70000);
  ASSERT_EQ(d.features.cols(), 784);
  ASSERT_EQ(d.labels.size(), 70000u);
  EXPECT_EQ(d.name, "fashion-mnist");
  EXPECT_GE(d.features.minCoeff(), 0.0f);
  EXPECT_EQ(d.features.maxCoeff(), 1.0f);
  std::map<int, int> counts;
  for (int label : d.labels) ++counts[label];
  ASSERT_EQ(counts.size(), 10u);
  for (const auto& [label, count] : counts) EXPECT_EQ(count, 7000) << "label " << label;
  // The first training image is an ankle boot (label 9); the first test image too.
  EXPECT_EQ(d.labels[0], 9);
  EXPECT_EQ(d.labels[60000], 9);
}

}  // namespace
}  // namespace neuncut
