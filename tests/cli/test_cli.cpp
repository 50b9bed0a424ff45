// The neuncut binary run with real flags: fit/predict/evaluate/generate, JSON summaries,
// exit codes and messages for bad input, no partial outputs, and generated docs in sync.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "io/fashion_mnist.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/core/resources.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/features/scattering.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "test_data.hpp"
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

// Issue 14: evaluate scores labels without reading the data's rows unless --sigma needs them:
// a float64 .npy whose value 1e300 the reader refuses (it is beyond float32) is scored, and
// refused, naming the value, only when the dense Ncut reads it.
TEST_F(Cli, EvaluateReadsTheDataRowsOnlyForTheNcut) {
  neuncut::MatrixF X = neuncut::read_npy_matrix(dir.file("x.npy"));
  std::string bytes(X.size() * 8, '\0');
  for (neuncut::Index i = 0; i < X.size(); ++i) {
    const double v = i == X.size() - 1 ? 1e300 : double(X.data()[i]);
    std::memcpy(&bytes[std::size_t(i) * 8], &v, 8);
  }
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + std::to_string(X.rows()) + ", " +
                       std::to_string(X.cols()) + "), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ').push_back('\n');
  std::string file = std::string("\x93NUMPY\x01\x00", 8);
  file.push_back(char(header.size() & 0xff));
  file.push_back(char(header.size() >> 8));
  neuncut::testing::write_text(dir.file("x64.npy"), file + header + bytes);
  const std::string args = "evaluate --labels " + dir.file("y.npy") + " --truth " + dir.file("y.npy") + " --data " +
                           dir.file("x64.npy") + " --json";
  const auto scored = run_cli(args, dir.file(""));
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  EXPECT_EQ(number(scored.out, "acc"), 1.0);
  const auto ncut = run_cli(args + " --sigma 1", dir.file(""));
  EXPECT_EQ(ncut.exit_code, 2);
  EXPECT_NE(ncut.err.find("outside the float32 range"), std::string::npos) << ncut.err;
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
  if (!neuncut::onednn_cpu_isa().empty()) {
    EXPECT_NE(r.out.find("oneDNN kernels: " + neuncut::onednn_cpu_isa() + ";"), std::string::npos) << r.out;
  }
  // The line ends by saying whether this CLI was built with MPI (docs/mpi.md).
  EXPECT_TRUE(r.out.find("; MPI: yes)") != std::string::npos || r.out.find("; MPI: no)") != std::string::npos) << r.out;
  // The child inherits the environment: NEUNCUT_FP32_GEMM=eigen selects Eigen's GEMM.
  const char* saved = std::getenv("NEUNCUT_FP32_GEMM");
  const std::string saved_value = saved ? saved : "";
  setenv("NEUNCUT_FP32_GEMM", "eigen", 1);
  const auto eigen = run_cli("--version", dir.file(""));
  if (saved) setenv("NEUNCUT_FP32_GEMM", saved_value.c_str(), 1);
  else unsetenv("NEUNCUT_FP32_GEMM");
  EXPECT_NE(eigen.out.find("fp32 products: Eigen;"), std::string::npos) << eigen.out;
}

TEST_F(Cli, ParameterDocsAreGeneratedFromTheTables) {
  const auto r = run_cli("params", dir.file(""));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, neuncut::testing::read_text(std::string(NEUNCUT_TEST_DATA_DIR) + "/../../docs/parameters.md"))
      << "docs/parameters.md is stale: regenerate it with `build/neuncut params > docs/parameters.md`";
}

TEST_F(Cli, ResultDocsAreGeneratedFromTheTables) {
  const auto r = run_cli("results", dir.file(""));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, neuncut::testing::read_text(std::string(NEUNCUT_TEST_DATA_DIR) + "/../../docs/results.md"))
      << "docs/results.md is stale: regenerate it with `build/neuncut results > docs/results.md`";
}

TEST_F(Cli, FashionMnistBuiltinRunsEndToEnd) {
  if (!std::filesystem::exists(std::string(neuncut::kFashionMnistDir) + "/t10k-labels-idx1-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const auto r = run_cli(
      "fit --data fashion-mnist --k 10 --train-size 2000 --epochs 2 --hidden 64 --seed 0 --json "
      "--quiet --labels-out " +
          dir.file("fm.npy"),
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

  const auto fit =
      run_cli("fit --data " + dir.file("img.npy") + " --k 3 --epochs 2 --hidden 16 --json --quiet --model " +
                  dir.file("img.nnc") + " --labels-out " + dir.file("img-labels.npy"),
              dir.file(""));
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  EXPECT_NE(fit.out.find("\"features\": \"scattering\""), std::string::npos) << fit.out;
  EXPECT_NE(fit.out.find("\"image_shape\": \"12x12\""), std::string::npos) << fit.out;
  // 12 x 12 images: auto scales J = 2 (2^J <= 12 / 2); 12 + 2^2 -> a 16 x 16 grid: 4 x 4 cells x 17 channels.
  EXPECT_EQ(number(fit.out, "feature_dim"), 272);
  // predict applies the stored feature map to the raw images.
  const auto predict = run_cli("predict --model " + dir.file("img.nnc") + " --data " + dir.file("img.npy") +
                                   " --labels-out " + dir.file("again.npy") + " --quiet",
                               dir.file(""));
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  EXPECT_EQ(neuncut::load_labels(dir.file("again.npy")), neuncut::load_labels(dir.file("img-labels.npy")));
  // --features raw: the pixels as they are; a wrong --image-shape is refused before training.
  const auto raw = run_cli("fit --data " + dir.file("img.npy") +
                               " --k 3 --epochs 1 --hidden 16 --json --quiet "
                               "--features raw",
                           dir.file(""));
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(number(raw.out, "feature_dim"), 144);
  // neuncut features writes the same transform for other tools.
  const auto features =
      run_cli("features --data " + dir.file("img.npy") + " --out " + dir.file("f.npy") + " --json", dir.file(""));
  ASSERT_EQ(features.exit_code, 0) << features.err;
  EXPECT_EQ(number(features.out, "feature_dim"), 272);
  const neuncut::MatrixF f = neuncut::read_npy_matrix(dir.file("f.npy"));
  EXPECT_EQ(f.rows(), 90);
  EXPECT_EQ(f.cols(), 272);
  const auto flat = run_cli("features --data " + dir.file("x.npy") + " --out " + dir.file("g.npy"), dir.file(""));
  EXPECT_EQ(flat.exit_code, 2);
  EXPECT_NE(flat.err.find("give --image-shape"), std::string::npos) << flat.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("g.npy")));
  const auto bad = run_cli(
      "fit --data " + dir.file("img.npy") + " --k 3 --image-shape 10x10 --model " + dir.file("bad.nnc"), dir.file(""));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("image shape 10x10 has 100 pixels"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.nnc")));
}

TEST_F(Cli, BaselinesRunAndTheirModelsPredictTheSameLabels) {
  const std::string data =
      " --data " + dir.file("x.npy") + " --truth " + dir.file("y.npy") + " --k 3 --seed 0 --threads 1";
  const auto ncut = run_cli("ncut" + data + " --json", dir.file(""));
  ASSERT_EQ(ncut.exit_code, 0) << ncut.err;
  EXPECT_GE(number(ncut.out, "acc"), 0.99) << ncut.out;
  EXPECT_NE(ncut.out.find("\"solver\": \"exact\""), std::string::npos) << ncut.out;
  // The landmark solver, asked for by name, on the same data; too few landmarks are refused.
  const auto landmark = run_cli("ncut" + data + " --solver landmark --landmarks 50 --json", dir.file(""));
  ASSERT_EQ(landmark.exit_code, 0) << landmark.err;
  EXPECT_GE(number(landmark.out, "acc"), 0.99) << landmark.out;
  EXPECT_NE(landmark.out.find("\"solver\": \"landmark\""), std::string::npos) << landmark.out;
  EXPECT_EQ(number(landmark.out, "n_landmarks"), 50) << landmark.out;
  // The landmark solver reads a .npy file a block at a time (never whole); the exact one loads it.
  EXPECT_NE(landmark.out.find("\"streamed\": true"), std::string::npos) << landmark.out;
  EXPECT_NE(ncut.out.find("\"streamed\": false"), std::string::npos) << ncut.out;
  EXPECT_EQ(number(landmark.out, "n"), number(ncut.out, "n")) << landmark.out;
  EXPECT_EQ(number(landmark.out, "d"), number(ncut.out, "d")) << landmark.out;
  const auto few =
      run_cli("ncut" + data + " --solver landmark --landmarks 3 --labels-out " + dir.file("few.npy"), dir.file(""));
  EXPECT_EQ(few.exit_code, 2) << few.err;
  EXPECT_NE(few.err.find("more landmarks than clusters"), std::string::npos) << few.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("few.npy")));
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
    const auto proba = run_cli(
        "predict --model " + model + " --data " + dir.file("x.npy") + " --proba-out " + dir.file(method + "-p.npy"),
        dir.file(""));
    EXPECT_EQ(proba.exit_code, 2) << method;
    EXPECT_NE(proba.err.find("needs a NeuNcut model"), std::string::npos) << proba.err;
    EXPECT_FALSE(std::filesystem::exists(dir.file(method + "-p.npy")));
  }
  // k-means with fewer sampled rows than the file holds streams a .npy file (restarts on the
  // sample, then passes over the file) and gives the labels of the same rows loaded whole (CSV).
  {
    const neuncut::MatrixF x = neuncut::read_npy_matrix(dir.file("x.npy"));
    std::ofstream csv(dir.file("x.csv"));
    csv.precision(9);
    for (neuncut::Index i = 0; i < x.rows(); ++i)
      for (neuncut::Index j = 0; j < x.cols(); ++j) csv << x(i, j) << (j + 1 < x.cols() ? "," : "\n");
  }
  const std::string sampled = " --k 3 --seed 0 --threads 1 --sample 200 --json";
  const auto streamed = run_cli("kmeans --data " + dir.file("x.npy") + " --truth " + dir.file("y.npy") + sampled +
                                    " --labels-out " + dir.file("ks.npy"),
                                dir.file(""));
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_NE(streamed.out.find("\"streamed\": true"), std::string::npos) << streamed.out;
  EXPECT_EQ(number(streamed.out, "sample_rows"), 200) << streamed.out;
  EXPECT_GE(number(streamed.out, "full_passes"), 1) << streamed.out;
  EXPECT_GE(number(streamed.out, "acc"), 0.95) << streamed.out;
  const auto loaded =
      run_cli("kmeans --data " + dir.file("x.csv") + sampled + " --labels-out " + dir.file("kl.npy"), dir.file(""));
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_NE(loaded.out.find("\"streamed\": false"), std::string::npos) << loaded.out;
  EXPECT_EQ(neuncut::load_labels(dir.file("ks.npy")), neuncut::load_labels(dir.file("kl.npy")));
  EXPECT_EQ(number(streamed.out, "inertia"), number(loaded.out, "inertia"));
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
  const std::string predict = "predict --model " + dir.file("bf16.nnc") + " --data " + dir.file("x.npy") + " --truth " +
                              dir.file("y.npy") + " --json";
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

// ---- hostile inputs (issue 12): outputs, signals, resources, loaded models, messages ----------

namespace {
namespace fs = std::filesystem;

// Temporary files of an atomic write ("<name>.tmp-<pid>-<n>") left in `dir`.
std::vector<std::string> temporary_files(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) found.push_back(entry.path().string());
  return found;
}

// The CLI started in the background, without a shell in between (signals go to the CLI
// itself); `args` are separated by single spaces. stdout and stderr go to files in `workdir`.
pid_t spawn_cli(const std::string& args, const std::string& workdir) {
  std::vector<std::string> words = {neuncut::testing::cli_path()};
  for (std::size_t start = 0; start < args.size();) {
    const std::size_t end = std::min(args.find(' ', start), args.size());
    if (end > start) words.push_back(args.substr(start, end - start));
    start = end + 1;
  }
  const std::string out = workdir + "/.stdout", err = workdir + "/.stderr";
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    const int in_fd = ::open("/dev/null", O_RDONLY), out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600),
              err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Exit status of a finished child: the code, or -signal when a signal killed it.
int wait_status(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// True once `pid` has a handler installed for `sig` (/proc/<pid>/status, SigCgt), so that a
// signal sent now reaches the program's handling rather than the start-up default.
bool wait_for_handler(pid_t pid, int sig) {
  for (int attempt = 0; attempt < 20000; ++attempt) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("SigCgt:", 0) == 0 && (std::stoull(line.substr(7), nullptr, 16) >> (sig - 1) & 1)) return true;
    int child_status;
    if (::waitpid(pid, &child_status, WNOHANG) == pid) return false;
    ::usleep(500);
  }
  return false;
}

std::string file_type(const std::string& path) {
  const auto status = fs::symlink_status(path);
  return fs::is_symlink(status)        ? "symlink"
         : fs::is_regular_file(status) ? "regular"
         : fs::exists(status)          ? "special"
                                       : "none";
}
}  // namespace

// Item 1: an output that is a device, a FIFO, a directory or a dangling link is refused and
// left as it was; a link to a regular file is followed (the link stays, its target is replaced).
TEST_F(Cli, OutputsThatAreNotRegularFilesAreRefusedAndLeftAlone) {
  const std::string fit = "fit --data " + dir.file("x.npy") + " --k 3 --epochs 1 --hidden 8 --init random --model ";
  ::mknod(dir.file("dev.nnc").c_str(), S_IFCHR | 0600, ::makedev(1, 7));  // the "full" device; needs root
  ASSERT_EQ(::mkfifo(dir.file("fifo.nnc").c_str(), 0600), 0);
  fs::create_directory(dir.file("folder.nnc"));
  fs::create_symlink(dir.file("nowhere.nnc"), dir.file("dangling.nnc"));
  fs::create_symlink(dir.file("fifo.nnc"), dir.file("to-fifo.nnc"));
  for (const std::string name : {"dev.nnc", "fifo.nnc", "folder.nnc", "dangling.nnc", "to-fifo.nnc"}) {
    if (!fs::exists(fs::symlink_status(dir.file(name)))) continue;  // mknod needs root
    const std::string type_before = file_type(dir.file(name));
    const auto r = run_cli(fit + dir.file(name), dir.file(""), "timeout 60");
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.err;
    EXPECT_NE(r.err.find("regular file"), std::string::npos) << name << ": " << r.err;
    EXPECT_EQ(r.err.find("epoch"), std::string::npos) << name << ": refused before training";
    EXPECT_EQ(file_type(dir.file(name)), type_before) << name;
    EXPECT_FALSE(fs::exists(dir.file("nowhere.nnc")));
  }
  neuncut::testing::write_text(dir.file("real.nnc"), "old");
  fs::create_symlink(dir.file("real.nnc"), dir.file("link.nnc"));
  const auto r = run_cli(fit + dir.file("link.nnc"), dir.file(""));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(file_type(dir.file("link.nnc")), "symlink");
  EXPECT_EQ(neuncut::read_model_file(dir.file("real.nnc")).method, neuncut::ModelMethod::NeuNcut);
  EXPECT_TRUE(temporary_files(dir.path()).empty());
}

// Item 2: more threads than the hardware has run on the hardware threads, with a warning.
TEST_F(Cli, ThreadsBeyondTheHardwareAreBoundedWithAWarning) {
  const int hardware = neuncut::hardware_threads();
  const int asked = 4 * hardware + 1;
  const auto r =
      run_cli("fit --data " + dir.file("x.npy") +
                  " --k 3 --epochs 1 --hidden 8 --init random --json --quiet --threads " + std::to_string(asked),
              dir.file(""), "timeout 120");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(number(r.out, "threads"), hardware) << r.out;
  EXPECT_NE(r.err.find("threads " + std::to_string(asked) + " exceeds the " + std::to_string(hardware)),
            std::string::npos)
      << r.err;
  EXPECT_EQ(neuncut::bounded_threads(asked), hardware);
  EXPECT_EQ(neuncut::bounded_threads(0), hardware);
  EXPECT_EQ(neuncut::bounded_threads(1), 1);
}

// Item 3: a configuration that cannot fit in memory is refused before training, with the
// figures; an allocation that fails anyway (here: an address-space limit) is reported as
// out of memory, exit 1. The limit also bounds what the code before the fix could allocate.
TEST_F(Cli, ConfigurationsBeyondMemoryAreRefusedAndOutOfMemoryIsReported) {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer reserves terabytes of shadow address space at start-up, which no
  // `ulimit -v` leaves room for: every command would abort before main.
  GTEST_SKIP() << "ulimit -v cannot be combined with AddressSanitizer's shadow memory";
#endif
  for (const std::string method : {"fit", "spectralnet"}) {
    const auto r = run_cli(
        method + " --data " + dir.file("x.npy") + " --k 3 --epochs 1 --hidden 100000000 --model " + dir.file("big.nnc"),
        dir.file(""), "ulimit -v 4000000;");
    EXPECT_EQ(r.exit_code, 2) << method << ": " << r.err;
    EXPECT_NE(r.err.find("needs about"), std::string::npos) << method << ": " << r.err;
    EXPECT_NE(r.err.find("of physical memory"), std::string::npos) << method << ": " << r.err;
    EXPECT_EQ(r.err.find("epoch"), std::string::npos) << method << ": refused before training";
    EXPECT_FALSE(fs::exists(dir.file("big.nnc")));
  }
  if (neuncut::physical_memory_bytes() < (std::uint64_t(8) << 30)) GTEST_SKIP() << "needs 8 GiB to pass the estimate";
  // About 2 GiB by the estimate (two 8000-wide layers), within physical memory; 600 MB of
  // address space is not enough for it.
  const auto r =
      run_cli("fit --data " + dir.file("x.npy") +
                  " --k 3 --epochs 1 --hidden 8000,8000 --init random --quiet --model " + dir.file("big.nnc"),
              dir.file(""), "ulimit -v 600000;");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("out of memory"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir.file("big.nnc")));
}

// Items 4 and 5: SIGINT, SIGTERM and SIGHUP end any subcommand promptly with 128 + signal,
// in any phase: nothing new is written, old outputs stay, no temporary file remains.
TEST_F(Cli, SignalsEndEveryPhaseWithNoOutputAndNoTemporaryFiles) {
  // Large enough that predicting and writing take a while.
  ASSERT_EQ(run_cli("generate --kind blobs -n 300000 --clusters 3 --seed 1 --out " + dir.file("big.npy"), dir.file(""))
                .exit_code,
            0);
  ASSERT_EQ(run_cli("fit --data " + dir.file("x.npy") + " --k 3 --epochs 1 --hidden 8 --init random --quiet --model " +
                        dir.file("m.nnc"),
                    dir.file(""))
                .exit_code,
            0);
  const std::string old_labels = "old labels", old_proba = "old memberships";
  const std::string outputs = " --labels-out " + dir.file("labels.csv") + " --proba-out " + dir.file("proba.csv");
  for (const auto& [sig, expected] : {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143}, std::pair{SIGHUP, 129}}) {
    neuncut::testing::write_text(dir.file("labels.csv"), old_labels);
    neuncut::testing::write_text(dir.file("proba.csv"), old_proba);
    // Any phase: the signal is sent as soon as the program handles it (loading, predicting).
    pid_t pid =
        spawn_cli("predict --model " + dir.file("m.nnc") + " --data " + dir.file("big.npy") + outputs, dir.file(""));
    ASSERT_TRUE(wait_for_handler(pid, sig)) << "signal " << sig << ": no handler installed";
    ::kill(pid, sig);
    EXPECT_EQ(wait_status(pid), expected)
        << "signal " << sig << ": " << neuncut::testing::read_text(dir.file(".stderr"));
    EXPECT_EQ(neuncut::testing::read_text(dir.file("labels.csv")), old_labels) << "signal " << sig;
    EXPECT_EQ(neuncut::testing::read_text(dir.file("proba.csv")), old_proba) << "signal " << sig;
    EXPECT_TRUE(temporary_files(dir.path()).empty()) << "signal " << sig;
    // The write phase: the signal is sent once the first temporary output file exists.
    pid = spawn_cli("predict --model " + dir.file("m.nnc") + " --data " + dir.file("big.npy") + outputs, dir.file(""));
    bool writing = false;
    for (int attempt = 0; attempt < 600000 && !writing; ++attempt) {
      writing = !temporary_files(dir.path()).empty();
      int child_status;
      if (!writing && ::waitpid(pid, &child_status, WNOHANG) == pid) break;  // finished before: fails below
      if (!writing) ::usleep(100);
    }
    ASSERT_TRUE(writing) << "signal " << sig << ": the write phase was not observed";
    ::kill(pid, sig);
    EXPECT_EQ(wait_status(pid), expected)
        << "signal " << sig << ": " << neuncut::testing::read_text(dir.file(".stderr"));
    EXPECT_EQ(neuncut::testing::read_text(dir.file("labels.csv")), old_labels) << "signal " << sig;
    EXPECT_EQ(neuncut::testing::read_text(dir.file("proba.csv")), old_proba) << "signal " << sig;
    EXPECT_TRUE(temporary_files(dir.path()).empty()) << "signal " << sig;
  }
}

// Item 6: output paths are checked before any work, and a command's outputs are committed
// together: a failing output (a missing directory; a write that fails because the file-size
// limit is reached, as on a full disk) leaves none of them.
TEST_F(Cli, AFailingOutputLeavesNoneOfTheCommandsOutputs) {
  auto r = run_cli("fit --data " + dir.file("x.npy") + " --k 3 --epochs 2 --init random --model " + dir.file("m.nnc") +
                       " --labels-out " + dir.file("nodir/y.npy"),
                   dir.file(""));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("epoch"), std::string::npos) << "refused before training: " << r.err;
  EXPECT_FALSE(fs::exists(dir.file("m.nnc")));
  // RLIMIT_FSIZE of 8 x 512 bytes: the labels (2.5 kB) fit, the memberships as CSV (20 kB)
  // do not; with SIGXFSZ ignored the write fails with EFBIG, as it would with ENOSPC.
  neuncut::testing::write_text(dir.file("y.npy"), "old");
  r = run_cli("fit --data " + dir.file("x.npy") + " --k 3 --epochs 1 --hidden 8 --init random --quiet --labels-out " +
                  dir.file("y.npy") + " --proba-out " + dir.file("p.csv"),
              dir.file(""), "ulimit -f 8; trap '' XFSZ;");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("write error"), std::string::npos) << r.err;
  EXPECT_EQ(neuncut::testing::read_text(dir.file("y.npy")), "old");
  EXPECT_FALSE(fs::exists(dir.file("p.csv")));
  EXPECT_TRUE(temporary_files(dir.path()).empty());
}

// Item 7: two outputs that are the same file, however named, are refused before any work.
TEST_F(Cli, TwoOutputsToTheSameFileAreRefused) {
  neuncut::testing::write_text(dir.file("a.npy"), "old");
  fs::create_symlink(dir.file("a.npy"), dir.file("link.npy"));
  fs::create_hard_link(dir.file("a.npy"), dir.file("hard.npy"));
  const std::string fit = "fit --data " + dir.file("x.npy") + " --k 3 --epochs 1 --hidden 8 --init random";
  const std::string subdir = dir.file("") + "/./";
  for (const std::string& outputs : {" --labels-out " + dir.file("out.npy") + " --proba-out " + dir.file("out.npy"),
                                     " --model " + dir.file("out.npy") + " --labels-out " + subdir + "out.npy",
                                     " --labels-out " + dir.file("a.npy") + " --proba-out " + dir.file("link.npy"),
                                     " --labels-out " + dir.file("a.npy") + " --proba-out " + dir.file("hard.npy")}) {
    const auto r = run_cli(fit + outputs, dir.file(""));
    EXPECT_EQ(r.exit_code, 2) << outputs << ": " << r.err;
    EXPECT_NE(r.err.find("are the same file"), std::string::npos) << outputs << ": " << r.err;
    EXPECT_FALSE(fs::exists(dir.file("out.npy"))) << outputs;
    EXPECT_EQ(neuncut::testing::read_text(dir.file("a.npy")), "old") << outputs;
  }
}

// An output that is one of the command's inputs would destroy it (fit --data x.npy
// --labels-out x.npy used to overwrite the data with its labels): refused, the input intact.
TEST_F(Cli, AnOutputThatIsAnInputIsRefusedAndTheInputKept) {
  const std::string x = dir.file("x.npy");
  // The model under a table's name (models may have any name), so that predict could write over it.
  ASSERT_EQ(
      run_cli("fit --data " + x + " --k 3 --epochs 1 --hidden 8 --quiet --model " + dir.file("m.npy"), dir.file(""))
          .exit_code,
      0);
  fs::create_symlink(x, dir.file("xlink.npy"));
  const std::string before = neuncut::testing::read_text(x);
  const std::string model_before = neuncut::testing::read_text(dir.file("m.npy"));
  for (const std::string& command :
       {"fit --data " + x + " --k 3 --epochs 1 --hidden 8 --labels-out " + x,
        "fit --data " + x + " --k 3 --epochs 1 --hidden 8 --labels-out " + dir.file("xlink.npy"),
        "kmeans --data " + x + " --k 3 --labels-out " + dir.file("") + "/./x.npy",
        "predict --model " + dir.file("m.npy") + " --data " + x + " --labels-out " + dir.file("m.npy")}) {
    const auto r = run_cli(command, dir.file(""));
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_NE(r.err.find("same file as the input"), std::string::npos) << command << ": " << r.err;
    EXPECT_EQ(neuncut::testing::read_text(x), before) << command;
    EXPECT_EQ(neuncut::testing::read_text(dir.file("m.npy")), model_before) << command;
  }
}

// Item 8: a model file with a valid checksum but a non-finite weight, preprocessing value or
// kernel width is refused at load, for every model kind.
TEST_F(Cli, ModelsWithNonFiniteValuesAreRefused) {
  const std::string data = " --data " + dir.file("x.npy") + " --k 3 --epochs 1 --hidden 8 --quiet --model ";
  ASSERT_EQ(run_cli("fit" + data + dir.file("n.nnc") + " --scaling standardize --init random", dir.file("")).exit_code,
            0);
  ASSERT_EQ(run_cli("spectralnet" + data + dir.file("s.nnc"), dir.file("")).exit_code, 0);
  ASSERT_EQ(run_cli("kmeans --data " + dir.file("x.npy") + " --k 3 --quiet --model " + dir.file("k.nnc"), dir.file(""))
                .exit_code,
            0);
  // Payload offsets, counted from the end (model formats in include/neuncut/io/model_file.hpp and
  // each model's save()): widths 2, 8, 3 hold 51 parameters; k = 3, d = 2.
  const std::size_t weights = 51 * 4, widths = 8 + 3 * 8, matrix = 8 + 8 + 8 + 9 * 4;
  struct Case {
    std::string model;
    std::size_t offset_from_end;  // of the float or double to overwrite
    bool is_double;
    std::string fragment;
  };
  const std::size_t sigma = weights + 8 + widths + 8;  // NeuNcut: ..., f64 sigma, widths, weights
  const std::vector<Case> cases = {
      {"n.nnc", 4, false, "network weights hold a non-finite value"},
      {"n.nnc", sigma, true, "invalid kernel width sigma"},
      {"n.nnc", sigma + 4 + 4 * 2, false, "feature scales hold a non-finite value"},  // before: u32 feature map
      {"n.nnc", sigma + 4 + (4 * 2 + 8) + 4 * 2, false, "feature means hold a non-finite value"},
      {"s.nnc", 2 * matrix + 4, false, "network weights hold a non-finite value"},
      {"s.nnc", 4, false, "centroids"},
      {"k.nnc", 4, false, "centroids"},
  };
  for (const Case& c : cases) {
    neuncut::ModelFileContents file = neuncut::read_model_file(dir.file(c.model));
    ASSERT_GT(file.payload.size(), c.offset_from_end);
    char* at = file.payload.data() + file.payload.size() - c.offset_from_end;
    if (c.is_double) {
      const double nan = std::nan("");
      std::memcpy(at, &nan, 8);
    } else {
      const float inf = std::numeric_limits<float>::infinity();
      std::memcpy(at, &inf, 4);
    }
    neuncut::write_model_file(dir.file("bad.nnc"), file.method, file.payload);  // a valid checksum
    const auto r = run_cli("predict --model " + dir.file("bad.nnc") + " --data " + dir.file("x.npy") +
                               " --labels-out " + dir.file("labels.npy"),
                           dir.file(""));
    EXPECT_EQ(r.exit_code, 2) << c.model << " at -" << c.offset_from_end << ": " << r.err;
    EXPECT_NE(r.err.find(c.fragment), std::string::npos) << c.model << " at -" << c.offset_from_end << ": " << r.err;
    EXPECT_FALSE(fs::exists(dir.file("labels.npy")));
  }
}

// Item 9: a FIFO (no writer) or a device as an input is refused at once instead of blocking.
TEST_F(Cli, InputsThatAreNotRegularFilesAreRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo(dir.file("fifo.npy").c_str(), 0600), 0);
  ASSERT_EQ(run_cli("fit --data " + dir.file("x.npy") + " --k 3 --epochs 1 --hidden 8 --init random --quiet --model " +
                        dir.file("m.nnc"),
                    dir.file(""))
                .exit_code,
            0);
  const std::string X = " --data " + dir.file("x.npy");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"fit --k 3 --data " + dir.file("fifo.npy"), "a FIFO"},
      {"fit --k 3 --data /dev/zero", "a device"},
      {"fit --k 3" + X + " --truth " + dir.file("fifo.npy"), "a FIFO"},
      {"predict" + X + " --model " + dir.file("fifo.npy"), "a FIFO"},
      {"evaluate --labels " + dir.file("fifo.npy") + " --truth " + dir.file("y.npy"), "a FIFO"},
  };
  for (const auto& [args, fragment] : cases) {
    const auto r = run_cli(args, dir.file(""), "timeout 30");
    EXPECT_EQ(r.exit_code, 1) << args << ": " << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << args << ": " << r.err;
  }
}

// Item 11: messages that name the real problem.
TEST_F(Cli, MessagesNameTheRealProblem) {
  fs::create_directory(dir.file("folder.nnc"));
  fs::create_directory(dir.file("folder.npy"));
  auto r = run_cli("predict --model " + dir.file("folder.nnc") + " --data " + dir.file("x.npy"), dir.file(""));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("it is a directory"), std::string::npos) << r.err;
  r = run_cli("fit --k 3 --data " + dir.file("folder.npy"), dir.file(""));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("it is a directory"), std::string::npos) << r.err;

  // A float64 .npy with a finite value beyond float32 (1e300 at row 1, column 0).
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }";
  while ((10 + dict.size() + 1) % 16) dict += ' ';
  dict += '\n';
  std::string bytes = std::string("\x93NUMPY\x01", 7) + '\0' + static_cast<char>(dict.size()) + '\0' + dict;
  for (double v : {1.0, 2.0, 1e300, 4.0, 5.0, 6.0}) bytes.append(reinterpret_cast<const char*>(&v), 8);
  neuncut::testing::write_text(dir.file("huge.npy"), bytes);
  r = run_cli("fit --k 2 --data " + dir.file("huge.npy"), dir.file(""));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("1e+300 at row 1, column 0 is outside the float32 range"), std::string::npos) << r.err;

  // 500 distinct rows of subnormal values: not duplicates, but values neuncut computes as 0.
  std::string csv;
  for (int i = 0; i < 500; ++i) {
    char line[64];
    std::snprintf(line, sizeof line, "%.3e,%.3e\n", (i + 1) * 1e-41, ((i * 7) % 500 + 1) * 1e-41);
    csv += line;
  }
  neuncut::testing::write_text(dir.file("tiny.csv"), csv);
  r = run_cli("fit --k 2 --epochs 1 --data " + dir.file("tiny.csv"), dir.file(""));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("every nonzero value is subnormal"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("duplicate"), std::string::npos) << r.err;
}

namespace {
// A 2-epoch NeuNcut model (m.nnc) and a k-means model (km.nnc) of x.npy, for the predict tests.
void fit_small_models(const neuncut::testing::TempDir& dir) {
  ASSERT_EQ(
      run_cli("fit --data " + dir.file("x.npy") + " --k 3 --epochs 2 --hidden 8 --quiet --model " + dir.file("m.nnc"),
              dir.file(""))
          .exit_code,
      0);
  ASSERT_EQ(run_cli("kmeans --data " + dir.file("x.npy") + " --k 3 --quiet --model " + dir.file("km.nnc"), dir.file(""))
                .exit_code,
            0);
}

// n points in 3 blobs (s.npy) and their labels (st.npy).
void generate_blobs(const neuncut::testing::TempDir& dir, int n) {
  ASSERT_EQ(run_cli("generate --kind blobs -n " + std::to_string(n) + " --clusters 3 --noise 0.5 --seed 5 --out " +
                        dir.file("s.npy") + " --labels-out " + dir.file("st.npy"),
                    dir.file(""))
                .exit_code,
            0);
}
}  // namespace

// Issue 14: predict reads .npy and IDX inputs --chunk-rows rows at a time and writes each
// chunk's labels and memberships before reading the next. The files are those of the whole
// matrix labelled at once (the library on the data read whole, as predict did before), byte
// for byte, with a chunk size that does not divide N (7 on 100), one chunk for all, and kmeans.
TEST_F(Cli, StreamedPredictWritesTheBytesOfTheWholeRead) {
  ASSERT_NO_FATAL_FAILURE(generate_blobs(dir, 100));
  ASSERT_NO_FATAL_FAILURE(fit_small_models(dir));
  const neuncut::MatrixF X = neuncut::read_npy_matrix(dir.file("s.npy"));
  const neuncut::NeuNcut model = neuncut::NeuNcut::load(dir.file("m.nnc"));
  neuncut::write_npy(dir.file("whole-p.npy"), model.predict_proba(X));
  neuncut::write_npy(dir.file("whole-y.npy"), model.predict(X));
  neuncut::write_npy(dir.file("whole-km.npy"), neuncut::KMeansModel::load(dir.file("km.nnc")).predict(X));
  const std::string whole_p = neuncut::testing::read_text(dir.file("whole-p.npy"));
  const std::string whole_y = neuncut::testing::read_text(dir.file("whole-y.npy"));
  std::string whole_summary;
  for (const char* chunk : {"7", "1", "100000"}) {
    SCOPED_TRACE(std::string("--chunk-rows ") + chunk);
    const auto r = run_cli("predict --model " + dir.file("m.nnc") + " --data " + dir.file("s.npy") + " --truth " +
                               dir.file("st.npy") + " --chunk-rows " + chunk + " --labels-out " + dir.file("y.npy") +
                               " --proba-out " + dir.file("p.npy") + " --json",
                           dir.file(""));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(neuncut::testing::read_text(dir.file("y.npy")), whole_y);
    EXPECT_EQ(neuncut::testing::read_text(dir.file("p.npy")), whole_p);
    EXPECT_EQ(number(r.out, "n"), 100);
    EXPECT_EQ(number(r.out, "clusters_used"), neuncut::count_clusters(model.predict(X)));
    EXPECT_EQ(number(r.out, "acc"),
              neuncut::score_clustering(neuncut::load_labels(dir.file("st.npy")), model.predict(X)).acc);
    const auto km = run_cli("predict --model " + dir.file("km.nnc") + " --data " + dir.file("s.npy") +
                                " --chunk-rows " + chunk + " --labels-out " + dir.file("km.npy"),
                            dir.file(""));
    ASSERT_EQ(km.exit_code, 0) << km.err;
    EXPECT_EQ(neuncut::testing::read_text(dir.file("km.npy")), neuncut::testing::read_text(dir.file("whole-km.npy")));
  }
}

// Issue 14: features streams too: --chunk-rows images are read, transformed and written at a
// time. The file is the library's transform of the whole matrix, byte for byte, for a chunk
// size that does not divide N, one row at a time and one chunk for all.
TEST_F(Cli, StreamedFeaturesWriteTheBytesOfTheWholeTransform) {
  const neuncut::MatrixF images = (neuncut::testing::gaussian_matrix(50, 144, 9).array().abs() * 0.3f).matrix();
  neuncut::write_npy(dir.file("images.npy"), images);
  neuncut::ScatteringParams sp;
  sp.height = sp.width = 12;
  sp.scales = neuncut::auto_scattering_scales(12, 12);
  const neuncut::MatrixF whole = neuncut::ScatteringTransform(sp).transform(images, 1);
  neuncut::write_npy(dir.file("whole-f.npy"), whole);
  const std::string expected = neuncut::testing::read_text(dir.file("whole-f.npy"));
  for (const char* chunk : {"7", "1", "100000"}) {
    SCOPED_TRACE(std::string("--chunk-rows ") + chunk);
    const auto r = run_cli("features --data " + dir.file("images.npy") + " --image-shape 12x12 --chunk-rows " + chunk +
                               " --threads 2 --out " + dir.file("f.npy") + " --json",
                           dir.file(""));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(number(r.out, "n"), 50);
    EXPECT_EQ(neuncut::testing::read_text(dir.file("f.npy")), expected);
  }
  const auto zero = run_cli(
      "features --data " + dir.file("images.npy") + " --image-shape 12x12 --chunk-rows 0 --out " + dir.file("g.npy"),
      dir.file(""));
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.err.find("--chunk-rows must be >= 1"), std::string::npos) << zero.err;
  EXPECT_FALSE(fs::exists(dir.file("g.npy")));
}

// Issue 14: fit with --train-size on a streamed file (.npy) reads only the sampled rows and
// labels the file --chunk-rows rows at a time: model, labels and memberships are the bytes of
// the same data read whole (its CSV copy), and the summary says which read it was. A NaN is
// refused with its row named, whether training read it or labelling met it, and nothing is
// written.
TEST_F(Cli, FitOnASampleOfAFileWritesTheBytesOfTheWholeRead) {
  ASSERT_NO_FATAL_FAILURE(generate_blobs(dir, 300));
  neuncut::MatrixF X = neuncut::read_npy_matrix(dir.file("s.npy"));
  neuncut::write_csv(dir.file("s.csv"), X);
  const std::string common = " --truth " + dir.file("st.npy") +
                             " --k 3 --train-size 120 --epochs 3 --hidden 8 --threads 1 --chunk-rows 7 --json";
  const auto fit = [&](const std::string& data, const std::string& tag) {
    return run_cli("fit --data " + data + common + " --model " + dir.file("m" + tag + ".nnc") + " --labels-out " +
                       dir.file("y" + tag + ".npy") + " --proba-out " + dir.file("p" + tag + ".npy"),
                   dir.file(""));
  };
  const auto sampled = fit(dir.file("s.npy"), "1");
  ASSERT_EQ(sampled.exit_code, 0) << sampled.err;
  const auto whole = fit(dir.file("s.csv") + " --csv-header no", "2");
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_NE(sampled.out.find("\"read\": \"sampled rows\""), std::string::npos) << sampled.out;
  EXPECT_NE(whole.out.find("\"read\": \"whole\""), std::string::npos) << whole.out;
  for (const char* file : {"m", "y", "p"})
    EXPECT_EQ(neuncut::testing::read_text(dir.file(std::string(file) + "1" + (file[0] == 'm' ? ".nnc" : ".npy"))),
              neuncut::testing::read_text(dir.file(std::string(file) + "2" + (file[0] == 'm' ? ".nnc" : ".npy"))))
        << file;
  for (const char* key : {"n", "train_points", "clusters_used", "acc", "nmi", "final_loss"})
    EXPECT_EQ(number(sampled.out, key), number(whole.out, key)) << key;

  for (int row : {0, 150, 299}) {
    SCOPED_TRACE(row);
    neuncut::MatrixF bad = X;
    bad(row, 1) = std::numeric_limits<float>::quiet_NaN();
    neuncut::write_npy(dir.file("bad.npy"), bad);
    const auto r = fit(dir.file("bad.npy"), "3");
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("NaN at row " + std::to_string(row) + ", column 1"), std::string::npos) << r.err;
    for (const char* out : {"m3.nnc", "y3.npy", "p3.npy"}) EXPECT_FALSE(fs::exists(dir.file(out))) << out;
  }
}

namespace {
// Why the MPI tests cannot run here ("" when they can).
std::string why_no_mpi(const neuncut::testing::TempDir& dir) {
#ifdef __SANITIZE_ADDRESS__
  return "Open MPI under LeakSanitizer";
#endif
  if (run_cli("--version", dir.file("")).out.find("MPI: yes") == std::string::npos)
    return "this neuncut was built without MPI";
  if (std::system("command -v mpirun >/dev/null 2>&1") != 0) return "no mpirun on PATH";
  return "";
}
}  // namespace

// Issue 14: `mpirun -np R neuncut predict` shards the rows over R ranks (each reads its own
// slice), and rank 0 writes the outputs: the bytes of one process, for 2 and 3 ranks (3 on 2
// cores: --oversubscribe), a NeuNcut model with memberships and a k-means model. A NaN in the
// last rank's slice stops every rank, with the single process's message and no output. Other
// commands are refused on several ranks. Skipped where the CLI was built without MPI or there
// is no mpirun, and under ASan (Open MPI's allocations at exit are reported as leaks there).
TEST_F(Cli, PredictOnMpiRanksWritesTheBytesOfOneProcess) {
  if (const std::string why = why_no_mpi(dir); !why.empty()) GTEST_SKIP() << why;
  ASSERT_NO_FATAL_FAILURE(fit_small_models(dir));
  const std::string data = " --data " + dir.file("x.npy") + " --chunk-rows 7 --threads 1";
  ASSERT_EQ(run_cli("predict --model " + dir.file("m.nnc") + data + " --labels-out " + dir.file("y1.npy") +
                        " --proba-out " + dir.file("p1.npy") + " --quiet",
                    dir.file(""))
                .exit_code,
            0);
  ASSERT_EQ(run_cli("predict --model " + dir.file("km.nnc") + data + " --labels-out " + dir.file("k1.npy") + " --quiet",
                    dir.file(""))
                .exit_code,
            0);
  for (const char* ranks : {"2", "3"}) {
    SCOPED_TRACE(std::string("ranks ") + ranks);
    const std::string mpirun = std::string("mpirun --allow-run-as-root --oversubscribe -np ") + ranks;
    const auto r = run_cli("predict --model " + dir.file("m.nnc") + data + " --truth " + dir.file("y.npy") +
                               " --labels-out " + dir.file("yr.npy") + " --proba-out " + dir.file("p.npy") + " --json",
                           dir.file(""), mpirun);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(number(r.out, "ranks"), std::stoi(ranks)) << r.out;
    EXPECT_EQ(neuncut::testing::read_text(dir.file("yr.npy")), neuncut::testing::read_text(dir.file("y1.npy")));
    EXPECT_EQ(neuncut::testing::read_text(dir.file("p.npy")), neuncut::testing::read_text(dir.file("p1.npy")));
    const auto km = run_cli("predict --model " + dir.file("km.nnc") + data + " --labels-out " + dir.file("k.npy"),
                            dir.file(""), mpirun);
    ASSERT_EQ(km.exit_code, 0) << km.err;
    EXPECT_EQ(neuncut::testing::read_text(dir.file("k.npy")), neuncut::testing::read_text(dir.file("k1.npy")));
  }
  neuncut::MatrixF X = neuncut::read_npy_matrix(dir.file("x.npy"));
  X(X.rows() - 5, 1) = std::numeric_limits<float>::quiet_NaN();
  neuncut::write_npy(dir.file("nan.npy"), X);
  neuncut::testing::write_text(dir.file("kept.npy"), "old");
  const auto nan = run_cli("predict --model " + dir.file("m.nnc") + " --data " + dir.file("nan.npy") +
                               " --labels-out " + dir.file("kept.npy") + " --proba-out " + dir.file("pn.npy"),
                           dir.file(""), "mpirun --allow-run-as-root --oversubscribe -np 2");
  EXPECT_NE(nan.exit_code, 0);
  EXPECT_NE(nan.err.find("input data contains NaN at row " + std::to_string(X.rows() - 5) + ", column 1"),
            std::string::npos)
      << nan.err;
  EXPECT_EQ(neuncut::testing::read_text(dir.file("kept.npy")), "old");
  EXPECT_FALSE(fs::exists(dir.file("pn.npy")));
  EXPECT_TRUE(temporary_files(dir.path()).empty());
  for (const auto& entry : fs::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename().string().find(".neuncut-predict-"), std::string::npos) << entry.path();
  const auto other = run_cli("kmeans --data " + dir.file("x.npy") + " --k 3", dir.file(""),
                             "mpirun --allow-run-as-root --oversubscribe -np 2");
  EXPECT_NE(other.exit_code, 0);
  EXPECT_NE(other.err.find("only `predict` and `fit` run on several MPI ranks"), std::string::npos) << other.err;
}

// Issue 14: `mpirun -np 2 neuncut fit` trains data-parallel: one summary (rank 0's, saying 2
// ranks), one model, whose labels are the ones fit wrote and recover the blobs; under mpirun
// with one rank, fit is the single process's, byte for byte. Skipped as the predict test is.
TEST_F(Cli, FitOnMpiRanksTrainsOneModel) {
  if (const std::string why = why_no_mpi(dir); !why.empty()) GTEST_SKIP() << why;
  const std::string args = "fit --data " + dir.file("x.npy") + " --truth " + dir.file("y.npy") +
                           " --k 3 --batch-size 150 --epochs 30 --hidden 32,32 --threads 1 --json --model ";
  const auto two = run_cli(args + dir.file("m2.nnc") + " --labels-out " + dir.file("y2.npy"), dir.file(""),
                           "mpirun --allow-run-as-root --oversubscribe -np 2");
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(std::count(two.out.begin(), two.out.end(), '\n'), 1) << two.out;
  EXPECT_EQ(number(two.out, "ranks"), 2) << two.out;
  EXPECT_GE(number(two.out, "acc"), 0.99) << two.out;
  const auto pred = run_cli("predict --model " + dir.file("m2.nnc") + " --data " + dir.file("x.npy") +
                                " --labels-out " + dir.file("yp.npy") + " --quiet",
                            dir.file(""));
  ASSERT_EQ(pred.exit_code, 0) << pred.err;
  EXPECT_EQ(neuncut::testing::read_text(dir.file("yp.npy")), neuncut::testing::read_text(dir.file("y2.npy")));

  const auto one = run_cli(args + dir.file("m1.nnc"), dir.file(""), "mpirun --allow-run-as-root -np 1");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto plain = run_cli(args + dir.file("m0.nnc"), dir.file(""));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(neuncut::testing::read_text(dir.file("m1.nnc")), neuncut::testing::read_text(dir.file("m0.nnc")));
  EXPECT_NE(neuncut::testing::read_text(dir.file("m2.nnc")), neuncut::testing::read_text(dir.file("m0.nnc")));
}

// A NaN in a late chunk ends predict there with the message the whole read gives (naming the
// row in the file, not in the chunk), after earlier chunks were written to temporary files:
// none of the outputs appears, an existing output is kept, no temporary file is left.
TEST_F(Cli, ANanInALateChunkFailsLikeTheWholeReadAndWritesNothing) {
  ASSERT_EQ(
      run_cli("fit --data " + dir.file("x.npy") + " --k 3 --epochs 1 --hidden 8 --quiet --model " + dir.file("m.nnc"),
              dir.file(""))
          .exit_code,
      0);
  neuncut::MatrixF X = neuncut::read_npy_matrix(dir.file("x.npy"));
  X(457, 1) = std::numeric_limits<float>::quiet_NaN();
  neuncut::write_npy(dir.file("nan.npy"), X);
  neuncut::testing::write_text(dir.file("y.npy"), "old");
  std::string first_message;
  for (const char* chunk : {"7", "100000"}) {
    SCOPED_TRACE(std::string("--chunk-rows ") + chunk);
    const auto r =
        run_cli("predict --model " + dir.file("m.nnc") + " --data " + dir.file("nan.npy") + " --chunk-rows " + chunk +
                    " --labels-out " + dir.file("y.npy") + " --proba-out " + dir.file("p.csv"),
                dir.file(""));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("input data contains NaN at row 457, column 1"), std::string::npos) << r.err;
    if (first_message.empty()) first_message = r.err;
    EXPECT_EQ(r.err, first_message);
    EXPECT_EQ(neuncut::testing::read_text(dir.file("y.npy")), "old");
    EXPECT_FALSE(fs::exists(dir.file("p.csv")));
    EXPECT_TRUE(temporary_files(dir.path()).empty());
  }
}
