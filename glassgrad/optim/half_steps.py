"""Float16 optimizer steps as PyTorch's single-tensor (non-foreach, non-fused) CPU steps round them.

Each PyTorch op on a float16 tensor reads its operands into float32, computes, and rounds to float16
once. NumPy's float16 ``theta -= lr * g`` rounds the product and then the difference, and rounds a
Python number to float16 before using it: after three steps of small gradients Adagrad was up to
193 ulps from PyTorch, Adamax 154, Adadelta 80, RAdam 24, ASGD 10, and RMSprop's few-ulp
differences in its step counted tens of thousands of ulps at parameters that crossed zero. (Its
default eps of 1e-8 is 0 in float16, in both libraries: a square_avg that underflows divides by
zero, as PyTorch's does.) The helpers below model PyTorch's kernels op by op (checked
bit for bit against PyTorch 2.13 on 4,096 elements in four value ranges); the ``*_half`` steps
compose them in the order of ``torch/optim/<name>.py``'s ``_single_tensor_<name>``.

All arrays are float16 of the parameter's shape; the steps write θ and the state in place.
"""

from __future__ import annotations

from operator import mul, truediv
from typing import Any

import numpy as np

from glassgrad.backend import array_module
from glassgrad.ops.half_precision import HALF, axpy_half, by_number

__all__ = [
    "half_step_ok",
    "addcmul_half",
    "addcdiv_half",
    "add_number_half",
    "lerp_half",
    "adagrad_half",
    "adamax_half",
    "adadelta_half",
    "rmsprop_half",
    "radam_half",
    "asgd_half",
]

F32, F64 = np.float32, np.float64


def half_step_ok(group: dict, theta: Any, g: Any, *states: Any) -> bool:
    """Whether the step of ``theta`` takes the float16 path: it, its gradient and its state arrays
    all float16 (state made before ``model.half()`` keeps its dtype and promotes, on the general
    path), and the group neither fused (float32 throughout) nor foreach (other kernels)."""
    if theta.dtype is not HALF or g.dtype is not HALF or group.get("fused") or group.get("foreach"):
        return False
    return all(s.dtype is HALF for s in states)


def _fma(x: Any, y: Any, z: Any) -> Any:
    """``x * y + z`` for float32 arrays, rounded to float32 once (the vectorized kernels' fmadd): the
    product of two float32 numbers is exact in float64."""
    return (x.astype(F64) * y + z).astype(F32)


def addcmul_half(s: Any, t1: Any, t2: Any, value: float) -> Any:
    """``s.addcmul(t1, t2, value=value)``: ``fma(value * t1, t2, s)`` in float32, value as float32."""
    return _fma(F32(value) * t1.astype(F32), t2.astype(F32), s.astype(F32)).astype(HALF)


def addcdiv_half(s: Any, t1: Any, t2: Any, value: float) -> Any:
    """``s.addcdiv(t1, t2, value=value)``: ``s + value * t1 / t2`` in float32, value as float32."""
    return (s.astype(F32) + F32(value) * t1.astype(F32) / t2.astype(F32)).astype(HALF)


def add_number_half(x: Any, s: float) -> Any:
    """``x.add(s)`` for a Python number ``s``: PyTorch rounds the number to float16 first (an eps of
    1e-8 or 1e-10 is then 0), adds in float32 and rounds once."""
    return (x.astype(F32) + F32(np.float16(s))).astype(HALF)


def lerp_half(start: Any, end: Any, weight: float) -> Any:
    """``start.lerp(end, weight)``: ``fma(w, end - start, start)`` for |w| < 0.5, else
    ``fma(w - 1, end - start, end)`` (so w = 1 gives ``end``), in float32, rounded once."""
    a, b = start.astype(F32), end.astype(F32)
    w = F32(weight)
    return (_fma(w, b - a, a) if abs(w) < 0.5 else _fma(w - 1, b - a, b)).astype(HALF)


def adagrad_half(theta: Any, g: Any, s: Any, clr: float, eps: float) -> None:
    """``s.addcmul_(g, g)``, ``std = s.sqrt().add_(ε)``, ``θ.addcdiv_(g, std, value=−clr)``."""
    s[...] = addcmul_half(s, g, g, 1)
    theta[...] = addcdiv_half(theta, g, add_number_half(array_module(s).sqrt(s), eps), -clr)


def adamax_half(
    theta: Any, g: Any, m: Any, u: Any, beta1: float, beta2: float, eps: float, clr: float
) -> None:
    """``m.lerp_(g, 1 − β₁)``, ``u = max(u.mul_(β₂), |g|.add_(ε))``, ``θ.addcdiv_(m, u, value=−clr)``."""
    xp = array_module(u)
    m[...] = lerp_half(m, g, 1 - beta1)
    xp.maximum(by_number(mul, u, beta2), add_number_half(xp.abs(g), eps), out=u)
    theta[...] = addcdiv_half(theta, m, u, -clr)


def adadelta_half(theta: Any, g: Any, v: Any, u: Any, rho: float, eps: float, lr: float) -> None:
    """``v.mul_(ρ).addcmul_(g, g, value=1 − ρ)``, Δ = √(u + ε) / √(v + ε) · g (each op rounded),
    ``u.mul_(ρ).addcmul_(Δ, Δ, value=1 − ρ)``, ``θ.add_(Δ, alpha=−lr)``."""
    xp = array_module(v)
    v[...] = addcmul_half(by_number(mul, v, rho), g, g, 1 - rho)
    std = xp.sqrt(add_number_half(v, eps))
    delta = xp.sqrt(add_number_half(u, eps)) / std * g  # (float16 tensor ops: rounded once each)
    u[...] = addcmul_half(by_number(mul, u, rho), delta, delta, 1 - rho)
    theta[...] = axpy_half(theta, delta, -lr)


def rmsprop_half(
    theta: Any, g: Any, v: Any, g_avg: Any, buf: Any, alpha: float, eps: float, mu: float, lr: float
) -> None:
    """``v.mul_(α).addcmul_(g, g, value=1 − α)``; centered (``g_avg`` not None): ``g_avg.lerp_(g,
    1 − α)`` and avg = √(v.addcmul(ḡ, ḡ, value=−1)), else √v; ``avg.add_(ε)``; with momentum
    (``buf`` not None) ``buf.mul_(μ).addcdiv_(g, avg)`` and ``θ.add_(buf, alpha=−lr)``, else
    ``θ.addcdiv_(g, avg, value=−lr)``."""
    xp = array_module(v)
    v[...] = addcmul_half(by_number(mul, v, alpha), g, g, 1 - alpha)
    if g_avg is not None:
        g_avg[...] = lerp_half(g_avg, g, 1 - alpha)
        avg = xp.sqrt(addcmul_half(v, g_avg, g_avg, -1))
    else:
        avg = xp.sqrt(v)
    avg = add_number_half(avg, eps)
    if buf is not None:
        buf[...] = addcdiv_half(by_number(mul, buf, mu), g, avg, 1)
        theta[...] = axpy_half(theta, buf, -lr)
    else:
        theta[...] = addcdiv_half(theta, g, avg, -lr)


def radam_half(
    theta: Any, g: Any, m: Any, v: Any, beta1: float, beta2: float, eps: float, lr: float, t: float
) -> None:
    """``m.lerp_(g, 1 − β₁)``, ``v.mul_(β₂).addcmul_(g, g, value=1 − β₂)``, then ``θ.add_(m / bc₁ * lr
    * (√bc₂ / √v.add_(ε)) * r, alpha=−1)`` once ρₜ > 5, else ``θ.add_(m / bc₁ * lr, alpha=−1)``;
    PyTorch's ``number / tensor`` is ``tensor.reciprocal() * number`` (two roundings)."""
    m[...] = lerp_half(m, g, 1 - beta1)
    v[...] = addcmul_half(by_number(mul, v, beta2), g, g, 1 - beta2)
    bc2 = 1 - beta2**t
    update = by_number(mul, by_number(truediv, m, 1 - beta1**t), lr)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2**t) / bc2
    if rho_t > 5.0:
        adaptive = by_number(mul, 1 / add_number_half(array_module(v).sqrt(v), eps), bc2**0.5)
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        update = by_number(mul, update * adaptive, rect)
    theta[...] = axpy_half(theta, update, -1.0)


def asgd_half(theta: Any, g: Any, ax: Any, lambd: float, eta: float, mu: float) -> None:
    """``θ.mul_(1 − λη)``, ``θ.add_(g, alpha=−η)``, then ``ax.add_(θ.sub(ax).mul_(μ))`` (μ ≠ 1) or
    ``ax.copy_(θ)``; η and μ are the state's float32 values read as numbers."""
    theta[...] = axpy_half(by_number(mul, theta, 1 - lambd * eta), g, -eta)
    if mu != 1:
        ax += by_number(mul, theta - ax, mu)
    else:
        ax[...] = theta
