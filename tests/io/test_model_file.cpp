// The model container: corrupted, truncated, foreign and newer files are refused with a
// clear message; writes are atomic; old files stay readable (fixtures in tests/data).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "neuncut/core/error.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"
#include "test_util.hpp"

using namespace neuncut;

namespace {
std::string saved_model(const neuncut::testing::TempDir& dir) {
  SyntheticParams sp;
  sp.n_samples = 200;
  const Dataset ds = make_synthetic(sp);
  NeuNcutParams p;
  p.n_clusters = 3;
  p.hidden = {8};
  p.epochs = 2;
  p.threads = 1;
  NeuNcut model(p);
  model.fit(ds.features);
  model.save(dir.file("m.nnc"));
  return dir.file("m.nnc");
}

void expect_format_error(const std::string& path, const std::string& fragment) {
  try {
    NeuNcut::load(path);
    ADD_FAILURE() << "expected FormatError containing '" << fragment << "'";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(ModelFile, RefusesTruncatedFiles) {
  neuncut::testing::TempDir dir;
  const std::string path = saved_model(dir);
  const std::string bytes = neuncut::testing::read_text(path);
  for (std::size_t keep : {std::size_t(0), std::size_t(10), std::size_t(31), bytes.size() / 2, bytes.size() - 1}) {
    neuncut::testing::write_text(dir.file("t.nnc"), bytes.substr(0, keep));
    EXPECT_THROW(NeuNcut::load(dir.file("t.nnc")), FormatError) << keep;
  }
}

TEST(ModelFile, RefusesCorruptedPayload) {
  neuncut::testing::TempDir dir;
  std::string bytes = neuncut::testing::read_text(saved_model(dir));
  bytes[bytes.size() / 2] ^= 0x10;
  neuncut::testing::write_text(dir.file("c.nnc"), bytes);
  expect_format_error(dir.file("c.nnc"), "checksum");
}

TEST(ModelFile, RefusesNewerVersionAndForeignFiles) {
  neuncut::testing::TempDir dir;
  const std::string path = saved_model(dir);
  // Rewrite with a newer version and a valid checksum: the version check must be the one that fires.
  const ModelFileContents contents = read_model_file(path);
  std::string bytes = neuncut::testing::read_text(path);
  const std::uint32_t newer = kModelFormatVersion + 1;
  std::memcpy(bytes.data() + 8, &newer, 4);
  neuncut::testing::write_text(dir.file("v.nnc"), bytes);
  expect_format_error(dir.file("v.nnc"), "newer");
  neuncut::testing::write_text(dir.file("x.nnc"), "this is not a model at all, just some text of enough length");
  expect_format_error(dir.file("x.nnc"), "bad magic");
  EXPECT_THROW(NeuNcut::load(dir.file("missing.nnc")), IoError);
  // A valid container holding another method.
  write_model_file(dir.file("k.nnc"), ModelMethod::KMeans, contents.payload);
  expect_format_error(dir.file("k.nnc"), "kmeans");
}

TEST(ModelFile, FailedSaveLeavesNothingAndKeepsExistingFile) {
  neuncut::testing::TempDir dir;
  EXPECT_THROW(write_model_file(dir.file("no/such/dir/m.nnc"), ModelMethod::NeuNcut, {}), IoError);
  const std::string path = saved_model(dir);
  const std::string before = neuncut::testing::read_text(path);
  NeuNcut unfitted;
  EXPECT_THROW(unfitted.save(path), InvalidArgument);
  EXPECT_EQ(neuncut::testing::read_text(path), before);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path();
}

TEST(ModelFile, NonFiniteFloatsAreRefusedNamingTheField) {
  ByteWriter out;
  const float values[3] = {1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f};
  out.floats(values, 3);
  ByteReader in(out.bytes(), "model file 'm.nnc'");
  try {
    in.floats("network weights");
    ADD_FAILURE() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("network weights hold a non-finite value (NaN at element 1)"),
              std::string::npos)
        << e.what();
  }
}

// A model written by neuncut 0.1 (format 1) with the labels it gave; later releases must
// keep reading it and predicting the same labels.
TEST(ModelFile, ReadsVersion1Fixture) {
  const std::string dir = NEUNCUT_TEST_DATA_DIR;
  const NeuNcut model = NeuNcut::load(dir + "/neuncut_v1_blobs.nnc");
  const MatrixF X = read_npy_matrix(dir + "/blobs_200.npy");
  const Labels expected = read_npy_labels(dir + "/neuncut_v1_blobs_labels.npy");
  EXPECT_EQ(model.predict(X), expected);
}

// Layer widths of 2^24 pass the per-width bound but ask for 2^48 weights: the loaders must
// compare the stored weight count with the shape before building the network (it threw
// std::bad_alloc, or allocated what a corrupted file claimed).
TEST(ModelFile, NetworkShapeIsCheckedAgainstTheWeightsBeforeAllocating) {
  neuncut::testing::TempDir dir;
  Preprocessor preprocessor(FeatureScaling::None, false);
  preprocessor.fit(MatrixF::Ones(3, 4));
  const std::vector<std::int64_t> widths = {4, std::int64_t(1) << 24, std::int64_t(1) << 24,
                                            10};  // k = 10, the default
  auto network = [&](ByteWriter& w) {
    w.u64(widths.size());
    for (std::int64_t width : widths) w.i64(width);
    w.floats(nullptr, 0);
  };
  ByteWriter neuncut_payload;
  neuncut_payload.u64(0);  // no stored parameters: the defaults
  preprocessor.save(neuncut_payload);
  neuncut_payload.f64(1.0);  // sigma
  network(neuncut_payload);
  write_model_file(dir.file("n.nnc"), ModelMethod::NeuNcut, neuncut_payload.bytes());
  expect_format_error(dir.file("n.nnc"), "weight count");

  ByteWriter spectralnet_payload;
  spectralnet_payload.u32(1);  // payload version
  spectralnet_payload.u64(0);
  preprocessor.save(spectralnet_payload);
  network(spectralnet_payload);
  write_model_file(dir.file("s.nnc"), ModelMethod::SpectralNet, spectralnet_payload.bytes());
  try {
    SpectralNet::load(dir.file("s.nnc"));
    ADD_FAILURE() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("weight count"), std::string::npos) << e.what();
  }
}
