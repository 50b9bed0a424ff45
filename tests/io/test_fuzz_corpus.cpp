// Replays the fuzzers' committed corpus (tests/fuzz/corpus/<reader>/: seeds and every input a
// fuzzer once found a bug with, named regression-*) through the same code as the harnesses,
// so that the ordinary suite, and its sanitizer build, catch a reader that regresses.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/fuzz_targets.hpp"

namespace {

using Target = void (*)(neuncut::fuzz::InputFile&, const std::uint8_t*, std::size_t);

void replay(const std::string& reader, Target target) {
  const std::filesystem::path dir = std::filesystem::path(NEUNCUT_TEST_DATA_DIR) / ".." / "fuzz" / "corpus" / reader;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::vector<std::filesystem::path> files(std::filesystem::directory_iterator(dir), {});
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << dir;
  neuncut::fuzz::InputFile file;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    std::ifstream in(path, std::ios::binary);
    const neuncut::fuzz::Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Only neuncut::Error is swallowed: any other exception fails here, a crash aborts.
    EXPECT_NO_THROW(target(file, bytes.data(), bytes.size()));
  }
}

}  // namespace

TEST(FuzzCorpus, NpyInputsAreReadOrRefusedWithAnError) { replay("npy", neuncut::fuzz::npy); }
TEST(FuzzCorpus, CsvInputsAreReadOrRefusedWithAnError) { replay("csv", neuncut::fuzz::csv); }
TEST(FuzzCorpus, IdxInputsAreReadOrRefusedWithAnError) { replay("idx", neuncut::fuzz::idx); }
TEST(FuzzCorpus, ModelInputsAreLoadedOrRefusedWithAnError) { replay("model", neuncut::fuzz::model); }
