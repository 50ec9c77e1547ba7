"""``torch.utils.flop_counter.FlopCounterMode``: counts the floating-point operations of the matrix
products and convolutions run while it is entered, in total and per module (Lightning's model
summary reports them).

PyTorch counts at its aten level; glassgrad counts the same operations at the level of its public
functions (a ``TorchFunctionMode``), with PyTorch's formulas and under the aten names PyTorch
reports (as strings): ``aten.mm``/``aten.addmm`` (a 2-D product, ``linear`` without/with bias:
``2·m·n·k``), ``aten.bmm``/``aten.baddbmm`` (batched: ``2·b·m·n·k``), ``aten.convolution``
(``2·batch·prod(weight)·prod(output spatial)``, the input's spatial size for a transposed one).
Like PyTorch on the CPU, matrix-vector products are not counted, and
``scaled_dot_product_attention`` counts as its two batched products (``aten.bmm``), forward and
backward, where PyTorch's CPU dispatch takes its math path; where it picks the fused kernel (4-D
operands of one head dim, no dropout), PyTorch's counter has no formula, and neither count it. Flops of a
module's forward count for it and for each module that encloses it (``Model``, ``Model.fc``), and
all of them under ``"Global"``.

A backward run inside the mode is counted too, as PyTorch's: a product's backward costs its
forward's flops once per matrix operand that requires grad (``aten.mm`` for ``mm``/``addmm``/
``linear``, ``aten.bmm`` for ``bmm``/``baddbmm``), a convolution's ``aten.convolution_backward``
its forward's flops for the input's gradient and ``groups`` times them for the weight's (PyTorch's
formula). They count for the modules whose forward made the product (Lightning's
``measure_flops(model, forward_fn, loss_fn)`` reads forward plus backward).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from glassgrad.autograd.function import observers
from glassgrad.nn.hooks import register_module_forward_hook, register_module_forward_pre_hook
from glassgrad.overrides import TorchFunctionMode

__all__ = ["FlopCounterMode"]

_CONV = {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}


def _matmul_flops(a: Any, b: Any) -> tuple[str, int] | None:
    """PyTorch's ``matmul`` lowering: a matrix (or a vector, as one row) times a matrix, and a stack
    times a matrix (folded), are one ``aten.mm``; other stacks ``aten.bmm``; a product with a vector
    on the right (``mv``, ``dot``) is not counted."""
    if b.ndim < 2:
        return None
    m = a.shape[-2] if a.ndim >= 2 else 1
    k, n = a.shape[-1], b.shape[-1]
    if b.ndim == 2:
        return "aten.mm", 2 * math.prod(a.shape[:-2]) * m * n * k
    return "aten.bmm", 2 * math.prod(_broadcast(a.shape[:-2], b.shape[:-2])) * m * n * k


def _broadcast(s: tuple, t: tuple) -> tuple:
    s, t = (1,) * (len(t) - len(s)) + tuple(s), (1,) * (len(s) - len(t)) + tuple(t)
    return tuple(max(x, y) for x, y in zip(s, t, strict=True))


def _attention_operands(args: tuple, kwargs: dict) -> tuple:
    names = ("query", "key", "value")
    return tuple(args[i] if len(args) > i else kwargs[n] for i, n in enumerate(names))


def _fused_on_cpu(q: Any, k: Any, v: Any, args: tuple, kwargs: dict) -> bool:
    """Whether PyTorch's CPU dispatch picks its fused (flash) attention kernel, which its counter
    has no formula for: 4-D operands of one head dim, unit last stride, the query's batch and
    heads (grouped heads with ``enable_gqa``), no dropout. Otherwise its math path runs, counted."""
    dropout = args[4] if len(args) > 4 else kwargs.get("dropout_p", 0.0)
    if dropout or any(t.ndim != 4 or t.stride()[-1] != 1 for t in (q, k, v)):
        return False
    if not q.shape[-1] == k.shape[-1] == v.shape[-1]:
        return False
    if not q.shape[0] == k.shape[0] == v.shape[0] or k.shape[1] != v.shape[1]:
        return False
    return k.shape[1] == q.shape[1] or bool(kwargs.get("enable_gqa", False))


def _attention_flops(args: tuple, kwargs: dict) -> tuple[int, int]:
    """The two batched products of attention on the CPU, as PyTorch's math path counts them:
    ``q @ k^T`` (``2·B·L·S·E``) and ``weights @ v`` (``2·B·L·S·Ev``), ``B`` the broadcast batch
    (a grouped-query ``key`` counts with the query's heads)."""
    q, k, v = _attention_operands(args, kwargs)
    if _fused_on_cpu(q, k, v, args, kwargs):
        return 0, 0
    batch = math.prod(_broadcast(q.shape[:-2], k.shape[:-2]))
    length, source = q.shape[-2], k.shape[-2]
    return 2 * batch * length * source * q.shape[-1], 2 * batch * length * source * v.shape[-1]


def _count(name: str, args: tuple, kwargs: dict, out: Any) -> tuple[str, int] | None:
    """(aten name, flops) of one call, or None when PyTorch's counter does not count it."""
    if name in ("matmul", "__matmul__"):
        return _matmul_flops(args[0], args[1])
    if name == "__rmatmul__":
        return _matmul_flops(args[1], args[0])
    if name in ("mm", "bmm"):
        return _matmul_flops(args[0], args[1])
    if name in ("addmm", "baddbmm"):
        found = _matmul_flops(args[1], args[2])
        return None if found is None else (f"aten.{name}", found[1])
    if name == "linear":
        x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        return ("aten.mm" if bias is None else "aten.addmm"), 2 * math.prod(x.shape[:-1]) * w.shape[
            0
        ] * w.shape[1]
    if name == "scaled_dot_product_attention":
        flops = sum(_attention_flops(args, kwargs))
        return ("aten.bmm", flops) if flops else None
    if name in _CONV:
        x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
        batched = x.ndim == w.ndim
        spatial = (x if name.startswith("conv_transpose") else out).shape[-(w.ndim - 2) :]
        batch = x.shape[0] if batched else 1
        return "aten.convolution", 2 * batch * math.prod(w.shape) * math.prod(spatial)
    return None


def _backward_count(name: str, args: tuple, kwargs: dict, out: Any, flops: int) -> tuple[str, int] | None:
    """(aten name, flops) of the backward of a counted call, from which operands require grad."""
    if name in _CONV:
        x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
        channel = 1 if x.ndim == w.ndim else 0
        # the weight's gradient: PyTorch's formula counts all input (transposed: output) channels
        groups = (out.shape[channel] if name.startswith("conv_transpose") else x.shape[channel]) // w.shape[1]
        total = (flops if x.requires_grad else 0) + (flops * groups if w.requires_grad else 0)
        return ("aten.convolution_backward", total) if total else None
    if name == "scaled_dot_product_attention":
        q, k, v = (getattr(t, "requires_grad", False) for t in _attention_operands(args, kwargs))
        scores, mixing = _attention_flops(args, kwargs)
        # q @ k^T: one product per operand needing grad; weights @ v: the weights' gradient when
        # q or k needs it, and v's own
        total = scores * (q + k) + mixing * ((q or k) + v)
        return ("aten.bmm", total) if total else None
    if name in ("addmm", "baddbmm"):
        operands = args[1:3]
    elif name == "linear":
        operands = (args[0], args[1] if len(args) > 1 else kwargs["weight"])
    else:  # matmul, __matmul__, __rmatmul__, mm, bmm
        operands = args[:2]
    needing = sum(1 for t in operands if getattr(t, "requires_grad", False))
    if not needing:
        return None
    return ("aten.bmm" if name in ("bmm", "baddbmm") else "aten.mm"), flops * needing


class FlopCounterMode(TorchFunctionMode):
    """``with FlopCounterMode(display=False) as fc: model(x)``; then ``fc.get_total_flops()`` and
    ``fc.get_flop_counts()`` (``{"Global": {"aten.mm": n, ...}, "Model": {...}, "Model.fc": ...}``).
    ``display=True`` prints the table on exit; ``depth`` limits its module nesting."""

    def __init__(
        self, mods: Any = None, depth: int = 2, display: bool = True, custom_mapping: dict | None = None
    ) -> None:
        super().__init__()
        if custom_mapping:
            raise NotImplementedError(
                "FlopCounterMode: custom_mapping keys are aten operators, which glassgrad has not; "
                f"got {len(custom_mapping)} entries"
            )
        self.depth, self.display = depth, display
        self.flop_counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._names: dict[int, str] = {}
        self._stack: list[str] = []
        self._handles: list[Any] = []
        self._backward: dict[int, tuple] = {}  # id(grad_fn) -> (grad_fn, scopes, aten name, flops)

    def _pre(self, module: Any, args: Any) -> None:
        name = self._names.setdefault(id(module), type(module).__name__)
        for sub_name, sub in module.named_modules():  # all of them: a ModuleList runs no forward
            if sub_name:
                self._names.setdefault(id(sub), f"{name}.{sub_name}")
        self._stack.append(name)

    def _post(self, module: Any, args: Any, out: Any) -> None:
        if self._stack:
            self._stack.pop()

    def __enter__(self) -> FlopCounterMode:
        self.flop_counts.clear()
        self._names, self._stack, self._backward = {}, [], {}
        self._handles = [
            register_module_forward_pre_hook(self._pre),
            register_module_forward_hook(self._post, always_call=True),
        ]
        observers.backward.append(self._on_backward)
        return super().__enter__()  # type: ignore[return-value]

    def __exit__(self, *exc: Any) -> None:
        super().__exit__(*exc)
        for h in self._handles:
            h.remove()
        self._handles = []
        if self._on_backward in observers.backward:
            observers.backward.remove(self._on_backward)
        self._backward = {}
        if self.display:
            print(self.get_table(self.depth))

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        found = _count(name, args, kwargs, out)
        if found is not None:
            op, flops = found
            scopes = ("Global", *dict.fromkeys(self._stack))
            for scope in scopes:
                self.flop_counts[scope][op] += flops
            node = getattr(out, "grad_fn", None)
            if node is not None:  # its backward, counted when (and each time) it runs
                back = _backward_count(name, args, kwargs, out, flops)
                if back is not None:
                    self._backward[id(node)] = (node, scopes, *back)
        return out

    def _on_backward(self, node: Any, grad: Any, in_grads: Any) -> None:
        entry = self._backward.get(id(node))
        if entry is not None and entry[0] is node:
            _, scopes, op, flops = entry
            for scope in scopes:
                self.flop_counts[scope][op] += flops

    def get_total_flops(self) -> int:
        return sum(self.flop_counts["Global"].values()) if "Global" in self.flop_counts else 0

    def get_flop_counts(self) -> dict[str, dict[str, int]]:
        # "Global" always, empty when nothing was counted (as PyTorch's)
        return {"Global": {}} | {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth: int | None = None) -> str:
        depth = self.depth if depth is None else depth
        rows = [f"{'Module':<40} {'FLOP':>14}"]
        for scope, ops in self.flop_counts.items():
            if scope == "Global" or scope.count(".") < depth:
                rows.append(f"{scope:<40} {sum(ops.values()):>14,}")
        return "\n".join(rows)
