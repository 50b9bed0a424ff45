// The neuncut binary run with real flags: fit/predict/evaluate/generate, JSON summaries,
// exit codes and messages for bad input, no partial outputs, and generated docs in sync.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "neuncut/dataset.hpp"
#include "neuncut/metrics.hpp"
#include "neuncut/precision.hpp"
#include "test_util.hpp"

using neuncut::testing::run_cli;
using neuncut::testing::TempDir;

namespace {
bool has_key(const std::string& json, const std::string& key) {
  return json.find("\"" + key + "\": ") != std::string::npos;
}
double number(const std::string& json, const std::string& key) {
  const auto pos = json.find("\"" + key + "\": ");
  EXPECT_NE(pos, std::string::npos) << key;
  return std::stod(json.substr(pos + key.size() + 4));
}
}  // namespace

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef NEUNCUT_CLI_PATH
    GTEST_SKIP() << "CLI not built";
#endif
    const auto r = run_cli("generate --kind blobs -n 600 --clusters 3 --noise 0.5 --seed 2 --out " + dir.file("x.npy") +
                               " --labels-out " + dir.file("y.npy"),
                           dir.file(""));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  TempDir dir;
};

TEST_F(Cli, FitPredictEvaluateRoundTrip) {
  const auto fit = run_cli("fit --data " + dir.file("x.npy") + " --truth " + dir.file("y.npy") +
                               " --k 3 --seed 0 --threads 1 --model " + dir.file("m.nnc") + " --labels-out " +
                               dir.file("labels.npy") + " --proba-out " + dir.file("p.csv") + " --json",
                           dir.file(""));
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  for (const char* key : {"acc", "nmi", "ari", "train_seconds", "sigma", "clusters_used", "collapse"})
    EXPECT_TRUE(has_key(fit.out, key)) << key << " missing in " << fit.out;
  EXPECT_GE(number(fit.out, "acc"), 0.99);
  EXPECT_NE(fit.err.find("epoch 500/500"), std::string::npos) << "per-epoch progress expected on stderr";
  EXPECT_NE(fit.err.find("eta"), std::string::npos);

  const auto pred = run_cli("predict --model " + dir.file("m.nnc") + " --data " + dir.file("x.npy") +
                                " --threads 1 --labels-out " + dir.file("labels2.csv") + " --json",
                            dir.file(""));
  ASSERT_EQ(pred.exit_code, 0) << pred.err;
  EXPECT_EQ(neuncut::load_labels(dir.file("labels.npy")), neuncut::load_labels(dir.file("labels2.csv")));

  const auto eval = run_cli("evaluate --labels " + dir.file("labels.npy") + " --truth " + dir.file("y.npy") +
                                " --data " + dir.file("x.npy") + " --sigma 1 --json",
                            dir.file(""));
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_NEAR(number(eval.out, "acc"), number(fit.out, "acc"), 1e-9);
  EXPECT_TRUE(has_key(eval.out, "ncut"));
  EXPECT_TRUE(has_key(eval.out, "nmi_arithmetic"));
}

TEST_F(Cli, QuietSilencesProgress) {
  const auto r = run_cli("fit --data " + dir.file("x.npy") + " --k 3 --epochs 2 --quiet --json", dir.file(""));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(Cli, BadInputFailsWithMessageAndWritesNothing) {
  struct Case {
    std::string args, fragment;
  };
  const std::string X = " --data " + dir.file("x.npy");
  const std::string out = " --model " + dir.file("bad.nnc") + " --labels-out " + dir.file("bad.npy");
  const std::vector<Case> cases = {
      {"fit" + X + " --k 0" + out, "k (n_clusters) must be >= 1"},
      {"fit" + X + " --k 700" + out, "exceeds the number of points"},
      {"fit" + X + " --k 3 --sigma -1" + out, "sigma must be > 0"},
      {"fit" + X + " --k 3 --batch-size 601" + out, "batch size (601) exceeds"},
      {"fit --data " + dir.file("missing.npy") + " --k 3" + out, "missing.npy"},
      {"fit" + X + " --k 3 --optimizer sgd" + out, "unknown optimizer"},
      {"fit" + X + " --k 3 --epochs ten" + out, "epochs"},
      {"fit" + X + " --k 3 --labels-out " + dir.file("labels.txt.gz"), ".npy, .csv or .txt"},
  };
  for (const auto& c : cases) {
    const auto r = run_cli(c.args, dir.file(""));
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.exit_code, 139) << "crash: " << c.args;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << c.args << "\nstderr: " << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file("bad.nnc"))) << c.args;
    EXPECT_FALSE(std::filesystem::exists(dir.file("bad.npy"))) << c.args;
  }
  // Data with NaN, and a dimension mismatch at predict.
  neuncut::testing::write_text(dir.file("nan.csv"), "1,2\n3,nan\n5,6\n7,8\n");
  auto r = run_cli("fit --data " + dir.file("nan.csv") + " --k 2" + out, dir.file(""));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("NaN"), std::string::npos) << r.err;
  ASSERT_EQ(run_cli("fit" + X + " --k 3 --epochs 1 --quiet --model " + dir.file("m.nnc"), dir.file("")).exit_code, 0);
  neuncut::testing::write_text(dir.file("three.csv"), "1,2,3\n4,5,6\n");
  r = run_cli("predict --model " + dir.file("m.nnc") + " --data " + dir.file("three.csv") + " --labels-out " +
                  dir.file("bad.npy"),
              dir.file(""));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("3 features"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.npy")));
  neuncut::testing::write_text(dir.file("junk.nnc"), "junk");
  r = run_cli("predict --model " + dir.file("junk.nnc") + X, dir.file(""));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a neuncut model"), std::string::npos) << r.err;
}

TEST_F(Cli, HelpDocumentsEveryFlagWithDefaults) {
  for (const char* sub : {"fit", "predict", "evaluate", "ncut", "kmeans", "spectralnet"}) {
    const auto r = run_cli(std::string(sub) + " --help", dir.file(""));
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("--data"), std::string::npos) << sub;
  }
  const auto gen = run_cli("generate --help", dir.file(""));
  EXPECT_EQ(gen.exit_code, 0);
  EXPECT_NE(gen.out.find("--kind TEXT:{moons,circles,blobs,imbalanced-blobs}"), std::string::npos) << gen.out;
  const auto fit = run_cli("fit --help", dir.file(""));
  for (const char* flag : {"--k", "--train-size", "--epochs", "--sigma", "--seed", "--model", "--labels-out", "--json",
                           "--quiet", "--gamma-factor", "--gamma-step", "--gamma-max", "--optimizer", "--threads"})
    EXPECT_NE(fit.out.find(flag), std::string::npos) << flag;
  EXPECT_NE(fit.out.find("--epochs INT=0"), std::string::npos) << "defaults are shown";
}

TEST_F(Cli, VersionNamesTheFp32LibraryAndItsEnvironmentSwitch) {
  // bench/run.py reads this line to record the library and to choose its configurations.
  const auto r = run_cli("--version", dir.file(""));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("fp32 products: " + neuncut::fp32_gemm_library()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("bf16: "), std::string::npos) << r.out;
  if (!neuncut::onednn_cpu_isa().empty())
    EXPECT_NE(r.out.find("oneDNN kernels: " + neuncut::onednn_cpu_isa() + ")"), std::string::npos) << r.out;
  // The child inherits the environment: NEUNCUT_FP32_GEMM=eigen selects Eigen's GEMM.
  const char* saved = std::getenv("NEUNCUT_FP32_GEMM");
  const std::string saved_value = saved ? saved : "";
  setenv("NEUNCUT_FP32_GEMM", "eigen", 1);
  const auto eigen = run_cli("--version", dir.file(""));
  if (saved)
    setenv("NEUNCUT_FP32_GEMM", saved_value.c_str(), 1);
  else
    unsetenv("NEUNCUT_FP32_GEMM");
  EXPECT_NE(eigen.out.find("fp32 products: Eigen;"), std::string::npos) << eigen.out;
}

TEST_F(Cli, ParameterDocsAreGeneratedFromTheTables) {
  const auto r = run_cli("params", dir.file(""));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, neuncut::testing::read_text(std::string(NEUNCUT_TEST_DATA_DIR) + "/../../docs/parameters.md"))
      << "docs/parameters.md is stale: regenerate it with `build/neuncut params > docs/parameters.md`";
}

TEST_F(Cli, FashionMnistBuiltinRunsEndToEnd) {
  if (!std::filesystem::exists(std::string(neuncut::kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const auto r = run_cli("fit --data fashion-mnist --k 10 --train-size 2000 --epochs 2 --hidden 64 --seed 0 --json "
                         "--quiet --labels-out " + dir.file("fm.npy"),
                         dir.file(""));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(number(r.out, "n"), 70000);
  EXPECT_TRUE(has_key(r.out, "acc"));
  EXPECT_EQ(neuncut::load_labels(dir.file("fm.npy")).size(), 70000u);
}

TEST_F(Cli, ImagesAreClusteredByTheirScatteringTransformAndTheModelKeepsIt) {
  // 90 images of 12 x 12 written as a 3-D .npy (n, height, width): fit reads the shape from it.
  neuncut::MatrixF images(90, 144);
  for (neuncut::Index i = 0; i < images.rows(); ++i)
    for (neuncut::Index p = 0; p < 144; ++p)
      images(i, p) = 0.5f + 0.4f * std::sin(1.5708f * float(i % 3 == 0 ? p / 12 : p % 12) + float(i)) +
                     (i % 3 == 2 ? 0.3f * float(p % 5) : 0.0f);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (90, 12, 12), }";
  while ((10 + dict.size() + 1) % 16) dict += ' ';
  dict += '\n';
  std::string bytes = "\x93NUMPY\x01";
  bytes += '\0';
  bytes += static_cast<char>(dict.size() & 0xff);
  bytes += static_cast<char>(dict.size() >> 8);
  bytes += dict;
  bytes.append(reinterpret_cast<const char*>(images.data()), images.size() * sizeof(float));
  neuncut::testing::write_text(dir.file("img.npy"), bytes);

  const auto fit = run_cli("fit --data " + dir.file("img.npy") + " --k 3 --epochs 2 --hidden 16 --json --quiet --model " +
                               dir.file("img.nnc") + " --labels-out " + dir.file("img-labels.npy"),
                           dir.file(""));
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  EXPECT_NE(fit.out.find("\"features\": \"scattering\""), std::string::npos) << fit.out;
  EXPECT_NE(fit.out.find("\"image_shape\": \"12x12\""), std::string::npos) << fit.out;
  EXPECT_EQ(number(fit.out, "feature_dim"), 100);  // 12 + 2^2 -> a 16 x 16 grid: 2 x 2 cells x 25 channels
  // predict applies the stored feature map to the raw images.
  const auto predict = run_cli("predict --model " + dir.file("img.nnc") + " --data " + dir.file("img.npy") +
                                   " --labels-out " + dir.file("again.npy") + " --quiet",
                               dir.file(""));
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  EXPECT_EQ(neuncut::load_labels(dir.file("again.npy")), neuncut::load_labels(dir.file("img-labels.npy")));
  // --features raw: the pixels as they are; a wrong --image-shape is refused before training.
  const auto raw = run_cli("fit --data " + dir.file("img.npy") + " --k 3 --epochs 1 --hidden 16 --json --quiet "
                           "--features raw", dir.file(""));
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(number(raw.out, "feature_dim"), 144);
  // neuncut features writes the same transform for other tools.
  const auto features = run_cli("features --data " + dir.file("img.npy") + " --out " + dir.file("f.npy") + " --json",
                                dir.file(""));
  ASSERT_EQ(features.exit_code, 0) << features.err;
  EXPECT_EQ(number(features.out, "feature_dim"), 100);
  const neuncut::MatrixF f = neuncut::read_npy_matrix(dir.file("f.npy"));
  EXPECT_EQ(f.rows(), 90);
  EXPECT_EQ(f.cols(), 100);
  const auto flat = run_cli("features --data " + dir.file("x.npy") + " --out " + dir.file("g.npy"), dir.file(""));
  EXPECT_EQ(flat.exit_code, 2);
  EXPECT_NE(flat.err.find("give --image-shape"), std::string::npos) << flat.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("g.npy")));
  const auto bad = run_cli("fit --data " + dir.file("img.npy") + " --k 3 --image-shape 10x10 --model " +
                               dir.file("bad.nnc"), dir.file(""));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("image shape 10x10 has 100 pixels"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.nnc")));
}

TEST_F(Cli, BaselinesRunAndTheirModelsPredictTheSameLabels) {
  const std::string data = " --data " + dir.file("x.npy") + " --truth " + dir.file("y.npy") + " --k 3 --seed 0 --threads 1";
  const auto ncut = run_cli("ncut" + data + " --json", dir.file(""));
  ASSERT_EQ(ncut.exit_code, 0) << ncut.err;
  EXPECT_GE(number(ncut.out, "acc"), 0.99) << ncut.out;
  for (const std::string method : {"kmeans", "spectralnet"}) {
    const std::string model = dir.file(method + ".nnc"), labels = dir.file(method + ".npy");
    const auto fit = run_cli(method + data + " --model " + model + " --labels-out " + labels + " --json", dir.file(""));
    ASSERT_EQ(fit.exit_code, 0) << method << ": " << fit.err;
    // Plumbing check, not a quality bar: SpectralNet's default net splits a few boundary points.
    EXPECT_GE(number(fit.out, "acc"), 0.95) << method << ": " << fit.out;
    // predict reads the method tag and labels with the stored model: the training labels again.
    const auto pred = run_cli("predict --model " + model + " --data " + dir.file("x.npy") + " --labels-out " +
                                  dir.file(method + "-again.npy") + " --json",
                              dir.file(""));
    ASSERT_EQ(pred.exit_code, 0) << method << ": " << pred.err;
    EXPECT_NE(pred.out.find("\"method\": \"" + method + "\""), std::string::npos) << pred.out;
    EXPECT_EQ(neuncut::load_labels(labels), neuncut::load_labels(dir.file(method + "-again.npy"))) << method;
    // Soft memberships exist only for NeuNcut: refused before anything is written.
    const auto proba = run_cli("predict --model " + model + " --data " + dir.file("x.npy") + " --proba-out " +
                                   dir.file(method + "-p.npy"),
                               dir.file(""));
    EXPECT_EQ(proba.exit_code, 2) << method;
    EXPECT_NE(proba.err.find("needs a NeuNcut model"), std::string::npos) << proba.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file(method + "-p.npy")));
  }
}

// --precision bf16: trains and predicts where bf16 runs; refused with the reason (exit 2)
// where it does not, simulated on a bf16 CPU by limiting oneDNN's instruction set.
TEST_F(Cli, PrecisionBf16TrainsOrIsRefusedWithTheReason) {
  const std::string fit = "fit --data " + dir.file("x.npy") + " --truth " + dir.file("y.npy") +
                          " --k 3 --seed 0 --threads 2 --hidden 32,32 --epochs 200 --precision bf16 --json -q";
  if (!neuncut::bf16_available()) {
    const auto r = run_cli(fit, dir.file(""));
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(neuncut::bf16_unavailable_reason()), std::string::npos) << r.err;
    return;
  }
  const auto r = run_cli(fit + " --model " + dir.file("bf16.nnc"), dir.file(""));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"precision\": \"bf16\""), std::string::npos) << r.out;
  EXPECT_GE(number(r.out, "acc"), 0.99);
  const std::string predict = "predict --model " + dir.file("bf16.nnc") + " --data " + dir.file("x.npy") +
                              " --truth " + dir.file("y.npy") + " --json";
  const auto p = run_cli(predict, dir.file(""));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_GE(number(p.out, "acc"), 0.99);

  ::setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE", 1);  // inherited by the CLI processes below
  const auto refused = run_cli(fit, dir.file(""));
  const auto refused_predict = run_cli(predict, dir.file(""));
  const auto fp32_predict = run_cli(predict + " --precision fp32", dir.file(""));
  ::unsetenv("ONEDNN_MAX_CPU_ISA");
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("ONEDNN_MAX_CPU_ISA"), std::string::npos) << refused.err;
  EXPECT_EQ(refused_predict.exit_code, 2) << refused_predict.err;
  EXPECT_NE(refused_predict.err.find("fp32"), std::string::npos) << refused_predict.err;
  ASSERT_EQ(fp32_predict.exit_code, 0) << fp32_predict.err;
  EXPECT_GE(number(fp32_predict.out, "acc"), 0.99);
}
