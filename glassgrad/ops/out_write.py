"""PyTorch's ``out=``, written in one place for the functions that take one: ``with_out`` writes a
result into ``out`` (resized, with PyTorch's warning, where the shapes differ) and returns ``out``,
refusing what PyTorch refuses: an ``out`` partly overlapping an input, a result that autograd
would need, a cast that loses values, and for the ops of ``EXACT_DTYPE`` any other dtype.
"""

from __future__ import annotations

import warnings
from typing import Any

from glassgrad.autograd import is_grad_enabled
from glassgrad.autograd.forward_ad import is_dual, tracked
from glassgrad.dtypes import check_complex_into, from_np_dtype
from glassgrad.errors import DTypeError, GraphError
from glassgrad.memory_overlap import memory_from_first_element, refuse_partial_overlap
from glassgrad.meta_array import MetaArray
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["EXACT_DTYPE", "refuse_grad_inputs", "with_out"]

# The ops whose PyTorch kernels check that ``out`` has the result's own dtype instead of casting
# into it ("Expected out tensor to have dtype double, but got float instead"; probed on 2.13): the
# matrix products (their BLAS writes out's memory directly), the linalg solvers, and a few
# kernels written for one dtype (abs, cross, frexp, heaviside, quantile, renorm, narrow_copy), and
# searchsorted/bucketize, whose out is int64 (int32 with out_int32) and nothing else
EXACT_DTYPE = frozenset({
    "mm", "bmm", "mv", "dot", "vdot", "addmm", "baddbmm", "addmv", "addbmm", "matmul", "inner",
    "tensordot", "linalg.matmul", "linalg.multi_dot", "linalg.vecdot", "linalg.inv", "linalg.solve",
    "linalg.det", "linalg.matrix_power", "linalg.cholesky", "solve_triangular", "triangular_solve",
    "cross", "quantile", "nanquantile", "narrow_copy", "frexp", "heaviside", "renorm", "abs",
    "searchsorted", "bucketize",
    # the copying forms of the views and slice_scatter (a copy into out of its own dtype), isin
    # (bool), index_reduce and ormqr: PyTorch's "Expected out tensor to have dtype ..." (2.13)
    "alias_copy", "as_strided_copy", "detach_copy", "diagonal_copy", "expand_copy", "permute_copy",
    "select_copy", "slice_copy", "split_copy", "split_with_sizes_copy", "squeeze_copy", "t_copy",
    "transpose_copy", "unbind_copy", "unfold_copy", "unsqueeze_copy", "view_copy",
    "view_as_real_copy", "view_as_complex_copy", "slice_scatter", "isin", "index_reduce", "ormqr",
})  # fmt: skip


def with_out(
    result: Tensor, out: Tensor | None, op: str, inputs: Any = (), warn_resize: bool = True, cast: bool = True
) -> Tensor:
    """PyTorch's ``out=``: write the result into ``out`` (resized if needed) and return it.
    ``inputs``: the tensors PyTorch refuses to see partly overlapping ``out`` (elementwise ops,
    cat/stack; its matrix products allow it, and so does this). ``warn_resize``: PyTorch's
    warning when an ``out`` holding elements is resized (its samplers resize without one).
    ``cast``: refuse a float result into an integer out, or a number into a bool one (PyTorch's
    canCast); ``out_keyword.py`` passes False, its table holding each op's own rule."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{op}: expected out= to be a Tensor, got {type(out).__name__}")
    for a in inputs:
        if isinstance(a, Tensor):
            refuse_partial_overlap(op, out._data, a._data)
    if is_dual(result) or is_dual(out):  # a tangent out= cannot carry: PyTorch's refusal and class
        raise NotImplementedError(
            f"Trying to use forward AD with {op}_out that does not support it because it is an out= "
            "function (glassgrad: write y = op(...) instead inside the dual_level)"
        )
    if tracked(result):  # the written values would carry no graph or tangent: silently lost
        raise GraphError(
            f"{op}: out= does not support automatic differentiation (an input requires grad or has a "
            "forward-mode tangent); write y = op(...) instead, or use glassgrad.no_grad()"
        )
    check_complex_into(op, result._data.dtype, out._data.dtype)  # PyTorch refuses; NumPy would drop Im
    src, dst = result._data.dtype, out._data.dtype
    if src != dst and op in EXACT_DTYPE:
        raise DTypeError(
            f"{op}: expected out= of the result's dtype {from_np_dtype(src)}, got {from_np_dtype(dst)} "
            "(PyTorch writes this op's result into out without casting)"
        )
    if cast and ((src.kind in "fc" and dst.kind in "iu") or (src.kind != "b" and dst.kind == "b")):
        raise DTypeError(  # PyTorch refuses; NumPy's cast would truncate (2.7 -> 2) without a word
            f"{op}: result type {from_np_dtype(src)} can't be cast to the desired output type {from_np_dtype(dst)}"
        )
    out._check_inplace(op)
    arr = result._data.astype(out._data.dtype, copy=False)
    if out._data.shape == arr.shape:
        out._data[...] = arr
    else:
        if warn_resize and out._data.size:  # PyTorch warns so: it plans to resize only empty outs
            # PyTorch's words, from the start: a program's filterwarnings(message=...) matches them
            warnings.warn(
                f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                f"which does not match the required output shape {list(arr.shape)}. This behavior is "
                "deprecated, and in a future PyTorch release outputs will not be resized unless they have "
                "zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, to zero "
                f"elements with t.resize_(0). ({op})",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        out._data = _resized(out._data, arr)
    return out


def _resized(old: Any, arr: Any) -> Any:
    """``arr`` written into ``old``'s memory resized to ``arr``'s shape, as PyTorch's resize_output:
    the memory from ``old``'s first element on (an ``out=`` view of a bigger tensor writes into
    its base, ``torch.mul(a, 2, out=base[..., :1])``), laid out as the op lays a fresh result
    (a transposed operand's strides, for an elementwise op); new memory where that is too small."""
    fresh = arr.copy(order="K")
    memory = None if isinstance(old, MetaArray) else memory_from_first_element(old)
    if memory is None or memory.size < fresh.size or not memory.flags.writeable:
        return fresh
    order = sorted(range(fresh.ndim), key=lambda d: -fresh.strides[d])  # outermost first
    laid = memory[: fresh.size].reshape(tuple(fresh.shape[d] for d in order))
    laid = laid.transpose(tuple(order.index(d) for d in range(fresh.ndim)))
    laid[...] = fresh
    return laid


def refuse_grad_inputs(op: str, inputs: Any) -> None:
    """PyTorch's refusal of ``out=`` when an input requires grad, for the ops PyTorch gives a
    derivative (or one that raises: geqrf) whose glassgrad results record no graph, so that
    ``with_out``'s check of the result cannot see it (frexp calls it before its mantissa is computed)."""
    if is_grad_enabled() and any(isinstance(t, Tensor) and t.requires_grad for t in inputs):
        raise GraphError(
            f"{op}: out= does not support automatic differentiation (an input requires grad); "
            "write y = op(...) instead, or use glassgrad.no_grad()"
        )
