# ruff: noqa: A002 - PyTorch's parameter names (input) are the API
"""PyTorch's keyword forms of the top-level functions, with ``out=``: ``add(input, other, *,
alpha, out)``, ``div(..., rounding_mode)``, ``matmul``, ``cat``/``stack``, the unary functions
(``exp(x, out=y)``), and the small spellings ``argsort``, ``t``, ``broadcast_to``, ``bernoulli``,
``normal``. Each calls the op and hands the result to ``composite.with_out``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad.autograd.forward_ad import is_dual
from glassgrad.autograd.function import Primitive as Function
from glassgrad.backend import array_module
from glassgrad.dtypes import check_complex_into
from glassgrad.errors import ArgumentError, DTypeError, ShapeError, size_mismatch
from glassgrad.ops import compare, elementwise, joining
from glassgrad.ops import matmul as _mm
from glassgrad.ops.alpha_checks import check_alpha, scaled_pair
from glassgrad.ops.composite import _arr, number_first, with_out
from glassgrad.ops.half_precision import HALF, AddScaledHalf, half_axpy
from glassgrad.ops.operands import operands
from glassgrad.ops.zero_slope import FlatPair, recorded_pair
from glassgrad.random_fills import check_std
from glassgrad.tensor import Tensor

__all__ = [
    "add", "sub", "mul", "div", "matmul", "cat", "stack", "argsort", "t", "broadcast_to", "bernoulli",
    "normal", "unary_with_out",
]  # fmt: skip


def add(input: Any, other: Any, *legacy: Any, alpha: Any = None, out: Any = None) -> Tensor:
    """input + alpha * other (``legacy``: PyTorch's deprecated ``add(input, Number alpha, other)``)."""
    (other,), alpha = number_first("add", (other, *legacy), 1, alpha, "alpha")
    check_alpha("add", alpha, input, other)
    if isinstance(input, Tensor) and input._data.dtype is HALF and half_axpy(input, other, alpha):  # float16
        return with_out(AddScaledHalf.apply(input, other, alpha=alpha), out, "add", (input, other))
    return with_out(elementwise.add(*scaled_pair(input, other, alpha)), out, "add", (input, other))


def sub(input: Any, other: Any, *legacy: Any, alpha: Any = None, out: Any = None) -> Tensor:
    """input - alpha * other (``legacy``: PyTorch's deprecated ``sub(input, Number alpha, other)``)."""
    (other,), alpha = number_first("sub", (other, *legacy), 1, alpha, "alpha")
    check_alpha("sub", alpha, input, other)
    if isinstance(input, Tensor) and input._data.dtype is HALF and half_axpy(input, other, alpha):
        scaled = AddScaledHalf.apply(input, other, alpha=alpha, op="sub")
        return with_out(scaled, out, "sub", (input, other))
    pair = scaled_pair(input, other, alpha, elementwise.refuse_bool_sub)
    return with_out(elementwise.sub(*pair), out, "sub", (input, other))


def mul(input: Any, other: Any, *, out: Any = None) -> Tensor:
    return with_out(elementwise.mul(input, other), out, "mul", (input, other))


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Any = None) -> Tensor:
    """input / other; ``rounding_mode`` "trunc" or "floor" rounds the quotient (a zero gradient
    then, PyTorch's ``DivBackward2``), computed as ``//`` is (integers stay integers and exact; an
    integer 0 divisor raises)."""
    if rounding_mode in ("floor", "trunc"):
        q = recorded_pair(FlatPair, *operands(input, other, "div"), rounding_mode)
        if q is None:
            q = (compare.floor_divide if rounding_mode == "floor" else compare.trunc_divide)(input, other)
    elif rounding_mode is not None:
        raise ValueError(f"div: expected rounding_mode None, 'trunc' or 'floor', got {rounding_mode!r}")
    else:
        q = elementwise.div(input, other)
    return with_out(q, out, "div", (input, other))


def matmul(input: Any, other: Any, *, out: Any = None) -> Tensor:
    """``torch.matmul(input, other, out=None)``: see ``ops.matmul.matmul`` for the shape rules."""
    return with_out(_mm.matmul(input, other), out, "matmul")


def cat(tensors: Any, dim: int = 0, *, out: Any = None) -> Tensor:
    return with_out(joining.cat(joining.tensor_list(tensors, "cat"), dim), out, "cat", tensors)


def stack(tensors: Any, dim: int = 0, *, out: Any = None) -> Tensor:
    return with_out(joining.stack(joining.tensor_list(tensors, "stack"), dim), out, "stack", tensors)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return input.argsort(dim, descending)


def t(input: Tensor) -> Tensor:
    return input.t()


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    return input.expand(*size)


def check_probabilities(op: str, p: Any) -> None:
    """PyTorch's refusal of a probability outside [0, 1] (NaN too): ``rand < p`` would read 1.5 as
    certain and -0.1 as never, silently."""
    values = p._data if isinstance(p, Tensor) else np.asarray(p)
    if values.dtype.kind in "fiub" and values.size and not ((values >= 0) & (values <= 1)).all():
        bad = values[~((values >= 0) & (values <= 1))].ravel()[0]
        raise ArgumentError(f"{op}: expected probabilities p in [0, 1], got {float(bad)}")


def bernoulli(input: Tensor, p: Any = None, *, generator: Any = None) -> Tensor:
    """1 with probability ``input`` (or ``p``), else 0, in input's dtype."""
    from glassgrad.factories import rand

    probs = input if p is None else p
    if not input.is_meta:
        check_probabilities("bernoulli", probs)
    draws = rand(*input.shape, dtype=input.dtype, generator=generator, device=input.device) < probs
    return sampled(draws.to(input.dtype), "Bernoulli", input, p)


class SampleNode(Function):
    """y = ``draws`` of a distribution with parameters ``params``, drawn by the caller.   VJP: 0 for
    each parameter, as PyTorch's samplers (``NormalBackward1``-``3``, ``BernoulliBackward0``,
    ``PoissonBackward0``: ``op`` and ``form`` name the node): the draws stay in the graph
    (``requires_grad``; a backward through them works) with a zero gradient. The forward reads no
    parameter, so a finite-difference gradcheck agrees: the draws are a constant of the op."""

    name = "sample_node"
    node_name_by = staticmethod(lambda attrs: f"{attrs.get('op', 'Sample')}Backward{attrs.get('form', 0)}")

    @staticmethod
    def forward(ctx, draws, *params, op="Sample", form=0):
        return draws.copy()

    @staticmethod
    def backward(ctx, g):
        zeros = array_module(g).zeros_like(g)
        return (None, *[zeros] * (len(ctx.needs_input_grad) - 1))


def sampled(draws: Tensor, op: str, *params: Any, form: int = 0) -> Tensor:
    """``draws`` recorded after the tensor ``params`` that require grad or carry a tangent
    (``SampleNode``: zero gradient and tangent), else as they are."""
    wanted = [q for q in params if isinstance(q, Tensor) and (q.requires_grad or is_dual(q))]
    if not wanted or draws._data.dtype.kind != "f":
        return draws
    return SampleNode.apply(draws, *wanted, op=op, form=form)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           device: Any = None, out: Any = None, layout: Any = None, pin_memory: bool = False,
           requires_grad: bool = False) -> Tensor:  # fmt: skip
    """Samples of N(mean, std^2): from tensors of means/stds (broadcast), or numbers and ``size``.

    The numbers-and-``size`` form is a factory, as in PyTorch: it takes ``dtype``, ``device``,
    ``layout``, ``pin_memory`` and ``requires_grad`` (a leaf, as d2l's
    ``torch.normal(0, sigma, (n, 1), requires_grad=True)``); the tensor form takes none of them.
    A negative (or NaN) std is refused, as PyTorch's; the samples' gradient is zero (``SampleNode``)."""
    from glassgrad.factories import out_dtype, randn

    check_std("normal", std)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        factory_args = {
            "dtype": dtype,
            "device": device,
            "layout": layout,
            "requires_grad": requires_grad or None,
        }
        given = [k for k, v in factory_args.items() if v is not None]
        if size is not None:  # PyTorch has no such overload; the size was dropped silently here
            raise TypeError(
                f"normal(): the form with tensor mean/std takes no size (its shape is mean and std "
                f"broadcast), got size {size!r:.40}; use normal(float mean, float std, size) or expand"
            )
        if given or pin_memory:
            raise TypeError(
                f"normal(): the form with tensor mean/std takes no {', '.join(given or ['pin_memory'])} "
                "(only the form normal(float mean, float std, size) is a factory)"
            )
        ref = mean if isinstance(mean, Tensor) else std
        shapes = [tuple(_arr(mean).shape), tuple(_arr(std).shape)]
        if mismatch := size_mismatch(shapes):
            raise ShapeError(f"normal: mean {shapes[0]} and std {shapes[1]} do not broadcast{mismatch}")
        shape = np.broadcast_shapes(*shapes)
        z = randn(*shape, generator=generator, dtype=ref.dtype, device=ref.device)
        form = 3 if isinstance(mean, Tensor) and isinstance(std, Tensor) else 1 if ref is mean else 2
        plain = [q.detach() if isinstance(q, Tensor) else q for q in (mean, std)]  # (the draw: no graph)
        return with_out(sampled(z * plain[1] + plain[0], "Normal", mean, std, form=form), out, "normal")
    dtype = out_dtype(out, dtype)  # drawn in an out='s dtype, not drawn in float32 and cast into it
    z = randn(*(size if size is not None else ()), generator=generator, dtype=dtype, device=device)
    if requires_grad:
        return with_out(z * std + mean, out, "normal").requires_grad_(True)
    return with_out(z * std + mean, out, "normal")


def unary_with_out(fn: Any, name: str) -> Any:
    """``fn(input)`` as PyTorch's top-level function ``torch.<name>(input, *, out=None)``."""

    def function(input: Tensor, *, out: Any = None) -> Tensor:
        result = fn(input)
        if isinstance(out, Tensor):  # out's dtype as PyTorch casts: no float result into an integer out
            from glassgrad.out_keyword import _check

            if name == "abs" and isinstance(input, Tensor) and input._data.dtype.kind == "c":
                result = _complex_abs_for(result, input, out)

            check_complex_into(name, result._data.dtype, out._data.dtype)  # PyTorch's words for complex
            _check(name, "cast", result, out)
        return with_out(result, out, name, (input,))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = fn.__doc__
    return function


def _complex_abs_for(result: Tensor, input: Tensor, out: Tensor) -> Tensor:
    """``abs`` of a complex ``input`` read in ``out``'s dtype, as PyTorch's kernel writes it: |z| cast
    into a floating ``out`` of any width, or |z| + 0j into a complex ``out`` of ``input``'s own
    dtype (another complex width is refused, PyTorch's words). abs is otherwise an exact-dtype op
    (``out_write.EXACT_DTYPE``), which refused both; an integer ``out`` is left to the cast check."""
    kind = out._data.dtype.kind
    if kind == "c" and out._data.dtype != input._data.dtype:
        raise DTypeError(f"abs: Found dtype {out.dtype} but expected {input.dtype}")
    return result.to(out.dtype) if kind in "fc" else result
