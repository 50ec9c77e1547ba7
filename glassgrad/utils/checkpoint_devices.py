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
from typing import Any, Iterator

from glassgrad import random as _random

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
