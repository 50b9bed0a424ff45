// The MLP: initialization bounds, forward against a plain loop, backward against finite differences.
#include <gtest/gtest.h>

#include <cmath>

#include "neuncut/error.hpp"
#include "neuncut/mlp.hpp"
#include "random.hpp"

using namespace neuncut;

namespace {
MatrixF random_matrix(Index r, Index c, std::uint64_t seed) {
  detail::Rng rng(seed);
  MatrixF m(r, c);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = float(rng.normal());
  return m;
}

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
  const MatrixF X = random_matrix(5, 4, 3);
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
  const MatrixF X = random_matrix(8, 5, 11), C = random_matrix(8, 3, 12);
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
