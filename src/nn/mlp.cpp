#include "neuncut/nn/mlp.hpp"

#include <cmath>

#include "core/parallel.hpp"
#include "core/random.hpp"
#include "kernels/gemm.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut {

Mlp::Mlp(std::vector<Index> widths) : widths_(std::move(widths)) {
  NEUNCUT_REQUIRE(widths_.size() >= 2, InvalidArgument, "an MLP needs an input and an output width, got ",
                  widths_.size(), " widths");
  for (std::size_t l = 0; l < widths_.size(); ++l) {
    NEUNCUT_REQUIRE(widths_[l] >= 1, InvalidArgument, "MLP layer width ", l, " must be >= 1, got ", widths_[l]);
  }
  Index total = 0;
  for (std::size_t l = 0; l + 1 < widths_.size(); ++l) {
    offsets_.push_back(total);
    total += widths_[l] * widths_[l + 1] + widths_[l + 1];
  }
  params_.assign(static_cast<std::size_t>(total), 0.0f);
}

Index Mlp::parameter_count(const std::vector<Index>& widths) {
  Index total = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l) total += widths[l] * widths[l + 1] + widths[l + 1];
  return total;
}

void Mlp::initialize(std::uint64_t seed, bool uniform_hidden_bias) {
  detail::Rng rng(seed);
  for (Index l = 0; l < num_layers(); ++l) {
    const double fan_in = double(widths_[l]), fan_out = double(widths_[l + 1]);
    const bool output_layer = l + 1 == num_layers();
    // torch.nn.init.kaiming_uniform_ default (a=0, fan_in, leaky_relu gain sqrt(2)) and
    // xavier_uniform_ (gain 1); the choice NeuNcut's reference implementation makes.
    const double bound = output_layer ? std::sqrt(6.0 / (fan_in + fan_out)) : std::sqrt(6.0 / fan_in);
    auto W = weight(l, params_);
    for (Index i = 0; i < W.size(); ++i) W.data()[i] = static_cast<float>(rng.uniform(-bound, bound));
    auto b = bias(l, params_);
    b.setZero();
    // A ReLU net with zero biases is positively homogeneous, f(a x) = a f(x): on
    // low-dimensional data it can only split by angle around the origin until the biases
    // have learnt, which traps it in straight cuts (two moons). Random biases break that.
    if (uniform_hidden_bias && !output_layer)
      for (Index i = 0; i < b.size(); ++i) b[i] = static_cast<float>(rng.uniform(-1.0, 1.0) / std::sqrt(fan_in));
  }
}

Eigen::Map<MatrixF> Mlp::weight(Index l, std::span<float> buffer) {
  return {buffer.data() + offsets_[l], widths_[l], widths_[l + 1]};
}
Eigen::Map<VectorF> Mlp::bias(Index l, std::span<float> buffer) {
  return {buffer.data() + offsets_[l] + widths_[l] * widths_[l + 1], widths_[l + 1]};
}
Eigen::Map<const MatrixF> Mlp::weight(Index l) const {
  return {params_.data() + offsets_[l], widths_[l], widths_[l + 1]};
}
Eigen::Map<const VectorF> Mlp::bias(Index l) const {
  return {params_.data() + offsets_[l] + widths_[l] * widths_[l + 1], widths_[l + 1]};
}

namespace detail {
// In bf16 every operand of a step's products would otherwise be converted by each product
// that reads it: the batch and the activations twice (forward, weight gradient), each
// gradient twice (weight gradient, propagation), the weights twice (forward, propagation),
// transposing conversions among them. Rounded once here, they are handed to the products as
// bf16 (detail::GemmOperand::bf16).
struct MlpBf16Operands {
  bool from_last_forward = false;   // inputs and weights belong to the workspace's last forward pass
  std::vector<Bf16Matrix> inputs;   // inputs[l]: the input of layer l (the batch, then activations)
  std::vector<Bf16Matrix> weights;  // weights[l]: W_l as of the forward pass
  Bf16Matrix gradient;              // the gradient being propagated
};
}  // namespace detail

namespace {
detail::MlpBf16Operands& bf16_operands(MlpWorkspace& ws, Index layers) {
  if (!ws.bf16) ws.bf16 = std::make_shared<detail::MlpBf16Operands>();
  ws.bf16->inputs.resize(static_cast<std::size_t>(layers));
  ws.bf16->weights.resize(static_cast<std::size_t>(layers));
  return *ws.bf16;
}
}  // namespace

void Mlp::forward(const Eigen::Ref<const MatrixF>& input, MlpWorkspace& ws) const {
  NEUNCUT_REQUIRE(input.cols() == input_dim(), InvalidArgument, "MLP input has ", input.cols(),
                  " features, the model expects ", input_dim());
  ws.activations.resize(static_cast<std::size_t>(num_layers()));
  const bool bf16 = precision_ == Precision::Bf16;
  NEUNCUT_REQUIRE(!bf16 || bf16_available(), InvalidArgument,
                  "bf16 matrix products are unavailable: ", bf16_unavailable_reason());
  const int threads = detail::ambient_threads();
  if (bf16) bf16_operands(ws, num_layers()).inputs[0].assign(input, threads);
  if (ws.bf16) ws.bf16->from_last_forward = false;  // until this pass has filled them
  for (Index l = 0; l < num_layers(); ++l) {
    MatrixF& out = ws.activations[l];
    out.resize(input.rows(), widths_[l + 1]);  // no-op when the batch shape repeats
    const bool relu = l + 1 < num_layers();
    // Bias and ReLU fused into the product's output stage.
    if (bf16) {
      auto& operands = *ws.bf16;
      operands.weights[l].assign(weight(l), threads);
      detail::gemm(detail::gemm_operand(operands.inputs[l], 0, input.rows()),
                   detail::gemm_operand(operands.weights[l], 0, widths_[l]), out.data(), out.cols(), precision_,
                   bias(l).data(), relu);
      if (relu) operands.inputs[l + 1].assign(out, threads);
    } else {
      const auto in = l == 0 ? detail::gemm_operand(input) : detail::gemm_operand(ws.activations[l - 1]);
      detail::gemm(in, detail::gemm_operand(weight(l)), out.data(), out.cols(), precision_, bias(l).data(), relu);
    }
  }
  if (bf16) ws.bf16->from_last_forward = true;
}

void Mlp::backward(const Eigen::Ref<const MatrixF>& input, MlpWorkspace& ws, const MatrixF& grad_logits,
                   std::span<float> gradient) const {
  assert(Index(gradient.size()) == num_parameters());
  assert(Index(ws.activations.size()) == num_layers());
  const bool bf16 = precision_ == Precision::Bf16;
  const int threads = detail::ambient_threads();
  const Index m = input.rows();
  if (bf16 && !(ws.bf16 && ws.bf16->from_last_forward)) {
    // The forward pass ran in fp32 (or not through this workspace): round its operands now.
    auto& operands = bf16_operands(ws, num_layers());
    for (Index l = 0; l < num_layers(); ++l) {
      operands.inputs[l].assign(l == 0 ? input : Eigen::Ref<const MatrixF>(ws.activations[l - 1]), threads);
      operands.weights[l].assign(weight(l), threads);
    }
    operands.from_last_forward = true;
  }
  auto* self = const_cast<Mlp*>(this);  // only for the buffer-view helpers; params_ is not touched
  const MatrixF* grad = &grad_logits;
  for (Index l = num_layers() - 1; l >= 0; --l) {
    // dW = a^T grad, with a (the layer's input) read transposed in place.
    auto dW = self->weight(l, gradient);
    if (bf16) {
      auto& operands = *ws.bf16;
      operands.gradient.assign(*grad, threads);
      detail::gemm(detail::gemm_operand(operands.inputs[l], 0, m, true), detail::gemm_operand(operands.gradient, 0, m),
                   dW.data(), dW.cols(), precision_);
    } else {
      const auto in = l == 0 ? detail::gemm_operand(input, true) : detail::gemm_operand(ws.activations[l - 1], true);
      detail::gemm(in, detail::gemm_operand(*grad), dW.data(), dW.cols(), precision_);
    }
    // Bias gradient: column sums, each in row order. Eigen's colwise().sum() chose its order
    // by the alignment of the destination, so the same gradient written into two buffers
    // could differ in the last bit.
    auto db = self->bias(l, gradient);
    db.setZero();
    for (Index i = 0; i < m; ++i) db += grad->row(i).transpose();
    if (l == 0) break;
    // Propagate through W_l and the ReLU of layer l-1 (its output > 0 where it was active).
    MatrixF& next = (grad == &ws.grad_a) ? ws.grad_b : ws.grad_a;
    next.resize(m, widths_[l]);
    if (bf16)
      detail::gemm(detail::gemm_operand(ws.bf16->gradient, 0, m),
                   detail::gemm_operand(ws.bf16->weights[l], 0, widths_[l], true), next.data(), next.cols(),
                   precision_);
    else
      detail::gemm(detail::gemm_operand(*grad), detail::gemm_operand(weight(l), true), next.data(), next.cols(),
                   precision_);
    const MatrixF& active = ws.activations[l - 1];
    detail::parallel_blocks(m, threads, [&](Index lo, Index hi) {
      next.middleRows(lo, hi - lo) =
          (active.middleRows(lo, hi - lo).array() > 0.0f).select(next.middleRows(lo, hi - lo), 0.0f);
    });
    grad = &next;
  }
}

MatrixF Mlp::predict_logits(const Eigen::Ref<const MatrixF>& input) const {
  NEUNCUT_REQUIRE(input.cols() == input_dim(), InvalidArgument, "MLP input has ", input.cols(),
                  " features, the model expects ", input_dim());
  const bool bf16 = precision_ == Precision::Bf16;
  NEUNCUT_REQUIRE(!bf16 || bf16_available(), InvalidArgument,
                  "bf16 matrix products are unavailable: ", bf16_unavailable_reason());
  // Row-invariant products (detail::gemm_rowwise): a row's logits do not depend on the batch
  // it came in. In bf16 the weights are rounded once and the rows by each tile's product.
  const int threads = detail::ambient_threads();
  detail::Bf16Matrix weights;
  MatrixF in, out;
  for (Index l = 0; l < num_layers(); ++l) {
    out.resize(input.rows(), widths_[l + 1]);
    const auto a = l == 0 ? detail::gemm_operand(input) : detail::gemm_operand(in);
    detail::GemmOperand b = detail::gemm_operand(weight(l));
    if (bf16) {
      weights.assign(weight(l), threads);
      b = detail::gemm_operand(weights, 0, widths_[l]);
    }
    detail::gemm_rowwise(a, b, out.data(), out.cols(), precision_, bias(l).data(), l + 1 < num_layers());
    in.swap(out);
  }
  return in;
}

void Mlp::set_parameters(std::span<const float> values) {
  NEUNCUT_REQUIRE(Index(values.size()) == num_parameters(), InvalidArgument, "MLP expects ", num_parameters(),
                  " parameters, got ", values.size());
  std::copy(values.begin(), values.end(), params_.begin());
}

}  // namespace neuncut
