"""pip install --no-build-isolation .  — builds dx_engine._native with CMake.

Uses Debian's setuptools (no PyPI here). The C++ build is the project's own
CMake build, limited to the Python module's target.
"""
import os
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = os.path.join(HERE, "build-pip")
        subprocess.check_call([
            "cmake", "-S", HERE, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Release",
            "-DACTORRT_ENABLE_TESTING=OFF", f"-DACTORRT_PYTHON={sys.executable}"])
        subprocess.check_call(["cmake", "--build", build_dir, "--target", "_native",
                               "-j", str(os.cpu_count() or 2)])
        built = os.path.join(build_dir, "python", "dx_engine",
                             os.path.basename(self.get_ext_fullpath(ext.name)))
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(built, target)


setup(
    name="dx-engine-actorrt",
    version="0.1.0",
    description="ActorRT: a drop-in dx_engine (DEEPX DX-RT API) on an actor runtime",
    packages=["dx_engine"],
    package_dir={"dx_engine": "python/dx_engine"},
    package_data={"dx_engine": ["py.typed", "*.pyi"]},
    ext_modules=[Extension("dx_engine._native", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
)
