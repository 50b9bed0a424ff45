"""The Python surface: one version everywhere, help() generated from the parameter tables,
numpydoc docstrings and type hints on the public API, and the console command's wrapper.
(The pip install/wheel/uninstall paths themselves run in scripts/check-pip.sh, a CI stage.)"""
import inspect
import os
import pydoc
import re
import subprocess
import sys

import pytest

import neuncut
from neuncut import KMeans, NeuNcut, SpectralClustering, SpectralNet, plot

from conftest import REPO, run_cli

ESTIMATORS = [(NeuNcut, "neuncut"), (SpectralNet, "spectralnet"), (KMeans, "kmeans"), (SpectralClustering, "ncut")]


def cmake_version():
    match = re.search(r"project\(neuncut VERSION ([0-9.]+)", (REPO / "CMakeLists.txt").read_text())
    assert match, "no project(neuncut VERSION ...) line"
    return match.group(1)


def test_one_version_everywhere(cli):
    version = cmake_version()
    assert neuncut.__version__ == version
    assert run_cli(cli, "--version").stdout.split()[:2] == ["neuncut", version]


@pytest.mark.parametrize("cls,method", ESTIMATORS)
def test_help_shows_every_parameter_with_default_and_meaning(cls, method):
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    assert "Parameters\n" in text and "Attributes\n" in text
    for row in neuncut.param_table(method):
        # pydoc indents class docs with " |  "
        entry = re.search(rf"^[ |]*{row['name']} : [^\n]*default=(.*)\n[ |]+(.*)$", text, re.M)
        assert entry, f"help({cls.__name__}) lacks the entry of {row['name']}"
        assert entry.group(1) == repr(row["default"])
        assert entry.group(2).startswith(row["doc"][:40])


@pytest.mark.parametrize("cls,method", ESTIMATORS)
def test_signature_defaults_and_hints_come_from_the_table(cls, method):
    params = inspect.signature(cls).parameters
    for row in neuncut.param_table(method):
        assert params[row["name"]].default == row["default"]
        assert params[row["name"]].annotation != inspect.Parameter.empty, row["name"]


def _public_callables():
    for name in neuncut.__all__:
        obj = getattr(neuncut, name)
        if inspect.isfunction(obj):
            yield f"neuncut.{name}", obj
    for name in plot.__all__:
        yield f"neuncut.plot.{name}", getattr(plot, name)
    for cls, _ in ESTIMATORS:
        for name in ("fit", "predict", "predict_proba", "transform", "score", "save", "to_onnx"):
            if name in vars(cls) or (name == "save" and hasattr(cls, "save")):
                yield f"{cls.__name__}.{name}", getattr(cls, name)
    from neuncut import onnx_export

    for name in ("export_onnx", "build_onnx", "scattering_pre_step"):
        yield f"neuncut.onnx_export.{name}", getattr(onnx_export, name)


@pytest.mark.parametrize("name,func", list(_public_callables()))
def test_public_api_has_numpydoc_and_type_hints(name, func):
    doc = inspect.getdoc(func) or ""
    params = [p for p in inspect.signature(func).parameters if p not in ("self", "y")]
    if params:
        assert "Parameters\n----------" in doc, f"{name}: no numpydoc Parameters section"
        for p in params:
            assert re.search(rf"^{p}\b.* :|^{p} :", doc, re.M), f"{name}: parameter {p} undocumented"
    assert "Returns\n-------" in doc, f"{name}: no Returns section"
    hints = inspect.signature(func)
    assert hints.return_annotation is not inspect.Signature.empty, f"{name}: no return hint"


def test_console_wrapper_says_when_the_binary_is_missing():
    # In the build tree (not pip-installed) there is no neuncut/bin/neuncut next to the package.
    binary = os.path.join(os.path.dirname(neuncut.__file__), "bin", "neuncut")
    if os.path.exists(binary):
        pytest.skip("an installed package: its binary is there (scripts/check-pip.sh runs it)")
    r = subprocess.run([sys.executable, "-m", "neuncut", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "is missing" in r.stderr and "build/neuncut" in r.stderr
