"""``torch._higher_order_ops.associative_scan.associative_scan``: an inclusive scan with an
associative ``combine_fn`` over a tensor or a pytree of tensors, along ``dim``.

``combine_mode="generic"`` is PyTorch's eager algorithm step for step: ``combine_fn`` is vmapped
over the scan dim and applied to neighbouring pairs (a parallel prefix, ``log2(n)`` levels), so the
order of the combines, hence the rounding, is PyTorch's. It is made of differentiable ops, so
gradients flow (PyTorch's prototype says autograd is unsupported; its eager path differentiates
too). ``combine_mode="pointwise"`` needs generated CUDA code in PyTorch and is refused on the CPU,
with PyTorch's ``ValueError``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

__all__ = ["associative_scan"]


def _check(combine_fn: Any, leaves: list, dim: Any, reverse: Any, combine_mode: Any) -> None:
    from glassgrad.tensor import Tensor

    if not callable(combine_fn):
        raise ValueError(f"associative_scan: combine_fn must be a callable, got {combine_fn!r}")
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise ValueError(f"associative_scan: dim must be an int, got {type(dim).__name__}")
    if not isinstance(reverse, bool):
        raise RuntimeError(f"associative_scan: reverse must be a bool, got {type(reverse).__name__}")
    if combine_mode not in ("pointwise", "generic"):
        raise ValueError(
            f"associative_scan: combine_mode must be 'pointwise' or 'generic', got {combine_mode!r}"
        )
    if combine_mode == "pointwise":
        raise ValueError(
            "associative_scan: for combine_mode='pointwise', all input tensors need to be on CUDA or XPU "
            "(PyTorch generates the kernel); glassgrad computes on the CPU: pass combine_mode='generic'"
        )
    if not leaves:
        raise ValueError("associative_scan: expected at least 1 xs leaf")
    if any(not isinstance(x, Tensor) for x in leaves):
        raise ValueError(
            f"associative_scan: xs leaves must be Tensors, got {[type(x).__name__ for x in leaves]}"
        )
    if any(x.is_sparse for x in leaves):
        raise ValueError("associative_scan: xs leaves must be dense Tensors, consider using `to_dense()`")
    shapes = [tuple(x.shape) for x in leaves]
    if any(len(s) <= (dim if dim >= 0 else -dim - 1) for s in shapes):
        raise ValueError(f"associative_scan: every xs leaf needs dim {dim}, got shapes {shapes}")
    d = dim % len(shapes[0])
    if any(s[d] == 0 for s in shapes) or len({s[d] for s in shapes}) != 1:
        raise ValueError(
            f"associative_scan: expected leaves of one nonzero size along dim {dim}, got shapes {shapes}"
        )


def _interleave(a: Any, b: Any) -> Any:
    """a[0], b[0], a[1], b[1], ... along dim 0 (``a`` may be one longer than ``b``)."""
    import glassgrad as gg

    trunc = a.shape[0] == b.shape[0] + 1
    if trunc:
        b = gg.cat([b, gg.zeros_like(a[:1])], dim=0)
    out = gg.stack([a, b], dim=1).flatten(0, 1)
    return out[: a.shape[0] + b.shape[0] - 1] if trunc else out


def _scan(call: Callable[..., list], elems: list) -> list:
    """PyTorch's ``generic_associative_scan`` along dim 0 of every leaf."""
    import glassgrad as gg

    n = elems[0].shape[0]
    if n < 2:
        return elems
    reduced = call(*[e[0:-1:2] for e in elems], *[e[1::2] for e in elems])
    odd = _scan(call, reduced)
    if n % 2 == 0:
        even = call(*[e[0:-1] for e in odd], *[e[2::2] for e in elems])
    else:
        even = call(*odd, *[e[2::2] for e in elems])
    even = [gg.cat([e[0:1], r], dim=0) if r.numel() > 0 else e[0:1] for e, r in zip(elems, even, strict=True)]
    return [_interleave(e, o) for e, o in zip(even, odd, strict=True)]


def associative_scan(
    combine_fn: Callable[[Any, Any], Any],
    xs: Any,
    dim: int,
    reverse: bool = False,
    combine_mode: str = "pointwise",
) -> Any:
    """Inclusive scan of ``xs`` (a tensor or pytree of tensors of one size along ``dim``) with the
    associative ``combine_fn(lhs, rhs)``; ``reverse`` scans from the end. Returns ``xs``' structure.

    >>> import glassgrad as gg
    >>> associative_scan(lambda a, b: a + b, gg.arange(1.0, 6.0), 0, combine_mode="generic")
    tensor([ 1.,  3.,  6., 10., 15.])
    """
    import glassgrad as gg
    from glassgrad.utils import _pytree as pytree

    leaves, spec = pytree.tree_flatten(xs)
    _check(combine_fn, leaves, dim, reverse, combine_mode)
    d = operator.index(dim) % leaves[0].ndim
    leaves = [gg.movedim(x, d, 0) for x in leaves]
    if reverse:
        leaves = [x.flip([0]) for x in leaves]
    zeros = pytree.tree_unflatten([0] * len(leaves), spec)
    batched = gg.vmap(combine_fn, in_dims=(zeros, zeros), out_dims=0)
    k = len(leaves)

    def call(*args: Any) -> list:
        lhs, rhs = pytree.tree_unflatten(list(args[:k]), spec), pytree.tree_unflatten(list(args[k:]), spec)
        return pytree.tree_leaves(batched(lhs, rhs))

    out = _scan(call, leaves)
    if reverse:
        out = [x.flip([0]) for x in out]
    return pytree.tree_unflatten([gg.movedim(x, 0, d) for x in out], spec)
