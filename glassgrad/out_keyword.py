"""PyTorch's ``out=`` on the top-level functions that compute a new tensor (``torch.where(c, a, b,
out=buf)``, ``torch.max(x, 1, out=(values, indices))``), given to all of them in one place.

``install`` replaces each function named in ``RULES``, and every alias bound to the same function
(``clip``, ``arccos``, ``greater`` ...), in the top-level namespace by a wrapper generated from its
signature: its own parameters plus keyword-only ``out``, so ``inspect.signature`` shows both and a
call without ``out`` costs one frame and one test. The ops the library calls internally
(``glassgrad.ops.*``) stay as they are. Given ``out``, ``out``'s dtype is checked against the op's
rule (below) and the result is written by ``composite.with_out``: resized, with PyTorch's warning,
when the shapes differ; refused when it partly overlaps an input or when autograd would be needed.
A function of several results (``max`` with a dim, ``std_mean``) takes a tuple of tensors and
returns them in its named tuple, as PyTorch.

Example:
    >>> import glassgrad as gg
    >>> buf = gg.empty(3)
    >>> gg.where(gg.tensor([True, False, True]), 1.0, 0.0, out=buf) is buf
    True
    >>> buf.tolist()
    [1.0, 0.0, 1.0]
"""

from __future__ import annotations

import functools
import inspect
from types import FunctionType
from typing import Any, Callable

import numpy as np

from glassgrad.arange_integral import warn_arange_resize
from glassgrad.dtypes import from_np_dtype, to_np_dtype
from glassgrad.errors import _SCALAR_TYPE_NAMES, DTypeError
from glassgrad.numpy_names import generated, taken_signature
from glassgrad.ops.composite import with_out
from glassgrad.ops.out_write import refuse_grad_inputs
from glassgrad.tensor import Tensor

__all__ = ["RULES", "install", "out_keyword"]

# What dtype ``out`` may have, per function, as PyTorch's kernels decide (probed on PyTorch 2.13):
_WHY = {
    # TensorIterator's canCast from the result's dtype: no float -> integer, no number -> bool,
    # no complex -> real (a bool result goes anywhere; an int result into a float out)
    "cast": "PyTorch casts the result only where no value is lost",
    # kernels that write their own dtype: rounding, indexing, triangles, where, clamp ...
    "same": "the op writes its result's dtype only",
    "bool": "the op writes a bool result only",
    # all/any: PyTorch's kernels also write a uint8 out (its legacy byte masks), from any input
    "bool_or_byte": "the op writes a bool or uint8 result only",
    # "cast", but PyTorch's std/var/nansum kernels have no complex out
    "real": "PyTorch casts the result only where no value is lost, and not to complex",
    # the sampler draws straight into out's dtype: any real one
    "sample": "the op samples into a real dtype only",
    # the op runs in out's dtype (cumsum/cumprod take it as their dtype=), any but bool
    "compute": "the op computes in out's dtype, which must not be bool",
    # sum and prod compute in out's dtype, bool included (a sum in bool is any, a product all)
    "reduce": "the op computes in out's dtype",
    # a function of several results each cast as "cast" (linalg.eig's complex results go into any
    # complex out, complex64 too; the tuple results' default is their own dtypes, as max/min's)
    "cast_each": "PyTorch casts each result only where no value is lost",
}
_SAME, _CAST, _BOOL, _REAL = "same", "cast", "bool", "real"
RULES: dict[str, str] = {
    **dict.fromkeys([
        "acos", "acosh", "angle", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_and",
        "bitwise_left_shift", "bitwise_or", "bitwise_right_shift", "bitwise_xor", "column_stack",
        "copysign", "cosh", "deg2rad", "diff", "dstack", "eq", "erf", "erfinv", "exp2", "expm1",
        "floor_divide", "fmax", "fmin", "logit", "xlogy", "digamma", "erfc", "i0", "sinc", "polygamma", "mvlgamma",
        "fmod", "ge", "gt", "hypot", "le", "lgamma", "log10", "log2", "logaddexp", "logaddexp2",
        "logical_and", "logical_not", "logical_or", "logical_xor", "logsumexp", "lt", "max",
        "maximum", "mean", "min", "minimum", "ne", "nextafter", "outer", "pow", "rad2deg",
        "reciprocal", "remainder", "sinh", "square", "tan"
    ], _CAST),
    **dict.fromkeys([
        "amax", "amin", "bitwise_not", "ceil", "clamp", "clamp_max", "clamp_min", "complex", "conj_physical", "diag",
        "float_power", "floor", "gather", "index_select", "logcumsumexp", "masked_select", "msort",
        "multinomial", "nan_to_num", "neg", "norm", "polar", "round", "sgn", "sign", "std_mean",
        "take_along_dim", "tril", "triu", "trunc", "var_mean", "where", "argmax", "argmin", "nonzero",
        "softmax", "log_softmax", "take", "frac", "absolute", "scatter", "scatter_add", "index_add",
        "index_copy", "scatter_reduce", "lu_solve"
    ], _SAME),
    # several results (values and int64 indices, or min and max): each out of its result's dtype
    **dict.fromkeys([
        "aminmax", "cummax", "cummin", "kthvalue", "median", "mode", "nanmedian", "sort", "topk",
        "qr", "slogdet", "svd", "lu_unpack"
    ], _SAME),
    **dict.fromkeys(["isneginf", "isposinf", "signbit"], _BOOL),
    **dict.fromkeys(["all", "any"], "bool_or_byte"),
    **dict.fromkeys(["std", "var", "nanmean", "nansum"], _REAL),
    "row_stack": _CAST,
    "bernoulli": "sample",
    "cumsum": "compute",
    "cumprod": "compute",
    "sum": "reduce",
    "prod": "reduce",
}  # fmt: skip


# PyTorch gives these a derivative (zero for the steps, unimplemented for nextafter, bernoulli's
# through its probabilities; cumsum/cumprod's even when computed in an integer out), so its out=
# refuses an input that requires grad; glassgrad's results of them may record no graph, so their
# inputs are asked instead of the result.
_DIFFERENTIABLE_IN_PYTORCH = frozenset(
    {"bernoulli", "ceil", "cumprod", "cumsum", "floor", "nextafter", "round", "sgn", "sign", "trunc"}
)
# PyTorch's samplers resize their out without its warning
_QUIET_RESIZE = frozenset({"bernoulli", "multinomial"})
# PyTorch builds these on arange(out=), so an out holding elements is resized with arange's warning
_ARANGE_RESIZE = frozenset({"fftfreq", "rfftfreq"})
# PyTorch's reductions, cummax/cummin and tril/triu/diag write an out that partly overlaps their
# input without refusing it (probed on PyTorch 2.13); so do max/min of one tensor without a dim
# and diff with prepend/append (it diffs a concatenated copy): no overlap check for them
_NO_OVERLAP_CHECK = frozenset(
    {"amax", "amin", "cummax", "cummin", "diag", "logsumexp", "mean", "nanmean", "norm", "std", "tril",
     "triu", "var"}
)  # fmt: skip


_CLAMPS = frozenset({"clamp", "clamp_min", "clamp_max", "clip"})
_COMPLEX_IN = frozenset({"std", "var"})


def _overlap_checked(op: str, args: tuple, result: Any) -> bool:
    if op in _NO_OVERLAP_CHECK:
        return False
    if op in ("max", "min"):  # max(x, dim) and max(x, y) are checked, max(x) is not
        return isinstance(result, tuple) or any(
            isinstance(t, Tensor) for a in args[1:] for t in (a if isinstance(a, tuple) else (a,))
        )
    if op == "diff":
        return args[3] is None and args[4] is None
    return True


def _allowed(rule: str, src: np.dtype, dst: np.dtype) -> bool:
    if rule == _SAME:
        return src == dst
    if rule == _BOOL:
        return dst.kind == "b"
    if rule == "bool_or_byte":
        return dst.kind == "b" or dst == np.uint8
    if rule == "sample":
        return dst.kind != "c"
    if rule == "reduce":
        return True
    if rule == "compute":
        return dst.kind != "b"
    if rule == _REAL and dst.kind == "c":
        return False
    if src.kind == "c" and dst.kind != "c":
        return False
    if src.kind in "fc" and dst.kind in "iub":
        return False
    return src.kind == "b" or dst.kind != "b"


def _check(op: str, rule: str, result: Tensor, out: Any) -> None:
    if isinstance(out, Tensor) and not _allowed(rule, result._data.dtype, out._data.dtype):
        pytorch = ""
        if op == "nonzero":  # its kernel checks out itself, in these words (PyTorch's tests match them)
            got = _SCALAR_TYPE_NAMES.get(out._data.dtype.name, out._data.dtype.name)
            pytorch = f"; Expected out tensor to have scalar type Long but got scalar type {got}"
        raise DTypeError(
            f"{op}: out= has dtype {from_np_dtype(out._data.dtype)}, which can't hold its result of "
            f"dtype {from_np_dtype(result._data.dtype)} ({_WHY[rule]}{pytorch})"
        )


def _write(result: Any, out: Any, op: str, args: tuple, rule: str) -> Any:
    """``result`` written into ``out`` (a tuple of tensors for a tuple of results), and ``out``."""
    # the tensors read, for with_out's overlap check: the arguments and those in a list of tensors
    inputs = [t for a in args for t in (a if isinstance(a, list | tuple) else (a,))]
    checked = inputs if _overlap_checked(op, args, result) else []
    if op in _DIFFERENTIABLE_IN_PYTORCH:
        refuse_grad_inputs(op, inputs)
    if op in _CLAMPS and any(isinstance(a, Tensor) for a in args[1:]):
        rule = _CAST  # a tensor bound is PyTorch's clamp.Tensor kernel, which casts into out
    if (
        rule == _REAL
        and op in _COMPLEX_IN
        and isinstance(args[0], Tensor)
        and args[0]._data.dtype.kind == "c"
    ):
        rule = _CAST  # a complex input's std/var kernel writes its real result into a complex out too
    if not isinstance(result, tuple):
        _check(op, rule, result, out)
        if op in _ARANGE_RESIZE and isinstance(out, Tensor) and out._data.size and out.shape != result.shape:
            warn_arange_resize(tuple(out.shape), out._data.size, result.numel())
        quiet = op in _QUIET_RESIZE or op in _ARANGE_RESIZE
        return with_out(result, out, op, checked, warn_resize=not quiet, cast=False)
    if op == "nonzero":  # PyTorch's Python-level as_tuple refuses any out= (its RuntimeError)
        raise RuntimeError("nonzero does not support the out kwarg when as_tuple is True")
    if not isinstance(out, list | tuple) or len(out) != len(result):
        raise TypeError(f"{op}: expected out= to be a tuple of {len(result)} tensors, got {out!r:.80}")
    each = _CAST if rule == "cast_each" else _SAME  # _SAME as PyTorch's max/min: values, int64 indices
    for r, o in zip(result, out):  # every dtype first, so that a refusal writes nothing
        _check(op, each, r, o)
    written = [with_out(r, o, op, checked, cast=False) for r, o in zip(result, out)]
    return type(result)(*written) if hasattr(result, "_fields") else tuple(written)


def _in_dtype_of(out: Any, dtype: Any, op: str) -> Any:
    """The ``dtype=`` a "compute" or "reduce" op runs in: out's, unless the call gives one, which
    must then be out's (PyTorch's rule). A complex out gets the real result cast (the same values:
    glassgrad's cumprod has no complex rule)."""
    if dtype is None and isinstance(out, Tensor) and out._data.dtype.kind != "c":
        return out.dtype
    return _dtype_of_out(out, dtype, op)


# the norms of a complex input computed in a complex dtype= give that dtype's real counterpart
# (norm(z, dtype=complex64) is float32), which is out's dtype (PyTorch 2.13)
_REAL_RESULT = frozenset({"vector_norm", "matrix_norm", "norm"})


def _dtype_of_out(out: Any, dtype: Any, op: str) -> Any:
    """``dtype``, checked against out's when both are given (PyTorch refuses a mismatch)."""
    want = None if dtype is None else to_np_dtype(dtype)
    if want is not None and want.kind == "c" and op in _REAL_RESULT:
        want = np.empty(0, want).real.dtype  # complex64 -> float32, complex128 -> float64
    if want is not None and isinstance(out, Tensor) and want != out._data.dtype:
        raise DTypeError(
            f"{op}: out= has dtype {from_np_dtype(out._data.dtype)} but dtype= asks for {dtype}; give "
            "them the same dtype, or leave dtype= out"
        )
    return dtype


# The functions whose ``out`` PyTorch takes positionally, after this parameter (torch.norm(input,
# p, dim, keepdim, out, dtype): its later parameters become positional too)
_OUT_AFTER = {"norm": "keepdim"}


def out_keyword(fn: Callable, name: str, rule: str) -> Callable:
    """``fn`` with PyTorch's keyword-only ``out=`` (see the module docstring); ``rule`` a key of ``_WHY``.

    The wrapper is generated with ``fn``'s own parameters, passed on as they came (as
    ``numpy_names`` does: no ``*args``/``**kwargs`` to build on every call)."""
    shown, sig = inspect.signature(fn), taken_signature(fn)
    env: dict[str, Any] = {"_fn": fn, "_write": _write, "_rule": rule, "_in_dtype_of": _in_dtype_of}
    env["_dtype_of_out"] = _dtype_of_out
    head: list[str] = []
    call: list[str] = []
    star = False  # whether the header has its * (or *args) yet
    posonly = False  # whether a positional-only parameter awaits its /
    after = _OUT_AFTER.get(name)  # out's place when PyTorch takes it positionally
    for p in sig.parameters.values():
        if posonly and p.kind is not p.POSITIONAL_ONLY:
            head.append("/")
            posonly = False
        text = p.name
        if p.default is not p.empty:
            env[f"_d_{p.name}"] = p.default
            text = f"{p.name}=_d_{p.name}"
        if p.kind is p.VAR_POSITIONAL:
            star = True
            head.append(f"*{p.name}")
            call.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            raise TypeError(f"out_keyword: {name} takes **{p.name}; give it out= by hand")
        elif p.kind is p.KEYWORD_ONLY:
            if not star and after is None:
                head.append("*")
                star = True
            head.append(text)
            call.append(f"{p.name}={p.name}")
        else:
            posonly = p.kind is p.POSITIONAL_ONLY
            head.append(text)
            call.append(p.name)
        if p.name == after:
            head.append("out=None")
    if posonly:
        head.append("/")
    if after is None:
        head += ([] if star else ["*"]) + ["out=None"]
    args = ", ".join(p.name for p in sig.parameters.values())
    # a dtype= must be out's; the "compute"/"reduce" ops run in out's when none is given
    pick = "_in_dtype_of" if rule in ("compute", "reduce") else "_dtype_of_out"
    compute = "dtype" in sig.parameters
    source = (
        f"def {name}({', '.join(head)}):\n"
        "    if out is None:\n"
        f"        return _fn({', '.join(call)})\n"
        + (f"    dtype = {pick}(out, dtype, {name!r})\n" if compute else "")
        + f"    return _write(_fn({', '.join(call)}), out, {name!r}, ({args},), _rule)\n"
    )
    wrapper = generated(source, name, env, f"<out= of {fn.__module__}.{fn.__qualname__}>", fn.__module__)
    functools.update_wrapper(wrapper, fn)
    one = shown.return_annotation in ("Tensor", Tensor)  # else it may return several (max, sort ...)
    kind = "Tensor | None" if one else "Tensor | tuple[Tensor, ...] | None"
    if after is None:
        out_param = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        wrapper.__signature__ = shown.replace(parameters=[*shown.parameters.values(), out_param])
    else:  # out positional after ``after``, the keyword-only parameters behind it positional too
        params, kw = [], inspect.Parameter.POSITIONAL_OR_KEYWORD
        for q in shown.parameters.values():
            params.append(q.replace(kind=kw) if q.kind is q.KEYWORD_ONLY else q)
            if q.name == after:
                params.append(inspect.Parameter("out", kw, default=None, annotation=kind))
        wrapper.__signature__ = shown.replace(parameters=params)
    wrapper.__out_keyword__ = True
    return wrapper


def install(namespace: dict[str, Any], names: list[str]) -> None:
    """Give the functions of ``RULES`` in ``namespace`` their ``out=``, under every name in
    ``names`` that is bound to one of them (PyTorch's aliases take ``out=`` too)."""
    made: dict[int, Callable] = {}
    for name, rule in RULES.items():
        fn = namespace.get(name)  # (a name gone from the namespace fails the signature test, not import)
        if isinstance(fn, FunctionType) and not getattr(fn, "__out_keyword__", False):
            made[id(fn)] = namespace[name] = out_keyword(fn, name, rule)
    for name in names:
        fn = namespace.get(name)
        if isinstance(fn, FunctionType) and id(fn) in made:
            namespace[name] = made[id(fn)]
