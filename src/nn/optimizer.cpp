#include "neuncut/nn/optimizer.hpp"

#include <cmath>

#include "core/parallel.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut {

Adam::Adam(Index num_parameters, AdamParams params)
    : params_(params),
      m_(static_cast<std::size_t>(num_parameters), 0.0f),
      v_(static_cast<std::size_t>(num_parameters), 0.0f) {}

void Adam::step(std::span<float> parameters, std::span<const float> gradient, double lr, int threads) {
  assert(parameters.size() == m_.size() && gradient.size() == m_.size());
  ++t_;
  const double bc1 = 1.0 - std::pow(params_.beta1, double(t_));
  const double bc2 = 1.0 - std::pow(params_.beta2, double(t_));
  const float b1 = float(params_.beta1), b2 = float(params_.beta2);
  const float step_size = float(lr / bc1), inv_sqrt_bc2 = float(1.0 / std::sqrt(bc2));
  const float eps = float(params_.epsilon), wd = float(params_.weight_decay);
  const bool l2 = params_.mode == WeightDecayMode::L2;
  const float decay = l2 ? 1.0f : float(1.0 - lr * params_.weight_decay);
  float* p = parameters.data();
  const float* g = gradient.data();
  float* m = m_.data();
  float* v = v_.data();
  // Element-wise and memory-bound (4 arrays of 670k floats for the reference net): split in
  // one contiguous block per thread. Each element's update is independent, so the result does
  // not depend on the thread count.
  // Captured by value: scalars held by reference would block vectorization.
  detail::parallel_blocks(Index(m_.size()), threads, [=](Index lo, Index hi) {
    for (Index i = lo; i < hi; ++i) {
      const float gi = l2 ? g[i] + wd * p[i] : g[i];
      p[i] *= decay;
      m[i] = b1 * m[i] + (1.0f - b1) * gi;
      v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  });
}

}  // namespace neuncut
