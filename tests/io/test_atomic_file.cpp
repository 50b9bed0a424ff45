// Atomic output files: destinations that are not regular files are refused, links to regular
// files are followed, a set of files is committed all together or not at all, and temporary
// files can be removed from a signal handler.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "neuncut/core/error.hpp"
#include "neuncut/io/atomic_file.hpp"
#include "test_util.hpp"

using namespace neuncut;
using neuncut::testing::TempDir;
namespace fs = std::filesystem;

namespace {
void write_file(const std::string& path, const std::string& text) {
  AtomicFile file(path);
  file.stream() << text;
  file.commit();
}
bool has_temporary_files(const fs::path& dir) {
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) return true;
  return false;
}
}  // namespace

TEST(AtomicFile, DestinationsThatAreNotRegularFilesAreRefused) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  fs::create_directory(dir.file("folder"));
  fs::create_symlink(dir.file("nowhere"), dir.file("dangling"));
  for (const char* name : {"fifo", "folder", "dangling"}) {
    EXPECT_THROW(resolve_output_destination(dir.file(name)), IoError) << name;
    EXPECT_THROW(write_file(dir.file(name), "x"), IoError) << name;
  }
  EXPECT_TRUE(fs::is_fifo(dir.file("fifo")));
  EXPECT_FALSE(fs::exists(dir.file("nowhere")));
  EXPECT_THROW(check_output_directory(dir.file("missing/out.npy")), IoError);
  // A link to a regular file: the target is replaced, the link stays.
  neuncut::testing::write_text(dir.file("target"), "old");
  fs::create_symlink(dir.file("target"), dir.file("link"));
  EXPECT_EQ(resolve_output_destination(dir.file("link")), fs::canonical(dir.file("target")).string());
  write_file(dir.file("link"), "new");
  EXPECT_TRUE(fs::is_symlink(dir.file("link")));
  EXPECT_EQ(neuncut::testing::read_text(dir.file("target")), "new");
  EXPECT_FALSE(has_temporary_files(dir.path()));
}

TEST(AtomicFile, ASetIsCommittedAllTogetherOrNotAtAll) {
  TempDir dir;
  neuncut::testing::write_text(dir.file("a"), "old a");
  {
    AtomicFileSet set;
    write_file(dir.file("a"), "new a");
    write_file(dir.file("b"), "new b");
    EXPECT_EQ(neuncut::testing::read_text(dir.file("a")), "old a") << "nothing renamed before commit_all";
    EXPECT_FALSE(fs::exists(dir.file("b")));
  }  // destroyed without commit_all: nothing written
  EXPECT_EQ(neuncut::testing::read_text(dir.file("a")), "old a");
  EXPECT_FALSE(fs::exists(dir.file("b")));
  EXPECT_FALSE(has_temporary_files(dir.path()));
  {
    AtomicFileSet set;
    write_file(dir.file("a"), "new a");
    write_file(dir.file("b"), "new b");
    set.commit_all();
  }
  EXPECT_EQ(neuncut::testing::read_text(dir.file("a")), "new a");
  EXPECT_EQ(neuncut::testing::read_text(dir.file("b")), "new b");
  EXPECT_FALSE(has_temporary_files(dir.path()));
  // Outside a set, a commit renames at once again.
  write_file(dir.file("c"), "c");
  EXPECT_EQ(neuncut::testing::read_text(dir.file("c")), "c");
}

TEST(AtomicFile, TemporaryFilesCanBeRemovedForASignal) {
  TempDir dir;
  AtomicFileSet set;
  write_file(dir.file("finished"), "x");   // finished, waiting in the set
  AtomicFile open_file(dir.file("open"));  // still being written
  open_file.stream() << "y";
  open_file.stream().flush();
  EXPECT_TRUE(has_temporary_files(dir.path()));
  remove_temporary_files();
  EXPECT_FALSE(has_temporary_files(dir.path()));
}
