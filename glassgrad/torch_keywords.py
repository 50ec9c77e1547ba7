"""PyTorch's keyword names for the operands of ``torch.*`` functions and ``Tensor`` methods:
``torch.sum(input=x)``, ``torch.eq(x, other=y)``, ``torch.pow(x, exponent=2)``, ``x.mm(mat2=w)``.

glassgrad's ops name their operands ``a``, ``b``, ``x``, ``A`` (short, as a course writes them);
PyTorch's parser names them ``input`` and ``other``, and a ported program may pass them by those
names. ``aliases`` says which of PyTorch's names a function takes for which of its parameters;
``numpy_names.install`` generates one wrapper per function for these and for NumPy's
``axis=``/``keepdims=`` together, so a call still costs one extra frame at most.

The rule: a top-level function's first parameter called ``a``, ``x`` or ``A`` is PyTorch's
``input``; a second parameter called ``b`` (a method's first after ``self``) is ``other``. The
tables hold the exceptions, each checked against PyTorch 2.13's parser.

Example:
    >>> import glassgrad as gg
    >>> gg.sum(input=gg.ones(2, 3)).item()
    6.0
    >>> gg.eq(gg.ones(2), other=gg.ones(2)).tolist()
    [True, True]
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from glassgrad.operand_errors import not_tensor

__all__ = ["LINALG", "SPECIAL", "VARARGS", "aliases", "with_varargs"]

OPERANDS = frozenset({"a", "x", "A"})  # our names for the first operand, PyTorch's ``input``

# Functions PyTorch writes in Python with other names for their first operand
# (torch.split(tensor, ...), torch.tensordot(a, b, ...)).
FIRST_NOT_INPUT = frozenset({"split", "tensordot"})

# PyTorch's name for a second operand ``b`` where it is not ``other``.
SECOND = {"outer": "vec2", "ger": "vec2", "pow": "exponent", "tensordot": "b"}

# Further names, PyTorch's -> ours.
FUNCTIONS = {
    "multinomial": {"input": "probs"},
    "cholesky_solve": {"input": "B", "input2": "L"},
    "cholesky_inverse": {"input": "L"},
    "swapdims": {"dim0": "axis0", "dim1": "axis1"},
}
METHODS = {
    "bmm": {"mat2": "other"},
    "mm": {"mat2": "other"},
    "cholesky_solve": {"input2": "L"},  # (self is B)
    "copy_": {"other": "src"},  # PyTorch's documentation says src; its parser takes other
    "swapdims": {"dim0": "axis0", "dim1": "axis1"},
    "split": {"split_size": "split_size_or_sections"},
    "uniform_": {"to": "b"},  # (its "from" is a Python keyword: not a name a wrapper can take)
}

# torch.linalg's and torch.special's parser names that are not ours (PyTorch's -> ours; probed on
# 2.13, whose parser refuses the names its documentation shows here: linalg.cholesky(A=...)).
# Most linalg functions name their matrix ``input`` (the schema's ``self``); inv, det, solve, svd,
# qr, lu ... name it ``A``, as ours do. operand_errors.install gives each its aliases.
LINALG = {
    **{name: {"input": "A"} for name in ["cholesky_ex", "cond", "eig", "eigvals", "eigh", "eigvalsh",
        "householder_product", "matrix_exp", "matrix_norm", "norm", "matrix_power", "matrix_rank", "pinv",
        "tensorinv", "ldl_factor", "ldl_factor_ex"]},
    "cholesky": {"input": "a"},
    "vector_norm": {"input": "x"},
    "lstsq": {"input": "A", "b": "B"},
    "solve_triangular": {"input": "a", "B": "b"},
    "tensorsolve": {"input": "A", "other": "B"},
}  # fmt: skip
SPECIAL = {
    name: {"x": "input"}
    for name in ("airy_ai", "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0")
}

# Functions taking their sizes as ``*args`` (``x.view(2, 3)``), and PyTorch's keyword for them
# (``x.view(size=(2, 3))``; view's dtype= is its one positional dtype, ``x.view(gg.int32)``).
VARARGS = {"reshape": ("shape",), "view": ("size", "dtype"), "expand": ("size",), "repeat": ("repeats",),
           "permute": ("dims",), "tile": ("dims",), "resize_": ("size",), "broadcast_to": ("size",)}  # fmt: skip

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def with_varargs(fn: Callable, name: str, method: bool) -> Callable:
    """``fn`` (a function of ``*args`` in ``VARARGS``) also taking PyTorch's keyword for those
    arguments, and ``input=`` for a top-level function's first operand."""
    names = VARARGS[name]

    def with_torch_names(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            if not method and "input" in kwargs:
                args = (kwargs.pop("input"), *args)
            for keyword in names:
                if keyword in kwargs:
                    args = (*args, kwargs.pop(keyword))
        try:
            return fn(*args, **kwargs)
        except AttributeError as e:
            if not method and args:  # torch.reshape(np_array, ...): PyTorch's TypeError
                not_tensor(e, name, args[:1], ("input",))
            raise

    functools.update_wrapper(with_torch_names, fn)
    with_torch_names.__keyword_aliases__ = dict.fromkeys(names if method else ("input", *names), "*")
    return with_torch_names


def aliases(name: str, fn: Callable, method: bool) -> dict[str, str]:
    """PyTorch's keyword names that ``fn`` (published as ``name``, a ``Tensor`` method when
    ``method``) should also take, each mapped to the parameter of ``fn`` it stands for. Empty
    when PyTorch's names are already ``fn``'s."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return {}
    found: dict[str, Any] = dict((METHODS if method else FUNCTIONS).get(name, {}))
    if params and not method and params[0].name in OPERANDS and name not in FIRST_NOT_INPUT:
        found["input"] = params[0].name
    if len(params) > 1 and params[1].name == "b":
        found[SECOND.get(name, "other")] = "b"
    mine = {p.name: p for p in params}
    return {
        alias: own
        for alias, own in found.items()
        if alias != own and alias not in mine and own in mine and mine[own].kind in _NAMED
    }
