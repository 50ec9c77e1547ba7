"""``torch.nn.parallel._functions``: the autograd functions that move tensors between GPUs.

Third-party code imports them by name (the widely copied ``sync_batchnorm`` package takes
``Broadcast`` and ``ReduceAddCoalesced`` from here) and only calls them when a module runs
replicated across several GPUs. glassgrad's tensors all live on the CPU, so, as in PyTorch's CPU
build, importing works and calling ``apply`` raises ``AssertionError``.

>>> from glassgrad.nn.parallel._functions import Broadcast
>>> issubclass(Broadcast, __import__("glassgrad").autograd.Function)
True
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.custom import Function

__all__ = ["Broadcast", "Gather", "ReduceAddCoalesced", "Scatter"]


def _no_accelerator(name: str, inputs: tuple) -> AssertionError:
    shapes = [tuple(t.shape) for t in inputs if hasattr(t, "shape")]
    return AssertionError(
        f"nn.parallel._functions.{name}: moves tensors between GPUs, but glassgrad has only the "
        f"CPU (got CPU tensors of shapes {shapes}); run the module unreplicated instead"
    )


class Broadcast(Function):
    """``Broadcast.apply(target_gpus, *inputs)``: copies of ``inputs`` on each GPU (refused)."""

    @staticmethod
    def forward(ctx: Any, target_gpus: Any, *inputs: Any) -> Any:
        raise _no_accelerator("Broadcast", inputs)


class ReduceAddCoalesced(Function):
    """``ReduceAddCoalesced.apply(destination, num_inputs, *grads)``: sums across GPUs (refused)."""

    @staticmethod
    def forward(ctx: Any, destination: Any, num_inputs: int, *grads: Any) -> Any:
        raise _no_accelerator("ReduceAddCoalesced", grads)


class Gather(Function):
    """``Gather.apply(target_device, dim, *inputs)``: concatenation onto one GPU (refused)."""

    @staticmethod
    def forward(ctx: Any, target_device: Any, dim: int, *inputs: Any) -> Any:
        raise _no_accelerator("Gather", inputs)


class Scatter(Function):
    """``Scatter.apply(target_gpus, chunk_sizes, dim, tensor)``: chunks sent to GPUs (refused)."""

    @staticmethod
    def forward(ctx: Any, target_gpus: Any, chunk_sizes: Any, dim: int, tensor: Any) -> Any:
        raise _no_accelerator("Scatter", (tensor,))
