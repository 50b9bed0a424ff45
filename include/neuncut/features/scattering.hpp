// The 2-D wavelet scattering transform of images (Bruna and Mallat 2013): a fixed,
// label-free feature map that is locally invariant to translation and stable to small
// deformations. NeuNcut's reference experiments on image data run on scattering features, not
// on pixels; on Fashion-MNIST they raise NeuNcut's accuracy from about 0.54 to 0.62 (see
// docs/defaults.md, "Image features").
//
// With J scales, L orientations, Morlet wavelets psi_{j,theta} and a Gaussian low-pass phi_J
// (the filter bank of Kymatio's Scattering2D, built in the Fourier domain on a periodic grid):
//
//   order 0:  S0 x          = (x * phi_J)(2^J u)
//   order 1:  S1 x[j,t]     = (|x * psi_{j,t}| * phi_J)(2^J u)                 J L channels
//   order 2:  S2 x[j,t,j',t'] = (||x * psi_{j,t}| * psi_{j',t'}| * phi_J)(2^J u),  j' > j
//
// Each image (h x w, row-major pixels) is zero-padded, centred, to an M x M grid, M the
// smallest power of two >= max(h, w) + 2^(J-1); convolutions are circular on that grid and
// every map is sampled every 2^J pixels, so each channel has (M / 2^J)^2 values. For 28 x 28
// images with J = 3: M = 32, 4 x 4 per channel; order 1 gives 25 channels (400 features),
// order 2 gives 217 (3472 features). Intermediate maps are computed at the resolution their
// band allows (|x * psi_j| every 2^j pixels), as Kymatio does. The final low-pass and sampling
// of each map is one small real matrix product (phi_J is separable) instead of two FFTs: about
// 3x faster than the FFT-only form (docs/streaming.md, "Speed of the transform").
#pragma once

#include <memory>
#include <string>

#include "neuncut/core/types.hpp"

namespace neuncut {

/// Shape and filter bank of a scattering transform.
struct ScatteringParams {
  Index height = 0;  ///< Image height in pixels.
  Index width = 0;   ///< Image width in pixels.
  int scales = 3;    ///< J >= 1: wavelet scales 2^0 .. 2^(J-1); output sampled every 2^J pixels.
  int angles = 8;    ///< L >= 1: wavelet orientations theta = pi l / L.
  int order = 1;     ///< 1 or 2: highest order of coefficients kept (order 0 is always kept).
};

/// Parses "HxW" (e.g. "28x28") into (height, width); throws InvalidArgument otherwise.
std::pair<Index, Index> parse_image_shape(const std::string& text);
/// The number of wavelet scales J chosen for images of height x width when none is given: the
/// largest J <= 3 whose coarsest averaging window (2^J pixels) spans at most half the shorter
/// side, and at least 1: 3 from 16 pixels on, 2 for 8 x 8 images. A window as wide as the image
/// averages every spatial layout away (measured on 8 x 8 digits: docs/defaults.md, "Image
/// features").
int auto_scattering_scales(Index height, Index width);
/// Scattering parameters for rows of `pixels` values holding images of `image_shape` ("HxW"),
/// with J `scales` (0: auto_scattering_scales), L `angles` and `order`. Throws InvalidArgument
/// when the shape does not parse or its pixel count is not `pixels` (the other values are
/// checked by the transform).
ScatteringParams scattering_params(const std::string& image_shape, Index pixels, int scales, int angles, int order);
/// The same for images of height x width given as numbers (the shape is checked by the transform).
ScatteringParams scattering_params(Index height, Index width, int scales, int angles, int order);

class ScatteringTransform {
 public:
  ScatteringTransform() = default;
  /// Builds the filter bank and the FFT plans. Throws InvalidArgument for a non-positive
  /// shape, J outside [1, 8], L outside [1, 32], or an order other than 1 or 2.
  explicit ScatteringTransform(const ScatteringParams& params);

  /// Features of each row of `images` (N x height*width, row-major pixels), N x output_dim(),
  /// computed on `threads` threads (<= 0: all cores). Each image is transformed on its own,
  /// so the result does not depend on the thread count or on the other rows.
  MatrixF transform(const Eigen::Ref<const MatrixF>& images, int threads) const;

  const ScatteringParams& params() const { return params_; }
  bool empty() const { return !bank_; }
  Index input_dim() const { return params_.height * params_.width; }
  Index grid_size() const { return grid_; }                      ///< M.
  Index output_side() const { return grid_ >> params_.scales; }  ///< M / 2^J.
  Index channels() const;                                        ///< 1 + J L (+ L^2 J (J-1) / 2 at order 2).
  Index output_dim() const { return channels() * output_side() * output_side(); }

  struct FilterBank;  // filters in the Fourier domain and FFT plans (immutable once built)

 private:
  ScatteringParams params_;
  Index grid_ = 0;
  std::shared_ptr<const FilterBank> bank_;  // shared by copies: plans are thread-safe to execute
};

}  // namespace neuncut
