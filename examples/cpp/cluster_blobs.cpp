// Clusters generated blobs with NeuNcut through the installed library, saves and reloads the
// model, and exits non-zero unless the clustering and the reload are right.
#include <cstdio>
#include <filesystem>

#include <neuncut/data/synthetic.hpp>  // one header by its layer path...
#include <neuncut/eval/metrics.hpp>
#include <neuncut/neuncut.hpp>  // ...and the umbrella header with the whole public API

int main() {
  neuncut::SyntheticParams data_params;
  data_params.kind = neuncut::SyntheticKind::Blobs;
  data_params.n_samples = 600;
  data_params.n_clusters = 3;
  data_params.noise = 0.5;
  data_params.seed = 2;
  const neuncut::Dataset ds = neuncut::make_synthetic(data_params);

  neuncut::NeuNcutParams params;
  params.n_clusters = 3;
  params.hidden = {64, 64};
  neuncut::NeuNcut model(params);
  model.fit(ds.features);
  const neuncut::Labels labels = model.predict(ds.features);
  const double acc = neuncut::clustering_accuracy(ds.labels, labels);

  const auto path = std::filesystem::temp_directory_path() / "neuncut_consumer_model.nnc";
  model.save(path.string());
  const neuncut::Labels reloaded = neuncut::NeuNcut::load(path.string()).predict(ds.features);
  std::filesystem::remove(path);

  std::printf("ACC %.3f, reloaded model agrees: %s\n", acc, reloaded == labels ? "yes" : "no");
  return acc >= 0.99 && reloaded == labels ? 0 : 1;
}
