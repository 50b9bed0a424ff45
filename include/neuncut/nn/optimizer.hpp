// Adam and AdamW over a flat parameter vector, with the exact update rule of
// torch.optim.Adam / torch.optim.AdamW (so results can be compared with PyTorch runs).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut {

/// How weight decay enters the update.
enum class WeightDecayMode {
  L2,         ///< torch.optim.Adam: g += weight_decay * p before the moment updates.
  Decoupled,  ///< torch.optim.AdamW: p *= 1 - lr * weight_decay, separate from the gradient.
};

/// The names are NeuNcut's `optimizer` option: adam (L2) or adamw (decoupled).
NEUNCUT_ENUM_NAMES(WeightDecayMode, "optimizer", {WeightDecayMode::L2, "adam"}, {WeightDecayMode::Decoupled, "adamw"})

/// Adam hyperparameters (PyTorch's defaults).
struct AdamParams {
  double beta1 = 0.9;                          ///< First-moment decay.
  double beta2 = 0.999;                        ///< Second-moment decay.
  double epsilon = 1e-8;                       ///< Added to sqrt(v_hat) in the denominator.
  double weight_decay = 0.0;                   ///< Decay coefficient (see mode).
  WeightDecayMode mode = WeightDecayMode::L2;  ///< Adam (L2) or AdamW (decoupled).
};

class Adam {
 public:
  Adam() = default;
  Adam(Index num_parameters, AdamParams params);

  /// One update of `parameters` from `gradient` (same length) with learning rate lr.
  /// The gradient buffer is not modified. Runs on `threads` threads (<= 0: all cores); every
  /// element is updated independently, so the result is the same at any thread count.
  void step(std::span<float> parameters, std::span<const float> gradient, double lr, int threads = 1);

  /// Number of steps taken.
  std::int64_t steps() const { return t_; }
  const AdamParams& params() const { return params_; }

 private:
  AdamParams params_;
  AlignedFloats m_, v_;
  std::int64_t t_ = 0;
};

/// parse_enum<WeightDecayMode> and to_string, under their earlier names.
inline WeightDecayMode parse_weight_decay_mode(const std::string& name) { return parse_enum<WeightDecayMode>(name); }
inline std::string optimizer_name(WeightDecayMode mode) { return to_string(mode); }

}  // namespace neuncut
