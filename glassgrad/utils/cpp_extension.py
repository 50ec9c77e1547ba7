"""``glassgrad.utils.cpp_extension``: PyTorch's ``torch.utils.cpp_extension`` path.

glassgrad runs on NumPy and has no C++ ABI, so nothing can be compiled or loaded against it.
Programs often import this module unconditionally and only build their kernels when CUDA is
available (with a pure-Python fallback otherwise), so importing it, reading ``CUDA_HOME`` and
asking for include paths work; every call that would compile or load a library raises a
``RuntimeError`` naming itself:

>>> from glassgrad.utils import cpp_extension
>>> cpp_extension.CUDA_HOME is None
True
>>> cpp_extension.load("ext", ["ext.cpp"])
Traceback (most recent call last):
    ...
RuntimeError: cpp_extension.load(name='ext'): glassgrad runs on NumPy and cannot compile or load C++/CUDA extensions; use the program's pure-PyTorch code path instead
"""

from __future__ import annotations

import shutil
import sys

__all__ = [
    "BuildExtension",
    "CUDAExtension",
    "CUDA_HOME",
    "CppExtension",
    "ROCM_HOME",
    "SYCL_HOME",
    "SyclExtension",
    "include_paths",
    "is_ninja_available",
    "library_paths",
    "load",
    "load_inline",
    "verify_ninja_availability",
]

# No toolkit is ever usable with glassgrad, so these read as on a machine without one.
CUDA_HOME = None
ROCM_HOME = None
SYCL_HOME = None
CUDNN_HOME = None
HIP_HOME = None
IS_HIP_EXTENSION = False
IS_WINDOWS = sys.platform == "win32"
IS_MACOS = sys.platform.startswith("darwin")
IS_LINUX = sys.platform.startswith("linux")


def _refuse(what: str) -> RuntimeError:
    return RuntimeError(
        f"cpp_extension.{what}: glassgrad runs on NumPy and cannot compile or load C++/CUDA "
        "extensions; use the program's pure-PyTorch code path instead"
    )


def load(name, sources, *args, **kwargs):
    """Refuse: PyTorch compiles ``sources`` into a module; glassgrad has no C++ ABI to build on."""
    raise _refuse(f"load(name={name!r})")


def load_inline(name, cpp_sources, *args, **kwargs):
    """Refuse, as ``load``: inline C++/CUDA sources cannot be compiled against glassgrad."""
    raise _refuse(f"load_inline(name={name!r})")


def include_paths(device_type: str = "cpu", torch_include_dirs: bool = True, **kwargs) -> list[str]:
    """Header folders to compile against: none, since glassgrad ships no C++ headers."""
    return []


def library_paths(device_type: str = "cpu", torch_include_dirs: bool = True, **kwargs) -> list[str]:
    """Library folders to link against: none, since glassgrad ships no shared libraries."""
    return []


def is_ninja_available() -> bool:
    """Whether the ``ninja`` build tool is on ``PATH`` (as PyTorch answers)."""
    return shutil.which("ninja") is not None


def verify_ninja_availability() -> None:
    """Raise ``RuntimeError`` when ``ninja`` is not on ``PATH``."""
    if not is_ninja_available():
        raise RuntimeError("Ninja is required to load C++ extensions")


def CppExtension(name, sources, *args, **kwargs):  # noqa: N802 - PyTorch's name
    """Refuse: a setuptools extension built against glassgrad could not link to anything."""
    raise _refuse(f"CppExtension(name={name!r})")


def CUDAExtension(name, sources, *args, **kwargs):  # noqa: N802 - PyTorch's name
    """Refuse, as ``CppExtension``."""
    raise _refuse(f"CUDAExtension(name={name!r})")


def SyclExtension(name, sources, *args, **kwargs):  # noqa: N802 - PyTorch's name
    """Refuse, as ``CppExtension``."""
    raise _refuse(f"SyclExtension(name={name!r})")


class BuildExtension:
    """The ``build_ext`` command class of a ``setup.py``; refuses when constructed."""

    @classmethod
    def with_options(cls, **options):
        return cls

    def __init__(self, *args, **kwargs):
        raise _refuse("BuildExtension")
