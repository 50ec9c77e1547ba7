"""``torch.fx``: a symbolic tracer and the graph it records, as PyTorch's.

``symbolic_trace(module)`` runs ``forward`` on ``Proxy`` placeholders and records each call (a
leaf module's, a glassgrad function's through the ``__torch_function__`` protocol, a Tensor
method's, an operator's, an attribute read) as a ``Node`` of a ``Graph``; the ``GraphModule`` it
returns runs Python generated from that graph. ``Interpreter`` runs a graph node by node,
``Transformer`` rewrites one; ``passes.shape_prop.ShapeProp`` and
``subgraph_rewriter.replace_pattern`` are PyTorch's passes. Generated code names glassgrad as
``torch``. Node names are PyTorch's (``add``, ``linear_1``, ``getattr_1``).

>>> import glassgrad as torch
>>> import glassgrad.fx
>>> def f(x):
...     return torch.relu(x) + 1
>>> gm = glassgrad.fx.symbolic_trace(f)
>>> [(n.op, n.name) for n in gm.graph.nodes]
[('placeholder', 'x'), ('call_function', 'relu'), ('call_function', 'add'), ('output', 'output')]
>>> gm(torch.tensor([-1.0, 2.0])).tolist()
[1.0, 3.0]
"""

from __future__ import annotations

from glassgrad.fx import passes, subgraph_rewriter
from glassgrad.fx._symbolic_trace import PH, ProxyableClassMeta, Tracer, symbolic_trace, wrap
from glassgrad.fx.graph import Graph
from glassgrad.fx.graph_module import GraphModule
from glassgrad.fx.interpreter import Interpreter, Transformer
from glassgrad.fx.node import Node, has_side_effect, map_arg
from glassgrad.fx.proxy import Proxy
from glassgrad.fx.subgraph_rewriter import replace_pattern

__all__ = [
    "Graph",
    "GraphModule",
    "Interpreter",
    "Node",
    "PH",
    "Proxy",
    "ProxyableClassMeta",
    "Tracer",
    "Transformer",
    "has_side_effect",
    "map_arg",
    "passes",
    "replace_pattern",
    "subgraph_rewriter",
    "symbolic_trace",
    "wrap",
]
