// Seeded synthetic data sets. Moons and circles follow scikit-learn's make_moons and
// make_circles (the points, not the random streams); every draw comes from detail::Rng so a
// seed gives the same data on every platform.
#include "neuncut/data/synthetic.hpp"

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "core/random.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut {

namespace {

struct Points {
  std::vector<double> xy;  // n x dim, row-major, in generation order
  Labels labels;
};

// n values evenly spaced over [0, stop], endpoint included when `endpoint` (numpy.linspace).
double linspace_at(Index i, Index n, double stop, bool endpoint) {
  const Index div = endpoint ? n - 1 : n;
  return div > 0 ? stop * static_cast<double>(i) / static_cast<double>(div) : 0.0;
}

Points two_curves(const SyntheticParams& p, bool moons, detail::Rng& rng) {
  const Index n_out = p.n_samples / 2, n_in = p.n_samples - n_out;
  Points pts;
  pts.xy.reserve(static_cast<std::size_t>(2 * p.n_samples));
  for (Index i = 0; i < n_out; ++i) {
    const double t = moons ? linspace_at(i, n_out, M_PI, true) : linspace_at(i, n_out, 2 * M_PI, false);
    pts.xy.push_back(std::cos(t));
    pts.xy.push_back(std::sin(t));
    pts.labels.push_back(0);
  }
  for (Index i = 0; i < n_in; ++i) {
    if (moons) {
      const double t = linspace_at(i, n_in, M_PI, true);
      pts.xy.push_back(1.0 - std::cos(t));
      pts.xy.push_back(1.0 - std::sin(t) - 0.5);
    } else {
      const double t = linspace_at(i, n_in, 2 * M_PI, false);
      pts.xy.push_back(p.factor * std::cos(t));
      pts.xy.push_back(p.factor * std::sin(t));
    }
    pts.labels.push_back(1);
  }
  for (double& v : pts.xy) v += p.noise * rng.normal();
  return pts;
}

// Cluster sizes falling geometrically from the largest to the smallest by `ratio` in total,
// rounded by largest remainder so they sum to n, each at least 1.
std::vector<Index> geometric_sizes(Index n, int k, double ratio) {
  std::vector<double> ideal(static_cast<std::size_t>(k));
  double total = 0;
  for (int c = 0; c < k; ++c) total += ideal[c] = k > 1 ? std::pow(ratio, -double(c) / (k - 1)) : 1.0;
  std::vector<Index> sizes(static_cast<std::size_t>(k));
  Index assigned = 0;
  for (int c = 0; c < k; ++c) {
    ideal[c] *= static_cast<double>(n) / total;
    sizes[c] = std::max<Index>(1, static_cast<Index>(std::floor(ideal[c])));
    assigned += sizes[c];
  }
  // Hand out the remainder by largest fractional part; take any excess (from the >= 1 floor)
  // off the largest clusters, which keeps the sizes non-increasing.
  std::vector<int> order(static_cast<std::size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return ideal[a] - std::floor(ideal[a]) > ideal[b] - std::floor(ideal[b]); });
  for (std::size_t i = 0; assigned < n; i = (i + 1) % order.size()) {
    ++sizes[order[i]];
    ++assigned;
  }
  while (assigned > n) {
    const auto largest = std::max_element(sizes.begin(), sizes.end());
    --*largest;
    --assigned;
  }
  return sizes;
}

Points blobs(const SyntheticParams& p, const std::vector<Index>& sizes, detail::Rng& rng) {
  const int k = static_cast<int>(sizes.size());
  std::vector<double> centres(static_cast<std::size_t>(k) * p.dim);
  for (double& c : centres) c = rng.uniform(-p.center_box, p.center_box);
  Points pts;
  pts.xy.reserve(static_cast<std::size_t>(p.n_samples) * p.dim);
  for (int c = 0; c < k; ++c)
    for (Index i = 0; i < sizes[c]; ++i) {
      for (int j = 0; j < p.dim; ++j) pts.xy.push_back(centres[std::size_t(c) * p.dim + j] + p.noise * rng.normal());
      pts.labels.push_back(c);
    }
  return pts;
}

void validate(const SyntheticParams& p) {
  NEUNCUT_REQUIRE(std::isfinite(p.noise) && p.noise >= 0, InvalidArgument, "noise must be finite and >= 0, got ",
                  p.noise);
  const bool blob_kind = p.kind == SyntheticKind::Blobs || p.kind == SyntheticKind::ImbalancedBlobs;
  if (!blob_kind) {
    NEUNCUT_REQUIRE(p.n_samples >= 2, InvalidArgument, "n_samples must be >= 2 (the number of clusters) for ",
                    to_string(p.kind), ", got ", p.n_samples);
    if (p.kind == SyntheticKind::Circles)
      NEUNCUT_REQUIRE(p.factor > 0 && p.factor < 1, InvalidArgument, "factor must be in (0, 1), got ", p.factor);
    return;
  }
  NEUNCUT_REQUIRE(p.n_clusters >= 1, InvalidArgument, "n_clusters must be >= 1, got ", p.n_clusters);
  NEUNCUT_REQUIRE(p.n_samples >= p.n_clusters, InvalidArgument, "n_samples (", p.n_samples, ") must be >= n_clusters (",
                  p.n_clusters, ")");
  NEUNCUT_REQUIRE(p.dim >= 1, InvalidArgument, "dim must be >= 1, got ", p.dim);
  NEUNCUT_REQUIRE(p.n_samples <= std::numeric_limits<Index>::max() / p.dim, InvalidArgument, "n_samples (", p.n_samples,
                  ") x dim (", p.dim, ") overflows");
  NEUNCUT_REQUIRE(std::isfinite(p.center_box) && p.center_box >= 0, InvalidArgument,
                  "center_box must be finite and >= 0, got ", p.center_box);
  if (p.kind == SyntheticKind::ImbalancedBlobs)
    NEUNCUT_REQUIRE(std::isfinite(p.imbalance) && p.imbalance >= 1, InvalidArgument,
                    "imbalance must be finite and >= 1, got ", p.imbalance);
}

}  // namespace

Dataset make_synthetic(const SyntheticParams& params) {
  validate(params);
  detail::Rng rng(params.seed);
  Points pts;
  int dim = 2;
  switch (params.kind) {
    case SyntheticKind::Moons:
    case SyntheticKind::Circles:
      pts = two_curves(params, params.kind == SyntheticKind::Moons, rng);
      break;
    case SyntheticKind::Blobs: {
      // Equal sizes, the first n % k clusters one larger (as scikit-learn's make_blobs).
      std::vector<Index> sizes(static_cast<std::size_t>(params.n_clusters), params.n_samples / params.n_clusters);
      for (Index c = 0; c < params.n_samples % params.n_clusters; ++c) ++sizes[c];
      pts = blobs(params, sizes, rng);
      dim = params.dim;
      break;
    }
    case SyntheticKind::ImbalancedBlobs:
      pts = blobs(params, geometric_sizes(params.n_samples, params.n_clusters, params.imbalance), rng);
      dim = params.dim;
      break;
  }

  Dataset out;
  out.name = "synthetic:" + to_string(params.kind);
  const Index n = params.n_samples;
  out.features.resize(n, dim);
  out.labels.resize(static_cast<std::size_t>(n));
  const std::vector<Index> order = rng.permutation(n);
  for (Index i = 0; i < n; ++i) {
    const Index src = order[static_cast<std::size_t>(i)];
    for (int j = 0; j < dim; ++j) out.features(i, j) = static_cast<float>(pts.xy[std::size_t(src) * dim + j]);
    out.labels[static_cast<std::size_t>(i)] = pts.labels[static_cast<std::size_t>(src)];
  }
  return out;
}

}  // namespace neuncut
