"""``torch.fx.GraphModule``: a Module whose ``forward`` is Python generated from a ``Graph``.

Each instance gets its own class (as PyTorch's), so ``recompile`` can set ``forward`` on it. The
submodules and attributes that the graph's ``call_module``/``get_attr`` nodes name are copied
from the root, so ``state_dict`` keys are the root's.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import linecache
import types
from typing import Any

from glassgrad.fx.graph import Graph, PythonCode
from glassgrad.nn import Module

__all__ = ["GraphModule"]

_counter = itertools.count()


def _exec_with_source(src: str, globals_: dict[str, Any]) -> None:
    key = f"<eval_with_key>.{next(_counter)}"
    linecache.cache[key] = (len(src), None, src.splitlines(True), key)
    exec(compile(src, key, "exec"), globals_)


def _forward_from_src(src: str, globals_: dict[str, Any]) -> Any:
    globals_copy = dict(globals_)
    _exec_with_source(src, globals_copy)
    forward = globals_copy["forward"]
    del globals_copy["forward"]
    return forward


def _copy_attr(from_module: Module, to_module: Module, target: str) -> None:
    *prefix, field = target.split(".")
    for item in prefix:
        f = getattr(from_module, item)
        t = getattr(to_module, item, None)
        if f is t:  # a parent already installed
            return
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        from_module, to_module = f, t
    orig = getattr(from_module, field)
    from glassgrad.nn import Parameter
    from glassgrad.tensor import Tensor

    if isinstance(orig, Tensor) and not isinstance(orig, Parameter):
        to_module.register_buffer(field, orig)
    else:
        setattr(to_module, field, orig)


def _assign_attr(from_obj: Any, to_module: Module, target: str) -> None:
    *prefix, field = target.split(".")
    for item in prefix:
        t = getattr(to_module, item, None)
        if t is None:
            t = Module()
            setattr(to_module, item, t)
        to_module = t
    from glassgrad.nn import Parameter
    from glassgrad.tensor import Tensor

    if isinstance(from_obj, Tensor) and not isinstance(from_obj, Parameter):
        to_module.register_buffer(field, from_obj)
    else:
        setattr(to_module, field, from_obj)


class GraphModule(Module):
    """``GraphModule(root, graph, class_name='GraphModule')``: ``root`` is a Module (its named
    submodules and attributes are copied) or a dict from target name to object."""

    def __new__(cls, *args: Any, **kwargs: Any) -> GraphModule:
        for t in cls.__mro__:
            c = t.__qualname__.split(".")[-1]
            if c != "GraphModuleImpl":
                cls = t
                break

        class GraphModuleImpl(cls):  # type: ignore[misc, valid-type]
            pass

        return super().__new__(GraphModuleImpl)

    def __init__(self, root: Module | dict[str, Any], graph: Graph, class_name: str = "GraphModule") -> None:
        super().__init__()
        if not isinstance(graph, Graph):
            raise TypeError(f"GraphModule.graph: expected a Graph, got {type(graph).__name__}")
        self.__class__.__name__ = class_name
        if isinstance(root, Module):
            if hasattr(root, "training"):
                self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if not isinstance(node.target, str):
                        raise TypeError(
                            f"GraphModule: node {node} target must be a string, got {node.target!r}"
                        )
                    _copy_attr(root, self, node.target)
        elif isinstance(root, dict):
            targets = [n.target for n in graph.nodes if n.op in ("get_attr", "call_module")]
            for target in sorted(targets, key=lambda t: t.count(".")):
                if target not in root:
                    raise RuntimeError(
                        f"Node {target} referenced target {target} but that target was not provided in ``root``!"
                    )
                _assign_attr(root[target], self, target)
        else:
            raise RuntimeError(
                f"Unsupported type {type(root).__name__} passed for root! (a Module or a dict)"
            )
        self._tracer_cls = graph._tracer_cls
        self._tracer_extras = graph._tracer_extras
        self.meta: dict[str, Any] = {}
        self.graph = graph

    @property
    def graph(self) -> Graph:
        return self._graph

    @graph.setter
    def graph(self, g: Graph) -> None:
        if not isinstance(g, Graph):
            raise TypeError(f"GraphModule.graph: expected a Graph, got {type(g).__name__}")
        self._graph = g
        g.owning_module = self
        self.recompile()

    @property
    def code(self) -> str:
        """The generated ``forward``'s source."""
        if not hasattr(self, "_code"):
            raise RuntimeError("Code has not been generated! Please report a bug to PyTorch")
        return self._code

    def recompile(self) -> PythonCode:
        """Regenerate ``forward`` from ``self.graph`` (after editing it)."""
        python_code = self._graph.python_code(root_module="self")
        self._code = python_code.src
        self._in_spec = None
        cls = type(self)
        cls.forward = _forward_from_src(self._code, python_code.globals)
        return python_code

    def print_readable(
        self,
        print_output: bool = True,
        include_stride: bool = False,
        include_device: bool = False,
        colored: bool = False,
        **kwargs: Any,
    ) -> str:
        """The module as a class statement: its ``forward`` and its GraphModule submodules."""
        out = self._readable(type(self).__name__)
        if print_output:
            print(out)
        return out

    def _readable(self, name: str) -> str:
        src = self._graph.python_code(root_module="self").src.lstrip("\n")
        head, _, rest = src.partition("def forward")
        sig, _, rest = rest.partition("\n")
        src = f"{head}def forward{sig}\n    # No stacktrace found for following nodes\n{rest}"
        body = "\n".join("    " + line if line.strip() else "" for line in src.split("\n"))
        subs = []
        for sub_name, sub in self.named_children():
            if isinstance(sub, GraphModule):
                text = sub._readable(sub_name)
                subs.append("\n".join("    " + line if line.strip() else "" for line in text.split("\n")))
        return f"class {name}(torch.nn.Module):\n{body}" + ("\n" + "\n".join(subs) if subs else "")

    # ---- submodules
    def add_submodule(self, target: str, m: Module) -> bool:
        """Install ``m`` at ``target`` (a dotted path), creating empty parents; False where a
        parent on the path is not a Module."""
        *prefix, field = target.split(".")
        mod: Module = self
        for item in prefix:
            sub = getattr(mod, item, None)
            if sub is None:
                sub = Module()
                setattr(mod, item, sub)
            if not isinstance(sub, Module):
                return False
            mod = sub
        mod.add_module(field, m)
        return True

    def delete_submodule(self, target: str) -> bool:
        """Remove the submodule at ``target``; False where it is not there (or is not a Module)."""
        atoms = target.split(".")
        path, target_submod = atoms[:-1], atoms[-1]
        mod: Any = self
        for item in path:
            if not hasattr(mod, item):
                return False
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                return False
        if not hasattr(mod, target_submod) or not isinstance(getattr(mod, target_submod), Module):
            return False
        delattr(mod, target_submod)
        return True

    def delete_all_unused_submodules(self) -> None:
        """Remove the submodules that no ``call_module`` or ``get_attr`` node reaches."""
        used: list[str] = []
        for node in self._graph.nodes:
            if node.op in ("call_module", "get_attr"):
                atoms = node.target.split(".")
                used.extend(".".join(atoms[: i + 1]) for i in range(len(atoms)))
                if node.op == "call_module":
                    try:
                        submod = self.get_submodule(node.target)
                    except AttributeError:
                        continue
                    used.extend(f"{node.target}.{n}" for n, _ in submod.named_modules() if n)
        for name in [n for n, _ in self.named_modules() if n not in used]:
            self.delete_submodule(name)

    # ---- copying
    def __deepcopy__(self, memo: dict) -> GraphModule:
        res = Module()
        memo[id(self)] = res
        state = copy.deepcopy({k: v for k, v in self.__dict__.items() if k != "_graph"}, memo)
        graph = copy.deepcopy(self._graph, memo)
        for k, v in state.items():
            object.__setattr__(res, k, v)
        out = GraphModule(res, graph, type(self).__name__)
        out.meta = copy.deepcopy(self.meta, memo)
        return out

    def __copy__(self) -> GraphModule:
        res = GraphModule(self, self._graph, type(self).__name__)
        res.meta = getattr(self, "meta", {})
        return res

    def __reduce__(self) -> tuple:
        d = {k: v for k, v in self.__dict__.items() if k != "_graph"}
        return (_rebuild, (d, self._code, type(self).__name__, _pickled_globals(self._graph)))

    def __str__(self) -> str:
        reminder = "# To see more debug info, please use `graph_module.print_readable()`"
        return "\n".join([super().__str__(), self._code, reminder])


def _pickled_globals(graph: Graph) -> dict[str, Any]:
    """The generated code's globals beyond the builtins (a user's function, a NamedTuple class),
    as pickle stores them: by reference, or a module by its name. PyTorch writes them as an
    import block; without them the unpickled ``forward`` meets a NameError."""
    from glassgrad.fx._names import _custom_builtins

    builtin = _custom_builtins()
    out: dict[str, Any] = {}
    for name, obj in graph.python_code(root_module="self").globals.items():
        if name in builtin:
            continue
        out[name] = _ModuleRef(obj.__name__) if isinstance(obj, types.ModuleType) else obj
    return out


class _ModuleRef:
    """A module among the pickled globals (modules themselves do not pickle)."""

    def __init__(self, name: str) -> None:
        self.name = name


def _rebuild(state: dict, code: str, class_name: str, globals_: dict[str, Any] | None = None) -> GraphModule:
    """Unpickle: retrace the generated ``forward`` over the restored attributes."""
    from glassgrad.fx._names import _custom_builtins
    from glassgrad.fx._symbolic_trace import Tracer

    ns: dict[str, Any] = _custom_builtins()
    for name, obj in (globals_ or {}).items():
        ns[name] = importlib.import_module(obj.name) if isinstance(obj, _ModuleRef) else obj
    _exec_with_source(code, ns)

    class CodeOnlyModule(Module):
        forward = ns["forward"]

    m = CodeOnlyModule()
    m.__dict__.update(state)

    class KeepModules(Tracer):
        def is_leaf_module(self, _: Any, __: str) -> bool:
            return True

    graph = KeepModules().trace(m)
    return GraphModule(m, graph, class_name)
