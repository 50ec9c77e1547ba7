"""Forward-mode (JVP) rules of the primitive ops, keyed by the op's registered name.

A rule maps the inputs' tangents to the output's tangent, t_z = J t:

    rule(ts, xs, z, attrs) -> array (the output's shape, or one that broadcasts to it) | None

``ts[i]`` is input i's tangent array (None: no tangent, i.e. zero), ``xs[i]`` its primal array
(or the constant passed there), ``z`` the op's output and ``attrs`` its keyword attributes.
Adding a rule is one function: decorate it with ``@rule("opname")``. Each rule's docstring gives
its formula. Three shapes of rule are generic, because most ops share them (each helper registers
the rule and returns it, for a rule that covers some variants with it):

- ``linear``: an op linear in some inputs (views, movement, indexing, sum, cat ...) maps the
  tangents with the op itself: t_z = f(t) (zeros for inputs without a tangent).
- ``multilinear``: a product (mul, matmul, einsum, conv): t_z = sum_i f(x_1, .., t_i, .., x_n).
- ``via_vjp`` kinds, for ops whose Jacobian has a structure that lets the op's own backward
  give J t exactly: ``elementwise`` (J diagonal per input, so J t = J^T t: backward with g = t),
  ``reduction`` (each input element feeds one output element: J t = sum over the reduced axes of
  backward(ones) * t). They run the op's forward once more to get what backward saves.

The common ops of a course (add ... tanh, softmax, layer_norm, matmul, conv2d) have explicit
formulas, the lesson of forward mode; the long tail uses the generic kinds.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import numpy as np

from glassgrad.autograd.function import REGISTRY, Node

__all__ = ["RULES", "rule", "refuse", "linear", "multilinear", "elementwise", "reduction", "scalar"]

#: op name -> JVP rule. ``tests/autograd/test_forward_ad_rules.py`` lists the ops without one.
RULES: dict[str, Callable] = {}


def rule(*names: str) -> Callable:
    """Register ``fn`` as the JVP rule of each op in ``names``."""

    def register(fn: Callable) -> Callable:
        for name in names:
            RULES[name] = fn
        return fn

    return register


# --- helpers ---------------------------------------------------------------------------------


def zero(ts: list, xs: list, i: int) -> Any:
    """Tangent i, or zeros of input i's shape when it has none."""
    return ts[i] if ts[i] is not None else np.zeros_like(xs[i])


@functools.cache
def _keywords(cls: type) -> frozenset | None:
    """The keyword attributes ``cls.forward`` takes (None: it takes any, ``**attrs``)."""
    params = inspect.signature(cls.forward).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params)


def run(name: str, arrays: list, attrs: dict) -> tuple[Any, Node]:
    """Run op ``name``'s forward on raw arrays with a fresh ctx: (output, ctx). Only the op's own
    keyword attributes are passed: a node's attrs also hold what forward put there for backward."""
    cls = REGISTRY[name]
    keys = _keywords(cls)
    attrs = {k: v for k, v in attrs.items() if keys is None or k in keys}
    ctx = Node(attrs)
    ctx.fn = cls
    # a gradient for every floating array (None and constants get none: backward may read them)
    ctx.needs_input_grad = [getattr(a, "dtype", None) is not None and a.dtype.kind in "fc" for a in arrays]
    ctx.shapes = [getattr(a, "shape", None) for a in arrays]
    return cls.forward(ctx, *arrays, **attrs), ctx


def _grads(ctx: Node, g: Any, ts: list) -> tuple:
    """The op's VJP of ``g``; an input with a tangent but no gradient there is refused."""
    out = ctx.fn.backward(ctx, g)
    out = out if isinstance(out, tuple) else (out,)
    for i, t in enumerate(ts):
        if t is not None and (i >= len(out) or out[i] is None):
            raise NotImplementedError(
                f"forward_ad: no forward-mode rule for op '{ctx.fn.name}' with a tangent on input {i}"
            )
    return out


def refuse(name: str, ts: list, diff: Any) -> None:
    """A tangent on an input outside ``diff`` (one the rule does not cover) raises, never dropped."""
    for i, t in enumerate(ts):
        if t is not None and i not in diff:
            raise NotImplementedError(
                f"forward_ad: no forward-mode rule for op '{name}' with a tangent on input {i}"
            )


def linear(name: str, diff: tuple | None = (0,), **fixed: Any) -> Callable:
    """``name`` is linear in the inputs at ``diff`` (jointly), the others constants (indices,
    masks, sizes); ``diff=None``: all inputs (cat, stack). t_z = f(t_diff, constants). ``fixed``
    attrs replace the op's own (a fill value becomes 0: the tangent of a constant)."""

    def jvp(ts, xs, z, attrs):
        where = range(len(xs)) if diff is None else diff
        refuse(name, ts, where)
        if all(ts[i] is None for i in where):
            return None
        args = [zero(ts, xs, i) if i in where else x for i, x in enumerate(xs)]
        return run(name, args, {**attrs, **fixed})[0]

    jvp.__doc__ = f"{name} is linear in inputs {diff}: t_z = {name}(t)."
    RULES[name] = jvp
    return jvp


def multilinear(name: str, diff: tuple | None = (0, 1)) -> Callable:
    """``name`` is linear in each input at ``diff`` separately (a product; ``diff=None``: every
    input, as einsum): t_z = sum_i f(x_1, .., t_i, .., x_n)."""

    def jvp(ts, xs, z, attrs):
        where = range(len(xs)) if diff is None else diff
        refuse(name, ts, where)
        total = None
        for i in where:
            if ts[i] is not None:
                args = list(xs)
                args[i] = ts[i]
                term = run(name, args, attrs)[0]
                total = term if total is None else total + term
        return total

    jvp.__doc__ = f"{name} is multilinear in inputs {diff}: t_z = sum_i {name}(.., t_i, ..)."
    RULES[name] = jvp
    return jvp


def elementwise(name: str) -> Callable:
    """``name`` is elementwise (z_k depends on each input at position k only, after broadcasting):
    J is diagonal per input, so J t = J^T t, and backward with g = t_i gives input i's term."""

    def jvp(ts, xs, z, attrs):
        _, ctx = run(name, list(xs), attrs)
        total = None
        for i, t in enumerate(ts):
            if t is not None:
                g = _grads(ctx, np.broadcast_to(t, z.shape).astype(z.dtype), ts)[i]
                total = g if total is None else total + g
        return total

    jvp.__doc__ = f"{name} is elementwise: t_z = sum_i dz/dx_i * t_i, from its VJP with g = t_i."
    RULES[name] = jvp
    return jvp


def reduction(name: str, axis_attr: str | None = "axis", keep_attr: str = "keepdims") -> Callable:
    """``name`` reduces over ``attrs[axis_attr]`` (all axes when None or absent): each input
    element feeds one output element, so backward(ones) holds dz_k/dx_j at every j, and
    t_z = sum over the reduced axes of backward(ones) * t."""

    def jvp(ts, xs, z, attrs):
        _, ctx = run(name, list(xs), attrs)
        grads = _grads(ctx, np.ones_like(z), ts)
        axis = attrs.get(axis_attr) if axis_attr else None
        keep = attrs.get(keep_attr, False)
        total = None
        for i, t in enumerate(ts):
            if t is not None:
                g = grads[i]
                term = np.sum(g * np.broadcast_to(t, g.shape), axis=axis, keepdims=keep)
                total = term if total is None else total + term
        return total

    jvp.__doc__ = f"{name} reduces: t_z = sum over the reduced axes of dz/dx * t, dz/dx from its VJP."
    RULES[name] = jvp
    return jvp


def scalar(name: str) -> Callable:
    """A rule for ``name`` when its output is one number (a loss with reduction 'mean'/'sum', a
    determinant): t_z = <grad z, t> with grad z = backward(1), exact."""

    def jvp(ts, xs, z, attrs):
        _, ctx = run(name, list(xs), attrs)
        grads = _grads(ctx, np.ones_like(z), ts)
        total = 0.0
        for i, t in enumerate(ts):
            if t is not None:
                total = total + np.sum(grads[i] * np.broadcast_to(t, grads[i].shape))
        return np.asarray(total).reshape(z.shape)

    return jvp


# --- elementwise arithmetic (ops/elementwise.py), each with its formula -----------------------


@rule("add")
def _add(ts, xs, z, attrs):
    """z = a + b:  t_z = t_a + t_b."""
    ta, tb = ts
    return tb if ta is None else ta if tb is None else ta + tb


@rule("sub")
def _sub(ts, xs, z, attrs):
    """z = a - b:  t_z = t_a - t_b."""
    ta, tb = ts
    return -tb if ta is None else ta if tb is None else ta - tb


@rule("mul")
def _mul(ts, xs, z, attrs):
    """z = a b:  t_z = t_a b + a t_b (the product rule)."""
    (ta, tb), (a, b) = ts, xs
    return (0 if ta is None else ta * b) + (0 if tb is None else a * tb)


@rule("div")
def _div(ts, xs, z, attrs):
    """z = a / b:  t_z = (t_a - z t_b) / b, PyTorch's grouping (1 / 0 with both tangents gives
    +-inf, where t_a / b - z t_b / b gives inf - inf = NaN)."""
    (ta, tb), b = ts, xs[1]
    if tb is None:
        return ta / b
    return ((0 if ta is None else ta) - z * tb) / b


@rule("pow", "floatpower")
def _pow(ts, xs, z, attrs):
    """z = a^b:  t_z = b a^(b-1) t_a + z ln(a) t_b (each term 0 where its factor vanishes:
    b = 0 for the first, a = 0 for the second, as in the VJP)."""
    # the VJP's a^(b-1), bit for bit (imported here: its module imports Tensor)
    from glassgrad.ops.pow_kernel import pow_array

    (ta, tb), (a, b) = ts, xs
    out = 0
    with np.errstate(all="ignore"):
        if ta is not None:
            out = out + np.where(b == 0, 0.0, b * pow_array(a, b - 1) * ta)
        if tb is not None:
            out = out + np.where((a == 0) & (np.real(b) >= 0), 0.0, z * np.log(a) * tb)
    return out


@rule("neg")
def _neg(ts, xs, z, attrs):
    """z = -a:  t_z = -t_a."""
    return -ts[0]


@rule("where")
def _where(ts, xs, z, attrs):
    """z = where(c, a, b):  t_z = where(c, t_a, t_b) (c gets no tangent)."""
    return np.where(xs[0], zero(ts, xs, 1), zero(ts, xs, 2))


def _pick(first: Any, ts: list, xs: list) -> Any:
    a, b = xs
    ta, tb = zero(ts, xs, 0), zero(ts, xs, 1)
    return np.where(a == b, (ta + tb) / 2, np.where(first, ta, tb))


@rule("maximum")
def _maximum(ts, xs, z, attrs):
    """z = max(a, b):  t_z = t_a where a > b, t_b where b > a, (t_a + t_b) / 2 at ties (as PyTorch)."""
    return _pick(xs[0] > xs[1], ts, xs)


@rule("minimum")
def _minimum(ts, xs, z, attrs):
    """z = min(a, b):  t_z = t_a where a < b, t_b where b < a, (t_a + t_b) / 2 at ties."""
    return _pick(xs[0] < xs[1], ts, xs)


# --- unary math (ops/unary.py) ---------------------------------------------------------------


@rule("exp")
def _exp(ts, xs, z, attrs):
    """z = e^a:  t_z = z t_a."""
    return z * ts[0]


@rule("log")
def _log(ts, xs, z, attrs):
    """z = ln a:  t_z = t_a / a."""
    return ts[0] / xs[0]


@rule("sqrt")
def _sqrt(ts, xs, z, attrs):
    """z = sqrt(a):  t_z = t_a / (2 z)."""
    return ts[0] / (2 * z)


@rule("abs")
def _abs(ts, xs, z, attrs):
    """z = |a|:  t_z = sign(a) t_a (0 at a = 0 and at NaN, as the VJP and PyTorch's sgn)."""
    from glassgrad.ops.unary import slope_sign  # (its module imports Tensor)

    return slope_sign(xs[0]) * ts[0]


@rule("sin")
def _sin(ts, xs, z, attrs):
    """z = sin a:  t_z = cos(a) t_a."""
    return np.cos(xs[0]) * ts[0]


@rule("cos")
def _cos(ts, xs, z, attrs):
    """z = cos a:  t_z = -sin(a) t_a."""
    return -np.sin(xs[0]) * ts[0]


@rule("tanh")
def _tanh(ts, xs, z, attrs):
    """z = tanh a:  t_z = (1 - z^2) t_a."""
    return (1 - z * z) * ts[0]


@rule("sigmoid")
def _sigmoid(ts, xs, z, attrs):
    """z = 1 / (1 + e^-a):  t_z = z (1 - z) t_a."""
    return z * (1 - z) * ts[0]


@rule("relu")
def _relu(ts, xs, z, attrs):
    """z = max(a, 0):  t_z = t_a where z > 0, else 0 (relu'(0) = 0)."""
    return np.where(z > 0, ts[0], 0.0)


@rule("clamp")
def _clamp(ts, xs, z, attrs):
    """z = min(max(a, lo), hi):  t_z = t_a where lo <= a <= hi, else 0 (as the VJP)."""
    a, lo, hi = xs[0], attrs.get("lo"), attrs.get("hi")
    inside = np.ones(a.shape, dtype=bool)
    if lo is not None:
        inside &= a >= lo
    if hi is not None:
        inside &= a <= hi
    return np.where(inside, ts[0], 0.0)


# The long tail of elementwise ops: J diagonal, so their own VJP gives the JVP (see elementwise).
# fmt: off
for _name in (
    "rsqrt", "reciprocal", "log1p", "expm1", "leaky_relu", "elu", "gelu", "silu", "softplus",
    "hardtanh", "hardsigmoid", "logsigmoid", "hardswish", "logit", "softshrink", "copysign", "fmod",
    "hypot", "logaddexp", "logaddexp2", "xlogy", "remainder", "tan", "asin", "acos",
    "atan", "sinh", "cosh", "erf", "asinh", "acosh", "atanh",
    "sinc", "frac", "frexp", "erfc", "erfinv", "lgamma", "digamma", "polygamma", "i0",
    "entr", "erfcx", "ndtr", "ndtri", "log_ndtr", "xlog1py", "i1", "i0e", "i1e", "zero_slope",
    "flat_pair", "compared",
):
    elementwise(_name)
# fmt: on


# The other families register their rules when imported (they use the helpers above).
from glassgrad.autograd import (  # noqa: E402, F401
    jvp_rules_linalg,
    jvp_rules_linear,
    jvp_rules_more,
    jvp_rules_nn,
    jvp_rules_ties,
    jvp_rules_transposed,
)
