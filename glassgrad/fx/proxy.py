"""``torch.fx.proxy``: ``Proxy`` (a value while tracing: every call on it records a node),
``Attribute``, ``TracerBase`` (``create_proxy``, ``create_arg``) and ``GraphAppendingTracer``.

A ``Proxy`` takes part in glassgrad's ``__torch_function__`` protocol, so ``torch.relu(p)`` and
``F.linear(p, w)`` record ``call_function`` nodes; its own methods record ``call_method`` nodes
(``p.view(...)``), its operators ``operator.*`` calls, attribute reads ``getattr`` calls. Using one
as a bool or iterating it raises ``TraceError``, as PyTorch's.
"""

from __future__ import annotations

import dataclasses
import dis
import enum
import inspect
import operator
from typing import Any

from glassgrad.fx.codegen import MAGIC_METHODS, REFLECTABLE_MAGIC_METHODS
from glassgrad.fx.graph import Graph
from glassgrad.fx.node import Node, map_aggregate

__all__ = ["Attribute", "GraphAppendingTracer", "Proxy", "TraceError", "TracerBase"]


class TraceError(ValueError):
    """A traced value was used where tracing cannot follow (control flow, iteration)."""


def _is_tensor_method(func: Any) -> bool:
    from glassgrad.tensor import Tensor

    name = getattr(func, "__name__", None)
    qual = getattr(func, "__qualname__", None) or ""
    return isinstance(name, str) and qual.startswith("Tensor.") and vars(Tensor).get(name) == func


class TracerBase:
    """Records nodes into ``self.graph``; ``create_arg`` turns arguments into node inputs."""

    graph: Graph
    record_stack_traces: bool = False
    check_mutable_operations: bool = False
    trace_asserts: bool = False
    proxy_buffer_attributes: bool = False
    traced_func_name: str = "forward"
    scope: Any = None

    def create_node(
        self,
        kind: str,
        target: Any,
        args: tuple,
        kwargs: dict,
        name: str | None = None,
        type_expr: Any = None,
    ) -> Node:
        return self.graph.create_node(kind, target, args, kwargs, name, type_expr)

    def proxy(self, node: Node) -> Proxy:
        return Proxy(node, self)

    def create_proxy(
        self,
        kind: str,
        target: Any,
        args: tuple,
        kwargs: dict,
        name: str | None = None,
        type_expr: Any = None,
        proxy_factory_fn: Any = None,
    ) -> Proxy:
        """Record ``kind(target)(*args, **kwargs)`` as a node and return its Proxy."""
        args_ = self.create_arg(args)
        kwargs_ = self.create_arg(kwargs)
        if not isinstance(args_, tuple) or not isinstance(kwargs_, dict):
            raise TypeError(f"create_proxy({kind}, {target}): args must be a tuple and kwargs a dict")
        node = self.create_node(kind, target, args_, kwargs_, name, type_expr)
        if self.record_stack_traces and not node.stack_trace:
            from glassgrad.fx._tracing_state import user_stack_trace

            node.stack_trace = user_stack_trace()
        return self.proxy(node) if proxy_factory_fn is None else proxy_factory_fn(node)

    def create_arg(self, a: Any) -> Any:
        """Proxies become their nodes, containers are mapped through; constants stay."""
        if isinstance(a, Proxy):
            return a.node
        if isinstance(a, Node):
            return a
        if hasattr(a, "__fx_create_arg__"):  # a user type that says how it enters the graph
            return a.__fx_create_arg__(self)
        if isinstance(a, tuple) and hasattr(a, "_fields"):
            return type(a)(*(self.create_arg(e) for e in a))
        if isinstance(a, (tuple, list)):
            return type(a)(self.create_arg(e) for e in a)
        if isinstance(a, dict):
            out = {}
            for k, v in a.items():
                k = self.create_arg(k)
                if isinstance(k, Node):
                    raise RuntimeError(
                        f"Keys for dictionaries used as an argument cannot contain a Node. Got key: {k}"
                    )
                out[k] = self.create_arg(v)
            return out
        if isinstance(a, slice):
            return slice(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, range):
            return range(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if a is None or a is ... or isinstance(a, (str, int, float, bool, complex)):
            return a
        if dataclasses.is_dataclass(a) and not isinstance(a, type):
            # PyTorch records a dataclass instance as a call of its class on its fields
            fields = {f.name: self.create_arg(getattr(a, f.name)) for f in dataclasses.fields(a)}
            return self.create_node("call_function", type(a), (), fields)
        from glassgrad import memory_format
        from glassgrad.device import device
        from glassgrad.dtypes import DType
        from glassgrad.sparse_tensor import Layout

        # PyTorch's base argument types (``torch.strided``, ``torch.channels_last``, enums)
        if isinstance(a, (DType, device, Layout, memory_format, enum.Enum)) or callable(a):
            return a
        raise NotImplementedError(f"argument of type: {type(a)}")

    def to_bool(self, obj: Proxy) -> bool:
        raise TraceError("symbolically traced variables cannot be used as inputs to control flow")

    def iter(self, obj: Proxy) -> Any:
        raise TraceError(
            "Proxy object cannot be iterated. This can be attempted when the Proxy is used in a loop or"
            " as a *args or **kwargs function argument. See the torch.fx docs on pytorch.org for a "
            "more detailed explanation of what types of control flow can be traced, and check out the"
            " Proxy docstring for help troubleshooting Proxy iteration errors"
        )

    def keys(self, obj: Proxy) -> Any:
        return Attribute(obj, "keys")()


class GraphAppendingTracer(TracerBase):
    """A tracer that appends to an existing ``graph`` (for building graphs from Proxies by hand)."""

    def __init__(self, graph: Graph) -> None:
        super().__init__()
        self.graph = graph
        self.scope = None
        self.module_stack = {}
        self.node_name_to_scope = {}


class Proxy:
    """The value of ``node`` while tracing: operations on it append nodes to its tracer's graph."""

    def __init__(self, node: Node, tracer: TracerBase | None = None) -> None:
        from glassgrad import torch_function

        torch_function.activate()  # public functions must ask a Proxy (also one made by hand)
        if tracer is None:
            tracer = GraphAppendingTracer(node.graph)
        self.tracer = tracer
        self.node = node

    def __repr__(self) -> str:
        return f"Proxy({self.node.name})"

    def __getattr__(self, k: str) -> Attribute:
        if k.startswith("__") and k.endswith("__"):  # copy/pickle probes: not a traced attribute
            raise AttributeError(k)
        return Attribute(self, k)

    def __getstate__(self) -> dict:
        return self.__dict__

    def __setstate__(self, d: dict) -> None:
        self.__dict__ = d

    def __deepcopy__(self, memo: dict) -> Proxy:
        return Proxy(self.node, self.tracer)

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", "__call__", (self, *args), kwargs)

    def __iter__(self) -> Any:
        frame = inspect.currentframe()
        calling = frame.f_back if frame is not None else None
        if calling is not None:
            insts = [i for i in dis.get_instructions(calling.f_code) if i.offset >= calling.f_lasti]
            if insts and insts[0].opname == "UNPACK_SEQUENCE":
                return (self[i] for i in range(insts[0].argval))  # type: ignore[index]
        return self.tracer.iter(self)

    def __abs__(self) -> Proxy:
        return self.tracer.create_proxy("call_function", operator.abs, (self,), {})

    def __bool__(self) -> bool:
        return self.tracer.to_bool(self)

    def __len__(self) -> int:
        raise RuntimeError(
            "'len' is not supported in symbolic tracing by default. If you want this call to be "
            "recorded, please call torch.fx.wrap('len') at module scope"
        )

    def keys(self) -> Any:
        return self.tracer.keys(self)

    def __hash__(self) -> int:
        return id(self)

    @classmethod
    def __torch_function__(cls, orig_method: Any, types: Any, args: Any = None, kwargs: Any = None) -> Any:
        args = args if args else ()
        kwargs = kwargs if kwargs else {}
        tracers: dict[TracerBase, None] = {}

        def find_tracer(a: Any) -> None:
            if isinstance(a, cls):
                tracers[a.tracer] = None

        map_aggregate(args, find_tracer)
        map_aggregate(kwargs, find_tracer)
        if len(tracers) > 1:
            raise RuntimeError(
                f"Found multiple different tracers {list(tracers)} while trying to trace operations {orig_method}"
            )
        tracer = next(iter(tracers))
        if _is_tensor_method(orig_method):
            return tracer.create_proxy("call_method", orig_method.__name__, args, kwargs)
        return tracer.create_proxy(
            "call_function", orig_method, args, kwargs, name=tracer.graph._target_to_str(orig_method.__name__)
        )


class Attribute(Proxy):
    """``proxy.attr``: records a ``getattr`` node only when used as a value; calling it records a
    ``call_method`` node instead."""

    def __init__(self, root: Proxy, attr: str) -> None:
        self.root = root
        self.attr = attr
        self.tracer = root.tracer
        self._node: Node | None = None

    @property
    def node(self) -> Node:  # type: ignore[override]
        if self._node is None:
            self._node = self.tracer.create_proxy("call_function", getattr, (self.root, self.attr), {}).node
        return self._node

    def __call__(self, *args: Any, **kwargs: Any) -> Proxy:
        return self.tracer.create_proxy("call_method", self.attr, (self.root, *args), kwargs)


def _define_magic(method: str) -> None:
    target = getattr(operator, method)

    def impl(*args: Any, **kwargs: Any) -> Proxy:
        return args[0].tracer.create_proxy("call_function", target, args, kwargs)

    impl.__name__ = method
    setattr(Proxy, f"__{method.strip('_')}__", impl)


def _define_reflectable(orig: str) -> None:
    target = getattr(operator, orig)

    def impl(self: Proxy, rhs: Any) -> Proxy:
        return self.tracer.create_proxy("call_function", target, (rhs, self), {})

    impl.__name__ = f"__r{orig.strip('_')}__"
    setattr(Proxy, impl.__name__, impl)


for _method in MAGIC_METHODS:
    if _method != "div":
        _define_magic(_method)
for _orig in REFLECTABLE_MAGIC_METHODS:
    if _orig != "div":
        _define_reflectable(_orig)
del _method, _orig
