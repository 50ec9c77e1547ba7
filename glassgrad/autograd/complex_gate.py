"""The complex gate: ``Function.apply`` refuses an op on complex tensors unless the op is known to
give PyTorch's complex gradients.

Most backward rules are written for real numbers and would be silently wrong on complex values
(``mul``'s ``g * b`` must be ``g * conj(b)``; ``relu``, ``max`` and friends have no complex meaning
at all). So every ``Primitive`` has ``complex_ok = False`` unless its class says otherwise, and:

* once a complex tensor may exist (``dtypes.complex_seen``, set where complex data or a complex
  dtype enters: ``tensor()``, the factories' ``dtype=``, a cast, ``view_as_complex``, ``polar``,
  ``complex``, ``from_numpy``, unpickling), ``apply`` passes every op that is not complex-aware
  through :func:`gate`: an op with a complex operand is swapped for its complex *twin* when it has
  one (``TWINS``: ``mul`` -> ``complex_mul``, the same forward with a conjugating backward, from
  ``ops/complex_twins.py``), else refused with ``KernelDTypeError`` (a ``NotImplementedError``, as
  PyTorch's "not implemented for 'ComplexFloat'") naming the op, the operand and what is supported. A program that never makes a complex tensor pays one truth test per op;
* an op whose output is complex is recorded only when it is complex-aware (:func:`recordable`).

The convention (PyTorch's): for a real loss L and z = x + iy, ``z.grad = dL/dx + i dL/dy``. For a
holomorphic f, the gradient of its input is ``g * conj(f'(z))``; a real input of a complex op gets
the real part of that (what a real perturbation of it changes).
"""

from __future__ import annotations

from typing import Any

from glassgrad.dtypes import note_complex
from glassgrad.errors import DTypeError, KernelDTypeError

__all__ = [
    "TWINS", "gate", "recordable", "supported", "complex_operand", "refuse_unordered", "check_seed", "check_hook_result",
]  # fmt: skip

#: A real-only op's class -> its complex-aware twin (ops/complex_twins.py fills it).
TWINS: dict[type, type] = {}

#: The ops whose complex refusal is PyTorch's plain ``RuntimeError`` ("maximum not implemented for
#: complex tensors."), not a missing kernel's ``NotImplementedError`` as the rest.
_PLAIN_REFUSALS = frozenset({"maximum", "minimum", "fmax", "fmin", "nansum"})


def complex_operand(inputs: tuple) -> int:
    """The position of the first complex operand (a Tensor, an array or a Python complex), or -1."""
    for i, x in enumerate(inputs):
        a = getattr(x, "_data", x)
        dt = getattr(a, "dtype", None)
        if (dt is not None and dt.kind == "c") or isinstance(a, complex):
            return i
    return -1


def gate(cls: type, inputs: tuple) -> type:
    """``cls`` itself when no operand is complex, its twin when it has one, else ``KernelDTypeError``
    (``DTypeError`` for the ops PyTorch refuses with a plain ``RuntimeError``)."""
    i = complex_operand(inputs)
    if i < 0:
        return cls
    twin = TWINS.get(cls)
    if twin is not None:
        return twin
    x = inputs[i]
    what = str(getattr(getattr(x, "_data", x), "dtype", "a Python complex"))
    raise (DTypeError if cls.name in _PLAIN_REFUSALS else KernelDTypeError)(
        f"{cls.name}: complex tensors are not supported (input {i} is {what}); supported: {supported()}"
    )


def recordable(cls: type, out: Any) -> bool:
    """Whether an op's non-float output ``out`` is recorded: False unless it is complex; then True
    for a complex-aware op, else ``DTypeError`` (its backward was written for real numbers)."""
    if out.dtype.kind != "c":
        return False
    note_complex()  # a complex array appeared: from now on every op is checked
    if cls.complex_ok:
        return True
    raise DTypeError(
        f"{cls.name}: complex tensors are not supported (its output is complex); supported: {supported()}"
    )


def supported() -> str:
    """The names of the complex-aware ops, for error messages."""
    from glassgrad.autograd.function import REGISTRY  # function.py imports this module

    names = {c.name for c in REGISTRY.values() if c.complex_ok and c not in TWINS.values()}
    names |= {c.name for c in TWINS}
    return ", ".join(sorted(names))


def refuse_unordered(op: str, *operands: Any, kernel: bool = True) -> None:
    """Refuse complex operands (Tensors or arrays) of an op that needs an order or real parts
    alone (sort, argmax, trunc, floor_divide ...), as PyTorch does, naming the op: NumPy would
    order complex numbers lexicographically, or fail with a message of its own. The error is a
    ``KernelDTypeError`` (PyTorch's ``NotImplementedError``: "\"floor_cpu\" not implemented for
    'ComplexFloat'"), or with ``kernel=False`` a ``DTypeError``, for the ops PyTorch refuses with a
    plain ``RuntimeError`` (sort, topk, argmax, max along a dim: "does not support complex input")."""
    i = complex_operand(operands)
    if i >= 0:
        x = getattr(operands[i], "_data", operands[i])
        what = getattr(x, "dtype", "a Python complex")
        raise (KernelDTypeError if kernel else DTypeError)(
            f"{op}: expected real tensors, got {what} (complex numbers are unordered)"
        )


def check_seed(op: str, seed: Any, out: Any) -> None:
    """Refuse a gradient given for an output (``backward(gradient=)``, ``autograd.grad(grad_outputs=)``)
    when one of them is complex and the other is not, as PyTorch does: a complex gradient cast to a
    real output's dtype would lose its imaginary part, and a real one for a complex output is not
    the gradient of a real loss that PyTorch's convention needs. ``seed`` and ``out`` are arrays or
    Tensors (anything with a dtype)."""
    dt = getattr(seed, "dtype", None)
    if dt is not None and (dt.kind == "c") is not (out.dtype.kind == "c"):
        raise DTypeError(
            f"{op}: for complex tensors, both grad_output and output are required to have the same "
            f"dtype, got a {dt} gradient for a {out.dtype} output"
        )


def check_hook_result(hook: Any, grad: Any, new: Any) -> None:
    """Refuse a tensor hook's gradient of another dtype than the one it was given, as PyTorch
    ("hook has changed the type of value"): cast back, a complex one would lose its imaginary part
    silently, and a float32 one for a float64 tensor would pass on rounded values that PyTorch's
    program never computes (it stops there). ``grad`` and ``new`` are arrays."""
    if new.dtype != grad.dtype:
        name = getattr(hook, "__qualname__", type(hook).__name__)
        raise DTypeError(f"hook {name!r} has changed the type of value (was {grad.dtype}, got {new.dtype})")
