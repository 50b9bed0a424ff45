"""ONNX export of a trained NeuNcut model: its preprocessing, its network and the softmax.

The exported graph computes, for a float32 input ``X`` of shape (n, d)::

    Z = X - mean                      (scaling "center" or "standardize")
    Z = Z * inv_scale                 (scaling "standardize")
    Z = Z / ||Z||_2 per row           (l2_normalize; an all-zero row stays zero)
    a = relu(a W_l + b_l) ...         (hidden layers), logits = a W_L + b_L
    probabilities = softmax(logits)   (n, k) float32, rows summing to 1
    labels = argmax(probabilities)    (n,) int64, the lowest index on ties

exactly the steps of ``NeuNcut::predict_proba`` (docs/model-format.md, "NeuNcut"), with the
numbers read from the model itself (``_core.NeuNcutModel.inference_parts``), so an export
cannot drift from the model file.

**Image models.** The scattering transform (a bank of FFT-domain wavelet filters) is *not*
inside the graph: it is a documented pre-step. The graph's input ``X`` is then the scattering
features, d' columns, computed with the model's stored parameters by
``neuncut.scattering(images, order=..., scales=..., angles=...)`` or ``neuncut features``;
:func:`scattering_pre_step` returns those parameters, and the ONNX file carries them in its
metadata (``neuncut.input`` = ``scattering_features``, ``neuncut.scattering``). Keeping it
outside keeps the graph to operators every runtime has (Gemm, Relu, Softmax, elementwise);
OpenCV 4.6's DNN module cannot import ONNX's DFT operator (docs/onnx.md).

Only operators and layouts that OpenCV 4.6's DNN module imports are used (the independent
runtime the tests run the file in): Sub/Mul/Add with constants of shape (d,) (that importer
fails on (1, d)), Mul, MatMul (the row sums of squares, by a column of ones: it has no
ReduceSum/ReduceL2 path that was checked), Sqrt, Div (rows by their (n, 1) norms), Gemm with
the weight stored (out, in) and transB=1 (the only Gemm layout it imports), Relu, Softmax, ArgMax.

Run as ``python -m neuncut.onnx_export --model m.nnc --out m.onnx``; ``neuncut export``
calls exactly that.
"""
from __future__ import annotations

import os
import sys
import tempfile
from typing import Any, Dict, Optional, Union

import numpy as np

#: Operator set of the exported graph (ONNX 1.8 and later read it; OpenCV 4.6 imports it).
OPSET = 13

#: The smallest positive normal float32, added to every row norm: an all-zero row is then
#: divided by a positive number and stays zero, as in NeuNcut's own preprocessing, while any
#: norm above about 2e-31 is left exactly as it is (the addition rounds away). (OpenCV 4.6
#: cannot import Clip with its bounds as inputs, the only form opset 11 on allows.)
_TINY = float(np.finfo(np.float32).tiny)

PathLike = Union[str, "os.PathLike[str]"]


class OnnxUnavailable(RuntimeError):
    """The ``onnx`` Python package (Debian: python3-onnx) is not importable."""


def _onnx():
    try:
        import onnx  # noqa: F401
        from onnx import checker, helper, numpy_helper  # noqa: F401
    except ImportError as e:
        raise OnnxUnavailable(
            f"ONNX export needs the 'onnx' Python package ({e}); on Debian install python3-onnx "
            f"(scripts/setup.sh does), for the interpreter {sys.executable}") from e
    return onnx


def _core_model(model):
    """The compiled NeuNcut model of an estimator, a path to a model file, or a _core model."""
    from . import _core

    if isinstance(model, _core.NeuNcutModel):
        return model
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        method = _core.model_method(path)  # checks the container; ValueError / FileError with the reason
        if method != "neuncut":
            raise ValueError(f"'{path}' holds a {method} model; ONNX export supports NeuNcut models only")
        return _core.NeuNcutModel.load(path)
    inner = getattr(model, "_model", None)
    if isinstance(inner, _core.NeuNcutModel):
        return inner
    from .estimators import NeuNcut

    if isinstance(model, NeuNcut):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError("this NeuNcut instance is not fitted yet; call fit before to_onnx")
    raise TypeError(f"expected a fitted neuncut.NeuNcut, a NeuNcut model file path, got {type(model).__name__}")


def scattering_pre_step(model) -> Optional[Dict[str, int]]:
    """The scattering parameters an image model's ONNX input expects its features computed with.

    Parameters
    ----------
    model : NeuNcut, str or os.PathLike
        A fitted ``neuncut.NeuNcut`` or the path of a NeuNcut model file.

    Returns
    -------
    dict or None
        ``{"order", "scales", "angles"}`` for a model trained on the scattering features of
        images (the keyword arguments of :func:`neuncut.scattering`, whose images must have the
        model's shape, ``n_features_in_`` pixels), or None when the graph takes raw rows.
    """
    parts = _core_model(model).inference_parts()
    f = parts["features"]
    if f is None:
        return None
    return {k: int(f[k]) for k in ("order", "scales", "angles")}


def build_onnx(model, opset: int = OPSET) -> "onnx.ModelProto":
    """The ONNX ``ModelProto`` of a fitted NeuNcut model, checked by ``onnx.checker``.

    Parameters
    ----------
    model : NeuNcut, str or os.PathLike
        A fitted ``neuncut.NeuNcut`` or the path of a NeuNcut model file.
    opset : int, default=13
        ONNX operator set version of the graph.

    Returns
    -------
    onnx.ModelProto
        Inputs: ``X`` float32 (n, d). Outputs: ``probabilities`` float32 (n, k) and
        ``labels`` int64 (n,).

    Raises
    ------
    OnnxUnavailable
        When the ``onnx`` package is missing.
    ValueError
        When the file is not a valid NeuNcut model (the CLI's message).
    """
    onnx = _onnx()
    from onnx import TensorProto, checker, helper, numpy_helper

    from . import __version__

    parts = _core_model(model).inference_parts()
    weights, biases = parts["weights"], parts["biases"]
    d = int(parts["feature_dim"])
    k = int(weights[-1].shape[1])
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    x = "X"
    mean, inv_scale = np.asarray(parts["mean"]), np.asarray(parts["inv_scale"])
    if mean.size:
        nodes.append(helper.make_node("Sub", [x, const("mean", mean)], ["centered"], name="center"))
        x = "centered"
    if inv_scale.size:
        nodes.append(helper.make_node("Mul", [x, const("inv_scale", inv_scale)], ["scaled"],
                                      name="standardize"))
        x = "scaled"
    if parts["l2_normalize"]:
        nodes += [
            helper.make_node("Mul", [x, x], ["squares"], name="l2_squares"),
            helper.make_node("MatMul", ["squares", const("ones_column", np.ones((d, 1)))], ["squared_norm"],
                             name="l2_sum"),
            helper.make_node("Sqrt", ["squared_norm"], ["norm"], name="l2_norm"),
            helper.make_node("Add", ["norm", const("tiny", np.array(_TINY))], ["norm_safe"], name="l2_guard"),
            # A division, as NeuNcut's preprocessing divides (a reciprocal and a product would round twice).
            helper.make_node("Div", [x, "norm_safe"], ["normalized"], name="l2_normalize"),
        ]
        x = "normalized"
    for layer, (W, b) in enumerate(zip(weights, biases)):
        out = "logits" if layer == len(weights) - 1 else f"hidden{layer}_linear"
        # W is stored (out, in) with transB=1, the layout torch exports: OpenCV 4.6 imports
        # only that form of Gemm correctly.
        nodes.append(helper.make_node("Gemm", [x, const(f"W{layer}", np.asarray(W).T), const(f"b{layer}", b)], [out],
                                      transB=1, name=f"layer{layer}"))
        x = out
        if layer < len(weights) - 1:
            nodes.append(helper.make_node("Relu", [x], [f"hidden{layer}"], name=f"relu{layer}"))
            x = f"hidden{layer}"
    nodes.append(helper.make_node("Softmax", [x], ["probabilities"], axis=1, name="softmax"))
    nodes.append(helper.make_node("ArgMax", ["probabilities"], ["labels"], axis=1, keepdims=0, name="argmax"))

    scattering = parts["features"]
    if scattering is None:
        input_doc = f"float32 rows of {d} features, as given to NeuNcut.predict / neuncut predict --data"
        what = "rows"
    else:
        s = scattering
        input_doc = (f"float32 scattering features ({d} columns) of {s['height']}x{s['width']} images: "
                     f"neuncut.scattering(images, order={s['order']}, scales={s['scales']}, angles={s['angles']}) "
                     f"or `neuncut features --scattering-order {s['order']} --scattering-scales {s['scales']} "
                     f"--scattering-angles {s['angles']}`")
        what = "scattering_features"
    graph = helper.make_graph(
        nodes, "neuncut_neuncut",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["n", d], doc_string=input_doc)],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", k],
                                       doc_string="soft cluster memberships, rows summing to 1"),
         helper.make_tensor_value_info("labels", TensorProto.INT64, ["n"],
                                       doc_string="cluster of each row: argmax of probabilities, lowest index on ties")],
        initializer=inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="neuncut",
                              producer_version=__version__,
                              doc_string="NeuNcut: preprocessing, MLP and softmax (python/neuncut/onnx_export.py)")
    # ir_version 8 is what onnx 1.12 writes for opset 13-17; stated so a newer onnx package
    # does not raise it past what older runtimes read.
    proto.ir_version = 8
    meta = {"neuncut.method": "neuncut", "neuncut.version": __version__, "neuncut.n_clusters": str(k),
            "neuncut.input": what, "neuncut.input_dim": str(d), "neuncut.trained_precision": parts["precision"]}
    if scattering is not None:
        meta["neuncut.scattering"] = ",".join(f"{key}={scattering[key]}"
                                              for key in ("height", "width", "order", "scales", "angles"))
    helper.set_model_props(proto, meta)
    checker.check_model(proto)
    return proto


def export_onnx(model, path: PathLike, opset: int = OPSET) -> str:
    """Writes a fitted NeuNcut model as an ONNX file, atomically.

    Parameters
    ----------
    model : NeuNcut, str or os.PathLike
        A fitted ``neuncut.NeuNcut`` or the path of a NeuNcut model file (``.nnc``).
    path : str or os.PathLike
        Destination; written through a temporary file in the same directory and renamed, so a
        failure leaves the previous file (or none), never half a model.
    opset : int, default=13
        ONNX operator set version.

    Returns
    -------
    str
        The path written.

    Raises
    ------
    OnnxUnavailable
        When the ``onnx`` package is missing (nothing is written).
    ValueError, neuncut.FileError
        A file that is not a NeuNcut model, a destination that is a directory or whose
        directory does not exist.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValueError(f"--out '{path}' is a directory; give the ONNX file's path")
    if not os.path.isdir(folder):
        raise ValueError(f"--out '{path}': directory '{folder}' does not exist")
    data = build_onnx(model, opset).SerializeToString()
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def main(argv: Optional[list] = None) -> int:
    """``python -m neuncut.onnx_export --model m.nnc --out m.onnx``: what ``neuncut export`` runs.

    Exit status: 0 written; 2 bad input (not a NeuNcut model, bad destination); 1 anything
    else (the onnx package missing included). Nothing is written unless it returns 0.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="neuncut export", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="NeuNcut model file (.nnc)")
    parser.add_argument("--out", required=True, help="ONNX file to write")
    parser.add_argument("--opset", type=int, default=OPSET, help=f"ONNX operator set (default {OPSET})")
    args = parser.parse_args(argv)
    # `neuncut export` ends this process with SIGTERM when it is itself ended; as an exception
    # (not the default instant death) it lets export_onnx remove its temporary file.
    import signal

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        export_onnx(args.model, args.out, args.opset)
    except OnnxUnavailable as e:
        print(f"neuncut: error: {e}; nothing written", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"neuncut: error: {e}; nothing written", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"neuncut: error: {e}; nothing written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
