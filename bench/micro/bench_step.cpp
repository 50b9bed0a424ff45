// One full NeuNcut training step, composed exactly as the body of NeuNcut::fit's batch loop
// (src/methods/neuncut/neuncut.cpp): gather the batch, Gaussian affinity, MLP forward, softmax, loss with
// gradient, tally, softmax backward, MLP backward, Adam. Each phase is timed separately, so
// the counters give the per-phase breakdown of a step (ms per step and share of the step).
// BM_NeuNcutStepBf16 is the same step with precision bf16 as NeuNcut::fit runs it on these
// L2-normalized rows: the network's products and the affinity's Gram matrix in bf16.
#include <array>
#include <chrono>

#include "common.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/nn/mlp.hpp"
#include "neuncut/methods/neuncut/ncut_loss.hpp"
#include "neuncut/nn/optimizer.hpp"
#include "neuncut/core/precision.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"

namespace neuncut::bench {
namespace {

enum Phase { kGather, kAffinity, kForward, kSoftmax, kLoss, kSoftmaxBackward, kBackward, kAdam, kPhases };
constexpr const char* kPhaseNames[kPhases] = {"gather",  "affinity",    "forward",  "softmax",
                                              "loss",    "softmax_bwd", "backward", "adam"};

// FLOPs of one step: the sum of the phases' counts (common.hpp): affinity, MLP forward and
// backward, softmax (5 m k) and its backward (4 m k), the loss with gradient, Adam (16 per
// parameter); the tally (argmax per row) and the batch gather (a copy) are not counted.
// At the defaults: 4.23 GFLOP per step, 44% backward (1.87), 32% forward (1.34), 23% affinity
// (0.99, its lower-triangle Gram), 0.5% loss, 0.25% Adam.
void run_step(benchmark::State& state, Precision precision) {
  using Clock = std::chrono::steady_clock;
  if (precision == Precision::Bf16 && !bf16_available()) {
    state.SkipWithError(("bf16 unavailable: " + bf16_unavailable_reason()).c_str());
    return;
  }
  const int threads = threads_arg(state);
  BenchThreads scope(threads);
  const Index m = kBatch, k = kClusters, n = kTrainPoints;
  const MatrixF train = make_points(n, kDim);
  SigmaRule rule;
  rule.sample_size = m;
  rule.neighbor = 10;
  const float sigma = float(estimate_sigma(train, rule, threads));
  Mlp mlp(default_widths());
  mlp.initialize(1);  // bias_init auto = zero for d > 10
  mlp.set_precision(precision);
  AdamParams ap;
  ap.weight_decay = 1e-4;  // NeuNcut's default, L2 mode ("adam")
  Adam adam(mlp.num_parameters(), ap);
  const double gamma = 80.0, eps = 1e-6, lr = 1e-3;

  MatrixF batch(m, kDim), W, P, grad_p;
  VectorF degree;
  MlpWorkspace ws;
  AlignedFloats gradient(static_cast<std::size_t>(mlp.num_parameters()));
  std::vector<Index> counts(static_cast<std::size_t>(k));
  detail::Rng rng(0);
  std::vector<Index> order = rng.permutation(n);
  const Index steps_per_epoch = n / m;
  Index s = 0;
  std::array<double, kPhases> seconds{};
  double loss_sum = 0, max_prob_sum = 0;

  for (auto _ : state) {
    if (s == steps_per_epoch) {
      order = rng.permutation(n);
      s = 0;
    }
    auto t0 = Clock::now();
    auto lap = [&](Phase p) {
      const auto t1 = Clock::now();
      seconds[p] += std::chrono::duration<double>(t1 - t0).count();
      t0 = t1;
    };
    detail::parallel_blocks(m, threads, [&](Index lo, Index hi) {
      for (Index i = lo; i < hi; ++i) batch.row(i) = train.row(order[s * m + i]);
    });
    lap(kGather);
    gaussian_batch_affinity(batch, sigma, W, degree, threads, precision);
    lap(kAffinity);
    mlp.forward(batch, ws);
    lap(kForward);
    P = ws.activations.back();
    softmax_rows(P);
    lap(kSoftmax);
    const NcutLossTerms terms = ncut_loss(W, degree, P, gamma, eps, &grad_p);
    lap(kLoss);
    for (Index i = 0; i < m; ++i) {  // the fit loop's tally: argmax counts, max probabilities
      Index j;
      max_prob_sum += P.row(i).maxCoeff(&j);
      ++counts[static_cast<std::size_t>(j)];
    }
    softmax_backward(P, grad_p);
    lap(kSoftmaxBackward);
    mlp.backward(batch, ws, grad_p, gradient);
    lap(kBackward);
    adam.step(mlp.parameters(), gradient, lr, threads);
    lap(kAdam);
    loss_sum += terms.loss;
    ++s;
  }

  const auto& widths = mlp.widths();
  set_gflops(state, affinity_flops(m, kDim) + mlp_forward_flops(widths, m) + softmax_flops(m, k) +
                        ncut_loss_flops(m, k) + softmax_backward_flops(m, k) + mlp_backward_flops(widths, m) +
                        adam_flops(mlp.num_parameters()));
  double total = 0;
  for (double t : seconds) total += t;
  for (int p = 0; p < kPhases; ++p) {
    // Milliseconds per step and share of the timed step, per phase.
    state.counters[std::string(kPhaseNames[p]) + "_ms"] =
        benchmark::Counter(seconds[std::size_t(p)] * 1e3, benchmark::Counter::kAvgIterations);
    state.counters[std::string(kPhaseNames[p]) + "_%"] = total > 0 ? 100.0 * seconds[std::size_t(p)] / total : 0.0;
  }
  state.counters["mean_loss"] = benchmark::Counter(loss_sum, benchmark::Counter::kAvgIterations);
  benchmark::DoNotOptimize(max_prob_sum);
}

void BM_NeuNcutStep(benchmark::State& state) { run_step(state, Precision::Fp32); }
void BM_NeuNcutStepBf16(benchmark::State& state) { run_step(state, Precision::Bf16); }

}  // namespace

BENCHMARK(BM_NeuNcutStep)->Apply(thread_args)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NeuNcutStepBf16)->Apply(thread_args)->Unit(benchmark::kMillisecond);

}  // namespace neuncut::bench
