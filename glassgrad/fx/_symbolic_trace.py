"""``torch.fx.Tracer`` and ``symbolic_trace``: run ``forward`` on ``Proxy`` placeholders and record
each call as a node. While tracing, ``Module.__call__`` and ``Module.__getattr__`` are patched (as
PyTorch's tracer patches them): a leaf module's call becomes one ``call_module`` node, a root
parameter read a ``get_attr`` node; functions marked with ``fx.wrap`` (and ``math``'s, called from
traced code) become ``call_function`` nodes when given a Proxy."""

from __future__ import annotations

import builtins
import functools
import inspect
import math
from collections.abc import Callable
from types import FunctionType
from typing import Any

from glassgrad.fx._compatibility import compatibility  # noqa: F401 - PyTorch's name here too
from glassgrad.fx._tracing_state import (
    ProxyableClassMeta,
    _proxyable_classes,
    is_fx_tracing,
    set_fx_tracing,
)
from glassgrad.fx.graph import Graph
from glassgrad.fx.node import map_aggregate
from glassgrad.fx.proxy import Proxy, TracerBase

__all__ = ["PH", "ProxyableClassMeta", "Tracer", "is_fx_tracing", "symbolic_trace", "wrap"]

# (id of the calling module's globals, function name) -> those globals: the fx.wrap leaves
_wrapped: dict[tuple[int, str], dict[str, Any]] = {}
_HAS_VARSTUFF = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


class _PH:
    """``fx.PH``: in ``concrete_args``, a value that stays a placeholder."""

    def __repr__(self) -> str:
        return "PH"


PH = _PH()


def wrap(fn_or_name: Callable[..., Any] | str) -> Callable[..., Any] | str:
    """Mark a module-level function as a leaf for tracing (a ``call_function`` node when given a
    Proxy) and return it unchanged. Only at a module's top level, as PyTorch's."""
    if callable(fn_or_name):
        name = fn_or_name.__name__
    elif isinstance(fn_or_name, str):
        name = fn_or_name
    else:
        raise RuntimeError(
            f"fx.wrap: expected a function or the name of a module-level function, got {type(fn_or_name).__name__}"
        )
    caller = inspect.currentframe().f_back  # type: ignore[union-attr]
    if caller is None or caller.f_code.co_name != "<module>":
        raise NotImplementedError(
            f"fx.wrap({name!r}): only supported at the top level of a module, not inside a function"
        )
    _wrapped[(id(caller.f_globals), name)] = caller.f_globals
    return fn_or_name


def _assert_is_none(value: Any, msg: str) -> None:
    if value is not None:
        raise AssertionError(msg)


def _find_proxy(*objects: Any) -> Proxy | None:
    found: list[Proxy] = []

    def look(x: Any) -> None:
        if isinstance(x, Proxy) and not found:
            found.append(x)

    map_aggregate(objects, look)
    return found[0] if found else None


def _create_wrapped_func(orig_fn: Callable) -> Callable:
    @functools.wraps(orig_fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        proxy = _find_proxy(args, kwargs)
        if proxy is not None:
            out = proxy.tracer.create_proxy("call_function", orig_fn, args, kwargs)
            out.node.meta["is_wrapped"] = True
            return out
        return orig_fn(*args, **kwargs)

    return wrapped


class _Patcher:
    """Sets attributes and dict entries for the length of a trace, then puts them back."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self._seen: set[tuple[int, str]] = set()

    def patch(self, frame_dict: dict, name: str, new_fn: Callable) -> None:
        if (id(frame_dict), name) in self._seen:
            return
        self._seen.add((id(frame_dict), name))
        if name in frame_dict:
            orig = frame_dict[name]
            self._undo.append(lambda: frame_dict.__setitem__(name, orig))
        else:
            self._undo.append(lambda: frame_dict.pop(name, None))
        frame_dict[name] = new_fn

    def patch_method(self, cls: type, name: str, new_fn: Callable) -> None:
        orig = cls.__dict__[name]
        self._undo.append(lambda: setattr(cls, name, orig))
        setattr(cls, name, new_fn)

    def __enter__(self) -> _Patcher:
        return self

    def __exit__(self, *exc: Any) -> None:
        while self._undo:
            self._undo.pop()()


def _autowrap_check(patcher: _Patcher, frame_dict: dict, function_ids: set[int]) -> None:
    for name, value in list(frame_dict.items()):
        if not name.startswith("_") and callable(value) and id(value) in function_ids:
            patcher.patch(frame_dict, name, _create_wrapped_func(value))


def _patch_function(fn: FunctionType, nargs: int) -> FunctionType:
    """``fn`` with its ``*args``/``**kwargs`` (and keyword-only) parameters made positional."""
    co = fn.__code__
    new_code = co.replace(co_flags=co.co_flags & ~_HAS_VARSTUFF, co_argcount=nargs, co_kwonlyargcount=0)
    return FunctionType(new_code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


class Tracer(TracerBase):
    """Turns a Module's ``forward`` (or a function) into a ``Graph``; subclass and override
    ``is_leaf_module``, ``call_module``, ``create_proxy`` or ``getattr`` to change what it keeps."""

    def __init__(
        self,
        autowrap_modules: tuple = (math,),
        autowrap_functions: tuple = (),
        param_shapes_constant: bool = False,
    ) -> None:
        super().__init__()
        self._autowrap_function_ids = {
            id(value)
            for m in autowrap_modules
            for name, value in vars(m).items()
            if not name.startswith("_") and callable(value)
        }
        self._autowrap_function_ids.update(id(f) for f in autowrap_functions)
        self._autowrap_modules = list(autowrap_modules)
        self._autowrap_search = list(autowrap_functions)
        self.param_shapes_constant = param_shapes_constant
        self.submodule_paths: dict | None = None
        self.root_module_name = ""
        self.tensor_attrs: dict[int, str] = {}
        self.scope = None
        self.module_stack = {}
        self.node_name_to_scope = {}

    # ---- hooks a subclass overrides
    def is_leaf_module(self, m: Any, module_qualified_name: str) -> bool:
        """glassgrad's (and PyTorch's) own layers are leaves, ``Sequential`` is traced through."""
        from glassgrad.nn import Sequential

        mod = type(m).__module__ or ""
        own = mod.startswith(("glassgrad.nn", "torch.nn", "torch.ao.nn"))
        return own and not isinstance(m, Sequential)

    def path_of_module(self, mod: Any) -> str:
        if self.submodule_paths:
            path = self.submodule_paths.get(mod)
            if path is None:
                raise NameError("module is not installed as a submodule")
            return path
        for n, p in self.root.named_modules():
            if mod is p:
                return n
        raise NameError("module is not installed as a submodule")

    def call_module(self, m: Any, forward: Callable, args: tuple, kwargs: dict) -> Any:
        """A leaf: one ``call_module`` node; otherwise trace through its ``forward``."""
        module_qualified_name = self.path_of_module(m)
        if not self.is_leaf_module(m, module_qualified_name):
            return forward(*args, **kwargs)
        return self.create_proxy("call_module", module_qualified_name, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Any]) -> Any:
        """A root parameter (or, with ``proxy_buffer_attributes``, buffer) read: a ``get_attr`` Proxy."""
        from glassgrad.nn import Parameter
        from glassgrad.tensor import Tensor

        def lookup(collection: Any) -> Any:
            for n, p in collection:
                if attr_val is p:
                    if n not in parameter_proxy_cache:
                        parameter_proxy_cache[n] = self.create_proxy("get_attr", n, (), {})
                    return parameter_proxy_cache[n]
            return None

        if isinstance(attr_val, Parameter):
            found = lookup(self.root.named_parameters())
            if found is not None:
                return found
        if self.proxy_buffer_attributes and isinstance(attr_val, Tensor):
            found = lookup(self.root.named_buffers())
            if found is not None:
                return found
        return attr_val

    def get_fresh_qualname(self, prefix: str) -> str:
        i = 0
        while hasattr(self.root, f"{prefix}{i}"):
            i += 1
        return f"{prefix}{i}"

    def create_arg(self, a: Any) -> Any:
        """Parameters, buffers and modules of the root become ``get_attr`` nodes; other tensors
        are kept on the root as ``_tensor_constant<i>``."""
        from glassgrad.nn import Module, Parameter
        from glassgrad.tensor import Tensor

        if isinstance(a, Parameter):
            for n, p in self.root.named_parameters():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
            raise NameError("parameter is not a member of this module")
        if isinstance(a, Tensor):
            for n, p in self.root.named_buffers():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
        elif isinstance(a, Module):
            for n, p in self.root.named_modules():
                if a is p:
                    return self.create_node("get_attr", n, (), {})
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            return self.create_node("call_function", type(a), tuple(self.create_arg(e) for e in a), {})
        if isinstance(a, Tensor):
            qualname = self.tensor_attrs.get(id(a))
            if not qualname:
                qualname = self.get_fresh_qualname("_tensor_constant")
                setattr(self.root, qualname, a)
                self.tensor_attrs[id(a)] = qualname
            return self.create_node("get_attr", qualname, (), {})
        if type(a) in _proxyable_classes:  # built outside the trace: kept as a constant, as PyTorch
            qualname = self.get_fresh_qualname(f"_{type(a).__name__}_")
            setattr(self.root, qualname, a)
            return self.create_node("get_attr", qualname, (), {})
        return super().create_arg(a)

    # ---- tracing
    def create_args_for_root(
        self, root_fn: Callable, is_module: bool, concrete_args: Any = None
    ) -> tuple[Callable, list]:
        fn = inspect.unwrap(root_fn)
        co = fn.__code__
        total_args = co.co_argcount + co.co_kwonlyargcount
        names_iter = iter(co.co_varnames)
        args: list[Any] = []
        skip = 0
        if is_module:
            if total_args == 0:
                raise RuntimeError("``self`` argument cannot be part of *args expansion!")
            skip = 1
            next(names_iter)
            args.append(self.root)
        sig = inspect.signature(fn)
        annotations = getattr(fn, "__annotations__", {})

        def default_of(name: str) -> tuple:
            param = sig.parameters.get(name.lstrip("*"))
            if name[0] == "*" or param is None or param.default is inspect.Parameter.empty:
                return ()
            return (param.default,)

        def placeholder(name: str) -> Any:
            if concrete_args is not None and name in concrete_args:
                x = concrete_args[name]
                if x is PH:
                    return self.create_proxy("placeholder", name, default_of(name), {})
                out = self.create_proxy("placeholder", f"{name}_1", default_of(name), {})
                if x is None:
                    msg = f"{name} has been specialized to have value None but got another value"
                    self.create_proxy("call_function", _assert_is_none, (out, msg), {})
                elif type(x) in (bool, int, float, str):
                    import glassgrad

                    msg = f"{name} has been specialized to have value {x} but got another value"
                    glassgrad._assert(out == x, msg)
                return x
            return self.create_proxy(
                "placeholder", name, default_of(name), {}, type_expr=annotations.get(name)
            )

        args.extend(placeholder(next(names_iter)) for _ in range(skip, total_args))
        if co.co_kwonlyargcount > 0 or co.co_flags & _HAS_VARSTUFF:
            if co.co_flags & inspect.CO_VARARGS:
                args.append(placeholder("*" + next(names_iter)))
            if co.co_flags & inspect.CO_VARKEYWORDS:
                args.append(placeholder("**" + next(names_iter)))
            root_fn = _patch_function(fn, len(args))
        return root_fn, args

    def trace(self, root: Any, concrete_args: dict[str, Any] | None = None) -> Graph:
        """The graph of ``root.forward`` (or of the function ``root``)."""
        from glassgrad import torch_function
        from glassgrad.nn import Module

        torch_function.activate()  # a Proxy is asked by every public function from now on
        if isinstance(root, Module):
            self.root = root
            fn = getattr(type(root), self.traced_func_name)
            self.root_module_name = type(root).__name__
            self.submodule_paths = {mod: name for name, mod in root.named_modules()}
        else:
            self.root = Module()
            fn = root
        self.graph = Graph(tracer_cls=getattr(self, "__class__", None))
        self.tensor_attrs = {}

        def collect_tensor_attrs(m: Module, prefix: list[str]) -> None:
            from glassgrad.tensor import Tensor

            for k, v in m.__dict__.items():
                if isinstance(v, Tensor):
                    self.tensor_attrs[id(v)] = ".".join([*prefix, k])
            for k, v in m.named_children():
                collect_tensor_attrs(v, [*prefix, k])

        collect_tensor_attrs(self.root, [])
        fn_globals = getattr(inspect.unwrap(fn), "__globals__", {})
        fn, args = self.create_args_for_root(fn, isinstance(root, Module), concrete_args)
        parameter_proxy_cache: dict[str, Any] = {}
        orig_getattr, orig_call = Module.__getattr__, Module.__call__

        def module_getattr_wrapper(mod: Module, attr: str) -> Any:
            return self.getattr(attr, orig_getattr(mod, attr), parameter_proxy_cache)

        def module_call_wrapper(mod: Module, *args: Any, **kwargs: Any) -> Any:
            def forward(*args: Any, **kwargs: Any) -> Any:
                return orig_call(mod, *args, **kwargs)

            fwd = getattr(type(mod), "forward", None)
            _autowrap_check(patcher, getattr(fwd, "__globals__", {}), self._autowrap_function_ids)
            return self.call_module(mod, forward, args, kwargs)

        was_tracing = set_fx_tracing(True)
        try:
            with _Patcher() as patcher:
                patcher.patch_method(Module, "__getattr__", module_getattr_wrapper)
                patcher.patch_method(Module, "__call__", module_call_wrapper)
                for (_, name), frame_dict in list(_wrapped.items()):
                    orig = frame_dict.get(name, getattr(builtins, name, None))
                    if orig is not None:
                        patcher.patch(frame_dict, name, _create_wrapped_func(orig))
                _autowrap_check(patcher, fn_globals, self._autowrap_function_ids)
                for module in self._autowrap_modules:
                    _autowrap_check(patcher, vars(module), self._autowrap_function_ids)
                result = fn(*args)
                self.create_node(
                    "output",
                    "output",
                    (self.create_arg(result),),
                    {},
                    type_expr=getattr(fn, "__annotations__", {}).get("return"),
                )
        finally:
            self.submodule_paths = None
            set_fx_tracing(was_tracing)
        return self.graph


def symbolic_trace(root: Any, concrete_args: dict[str, Any] | None = None) -> Any:
    """Trace ``root`` (a Module or function) into a ``GraphModule``, as ``torch.fx.symbolic_trace``."""
    from glassgrad.fx.graph_module import GraphModule
    from glassgrad.nn import Module

    tracer = Tracer()
    graph = tracer.trace(root, concrete_args)
    name = type(root).__name__ if isinstance(root, Module) else root.__name__
    return GraphModule(tracer.root, graph, name)
