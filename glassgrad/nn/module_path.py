"""Where in a model an error happened: module paths for shape errors and anomaly detection.

``annotate_shape_error`` runs only on the error path of ``Module.__call__`` (a ``try`` costs
nothing on the success path): each enclosing module adds itself, and the message is rebuilt so the
full path (``encoder.layers.1.self_attn``) appears once, with a hint from the innermost module.

``ModuleStack`` keeps the chain of modules being called, through global forward hooks installed
only while anomaly detection is on.
"""

from __future__ import annotations

import itertools
from typing import Any

from glassgrad.autograd import anomaly
from glassgrad.nn.hooks import register_module_forward_hook, register_module_forward_pre_hook

__all__ = ["annotate_shape_error", "module_path"]


def module_path(chain: list) -> str:
    """Dotted path of ``chain[-1]`` inside ``chain[0]`` (outermost first), by registered names."""
    parts = []
    for parent, child in itertools.pairwise(chain):
        name = next((n for n, m in parent._modules.items() if m is child), None)
        if name is None:
            name = next((n for n, m in parent.named_modules() if m is child and n), type(child).__name__)
        parts.append(name)
    return ".".join(parts)


def annotate_shape_error(e: Exception, module: Any, args: tuple) -> None:
    """Add ``module`` to the error's module chain and rewrite its message (error path only)."""
    chain = getattr(e, "_gg_modules", None)
    if chain is None:
        from glassgrad.explain.hints import shape_hint  # pure function, no import cycle

        shapes = [tuple(a.shape) for a in args if hasattr(a, "shape")]
        e._gg_original = str(e.args[0]) if e.args else ""
        try:
            e._gg_hint = shape_hint(e._gg_original, module, shapes)
        except Exception:  # a hint must never hide the error it explains
            e._gg_hint = None
        e._gg_modules = chain = []
    chain.insert(0, module)
    inner = chain[-1]
    path = module_path(chain)
    where = f"in {path} ({type(inner).__name__})" if path else f"in {type(inner).__name__}"
    msg = f"{where}: {e._gg_original}"
    if e._gg_hint:
        msg += f"\nhint: {e._gg_hint}"
    e.args = (msg, *e.args[1:])


def non_tensor_error(e: AttributeError, module: Any, args: tuple) -> TypeError | None:
    """The TypeError PyTorch gives where ``module`` was called with something that is not a
    tensor (a NumPy array, a list) and one of glassgrad's ops then looked for a tensor's attribute
    on it; None for any other AttributeError, such as a typo in the user's own ``forward`` on a
    batch object or a None (error path only)."""
    from glassgrad.operand_errors import raised_inside
    from glassgrad.tensor import Tensor

    obj = getattr(e, "obj", None)
    if obj is None or not raised_inside(e):
        return None  # raised by the user's code, not by an op of glassgrad's
    for i, a in enumerate(args):
        if a is obj and not isinstance(a, Tensor):
            how = "glassgrad.from_numpy(a)" if type(a).__module__ == "numpy" else "glassgrad.tensor(a)"
            return TypeError(
                f"{type(module).__name__}: expected a Tensor as argument {i}, got {type(a).__name__} "
                f"(make one with {how})"
            )
    return None


class _ModuleStack:
    """The modules being called right now, outermost first (kept only in anomaly mode)."""

    def __init__(self) -> None:
        self.stack: list = []
        self.handles: list = []

    def _push(self, module: Any, args: tuple) -> None:
        self.stack.append(module)

    def _pop(self, module: Any, args: tuple, output: Any) -> None:
        if self.stack and self.stack[-1] is module:
            self.stack.pop()

    def install(self) -> None:
        if not self.handles:
            self.handles = [
                register_module_forward_pre_hook(self._push),
                register_module_forward_hook(self._pop, always_call=True),
            ]

    def uninstall(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []
        self.stack.clear()

    def path(self) -> str | None:
        if not self.stack:
            return None
        p = module_path(self.stack)
        kind = type(self.stack[-1]).__name__
        return f"{p} ({kind})" if p else kind


_stack = _ModuleStack()
anomaly.set_module_tracker(_stack.install, _stack.uninstall, _stack.path)
