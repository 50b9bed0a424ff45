// neuncut's whole public API in one include: `#include <neuncut/neuncut.hpp>`.
//
// Each header below can also be included on its own; they are grouped by layer (see
// docs/architecture.md): core (types, errors, parameter tables), io (datasets, model files),
// data (synthetic sets), features (preprocessing, scattering), graph (kNN, affinities),
// nn (MLP, optimizer), eval (metrics), and the methods (NeuNcut, SpectralNet, k-means,
// spectral clustering). Earlier versions kept every header directly in include/neuncut/; the
// README's "Upgrading" section maps the old include paths to the new ones.
#pragma once

#include "neuncut/core/enum_names.hpp"
#include "neuncut/core/error.hpp"
#include "neuncut/core/param_table.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/core/resources.hpp"
#include "neuncut/core/result_fields.hpp"
#include "neuncut/core/types.hpp"
#include "neuncut/data/synthetic.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/eval/partition_quality.hpp"
#include "neuncut/features/preprocessing.hpp"
#include "neuncut/features/scattering.hpp"
#include "neuncut/graph/affinity_graph.hpp"
#include "neuncut/graph/batch_affinity.hpp"
#include "neuncut/graph/knn.hpp"
#include "neuncut/io/atomic_file.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/io/row_reader.hpp"
#include "neuncut/io/row_writer.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/ncut/landmark_spectral_clustering.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"
#include "neuncut/methods/neuncut/ncut_loss.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/neuncut/spectral_init.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"
#include "neuncut/nn/mlp.hpp"
#include "neuncut/nn/optimizer.hpp"
#include "neuncut/version.hpp"
