// The MLP: initialization bounds, forward against a plain loop, backward against finite differences.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/parallel.hpp"
#include "core/random.hpp"
#include "kernels/gemm.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/nn/mlp.hpp"
#include "row_invariance.hpp"
#include "test_data.hpp"

using namespace neuncut;

using neuncut::testing::gaussian_matrix;
namespace {

// sum(C o logits) in double: a linear probe whose gradient wrt the logits is C.
double probe(const Mlp& mlp, const MatrixF& X, const MatrixF& C) {
  return (mlp.predict_logits(X).cast<double>().array() * C.cast<double>().array()).sum();
}
}  // namespace

TEST(Mlp, InitializationBoundsAndZeroBiases) {
  Mlp mlp({100, 50, 10});
  mlp.initialize(1);
  const float hidden_bound = std::sqrt(6.0f / 100.0f), out_bound = std::sqrt(6.0f / 60.0f);
  EXPECT_LE(mlp.weight(0).cwiseAbs().maxCoeff(), hidden_bound);
  EXPECT_GT(mlp.weight(0).cwiseAbs().maxCoeff(), 0.9f * hidden_bound);  // fills the range
  EXPECT_LE(mlp.weight(1).cwiseAbs().maxCoeff(), out_bound);
  EXPECT_EQ(mlp.bias(0).cwiseAbs().maxCoeff(), 0.0f);
  EXPECT_EQ(mlp.bias(1).cwiseAbs().maxCoeff(), 0.0f);
  Mlp again({100, 50, 10});
  again.initialize(1);
  EXPECT_TRUE(std::equal(mlp.parameters().begin(), mlp.parameters().end(), again.parameters().begin()));
}

TEST(Mlp, ForwardMatchesPlainLoops) {
  Mlp mlp({4, 6, 3});
  mlp.initialize(2);
  auto params = mlp.parameters();
  detail::Rng rng(9);
  for (float& p : params) p = float(rng.normal());  // non-zero biases too
  const MatrixF X = gaussian_matrix(5, 4, 3);
  const MatrixF out = mlp.predict_logits(X);
  for (Index i = 0; i < 5; ++i) {
    std::vector<double> h(6);
    for (Index j = 0; j < 6; ++j) {
      double s = mlp.bias(0)[j];
      for (Index t = 0; t < 4; ++t) s += X(i, t) * mlp.weight(0)(t, j);
      h[j] = std::max(0.0, s);
    }
    for (Index j = 0; j < 3; ++j) {
      double s = mlp.bias(1)[j];
      for (Index t = 0; t < 6; ++t) s += h[t] * mlp.weight(1)(t, j);
      EXPECT_NEAR(out(i, j), s, 1e-5);
    }
  }
}

TEST(Mlp, BackwardMatchesFiniteDifferences) {
  Mlp mlp({5, 7, 6, 3});
  mlp.initialize(4);
  auto params = mlp.parameters();
  detail::Rng rng(10);
  for (float& p : params) p += 0.1f * float(rng.normal());
  const MatrixF X = gaussian_matrix(8, 5, 11), C = gaussian_matrix(8, 3, 12);
  MlpWorkspace ws;
  mlp.forward(X, ws);
  std::vector<float> grad(static_cast<std::size_t>(mlp.num_parameters()));
  mlp.backward(X, ws, C, grad);
  double err2 = 0, norm2 = 0;
  const float h = 1e-3f;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const float v = params[i];
    params[i] = v + h;
    const double fp = probe(mlp, X, C);
    params[i] = v - h;
    const double fm = probe(mlp, X, C);
    params[i] = v;
    const double numeric = (fp - fm) / (2.0 * h);
    err2 += (numeric - grad[i]) * (numeric - grad[i]);
    norm2 += numeric * numeric;
  }
  EXPECT_LT(std::sqrt(err2 / norm2), 2e-3);
}

TEST(Mlp, PredictedLogitsOfARowDoNotDependOnItsBatch) {
  // Inference: a point's logits are the same bits in any batch, through both fp32 backends
  // (and bf16 where available), at 1 and 2 threads.
  Mlp mlp({20, 64, 48, 5});
  mlp.initialize(4, true);
  const MatrixF X = gaussian_matrix(300, 20, 5);
  const auto saved = detail::fp32_gemm_backend();
  std::vector<std::pair<Precision, detail::Fp32GemmBackend>> modes = {
      {Precision::Fp32, detail::Fp32GemmBackend::Eigen}};
  try {
    detail::set_fp32_gemm_backend(detail::Fp32GemmBackend::OneDnn);
    modes.push_back({Precision::Fp32, detail::Fp32GemmBackend::OneDnn});
  } catch (const InvalidArgument&) {}
  if (bf16_available()) modes.push_back({Precision::Bf16, detail::Fp32GemmBackend::OneDnn});
  for (auto [precision, backend] : modes) {
    SCOPED_TRACE(::testing::Message() << to_string(precision) << ", backend " << int(backend));
    detail::set_fp32_gemm_backend(backend);
    mlp.set_precision(precision);
    const auto logits = [&](const MatrixF& rows) { return mlp.predict_logits(rows); };
    neuncut::testing::expect_rows_independent_of_batch(X, logits);
    const MatrixF one_thread = logits(X);
    detail::ThreadCountScope two(2);
    EXPECT_EQ(logits(X), one_thread);
  }
  detail::set_fp32_gemm_backend(saved);
}

TEST(Mlp, RejectsWrongInputWidthAndBadShapes) {
  Mlp mlp({4, 3, 2});
  mlp.initialize(0);
  MlpWorkspace ws;
  EXPECT_THROW(mlp.forward(MatrixF::Zero(2, 5), ws), InvalidArgument);
  EXPECT_THROW(Mlp({4}), InvalidArgument);
  EXPECT_THROW(Mlp({4, 0, 2}), InvalidArgument);
  std::vector<float> wrong(3);
  EXPECT_THROW(mlp.set_parameters(wrong), InvalidArgument);
}

// bf16 mixed precision. Bounds: rounding an operand to bf16 (8 significant bits, to nearest)
// changes it by at most u = 2^-8 relative, so a product of two rounded operands is off by at
// most e = 2u + u^2 relative; fp32 sums of K terms add gamma_K = K 2^-24 (worst cases; see
// test_gemm.cpp).
namespace {
constexpr double kU = 1.0 / 256.0;

// Round to the nearest bf16, ties to even (finite inputs): what oneDNN's reorder does.
float round_to_bf16(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, 4);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  bits &= 0xFFFF0000u;
  std::memcpy(&x, &bits, 4);
  return x;
}

Eigen::MatrixXd rounded(const Eigen::Ref<const MatrixF>& m) {
  return m.unaryExpr([](float x) { return round_to_bf16(x); }).cast<double>();
}

double gamma(Index K) { return double(K) * std::ldexp(1.0, -24); }

Mlp perturbed_mlp(std::vector<Index> widths, std::uint64_t seed) {
  Mlp mlp(std::move(widths));
  mlp.initialize(seed);
  detail::Rng rng(seed + 100);
  for (float& p : mlp.parameters()) p += 0.05f * float(rng.normal());  // non-zero biases too
  return mlp;
}
}  // namespace

#define SKIP_WITHOUT_BF16() \
  if (!bf16_available()) GTEST_SKIP() << "bf16 unavailable: " << bf16_unavailable_reason()

// Every layer of a bf16 forward pass equals, to fp32 summation error, the exact product of
// its actual input and weights rounded to bf16, plus the bias, through the ReLU: that is,
// bf16 operands, fp32 accumulation, fp32 bias and activation.
TEST(MlpBf16, ForwardIsTheProductOfBf16RoundedOperandsLayerByLayer) {
  SKIP_WITHOUT_BF16();
  Mlp mlp = perturbed_mlp({50, 40, 30, 5}, 20);
  mlp.set_precision(Precision::Bf16);
  const MatrixF X = gaussian_matrix(33, 50, 21);
  MlpWorkspace ws;
  mlp.forward(X, ws);
  // Layer l's output `out` (after its ReLU) from its input `in`, against the bound.
  const auto expect_layer = [&](Index l, const MatrixF& in, const MatrixF& out, const char* pass) {
    const Eigen::MatrixXd a = rounded(in), w = rounded(mlp.weight(l));
    Eigen::MatrixXd ref = (a * w).rowwise() + mlp.bias(l).cast<double>().transpose();
    if (l + 1 < mlp.num_layers()) ref = ref.cwiseMax(0.0);
    const Eigen::MatrixXd tol = (gamma(in.cols() + 2) * (a.cwiseAbs() * w.cwiseAbs())).rowwise() +
                                std::ldexp(1.0, -23) * mlp.bias(l).cast<double>().cwiseAbs().transpose();
    const Eigen::MatrixXd err = (out.cast<double>() - ref).cwiseAbs();
    EXPECT_TRUE((err.array() <= tol.array() + 1e-30).all())
        << pass << ", layer " << l << ": max error " << err.maxCoeff() << ", max tolerance " << tol.maxCoeff();
  };
  for (Index l = 0; l < mlp.num_layers(); ++l)
    expect_layer(l, l == 0 ? X : ws.activations[l - 1], ws.activations[l], "forward");
  // predict_logits (row tiles, rows rounded by each tile's product) is the same bf16 network:
  // each layer checked alike, its output read from the network cut after that layer (whose
  // parameters are a prefix of the whole network's).
  MatrixF in = X;
  for (Index l = 0; l < mlp.num_layers(); ++l) {
    const std::vector<Index> widths(mlp.widths().begin(), mlp.widths().begin() + l + 2);
    Mlp head(widths);
    head.set_parameters(mlp.parameters().subspan(0, std::size_t(head.num_parameters())));
    head.set_precision(Precision::Bf16);
    MatrixF out = head.predict_logits(X);
    if (l + 1 < mlp.num_layers()) out = out.cwiseMax(0.0f);
    expect_layer(l, in, out, "predict_logits");
    in = out;
  }
  // And it is not the fp32 pass: the roundings show at this scale.
  Mlp fp32 = mlp;
  fp32.set_precision(Precision::Fp32);
  EXPECT_GT((fp32.predict_logits(X) - ws.activations.back()).cwiseAbs().maxCoeff(), 1e-5f);
}

// bf16 backward against fp32 backward on the same activations: the bound propagates the
// worst-case error of each product through the layers, with absolute values (|G| the fp32
// gradient wrt a layer's output, E a bound on its bf16 error, e the per-product factor):
//   dW_l:   e |a_l|^T (|G_l| + E_l) + |a_l|^T E_l
//   E_l-1:  relu'(a_l) o ((1 + e)(|G_l| + E_l) |W_l|^T - |G_l| |W_l|^T)
// plus fp32 summation error on both sides.
TEST(MlpBf16, BackwardMatchesFp32WithinThePropagatedBf16Bound) {
  SKIP_WITHOUT_BF16();
  Mlp mlp = perturbed_mlp({40, 64, 48, 6}, 22);
  const MatrixF X = gaussian_matrix(50, 40, 23), G = gaussian_matrix(50, 6, 24);
  MlpWorkspace ws;
  mlp.forward(X, ws);  // fp32 activations, shared by both backward passes
  std::vector<float> g32(static_cast<std::size_t>(mlp.num_parameters())), g16(g32.size());
  mlp.backward(X, ws, G, g32);
  mlp.set_precision(Precision::Bf16);
  mlp.backward(X, ws, G, g16);
  const double e = 2 * kU + kU * kU;
  Eigen::MatrixXd grad = G.cast<double>().cwiseAbs(), err_bound = Eigen::MatrixXd::Zero(G.rows(), G.cols());
  for (Index l = mlp.num_layers() - 1; l >= 0; --l) {
    const Eigen::MatrixXd a = (l == 0 ? X : ws.activations[l - 1]).cast<double>().cwiseAbs();
    const Eigen::MatrixXd w = mlp.weight(l).cast<double>().cwiseAbs();
    const double g = gamma(X.rows() + w.cols());
    const Eigen::MatrixXd dw_tol =
        e * a.transpose() * (grad + err_bound) + a.transpose() * err_bound + 2 * g * a.transpose() * (grad + err_bound);
    const auto dw16 = mlp.weight(l, g16), dw32 = mlp.weight(l, g32);
    const Eigen::MatrixXd dw_err = (dw16 - dw32).cast<double>().cwiseAbs();
    EXPECT_TRUE((dw_err.array() <= dw_tol.array() + 1e-30).all())
        << "dW layer " << l << ": max error " << dw_err.maxCoeff() << ", max tolerance " << dw_tol.maxCoeff();
    // Bias gradients are fp32 column sums of the propagated gradient.
    const Eigen::VectorXd db_tol = err_bound.colwise().sum().transpose() + 2 * g * grad.colwise().sum().transpose();
    const Eigen::VectorXd db_err = (mlp.bias(l, g16) - mlp.bias(l, g32)).cast<double>().cwiseAbs();
    EXPECT_TRUE((db_err.array() <= db_tol.array() + 1e-30).all()) << "bias layer " << l;
    if (l == 0) break;
    const Eigen::ArrayXXd active = (ws.activations[l - 1].array() > 0.0f).cast<double>();
    const Eigen::MatrixXd next = ((grad * w.transpose()).array() * active).matrix();
    // (4 g: the fp32 sums of the bf16 pass and of the fp32 reference, with margin.)
    err_bound =
        ((((1 + e + 4 * g) * (grad + err_bound) * w.transpose()) - grad * w.transpose()).array() * active).matrix();
    grad = next;  // an upper bound of |G_l-1|, as the bound needs
  }
  EXPECT_NE(g16, g32);  // bf16 did run
}

TEST(MlpBf16, BackwardReusesTheForwardPassRoundingExactly) {
  // In bf16 the forward pass rounds each layer's input and weights once and the backward pass
  // reads those copies. That must equal rounding them afresh from the stored activations, and
  // copies left by an earlier bf16 pass must not be used after an fp32 forward pass.
  SKIP_WITHOUT_BF16();
  Mlp mlp = perturbed_mlp({40, 64, 48, 6}, 25);
  mlp.set_precision(Precision::Bf16);
  const MatrixF X = gaussian_matrix(50, 40, 26), X2 = gaussian_matrix(50, 40, 27), G = gaussian_matrix(50, 6, 28);
  std::vector<float> reused(static_cast<std::size_t>(mlp.num_parameters())), fresh(reused.size());
  MlpWorkspace ws;
  mlp.forward(X, ws);
  mlp.backward(X, ws, G, reused);
  MlpWorkspace ws_fresh;
  ws_fresh.activations = ws.activations;  // the same activations, no bf16 copies
  mlp.backward(X, ws_fresh, G, fresh);
  EXPECT_EQ(reused, fresh);
  // An fp32 forward pass of another batch through the same workspace, then a bf16 backward.
  mlp.set_precision(Precision::Fp32);
  mlp.forward(X2, ws);
  MlpWorkspace ws_fp32;
  mlp.forward(X2, ws_fp32);
  mlp.set_precision(Precision::Bf16);
  mlp.backward(X2, ws, G, reused);
  mlp.backward(X2, ws_fp32, G, fresh);
  EXPECT_EQ(reused, fresh);
}

TEST(MlpBf16, SetPrecisionIsKeptByCopiesAndRefusedWhereUnavailable) {
  Mlp mlp({4, 3, 2});
  mlp.initialize(0);
  EXPECT_EQ(mlp.precision(), Precision::Fp32);
  mlp.set_precision(Precision::Bf16);
  const Mlp copy = mlp;
  EXPECT_EQ(copy.precision(), Precision::Bf16);
  if (!bf16_available()) {
    MlpWorkspace ws;
    EXPECT_THROW(mlp.forward(MatrixF::Zero(2, 4), ws), InvalidArgument);
  }
}
