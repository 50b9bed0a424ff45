#include "neuncut/features/scattering.hpp"

#include <fftw3.h>

#include <cmath>
#include <complex>
#include <cstdlib>
#include <mutex>
#include <tuple>
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

struct ScatteringTransform::FilterBank {
  int scales = 0, angles = 0;
  Index grid = 0;
  std::vector<std::vector<float>> phi;               // phi[r]: low-pass at resolution r = 0..J-1
  std::vector<std::vector<std::vector<float>>> psi;  // psi[j * L + t][r]: wavelet at resolution r = 0..j
  std::vector<fftwf_plan> forward, backward;         // in-place plans for (M >> r)^2, r = 0..J

  ~FilterBank() {
    std::lock_guard<std::mutex> lock(planner_mutex());
    for (auto p : forward) fftwf_destroy_plan(p);
    for (auto p : backward) fftwf_destroy_plan(p);
  }
};

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
  for (int r = 0; r < J; ++r) bank->phi.push_back(crop(phi, grid_, r));
  for (int j = 0; j < J; ++j)
    for (int t = 0; t < L; ++t) {
      const double theta = double(int(L - L / 2 - 1) - t) * M_PI / double(L);
      const std::vector<double> psi = real_dft(
          morlet(grid_, 0.8 * std::pow(2.0, j), theta, 0.75 * M_PI / std::pow(2.0, j), 4.0 / double(L)), grid_);
      std::vector<std::vector<float>> levels;
      for (int r = 0; r <= j; ++r) levels.push_back(crop(psi, grid_, r));
      bank->psi.push_back(std::move(levels));
    }
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    for (int r = 0; r <= J; ++r) {
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

// Per-thread scratch: every map of one image, at most M x M complex values each, allocated by
// FFTW so that they have the alignment its SIMD plans were made for.
class Workspace {
 public:
  explicit Workspace(Index grid) : size_(static_cast<std::size_t>(grid * grid)) {
    for (auto& b : buffers_) {
      b = reinterpret_cast<Complex*>(fftwf_alloc_complex(size_));
      NEUNCUT_REQUIRE(b, Error, "scattering: out of memory for the FFT workspace");
    }
  }
  ~Workspace() {
    for (auto b : buffers_) fftwf_free(b);
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  Complex* image() { return buffers_[0]; }
  Complex* band() { return buffers_[1]; }
  Complex* first() { return buffers_[2]; }
  Complex* second() { return buffers_[3]; }
  Complex* low() { return buffers_[4]; }
  Complex* sampled() { return buffers_[5]; }
  std::size_t size() const { return size_; }

 private:
  std::size_t size_;
  Complex* buffers_[6] = {};
};

// out (n/k x n/k) = the Fourier transform of the signal whose transform is `in` (n x n),
// sampled every k pixels: the mean of the k^2 aliases of each frequency.
void subsample(const Complex* in, Index n, Index k, Complex* out) {
  const Index m = n / k;
  const float inv = 1.0f / float(k * k);
  for (Index u = 0; u < m; ++u)
    for (Index v = 0; v < m; ++v) {
      Complex sum = 0;
      for (Index a = 0; a < k; ++a)
        for (Index b = 0; b < k; ++b) sum += in[(u + a * m) * n + v + b * m];
      out[u * m + v] = sum * inv;
    }
}

void multiply(const Complex* in, const std::vector<float>& filter, Complex* out) {
  for (std::size_t i = 0; i < filter.size(); ++i) out[i] = in[i] * filter[i];
}

}  // namespace

MatrixF ScatteringTransform::transform(const Eigen::Ref<const MatrixF>& images, int threads) const {
  NEUNCUT_REQUIRE(!empty(), InvalidArgument, "scattering: the transform has no filter bank");
  NEUNCUT_REQUIRE(images.cols() == input_dim(), InvalidArgument, "scattering: rows have ", images.cols(),
                  " values, images of ", params_.height, "x", params_.width, " have ", input_dim());
  const FilterBank& bank = *bank_;
  const int J = params_.scales, L = params_.angles;
  const Index M = grid_, side = output_side(), cells = side * side;
  const Index top = (M - params_.height) / 2, left = (M - params_.width) / 2;
  MatrixF out(images.rows(), output_dim());

  const auto fft = [&](int r, Complex* data) {
    fftwf_execute_dft(bank.forward[r], reinterpret_cast<fftwf_complex*>(data), reinterpret_cast<fftwf_complex*>(data));
  };
  const auto ifft = [&](int r, Complex* data) {  // normalized, as numpy's ifft2
    fftwf_execute_dft(bank.backward[r], reinterpret_cast<fftwf_complex*>(data), reinterpret_cast<fftwf_complex*>(data));
    const Index n = M >> r;
    const float inv = 1.0f / float(n * n);
    for (Index i = 0; i < n * n; ++i) data[i] *= inv;
  };
  const auto modulus = [](Complex* data, Index count) {
    // sqrt(re^2 + im^2): std::abs calls hypotf, whose overflow care took 12% of the time.
    for (Index i = 0; i < count; ++i) data[i] = std::sqrt(std::norm(data[i]));
  };
  // Low-pass the map `in` (Fourier, resolution r) and write its real part, sampled every 2^J
  // pixels, to the row's channel `channel`.
  const auto low_pass = [&](const Complex* in, int r, Workspace& ws, float* row, Index channel) {
    const Index n = M >> r;
    multiply(in, bank.phi[r], ws.low());
    subsample(ws.low(), n, Index(1) << (J - r), ws.sampled());
    ifft(J, ws.sampled());
    for (Index c = 0; c < cells; ++c) row[channel * cells + c] = ws.sampled()[c].real();
  };

  detail::parallel_blocks(images.rows(), threads, [&](Index lo, Index hi) {
    Workspace ws(M);
    for (Index i = lo; i < hi; ++i) {
      float* row = out.row(i).data();
      std::fill(ws.image(), ws.image() + ws.size(), Complex(0));
      for (Index y = 0; y < params_.height; ++y)
        for (Index x = 0; x < params_.width; ++x)
          ws.image()[(top + y) * M + left + x] = images(i, y * params_.width + x);
      fft(0, ws.image());
      low_pass(ws.image(), 0, ws, row, 0);
      Index second_channel = 1 + J * L;
      for (int j1 = 0; j1 < J; ++j1)
        for (int t1 = 0; t1 < L; ++t1) {
          // |x * psi_{j1,t1}| sampled every 2^j1 pixels, back in the Fourier domain.
          const Index n1 = M >> j1;
          multiply(ws.image(), bank.psi[j1 * L + t1][0], ws.band());
          subsample(ws.band(), M, Index(1) << j1, ws.first());
          ifft(j1, ws.first());
          modulus(ws.first(), n1 * n1);
          fft(j1, ws.first());
          low_pass(ws.first(), j1, ws, row, 1 + j1 * L + t1);
          if (params_.order < 2) continue;
          for (int j2 = j1 + 1; j2 < J; ++j2)
            for (int t2 = 0; t2 < L; ++t2) {
              const Index n2 = M >> j2;
              multiply(ws.first(), bank.psi[j2 * L + t2][j1], ws.band());
              subsample(ws.band(), n1, Index(1) << (j2 - j1), ws.second());
              ifft(j2, ws.second());
              modulus(ws.second(), n2 * n2);
              fft(j2, ws.second());
              low_pass(ws.second(), j2, ws, row, second_channel++);
            }
        }
    }
  });
  return out;
}

}  // namespace neuncut
