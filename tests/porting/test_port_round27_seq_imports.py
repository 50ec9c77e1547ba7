"""Round 27 (sooftware/conformer, NX-AI/xlstm, lucidrains/performer-pytorch): import paths.

- xlstm's sLSTM cell does ``from torch.utils.cpp_extension import load`` at import time (it only
  compiles its CUDA kernel when CUDA is available, else runs its "vanilla" PyTorch backend):
  glassgrad had no ``utils.cpp_extension``, so the whole package failed to import.
- performer-pytorch does ``from torch.cuda.amp import autocast``. ``torch.cuda`` (and
  ``torch.cuda.amp``, ``torch.cpu``, ``torch.nn.attention``, ``torch.nn.parallel``,
  ``torch.utils.benchmark.utils``) are packages in PyTorch; glassgrad's were plain modules with
  their submodules registered in ``sys.modules``, so an import hook that maps ``torch.X`` onto
  ``glassgrad.X`` stopped at "'torch.cuda' is not a package".
"""

import importlib
import importlib.abc
import importlib.util
import sys

import pytest

import glassgrad as gg

PACKAGES = ["cuda", "cuda.amp", "cpu", "nn.attention", "nn.parallel", "utils.benchmark.utils", "utils", "nn"]


@pytest.mark.parametrize("name", PACKAGES)
def test_packages_as_torch(torch, name):
    want = hasattr(importlib.import_module("torch." + name), "__path__")
    assert hasattr(importlib.import_module("glassgrad." + name), "__path__") == want


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``ggalias.X`` is ``glassgrad.X``: the porting harness's import change, under another name."""

    def find_spec(self, name, path=None, target=None):
        if name == "ggalias" or name.startswith("ggalias."):
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        real = importlib.import_module("glassgrad" + spec.name[len("ggalias") :])
        sys.modules[spec.name] = real
        return real

    def exec_module(self, module):
        pass


@pytest.fixture
def alias():
    finder = _Alias()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        for k in [k for k in sys.modules if k == "ggalias" or k.startswith("ggalias.")]:
            del sys.modules[k]


@pytest.mark.parametrize(
    "path, attr",
    [
        ("cuda.amp", "autocast"),
        ("cuda.amp.grad_scaler", "GradScaler"),
        ("cpu.amp", "autocast"),
        ("nn.attention.flex_attention", "flex_attention"),
        ("nn.attention.bias", "causal_lower_right"),
        ("nn.parallel.distributed", "DistributedDataParallel"),
        ("utils.benchmark.utils.common", "Measurement"),
        ("utils.cpp_extension", "load"),
    ],
)
def test_submodules_import_through_a_torch_alias(alias, path, attr):
    mod = importlib.import_module("ggalias." + path)
    assert mod is importlib.import_module("glassgrad." + path)
    assert hasattr(mod, attr)


def test_cpp_extension_imports_and_refuses_to_build(torch):
    from torch.utils import cpp_extension as tc

    from glassgrad.utils import cpp_extension as gc

    assert gc.CUDA_HOME is None and gc.ROCM_HOME is None
    assert tc.ROCM_HOME is None  # this PyTorch is a CPU build, as glassgrad always is
    assert isinstance(gc.include_paths(), list) and isinstance(gc.include_paths(device_type="cuda"), list)
    assert isinstance(gc.library_paths(), list)
    assert gc.is_ninja_available() == tc.is_ninja_available()
    for call, name in [
        (
            lambda: gc.load(name="slstm_kernel", sources=["slstm.cc"], verbose=True),
            r"load\(name='slstm_kernel'\)",
        ),
        (lambda: gc.load_inline("k", cpp_sources="int f();", functions=["f"]), r"load_inline\(name='k'\)"),
        (lambda: gc.CppExtension("ext", ["ext.cpp"]), r"CppExtension\(name='ext'\)"),
        (lambda: gc.CUDAExtension("ext", ["ext.cu"]), r"CUDAExtension\(name='ext'\)"),
        (lambda: gc.BuildExtension.with_options(use_ninja=False)(), "BuildExtension"),
    ]:
        with pytest.raises(
            RuntimeError, match=r"^cpp_extension\." + name + ".*cannot compile or load C\\+\\+/CUDA"
        ):
            call()


def test_xlstm_style_guarded_import():
    """xlstm's cuda_init.py: import ``load`` unconditionally, compile only when CUDA is there."""
    from glassgrad.utils.cpp_extension import load as _load

    built = _load("never", ["x.cc"]) if gg.cuda.is_available() else None
    assert built is None
