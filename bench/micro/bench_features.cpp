// The scattering transform, the cost of labelling images: Fashion-MNIST-sized images
// (28 x 28), neuncut's default filter bank (J = 3, L = 8) at order 1 (the default features) and
// order 2. Reported as images per second (items_per_second), not GFLOP/s: the transform's work
// is FFTs and small products whose FLOP count depends on the algorithm, and images per second
// is what labelling a file costs.
#include <random>

#include "common.hpp"
#include "neuncut/features/scattering.hpp"

namespace neuncut::bench {
namespace {

// 1000 images of uniform grey levels in [0, 1): the transform's time does not depend on the
// pixel values.
void BM_Scattering(benchmark::State& state) {
  const int order = int(state.range(0));
  const int threads = int(state.range(1));
  BenchThreads scope(threads);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<float> grey(0.0f, 1.0f);
  MatrixF images(1000, 28 * 28);
  for (Index i = 0; i < images.size(); ++i) images.data()[i] = grey(rng);
  const ScatteringTransform scattering(scattering_params(28, 28, 3, 8, order));
  for (auto _ : state) {
    MatrixF features = scattering.transform(images, threads);
    benchmark::DoNotOptimize(features.data());
  }
  state.SetItemsProcessed(state.iterations() * images.rows());
}

}  // namespace

BENCHMARK(BM_Scattering)->ArgNames({"order", "threads"})->ArgsProduct({{1, 2}, {1, 2}})->Unit(benchmark::kMillisecond);

}  // namespace neuncut::bench
