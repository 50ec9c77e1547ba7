"""Record a forward and backward pass node by node through the engine's observers.

>>> import glassgrad as gg
>>> from glassgrad.explain import trace, set_name
>>> x, y, z = (gg.tensor(v, requires_grad=True) for v in (-2.0, 5.0, -4.0))
>>> for t, n in ((x, "x"), (y, "y"), (z, "z")):
...     _ = set_name(t, n)
>>> with trace() as tr:
...     q = set_name(x + y, "q")
...     f = set_name(q * z, "f")
...     f.backward()
>>> [(r.name, float(r.grad)) for r in tr.rows()]
[('x', -4.0), ('y', -4.0), ('q', -4.0), ('z', 3.0), ('f', 1.0)]

Tracing appends three callables to ``glassgrad.autograd.observers`` on entry and removes them on
exit; outside a ``trace`` block the lists are empty and the engine pays one truth test per op.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassgrad.autograd.function import observers
from glassgrad.autograd.shapes import unbroadcast
from glassgrad.errors import ShapeError
from glassgrad.explain.formulas import expression, local_derivatives, vjp_text
from glassgrad.explain.names import get_name
from glassgrad.tensor import Tensor

__all__ = ["trace", "Trace", "Row"]

_COPY_LIMIT = 100_000  # values up to this many elements are copied at forward (in-place safe)


@dataclass
class Row:
    """One node of the traced graph, in topological (forward) order.

    ``grad`` is d(output)/d(this node): the upstream gradient for an op, the accumulated gradient
    for a leaf. ``local`` and ``delivered`` have one entry per input that wants a gradient; a
    local derivative has the output's shape, a delivered gradient the input's (local x upstream,
    summed over the axes where the input was broadcast), so a node's upstream is the sum of what
    its consumers deliver to it.
    """

    name: str
    op: str
    inputs: list[str]
    value: Any
    expr: str = ""
    local: list[tuple[str, Any]] = field(default_factory=list)
    grad: Any = None
    delivered: list[tuple[str, Any]] = field(default_factory=list)
    is_leaf: bool = False


class _Rec:
    __slots__ = (
        "delivered",
        "fn",
        "grad",
        "input_nodes",
        "input_values",
        "inputs",
        "node",
        "tensor",
        "value",
    )

    def __init__(
        self, fn: Any, node: Any, tensor: Any, inputs: list, input_values: list, value: Any, input_nodes: list
    ) -> None:
        self.fn, self.node, self.tensor = fn, node, tensor
        self.inputs, self.input_values, self.value = inputs, input_values, value
        self.input_nodes = input_nodes  # each input's node when the op ran (in-place ops rebind it later)
        self.grad = None
        self.delivered: tuple = ()


def _snap(a: Any) -> Any:
    if isinstance(a, np.ndarray) and a.size <= _COPY_LIMIT:
        return a.copy()
    return a


class Trace:
    """What one ``with trace():`` block saw. Use :meth:`rows`, :meth:`table`, :meth:`graph`.

    Args:
        model: optional module whose parameters are named by their ``state_dict`` keys.
    """

    def __init__(self, model: Any = None) -> None:
        self._recs: list[_Rec] = []
        self._by_node: dict[int, _Rec] = {}
        self._by_leaf: dict[int, _Rec] = {}
        self._out_node: dict[int, Any] = {}  # id(tensor) -> the node that last output it (in-place ops)
        self._param_names: dict[int, str] = {}
        if model is not None:
            self._param_names = {id(p): n for n, p in model.named_parameters()}

    # ------------------------------------------------------------------ observers
    def _forward(self, fn: Any, node: Any, inputs: tuple, output: Any, attrs: dict) -> None:
        if node is None:
            return  # nothing recorded (no grad wanted): not part of the backward graph
        values = []
        for x in inputs:
            if isinstance(x, Tensor):
                if x._node is None and x.requires_grad and id(x) not in self._by_leaf:
                    rec = _Rec(None, None, x, [], [], _snap(x._data), [])
                    self._by_leaf[id(x)] = rec
                    self._recs.append(rec)
                values.append(_snap(x._data))
            else:
                values.append(x)
        nodes = [x._node if isinstance(x, Tensor) else None for x in inputs]
        # an in-place op's base has been rebound to this op's node already: its node before
        nodes = [self._out_node.get(id(x)) if n is node else n for x, n in zip(inputs, nodes)]
        rec = _Rec(fn, node, output, list(inputs), values, _snap(output._data), nodes)
        self._out_node[id(output)] = node
        self._by_node[id(node)] = rec
        self._recs.append(rec)

    def _backward(self, node: Any, grad: Any, in_grads: tuple) -> None:
        rec = self._by_node.get(id(node))
        if rec is not None:
            rec.grad, rec.delivered = grad, in_grads

    def _leaf(self, t: Any, grad: Any) -> None:
        rec = self._by_leaf.get(id(t))
        if rec is not None:
            rec.grad = grad

    def __enter__(self) -> Trace:
        observers.forward.append(self._forward)
        observers.backward.append(self._backward)
        observers.leaf.append(self._leaf)
        return self

    def __exit__(self, *exc: object) -> None:
        observers.forward.remove(self._forward)
        observers.backward.remove(self._backward)
        observers.leaf.remove(self._leaf)

    # ------------------------------------------------------------------ views
    def _names(self) -> tuple[list[str], dict[int, str]]:
        """The display name of each record (user-given, parameter name, else x1.. for leaves, f1..
        for ops) and id(node) (id(tensor) for a leaf) -> name. By node, not by tensor: an in-place
        op leaves one tensor the output of several nodes, each its own row."""
        row_names: list[str] = []
        by_id: dict[int, str] = {}
        n_leaf = n_op = 0
        for rec in self._recs:
            t = rec.tensor
            name = get_name(t) or self._param_names.get(id(t))
            if name is None:
                if rec.fn is None:
                    n_leaf += 1
                    name = f"x{n_leaf}"
                else:
                    n_op += 1
                    name = f"f{n_op}"
            row_names.append(name)
            by_id[id(t) if rec.node is None else id(rec.node)] = name
        return row_names, by_id

    def rows(self) -> list[Row]:
        """One :class:`Row` per node (leaves where first used), in topological order."""
        row_names, names = self._names()
        out = []
        received: dict[int, Any] = {}  # id(node), id(tensor) for a leaf -> the sum delivered to it
        for rec, name in zip(self._recs, row_names):
            if rec.fn is None:
                out.append(Row(name, "input", [], rec.value, grad=rec.grad, is_leaf=True))
                continue
            in_names = [_input_name(x, node, names) for x, node in zip(rec.inputs, rec.input_nodes)]
            needs = rec.node.needs_input_grad
            op = rec.fn.name
            local = local_derivatives(op, in_names, rec.input_values, rec.value)
            if local:
                local = [item for item, need in zip(local, needs) if need]
            else:
                local = [(vjp_text(rec.fn), None)]
            shapes = rec.node.shapes
            delivered = [
                (in_names[i], _reduced(g, shapes[i]))
                for i, g in enumerate(rec.delivered)
                if i < len(needs) and needs[i] and g is not None
            ]
            for i, g in enumerate(rec.delivered):
                if g is not None and i < len(needs) and needs[i]:
                    node = rec.input_nodes[i]
                    key = id(node) if node is not None else id(rec.inputs[i])
                    g = _reduced(g, shapes[i])
                    received[key] = g if key not in received else received[key] + g
            out.append(
                Row(name, op, in_names, rec.value, expression(op, in_names), local, rec.grad, delivered)
            )
        # autograd.grad stores no .grad and stops at the nodes it was asked for, so neither a leaf
        # observer nor that node's backward reports their gradient: it is what their consumers sent
        for rec, row in zip(self._recs, out):
            if row.grad is None:
                row.grad = received.get(id(rec.tensor) if rec.node is None else id(rec.node))
        return out

    def grads(self) -> dict[str, Any]:
        """``{"d<out>/d<name>": gradient}`` for every node that received one (leaves and ops)."""
        rows = self.rows()
        if not rows:
            return {}
        out_name = rows[-1].name
        return {f"d{out_name}/d{r.name}": r.grad for r in rows if r.grad is not None}

    def table(self, max_elements: int = 6):
        """The trace as a :class:`~glassgrad.explain.table.Table` (text, Markdown, LaTeX, pandas)."""
        from glassgrad.explain.table import Table

        return Table(self.rows(), max_elements=max_elements)

    def graph(self):
        """The traced graph as a :class:`~glassgrad.explain.graph.Graph` (DOT, SVG, PNG)."""
        from glassgrad.explain.graph import Graph

        return Graph(self.rows())


def _reduced(g: Any, shape: Any) -> Any:
    """``g`` as it reaches an input of ``shape``: summed over the axes broadcasting stretched.

    Backward returns local x upstream in the output's shape; the engine then sums it down to the
    input's shape, and that sum is what the input receives (and what its upstream adds up)."""
    if shape is None or not isinstance(g, np.ndarray) or g.shape == tuple(shape):
        return g
    try:
        return unbroadcast(g, tuple(shape))
    except ShapeError:
        return g  # not a broadcast (a fused op's own layout): shown as backward returned it


def _input_name(x: Any, node: Any, names: dict[int, str]) -> str:
    if isinstance(x, Tensor):
        # the node x had when the op ran (a double backward's rule reads a forward value through
        # its node), else x itself (a leaf), else a name given to it
        name = names.get(id(node)) if node is not None else names.get(id(x))
        name = name or get_name(x)
        if name is not None:
            return name
        if x._data.size == 1:
            return f"{x._data.item():g}"
        return f"const{tuple(x._data.shape)}"
    if x is None:
        return "None"
    if isinstance(x, float | int):
        return f"{x:g}"
    return repr(x)


def trace(model: Any = None) -> Trace:
    """``with trace() as tr:`` records every op of the forward and backward passes inside."""
    return Trace(model)
