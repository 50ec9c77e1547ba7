"""Which implementations ``scaled_dot_product_attention`` may use: ``torch.nn.attention``'s
``SDPBackend`` and ``sdpa_kernel``, and ``torch.backends.cuda``'s ``enable_*_sdp`` switches.

PyTorch picks among several kernels (flash, memory-efficient, cuDNN, the math composite) and
``sdpa_kernel`` restricts the choice. glassgrad has one implementation, the math composite, so
the switches decide only whether it may run. It stands in for PyTorch's CPU kernels: MATH, and
FLASH_ATTENTION where PyTorch's CPU flash kernel takes the inputs (``flash_cpu``); inputs with an
empty query, key or value run whatever is enabled, as PyTorch returns them before choosing a
kernel. Otherwise ``scaled_dot_product_attention`` raises ``RuntimeError`` as PyTorch does when no
enabled backend can take the inputs (so a script that tries each backend in a ``try`` reports
flash as running and the memory-efficient and cuDNN kernels as unsupported, as PyTorch on a CPU).

The output's memory layout follows PyTorch's default CPU dispatch (``query_layout``): where
PyTorch would run its flash kernel (4-D inputs, no dropout, E == Ev, non-empty, unit stride on
the last dim, FLASH enabled), the output is laid out in memory as the query is, so the common
``sdpa(q, k, v).transpose(1, 2).view(N, L, H * E)`` after ``q = x.view(N, L, H, E).transpose(1, 2)``
works as in PyTorch; elsewhere (PyTorch's math kernel) it is contiguous.

>>> import glassgrad as gg
>>> import glassgrad.nn.functional as F
>>> from glassgrad.nn.attention import SDPBackend, sdpa_kernel
>>> q = gg.ones(1, 2, 4)
>>> with sdpa_kernel(SDPBackend.MATH):
...     F.scaled_dot_product_attention(q, q, q).shape
glassgrad.Size([1, 2, 4])
>>> with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):  # 3-D: PyTorch's flash kernel wants 4-D
...     F.scaled_dot_product_attention(q, q, q)
Traceback (most recent call last):
...
RuntimeError: scaled_dot_product_attention: no enabled backend takes these inputs: got only [SDPBackend.FLASH_ATTENTION] enabled, and glassgrad runs SDPBackend.MATH, or SDPBackend.FLASH_ATTENTION where PyTorch's CPU flash kernel would (4-D query, key and value with one batch size and head count, no dropout, E == Ev, unit stride on the last dim, a 2-D or 4-D mask without grad); query (1, 2, 4), key (1, 2, 4), value (1, 2, 4), dropout_p 0.0
"""

from __future__ import annotations

import contextlib
import enum
import warnings
from collections.abc import Iterable, Iterator

import numpy as np

from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

#: torch.backends.cuda's switches over the same table (glassgrad.backends sets them on its `cuda`)
SWITCHES = (
    "math_sdp_enabled",
    "flash_sdp_enabled",
    "mem_efficient_sdp_enabled",
    "cudnn_sdp_enabled",
    "enable_math_sdp",
    "enable_flash_sdp",
    "enable_mem_efficient_sdp",
    "enable_cudnn_sdp",
)

__all__ = [
    "SDPBackend",
    "sdpa_kernel",
    "sdp_kernel",
    "enabled_backends",
    "check_math_enabled",
    *SWITCHES,
    "query_layout",
    "flash_cpu",
    "SWITCHES",
]


class SDPBackend(enum.IntEnum):
    """The attention implementations, with PyTorch's names and values; glassgrad runs only MATH."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


# One process-wide table, as PyTorch's global context flags (not per thread).
_ENABLED: dict[SDPBackend, bool] = {b: True for b in SDPBackend if b is not SDPBackend.ERROR}
# Read by scaled_dot_product_attention on every call: one list index instead of a dict lookup.
math_on = [True]


def enabled_backends() -> list[SDPBackend]:
    """The backends currently enabled, in PyTorch's order."""
    return [b for b, on in _ENABLED.items() if on]


def check_math_enabled(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    dropout_p: float,
    attn_mask: Tensor | None = None,
    enable_gqa: bool = False,
) -> None:
    """Raise ``RuntimeError`` unless an enabled backend takes these inputs: MATH; FLASH_ATTENTION
    where PyTorch's CPU flash kernel would run (``flash_cpu``); any, for an empty query, key or
    value (PyTorch returns those before it picks a kernel). glassgrad's math composite serves all."""
    if math_on[0] or 0 in (query.numel(), key.numel(), value.numel()):
        return
    if flash_cpu(query, key, value, dropout_p, attn_mask, enable_gqa):
        return
    raise RuntimeError(
        "scaled_dot_product_attention: no enabled backend takes these inputs: got only "
        f"[{', '.join(f'SDPBackend.{b.name}' for b in enabled_backends())}] enabled, and glassgrad "
        "runs SDPBackend.MATH, or SDPBackend.FLASH_ATTENTION where PyTorch's CPU flash kernel would "
        "(4-D query, key and value with one batch size and head count, no dropout, E == Ev, unit "
        "stride on the last dim, a 2-D or 4-D mask without grad); query "
        f"{tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}, dropout_p {dropout_p}"
    )


def _set(backend: SDPBackend, on: bool) -> None:
    _ENABLED[backend] = bool(on)
    math_on[0] = _ENABLED[SDPBackend.MATH]


def _as_backends(backends: SDPBackend | Iterable[SDPBackend]) -> list[SDPBackend]:
    items = [backends] if isinstance(backends, SDPBackend) else list(backends)
    for b in items:
        if not isinstance(b, SDPBackend):
            raise TypeError(f"sdpa_kernel: expected an SDPBackend or a list of them, got {type(b).__name__}")
        if b is SDPBackend.ERROR:
            raise ValueError("sdpa_kernel: expected a real backend, got SDPBackend.ERROR")
    return items


@contextlib.contextmanager
def sdpa_kernel(backends: SDPBackend | Iterable[SDPBackend], set_priority: bool = False) -> Iterator[None]:
    """Within the block, enable only ``backends`` (one or a list); the previous switches come
    back on exit, also after an exception. ``set_priority`` orders PyTorch's choice among several
    kernels; with one implementation there is nothing to order, so it is accepted and ignored."""
    if isinstance(backends, str) or not isinstance(backends, (SDPBackend, Iterable)):
        raise TypeError(
            f"sdpa_kernel: expected an SDPBackend or a list of them, got {type(backends).__name__}"
        )
    chosen = _as_backends(backends)
    saved = dict(_ENABLED)
    try:
        for b in _ENABLED:
            _set(b, b in chosen)
        yield
    finally:
        for b, on in saved.items():
            _set(b, on)


def sdp_kernel(
    enable_flash: bool = True,
    enable_math: bool = True,
    enable_mem_efficient: bool = True,
    enable_cudnn: bool = True,
) -> contextlib.AbstractContextManager[dict]:
    """``torch.backends.cuda.sdp_kernel``, the deprecated form of ``sdpa_kernel``: within the block
    each switch is on or off as its keyword says (gpt-fast's decode loop turns all but math off);
    the previous switches come back on exit. Warns ``FutureWarning`` when called, as PyTorch."""
    warnings.warn(
        "`torch.backends.cuda.sdp_kernel()` is deprecated: glassgrad accepts it, but use "
        "torch.nn.attention.sdpa_kernel(backends) instead, which takes a list of SDPBackend",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    return _switched(
        {
            SDPBackend.FLASH_ATTENTION: enable_flash,
            SDPBackend.MATH: enable_math,
            SDPBackend.EFFICIENT_ATTENTION: enable_mem_efficient,
            SDPBackend.CUDNN_ATTENTION: enable_cudnn,
        }
    )


@contextlib.contextmanager
def _switched(wanted: dict[SDPBackend, bool]) -> Iterator[dict]:
    saved = dict(_ENABLED)
    try:
        for b, on in wanted.items():
            _set(b, on)
        # PyTorch's context manager hands an empty dict to `as`
        yield {}
    finally:
        for b, on in saved.items():
            _set(b, on)


def math_sdp_enabled() -> bool:
    """``torch.backends.cuda.math_sdp_enabled``: whether the math implementation may run."""
    return _ENABLED[SDPBackend.MATH]


def flash_sdp_enabled() -> bool:
    """``torch.backends.cuda.flash_sdp_enabled`` (the switch only: glassgrad has no such kernel)."""
    return _ENABLED[SDPBackend.FLASH_ATTENTION]


def mem_efficient_sdp_enabled() -> bool:
    """``torch.backends.cuda.mem_efficient_sdp_enabled`` (the switch only)."""
    return _ENABLED[SDPBackend.EFFICIENT_ATTENTION]


def cudnn_sdp_enabled() -> bool:
    """``torch.backends.cuda.cudnn_sdp_enabled`` (the switch only)."""
    return _ENABLED[SDPBackend.CUDNN_ATTENTION]


def enable_math_sdp(enabled: bool) -> None:
    """``torch.backends.cuda.enable_math_sdp``: allow or forbid the math implementation."""
    _set(SDPBackend.MATH, enabled)


def enable_flash_sdp(enabled: bool) -> None:
    """``torch.backends.cuda.enable_flash_sdp`` (the switch only)."""
    _set(SDPBackend.FLASH_ATTENTION, enabled)


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """``torch.backends.cuda.enable_mem_efficient_sdp`` (the switch only)."""
    _set(SDPBackend.EFFICIENT_ATTENTION, enabled)


def enable_cudnn_sdp(enabled: bool) -> None:
    """``torch.backends.cuda.enable_cudnn_sdp`` (the switch only)."""
    _set(SDPBackend.CUDNN_ATTENTION, enabled)


def _memory_order(shape: tuple, strides: tuple) -> list[int]:
    """The dims from outermost to innermost in memory, as PyTorch infers a dense layout from a
    possibly non-dense tensor's strides (an insertion sort from the innermost dim; a stride of 0
    compares as a tie, and equal strides put the larger size outside)."""

    def outer(a: int, b: int) -> int:  # > 0: dim a lies outside dim b
        if strides[a] == 0 or strides[b] == 0:
            return 0
        if strides[a] != strides[b]:
            return 1 if strides[a] > strides[b] else -1
        return 1 if shape[a] > shape[b] else 0

    perm = list(range(len(shape)))[::-1]  # innermost first
    for i in range(1, len(perm)):
        j = i
        for k in range(i - 1, -1, -1):
            c = outer(perm[k], perm[j])
            if c > 0:
                perm[k], perm[j] = perm[j], perm[k]
                j = k
            elif c < 0:
                break
    return perm[::-1]


def _unit_last_stride(a) -> bool:
    """Whether the last dim steps one element at a time (PyTorch's flash kernel needs it)."""
    return a.shape[-1] <= 1 or a.strides[-1] == a.itemsize


def _flash_mask(mask: Tensor | None, q, k) -> bool:
    """PyTorch's ``check_attn_mask_shape``: no mask, or one without grad, (L or 1, S or 1) in its
    last dims, 2-D or 4-D with (N or 1, H or 1) in front."""
    if mask is None:
        return True
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if (isinstance(mask, Tensor) and mask.requires_grad) or m.ndim not in (2, 4):
        return False
    if m.shape[-2] not in (q.shape[-2], 1) or m.shape[-1] not in (k.shape[-2], 1):
        return False
    return m.ndim == 2 or (m.shape[0] in (q.shape[0], 1) and m.shape[1] in (q.shape[1], 1))


def flash_cpu(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    dropout_p: float,
    attn_mask: Tensor | None = None,
    enable_gqa: bool = False,
) -> bool:
    """Whether PyTorch's CPU dispatch runs its flash kernel on these inputs (else its math kernel):
    4-D inputs (N, H, L, E) without dropout, one batch size N (no broadcasting), one head count H
    (with ``enable_gqa``, key and value's H dividing the query's), E == Ev, L > 0 and S > 0, the
    last dim of query, key and value each at unit stride, a mask it takes (``_flash_mask``), FLASH
    enabled."""
    q, k, v = query._data, key._data, value._data
    return not (
        q.ndim != 4
        or k.ndim != 4
        or v.ndim != 4
        or not (q.shape[0] == k.shape[0] == v.shape[0])
        or k.shape[1] != v.shape[1]
        or (q.shape[1] % k.shape[1] if enable_gqa and k.shape[1] else q.shape[1] != k.shape[1])
        or dropout_p > 0.0
        or q.shape[-1] != v.shape[-1]
        or q.shape[-2] == 0
        or k.shape[-2] == 0
        or not _ENABLED[SDPBackend.FLASH_ATTENTION]
        or not (_unit_last_stride(q) and _unit_last_stride(k) and _unit_last_stride(v))
        or not _flash_mask(attn_mask, q, k)
    )


def query_layout(
    out: Tensor,
    query: Tensor,
    key: Tensor,
    value: Tensor,
    dropout_p: float,
    attn_mask: Tensor | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``out`` (N, H, L, Ev), copied into the query's memory order where PyTorch's CPU flash
    kernel would have produced it (it allocates its output like the query); else ``out`` itself.

    That kernel runs where ``flash_cpu`` says; otherwise PyTorch falls back to its math kernel,
    whose output is contiguous.

    Only the layout changes (values and gradients are the same): one recorded copy
    (``QueryLayoutCopy``), so the output is a tensor of its own, not a view, and in-place ops on it are
    recorded as on any op's output. The order is read from the query's strides, as PyTorch's
    ``empty_like`` does, so a query cut from a wider projection (``x.chunk(3, -1)`` then ``view``
    and ``transpose``) counts as (N, L, H, E) too.
    """
    q = query._data
    if q.flags.c_contiguous or not flash_cpu(query, key, value, dropout_p, attn_mask, enable_gqa):
        return out
    order = _memory_order(q.shape, q.strides)
    if order == [0, 1, 2, 3]:
        return out
    return QueryLayoutCopy.apply(out, order=tuple(order))


class QueryLayoutCopy(Function):
    """z = a copy of a laid out with its dims in memory from outermost to innermost as ``order``
    says (a permutation of a's dims); z has a's shape and values.   VJP: g."""

    @staticmethod
    def forward(ctx, a, order=()):
        inverse = tuple(order.index(d) for d in range(len(order)))
        # (N, H, L, Ev) -> the memory order, copied densely -> viewed back as (N, H, L, Ev)
        return array_module(a).ascontiguousarray(a.transpose(order)).transpose(inverse)

    @staticmethod
    def backward(ctx, g):
        return g
