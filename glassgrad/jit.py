"""``glassgrad.jit``: TorchScript's names, so that scripts which ``import torch.jit`` (or
``from torch.jit import script, trace``) still import and run eagerly.

glassgrad has no graph compiler (TorchScript is out of scope by design, like ``compile`` and
ONNX export). A scripted or traced function computes what the eager one computes, so
:func:`script` and :func:`trace` return what they are given; the decorators that steer the
compiler (:func:`ignore`, :func:`unused`, :func:`export`) return the function unchanged.
Serialising a compiled program (:func:`save`, :func:`load`) raises: save the ``state_dict``
with ``glassgrad.save`` instead.

>>> import glassgrad as gg
>>> import glassgrad.jit
>>> model = gg.nn.Linear(2, 1)
>>> import warnings
>>> with warnings.catch_warnings():  # TorchScript is deprecated in PyTorch too: both warn
...     warnings.simplefilter("ignore", DeprecationWarning)
...     print(glassgrad.jit.script(model) is model, glassgrad.jit.trace(model, gg.zeros(1, 2)) is model)
True True
>>> glassgrad.jit.is_scripting()
False
"""

from __future__ import annotations

import functools
import typing
import warnings
from typing import Any, Callable, TypeVar

from glassgrad import jit_annotations as annotations
from glassgrad.futures import Future
from glassgrad.jit_isinstance import jit_isinstance
from glassgrad.nn.modules.module import Module

# `from torch.jit.annotations import List`: a submodule needs a package (a __path__) and a registered name
__path__: list[str] = []
__import__("sys").modules[__name__ + ".annotations"] = annotations

__all__ = [
    "Error",
    "Final",
    "Future",
    "fork",
    "wait",
    "annotate",
    "ScriptFunction",
    "ScriptModule",
    "enable_onednn_fusion",
    "export",
    "freeze",
    "ignore",
    "interface",
    "isinstance",
    "onednn_fusion_enabled",
    "set_fusion_strategy",
    "optimize_for_inference",
    "is_scripting",
    "is_tracing",
    "load",
    "save",
    "script",
    "script_if_tracing",
    "script_method",
    "trace",
    "trace_module",
    "unused",
]

T = TypeVar("T")

# `Final[int]` in a module's class body only tells the compiler an attribute is constant; it must
# stay subscriptable (PyTorch's is typing.Final).
Final = typing.Final


class TracerWarning(Warning):
    """The warning ``trace`` gives about code it cannot record faithfully (PyTorch's class, for
    code that filters it: ``warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)``).
    Nothing traces here, so glassgrad never raises it."""

    @staticmethod
    def ignore_lib_warnings() -> None:
        warnings.filterwarnings("ignore", category=TracerWarning, module="glassgrad.(?!jit)")


class Error(Exception):
    """``torch.jit.Error``: the exception a TorchScript program raises for a failed check inside
    compiled code (an ``Exception``, not a ``RuntimeError``, as PyTorch's). Nothing is compiled
    here, so glassgrad never raises it: a scripted or traced module runs eagerly and raises the
    eager error (a ``RuntimeError`` subclass for a bad shape). Programs name it in ``except``
    clauses (e3nn's ``except (torch.jit.Error, RuntimeError)``), which must evaluate."""


class ScriptModule(Module):
    """``torch.jit.ScriptModule``: a plain :class:`~glassgrad.nn.Module` run eagerly.

    Older programs subclass it and mark methods with :func:`script_method` (RWKV's
    ``class RWKV_RNN(torch.jit.ScriptModule)``); such a subclass is an ordinary Module here.
    :func:`script` returns its argument, so a scripted Module is never an instance of this class
    and ``isinstance(script(m), torch.jit.ScriptModule)`` stays False.
    """


class ScriptFunction:
    """Never instantiated: present so that ``isinstance(f, torch.jit.ScriptFunction)`` is False."""


def _check_callable(op: str, obj: Any) -> None:
    if not callable(obj):
        raise TypeError(f"jit.{op}: expected a Module or a function, got {type(obj).__name__}")
    # PyTorch 2.13 deprecates TorchScript with this warning category; scripts filter on it. Like
    # PyTorch's, the warning is attributed to the jit module itself (stacklevel=2: `script`), not
    # to the caller, so Python's default filters hide it in a script's __main__ as they hide PyTorch's
    warnings.warn(
        f"jit.{op} is deprecated in PyTorch (use compile); glassgrad returns its argument to run eagerly",
        DeprecationWarning,
        stacklevel=2,  # (fixed: attributed to glassgrad, as PyTorch attributes it to its module)
    )


def script(obj: T, *args: Any, **kwargs: Any) -> T:
    """``torch.jit.script``: returns ``obj`` itself (a Module, function or class), run eagerly."""
    _check_callable("script", obj)
    return obj


def script_method(fn: T) -> T:
    """``torch.jit.script_method``: returns the method itself, run eagerly (on a
    :class:`ScriptModule` subclass or anywhere else)."""
    _check_callable("script_method", fn)
    return fn


def trace(func: T, example_inputs: Any = None, *args: Any, **kwargs: Any) -> T:
    """``torch.jit.trace``: returns ``func`` itself; nothing is recorded, so data-dependent
    control flow keeps working (a real trace would freeze the branch the example took)."""
    _check_callable("trace", func)
    return func


def script_if_tracing(fn: Callable[..., T]) -> Callable[..., T]:
    """``torch.jit.script_if_tracing``: a wrapper (``functools.wraps``, with PyTorch's
    ``__original_fn`` attribute) that calls ``fn``; glassgrad never traces, so nothing is scripted."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        return fn(*args, **kwargs)

    wrapper.__original_fn = fn  # type: ignore[attr-defined]
    wrapper.__script_if_tracing_wrapper = True  # type: ignore[attr-defined]
    return wrapper


def freeze(mod: T, preserved_attrs: Any = None, optimize_numerics: bool = True) -> T:
    """``torch.jit.freeze``: returns ``mod`` itself (nothing was scripted, so nothing to inline)."""
    _check_callable("freeze", mod)
    return mod


def optimize_for_inference(mod: T, other_methods: Any = None) -> T:
    """``torch.jit.optimize_for_inference``: returns ``mod`` itself, run eagerly."""
    _check_callable("optimize_for_inference", mod)
    return mod


_onednn_fusion = [False]


def enable_onednn_fusion(enabled: bool) -> None:
    """``torch.jit.enable_onednn_fusion``: kept (``onednn_fusion_enabled`` reads it back); NumPy
    has no oneDNN graph to fuse."""
    _onednn_fusion[0] = bool(enabled)


def onednn_fusion_enabled() -> bool:
    return _onednn_fusion[0]


_fusion_strategy: list[list[tuple[str, int]]] = [[("STATIC", 2), ("DYNAMIC", 10)]]  # PyTorch's default


def set_fusion_strategy(strategy: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``torch.jit.set_fusion_strategy``: kept and the previous one returned, as PyTorch's (nequip
    sets it on start-up); nothing is compiled, so nothing fuses. Checked as PyTorch checks it: a
    list of ``(kind, depth)`` pairs, kind "STATIC" or "DYNAMIC", depth a non-negative int."""
    if not isinstance(strategy, list | tuple) or not all(
        isinstance(p, list | tuple) and len(p) == 2 and isinstance(p[0], str) for p in strategy
    ):
        raise TypeError(f"set_fusion_strategy: expected a list of (str, int) pairs, got {strategy!r}")
    for kind, depth in strategy:
        if kind not in ("STATIC", "DYNAMIC"):
            raise ValueError(f"FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: {kind}")
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
            raise TypeError(
                f"set_fusion_strategy: expected a non-negative int depth, got {depth!r} for {kind}"
            )
    warnings.warn(  # PyTorch 2.13's, attributed to the jit module as PyTorch's is
        "jit.set_fusion_strategy is deprecated in PyTorch (use compile); glassgrad fuses nothing",
        DeprecationWarning,
        stacklevel=1,
    )
    previous = _fusion_strategy[0]
    _fusion_strategy[0] = [(kind, int(depth)) for kind, depth in strategy]
    return previous


def trace_module(mod: T, inputs: Any = None, *args: Any, **kwargs: Any) -> T:
    """``torch.jit.trace_module``: returns ``mod`` itself."""
    _check_callable("trace_module", mod)
    return mod


def _identity_decorator(fn: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
    # Usable bare (`@ignore`) or called (`@ignore(drop=True)`), as PyTorch's.
    if fn is None:
        return lambda f: f
    return fn


ignore = _identity_decorator
unused = _identity_decorator
export = _identity_decorator


def _overload(func: T) -> T:
    """``torch.jit._overload``: declares one typed signature of a function for the compiler
    (torchvision's DenseNet marks two ``forward`` stubs with the method form). Eagerly the
    declaration is returned as is; the plain ``def`` that follows it is the one that runs."""
    return func


_overload_method = _overload


def interface(obj: T) -> T:
    """``torch.jit.interface``: declares a class as a TorchScript interface type (MONAI's DiNTS
    ``@torch.jit.interface class CellInterface(torch.nn.Module)``); eagerly the class itself, as
    PyTorch's returns it."""
    return obj


def annotate(the_type: Any, the_value: T) -> T:
    """``torch.jit.annotate``: gives the compiler the type of ``the_value`` (``annotate(List[Tensor],
    [])``); eagerly it returns ``the_value`` itself, as PyTorch's does."""
    return the_value


def fork(func: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    """``torch.jit.fork``: runs ``func(*args, **kwargs)`` now (eagerly, as PyTorch does outside
    TorchScript) and returns a completed :class:`~glassgrad.futures.Future` holding its result."""
    _warn_async("fork")
    fut: Future[T] = Future()
    fut.set_result(func(*args, **kwargs))
    return fut


def wait(future: Future[T]) -> T:
    """``torch.jit.wait``: the result of a future from :func:`fork`."""
    _warn_async("wait")
    return future.wait()


def _warn_async(op: str) -> None:
    # deprecated in PyTorch 2.13 with TorchScript; attributed to jit.py itself, as _check_callable does
    warnings.warn(
        f"jit.{op} is deprecated in PyTorch (use compile); glassgrad runs it eagerly",
        DeprecationWarning,
        stacklevel=2,  # (fixed: attributed to glassgrad, as PyTorch attributes it to its module)
    )


def is_scripting() -> bool:
    """False: code under glassgrad always runs eagerly."""
    return False


def is_tracing() -> bool:
    """False: code under glassgrad is never traced."""
    return False


def save(m: Any, f: Any, *args: Any, **kwargs: Any) -> None:
    """Not supported: there is no compiled program to serialise."""
    raise NotImplementedError(
        "jit.save: glassgrad has no TorchScript; save the weights with glassgrad.save(model.state_dict(), path)"
    )


def load(f: Any, *args: Any, **kwargs: Any) -> Any:
    """Not supported: TorchScript archives cannot be read."""
    raise NotImplementedError(
        "jit.load: glassgrad cannot read TorchScript archives; load a state_dict instead"
    )


# `torch.jit.isinstance(x, Dict[str, Tensor])` (MONAI's BasicUNet, NetAdapter), bound last as a
# module global: code in this module calls ``builtins.isinstance`` (it has none now)
globals()["isinstance"] = jit_isinstance
