"""PyTorch's ``grad_fn._saved_<argument>`` for the non-tensor arguments of the shape ops.

PyTorch's nodes keep the arguments of their call: a ``SplitWithSizesBackward0`` has
``_saved_dim``, ``_saved_split_sizes`` and ``_saved_self_sym_sizes``, a ``SliceBackward0`` its
``_saved_start``/``_end``/``_step``. Tools that walk the graph read them: Torch-Pruning's
dependency graph learns a split's sections and a slice's channel range there, and without them
mis-maps the channels of a ``torch.split`` of a feature map.

glassgrad's nodes are one class inside the engine; a node a user reaches (``grad_fn``,
``next_functions``) becomes the class named after PyTorch's node (``node_views.node_type``), and
that class gets the properties listed here for its name, so the engine's nodes pay nothing. Each
property reads the op's own attributes (``node.attrs``) and input shapes (``node.shapes``).

As PyTorch shows them: a dim is the one the call was given, a negative one read as an unsigned
64-bit integer (``dim=-1`` reads 18446744073709551615); a slice's missing start is 0 and its
missing end 9223372036854775807 (PyTorch's INT64_MAX), a negative bound unsigned as the dim is.
"""

from __future__ import annotations

from typing import Any

__all__ = ["properties", "unsigned"]

_INT64_MAX = 2**63 - 1


def unsigned(v: int) -> int:
    """An int as PyTorch's node reads a saved int64: a negative one as its unsigned 64-bit value."""
    return int(v) % 2**64 if v < 0 else int(v)


def _self_sizes(node: Any) -> tuple:
    return tuple(int(s) for s in node.shapes[0])


def _call(node: Any) -> dict:
    """The attrs holding the call's arguments: the node's own, or for a piece shown as its own
    node (``unsafe_split``'s) its hub's, where ``ops/pieces.py`` records them."""
    if "key" in node.attrs and "keys" not in node.attrs and node.next and hasattr(node.next[0], "attrs"):
        return node.next[0].attrs
    return node.attrs


def _given_dim(node: Any) -> int:
    """The dim the call was given (recorded by the op as ``given_dim``), else the op's own."""
    a = _call(node)
    return unsigned(a["given_dim"] if "given_dim" in a else a["dim"])


def _slice_of(node: Any) -> tuple[int, slice, tuple]:
    """The (dim, slice, sizes of the sliced tensor) of the last sliced dim of a basic-indexing key:
    PyTorch makes one SliceBackward0 per sliced dim, the last one outermost (the ``grad_fn``)."""
    key = node.attrs["key"]
    key = key if isinstance(key, tuple) else (key,)
    sizes = list(node.shapes[0])
    if Ellipsis in key:
        at = key.index(Ellipsis)
        rest = len([k for k in key if k is not None and k is not Ellipsis])
        key = key[:at] + (slice(None),) * (len(sizes) - rest) + key[at + 1 :]
    found, before, dim = None, list(sizes), 0
    for k in key:
        if k is None:  # a new dim of size 1 (PyTorch unsqueezes before it slices)
            sizes.insert(dim, 1)
            dim += 1
        elif isinstance(k, slice):
            if k != slice(None):
                before = list(sizes)
                found = (dim, k)
                sizes[dim] = len(range(*k.indices(sizes[dim])))
            dim += 1
        else:  # an int (select): the dim goes
            del sizes[dim]
    if found is None:
        return 0, slice(None), tuple(before)
    return found[0], found[1], tuple(int(s) for s in before)


def _slice_props() -> dict:
    def dim(node: Any) -> int:
        return _slice_of(node)[0]

    def start(node: Any) -> int:
        s = _slice_of(node)[1].start
        return 0 if s is None else unsigned(s)

    def end(node: Any) -> int:
        e = _slice_of(node)[1].stop
        return _INT64_MAX if e is None else unsigned(e)

    def step(node: Any) -> int:
        s = _slice_of(node)[1].step
        return 1 if s is None else int(s)

    def sizes(node: Any) -> tuple:
        return _slice_of(node)[2]

    return {"_saved_dim": dim, "_saved_start": start, "_saved_end": end, "_saved_step": step,
            "_saved_self_sym_sizes": sizes}  # fmt: skip


def _split_size(node: Any) -> int:
    return int(_call(node)["split_size"])


def _split_sizes(node: Any) -> tuple:
    return tuple(int(s) for s in _call(node)["split_sizes"])


_SPLIT = {"_saved_dim": _given_dim, "_saved_self_sym_sizes": _self_sizes, "_saved_split_size": _split_size}
_SPLIT_SIZES = {
    "_saved_dim": _given_dim,
    "_saved_self_sym_sizes": _self_sizes,
    "_saved_split_sizes": _split_sizes,
}
_SIZES = {"_saved_self_sym_sizes": _self_sizes}


def _keepdim(node: Any) -> bool:
    return bool(node.attrs["keepdims"])


def _numel(node: Any) -> int:
    n = 1
    for s in node.shapes[0]:
        n *= int(s)
    return n


# a reduction's dims are not given: glassgrad records them normalised (2 for PyTorch's -1, which
# its node shows unsigned), so showing them would show another value than PyTorch's
_REDUCED = {"_saved_keepdim": _keepdim, "_saved_self_sym_sizes": _self_sizes}

_BY_NAME: dict[str, dict] = {
    "SplitBackward0": _SPLIT,
    "UnsafeSplitBackward0": _SPLIT,
    "SplitWithSizesBackward0": _SPLIT_SIZES,
    "UnsafeSplitWithSizesBackward0": _SPLIT_SIZES,
    "UnbindBackward0": {"_saved_dim": _given_dim},
    "CatBackward0": {"_saved_dim": _given_dim},
    "SliceBackward0": _slice_props(),
    "ViewBackward0": _SIZES,
    "UnsafeViewBackward0": _SIZES,
    "ExpandBackward0": _SIZES,
    "SumBackward0": _SIZES,
    "SumBackward1": _REDUCED,
    "MeanBackward0": {**_SIZES, "_saved_self_sym_numel": _numel},
    "MeanBackward1": {**_REDUCED, "_saved_self_sym_numel": _numel},
}


def _guarded(name: str, attr: str, fn: Any) -> property:
    """``fn`` as a property that is absent (AttributeError, so ``hasattr`` is False) on a node of
    this name whose op did not record the argument (a SliceBackward0 of another op)."""

    def get(node: Any) -> Any:
        try:
            return fn(node)
        except (KeyError, IndexError, TypeError, AttributeError):
            raise AttributeError(f"'{name}' object has no attribute '{attr}'") from None

    return property(get, doc=f"PyTorch's ``{attr}`` of a {name} node")


def properties(name: str) -> dict:
    """The ``_saved_<argument>`` properties of the node class named ``name`` (may be empty)."""
    return {attr: _guarded(name, attr, fn) for attr, fn in _BY_NAME.get(name, {}).items()}
