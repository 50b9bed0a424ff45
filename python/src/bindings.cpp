// PRIVATE: neuncut._core, the small compiled layer under the pure-Python package `neuncut`.
// Call it through neuncut.NeuNcut & co.; this module is not a stable API.
//
// Conventions of this layer:
//  - Data comes in as Eigen::Ref<const MatrixF> with noconvert(): a C-contiguous float32
//    numpy array is used in place (zero copies); anything else is a TypeError here, and the
//    Python layer converts (np.ascontiguousarray(X, dtype=np.float32)) only when needed.
//  - Parameters cross as {name: text} dicts through each estimator's parameter table, the same
//    parse/format code the CLI flags use.
//  - Heavy calls release the GIL. Progress callbacks reacquire it, poll PyErr_CheckSignals (so
//    Ctrl-C stops a fit after the current epoch) and call the Python callback; a Python error
//    raised there stops training and is re-raised unchanged once the C++ fit has unwound.
//  - C++ exceptions: InvalidArgument, FormatError -> ValueError; Interrupted ->
//    KeyboardInterrupt; IoError -> neuncut.FileError (both an OSError, what Python code expects
//    of a file that cannot be read or written, and a RuntimeError, what earlier versions raised);
//    any other neuncut::Error -> RuntimeError; same text as
//    the CLI prints after "neuncut: error: ". std::bad_alloc -> MemoryError with
//    kOutOfMemoryMessage (pybind11's own mapping says only "std::bad_alloc").
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "neuncut/core/error.hpp"
#include "neuncut/core/precision.hpp"
#include "neuncut/core/resources.hpp"
#include "neuncut/eval/metrics.hpp"
#include "neuncut/features/scattering.hpp"
#include "neuncut/io/dataset.hpp"
#include "neuncut/io/model_file.hpp"
#include "neuncut/methods/kmeans/kmeans.hpp"
#include "neuncut/methods/ncut/spectral_clustering.hpp"
#include "neuncut/methods/neuncut/neuncut.hpp"
#include "neuncut/methods/spectralnet/spectralnet.hpp"
#include "neuncut/version.hpp"

namespace py = pybind11;
using namespace neuncut;

namespace {

using DataRef = Eigen::Ref<const MatrixF>;

py::array_t<std::int32_t> to_numpy(const Labels& labels) {
  py::array_t<std::int32_t> out(py::ssize_t(labels.size()));
  std::copy(labels.begin(), labels.end(), out.mutable_data());
  return out;
}

// ---- parameter tables ------------------------------------------------------------------

template <class Params>
py::list table_to_list(const std::vector<ParamInfo<Params>>& table) {
  py::list out;
  for (const auto& p : table) {
    py::dict d;
    d["name"] = p.name;
    d["flag"] = p.flag;
    d["type"] = p.type;
    d["doc"] = p.doc;
    d["default"] = p.default_text;
    out.append(d);
  }
  return out;
}

// Parses {name: text} into a parameter struct (defaults for names not given).
template <class Params>
Params params_from_dict(const std::vector<ParamInfo<Params>>& table, const py::dict& values) {
  Params params;
  for (const auto& item : values) {
    const std::string name = py::cast<std::string>(item.first);
    const std::string text = py::cast<std::string>(py::str(item.second));
    bool found = false;
    for (const auto& p : table)
      if (p.name == name) {
        p.set(params, text);
        found = true;
        break;
      }
    NEUNCUT_REQUIRE(found, InvalidArgument, "unknown parameter '", name, "'");
  }
  return params;
}

template <class Params>
py::dict params_to_dict(const std::vector<ParamInfo<Params>>& table, const Params& params) {
  py::dict d;
  for (const auto& p : table) d[py::str(p.name)] = p.get(params);
  return d;
}

// ---- progress callbacks ----------------------------------------------------------------

py::dict stats_dict(const EpochStats& s) {
  py::dict d;
  d["epoch"] = s.epoch;
  d["epochs"] = s.epochs;
  d["loss"] = s.loss;
  d["trace"] = s.trace;
  d["penalty"] = s.penalty;
  d["orthogonality"] = s.orthogonality;
  d["gamma"] = s.gamma;
  d["learning_rate"] = s.learning_rate;
  d["elapsed_seconds"] = s.elapsed_seconds;
  d["eta_seconds"] = s.eta_seconds;
  d["clusters_used"] = s.clusters_used;
  d["mean_max_probability"] = s.mean_max_probability;
  d["largest_cluster_fraction"] = s.largest_cluster_fraction;
  d["collapse"] = s.collapse;
  d["rolled_back_to"] = s.rolled_back_to;
  return d;
}

py::dict stats_dict(const SpectralNetEpochStats& s) {
  py::dict d;
  d["epoch"] = s.epoch;
  d["epochs"] = s.epochs;
  d["loss"] = s.loss;
  d["learning_rate"] = s.learning_rate;
  d["cholesky_fallbacks"] = s.cholesky_fallbacks;
  d["elapsed_seconds"] = s.elapsed_seconds;
  d["eta_seconds"] = s.eta_seconds;
  return d;
}

constexpr const char* kOutOfMemoryMessage =
    "neuncut: out of memory: a buffer could not be allocated (use fewer rows, a smaller batch_size or "
    "narrower hidden layers)";

// Shared by the C++ progress callback (running without the GIL) and the caller.
struct CallbackState {
  py::object callback;       // None or callable(dict) -> None/bool
  std::exception_ptr error;  // a Python exception raised while the GIL was held in a callback
};

template <class Stats>
bool on_epoch(CallbackState& state, const Stats& stats) {
  py::gil_scoped_acquire gil;
  try {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();  // Ctrl-C (or another signal handler raised)
    if (!state.callback.is_none()) {
      py::object r = state.callback(stats_dict(stats));
      if (!r.is_none()) {
        const int truth = PyObject_IsTrue(r.ptr());
        if (truth < 0) throw py::error_already_set();
        if (truth == 0) return false;  // the callback asked to stop
      }
    }
  } catch (...) {
    state.error = std::current_exception();
    return false;
  }
  return true;
}

// Runs fit without the GIL; re-raises a Python error from the callback in place of Interrupted.
template <class Result, class Fit>
Result run_fit(py::object callback, Fit&& fit) {
  CallbackState state{std::move(callback), nullptr};
  try {
    py::gil_scoped_release release;
    return fit(state);
  } catch (const Interrupted&) {
    if (state.error) std::rethrow_exception(state.error);
    throw;
  }
}

// The label-free quality check (partition_quality.hpp); the same keys as the CLI's "quality".
py::dict quality_dict(const PartitionQuality& q) {
  py::dict d;
  d["verdict"] = to_string(q.verdict);
  if (q.verdict == QualityVerdict::NotChecked) return d;
  d["ncut"] = q.ncut;
  d["kmeans_ncut"] = q.kmeans_ncut;
  d["chance_ncut"] = q.chance_ncut;
  d["relative"] = q.relative;
  d["sample_points"] = q.sample_points;
  d["what_to_try"] = q.advice.empty() ? py::object(py::none()) : py::object(py::str(q.advice));
  return d;
}

py::dict fit_result_dict(const FitResult& r) {
  py::dict d;
  py::list history;
  for (const auto& s : r.history) history.append(stats_dict(s));
  d["history"] = history;
  d["sigma"] = r.sigma;
  d["sigma_estimated"] = r.sigma_estimated;
  d["train_points"] = r.train_points;
  d["batch_size"] = r.batch_size;
  d["train_seconds"] = r.train_seconds;
  d["init_seconds"] = r.init_seconds;
  d["init_agreement"] = r.init_agreement;
  d["clusters_used"] = r.clusters_used;
  d["mean_max_probability"] = r.mean_max_probability;
  d["collapse"] = r.collapse;
  d["collapse_rollbacks"] = r.rollbacks;
  d["restored_epoch"] = r.restored_epoch;
  d["features"] = r.features;
  d["feature_dim"] = r.feature_dim;
  d["features_seconds"] = r.features_seconds;
  d["precision"] = to_string(r.precision);
  d["affinity_precision"] = to_string(r.affinity_precision);
  d["quality"] = quality_dict(r.quality);
  d["selected_candidate"] = r.selected_candidate;
  d["candidate_ncuts"] = r.candidate_ncuts;
  return d;
}

py::dict fit_result_dict(const SpectralNetFitResult& r) {
  py::dict d;
  py::list history;
  for (const auto& s : r.history) history.append(stats_dict(s));
  d["history"] = history;
  d["labels"] = to_numpy(r.labels);
  d["train_points"] = r.train_points;
  d["batch_size"] = r.batch_size;
  d["cholesky_fallbacks"] = r.cholesky_fallbacks;
  d["kmeans_inertia"] = r.kmeans_inertia;
  d["kmeans_converged"] = r.kmeans_converged;
  d["message"] = r.message;
  d["train_seconds"] = r.train_seconds;
  d["total_seconds"] = r.total_seconds;
  return d;
}

}  // namespace

// Everything NeuNcut's inference uses, as plain arrays, for exporters that rebuild it in
// another runtime (python/neuncut/onnx_export.py): the preprocessing after the feature map
// (mean, inv_scale: empty when unused; l2_normalize), the feature map's parameters, and each
// layer's weight (n_l x n_{l+1}) and bias. The model stays the one source of these numbers.
static py::dict neuncut_inference_parts(const NeuNcut& model) {
  NEUNCUT_REQUIRE(model.fitted(), InvalidArgument, "the NeuNcut model is not fitted");
  const Preprocessor& pre = model.preprocessor();
  const Mlp& net = model.network();
  py::dict d;
  d["input_dim"] = pre.dim();
  d["feature_dim"] = pre.output_dim();
  d["scaling"] = to_string(pre.scaling());
  d["l2_normalize"] = pre.l2_normalize();
  d["mean"] = VectorF(pre.mean());
  d["inv_scale"] = VectorF(pre.inv_scale());
  if (pre.features().empty()) {
    d["features"] = py::none();
  } else {
    const ScatteringParams& sp = pre.features().params();
    py::dict f;
    f["kind"] = "scattering";
    f["height"] = sp.height;
    f["width"] = sp.width;
    f["scales"] = sp.scales;
    f["angles"] = sp.angles;
    f["order"] = sp.order;
    d["features"] = f;
  }
  py::list weights, biases;
  for (Index l = 0; l < net.num_layers(); ++l) {
    weights.append(MatrixF(net.weight(l)));
    biases.append(VectorF(net.bias(l)));
  }
  d["weights"] = weights;
  d["biases"] = biases;
  d["precision"] = to_string(net.precision());
  return d;
}

PYBIND11_MODULE(_core, m) {
  m.doc() = "PRIVATE compiled core of the neuncut package; use neuncut.NeuNcut & co. instead.";
  m.attr("__version__") = NEUNCUT_VERSION;  // the project VERSION of CMakeLists.txt (one source)

  // Created once per interpreter and kept for the process's life, as the translator needs it.
  static PyObject* file_error = PyErr_NewException(
      "neuncut.FileError", py::make_tuple(py::handle(PyExc_OSError), py::handle(PyExc_RuntimeError)).ptr(), nullptr);
  if (file_error == nullptr) throw py::error_already_set();
  m.attr("FileError") = py::handle(file_error);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const FormatError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Interrupted& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    } catch (const IoError& e) {
      PyErr_SetString(file_error, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const std::bad_alloc&) {
      PyErr_SetString(PyExc_MemoryError, kOutOfMemoryMessage);
    }
  });

  // -- tables and helpers --
  m.def(
      "param_table",
      [](const std::string& method) -> py::list {
        if (method == "neuncut") return table_to_list(neuncut_param_table());
        if (method == "spectralnet") return table_to_list(spectralnet_param_table());
        if (method == "kmeans") return table_to_list(kmeans_param_table());
        if (method == "ncut") return table_to_list(ncut_param_table());
        throw InvalidArgument("unknown method '" + method + "' (expected neuncut, spectralnet, kmeans or ncut)");
      },
      py::arg("method"), "The parameter table of an estimator: list of {name, flag, type, doc, default} (text).");

  m.def(
      "thread_bound_warning", [](int requested) { return thread_bound_warning(requested); }, py::arg("requested"),
      "'' when `requested` threads are within the hardware threads, else the warning that they are bounded.");
  m.def(
      "bf16_unavailable_reason", [] { return bf16_unavailable_reason(); },
      "'' when precision='bf16' can run here, else why not (build without oneDNN, CPU without AVX512_BF16).");

  m.def(
      "scattering",
      [](const DataRef& X, Index height, Index width, int scales, int angles, int order, int threads) {
        const ScatteringTransform transform(scattering_params(height, width, scales, angles, order));
        py::gil_scoped_release release;
        return transform.transform(X, threads);
      },
      py::arg("X").noconvert(), py::arg("height"), py::arg("width"), py::arg("scales"), py::arg("angles"),
      py::arg("order"), py::arg("threads"), "Scattering features of rows of X (images of height x width).");
  m.def(
      "fp32_gemm_library", [] { return fp32_gemm_library(); },
      "The library that runs fp32 products here: 'oneDNN' (builds with oneDNN) or 'Eigen' "
      "(NEUNCUT_FP32_GEMM=eigen at start-up chooses it).");

  m.def(
      "data_address", [](const DataRef& X) { return reinterpret_cast<std::uintptr_t>(X.data()); },
      py::arg("X").noconvert(), "Address of the first element as C++ sees it (tests the zero-copy path).");

  m.def(
      "model_method",
      [](const std::string& path) {
        ModelFileContents file;
        {
          py::gil_scoped_release release;
          file = read_model_file(path);
        }
        return to_string(file.method);
      },
      py::arg("path"), "Method tag of a model file: 'neuncut', 'spectralnet' or 'kmeans'.");

  m.def(
      "load_dataset",
      [](const std::string& spec) {
        Dataset ds;
        {
          py::gil_scoped_release release;
          ds = load_dataset(spec);
        }
        py::object labels = ds.labels.empty() ? py::object(py::none()) : py::object(to_numpy(ds.labels));
        return py::make_tuple(py::cast(std::move(ds.features)), labels);
      },
      py::arg("spec"),
      "Loads 'fashion-mnist' or a .npy/.csv/IDX file as the CLI's --data does: (X float32, labels or None).");

  m.def(
      "scores",
      [](const std::vector<std::int32_t>& truth, const std::vector<std::int32_t>& predicted) {
        const ClusteringScores s = score_clustering(truth, predicted);
        py::dict d;
        d["acc"] = s.acc;
        d["nmi"] = s.nmi;
        d["ari"] = s.ari;
        return d;
      },
      py::arg("truth"), py::arg("predicted"), "ACC (Hungarian), NMI and ARI as the CLI reports them.");

  // -- NeuNcut --
  py::class_<NeuNcut>(m, "NeuNcutModel")
      .def(py::init([](const py::dict& params) {
             NeuNcutParams p = params_from_dict(neuncut_param_table(), params);
             validate(p);
             return NeuNcut(p);
           }),
           py::arg("params"))
      .def(
          "fit",
          [](NeuNcut& self, const DataRef& X, py::object callback) {
            const FitResult r = run_fit<FitResult>(std::move(callback), [&](CallbackState& st) {
              return self.fit(X, [&st](const EpochStats& s) { return on_epoch(st, s); });
            });
            return fit_result_dict(r);
          },
          py::arg("X").noconvert(), py::arg("callback") = py::none())
      .def(
          "predict",
          [](const NeuNcut& self, const DataRef& X, Index chunk_rows) {
            Labels labels;
            {
              py::gil_scoped_release release;
              labels = self.predict(X, chunk_rows);
            }
            return to_numpy(labels);
          },
          py::arg("X").noconvert(), py::arg("chunk_rows") = NeuNcut::kDefaultChunkRows)
      .def(
          "predict_proba",
          [](const NeuNcut& self, const DataRef& X, Index chunk_rows) {
            py::gil_scoped_release release;
            return self.predict_proba(X, chunk_rows);
          },
          py::arg("X").noconvert(), py::arg("chunk_rows") = NeuNcut::kDefaultChunkRows)
      .def("save", &NeuNcut::save, py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def("inference_parts", &neuncut_inference_parts)
      .def_static("load", &NeuNcut::load, py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def("params", [](const NeuNcut& self) { return params_to_dict(neuncut_param_table(), self.params()); })
      .def("set_threads", &NeuNcut::set_threads, py::arg("threads"))
      .def("set_precision", &NeuNcut::set_precision, py::arg("precision"))
      .def_property_readonly("fitted", &NeuNcut::fitted)
      .def_property_readonly("sigma", &NeuNcut::sigma)
      .def_property_readonly("input_dim", &NeuNcut::input_dim);

  // -- SpectralNet --
  py::class_<SpectralNet>(m, "SpectralNetModel")
      .def(py::init([](const py::dict& params) {
             SpectralNetParams p = params_from_dict(spectralnet_param_table(), params);
             validate(p);
             return SpectralNet(p);
           }),
           py::arg("params"))
      .def(
          "fit",
          [](SpectralNet& self, const DataRef& X, py::object callback) {
            const SpectralNetFitResult r = run_fit<SpectralNetFitResult>(std::move(callback), [&](CallbackState& st) {
              return self.fit(X, [&st](const SpectralNetEpochStats& s) { return on_epoch(st, s); });
            });
            return fit_result_dict(r);
          },
          py::arg("X").noconvert(), py::arg("callback") = py::none())
      .def(
          "predict",
          [](const SpectralNet& self, const DataRef& X, Index chunk_rows) {
            Labels labels;
            {
              py::gil_scoped_release release;
              labels = self.predict(X, chunk_rows);
            }
            return to_numpy(labels);
          },
          py::arg("X").noconvert(), py::arg("chunk_rows") = 8192)
      .def(
          "embed",
          [](const SpectralNet& self, const DataRef& X, Index chunk_rows) {
            py::gil_scoped_release release;
            return self.embed(X, chunk_rows);
          },
          py::arg("X").noconvert(), py::arg("chunk_rows") = 8192)
      .def("save", &SpectralNet::save, py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def_static("load", &SpectralNet::load, py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def("params", [](const SpectralNet& self) { return params_to_dict(spectralnet_param_table(), self.params()); })
      .def("set_threads", &SpectralNet::set_threads, py::arg("threads"))
      .def_property_readonly("fitted", &SpectralNet::fitted)
      .def_property_readonly("input_dim", [](const SpectralNet& self) { return self.preprocessor().dim(); });

  // -- k-means --
  py::class_<KMeansModel>(m, "KMeansModel")
      .def(
          "predict",
          [](const KMeansModel& self, const DataRef& X, int threads) {
            Labels labels;
            {
              py::gil_scoped_release release;
              labels = self.predict(X, threads);
            }
            return to_numpy(labels);
          },
          py::arg("X").noconvert(), py::arg("threads") = 0)
      .def("inertia", &KMeansModel::inertia, py::arg("X").noconvert(), py::arg("threads") = 0,
           py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("centroids", &KMeansModel::centroids)
      .def_property_readonly("k", &KMeansModel::k)
      .def_property_readonly("dim", &KMeansModel::dim)
      .def_property_readonly("normalize", [](const KMeansModel& self) { return self.preprocessor().l2_normalize(); })
      .def("save", &KMeansModel::save, py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def_static("load", &KMeansModel::load, py::arg("path"), py::call_guard<py::gil_scoped_release>());

  m.def(
      "fit_kmeans",
      [](const DataRef& X, const py::dict& params) {
        const KMeansParams p = params_from_dict(kmeans_param_table(), params);
        validate(p);
        KMeansResult r;
        {
          py::gil_scoped_release release;
          r = fit_kmeans(X, p);
        }
        py::dict d;
        d["labels"] = to_numpy(r.labels);
        d["inertia"] = r.inertia;
        d["iterations"] = r.iterations;
        d["converged"] = r.converged;
        d["best_init"] = r.best_init;
        d["empty_cluster_reseeds"] = r.empty_cluster_reseeds;
        d["inertia_trace"] = r.inertia_trace;
        d["message"] = r.message;
        d["seconds"] = r.seconds;
        return py::make_tuple(py::cast(std::move(r.model)), d);
      },
      py::arg("X").noconvert(), py::arg("params"));

  // -- classic Ncut (transductive: labels of the data it was fitted on only) --
  m.def(
      "fit_spectral_clustering",
      [](const DataRef& X, const py::dict& params) {
        const SpectralClusteringParams p = params_from_dict(ncut_param_table(), params);
        validate(p);
        SpectralClusteringResult r;
        {
          py::gil_scoped_release release;
          r = fit_spectral_clustering(X, p);
        }
        py::dict d;
        d["labels"] = to_numpy(r.labels);
        d["eigenvalues"] = r.eigenvalues;
        d["embedding"] = std::move(r.embedding);
        d["converged"] = r.converged;
        d["solver_status"] = r.solver_status;
        d["restarts"] = r.restarts;
        d["matvecs"] = r.matvecs;
        d["n_components"] = r.n_components;
        d["n_neighbors_used"] = r.n_neighbors_used;
        d["isolated_points"] = r.isolated_points;
        d["n_edges"] = r.n_edges;
        d["knn_method"] = to_string(r.knn_method);
        d["kmeans_inertia"] = r.kmeans_inertia;
        d["kmeans_converged"] = r.kmeans_converged;
        d["message"] = r.message;
        d["total_seconds"] = r.total_seconds;
        return d;
      },
      py::arg("X").noconvert(), py::arg("params"));
}
