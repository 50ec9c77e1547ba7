"""``torch.nn.quantized``'s float-side helpers: ``FloatFunctional`` and ``FXFloatFunctional``.

Dense-prediction heads (MiDaS, DPT, Depth Anything, ZoeDepth) build their residual sums through
``nn.quantized.FloatFunctional().add`` so that a later quantization pass can observe them; in float
they are the plain ops. glassgrad has no quantized dtypes, so the quantized layers themselves
(``Quantize``, ``QFunctional``, quantized ``Conv2d`` ...) are not here.

>>> import glassgrad as gg
>>> f = FloatFunctional()
>>> f.add(gg.tensor([1.0, 2.0]), gg.tensor([3.0, 4.0]))
tensor([4., 6.])
"""

from __future__ import annotations

from typing import Any

# the ops are looked up on glassgrad per call, as torch.add: they carry __torch_function__ dispatch
import glassgrad as _gg
from glassgrad.nn.functional import relu as _relu
from glassgrad.nn.linear import Identity
from glassgrad.nn.module import Module

__all__ = ["FloatFunctional", "FXFloatFunctional"]


class FloatFunctional(Module):
    """Holds an ``activation_post_process`` (an ``Identity``) that observes each result, as
    PyTorch's; ``forward`` is not meant to be called. Shapes follow the wrapped op."""

    def __init__(self) -> None:
        super().__init__()
        self.activation_post_process = Identity()

    def forward(self, x: Any) -> Any:
        raise RuntimeError(
            "FloatFunctional is not intended to use the 'forward'. Please use the underlying operation"
        )

    def add(self, x: Any, y: Any) -> Any:
        return self.activation_post_process(_gg.add(x, y))

    def add_scalar(self, x: Any, y: float) -> Any:
        # PyTorch leaves the scalar forms unobserved (the quantized op needs no observer)
        return _gg.add(x, y)

    def mul(self, x: Any, y: Any) -> Any:
        return self.activation_post_process(_gg.mul(x, y))

    def mul_scalar(self, x: Any, y: float) -> Any:
        return _gg.mul(x, y)

    def cat(self, x: Any, dim: int = 0) -> Any:
        return self.activation_post_process(_gg.cat(x, dim=dim))

    def add_relu(self, x: Any, y: Any) -> Any:
        return self.activation_post_process(_relu(_gg.add(x, y)))

    def matmul(self, x: Any, y: Any) -> Any:
        return self.activation_post_process(_gg.matmul(x, y))


class FXFloatFunctional(Module):
    """FX-graph-mode twin of ``FloatFunctional``: the same ops, without the observer."""

    def forward(self, x: Any) -> Any:
        raise RuntimeError(
            "FloatFunctional is not intended to use the 'forward'. Please use the underlying operation"
        )

    def add(self, x: Any, y: Any) -> Any:
        return _gg.add(x, y)

    def add_scalar(self, x: Any, y: float) -> Any:
        return _gg.add(x, y)

    def mul(self, x: Any, y: Any) -> Any:
        return _gg.mul(x, y)

    def mul_scalar(self, x: Any, y: float) -> Any:
        return _gg.mul(x, y)

    def cat(self, x: Any, dim: int = 0) -> Any:
        return _gg.cat(x, dim=dim)

    def add_relu(self, x: Any, y: Any) -> Any:
        return _relu(_gg.add(x, y))

    def matmul(self, x: Any, y: Any) -> Any:
        return _gg.matmul(x, y)
