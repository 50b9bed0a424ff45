// A fully connected ReLU network with its analytic backward pass; the function f whose
// softmax is NeuNcut's soft membership P, and the trunk of SpectralNet.
//
// Layer l maps a_l (m x n_l) to z_{l+1} = a_l W_l + b_l, with W_l stored n_l x n_{l+1}
// row-major; hidden layers apply ReLU, the last layer is linear (logits). All weights and
// biases live in one contiguous float buffer (layer by layer: W_0, b_0, W_1, b_1, ...), so
// optimizers and model files treat the parameters as one flat vector and gradients share
// that layout.
//
// Precision (precision.hpp): in fp32 every product is an fp32 GEMM (oneDNN's when neuncut is
// built with it, else Eigen's), with the bias and ReLU fused into the forward products. In bf16
// the products of forward, backward (weight gradients and activation gradients) and
// predict_logits round their operands to bfloat16 and accumulate in fp32 (oneDNN), fused the
// same way; the parameters, activations and gradients are stored in fp32
// in both modes (fp32 master weights), so an optimizer step is the same code in both.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "neuncut/core/precision.hpp"
#include "neuncut/core/types.hpp"

namespace neuncut {

namespace detail {
struct MlpBf16Operands;  // bf16 copies of the products' operands (src/nn/mlp.cpp)
}

/// Activations kept from a forward pass for the backward pass; reused across steps so the
/// training loop does not allocate.
struct MlpWorkspace {
  std::vector<MatrixF> activations;  ///< a_0 = input copy is not kept; activations[l] = output of layer l.
  MatrixF grad_a, grad_b;            ///< Scratch for the backward pass.
  /// bf16 only: each layer's input, weights and gradient rounded once and shared by the
  /// products that read them (internal).
  std::shared_ptr<detail::MlpBf16Operands> bf16;
};

class Mlp {
 public:
  Mlp() = default;
  /// widths = {input dim, hidden..., output dim}; at least two entries, all >= 1.
  explicit Mlp(std::vector<Index> widths);

  /// Kaiming-uniform hidden layers (bound sqrt(6 / fan_in), i.e. gain sqrt(2) for ReLU),
  /// Xavier-uniform output layer (bound sqrt(6 / (fan_in + fan_out))). Hidden biases are zero
  /// (the NeuNcut reference), or with uniform_hidden_bias uniform in +-1/sqrt(fan_in) (torch's
  /// nn.Linear default); the output bias is always zero.
  void initialize(std::uint64_t seed, bool uniform_hidden_bias = false);

  const std::vector<Index>& widths() const { return widths_; }
  Index input_dim() const { return widths_.front(); }
  Index output_dim() const { return widths_.back(); }
  Index num_layers() const { return Index(widths_.size()) - 1; }
  Index num_parameters() const { return Index(params_.size()); }
  /// The parameter count of an MLP of these widths (weights and biases), without allocating:
  /// a model loader compares it with the stored weights before building the network.
  static Index parameter_count(const std::vector<Index>& widths);

  /// The flat parameter vector (all layers).
  std::span<float> parameters() { return params_; }
  std::span<const float> parameters() const { return params_; }
  /// Views of layer l's weight (n_l x n_{l+1}) and bias (n_{l+1}) inside parameters(); a
  /// `buffer` argument gives the same view into a gradient buffer of the same layout.
  Eigen::Map<MatrixF> weight(Index l, std::span<float> buffer);
  Eigen::Map<VectorF> bias(Index l, std::span<float> buffer);
  Eigen::Map<const MatrixF> weight(Index l) const;
  Eigen::Map<const VectorF> bias(Index l) const;

  /// Forward pass of a batch (m x input_dim); the logits are ws.activations.back().
  void forward(const Eigen::Ref<const MatrixF>& input, MlpWorkspace& ws) const;

  /// Backward pass: given dLoss/dlogits (m x output_dim) for the batch of the last forward()
  /// with the same workspace, writes dLoss/dparameters into `gradient` (overwritten, same
  /// layout as parameters()). The gradient with respect to the input is not computed. The
  /// parameters must be those of that forward pass (its activations came from them; in bf16
  /// it also reuses the weights it rounded).
  void backward(const Eigen::Ref<const MatrixF>& input, MlpWorkspace& ws, const MatrixF& grad_logits,
                std::span<float> gradient) const;

  /// Logits for many rows at once, for inference: each row's logits are a function of that
  /// row alone, bit for bit, whatever the batch, the row's place in it or the thread count
  /// (the products run in fixed-size row tiles, src/kernels/gemm.hpp gemm_rowwise). They may differ
  /// from forward()'s in the last bits (forward multiplies the batch as one product).
  MatrixF predict_logits(const Eigen::Ref<const MatrixF>& input) const;

  /// Replaces the parameters (size must match num_parameters()).
  void set_parameters(std::span<const float> values);

  /// Precision of the products in forward, backward and predict_logits (default Fp32). Any
  /// value may be set; with Bf16 where bf16_available() is false, those calls throw
  /// InvalidArgument naming the reason.
  void set_precision(Precision precision) { precision_ = precision; }
  Precision precision() const { return precision_; }

 private:
  Precision precision_ = Precision::Fp32;
  std::vector<Index> widths_;
  std::vector<Index> offsets_;  // start of W_l in params_; b_l follows W_l
  AlignedFloats params_;
};

}  // namespace neuncut
