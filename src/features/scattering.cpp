#include "neuncut/features/scattering.hpp"

#include <fftw3.h>

#include <Eigen/Core>

#include <cfloat>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <vector>

#include "core/parallel.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut {

namespace {

using Complex = std::complex<float>;
using ComplexD = std::complex<double>;

// FFTW's planner is not thread-safe (executing a plan is): every plan is made and destroyed
// under this lock.
std::mutex& planner_mutex() {
  static std::mutex m;
  return m;
}

// A Gabor filter on the periodic n x n grid, centred at (0, 0), periodized over 5 x 5 copies
// of the grid (Kymatio's gabor_2d): sigma its width, theta its orientation, xi its centre
// frequency, slant the ratio of its widths across and along theta.
std::vector<ComplexD> gabor(Index n, double sigma, double theta, double xi, double slant) {
  const double c = std::cos(theta), s = std::sin(theta);
  // curv = R diag(1, slant^2) R^-1 / (2 sigma^2)
  const double a = (c * c + slant * slant * s * s) / (2 * sigma * sigma);
  const double b = (c * s - slant * slant * c * s) / (2 * sigma * sigma);  // off-diagonal entries
  const double d = (s * s + slant * slant * c * c) / (2 * sigma * sigma);
  std::vector<ComplexD> g(static_cast<std::size_t>(n * n), 0.0);
  for (int ex = -2; ex <= 2; ++ex)
    for (int ey = -2; ey <= 2; ++ey)
      for (Index x = 0; x < n; ++x)
        for (Index y = 0; y < n; ++y) {
          const double xx = double(x + ex * n), yy = double(y + ey * n);
          const double envelope = -(a * xx * xx + 2 * b * xx * yy + d * yy * yy);
          const double phase = xi * (xx * c + yy * s);
          g[x * n + y] += std::exp(ComplexD(envelope, phase));
        }
  const double norm = 2 * M_PI * sigma * sigma / slant;
  for (auto& v : g) v /= norm;
  return g;
}

// Morlet wavelet: the Gabor filter minus the multiple of its envelope that makes its mean zero.
std::vector<ComplexD> morlet(Index n, double sigma, double theta, double xi, double slant) {
  std::vector<ComplexD> wave = gabor(n, sigma, theta, xi, slant);
  const std::vector<ComplexD> envelope = gabor(n, sigma, theta, 0.0, slant);
  ComplexD wave_sum = 0, envelope_sum = 0;
  for (std::size_t i = 0; i < wave.size(); ++i) wave_sum += wave[i], envelope_sum += envelope[i];
  const ComplexD k = wave_sum / envelope_sum;
  for (std::size_t i = 0; i < wave.size(); ++i) wave[i] -= k * envelope[i];
  return wave;
}

// Real part of the 2-D DFT of an n x n spatial filter (rows, then columns; double precision:
// the filter bank is built once).
std::vector<double> real_dft(const std::vector<ComplexD>& spatial, Index n) {
  std::vector<ComplexD> twiddle(static_cast<std::size_t>(n));
  for (Index k = 0; k < n; ++k) twiddle[k] = std::polar(1.0, -2 * M_PI * double(k) / double(n));
  std::vector<ComplexD> rows(spatial.size(), 0.0), out(spatial.size(), 0.0);
  for (Index x = 0; x < n; ++x)
    for (Index l = 0; l < n; ++l)
      for (Index y = 0; y < n; ++y) rows[x * n + l] += spatial[x * n + y] * twiddle[(l * y) % n];
  for (Index k = 0; k < n; ++k)
    for (Index l = 0; l < n; ++l)
      for (Index x = 0; x < n; ++x) out[k * n + l] += rows[x * n + l] * twiddle[(k * x) % n];
  std::vector<double> re(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) re[i] = out[i].real();
  return re;
}

// The filter as seen by a signal sampled every 2^r pixels: its lowest (n >> r)^2 frequencies
// (Kymatio's periodize_filter_fft; the frequencies it drops are beyond that signal's band).
std::vector<float> crop(const std::vector<double>& filter, Index n, int r) {
  const Index m = n >> r, half = m / 2;
  std::vector<float> out(static_cast<std::size_t>(m * m));
  const auto source = [&](Index i) { return i < half ? i : n - m + i; };
  for (Index u = 0; u < m; ++u)
    for (Index v = 0; v < m; ++v) out[u * m + v] = float(filter[source(u) * n + source(v)]);
  return out;
}

}  // namespace

// The low-pass-and-sample step as a matrix. The Gaussian low-pass phi_J is separable (an
// isotropic Gaussian periodized over the grid), so filtering an n x n real map U by phi_J and
// sampling it every n / s pixels is out = Re(B U B^T) with one complex s x n matrix B: two
// small real products instead of a forward FFT, a filter product and an inverse FFT per map.
struct LowPassMatrix {
  Index side = 0, n = 0;
  // [re | im] of B^T, n x 2s row-major: row y holds Re B[0..s, y] then Im B[0..s, y], so that
  // U B^T is n rows of one 2s-wide accumulation (8 floats for the usual s = 4).
  std::vector<float> transposed;
};

struct ScatteringTransform::FilterBank {
  int scales = 0, angles = 0;
  Index grid = 0;
  std::vector<LowPassMatrix> low_pass;  // low_pass[r]: phi_J for maps at resolution r = 0..J-1
  // psi[j * L + t][r]: the wavelet at resolution r = 0..j, divided by 4^(j - r) so that summing
  // the aliases of a product with it samples the band at 2^j (the mean of the 4^(j-r) aliases),
  // each value written twice (filter_and_sample multiplies interleaved complex values by it).
  std::vector<std::vector<std::vector<float>>> psi;
  std::vector<fftwf_plan> forward, backward;  // in-place plans for (M >> r)^2, r = 0..J-1

  ~FilterBank() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    for (auto p : forward) fftwf_destroy_plan(p);
    for (auto p : backward) fftwf_destroy_plan(p);
  }
};

namespace {

// B for maps of n = M >> r pixels a side sampled every 2^(J-r): B[c, x] = (1/s) sum_q
// e^(2 pi i c q / s) (1/k) sum_a g(q + a s) e^(-2 pi i (q + a s) x / n), with g the 1-D factor of
// the cropped low-pass (phi(u, v) = g(u) g(v)) and k = n / s: the 1-D form of multiplying by
// phi, summing the k aliases and taking the normalized inverse DFT of size s.
LowPassMatrix low_pass_matrix(const std::vector<double>& phi, Index M, int J, int r) {
  LowPassMatrix b;
  b.n = M >> r;
  b.side = M >> J;
  const Index n = b.n, s = b.side, k = n / s;
  std::vector<double> g(static_cast<std::size_t>(n));
  const double centre = std::sqrt(phi[0]);
  for (Index q = 0; q < n; ++q) g[q] = phi[(q < n / 2 ? q : M - n + q) * M] / centre;  // column 0 of the cropped phi
  b.transposed.assign(static_cast<std::size_t>(n * 2 * s), 0.0f);
  // e^(2 pi i (c q / s - f x / n)) = twiddle[(c q k - f x) mod n]
  std::vector<ComplexD> twiddle(static_cast<std::size_t>(n));
  for (Index t = 0; t < n; ++t) twiddle[t] = std::polar(1.0, 2 * M_PI * double(t) / double(n));
  for (Index c = 0; c < s; ++c)
    for (Index x = 0; x < n; ++x) {
      ComplexD sum = 0;
      for (Index q = 0; q < s; ++q)
        for (Index a = 0; a < k; ++a) {
          const Index f = q + a * s;
          sum += g[f] * twiddle[(((c * q * k - f * x) % n) + n) % n];
        }
      sum /= double(s * k);
      // Values below float's normal range become 0, not denormals (each product with a denormal
      // costs about a hundred cycles).
      const auto to_float = [](double v) { return std::abs(v) < double(FLT_MIN) ? 0.0f : float(v); };
      b.transposed[x * 2 * s + c] = to_float(sum.real());
      b.transposed[x * 2 * s + s + c] = to_float(sum.imag());
    }
  return b;
}

}  // namespace

std::pair<Index, Index> parse_image_shape(const std::string& text) {
  const auto x = text.find_first_of("xX");
  const auto parse = [&](const std::string& part) -> Index {
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos || part.size() > 9) return 0;
    return std::stol(part);
  };
  const Index h = x == std::string::npos ? 0 : parse(text.substr(0, x));
  const Index w = x == std::string::npos ? 0 : parse(text.substr(x + 1));
  NEUNCUT_REQUIRE(h >= 1 && w >= 1, InvalidArgument,
                  "image shape must be HEIGHTxWIDTH with positive integers (e.g. 28x28), got '", text, "'");
  return {h, w};
}

int auto_scattering_scales(Index height, Index width) {
  const Index side = std::min(height, width);
  int scales = 1;
  while (scales < 3 && (Index(1) << (scales + 1)) * 2 <= side) ++scales;
  return scales;
}

ScatteringParams scattering_params(Index height, Index width, int scales, int angles, int order) {
  ScatteringParams p;
  p.height = height;
  p.width = width;
  p.scales = scales == 0 ? auto_scattering_scales(height, width) : scales;
  p.angles = angles;
  p.order = order;
  return p;
}

ScatteringParams scattering_params(const std::string& image_shape, Index pixels, int scales, int angles, int order) {
  const auto [height, width] = parse_image_shape(image_shape);
  NEUNCUT_REQUIRE(height * width == pixels, InvalidArgument, "image shape ", image_shape, " has ", height * width,
                  " pixels, but the rows have ", pixels, " values");
  return scattering_params(height, width, scales, angles, order);
}

ScatteringTransform::ScatteringTransform(const ScatteringParams& params) : params_(params) {
  NEUNCUT_REQUIRE(params.height >= 1 && params.width >= 1, InvalidArgument,
                  "scattering: image shape must be positive, got ", params.height, "x", params.width);
  NEUNCUT_REQUIRE(params.scales >= 1 && params.scales <= 8, InvalidArgument,
                  "scattering: scales J must be in [1, 8], got ", params.scales);
  NEUNCUT_REQUIRE(params.angles >= 1 && params.angles <= 32, InvalidArgument,
                  "scattering: angles L must be in [1, 32], got ", params.angles);
  NEUNCUT_REQUIRE(params.order == 1 || params.order == 2, InvalidArgument, "scattering: order must be 1 or 2, got ",
                  params.order);
  const int J = params.scales, L = params.angles;
  grid_ = 1;
  while (grid_ < std::max(params.height, params.width) + (Index(1) << (J - 1))) grid_ *= 2;
  NEUNCUT_REQUIRE(grid_ <= 1024, InvalidArgument, "scattering: images of ", params.height, "x", params.width,
                  " are too large (padded grid ", grid_, " > 1024)");

  auto bank = std::make_shared<FilterBank>();
  bank->scales = J;
  bank->angles = L;
  bank->grid = grid_;
  // Kymatio's filter bank: wavelet width 0.8 * 2^j, centre frequency 3 pi / 4 / 2^j, slant
  // 4 / L; low-pass width 0.8 * 2^(J-1).
  const std::vector<double> phi = real_dft(gabor(grid_, 0.8 * std::pow(2.0, J - 1), 0.0, 0.0, 1.0), grid_);
  for (int r = 0; r < J; ++r) bank->low_pass.push_back(low_pass_matrix(phi, grid_, J, r));
  for (int j = 0; j < J; ++j)
    for (int t = 0; t < L; ++t) {
      const double theta = double(int(L - L / 2 - 1) - t) * M_PI / double(L);
      const std::vector<double> psi = real_dft(
          morlet(grid_, 0.8 * std::pow(2.0, j), theta, 0.75 * M_PI / std::pow(2.0, j), 4.0 / double(L)), grid_);
      std::vector<std::vector<float>> levels;
      for (int r = 0; r <= j; ++r) {
        const std::vector<float> filter = crop(psi, grid_, r);
        const float aliases = float(Index(1) << (2 * (j - r)));
        std::vector<float> twice(2 * filter.size());
        for (std::size_t i = 0; i < filter.size(); ++i) {
          // Far from its band the wavelet's spectrum falls below float's normal range: 0, not a
          // denormal (a product with a denormal costs about a hundred cycles).
          const float value = std::abs(filter[i] / aliases) < FLT_MIN ? 0.0f : filter[i] / aliases;
          twice[2 * i] = twice[2 * i + 1] = value;
        }
        levels.push_back(std::move(twice));
      }
      bank->psi.push_back(std::move(levels));
    }
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    for (int r = 0; r < J; ++r) {
      const int n = int(grid_ >> r);
      fftwf_complex* buffer = fftwf_alloc_complex(std::size_t(n) * n);
      NEUNCUT_REQUIRE(buffer, Error, "scattering: out of memory for FFT plans");
      bank->forward.push_back(fftwf_plan_dft_2d(n, n, buffer, buffer, FFTW_FORWARD, FFTW_ESTIMATE));
      bank->backward.push_back(fftwf_plan_dft_2d(n, n, buffer, buffer, FFTW_BACKWARD, FFTW_ESTIMATE));
      fftwf_free(buffer);
      NEUNCUT_REQUIRE(bank->forward.back() && bank->backward.back(), Error, "scattering: FFTW could not plan a ", n,
                      "x", n, " transform");
    }
  }
  bank_ = std::move(bank);
}

Index ScatteringTransform::channels() const {
  const Index J = params_.scales, L = params_.angles;
  return 1 + J * L + (params_.order >= 2 ? L * L * J * (J - 1) / 2 : 0);
}

namespace {

// Per-thread scratch for one image, allocated by FFTW so that it has the alignment its SIMD
// plans were made for: complex and real maps of at most M x M values.
class Workspace {
 public:
  explicit Workspace(Index grid) : size_(static_cast<std::size_t>(grid * grid)) {
    for (auto& b : complex_) {
      b = reinterpret_cast<Complex*>(fftwf_alloc_complex(size_));
      NEUNCUT_REQUIRE(b, Error, "scattering: out of memory for the FFT workspace");
    }
    for (auto& b : real_) {
      b = fftwf_alloc_real(size_);
      NEUNCUT_REQUIRE(b, Error, "scattering: out of memory for the FFT workspace");
    }
  }
  ~Workspace() {
    for (auto b : complex_) fftwf_free(b);
    for (auto b : real_) fftwf_free(b);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  Complex* spectrum() { return complex_[0]; }  // the image's DFT
  Complex* first() { return complex_[1]; }     // x * psi_1; at order 2, then the DFT of its modulus
  Complex* second() { return complex_[2]; }    // |x * psi_1| * psi_2
  float* pixels() { return real_[0]; }         // the padded image
  float* modulus() { return real_[1]; }        // a modulus map
  float* product() { return real_[2]; }        // U B^T for the low-pass
  std::size_t size() const { return size_; }

 private:
  std::size_t size_;
  Complex* complex_[3] = {};
  float* real_[3] = {};
};

// out (n/k x n/k) = the band `in` (n x n, Fourier) times the filter, with the k^2 aliases of
// each frequency summed: with the filter already divided by k^2, the DFT of the filtered signal
// sampled every k pixels. The filter comes with each value written twice (re and im factors),
// so that the product is one element-wise product of floats, which vectorizes.
void filter_and_sample(const Complex* in, const float* filter, Index n, Index k, Complex* out) {
  const Index m = n / k;
  const float* x = reinterpret_cast<const float*>(in);
  float* o = reinterpret_cast<float*>(out);
  if (k == 1) {
    for (Index i = 0; i < 2 * n * n; ++i) o[i] = x[i] * filter[i];
    return;
  }
  // Each W floats of an output row summed in registers over the k^2 aliases: W = 32 (four
  // vectors, four independent sums) where the row is that wide.
  const auto chunks = [&](auto width, Index u, Index v) {
    constexpr int W = decltype(width)::value;
    using Chunk = Eigen::Array<float, W, 1>;
    Chunk sum = Chunk::Zero();
    for (Index a = 0; a < k; ++a)
      for (Index b = 0; b < k; ++b) {
        const Index offset = 2 * ((u + a * m) * n + b * m) + v;
        sum += Eigen::Map<const Chunk>(x + offset) * Eigen::Map<const Chunk>(filter + offset);
      }
    Eigen::Map<Chunk>(o + 2 * u * m + v) = sum;
  };
  for (Index u = 0; u < m; ++u) {
    Index v = 0;
    for (; v + 32 <= 2 * m; v += 32) chunks(std::integral_constant<int, 32>(), u, v);
    for (; v + 8 <= 2 * m; v += 8) chunks(std::integral_constant<int, 8>(), u, v);
    for (; v < 2 * m; ++v) chunks(std::integral_constant<int, 1>(), u, v);
  }
}

// sqrt(re^2 + im^2) of `count` values: std::abs calls hypotf, whose overflow care took 12% of
// the time.
void modulus(const Complex* in, Index count, float* out) {
  const float* p = reinterpret_cast<const float*>(in);
  for (Index i = 0; i < count; ++i) out[i] = std::sqrt(p[2 * i] * p[2 * i] + p[2 * i + 1] * p[2 * i + 1]);
}

// channel[c1 * s + c2] = scale * Re(B U B^T)[c1, c2] for the n x n real map U, with the side s
// known at compile time: a row of U B^T (2s floats) is one fixed-size Eigen array, kept in
// registers (one 8-float vector for s = 4). Plain loops over a width of 2s were vectorized
// across rows with shuffles by g++ 12 and took 60% of the transform.
template <int S>
void apply_low_pass(const LowPassMatrix& b, const float* map, float scale, float* product, float* channel) {
  using Row = Eigen::Array<float, 2 * S, 1>;
  using Half = Eigen::Array<float, S, 1>;
  const Index n = b.n;
  const float* bt = b.transposed.data();
  // product (n x 2s) = U [Re B^T | Im B^T], R rows of U at a time: R independent sums sharing
  // each row of B^T (one sum alone waits on its own multiply-add every step).
  const auto rows = [&](auto block, Index x) {
    constexpr int R = decltype(block)::value;
    Row acc[R];
    for (int r = 0; r < R; ++r) acc[r].setZero();
    const float* u = map + x * n;
    for (Index y = 0; y < n; ++y) {
      const Eigen::Map<const Row> t(bt + y * 2 * S);
      for (int r = 0; r < R; ++r) acc[r] += u[r * n + y] * t;
    }
    for (int r = 0; r < R; ++r) Eigen::Map<Row>(product + (x + r) * 2 * S) = acc[r];
  };
  Index x = 0;
  for (; x + 8 <= n; x += 8) rows(std::integral_constant<int, 8>(), x);
  for (; x < n; ++x) rows(std::integral_constant<int, 1>(), x);
  // Re(B T) = Re B Re T - Im B Im T, all s rows of the output at once (column x of B is row x
  // of B^T).
  Half out[S];
  for (int c = 0; c < S; ++c) out[c].setZero();
  for (Index x = 0; x < n; ++x) {
    const Eigen::Map<const Row> t(product + x * 2 * S);
    const Half re_t = t.template head<S>(), im_t = t.template tail<S>();
    const float* column = bt + x * 2 * S;
    for (int c = 0; c < S; ++c) out[c] += column[c] * re_t - column[S + c] * im_t;
  }
  for (int c = 0; c < S; ++c) Eigen::Map<Half>(channel + c * S) = out[c] * scale;
}

// The same for any side s (grids larger than 128 pixels, or J small for the grid).
void apply_low_pass_any(const LowPassMatrix& b, const float* map, float scale, float* product, float* channel) {
  const Index n = b.n, s = b.side, w = 2 * s;
  for (Index x = 0; x < n; ++x) {
    float* p = product + x * w;
    std::fill(p, p + w, 0.0f);
    for (Index y = 0; y < n; ++y)
      for (Index c = 0; c < w; ++c) p[c] += map[x * n + y] * b.transposed[y * w + c];
  }
  for (Index c1 = 0; c1 < s; ++c1)
    for (Index c2 = 0; c2 < s; ++c2) {
      float sum = 0;
      for (Index x = 0; x < n; ++x)
        sum += b.transposed[x * w + c1] * product[x * w + c2] - b.transposed[x * w + s + c1] * product[x * w + s + c2];
      channel[c1 * s + c2] = sum * scale;
    }
}

void apply_low_pass(const LowPassMatrix& b, const float* map, float scale, float* product, float* channel) {
  switch (b.side) {
    case 1:
      return apply_low_pass<1>(b, map, scale, product, channel);
    case 2:
      return apply_low_pass<2>(b, map, scale, product, channel);
    case 4:
      return apply_low_pass<4>(b, map, scale, product, channel);
    case 8:
      return apply_low_pass<8>(b, map, scale, product, channel);
    default:
      return apply_low_pass_any(b, map, scale, product, channel);
  }
}

}  // namespace

MatrixF ScatteringTransform::transform(const Eigen::Ref<const MatrixF>& images, int threads) const {
  NEUNCUT_REQUIRE(!empty(), InvalidArgument, "scattering: the transform has no filter bank");
  NEUNCUT_REQUIRE(images.cols() == input_dim(), InvalidArgument, "scattering: rows have ", images.cols(),
                  " values, images of ", params_.height, "x", params_.width, " have ", input_dim());
  const FilterBank& bank = *bank_;
  const int J = params_.scales, L = params_.angles;
  const Index M = grid_, cells = output_side() * output_side();
  const Index top = (M - params_.height) / 2, left = (M - params_.width) / 2;
  MatrixF out(images.rows(), output_dim());

  // FFTW's unnormalized transforms: an inverse transform of size n leaves its map n^2 times too
  // large, which the low-pass (scale) and the order-2 input (rescaled on copy) take back.
  const auto fft = [&](int r, Complex* data) {
    fftwf_execute_dft(bank.forward[r], reinterpret_cast<fftwf_complex*>(data), reinterpret_cast<fftwf_complex*>(data));
  };
  const auto ifft = [&](int r, Complex* data) {
    fftwf_execute_dft(bank.backward[r], reinterpret_cast<fftwf_complex*>(data), reinterpret_cast<fftwf_complex*>(data));
  };
  // |band at resolution r| (n^2 times too large), low-passed into channel `channel` of `row`,
  // and left in ws.modulus().
  const auto modulus_low_pass = [&](const Complex* band, int r, Workspace& ws, float* row, Index channel) {
    const Index n = M >> r;
    modulus(band, n * n, ws.modulus());
    apply_low_pass(bank.low_pass[r], ws.modulus(), 1.0f / float(n * n), ws.product(), row + channel * cells);
  };

  detail::parallel_blocks(images.rows(), threads, [&](Index lo, Index hi) {
    Workspace ws(M);
    for (Index i = lo; i < hi; ++i) {
      float* row = out.row(i).data();
      std::fill(ws.pixels(), ws.pixels() + ws.size(), 0.0f);
      for (Index y = 0; y < params_.height; ++y)
        for (Index x = 0; x < params_.width; ++x)
          ws.pixels()[(top + y) * M + left + x] = images(i, y * params_.width + x);
      apply_low_pass(bank.low_pass[0], ws.pixels(), 1.0f, ws.product(), row);
      for (Index p = 0; p < M * M; ++p) ws.spectrum()[p] = ws.pixels()[p];
      fft(0, ws.spectrum());
      Index second_channel = 1 + J * L;
      for (int j1 = 0; j1 < J; ++j1)
        for (int t1 = 0; t1 < L; ++t1) {
          // |x * psi_{j1,t1}| sampled every 2^j1 pixels.
          const Index n1 = M >> j1;
          filter_and_sample(ws.spectrum(), bank.psi[j1 * L + t1][0].data(), M, Index(1) << j1, ws.first());
          ifft(j1, ws.first());
          modulus_low_pass(ws.first(), j1, ws, row, 1 + j1 * L + t1);
          if (params_.order < 2 || j1 + 1 == J) continue;
          const float inv = 1.0f / float(n1 * n1);
          for (Index p = 0; p < n1 * n1; ++p) ws.first()[p] = ws.modulus()[p] * inv;
          fft(j1, ws.first());
          for (int j2 = j1 + 1; j2 < J; ++j2)
            for (int t2 = 0; t2 < L; ++t2) {
              filter_and_sample(ws.first(), bank.psi[j2 * L + t2][j1].data(), n1, Index(1) << (j2 - j1), ws.second());
              ifft(j2, ws.second());
              modulus_low_pass(ws.second(), j2, ws, row, second_channel++);
            }
        }
    }
  });
  return out;
}

}  // namespace neuncut
