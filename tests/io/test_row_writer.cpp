// Tests for src/io/row_writer.cpp: a file written a block of rows at a time has the bytes of
// the file written whole (write_npy, write_csv), for .npy and CSV, labels and matrices; the
// declared row count is enforced, and nothing appears until commit().
#include "neuncut/io/row_writer.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>

#include "neuncut/core/error.hpp"
#include "neuncut/io/dataset.hpp"
#include "test_util.hpp"

namespace neuncut {
namespace {

using testing::read_text;
using testing::TempDir;

MatrixF matrix_100x3() {
  MatrixF m(100, 3);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = float(i) * 0.37f - 20.0f;
  return m;
}

Labels labels_100() {
  Labels l(100);
  for (std::size_t i = 0; i < l.size(); ++i) l[i] = std::int32_t(i % 7) - 1;
  return l;
}

TEST(RowWriter, BlocksGiveTheBytesOfTheWholeWrite) {
  TempDir dir;
  const MatrixF m = matrix_100x3();
  const Labels l = labels_100();
  for (const std::string ext : {".npy", ".csv"}) {
    SCOPED_TRACE(ext);
    write_matrix(dir.file("whole-m" + ext), m);
    write_labels(dir.file("whole-l" + ext), l);
    RowWriter mw = RowWriter::matrix(dir.file("m" + ext), 100, 3);
    RowWriter lw = RowWriter::labels(dir.file("l" + ext), 100);
    for (Index lo = 0; lo < 100; lo += 7) {  // 7 does not divide 100: a short last block
      const Index rows = std::min<Index>(7, 100 - lo);
      mw.append(MatrixF(m.middleRows(lo, rows)));
      lw.append(std::span<const std::int32_t>(l.data() + lo, std::size_t(rows)));
      EXPECT_EQ(mw.written(), lo + rows);
    }
    mw.commit();
    lw.commit();
    EXPECT_EQ(read_text(dir.file("m" + ext)), read_text(dir.file("whole-m" + ext)));
    EXPECT_EQ(read_text(dir.file("l" + ext)), read_text(dir.file("whole-l" + ext)));
  }
  EXPECT_EQ(read_npy_matrix(dir.file("m.npy")), m);
  EXPECT_EQ(read_npy_labels(dir.file("l.npy")), l);
}

TEST(RowWriter, TheDeclaredRowsAreEnforcedAndNothingAppearsBeforeCommit) {
  TempDir dir;
  {
    RowWriter w = RowWriter::matrix(dir.file("m.npy"), 10, 3);
    w.append(MatrixF::Zero(7, 3));
    EXPECT_THROW(w.append(MatrixF::Zero(4, 3)), InvalidArgument);  // 11 > 10
    EXPECT_THROW(w.append(MatrixF::Zero(2, 4)), InvalidArgument);  // wrong width
    EXPECT_THROW(w.append(Labels{1, 2}), InvalidArgument);         // not a labels file
    EXPECT_THROW(w.commit(), InvalidArgument);                     // 7 of 10 rows
    EXPECT_FALSE(std::filesystem::exists(dir.file("m.npy")));
  }
  {
    RowWriter w = RowWriter::labels(dir.file("l.npy"), 3);
    w.append(Labels{1, 2});
    EXPECT_FALSE(std::filesystem::exists(dir.file("l.npy")));
  }  // destroyed without commit()
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "no file, no temporary file";
  EXPECT_THROW(RowWriter::labels(dir.file("l.bin"), 3), InvalidArgument);
}

}  // namespace
}  // namespace neuncut
