"""``torch.utils._device``: the factories a default device applies to, and ``DeviceContext``.

PyTorch's module behind ``with torch.device(...)`` / ``set_default_device``. Programs of the
lit-llama / lit-gpt family (TinyLlama among them) ``import torch.utils._device`` at the top of
their ``utils.py`` and read ``_device_constructors()`` in their own ``TorchFunctionMode``
(``EmptyInitOnDevice``): ``func in torch.utils._device._device_constructors()``. Here the set
holds glassgrad's public factories, the same objects a mode's ``__torch_function__`` receives.
``DeviceContext`` enters glassgrad's own default-device scope (``glassgrad.device``), so the
factories inside make their tensors there (the CPU or ``meta``; other devices are refused as
``with glassgrad.device(...)`` refuses them).

>>> import glassgrad as gg
>>> import glassgrad.utils._device as _device
>>> gg.empty in _device._device_constructors(), gg.zeros_like in _device._device_constructors()
(True, False)
>>> with _device.DeviceContext("meta"):
...     gg.ones(2).device
device(type='meta')
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import glassgrad as _gg
from glassgrad.device import device as _gg_device
from glassgrad.overrides import TorchFunctionMode
from glassgrad.utils._contextlib import context_decorator

__all__ = ["CURRENT_DEVICE", "DeviceContext", "device_decorator", "set_device"]

#: The device of the innermost entered ``DeviceContext`` (None outside any), as PyTorch keeps it.
CURRENT_DEVICE: Any = None

# PyTorch's list (torch/utils/_device.py): the factories that take ``device=`` and honour the default
# device; the ``*_like`` ones are left out there too (they follow their input's device)
_CONSTRUCTOR_NAMES = (
    "empty", "empty_permuted", "empty_strided", "empty_quantized", "ones", "arange", "bartlett_window",
    "blackman_window", "eye", "full", "hamming_window", "hann_window", "kaiser_window", "linspace",
    "logspace", "rand", "randn", "randint", "randperm", "range", "sparse_coo_tensor",
    "sparse_compressed_tensor", "sparse_csr_tensor", "sparse_csc_tensor", "sparse_bsr_tensor",
    "sparse_bsc_tensor", "tril_indices", "triu_indices", "zeros", "asarray", "tensor", "as_tensor",
    "scalar_tensor",
)  # fmt: skip
_FFT_CONSTRUCTOR_NAMES = ("fftfreq", "rfftfreq")


@functools.lru_cache(1)
def _device_constructors() -> set:
    """The public factory functions a default device applies to (those glassgrad has)."""
    found = [getattr(_gg, name, None) for name in _CONSTRUCTOR_NAMES]
    found += [getattr(_gg.fft, name, None) for name in _FFT_CONSTRUCTOR_NAMES]
    nested = getattr(_gg, "nested", None)
    found.append(getattr(nested, "nested_tensor", None))
    return {fn for fn in found if fn is not None}


class DeviceContext(TorchFunctionMode):
    """``with DeviceContext(device):`` makes factories called without ``device=`` build there.

    Entering opens glassgrad's default-device scope (as ``with glassgrad.device(device)``);
    pushed as a mode instead (``DeviceContext(d).push()``-style use through ``__torch_function__``)
    it fills ``device=`` into the constructors' keywords, as PyTorch's does."""

    def __init__(self, device: Any) -> None:
        super().__init__()
        self.device = _gg_device(device)
        self.old_device: Any = None

    def __enter__(self) -> None:  # PyTorch's gives None to ``as``
        global CURRENT_DEVICE
        self.device.__enter__()
        self.old_device, CURRENT_DEVICE = CURRENT_DEVICE, self.device

    def __exit__(self, *exc: Any) -> None:
        global CURRENT_DEVICE
        CURRENT_DEVICE = self.old_device
        self.device.__exit__(*exc)

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func in _device_constructors() and kwargs.get("device") is None:
            kwargs["device"] = self.device
        return func(*args, **kwargs)


def device_decorator(device: Any, func: Callable) -> Callable:
    """``func`` run inside ``DeviceContext(device)`` on each call."""
    return context_decorator(lambda: DeviceContext(device), func)


def set_device(device: Any) -> Callable:
    """A decorator: the function's factories default to ``device`` (``@set_device("meta")``)."""
    return lambda func: device_decorator(_gg_device(device), func)
