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
    d["choices"] = p.choices;
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

// ---- results: rendered from their field tables (result_fields.hpp) ---------------------

py::dict quality_dict(const PartitionQuality& q);

template <class T>
py::object to_python(const T& value);

// A list of results (an epoch history)?
template <class T>
constexpr bool is_result_list() {
  if constexpr (IsVector<T>::value) return HasResultFields<typename T::value_type>::value;
  else return false;
}

// Every field of a result under its table name; `message` (the warnings joined by "; ") is
// kept beside `warnings` for code written before warnings were a list.
template <class Result>
py::dict fields_dict(const Result& r) {
  py::dict d;
  for_each_field(r, [&](const char* name, const auto& value) { d[name] = to_python(value); });
  if constexpr (requires { r.message(); }) d["message"] = r.message();
  return d;
}

template <class T>
py::object to_python(const T& value) {
  if constexpr (has_enum_names_v<T>) return py::str(to_string(value));
  else if constexpr (std::is_same_v<T, Labels>) return to_numpy(value);
  else if constexpr (std::is_same_v<T, CollapseStatus>) return py::str(value.description());
  else if constexpr (std::is_same_v<T, PartitionQuality>) return quality_dict(value);
  else if constexpr (HasResultFields<T>::value) return fields_dict(value);
  else if constexpr (is_result_list<T>()) {
    py::list out;
    for (const auto& item : value) out.append(fields_dict(item));
    return out;
  } else return py::cast(value);
}

// ---- progress callbacks ----------------------------------------------------------------

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
      py::object r = state.callback(fields_dict(stats));
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
      "result_fields",
      [](const std::string& result) -> py::list {
        const std::vector<FieldInfo>* fields = nullptr;
        if (result == "neuncut") fields = &result_fields(static_cast<const NeuNcutFitResult*>(nullptr));
        else if (result == "neuncut_epoch") fields = &result_fields(static_cast<const NeuNcutEpochStats*>(nullptr));
        else if (result == "spectralnet") fields = &result_fields(static_cast<const SpectralNetFitResult*>(nullptr));
        else if (result == "spectralnet_epoch")
          fields = &result_fields(static_cast<const SpectralNetEpochStats*>(nullptr));
        else if (result == "kmeans") fields = &result_fields(static_cast<const KMeansFitResult*>(nullptr));
        else if (result == "ncut") fields = &result_fields(static_cast<const SpectralClusteringResult*>(nullptr));
        else
          throw InvalidArgument("unknown result '" + result +
                                "' (expected neuncut, neuncut_epoch, spectralnet, spectralnet_epoch, kmeans or ncut)");
        py::list out;
        for (const FieldInfo& f : *fields) {
          py::dict d;
          d["name"] = f.name;
          d["type"] = f.type;
          d["doc"] = f.doc;
          d["choices"] = f.choices;
          out.append(d);
        }
        return out;
      },
      py::arg("result"),
      "The fields of an estimator's result (its fit dict's keys): list of {name, type, doc, choices}.");
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
            const NeuNcutFitResult r = run_fit<NeuNcutFitResult>(std::move(callback), [&](CallbackState& st) {
              return self.fit(X, [&st](const NeuNcutEpochStats& s) { return on_epoch(st, s); });
            });
            return fields_dict(r);
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
      .def("set_precision", py::overload_cast<const std::string&>(&NeuNcut::set_precision), py::arg("precision"))
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
            return fields_dict(r);
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
        const py::dict d = fields_dict(static_cast<const KMeansFitResult&>(r));
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
        return fields_dict(r);
      },
      py::arg("X").noconvert(), py::arg("params"));
}
