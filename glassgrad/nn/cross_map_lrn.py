"""``CrossMapLRN2d``: PyTorch's legacy (Lua Torch) cross-channel local response normalization.

It is not ``LocalResponseNorm``: PyTorch computes it with an autograd Function of its own
(``torch.nn._functions.CrossMapLRN2d``) whose forward and backward are followed here step by step,
the same sums in the same order, so values and gradients are PyTorch's:

- forward: ``scale[c] = k + alpha / size * S[c]`` and ``out = input * scale ** -beta``, where ``S``
  is a running sum of squares over channels: ``S[0]`` adds the first ``pre_pad = (size - 1) // 2 + 1``
  squares; each next channel adds the square ``pre_pad - 1`` ahead and removes the one ``pre_pad``
  behind only once ``c > pre_pad`` (so channel 0's square is never removed: PyTorch's window);
- backward: ``grad_in = scale ** -beta * g - 2 alpha beta / size * input * A`` with ``A[c]`` the sum
  of ``g * out / scale`` over a symmetric window of ``size`` channels, the derivative of a symmetric
  window, not of the forward above. As in PyTorch it is therefore not the forward's exact gradient
  (PyTorch's own ``gradcheck`` fails), and ``size=1`` fails in backward as PyTorch's does.
"""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.custom import Function
from glassgrad.factories_like import zeros_like
from glassgrad.nn.module import Module
from glassgrad.ops.joining import stack
from glassgrad.tensor import Tensor

__all__ = ["CrossMapLRN2d"]


class _CrossMapLRN2dFunction(Function):
    """PyTorch's ``torch.nn._functions.CrossMapLRN2d`` (see the module docstring)."""

    @staticmethod
    def forward(ctx: Any, input: Tensor, size: int, alpha: float, beta: float, k: float) -> Tensor:  # noqa: A002
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        channels = input.shape[1]
        square = input * input
        pre_pad = int((size - 1) / 2 + 1)
        sums = [zeros_like(square[:, 0])]  # zero_(), as PyTorch (0 * inf would be nan)
        for c in range(min(pre_pad, channels)):
            sums[0] = sums[0] + square[:, c]
        for c in range(1, channels):
            cur = sums[-1]
            if c < channels - pre_pad + 1:
                cur = cur + square[:, c + pre_pad - 1]
            if c > pre_pad:
                cur = cur - square[:, c - pre_pad]
            sums.append(cur)
        scale = _stack(sums) * (alpha / size) + k
        output = scale.pow(-beta) * input
        ctx.lrn = (size, alpha, beta, scale)
        ctx.save_for_backward(input, output)
        return output

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple:
        size, alpha, beta, scale = ctx.lrn
        input, output = ctx.saved_tensors  # noqa: A001
        channels = input.shape[1]
        inverse_pre_pad = int(size - (size - 1) / 2)
        if inverse_pre_pad + channels > channels + size - 1:
            raise RuntimeError(
                f"CrossMapLRN2d backward: size={size} leaves no room for the {channels} channels' "
                f"window (PyTorch's kernel fails here too: start ({inverse_pre_pad}) + length "
                f"({channels}) exceeds dimension size ({channels + size - 1}))"
            )
        cache_ratio = 2 * alpha * beta / size
        grad_input = scale.pow(-beta) * grad_output
        ratio = grad_output * output / scale  # (N, C, H, W): the padded buffer's centre
        zero = zeros_like(ratio[:, 0])

        def padded(i: int) -> Tensor:  # channel i of the zero-padded (C + size - 1) buffer
            j = i - inverse_pre_pad
            return ratio[:, j] if 0 <= j < channels else zero

        accum = zero
        for i in range(size - 1):
            accum = accum + padded(i)
        rows = []
        for c in range(channels):
            accum = accum + padded(c + size - 1)
            rows.append(grad_input[:, c] + input[:, c] * -cache_ratio * accum)  # addcmul's order
            accum = accum - padded(c)
        return _stack(rows), None, None, None, None


def _stack(slices: list) -> Tensor:
    """The per-channel ``(N, H, W)`` slices as one ``(N, C, H, W)`` tensor."""
    return stack(slices, 1)


class CrossMapLRN2d(Module):
    """PyTorch's legacy cross-channel LRN over a 4D ``(N, C, H, W)`` input (see the module docstring).

    >>> CrossMapLRN2d(5)
    CrossMapLRN2d(5, alpha=0.0001, beta=0.75, k=1)
    """

    size: int
    alpha: float
    beta: float
    k: float

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
        if not isinstance(input, Tensor):
            raise TypeError(f"CrossMapLRN2d: expected a Tensor input, got {type(input).__name__}")
        return _CrossMapLRN2dFunction.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
