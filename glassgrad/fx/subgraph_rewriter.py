"""``torch.fx.subgraph_rewriter.replace_pattern``: find each place where ``pattern``'s graph occurs
in a GraphModule's graph and put ``replacement``'s graph there."""

from __future__ import annotations

from typing import Any, NamedTuple

from glassgrad.fx.graph_module import GraphModule, _copy_attr
from glassgrad.fx.node import Node, map_arg
from glassgrad.nn import Module

__all__ = ["Match", "replace_pattern"]


class Match(NamedTuple):
    anchor: Node  # the pattern's node from which the match was found (its returned value)
    nodes_map: dict[Node, Node]  # pattern node -> graph node


def _module_of(fn: Any) -> GraphModule:
    from glassgrad.fx._symbolic_trace import symbolic_trace

    return fn if isinstance(fn, GraphModule) else symbolic_trace(fn)


def _returned(graph: Any, what: str) -> Node:
    out = next(n for n in graph.nodes if n.op == "output")
    value = out.args[0]
    if not isinstance(value, Node):
        raise NotImplementedError(
            f"fx.subgraph_rewriter.replace_pattern: the {what} must return one value, got {value!r}"
        )
    return value


def _match(pn: Node, gn: Node, nodes_map: dict[Node, Node]) -> bool:
    if pn in nodes_map:
        return nodes_map[pn] is gn
    if pn.op == "placeholder":
        if gn in nodes_map.values():
            return False
        nodes_map[pn] = gn
        return True
    if (
        pn.op != gn.op
        or pn.target != gn.target
        or len(pn.args) != len(gn.args)
        or set(pn.kwargs) != set(gn.kwargs)
    ):
        return False
    nodes_map[pn] = gn
    pairs = list(zip(pn.args, gn.args)) + [(pn.kwargs[k], gn.kwargs[k]) for k in pn.kwargs]
    return all(_match_arg(pa, ga, nodes_map) for pa, ga in pairs)


def _match_arg(pa: Any, ga: Any, nodes_map: dict[Node, Node]) -> bool:
    if isinstance(pa, Node):
        return isinstance(ga, Node) and _match(pa, ga, nodes_map)
    if isinstance(pa, (list, tuple)):
        return (
            type(ga) is type(pa)
            and len(pa) == len(ga)
            and all(_match_arg(p, g, nodes_map) for p, g in zip(pa, ga))
        )
    if isinstance(pa, dict):
        return (
            isinstance(ga, dict)
            and pa.keys() == ga.keys()
            and all(_match_arg(pa[k], ga[k], nodes_map) for k in pa)
        )
    return not isinstance(ga, Node) and type(pa) is type(ga) and pa == ga


def replace_pattern(gm: GraphModule, pattern: Any, replacement: Any) -> list[Match]:
    """Replace every non-overlapping occurrence of ``pattern`` (a function or GraphModule) in
    ``gm`` with ``replacement`` (same inputs); recompiles ``gm`` and returns the matches."""
    original = gm.graph
    pattern_graph = _module_of(pattern).graph
    replacement_module = _module_of(replacement)
    replacement_graph = replacement_module.graph
    anchor_p = _returned(pattern_graph, "pattern")
    pattern_placeholders = [n for n in pattern_graph.nodes if n.op == "placeholder"]
    matches: list[Match] = []
    taken: set[Node] = set()
    for gn in list(original.nodes):
        nodes_map: dict[Node, Node] = {}
        if gn.op in ("placeholder", "output") or not _match(anchor_p, gn, nodes_map):
            continue
        internal = [g for p, g in nodes_map.items() if p.op != "placeholder"]
        if any(g in taken for g in internal):
            continue
        inside = set(internal)
        if any(u not in inside for g in internal if g is not gn for u in g.users):
            continue  # an intermediate value is read outside the match
        taken |= inside
        matches.append(Match(anchor=anchor_p, nodes_map=nodes_map))
    rep_placeholders = [n for n in replacement_graph.nodes if n.op == "placeholder"]
    if len(rep_placeholders) != len(pattern_placeholders):
        raise ValueError(
            f"replace_pattern: the pattern takes {len(pattern_placeholders)} inputs, the replacement {len(rep_placeholders)}"
        )
    # A match's input may be an earlier match's value (``sigmoid(sigmoid(x))``); that node is
    # erased once replaced, so inputs are looked up through what replaced them (PyTorch's
    # ``match_changed_node``).
    changed: dict[Node, Any] = {}
    for match in matches:
        returning = match.nodes_map[anchor_p]
        val_map = {
            r: changed.get(match.nodes_map[p], match.nodes_map[p])
            for r, p in zip(rep_placeholders, pattern_placeholders)
        }
        # as PyTorch's: the replacement goes before the first reader of the matched value
        insert_point = next((n for n in original.nodes if n in returning.users), returning.next)
        with original.inserting_before(insert_point):
            for rn in replacement_graph.nodes:
                if rn.op == "placeholder":
                    continue
                if rn.op == "output":
                    new_out = map_arg(rn.args[0], val_map.__getitem__)
                    break
                if rn.op in ("get_attr", "call_module") and not hasattr(gm, rn.target.split(".")[0]):
                    _copy_attr(replacement_module, gm, rn.target)  # the replacement's own weights
                val_map[rn] = original.node_copy(rn, val_map.__getitem__)
        returning.replace_all_uses_with(new_out)
        changed[returning] = new_out
        for p in reversed(list(pattern_graph.nodes)):
            g = match.nodes_map.get(p)
            if g is not None and p.op != "placeholder" and not g.users:
                original.erase_node(g)
    gm.recompile()
    if isinstance(replacement, Module):
        # as PyTorch's: submodules only the replaced pattern called are dropped
        gm.delete_all_unused_submodules()
    return matches
