// Adam / AdamW against hand-computed updates (PyTorch's formulas).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "neuncut/core/error.hpp"
#include "neuncut/nn/optimizer.hpp"

using namespace neuncut;

TEST(Adam, FirstStepsByHand) {
  // p = 1, constant gradient 0.5, lr 0.1: m_hat = 0.5 and v_hat = 0.25 at every step, so each
  // step moves p by lr * 0.5 / (0.5 + 1e-8) = 0.1 (less 2e-9).
  Adam adam(1, AdamParams{});
  std::vector<float> p = {1.0f}, g = {0.5f};
  adam.step(p, g, 0.1);
  EXPECT_NEAR(p[0], 0.9f, 1e-6);
  adam.step(p, g, 0.1);
  EXPECT_NEAR(p[0], 0.8f, 3e-6);  // float32 moments
  EXPECT_EQ(adam.steps(), 2);
}

TEST(Adam, L2WeightDecayAddsToTheGradient) {
  // Step 1: g = 0.5 + 0.1 * 1.0 = 0.6, m_hat = 0.6, v_hat = 0.36 -> p = 0.9.
  // Step 2: g = 0.5 + 0.1 * 0.9 = 0.59; m = 0.9*0.06 + 0.1*0.59 = 0.113, m_hat = 0.113/0.19;
  //         v = 0.999*0.00036 + 0.001*0.3481 = 0.00070774, v_hat = v/0.001999;
  //         p = 0.9 - 0.1 * m_hat / sqrt(v_hat) = 0.80004695...
  AdamParams params;
  params.weight_decay = 0.1;
  Adam adam(1, params);
  std::vector<float> p = {1.0f}, g = {0.5f};
  adam.step(p, g, 0.1);
  EXPECT_NEAR(p[0], 0.9f, 1e-6);
  adam.step(p, g, 0.1);
  const double m_hat = 0.113 / 0.19, v_hat = 0.00070774 / (1 - 0.999 * 0.999);
  EXPECT_NEAR(p[0], 0.9 - 0.1 * m_hat / (std::sqrt(v_hat) + 1e-8), 2e-6);
  EXPECT_NEAR(p[0], 0.800047, 2e-6);
}

TEST(Adam, DecoupledWeightDecayShrinksParametersSeparately) {
  // AdamW: p = 1 * (1 - 0.1 * 0.1) = 0.99, then the Adam step of 0.1 -> 0.89.
  AdamParams params;
  params.weight_decay = 0.1;
  params.mode = WeightDecayMode::Decoupled;
  Adam adam(1, params);
  std::vector<float> p = {1.0f}, g = {0.5f};
  adam.step(p, g, 0.1);
  EXPECT_NEAR(p[0], 0.89f, 1e-6);
}

TEST(Adam, MatchesReferenceLoopOnManyParameters) {
  const int n = 37, steps = 5;
  Adam adam(n, AdamParams{0.8, 0.95, 1e-6, 0.01, WeightDecayMode::L2});
  std::vector<float> p(n), g(n);
  std::vector<double> rp(n), rm(n, 0.0), rv(n, 0.0);
  for (int i = 0; i < n; ++i) rp[i] = p[i] = 0.1f * float(i - 18);
  for (int t = 1; t <= steps; ++t) {
    for (int i = 0; i < n; ++i) g[i] = std::sin(float(i * t));
    adam.step(p, g, 0.01);
    for (int i = 0; i < n; ++i) {  // plain double-precision reference
      const double gi = g[i] + 0.01 * rp[i];
      rm[i] = 0.8 * rm[i] + 0.2 * gi;
      rv[i] = 0.95 * rv[i] + 0.05 * gi * gi;
      const double mh = rm[i] / (1 - std::pow(0.8, t)), vh = rv[i] / (1 - std::pow(0.95, t));
      rp[i] -= 0.01 * mh / (std::sqrt(vh) + 1e-6);
    }
  }
  for (int i = 0; i < n; ++i) EXPECT_NEAR(p[i], rp[i], 1e-5) << i;
}

TEST(Adam, ThreadedStepEqualsSerialStep) {
  const int n = 10007;
  Adam serial(n, AdamParams{}), threaded(n, AdamParams{});
  std::vector<float> p1(n), p2(n), g(n);
  for (int i = 0; i < n; ++i) p1[i] = p2[i] = std::cos(float(i));
  for (int t = 1; t <= 3; ++t) {
    for (int i = 0; i < n; ++i) g[i] = std::sin(float(i * t));
    serial.step(p1, g, 1e-3, 1);
    threaded.step(p2, g, 1e-3, 2);
  }
  EXPECT_EQ(p1, p2);
}

TEST(Adam, ParsesOptimizerNames) {
  EXPECT_EQ(parse_weight_decay_mode("adam"), WeightDecayMode::L2);
  EXPECT_EQ(parse_weight_decay_mode("adamw"), WeightDecayMode::Decoupled);
  EXPECT_THROW(parse_weight_decay_mode("sgd"), InvalidArgument);
}
