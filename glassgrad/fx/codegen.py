"""Python source from a ``Graph``, in PyTorch's format: one statement per node, values freed
(``x = None``) after their last use, operators written as operators (``add = x + y``), glassgrad's
public functions through ``torch`` (bound to glassgrad in the generated code's globals)."""

from __future__ import annotations

import builtins
import inspect
import math
import operator
import typing
from typing import Any

from glassgrad.fx._names import CUSTOM_BUILTINS, _custom_builtins, public_path
from glassgrad.fx.node import Node

__all__ = ["MAGIC_METHODS", "REFLECTABLE_MAGIC_METHODS", "gen_python_code"]

MAGIC_METHODS: dict[str, str] = {
    "add": "{} + {}",
    "sub": "{} - {}",
    "mul": "{} * {}",
    "floordiv": "{} // {}",
    "truediv": "{} / {}",
    "div": "{} / {}",
    "mod": "{} % {}",
    "pow": "{} ** {}",
    "lshift": "{} << {}",
    "rshift": "{} >> {}",
    "and_": "{} & {}",
    "or_": "{} | {}",
    "xor": "{} ^ {}",
    "getitem": "{}[{}]",
    "matmul": "{} @ {}",
    "eq": "{} == {}",
    "ne": "{} != {}",
    "lt": "{} < {}",
    "gt": "{} > {}",
    "le": "{} <= {}",
    "ge": "{} >= {}",
    "pos": "+{}",
    "neg": "-{}",
    "invert": "~{}",
}
REFLECTABLE_MAGIC_METHODS = (
    "add",
    "sub",
    "mul",
    "floordiv",
    "truediv",
    "div",
    "mod",
    "pow",
    "lshift",
    "rshift",
    "and_",
    "or_",
    "xor",
    "matmul",
)


def annotation_text(o: Any) -> str:
    """``torch.Tensor``, ``typing.List[torch.Tensor]``: an annotation as generated code spells it."""
    if isinstance(o, type) and getattr(o, "__module__", "") == "builtins":
        return o.__name__
    if isinstance(o, type):
        path = public_path(o)
        return path if path is not None else f"{o.__module__}.{o.__qualname__}"
    return repr(o).replace("glassgrad.", "torch.")


def code_name(obj: Any) -> str:
    """``math.sqrt``, ``__main__.leaf``: the name hint of a global in generated code."""
    name = getattr(obj, "__name__", None) or type(obj).__name__
    module = getattr(obj, "__module__", None)
    return f"{module}.{name}" if module else name


def _format_target(base: str, target: str) -> str:
    r = base
    for e in target.split("."):
        r = f'getattr({r}, "{e}")' if not e.isidentifier() else f"{r}.{e}"
    return r


def gen_python_code(graph: Any, root_module: str) -> tuple[str, dict[str, Any]]:
    """The ``forward`` source of ``graph`` (with ``root_module`` as ``self``) and its globals."""
    if not CUSTOM_BUILTINS:
        CUSTOM_BUILTINS.update(_custom_builtins())
    free_vars: list[str] = []
    wrapped_fns: list[str] = []
    returns = ""
    body: list[str] = []
    globals_: dict[str, Any] = dict(CUSTOM_BUILTINS)
    namespace = graph._graph_namespace

    def add_global(name_hint: str, obj: Any) -> str:
        path = public_path(obj)
        if path is not None:
            return path
        if getattr(builtins, getattr(obj, "__name__", ""), None) is obj:
            return obj.__name__
        for name, value in CUSTOM_BUILTINS.items():
            if value is obj:
                return name
        name = namespace.create_name(name_hint, obj)
        globals_[name] = obj
        return name

    def type_repr(o: Any) -> str:
        if o is None or o is type(None):
            return "None"
        if isinstance(o, type):
            return add_global(code_name(o), o)
        globals_.setdefault("typing", typing)
        return annotation_text(o)

    def annotation(o: Any) -> str:
        return "" if o is None or isinstance(o, str) else f" : {type_repr(o)}"

    def get_repr(arg: Any) -> str:
        if isinstance(arg, Node):
            return repr(arg)
        if isinstance(arg, tuple) and hasattr(arg, "_fields"):
            qualified = add_global(code_name(type(arg)), type(arg))
            return f"{qualified}({', '.join(get_repr(a) for a in arg)})"
        if isinstance(arg, tuple):
            inner = ", ".join(get_repr(a) for a in arg)
            return f"({inner},)" if len(arg) == 1 else f"({inner})"
        if isinstance(arg, list):
            return "[" + ", ".join(get_repr(a) for a in arg) + "]"
        if isinstance(arg, dict):
            return "{" + ", ".join(f"{get_repr(k)}: {get_repr(v)}" for k, v in arg.items()) + "}"
        if isinstance(arg, slice):
            return f"slice({get_repr(arg.start)}, {get_repr(arg.stop)}, {get_repr(arg.step)})"
        if isinstance(arg, float) and (math.isinf(arg) or math.isnan(arg)):
            return "nan" if math.isnan(arg) else ("inf" if arg > 0 else "-inf")
        if isinstance(arg, type):
            return type_repr(arg)
        if inspect.isfunction(arg) or inspect.isbuiltin(arg):
            return add_global(code_name(arg), arg)
        text = repr(arg)
        if text.startswith("glassgrad."):  # dtypes and the like: reached through ``torch``
            return "torch." + text[len("glassgrad.") :]
        if text.startswith("device("):
            return text
        return text

    def format_args(args: tuple, kwargs: dict) -> str:
        parts = [get_repr(a) for a in args] + [f"{k} = {get_repr(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)

    # the node after which each value is read for the last time
    node_to_last_use: dict[Node, Node] = {}
    user_to_last_uses: dict[Node, list[Node]] = {}
    for node in reversed(list(graph.nodes)):
        for inp in node._input_nodes:
            if inp not in node_to_last_use:
                node_to_last_use[inp] = node
                user_to_last_uses.setdefault(node, []).append(inp)

    def delete_unused_values(user: Node) -> None:
        if user.op == "placeholder":
            return
        if user.op == "output":
            body.append("\n")
            return
        to_delete = list(user_to_last_uses.get(user, []))
        if len(user.users) == 0:
            to_delete.append(user)
        if to_delete:
            body.append(";  " + " = ".join([repr(n) for n in to_delete] + ["None"]) + "\n")
        else:
            body.append("\n")

    for node in graph.nodes:
        name = repr(node)
        if node.op == "placeholder":
            default = "" if not node.args else f" = {get_repr(node.args[0])}"
            free_vars.append(f"{node.target}{annotation(node.type)}{default}")
            raw = node.target.replace("*", "")
            if raw != name:
                body.append(f"{name} = {raw}\n")
            continue
        if node.op == "call_method":
            body.append(
                f"{name} = {_format_target(repr(node.args[0]), node.target)}({format_args(node.args[1:], node.kwargs)})"
            )
        elif node.op == "call_function":
            t = node.target
            tname = getattr(t, "__name__", "")
            if (
                getattr(operator, tname, None) is t
                and tname in MAGIC_METHODS
                and not node.kwargs
                and len(node.args) == MAGIC_METHODS[tname].count("{}")
            ):
                body.append(f"{name} = {MAGIC_METHODS[tname].format(*(get_repr(a) for a in node.args))}")
            elif (
                t is builtins.getattr
                and len(node.args) == 2
                and isinstance(node.args[1], str)
                and node.args[1].isidentifier()
                and not node.kwargs
            ):
                body.append(f"{name} = {_format_target(get_repr(node.args[0]), node.args[1])}")
            else:
                global_name = add_global(code_name(t), t)
                body.append(f"{name} = {global_name}({format_args(node.args, node.kwargs)})")
                if node.meta.get("is_wrapped", False) and global_name not in wrapped_fns:
                    wrapped_fns.append(global_name)
        elif node.op == "call_module":
            body.append(
                f"{name} = {_format_target(root_module, node.target)}({format_args(node.args, node.kwargs)})"
            )
        elif node.op == "get_attr":
            body.append(f"{name} = {_format_target(root_module, node.target)}")
        elif node.op == "output":
            if node.type is not None and not isinstance(node.type, str):
                returns = f" -> {type_repr(node.type)}"
            body.append(f"return {get_repr(node.args[0])}")
        else:
            raise NotImplementedError(f"fx codegen: node {node} has unknown op {node.op!r}")
        delete_unused_values(node)

    if not body:
        body.append("pass\n")
    code = "".join(body).lstrip("\n")
    code = "\n".join("    " + line for line in code.split("\n"))
    args = ", ".join([root_module, *free_vars]) if root_module else ", ".join(free_vars)
    wrap_stmts = "\n".join(f'torch.fx._symbolic_trace.wrap("{n}")' for n in wrapped_fns)
    src = f"\n{wrap_stmts}\n\ndef forward({args}){returns}:\n{code}"
    return src, globals_
