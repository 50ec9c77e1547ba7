"""NumPy's keyword names on ``torch.*`` functions and ``Tensor`` methods: ``axis=`` for ``dim=``
and ``keepdims=`` for ``keepdim=``, as PyTorch's argument parser accepts them on every native
function (``counts.sum(1, keepdims=True)``, ``x.max(axis=0)``, ``torch.mean(x, axis=1)``).

PyTorch does this once, in the parser, for every signature with a ``dim`` or ``keepdim``
parameter; glassgrad does it once too: ``install`` wraps each public function and each ``Tensor``
method whose signature has one of those parameters, when ``glassgrad/__init__.py`` finishes
loading (``torch.linalg``, ``torch.fft`` and the two ``F`` functions PyTorch's parser builds,
``cosine_similarity`` and ``pairwise_distance``, get theirs from ``operand_errors.install(...,
native=...)`` at the end of their modules). The wrapper has the function's own parameters plus
keyword-only ``axis``/``keepdims`` (generated from its signature, so a call costs one frame and
builds no ``**kwargs`` dict). The functions PyTorch writes in Python (``split``, ``unique``,
``norm``, ``unflatten``) and the other ``F.*`` keep PyTorch's Python signatures (no aliases
there, as in PyTorch); ``x.sum(keepdim=True)``, without a dim, is PyTorch's TypeError.

Example:
    >>> import glassgrad as gg
    >>> gg.ones(2, 3).sum(1, keepdims=True).shape
    glassgrad.Size([2, 1])
    >>> gg.mean(gg.ones(2, 3), axis=0).tolist()
    [1.0, 1.0, 1.0]
"""

from __future__ import annotations

import functools
import inspect
import linecache
from types import FunctionType
from typing import Any, Callable

from glassgrad import operand_errors, torch_keywords
from glassgrad.operand_errors import is_operand, not_tensor
from glassgrad.torch_function_foreign import NOT_TAKEN, foreign_call, foreign_params

__all__ = ["ALIASES", "accept_numpy_names", "install", "taken_signature", "wants_numpy_names"]

ALIASES = {"axis": "dim", "keepdims": "keepdim"}  # NumPy's name -> PyTorch's

# Written in Python in PyTorch (torch/functional.py, torch/_tensor.py), so its parser never sees
# their arguments: they refuse axis=/keepdims= there, and so here.
PYTHON_IN_TORCH = frozenset({"split", "unique", "norm", "unflatten"})

# Reductions whose PyTorch signatures take keepdim only together with dim: there
# x.sum(keepdim=True) is a TypeError, not a sum of everything with the missing dim unnoticed.
# (max, min, median and nanmedian raise their own ShapeError for it.)
KEEPDIM_NEEDS_DIM = frozenset({"sum", "mean", "prod", "logsumexp"})

# PyTorch's ``var(input, unbiased)`` overloads: there a bool in dim's place is ``unbiased``.
_UNBIASED_FIRST = frozenset({"var", "std", "var_mean", "std_mean"})

_ABSENT: Any = type("NotGiven", (), {"__repr__": lambda self: "<not given>"})()
_PLAIN = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def taken_signature(fn: Any) -> inspect.Signature:
    """The parameters ``fn``'s code takes, for a wrapper generated from them: its signature, except
    for a function marked ``__overloads__`` (``max``/``min``), whose ``__signature__`` shows
    PyTorch's documented parameters while it takes ``*args`` to choose among PyTorch's overloads
    (a lone positional tensor is ``other``, ``dim=t`` a dim), so each argument must reach it as
    it came, not rebound by name."""
    if not getattr(fn, "__overloads__", False):
        return inspect.signature(fn)
    bare = FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    bare.__kwdefaults__ = fn.__kwdefaults__
    return inspect.signature(bare)


def _renamed(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in kwargs.items():
        new = ALIASES.get(key, key)
        if new in out or (new != key and new in kwargs):
            raise TypeError(f"{name}() got multiple values for argument '{new}' (as '{new}' and '{key}')")
        out[new] = value
    return out


def _one_of(name: str, arg: str, value: Any, alias: str, alias_value: Any) -> Any:
    if value is not _ABSENT and alias not in ALIASES:  # PyTorch's own name, given twice
        raise TypeError(f"{name}() got multiple values for argument '{alias}'")
    if value is not _ABSENT:
        raise TypeError(f"{name}() got multiple values for argument '{arg}' (as '{arg}' and '{alias}')")
    return alias_value


def _missing(name: str, arg: str) -> None:
    raise TypeError(f"{name}() missing required argument '{arg}'")


def _wanted(fn: Any, name: str, method: bool) -> dict[str, str]:
    """The other names ``fn`` should take (alias -> parameter): NumPy's where ``wants_numpy_names`` says
    so, PyTorch's operand names where ours differ; none for a function wrapped already."""
    if not isinstance(fn, FunctionType) or getattr(fn, "__numpy_names__", False):
        return {}
    found = dict(ALIASES) if name not in PYTHON_IN_TORCH and wants_numpy_names(fn) else {}
    try:
        params = taken_signature(fn).parameters.values()
    except (TypeError, ValueError):
        return found
    if all(p.kind in _PLAIN for p in params):  # (a *args signature gets NumPy's names only)
        found.update(torch_keywords.aliases(name, fn, method))
    return found


def _strict_flags(fn: Any) -> bool:
    """Whether ``fn``, a plain function not wrapped yet, has a flag PyTorch's parser checks."""
    if not isinstance(fn, FunctionType) or getattr(fn, "__numpy_names__", False):
        return False
    try:
        params = taken_signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.kind in _PLAIN for p in params) and any(
        p.name in operand_errors.STRICT_FLAGS and p.default in (True, False, None) for p in params
    )


def _no_dim(name: str) -> None:
    raise TypeError(f"{name}() got keepdim without dim: PyTorch's {name} takes keepdim with a dim")


def accept_numpy_names(
    fn: Callable, name: str | None = None, aliases: dict[str, str] | None = None
) -> Callable:
    """``fn`` taking ``axis=``/``keepdims=`` as its ``dim=``/``keepdim=`` (TypeError if both
    spellings of one are given), or the other names of ``aliases`` (alias -> ``fn``'s parameter;
    PyTorch's ``input=``/``other=`` from torch_keywords.py) where ``fn``'s parameters are all
    named. ``inspect.signature`` and ``inspect.getsource`` of the result are ``fn``'s (through
    ``__wrapped__``)."""
    name = name or fn.__name__
    params = list(taken_signature(fn).parameters.values())
    plain = all(p.kind in _PLAIN for p in params)
    wrapper = (
        _exact(fn, name, params, ALIASES if aliases is None else aliases)
        if plain
        else _generic(fn, name, params)
    )
    functools.update_wrapper(wrapper, fn)
    wrapper.__numpy_names__ = True
    wrapper.__keyword_aliases__ = dict(ALIASES if aliases is None else aliases)
    return wrapper


def _generic(fn: Callable, name: str, params: list[inspect.Parameter]) -> Callable:
    """The wrapper of a function taking ``*args``/``**kwargs`` (the in-place methods, ``max``/``min``),
    generated as :func:`_exact`'s is: its code is the op's wrapper (named after it, its text kept
    for tracebacks), not a closure of this file that the ``__torch_function__`` wrappers unwrap to."""
    named = [p for p in params if p.kind in _PLAIN]
    first = named[0].name if named and is_operand(named[0]) else None  # (only a first operand is named)
    # None for a first operand without a default is refused too (``torch.sin_(None)``)
    required = int(first is not None and named[0].default is inspect.Parameter.empty)
    env: dict[str, Any] = {"_fn": fn, "_renamed": _renamed, "_foreign_call": foreign_call}
    env.update(_NOT_TAKEN=NOT_TAKEN, _not_tensor=not_tensor)
    body = [
        'if "axis" in kwargs or "keepdims" in kwargs:',
        f"    kwargs = _renamed({name!r}, kwargs)",
        "try:",
        "    return _fn(*args, **kwargs)",
        # a type of __torch_function__ (not asked yet) may take the call over
        "except Exception as _e:",
        "    if (_out := _foreign_call(_me, args, kwargs)) is not _NOT_TAKEN:",
        "        return _out",
    ]
    if first is not None:
        body += [
            "    if isinstance(_e, AttributeError):",
            f"        _not_tensor(_e, {name!r}, (args[0] if args else kwargs.get({first!r}),), ('input',), {required})",
        ]
    body.append("    raise")
    source = f"def {name}(*args, **kwargs):\n" + "".join(f"    {line}\n" for line in body)
    env["_me"] = generated(
        source, name, env, f"<numpy names of {fn.__module__}.{fn.__qualname__}>", fn.__module__
    )
    return env["_me"]


def _exact(fn: Callable, name: str, params: list[inspect.Parameter], aliases: dict[str, str]) -> Callable:
    """The wrapper of a function of named parameters, generated with ``fn``'s parameters plus
    keyword-only ``axis``/``keepdims``: a call builds no ``**kwargs`` dict, so it costs one frame,
    with keywords or without (``x.sum(1, keepdim=True)`` is common and small). ``dim``/``keepdim``
    default to a marker there, to tell "given" from "left at its default"; a required parameter
    after them gets the marker too (a signature has no required parameter after a default) and a
    TypeError, naming PyTorch's name for it, when it is still missing."""
    env: dict[str, Any] = {"_fn": fn, "_absent": _ABSENT, "_one_of": _one_of, "_missing": _missing}
    env["_no_dim"] = _no_dim
    env["_not_tensor"] = not_tensor
    env.update(_flag=operand_errors.flag, _bool_dim=operand_errors.bool_dim)
    env.update(_foreign=foreign_params, _NOT_TAKEN=NOT_TAKEN)
    head, call, marked = [], [], []
    for p in params:
        positional = p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        if not positional and "*" not in head:
            head.append("*")
        if p.name in aliases.values() or (positional and p.default is p.empty and marked):
            marked.append(p)
            head.append(f"{p.name}=_absent")
        elif p.default is not p.empty:
            env[f"_default_{p.name}"] = p.default
            head.append(f"{p.name}=_default_{p.name}")
        else:
            head.append(p.name)
        call.append(p.name if positional else f"{p.name}={p.name}")
    given = {p.name for p in params}
    # each parameter as a message names it: PyTorch's name where it has another (input, other)
    shown = {
        p.name: next((a for a, arg in aliases.items() if arg == p.name and a not in ALIASES), p.name)
        for p in params
    }
    body = []
    for alias, arg in aliases.items():
        if arg in given:
            if "*" not in head:
                head.append("*")
            head.append(f"{alias}=_absent")
            body.append(
                f"if {alias} is not _absent: {arg} = _one_of({name!r}, {arg!r}, {arg}, {alias!r}, {alias})"
            )
    if name in KEEPDIM_NEEDS_DIM and {"dim", "keepdim"} <= given:
        body.append(f"if dim is _absent and keepdim is not _absent: _no_dim({name!r})")
    for p in marked:
        if p.default is p.empty:
            body.append(f"if {p.name} is _absent: _missing({name!r}, {shown[p.name]!r})")
        else:
            env[f"_default_{p.name}"] = p.default
            body.append(f"if {p.name} is _absent: {p.name} = _default_{p.name}")
    # PyTorch's parser takes only a bool for its flags and an int for a dim (operand_errors)
    for p in params:
        none_ok = p.default is None or p.name in operand_errors.NONE_IS_DEFAULT
        if (
            p.name in operand_errors.STRICT_FLAGS
            and not none_ok
            and (p.default is False or p.default is True)
        ):
            body.append(
                f"if {p.name} is not True and {p.name} is not False: _flag({name!r}, {p.name!r}, {p.name})"
            )
        elif p.name in operand_errors.STRICT_FLAGS and none_ok and p.default in (True, False, None):
            body.append(
                f"if {p.name} is not None and {p.name} is not True and {p.name} is not False: "
                f"_flag({name!r}, {p.name!r}, {p.name})"
            )
        elif p.name in operand_errors.DIM_NAMES and name not in _UNBIASED_FIRST:
            body.append(f"if {p.name}.__class__ is bool: _bool_dim({name!r}, {p.name!r}, {p.name})")
    # (zero-cost on success: a non-tensor operand, torch.exp([1.0]), becomes PyTorch's TypeError)
    # the operands, those without a default first (a None there is PyTorch's TypeError too)
    operands = sorted((p for p in params if is_operand(p)), key=lambda p: p.default is not p.empty)
    values = "".join(f"{p.name}, " for p in operands)
    required = sum(p.default is p.empty for p in operands)
    shown_operands = tuple(shown[p.name] for p in operands)
    # (also zero-cost: a call that fails with an argument of a type implementing __torch_function__,
    # linear_operator's torch.add(linear_op, t), is handed to it, as PyTorch's would have been first)
    given_now = ", ".join(f"{p.name!r}: {p.name}" for p in params)
    env["_shown"] = shown
    body += ["try:", f"    return _fn({', '.join(call)})", "except Exception as _e:"]
    body += [
        f"    _r = _foreign(_me, _fn, {{{given_now}}}, _shown)",
        "    if _r is not _NOT_TAKEN:",
    ]
    body += ["        return _r", "    if isinstance(_e, AttributeError):"]
    body += [f"        _not_tensor(_e, {name!r}, ({values}), {shown_operands!r}, {required})", "    raise"]
    source = f"def {name}({', '.join(head)}):\n" + "".join(f"    {line}\n" for line in body)
    env["_me"] = generated(
        source, name, env, f"<numpy names of {fn.__module__}.{fn.__qualname__}>", fn.__module__
    )
    return env["_me"]


def generated(source: str, name: str, env: dict[str, Any], filename: str, module: str) -> Callable:
    """The function ``name`` defined by ``source`` (text made from a signature only) in ``env``,
    its text kept for tracebacks through it (as the dataclasses module keeps its own). Its
    globals are named ``module`` (the wrapped function's), so that walks out of glassgrad's frames
    (``user_frames``) count it as glassgrad's."""
    env["__name__"] = module
    exec(compile(source, filename, "exec"), env)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return env[name]


def wants_numpy_names(fn: Any) -> bool:
    """Whether ``fn`` is a plain function with a ``dim`` or ``keepdim`` parameter (and no
    ``axis``/``keepdims`` of its own), not wrapped yet."""
    if not isinstance(fn, FunctionType) or getattr(fn, "__numpy_names__", False):
        return False
    try:
        params = taken_signature(fn).parameters
    except (TypeError, ValueError):
        return False
    if not params.keys().isdisjoint(ALIASES):
        return False
    return any(
        p in params and params[p].kind is not inspect.Parameter.POSITIONAL_ONLY for p in ALIASES.values()
    )


def install(namespace: dict[str, Any], names: list[str], cls: type) -> None:
    """Wrap the functions ``namespace[name]`` (for ``name`` in ``names``) and ``cls``'s methods
    that take ``dim``/``keepdim``, in place (see the module docstring), and the in-place forms of
    those methods (``x.unsqueeze_(axis=0)``, ``x.cumprod_(axis=1)``, as PyTorch's parser); then
    every other function with a tensor operand, for PyTorch's TypeError (``operand_errors``)."""
    for name in names:
        fn = namespace.get(name)
        if found := _wanted(fn, name, method=False):
            namespace[name] = accept_numpy_names(fn, name, found)
        elif name in torch_keywords.VARARGS and isinstance(fn, FunctionType):
            namespace[name] = torch_keywords.with_varargs(fn, name, method=False)
    methods = vars(cls)
    for name, fn in list(methods.items()):
        if not name.startswith("__") and (found := _wanted(fn, name, method=True)):
            setattr(cls, name, accept_numpy_names(fn, name, found))
        elif not name.startswith("_") and _strict_flags(fn):  # t.multinomial(2, replacement=1)
            setattr(cls, name, accept_numpy_names(fn, name, {}))
        elif name in torch_keywords.VARARGS and isinstance(fn, FunctionType):
            setattr(cls, name, torch_keywords.with_varargs(fn, name, method=True))
    for name, fn in list(methods.items()):
        base = methods.get(name[:-1]) if name.endswith("_") else None
        if (
            "axis" in getattr(base, "__keyword_aliases__", ())
            and isinstance(fn, FunctionType)
            and not wants_numpy_names(fn)
        ):
            setattr(cls, name, accept_numpy_names(fn, name))
    operand_errors.install(namespace, names)  # the remaining functions: PyTorch's TypeError only
