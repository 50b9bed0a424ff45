"""Builds the neuncut Python package with the project's CMake (pyproject.toml holds the metadata).

Why setuptools driving CMake and not scikit-build (Debian 12: python3-skbuild 0.16, not tried
here): the build is one CMake configure and one build of two targets, which this short build_ext
does with the tools setup.sh already installs (setuptools, wheel, cmake), with no extra layer or
package to keep working offline (docs/python.md, "Install"). The version is read from
CMakeLists.txt, the one place it is set.

The extension neuncut._core and the CLI binary (installed as neuncut/bin/neuncut, run by the
`neuncut` console script) come from one CMake build folder:
  NEUNCUT_BUILD_DIR   the folder (default build-pip/cmake). A folder that is already
                      configured (scripts/build.sh's build/) is used as it is: only the two
                      targets are built, its options are left alone.
  NEUNCUT_CMAKE_ARGS  extra configure arguments for a new folder, e.g. -DNEUNCUT_ARCH=x86-64-v3
                      for a wheel meant for other AVX2 machines (the default, -march=native,
                      suits the machine that builds it).
  CMAKE_BUILD_PARALLEL_LEVEL  parallel compile jobs (default: all cores).
"""
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def cmake_version():
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(\s*neuncut\s+VERSION\s+([0-9]+\.[0-9]+\.[0-9]+)", text)
    if not match:
        sys.exit("setup.py: no 'project(neuncut VERSION x.y.z' line in CMakeLists.txt")
    return match.group(1)


class CMakeBuild(build_ext):
    """Configures (once) and builds the CMake targets _core and neuncut_cli, then copies them in."""

    def build_extension(self, ext):
        if shutil.which("cmake") is None:
            sys.exit("setup.py: cmake not found; run scripts/setup.sh (Debian packages) first")
        build = Path(os.environ.get("NEUNCUT_BUILD_DIR") or ROOT / "build-pip" / "cmake").resolve()
        if not (build / "CMakeCache.txt").is_file():
            args = ["-DCMAKE_BUILD_TYPE=Release", "-DNEUNCUT_BUILD_PYTHON=ON", "-DNEUNCUT_BUILD_TESTS=OFF",
                    "-DNEUNCUT_BUILD_CLI=ON", f"-DPython_EXECUTABLE={sys.executable}"]
            if shutil.which("ccache"):
                args.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
            args += shlex.split(os.environ.get("NEUNCUT_CMAKE_ARGS", ""))
            subprocess.check_call(["cmake", "-S", str(ROOT), "-B", str(build), *args])
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.check_call(["cmake", "--build", str(build), "--target", "_core", "neuncut_cli", "-j", jobs])

        built = sorted((build / "python" / "neuncut").glob("_core*.so"))
        if len(built) != 1:
            sys.exit(f"setup.py: expected one _core*.so in {build / 'python' / 'neuncut'}, found {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)
        # The CLI travels inside the package; neuncut/_cli.py (the console script) runs it.
        bindir = target.parent / "bin"
        bindir.mkdir(exist_ok=True)
        shutil.copy2(build / "neuncut", bindir / "neuncut")
        os.chmod(bindir / "neuncut", 0o755)


setup(
    version=cmake_version(),
    ext_modules=[Extension("neuncut._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
