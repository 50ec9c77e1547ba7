"""``torch.fx.node``: ``Node`` (one operation of a ``Graph``), ``map_arg`` and ``map_aggregate``.

A node's ``args``/``kwargs`` hold other nodes; each node keeps ``users`` (the nodes reading it,
in insertion order, as a dict) in step with them, so ``replace_all_uses_with`` and dead-code
elimination see the data flow, as PyTorch's.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

__all__ = ["Argument", "Node", "Target", "has_side_effect", "map_aggregate", "map_arg"]

Target = Any
Argument = Any

_OPS = ("placeholder", "call_method", "call_module", "call_function", "get_attr", "output", "root")


def _is_inplace_name(name: Any) -> bool:
    """``add_``, ``relu_``: PyTorch's spelling of an in-place op (not a dunder such as ``__add__``)."""
    return isinstance(name, str) and name.endswith("_") and not name.endswith("__")


# Functions registered with ``has_side_effect`` (PyTorch's set also holds its built-ins, which
# ``_effectful_functions`` gives here).
_side_effectful_functions: set[Callable[..., Any]] = set()


def has_side_effect(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``fn`` so that ``Graph.eliminate_dead_code`` keeps its calls (a decorator, as PyTorch's)."""
    _side_effectful_functions.add(fn)
    return fn


def _effectful_functions() -> tuple[set, set]:
    """PyTorch's ``_side_effectful_functions`` and its random functions, as glassgrad has them
    (read on use: glassgrad is not importable when this module is)."""
    import glassgrad
    from glassgrad.ops import profiler

    side = {operator.setitem, glassgrad._assert, glassgrad._assert_async, *_side_effectful_functions}
    side |= {profiler._record_function_enter, profiler._record_function_exit}
    names = ("rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like")
    names += ("normal", "poisson", "bernoulli", "multinomial")
    return side, {getattr(glassgrad, n) for n in names}


def map_aggregate(a: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply ``fn`` to each leaf of ``a`` (through tuples, named tuples, lists, dicts and slices)."""
    if isinstance(a, tuple):
        t = tuple(map_aggregate(e, fn) for e in a)
        return t if not hasattr(a, "_fields") else type(a)(*t)
    if isinstance(a, list):
        return [map_aggregate(e, fn) for e in a]
    if isinstance(a, dict):
        return {k: map_aggregate(v, fn) for k, v in a.items()}
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a: Any, fn: Callable[[Node], Any]) -> Any:
    """Apply ``fn`` to each ``Node`` inside ``a`` (the other leaves stay as they are)."""
    if not callable(fn):
        raise TypeError(f"fx.node.map_arg: fn must be callable, got {type(fn).__name__}")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def _qualified_name(fn: Any) -> str:
    """``torch.relu``, ``operator.add``, ``builtins.getattr``: how a target is shown."""
    from glassgrad.fx._names import public_path

    path = public_path(fn)
    if path is not None:
        return path
    if getattr(builtins, getattr(fn, "__name__", ""), None) is fn:
        return f"builtins.{fn.__name__}"
    if getattr(operator, getattr(fn, "__name__", ""), None) is fn:
        return f"operator.{fn.__name__}"
    module = (getattr(fn, "__module__", None) or "").replace("glassgrad", "torch")
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", repr(fn))
    return f"{module}.{name}" if module else name


class Node:
    """One operation: ``op`` is one of placeholder, get_attr, call_function, call_method,
    call_module, output; ``target`` what it calls or reads; ``args``/``kwargs`` its inputs."""

    def __init__(
        self,
        graph: Any,
        name: str,
        op: str,
        target: Target,
        args: tuple,
        kwargs: dict,
        return_type: Any = None,
    ) -> None:
        if op not in _OPS:
            raise ValueError(f"fx.Node: op must be one of {_OPS[:-1]}, got {op!r}")
        if op == "call_function" and not callable(target):
            raise ValueError(f"fx.Node({name}): call_function target must be callable, got {target!r}")
        if op in ("call_method", "call_module", "get_attr", "placeholder") and not isinstance(target, str):
            raise ValueError(f"fx.Node({name}): {op} target must be a string, got {target!r}")
        self.graph = graph
        self.name = name
        self.op = op
        self.target = target
        self._input_nodes: dict[Node, None] = {}
        self._args: tuple = ()
        self._kwargs: dict = {}
        self.users: dict[Node, None] = {}
        self.type = return_type
        self._prev = self
        self._next = self
        self._erased = False
        self._repr_fn: Callable[[Node], str] | None = None
        self.meta: dict[str, Any] = {}
        self._update_args_kwargs(map_arg(args, lambda x: x), map_arg(kwargs, lambda x: x))

    # ---- linked list
    @property
    def next(self) -> Node:
        return self._next

    @property
    def prev(self) -> Node:
        return self._prev

    def prepend(self, x: Node) -> None:
        """Insert ``x`` before this node (moving it if it is elsewhere in the graph)."""
        if x is self:
            return
        x._remove_from_list()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x: Node) -> None:
        """Insert ``x`` after this node."""
        self._next.prepend(x)

    def _remove_from_list(self) -> None:
        p, n = self._prev, self._next
        p._next, n._prev = n, p
        self._prev = self._next = self

    # ---- inputs
    @property
    def args(self) -> tuple:
        return self._args

    @args.setter
    def args(self, a: Any) -> None:
        self._update_args_kwargs(map_arg(tuple(a), lambda x: x), self._kwargs)

    @property
    def kwargs(self) -> dict:
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k: dict) -> None:
        self._update_args_kwargs(self._args, map_arg(dict(k), lambda x: x))

    @property
    def all_input_nodes(self) -> list[Node]:
        return list(self._input_nodes)

    def update_arg(self, idx: int, arg: Any) -> None:
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def update_kwarg(self, key: str, arg: Any) -> None:
        self.kwargs = {**self.kwargs, key: arg}

    def _update_args_kwargs(self, new_args: tuple, new_kwargs: dict) -> None:
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._args, self._kwargs = new_args, new_kwargs
        self._input_nodes = {}
        map_arg(self._args, lambda n: self._input_nodes.setdefault(n))
        map_arg(self._kwargs, lambda n: self._input_nodes.setdefault(n))
        for n in self._input_nodes:
            n.users.setdefault(self)

    def replace_all_uses_with(
        self,
        replace_with: Node,
        delete_user_cb: Callable[[Node], bool] = lambda user: True,
        *,
        propagate_meta: bool = False,
    ) -> list[Node]:
        """Make every user of this node read ``replace_with`` instead; returns those users."""
        if propagate_meta:
            for k, v in self.meta.items():
                replace_with.meta.setdefault(k, v)
        to_process = [u for u in self.users if delete_user_cb(u)]
        for use in to_process:
            use._replace_in(self, replace_with)
        return to_process

    def replace_input_with(self, old_input: Node, new_input: Node) -> None:
        """Read ``new_input`` wherever this node read ``old_input``."""
        self._replace_in(old_input, new_input)

    def _replace_in(self, old: Node, new: Node) -> None:
        def swap(n: Node) -> Node:
            return new if n is old else n

        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    def is_impure(self, impure_random: bool = True) -> bool:
        """Whether dead-code elimination must keep this node though nobody reads its value:
        placeholders, the output, PyTorch's side-effectful functions (``torch._assert``,
        ``operator.setitem``, the profiler's ranges), random draws (``impure_random``, they advance
        the generator) and, beyond PyTorch (which drops them and changes the result), in-place
        calls: ``x.add_(1)``, ``torch.relu_(x)``, ``F.relu(x, inplace=True)``, ``out=``."""
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_method":
            return _is_inplace_name(self.target)
        if self.op == "call_function":
            side_effectful, random = _effectful_functions()
            try:
                if self.target in side_effectful or (impure_random and self.target in random):
                    return True
            except TypeError:  # an unhashable callable target is none of these
                pass
            inplace = self.kwargs.get("inplace") is True or self.kwargs.get("out") is not None
            return inplace or _is_inplace_name(getattr(self.target, "__name__", None))
        if self.op == "call_module":
            mod = self.graph.owning_module
            sub = mod.get_submodule(self.target) if mod is not None else None
            return bool(getattr(sub, "_is_impure", False))
        return False

    def format_node(
        self, placeholder_names: list | None = None, maybe_return_typename: list | None = None
    ) -> str:
        """One line of ``print(graph)``: ``%name : [num_users=N] = op[target=...](args = ..., kwargs = ...)``."""
        from glassgrad.fx.codegen import annotation_text

        typename = (
            f"{annotation_text(self.type)} "
            if self.type is not None and not isinstance(self.type, str)
            else ""
        )
        head = f"%{self.name} : {typename}[num_users={len(self.users)}]"
        if self.op == "placeholder":
            default = f"(default={self.args[0]})" if self.args else ""
            if placeholder_names is not None:
                placeholder_names.append(self.target)
            return f"{head} = placeholder[target={self.target}]{default}"
        if self.op == "output":
            if maybe_return_typename is not None and typename:
                maybe_return_typename[0] = f" -> {typename.strip()}"
            return f"return {self.args[0]}"
        target = self.target if isinstance(self.target, str) else _qualified_name(self.target)
        text = f"{head} = {self.op}[target={target}]"
        if self.op == "get_attr":
            return text
        kw = "{" + ", ".join(f"{k}: {self._pretty(v)}" for k, v in self.kwargs.items()) + "}"
        return f"{text}(args = {self._pretty(self.args)}, kwargs = {kw})"

    @staticmethod
    def _pretty(a: Any) -> str:
        if isinstance(a, Node):
            return f"%{a.name}"
        if isinstance(a, tuple):
            inner = ", ".join(Node._pretty(e) for e in a)
            return f"({inner},)" if len(a) == 1 else f"({inner})"
        if isinstance(a, list):
            return "[" + ", ".join(Node._pretty(e) for e in a) + "]"
        if isinstance(a, dict):
            return "{" + ", ".join(f"{k}: {Node._pretty(v)}" for k, v in a.items()) + "}"
        return str(a)

    @property
    def stack_trace(self) -> str | None:
        return self.meta.get("stack_trace")

    @stack_trace.setter
    def stack_trace(self, trace: str | None) -> None:
        self.meta["stack_trace"] = trace

    def __repr__(self) -> str:
        return self._repr_fn(self) if self._repr_fn is not None else self.name
