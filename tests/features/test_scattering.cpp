// The scattering transform: against a plain double-precision reference (naive DFTs and a filter
// bank written out from its formulas), and by exact properties (translation by 2^J pixels,
// positive homogeneity, order-1 prefix of order 2, row and thread independence).
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <random>
#include <vector>

#include "neuncut/core/error.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/features/scattering.hpp"

namespace neuncut {
namespace {

using C = std::complex<double>;
using Grid = std::vector<C>;  // n x n, row-major

MatrixF random_images(Index n, Index h, Index w, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  MatrixF x(n, h * w);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = u(rng);
  return x;
}

// ---- plain reference ------------------------------------------------------------------

Grid dft(const Grid& x, Index n, int sign) {  // naive 2-D DFT; sign +1 is the inverse (normalized)
  Grid out(x.size());
  for (Index k = 0; k < n; ++k)
    for (Index l = 0; l < n; ++l) {
      C sum = 0;
      for (Index a = 0; a < n; ++a)
        for (Index b = 0; b < n; ++b)
          sum += x[a * n + b] * std::polar(1.0, sign * 2 * M_PI * double(k * a + l * b) / double(n));
      out[k * n + l] = sign > 0 ? sum / double(n * n) : sum;
    }
  return out;
}

// Kymatio's gabor_2d, written out directly from its definition.
Grid gabor(Index n, double sigma, double theta, double xi, double slant) {
  const double c = std::cos(theta), s = std::sin(theta);
  Grid g(static_cast<std::size_t>(n * n));
  for (Index x = 0; x < n; ++x)
    for (Index y = 0; y < n; ++y)
      for (int ex = -2; ex <= 2; ++ex)
        for (int ey = -2; ey <= 2; ++ey) {
          const double X = double(x + ex * n), Y = double(y + ey * n);
          const double along = c * X + s * Y, across = -s * X + c * Y;  // rotated coordinates
          g[x * n + y] +=
              std::exp(C(-(along * along + slant * slant * across * across) / (2 * sigma * sigma), xi * along));
        }
  for (auto& v : g) v /= 2 * M_PI * sigma * sigma / slant;
  return g;
}

Grid fourier_real(const Grid& spatial, Index n) {
  Grid f = dft(spatial, n, -1);
  for (auto& v : f) v = v.real();
  return f;
}

Grid crop(const Grid& f, Index n, int r) {
  const Index m = n >> r, h = m / 2;
  Grid out(static_cast<std::size_t>(m * m));
  for (Index u = 0; u < m; ++u)
    for (Index v = 0; v < m; ++v) out[u * m + v] = f[(u < h ? u : n - m + u) * n + (v < h ? v : n - m + v)];
  return out;
}

Grid subsample(const Grid& f, Index n, Index k) {
  const Index m = n / k;
  Grid out(static_cast<std::size_t>(m * m));
  for (Index u = 0; u < m; ++u)
    for (Index v = 0; v < m; ++v) {
      for (Index a = 0; a < k; ++a)
        for (Index b = 0; b < k; ++b) out[u * m + v] += f[(u + a * m) * n + v + b * m];
      out[u * m + v] /= double(k * k);
    }
  return out;
}

Grid times(const Grid& a, const Grid& b) {
  Grid out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] * b[i];
  return out;
}

std::vector<double> reference_scattering(const float* image, const ScatteringParams& p) {
  const int J = p.scales, L = p.angles;
  Index n = 1;
  while (n < std::max(p.height, p.width) + (Index(1) << (J - 1))) n *= 2;
  Grid x(static_cast<std::size_t>(n * n));
  const Index top = (n - p.height) / 2, left = (n - p.width) / 2;
  for (Index y = 0; y < p.height; ++y)
    for (Index z = 0; z < p.width; ++z) x[(top + y) * n + left + z] = image[y * p.width + z];
  const Grid phi = fourier_real(gabor(n, 0.8 * std::pow(2.0, J - 1), 0, 0, 1), n);
  std::vector<Grid> psi;
  for (int j = 0; j < J; ++j)
    for (int t = 0; t < L; ++t) {
      const double sigma = 0.8 * std::pow(2.0, j), theta = double(int(L - L / 2 - 1) - t) * M_PI / L;
      Grid wave = gabor(n, sigma, theta, 0.75 * M_PI / std::pow(2.0, j), 4.0 / L);
      const Grid envelope = gabor(n, sigma, theta, 0, 4.0 / L);
      C ws = 0, es = 0;
      for (std::size_t i = 0; i < wave.size(); ++i) ws += wave[i], es += envelope[i];
      for (std::size_t i = 0; i < wave.size(); ++i) wave[i] -= ws / es * envelope[i];
      psi.push_back(fourier_real(wave, n));
    }
  std::vector<double> out;
  const auto low_pass = [&](const Grid& f, int r) {
    const Grid s = dft(subsample(times(f, crop(phi, n, r)), n >> r, Index(1) << (J - r)), n >> J, +1);
    for (const C& v : s) out.push_back(v.real());
  };
  const auto modulus_fourier = [&](const Grid& f, Index size) {
    Grid u = dft(f, size, +1);
    for (auto& v : u) v = std::abs(v);
    return dft(u, size, -1);
  };
  const Grid X = dft(x, n, -1);
  low_pass(X, 0);
  std::vector<Grid> first;
  for (int j1 = 0; j1 < J; ++j1)
    for (int t1 = 0; t1 < L; ++t1) {
      first.push_back(modulus_fourier(subsample(times(X, psi[j1 * L + t1]), n, Index(1) << j1), n >> j1));
      low_pass(first.back(), j1);
    }
  if (p.order == 2)
    for (int j1 = 0; j1 < J; ++j1)
      for (int t1 = 0; t1 < L; ++t1)
        for (int j2 = j1 + 1; j2 < J; ++j2)
          for (int t2 = 0; t2 < L; ++t2) {
            const Grid band = times(first[j1 * L + t1], crop(psi[j2 * L + t2], n, j1));
            low_pass(modulus_fourier(subsample(band, n >> j1, Index(1) << (j2 - j1)), n >> j2), j2);
          }
  return out;
}

// ---- tests ------------------------------------------------------------------------------

TEST(Scattering, ShapesFollowTheFilterBank) {
  ScatteringParams p;
  p.height = p.width = 28;
  ScatteringTransform order1(p);
  EXPECT_EQ(order1.grid_size(), 32);
  EXPECT_EQ(order1.output_side(), 4);
  EXPECT_EQ(order1.channels(), 25);
  EXPECT_EQ(order1.output_dim(), 400);
  p.order = 2;
  EXPECT_EQ(ScatteringTransform(p).output_dim(), 3472);     // 217 channels x 4 x 4
  p.height = 20, p.width = 50, p.scales = 2, p.angles = 4;  // not square: padded to 64 x 64
  ScatteringTransform wide(p);
  EXPECT_EQ(wide.grid_size(), 64);
  EXPECT_EQ(wide.channels(), 1 + 2 * 4 + 4 * 4);
  EXPECT_EQ(wide.output_dim(), 25 * 16 * 16);
}

// Every path of the fast transform against the reference: both orders on a non-square image
// with odd L; J = 3 at order 2 (aliases summed over 4 x 4 copies, maps of 4 x 4 pixels, output
// side 2); J = 1 (output side 16: the low-pass without a compile-time side); and the default
// features of 28 x 28 images (J = 3, L = 8, order 1).
TEST(Scattering, MatchesPlainReferenceOnEveryPath) {
  struct Case {
    Index height, width;
    int scales, angles, order;
    Index images;
  };
  for (const Case& c : {Case{11, 13, 2, 3, 1, 3}, Case{11, 13, 2, 3, 2, 3}, Case{12, 12, 3, 2, 2, 2},
                        Case{20, 20, 1, 2, 1, 2}, Case{28, 28, 3, 8, 1, 1}}) {
    ScatteringParams p;
    p.height = c.height, p.width = c.width, p.scales = c.scales, p.angles = c.angles, p.order = c.order;
    const MatrixF x = random_images(c.images, p.height, p.width, 7);
    const MatrixF fast = ScatteringTransform(p).transform(x, 1);
    for (Index i = 0; i < x.rows(); ++i) {
      const std::vector<double> ref = reference_scattering(x.row(i).data(), p);
      ASSERT_EQ(Index(ref.size()), fast.cols());
      double scale = 0;
      for (double v : ref) scale = std::max(scale, std::abs(v));
      for (Index f = 0; f < fast.cols(); ++f)
        ASSERT_NEAR(fast(i, f), ref[f], 2e-5 * scale)
            << c.height << "x" << c.width << " J " << c.scales << " L " << c.angles << " order " << c.order << " row "
            << i << " feature " << f;
    }
  }
}

TEST(Scattering, ShiftByTwoToTheJPixelsShiftsTheOutputByOneCell) {
  // Convolutions are circular on the padded grid, and outputs are sampled every 2^J pixels: an
  // image whose content moves by 2^J pixels (and stays inside) moves its output by one cell.
  ScatteringParams p;
  p.height = p.width = 28, p.order = 2;
  ScatteringTransform s(p);
  MatrixF x = MatrixF::Zero(2, 28 * 28);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (Index y = 4; y < 14; ++y)
    for (Index z = 3; z < 12; ++z) {
      x(0, y * 28 + z) = u(rng);
      x(1, (y + 8) * 28 + z) = x(0, y * 28 + z);  // 8 = 2^3 pixels down
    }
  const MatrixF f = s.transform(x, 1);
  const Index side = s.output_side(), cells = side * side;
  float largest = f.row(0).cwiseAbs().maxCoeff();
  for (Index c = 0; c < s.channels(); ++c)
    for (Index a = 0; a < side; ++a)
      for (Index b = 0; b < side; ++b)
        ASSERT_NEAR(f(1, c * cells + ((a + 1) % side) * side + b), f(0, c * cells + a * side + b), 1e-5f * largest)
            << "channel " << c << " cell " << a << "," << b;
}

TEST(Scattering, IsPositivelyHomogeneous) {
  ScatteringParams p;
  p.height = p.width = 16, p.scales = 2, p.order = 2;
  ScatteringTransform s(p);
  const MatrixF x = random_images(2, 16, 16, 1);
  const MatrixF f = s.transform(x, 1), g = s.transform(3.0f * x, 1);
  EXPECT_LE((g - 3.0f * f).cwiseAbs().maxCoeff(), 1e-5f * g.cwiseAbs().maxCoeff());
}

TEST(Scattering, OrderOneFeaturesAreThePrefixOfOrderTwo) {
  ScatteringParams p;
  p.height = p.width = 28;
  const MatrixF x = random_images(4, 28, 28, 5);
  const MatrixF first = ScatteringTransform(p).transform(x, 1);
  p.order = 2;
  const MatrixF second = ScatteringTransform(p).transform(x, 1);
  EXPECT_EQ(second.leftCols(first.cols()), first);  // same operations in the same order: bit for bit
}

TEST(Scattering, RowsAreIndependentOfEachOtherAndOfTheThreadCount) {
  ScatteringParams p;
  p.height = p.width = 28;
  ScatteringTransform s(p);
  const MatrixF x = random_images(37, 28, 28, 11);
  const MatrixF one = s.transform(x, 1), two = s.transform(x, 2);
  EXPECT_EQ(one, two);
  MatrixF reversed = x.colwise().reverse();
  const MatrixF r = s.transform(reversed, 2);
  EXPECT_EQ(MatrixF(r.colwise().reverse()), one);
  const ScatteringTransform copy = s;  // copies share the (immutable) plans
  EXPECT_EQ(copy.transform(x.topRows(5), 1), one.topRows(5));
}

TEST(Scattering, LowPassKeepsTheMeanOfASmoothImage) {
  // phi's Fourier transform is 1 at frequency 0: a constant image filling the grid keeps its
  // value in S0, and its wavelet coefficients (zero-mean wavelets) vanish.
  ScatteringParams p;
  p.scales = 2;
  p.height = p.width = 62;  // grid 64: a one-pixel zero border
  ScatteringTransform s(p);
  ASSERT_EQ(s.grid_size(), 64);
  MatrixF x = MatrixF::Constant(1, p.height * p.width, 0.5f);
  const MatrixF f = s.transform(x, 1);
  const Index cells = s.output_side() * s.output_side();
  // Centre cells are far from the one-pixel zero border.
  const Index centre = (s.output_side() / 2) * s.output_side() + s.output_side() / 2;
  EXPECT_NEAR(f(0, centre), 0.5f, 2e-3f);
  for (Index c = 1; c < s.channels(); ++c) EXPECT_NEAR(f(0, c * cells + centre), 0.0f, 2e-3f) << "channel " << c;
}

TEST(Scattering, PreprocessorStandardizesTheFeaturesAndFitTransformEqualsFitThenTransform) {
  ScatteringParams p;
  p.height = p.width = 12, p.scales = 2;
  const MatrixF x = random_images(40, 12, 12, 9);
  Preprocessor once(FeatureScaling::Standardize, false, ScatteringTransform(p));
  MatrixF a = x;
  once.fit_transform_in_place(a, 2);
  Preprocessor twice(FeatureScaling::Standardize, false, ScatteringTransform(p));
  twice.fit(x, 1);
  EXPECT_EQ(twice.transform(x, 0, 1), a);
  EXPECT_EQ(once.dim(), 144);
  ASSERT_EQ(a.cols(), once.output_dim());
  // The statistics are those of the features: each column now has mean 0 and variance 1
  // (or 0 for a constant column, which is only centred).
  for (Index c = 0; c < a.cols(); ++c) {
    const double mean = a.col(c).cast<double>().mean();
    const double var = (a.col(c).cast<double>().array() - mean).square().mean();
    EXPECT_NEAR(mean, 0.0, 1e-5) << c;
    if (var > 1e-6) {
      EXPECT_NEAR(var, 1.0, 1e-3) << c;
    }
  }
}

TEST(Scattering, ParamsFromAnImageShapeCheckThePixelCount) {
  const ScatteringParams p = scattering_params("12x10", 120, 2, 4, 2);
  EXPECT_EQ(p.height, 12);
  EXPECT_EQ(p.width, 10);
  EXPECT_EQ(p.scales, 2);
  EXPECT_EQ(p.angles, 4);
  EXPECT_EQ(p.order, 2);
  EXPECT_THROW(scattering_params("12x10", 121, 2, 4, 2), InvalidArgument);
  EXPECT_THROW(scattering_params("12by10", 120, 2, 4, 2), InvalidArgument);
}

TEST(Scattering, AutoScalesKeepTheCoarsestWindowWithinHalfTheShorterSide) {
  // 2^J <= min(h, w) / 2, J in [1, 3].
  EXPECT_EQ(auto_scattering_scales(28, 28), 3);  // Fashion-MNIST: as before the rule
  EXPECT_EQ(auto_scattering_scales(20, 20), 3);
  EXPECT_EQ(auto_scattering_scales(16, 64), 3);
  EXPECT_EQ(auto_scattering_scales(15, 15), 2);
  EXPECT_EQ(auto_scattering_scales(8, 8), 2);
  EXPECT_EQ(auto_scattering_scales(64, 7), 1);
  EXPECT_EQ(auto_scattering_scales(2, 2), 1);
  EXPECT_EQ(auto_scattering_scales(1000, 1000), 3);
  for (Index side = 1; side <= 64; ++side) {
    const int J = auto_scattering_scales(side, side);
    EXPECT_TRUE(J == 1 || (Index(1) << J) * 2 <= side) << side;
    EXPECT_TRUE(J == 3 || (Index(1) << (J + 1)) * 2 > side) << side;
  }
  EXPECT_EQ(scattering_params("8x8", 64, 0, 8, 1).scales, 2);  // 0: auto
  EXPECT_EQ(scattering_params("8x8", 64, 3, 8, 1).scales, 3);  // given: kept
}

TEST(Scattering, RejectsBadParametersAndShapes) {
  ScatteringParams p;
  p.height = 28, p.width = 0;
  EXPECT_THROW(ScatteringTransform{p}, InvalidArgument);
  p.width = 28, p.order = 3;
  EXPECT_THROW(ScatteringTransform{p}, InvalidArgument);
  p.order = 1, p.scales = 0;
  EXPECT_THROW(ScatteringTransform{p}, InvalidArgument);
  p.scales = 3, p.angles = 0;
  EXPECT_THROW(ScatteringTransform{p}, InvalidArgument);
  p.angles = 8;
  ScatteringTransform s(p);
  EXPECT_THROW(s.transform(MatrixF::Zero(2, 783), 1), InvalidArgument);
  EXPECT_THROW(ScatteringTransform().transform(MatrixF::Zero(2, 4), 1), InvalidArgument);
  EXPECT_EQ(parse_image_shape("28x28"), std::make_pair(Index(28), Index(28)));
  EXPECT_EQ(parse_image_shape("3X5"), std::make_pair(Index(3), Index(5)));
  for (const char* bad : {"", "28", "x28", "28x", "0x5", "-3x4", "2.5x4", "28x28x1"})
    EXPECT_THROW(parse_image_shape(bad), InvalidArgument) << bad;
}

}  // namespace
}  // namespace neuncut
