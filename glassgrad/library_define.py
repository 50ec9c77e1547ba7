"""``torch.library.Library`` and the functions ``define``, ``impl``, ``impl_abstract``: how
operators are declared and given kernels (the operators themselves and their dispatch are in
``library_ops.py``).

A ``Library`` records what it registered, and its registrations are undone when it is garbage
collected, as PyTorch's; ``define``/``impl`` without ``lib=`` keep a library of their own for the
life of the process.
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any, Callable

from glassgrad.library_ops import _TYPES, _packet, _tag_list, _target, fallthrough_kernel
from glassgrad.library_schema import parse_schema

__all__ = ["Library", "define", "impl", "impl_abstract"]

_DEF_NAMESPACES: set[str] = set()
_OVERRIDE_WARNED: list[bool] = []
_KEEP_ALIVE: list[Any] = []  # the libraries torch.library.define/impl made for themselves


def _undo(registrations: list, namespace: str | None) -> None:
    for overload, key, previous in reversed(registrations):
        if key == "def":
            overload._schema = overload._signature = None
        elif previous is None:
            overload._kernels.pop(key, None)
        else:
            overload._kernels[key] = previous
    if namespace is not None:
        _DEF_NAMESPACES.discard(namespace)


class Library:
    """``torch.library.Library(ns, kind, dispatch_key="")``: ``kind`` "DEF" (the one library that
    declares namespace ``ns``), "FRAGMENT" (more declarations) or "IMPL" (kernels only)."""

    def __init__(self, ns: str, kind: str, dispatch_key: str = "") -> None:
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError(f"Unsupported kind: {kind}")
        if not isinstance(ns, str) or not ns.isidentifier():
            raise ValueError(f"Library: expected a namespace name, got {ns!r}")
        if kind == "DEF" and ns in _DEF_NAMESPACES:
            raise RuntimeError(
                f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; please put all of "
                "your definitions in a single TORCH_LIBRARY block (use kind 'FRAGMENT' to add to it)"
            )
        if kind == "DEF":
            _DEF_NAMESPACES.add(ns)
        self.ns, self.kind, self.dispatch_key = ns, kind, dispatch_key
        self._registrations: list = []
        self._finalizer = weakref.finalize(self, _undo, self._registrations, ns if kind == "DEF" else None)

    def __repr__(self) -> str:
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema: str, alias_analysis: str = "", *, tags: Any = ()) -> str:
        """Declare the operator ``schema`` names; returns its name (``"name"`` or ``"name.overload"``)."""
        if self.kind == "IMPL":
            raise RuntimeError(
                f'def("{schema}"): Cannot define an operator inside of a TORCH_LIBRARY_IMPL block (kind "IMPL")'
            )
        tag_list = _tag_list(tags, "define")
        name, overload, signature, text = parse_schema(schema, self.ns)
        target = _packet(f"{self.ns}::{name}")._overload(overload)
        if target._schema is not None:
            raise RuntimeError(
                f"Tried to register an operator ({text}) with the same name and overload name multiple times"
            )
        target._schema, target._signature = text, signature
        target.tags = tag_list
        self._registrations.append((target, "def", None))
        return name if not overload else f"{name}.{overload}"

    def impl(
        self,
        op_name: Any,
        fn: Callable,
        dispatch_key: str = "",
        *,
        with_keyset: bool = False,
        allow_override: bool = False,
    ) -> None:
        """Give operator ``op_name`` kernel ``fn`` for ``dispatch_key`` (the library's, else
        CompositeImplicitAutograd); ``fallthrough_kernel`` registers nothing."""
        if not callable(fn):
            raise TypeError(f"Library.impl: expected a function as the kernel, got {type(fn).__name__}")
        if with_keyset:
            raise NotImplementedError(
                "Library.impl: with_keyset=True (a DispatchKeySet first argument) is not supported"
            )
        if fn is fallthrough_kernel:
            return
        key = dispatch_key or self.dispatch_key or "CompositeImplicitAutograd"
        target = _target(self.ns, op_name)
        if key in target._kernels and not allow_override and not _OVERRIDE_WARNED:
            _OVERRIDE_WARNED.append(True)  # once for all operators, as PyTorch
            warnings.warn(
                f"Overriding a previously registered kernel for the same operator and the same dispatch key: "
                f"{target.name()}, {key} (warned once for all operators; others may also be overridden)",
                UserWarning,
                stacklevel=2,
            )
        self._registrations.append((target, key, target._kernels.get(key)))
        target._kernels[key] = fn

    def _destroy(self) -> None:
        self._finalizer()


def _own_library(qualname: str, lib: Library | None) -> tuple[Library, str]:
    if not isinstance(qualname, str) or qualname.count("::") != 1:
        raise ValueError(f"library: expected a name 'namespace::op_name', got {qualname!r}")
    ns, name = qualname.split("::")
    if lib is None:
        lib = Library(ns, "FRAGMENT")
        _KEEP_ALIVE.append(lib)
    return lib, name


def define(
    qualname: Any, schema: Any = None, *, lib: Library | None = None, tags: Any = (), alias_analysis: str = ""
):
    """``torch.library.define("ns::name", "(Tensor x) -> Tensor")``; the older form
    ``define(lib, "name(Tensor x) -> Tensor")`` is a decorator that also gives the kernel."""
    if isinstance(qualname, Library):
        older = qualname

        def wrap(f: Callable) -> Callable:
            older.impl(older.define(schema, alias_analysis), f)
            return f

        return wrap
    lib, name = _own_library(qualname, lib)
    return lib.define(name + schema, tags=tags)


def impl(qualname: Any, types: Any, func: Callable | None = None, *, lib: Library | None = None) -> Any:
    """``torch.library.impl("ns::name", "cpu" | "default" | <key> | several)``: register ``func``, or
    return a decorator that does; the older form ``impl(lib, "name", key)`` is a decorator."""
    if isinstance(qualname, Library):
        older, name, key = qualname, types, func if isinstance(func, str) else ""

        def wrap_older(f: Callable) -> Callable:
            older.impl(name, f, key)
            return f

        return wrap_older
    keys = [types] if isinstance(types, str) else list(types)
    lib, name = _own_library(qualname, lib)

    def register(f: Callable) -> Callable:
        for t in keys:
            lib.impl(name, f, _TYPES.get(t, t))
        return f

    return register if func is None else register(func)


def impl_abstract(
    qualname: str, func: Callable | None = None, *, lib: Library | None = None, _stacklevel: int = 1
):
    """The older name of ``register_fake``: stored, never called."""
    from glassgrad.library import register_fake

    return register_fake(qualname, func, lib=lib)
