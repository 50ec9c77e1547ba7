"""``get_device_states`` / ``set_device_states`` of ``torch.utils.checkpoint``: the RNG states of
the accelerators that a checkpointed (or reversible) block's inputs live on, saved at forward and
put back for the rerun, so that dropout there draws the same masks.

glassgrad's tensors are all on the CPU (or meta), whose generator the caller saves with
``get_rng_state``; those devices are skipped, as in PyTorch, so the lists are empty:

>>> import glassgrad as gg
>>> from glassgrad.utils.checkpoint import get_device_states, set_device_states
>>> get_device_states(gg.ones(2), [gg.zeros(3)], "not a tensor")
([], [])
>>> set_device_states([], [])
"""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

from glassgrad import random as _random
from glassgrad.autograd.function import _tensor_cls
from glassgrad.utils._pytree import tree_leaves

__all__ = ["DefaultDeviceType", "get_device_states", "rng_as_in_forward", "set_device_states"]


class DefaultDeviceType:
    """The device type whose RNG state a checkpoint keeps when its inputs are all on the CPU:
    ``"cpu"`` until set (PyTorch's default without an accelerator; glassgrad has none)."""

    _default_device_type: str | None = None

    @staticmethod
    def set_device_type(device: str = "cuda") -> None:
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type() -> str:
        if not DefaultDeviceType._default_device_type:
            DefaultDeviceType._default_device_type = "cpu"
        return DefaultDeviceType._default_device_type


def _infer_device_type(*args: Any) -> str:
    """The device type whose RNG state a checkpoint of ``args`` (nested anywhere) keeps, as
    PyTorch's private helper that its tests import: the first non-CPU tensor's (``"meta"``), else
    ``DefaultDeviceType``'s; a warning when the non-CPU tensors sit on two types of devices."""
    tensor = _tensor_cls[0]
    found = [a.device.type for a in tree_leaves(args) if isinstance(a, tensor) and a.device.type != "cpu"]
    if len(set(found)) > 1:
        warnings.warn(
            "Tensor arguments, excluding CPU tensors, are detected on at least two types of devices. "
            "Device state will only be saved for devices of a single device type, and the remaining "
            "devices will be ignored. Consequently, if any checkpointed functions involve randomness, "
            "this may result in incorrect gradients. (Note that if CUDA devices are among the devices "
            "detected, it will be prioritized; otherwise, the first device encountered will be selected.)"
            f"\nDevice types: {sorted(set(found))} first device type: {found[0]}",
            stacklevel=2,
        )
    if not found:
        return DefaultDeviceType.get_device_type()
    return "cuda" if "cuda" in found else found[0]


def get_device_states(*args: Any) -> tuple[list[int], list[Any]]:
    """``(device ids, RNG states)`` of the non-CPU, non-meta devices holding tensors in ``args``
    (nested anywhere): none in glassgrad, so ``([], [])``."""
    return [], []


def set_device_states(devices: list[int], states: list[Any], *, device_type: str | None = None) -> None:
    """Put back the RNG ``states`` of ``devices`` (from ``get_device_states``); the empty lists it
    returns set nothing. Device ids from elsewhere name a device glassgrad cannot reach."""
    if device_type == "meta":
        return
    devices = list(devices)
    if devices:
        raise RuntimeError(
            f"set_device_states(devices={devices}, device_type={device_type!r}): glassgrad has no "
            "device generator besides the CPU's (set it with glassgrad.set_rng_state); expected the "
            "empty lists get_device_states returns"
        )


@contextlib.contextmanager
def rng_as_in_forward(state: dict | None) -> Iterator[None]:
    """Run the body from the forward's RNG state (if kept), then give the caller's state back."""
    if state is None:
        yield
        return
    caller = _random.get_rng_state()
    _random.set_rng_state(state)
    try:
        yield
    finally:
        _random.set_rng_state(caller)
