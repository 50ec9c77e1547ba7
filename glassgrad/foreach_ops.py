"""PyTorch's ``torch._foreach_*`` functions: one op over a list of tensors, as optimizers written for
PyTorch's ``foreach`` path call them (pytorch_optimizer's Lion, Adan, LAMB, ``clip_grad_norm_``-style
code): ``torch._foreach_mul_(params, 1 - lr * wd)``, ``torch._foreach_lerp_(exp_avgs, grads, 1 - b1)``.

PyTorch's CPU kernels run these one tensor at a time (its "slow path"); so does glassgrad, through the
same per-tensor op, so values, dtypes, type promotion, errors and autograd are the op's own. What is
the family's: the overloads of the second operand, picked by its kind (a number; a list of numbers, one
per tensor; a list of tensors; a 0-d tensor), the checks of list lengths, and what comes back: the
out-of-place forms return a tuple of new tensors, the in-place forms (``_``) the list they were given.

Example:
    >>> import glassgrad as gg
    >>> a = [gg.ones(2), gg.ones(3)]
    >>> gg._foreach_mul(a, [2.0, 3.0])
    (tensor([2., 2.]), tensor([3., 3., 3.]))
    >>> gg._foreach_add_(a, a, alpha=0.5) is a
    True
    >>> gg._foreach_norm(a)
    (tensor(2.1213), tensor(2.5981))
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from glassgrad.errors import ShapeError
from glassgrad.methods_inplace import inplace_of
from glassgrad.tensor import Tensor

__all__: list[str] = []

_NO = object()  # an operand not given

# the unary functions, each with its in-place form
_UNARY = (
    "abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1", "floor", "frac",
    "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round", "rsqrt", "sigmoid", "sign",
    "sin", "sinh", "sqrt", "tan", "tanh", "trunc",
)  # fmt: skip


def _tensors(op: str, value: Any, position: int = 0) -> list[Tensor]:
    """``value`` as a list of tensors (PyTorch's ``Tensor[]`` argument), or PyTorch's TypeError."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(
            f"{op}(): argument {position} must be a list or tuple of Tensors, got {type(value).__name__}"
        )
    for i, t in enumerate(value):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{op}(): expected Tensor as element {i} in argument {position}, but got {type(t).__name__}"
            )
    return list(value)


def _self(op: str, value: Any) -> list[Tensor]:
    tensors = _tensors(op, value)
    if not tensors:
        raise ShapeError(f"{op}: Tensor list must have at least one tensor.")
    return tensors


def _same_length(op: str, tensors: list, other: list, what: str = "tensors") -> None:
    if len(other) != len(tensors):
        if what == "tensors":
            raise ShapeError(
                f"{op}: Tensor lists must have the same number of tensors, got {len(tensors)} and {len(other)}"
            )
        raise ShapeError(
            f"{op}: Tensor list must have same number of elements as scalar list (got {len(tensors)} tensors "
            f"and {len(other)} {what})."
        )


def _is_number(v: Any) -> bool:
    return isinstance(v, (numbers.Number, bool)) and not isinstance(v, Tensor)


def _operands(op: str, tensors: list[Tensor], other: Any, tensor_overload: bool) -> list[Any]:
    """The second operand of each tensor: one number for all, a number or a tensor per tensor, or (for
    the ops PyTorch gives a ``Tensor other`` overload: add, mul, div) one 0-d tensor for all."""
    if isinstance(other, Tensor):
        if other.dim() != 0:
            if tensor_overload:
                raise ShapeError(
                    f"{op}: scalar tensor expected to be 0 dim but it has {other.dim()} dimensions and "
                    f"{other.numel()} elements."
                )
            raise TypeError(f"{op}(): argument 'other' (position 2) must be tuple of Tensors, not Tensor")
        # PyTorch's parser reads a 0-d tensor as the Scalar of the ops without a Tensor overload
        return [other if tensor_overload else other.item()] * len(tensors)
    if _is_number(other):
        return [other] * len(tensors)
    if isinstance(other, (list, tuple)):
        # an empty list is read as a scalar list, as PyTorch's parser does (its length error names scalars)
        if all(_is_number(v) for v in other):
            _same_length(op, tensors, other, "scalars")
            return list(other)
        others = _tensors(op, other, 1)
        _same_length(op, tensors, others)
        return others
    raise TypeError(
        f"{op}(): expected a number, a list of numbers, a list of Tensors or a 0-d Tensor as the second "
        f"operand, got {type(other).__name__}"
    )


def _pick(op: str, **given: Any) -> Any:
    """The one operand given among PyTorch's names for it (``other``, ``scalar``, ``scalars``)."""
    found = [v for v in given.values() if v is not _NO]
    if len(found) != 1:
        names = "/".join(given)
        raise TypeError(f"{op}(): expected exactly one of the arguments {names}, got {len(found)}")
    return found[0]


def _unary(name: str, inplace: bool) -> Callable:
    op = f"_foreach_{name}{'_' if inplace else ''}"
    method = name + "_" if inplace else name

    def fn(self: Any) -> Any:
        tensors = _self(op, self)
        if inplace:
            for t in tensors:
                getattr(t, method)()
            return self
        return tuple(getattr(t, method)() for t in tensors)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"``x.{method}()`` for each tensor x of a list ({'in place; returns the list' if inplace else 'a tuple of results'})."
    return fn


def _binary(name: str, inplace: bool, tensor_overload: bool, alpha: bool) -> Callable:
    """``_foreach_add``/``sub``/``mul``/``div``/``clamp_min``/``clamp_max``/``maximum``/``minimum``."""
    op = f"_foreach_{name}{'_' if inplace else ''}"
    method = {"maximum": "clamp_min", "minimum": "clamp_max"}.get(name, name) + ("_" if inplace else "")
    # maximum/minimum differ from clamp_min/clamp_max only at a tie, where PyTorch's foreach
    # derivative splits the gradient evenly (as torch.maximum's) for a tensor and for a number alike;
    # a number meets a float tensor as a 0-d tensor of its dtype (the value clamp compares with);
    # complex operands go to clamp, whose NotImplementedError is PyTorch's foreach one.
    # Tensor has no maximum_/minimum_: the out-of-place op is written back, as other in-place methods
    extreme = (
        (inplace_of(name) if inplace else getattr(Tensor, name)) if name in ("maximum", "minimum") else None
    )

    def one(t: Tensor, v: Any, kwargs: dict[str, Any]) -> Tensor:
        if extreme is not None and isinstance(v, Tensor) and not (t.is_complex() or v.is_complex()):
            return extreme(t, v)
        if extreme is not None and t.is_floating_point() and _is_number(v) and not isinstance(v, complex):
            return extreme(t, t.new_full((), v))
        return getattr(t, method)(v, **kwargs)

    def run(self: Any, other: Any, scalar: Any, scalars: Any, kwargs: dict[str, Any]) -> Any:
        tensors = _self(op, self)
        given = _pick(op, other=other, scalar=scalar, scalars=scalars)
        tensor_other = isinstance(given, Tensor) or (
            isinstance(given, (list, tuple)) and any(isinstance(v, Tensor) for v in given)
        )
        if kwargs and (other is _NO or not tensor_other):
            raise TypeError(
                f"{op}(): alpha= is taken with a list of Tensors (or a Tensor) as other, not with numbers"
            )
        values = _operands(op, tensors, given, tensor_overload)
        out = [one(t, v, kwargs) for t, v in zip(tensors, values, strict=True)]
        return self if inplace else tuple(out)

    if alpha:

        def fn(
            self: Any, other: Any = _NO, *, alpha: Any = _NO, scalar: Any = _NO, scalars: Any = _NO
        ) -> Any:
            return run(self, other, scalar, scalars, {} if alpha is _NO else {"alpha": alpha})

    else:

        def fn(self: Any, other: Any = _NO, *, scalar: Any = _NO, scalars: Any = _NO) -> Any:  # type: ignore[misc]
            return run(self, other, scalar, scalars, {})

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = (
        f"``x.{method}(v)`` for each tensor x of ``self``, v from ``other``: a number, a list of numbers or "
        f"of tensors (one per x){' or a 0-d tensor' if tensor_overload else ''}"
        f"{'; alpha= scales a tensor operand' if alpha else ''}."
    )
    return fn


def _pointwise(name: str, inplace: bool) -> Callable:
    """``_foreach_addcmul``/``addcdiv``: ``self + value * t1 * t2`` (``/ t2``), ``value`` a number, a list
    of numbers or a 1-D tensor of them (one per tensor)."""
    op = f"_foreach_{name}{'_' if inplace else ''}"
    method = name + ("_" if inplace else "")

    def fn(self: Any, tensor1: Any, tensor2: Any, value: Any = _NO, *, scalars: Any = _NO) -> Any:
        tensors = _self(op, self)
        t1, t2 = _tensors(op, tensor1, 1), _tensors(op, tensor2, 2)
        _same_length(op, tensors, t1)
        _same_length(op, tensors, t2)
        given = 1 if value is _NO and scalars is _NO else _pick(op, value=value, scalars=scalars)
        if isinstance(given, Tensor):
            if given.dim() != 1:
                raise ShapeError(
                    f"{op}: Expected packed scalar Tensor to be of dimension 1. Got {given.dim()} instead."
                )
            if given.numel() != len(tensors):
                raise ShapeError(
                    f"{op}: Expected length of scalars to match input of length {len(tensors)} but got "
                    f"{given.numel()} instead."
                )
            values = given.tolist()
        elif _is_number(given):
            values = [given] * len(tensors)
        else:
            values = list(given)
            _same_length(op, tensors, values, "scalars")
        out = [getattr(t, method)(a, b, value=v) for t, a, b, v in zip(tensors, t1, t2, values, strict=True)]
        return self if inplace else tuple(out)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = f"``x.{method}(t1, t2, value=v)`` for each x of ``self`` (v: a number, or one per x)."
    return fn


def _lerp(inplace: bool) -> Callable:
    op = "_foreach_lerp_" if inplace else "_foreach_lerp"

    def fn(self: Any, tensors1: Any, weight: Any = _NO, *, weights: Any = _NO) -> Any:
        tensors = _self(op, self)
        ends = _tensors(op, tensors1, 1)
        _same_length(op, tensors, ends)
        w = _pick(op, weight=weight, weights=weights)
        values = _operands(op, tensors, w, tensor_overload=False)
        method = "lerp_" if inplace else "lerp"
        out = [getattr(t, method)(e, v) for t, e, v in zip(tensors, ends, values, strict=True)]
        return self if inplace else tuple(out)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = "``x.lerp(end, w)`` for each x of ``self``: ``w`` a number, one number or tensor per x."
    return fn


def _pow(inplace: bool) -> Callable:
    op = "_foreach_pow_" if inplace else "_foreach_pow"

    def fn(self: Any, exponent: Any) -> Any:
        if not inplace and _is_number(self):  # the ScalarAndTensor overload: base ** each exponent
            from glassgrad import pow as _pow_fn

            return tuple(_pow_fn(self, e) for e in _self(op, exponent))
        tensors = _self(op, self)
        values = _operands(op, tensors, exponent, tensor_overload=False)
        method = "pow_" if inplace else "pow"
        out = [getattr(t, method)(v) for t, v in zip(tensors, values, strict=True)]
        return self if inplace else tuple(out)

    fn.__name__ = fn.__qualname__ = op
    fn.__doc__ = "``x ** e`` for each x (e: a number, one per x), or ``base ** e`` for a number base."
    return fn


def _foreach_norm(self: Any, ord: Any = 2, dtype: Any = None) -> tuple[Tensor, ...]:  # noqa: A002 - PyTorch's name
    """``linalg.vector_norm(x, ord, dtype=dtype)`` of each tensor x: a tuple of 0-d tensors."""
    from glassgrad.linalg import vector_norm

    if not _is_number(ord) or isinstance(ord, bool):
        raise TypeError(
            f"_foreach_norm(): argument 'ord' (position 2) must be Number, not {type(ord).__name__}"
        )
    return tuple(vector_norm(t, ord, dtype=dtype) for t in _self("_foreach_norm", self))


def _foreach_powsum(self: Any, ord: Any = 2, dtype: Any = None) -> tuple[Tensor, ...]:  # noqa: A002 - PyTorch's name
    """``sum(|x| ** ord)`` of each tensor x (the norm before its root, taken literally as PyTorch's:
    ``ord`` 0 counts every element, ``inf`` is inf once an ``|x| > 1``), in ``dtype`` if given: a tuple
    of 0-d tensors."""
    if not _is_number(ord) or isinstance(ord, bool):
        raise TypeError(
            f"_foreach_powsum(): argument 'ord' (position 2) must be Number, not {type(ord).__name__}"
        )
    return tuple(
        (t if dtype is None else t.to(dtype)).abs().pow(ord).sum() for t in _self("_foreach_powsum", self)
    )


def _foreach_max(self: Any) -> tuple[Tensor, ...]:
    """The largest element of each tensor: a tuple of 0-d tensors."""
    tensors = _self("_foreach_max", self)
    for t in tensors:
        if t.numel() == 0:
            raise ShapeError(
                f"_foreach_max cannot compute the maximum of an empty tensor (shape {tuple(t.shape)}); max over "
                "zero elements is undefined."
            )
    return tuple(t.max() for t in tensors)


def _foreach_mm(self: Any, mat2: Any) -> tuple[Tensor, ...]:
    """``a @ b`` for each pair of 2-D tensors."""
    tensors, others = _self("_foreach_mm", self), _tensors("_foreach_mm", mat2, 1)
    _same_length("_foreach_mm", tensors, others)
    return tuple(a.mm(b) for a, b in zip(tensors, others, strict=True))


def _foreach_copy_(self: Any, src: Any, non_blocking: bool = False) -> Any:
    """``x.copy_(s)`` for each pair; returns the list ``self``."""
    tensors, sources = _self("_foreach_copy_", self), _tensors("_foreach_copy_", src, 1)
    _same_length("_foreach_copy_", tensors, sources)
    for t, s in zip(tensors, sources, strict=True):
        t.copy_(s, non_blocking)
    return self


def _foreach_zero_(self: Any) -> Any:
    """``x.zero_()`` for each tensor; returns the list ``self``."""
    for t in _self("_foreach_zero_", self):
        t.zero_()
    return self


def _foreach_clone(self: Any, *, memory_format: Any = None) -> tuple[Tensor, ...]:
    """A copy of each tensor."""
    kwargs = {} if memory_format is None else {"memory_format": memory_format}
    return tuple(t.clone(**kwargs) for t in _self("_foreach_clone", self))


_made: dict[str, Callable] = {}
for _name in _UNARY:
    for _inplace in (False, True):
        _fn = _unary(_name, _inplace)
        _made[_fn.__name__] = _fn
for _name, _tensor_overload, _alpha in (
    ("add", True, True), ("sub", False, True), ("mul", True, False), ("div", True, False),
    ("clamp_min", False, False), ("clamp_max", False, False), ("maximum", False, False), ("minimum", False, False),
):  # fmt: skip
    for _inplace in (False, True):
        _fn = _binary(_name, _inplace, _tensor_overload, _alpha)
        _made[_fn.__name__] = _fn
for _inplace in (False, True):
    for _fn in (
        _pointwise("addcmul", _inplace),
        _pointwise("addcdiv", _inplace),
        _lerp(_inplace),
        _pow(_inplace),
    ):
        _made[_fn.__name__] = _fn
globals().update(_made)
__all__ += [*_made, "_foreach_norm", "_foreach_powsum", "_foreach_max", "_foreach_mm", "_foreach_copy_"]
__all__ += ["_foreach_zero_", "_foreach_clone"]
