// neuncut features: write the scattering transform of images to a file, the features NeuNcut
// trains on by default for image data, for use elsewhere (other clustering methods, plots).
#include <chrono>
#include <iostream>

#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/features/scattering.hpp"
#include "outputs.hpp"

namespace neuncut::cli {

namespace {
struct FeaturesOptions {
  DataOptions data;
  OutputOptions output;
  std::string out, image_shape;
  int order = 1, scales = 0, angles = 8, threads = 0;
};
}  // namespace

void register_features(CLI::App& app) {
  auto* sub = app.add_subcommand("features", "write the scattering transform of images (NeuNcut's image features)");
  auto opts = std::make_shared<FeaturesOptions>();
  opts->data.add_to(sub);
  sub->add_option("--out", opts->out, "where to write the features, N x D (.npy float32 or .csv)")->required();
  sub->add_option("--image-shape", opts->image_shape,
                  "HEIGHTxWIDTH of each row's image; default: from the data (IDX images, 3-D .npy, fashion-mnist)");
  sub->add_option("--scattering-order", opts->order, "highest order kept: 1 or 2")->default_val(1);
  sub->add_option("--scattering-scales", opts->scales,
                  "wavelet scales J; 0: auto = the largest J <= 3 with 2^J at most half the shorter image side "
                  "(NeuNcut's default)")
      ->default_val(0);
  sub->add_option("--scattering-angles", opts->angles, "wavelet orientations L")->default_val(8);
  sub->add_option("--threads", opts->threads, "threads (0: all cores)")->default_val(0);
  opts->output.add_to(sub);

  sub->callback([opts] {
    const auto start = std::chrono::steady_clock::now();
    NEUNCUT_REQUIRE(opts->threads >= 0, InvalidArgument, "threads must be >= 0 (0: all cores), got ", opts->threads);
    warn_thread_bound(opts->threads);
    OutputSet outputs;
    outputs.reads(opts->data).add("--out", opts->out, OutputSet::Kind::Table).check();
    const Dataset ds = opts->data.load();
    const std::string shape = opts->image_shape.empty() ? ds.image_shape : opts->image_shape;
    NEUNCUT_REQUIRE(!shape.empty(), InvalidArgument, "'", ds.name,
                    "' does not say its image shape; give --image-shape HEIGHTxWIDTH");
    const ScatteringTransform transform(
        scattering_params(shape, ds.features.cols(), opts->scales, opts->angles, opts->order));
    const auto t0 = std::chrono::steady_clock::now();
    const MatrixF features = transform.transform(ds.features, opts->threads);
    const double transform_s = seconds_since(t0);
    outputs.write([&] { write_matrix(opts->out, features); });
    JsonObject summary;
    summary.add("data", ds.name).add("n", long(features.rows())).add("image_shape", shape);
    summary.add("channels", long(transform.channels())).add("feature_dim", long(features.cols()));
    summary.add("transform_seconds", transform_s).add("total_seconds", seconds_since(start));
    summary.add("out", opts->out);
    if (!opts->output.quiet || opts->output.json) print_summary(summary, opts->output.json);
  });
}

}  // namespace neuncut::cli
