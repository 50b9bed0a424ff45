// neuncut features: write the scattering transform of images to a file, the features NeuNcut
// trains on by default for image data, for use elsewhere (other clustering methods, plots).
#include <chrono>
#include <iostream>

#include "common.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/features/scattering.hpp"
#include "neuncut/io/row_reader.hpp"
#include "neuncut/io/row_writer.hpp"
#include "outputs.hpp"

namespace neuncut::cli {

namespace {
struct FeaturesOptions {
  DataOptions data;
  OutputOptions output;
  std::string out, image_shape;
  int order = 1, scales = 0, angles = 8, threads = 0;
  // Images transformed and written at a time: 10,000 Fashion-MNIST images are 31 MB of pixels
  // and 16 MB of features, and a block that size keeps both cores busy.
  Index chunk_rows = 10000;
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
  sub->add_option("--chunk-rows", opts->chunk_rows,
                  "images read, transformed and written at a time: memory holds one chunk of images and its "
                  "features (.npy and IDX inputs are streamed; CSV and fashion-mnist are read whole)")
      ->default_val(10000);
  opts->output.add_to(sub);

  sub->callback([opts] {
    const auto start = std::chrono::steady_clock::now();
    NEUNCUT_REQUIRE(opts->threads >= 0, InvalidArgument, "threads must be >= 0 (0: all cores), got ", opts->threads);
    warn_thread_bound(opts->threads);
    OutputSet outputs;
    outputs.reads(opts->data).add("--out", opts->out, OutputSet::Kind::Table).check();
    NEUNCUT_REQUIRE(opts->chunk_rows >= 1, InvalidArgument, "--chunk-rows must be >= 1, got ", opts->chunk_rows);
    // Read, transformed and written --chunk-rows images at a time (RowReader, RowWriter): the
    // scattering transform of a row depends on that row alone, so the file is byte-identical
    // to a whole read's, and memory holds one chunk whatever the file's size.
    RowReader data = opts->data.open();
    const std::string shape = opts->image_shape.empty() ? data.image_shape() : opts->image_shape;
    NEUNCUT_REQUIRE(!shape.empty(), InvalidArgument, "'", data.name(),
                    "' does not say its image shape; give --image-shape HEIGHTxWIDTH");
    const ScatteringTransform transform(scattering_params(shape, data.cols(), opts->scales, opts->angles, opts->order));
    const Index n = data.rows();
    NEUNCUT_REQUIRE(n >= 1, InvalidArgument, "'", data.name(), "' has no images");
    double transform_s = 0;
    outputs.write([&] {
      RowWriter out = RowWriter::matrix(opts->out, n, transform.output_dim());
      while (!data.done()) {
        const MatrixF images = data.read(opts->chunk_rows);
        const auto t0 = std::chrono::steady_clock::now();
        const MatrixF features = transform.transform(images, opts->threads);
        transform_s += seconds_since(t0);
        out.append(features);
      }
      out.commit();
    });
    JsonObject summary;
    summary.add("data", data.name()).add("n", long(n)).add("image_shape", shape);
    summary.add("channels", long(transform.channels())).add("feature_dim", long(transform.output_dim()));
    summary.add("transform_seconds", transform_s).add("total_seconds", seconds_since(start));
    summary.add("out", opts->out);
    if (!opts->output.quiet || opts->output.json) print_summary(summary, opts->output.json);
  });
}

}  // namespace neuncut::cli
