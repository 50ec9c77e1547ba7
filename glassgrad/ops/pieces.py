"""Pieces of a tensor: ``split``, ``chunk`` and ``unbind``, with a backward that is linear in the
number of pieces.

A recurrent network unbinds its input over T time steps. If every piece were an ordinary slice
(``GetItem``), each piece's backward would allocate a zeros array of the whole input and write its
slice into it, and the engine would then add T arrays of the input's size: O(T^2) work and memory
traffic. Instead all pieces hang from one hub node (``Split``, an identity view of the input):

    x -> Split -> Piece(key_0), Piece(key_1), ...

The first piece whose backward runs in a backward pass allocates ONE gradient buffer of x's shape,
writes its gradient at its key and hands the buffer to the engine as the hub's gradient; the other
pieces write their gradients into the same buffer (the keys are disjoint) and hand back nothing.
The hub then passes the filled buffer on to x. Pieces are views of x, sharing its version counter.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from glassgrad.autograd.engine import pass_id
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.view_rebase import mark_multi
from glassgrad.backend import array_module
from glassgrad.errors import IndexOutOfRangeError, ShapeError
from glassgrad.operand_errors import size_int
from glassgrad.ops.indexing import normalize_dim
from glassgrad.ops.movement import _ints
from glassgrad.ops.stale_views import register
from glassgrad.tensor import Tensor

__all__ = ["split", "chunk", "unbind", "unsafe_split", "unsafe_split_with_sizes", "unsafe_chunk"]


class Split(Function):
    """z = x (a view), the hub the pieces of ``split``/``chunk``/``unbind`` are cut from.
    VJP: the buffer the pieces wrote their gradients into (one array of x's shape)."""

    @staticmethod
    def forward(ctx, a):
        return a.view()  # a view, so the pieces share x's version counter

    @staticmethod
    def backward(ctx, g):
        ctx.attrs.pop("buffer", None)  # the buffer now belongs to the engine; the next pass starts anew
        return g

    # grad_fn hooks (autograd/node_hooks.py): PyTorch's SplitBackward0/UnbindBackward0 hooks see
    # one gradient per piece, which the pieces record while the hub has hooks.
    @staticmethod
    def hook_outputs(ctx, g):
        """One gradient per piece (None for a piece that got none this pass)."""
        held = ctx.attrs.pop("grads", None)
        got = held[1] if held is not None and held[0] == pass_id() else {}
        return tuple(got.get(id(k)) for k in ctx.attrs["keys"])

    @staticmethod
    def hook_grad(ctx, g, grads):
        """x's gradient from the pieces' gradients a pre-hook returned (None if all are None)."""
        buf = None
        for k, p in zip(ctx.attrs["keys"], grads):
            if p is not None:
                if buf is None:
                    buf = array_module(p).zeros(ctx.shapes[0], dtype=p.dtype)
                buf[k] = p
        return buf


class Piece(Function):
    """z = hub[key] for one basic (slice or int) key.
    VJP: g written at key into the hub's shared buffer, allocated by the first piece of each pass."""

    @staticmethod
    def forward(ctx, a, key=()):
        return a[key]

    @staticmethod
    def backward(ctx, g):
        hub = ctx.next[0]  # the Split node: pieces are only recorded when it is
        key = ctx.attrs["key"]
        if hub.node_hooks:  # the hub's grad_fn hooks see every piece's gradient
            _record(hub, key, g)
        held = hub.attrs.get("buffer")
        if held is None or held[0] != pass_id():
            buf = array_module(g).zeros(ctx.shapes[0], dtype=g.dtype)
            buf[key] = g
            hub.attrs["buffer"] = (pass_id(), buf)
            return buf  # the hub's gradient; later pieces fill the rest of it in place
        held[1][key] = g
        return None

    @staticmethod
    def grad_fn_of(ctx):
        """The node PyTorch's ``grad_fn`` is, for grad_fn hooks: the hub for split/chunk/unbind
        (one node for all pieces), the piece itself for tensor_split (a SliceBackward0 each)."""
        hub = ctx.next[0]
        return hub if hub.attrs.get("multi") else ctx

    @staticmethod
    def output_nr(ctx):
        """Which piece of its hub this is (``next_functions``' output number)."""
        key = ctx.attrs["key"]
        return next(i for i, k in enumerate(ctx.next[0].attrs["keys"]) if k is key)

    @staticmethod
    def hook_backward(ctx, g):
        """The backward of a piece with grad_fn hooks of its own: an array of x's shape that is
        its own (its hooks may keep or replace it), not the buffer its siblings share."""
        hub = ctx.next[0]
        if hub.node_hooks:
            _record(hub, ctx.attrs["key"], g)
        hub.attrs.pop("buffer", None)  # the engine sums this array with it: later pieces start anew
        buf = array_module(g).zeros(ctx.shapes[0], dtype=g.dtype)
        buf[ctx.attrs["key"]] = g
        return buf


def _named_piece(node_name: str) -> type:
    """A ``Piece`` whose nodes carry PyTorch's name for the op that cut it (``grad_fn.name()``,
    ``type(grad_fn).__name__``): ``SplitBackward0``, ``SplitWithSizesBackward0``, ``UnbindBackward0``,
    ``SliceBackward0`` (tensor_split)."""
    return type(
        node_name.removesuffix("Backward0") + "Piece",
        (Piece,),
        {"register": False, "name": "piece", "node_name": node_name},  # the op is still a piece
    )


_PIECES = {
    n: _named_piece(n)
    for n in (
        "SplitBackward0", "SplitWithSizesBackward0", "UnbindBackward0", "SliceBackward0",
        "UnsafeSplitBackward0", "UnsafeSplitWithSizesBackward0",
    )
}  # fmt: skip


def _record(hub, key, g) -> None:
    """Keep a piece's gradient for its hub's grad_fn hooks (``Split.hook_outputs``)."""
    held = hub.attrs.get("grads")
    if held is None or held[0] != pass_id():
        held = hub.attrs["grads"] = (pass_id(), {})
    held[1][id(key)] = g


def _pieces(
    x: Tensor, keys: list, multi: bool = True, node: str = "SplitBackward0", saved: dict | None = None
) -> tuple[Tensor, ...]:
    """The pieces at ``keys``, their nodes named ``node``; ``multi``: they follow PyTorch's rule for
    the outputs of a function returning several views (split, chunk, unbind; not tensor_split, whose
    pieces are slices). ``saved``: the call's arguments, which the hub shows as PyTorch's
    ``grad_fn._saved_dim``, ``_saved_split_size(s)`` (``autograd/saved_args.py``)."""
    hub = Split.apply(x)
    piece = _PIECES[node]
    pieces = tuple(piece.apply(hub, key=k) for k in keys)
    if hub._node is not None:  # for grad_fn hooks: the pieces in order, and whether they share one
        hub._node.attrs.update(keys=keys, multi=multi, **(saved or {}))
    if multi:  # PyTorch's rules for the views of a multi-view function
        mark_multi(pieces)  # autograd/view_rebase.py: not changed in place while recording
        if hub.requires_grad:
            register(pieces)  # stale_views.py: not used after their memory changed
    return pieces


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``tensor`` along ``dim``: of ``split_size`` each (the last may be smaller) or of
    the listed section sizes (which must sum to the dim's size). Each piece is a view of ``tensor``.

    Shape:
        tensor ``(*A, n, *B)`` -> pieces ``(*A, n_i, *B)`` with ``sum(n_i) = n``.
    """
    return _split(tensor, split_size_or_sections, dim, unsafe=False)


def _split(x: Tensor, split_size_or_sections: Any, dim: int, unsafe: bool) -> tuple[Tensor, ...]:
    if x.ndim == 0:
        raise ShapeError("split: expected a tensor with at least 1 dim, got shape ()")
    d = normalize_dim(dim, x.ndim, "split", x.shape)
    n = x.shape[d]
    if isinstance(split_size_or_sections, Tensor) and split_size_or_sections._data.size == 1:
        split_size_or_sections = int(split_size_or_sections)  # a size computed as a tensor: PyTorch's int()
    elif not isinstance(split_size_or_sections, int | tuple | list):
        raise TypeError(  # PyTorch reads it as sections: a NumPy integer is not a tuple of ints there
            f"split(): expected split_size_or_sections to be an int or a list of ints, got "
            f"{type(split_size_or_sections).__name__} {split_size_or_sections!r:.40}"
        )
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size < 0 or (size == 0 and n):
            raise ShapeError(f"split: expected a positive split size, got {size}")
        sections = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    else:
        sections = list(_ints((split_size_or_sections,), "split"))
        if sum(sections) != n or any(s < 0 for s in sections):
            raise ShapeError(
                f"split: expected non-negative sections summing to {n} (dim {dim} of {x.shape}), got {sections}"
            )
    starts = np.cumsum([0, *sections])
    pre = (slice(None),) * d
    node = "SplitBackward0" if isinstance(split_size_or_sections, int) else "SplitWithSizesBackward0"
    keys = [(*pre, slice(int(a), int(b))) for a, b in itertools.pairwise(starts)]
    saved = {"given_dim": dim}
    if isinstance(split_size_or_sections, int):
        saved["split_size"] = split_size_or_sections
    else:
        saved["split_sizes"] = tuple(sections)
    return _pieces(x, keys, multi=not unsafe, node="Unsafe" + node if unsafe else node, saved=saved)


def unsafe_split(input: Tensor, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``split`` whose pieces PyTorch leaves out of its multi-view rules (so they may be changed in
    place). PyTorch then does not track such a change, and its gradients can be wrong; here the
    pieces are tracked as slices are, so the change is allowed and the gradients stay right."""
    return _split(input, split_size, dim, unsafe=True)


def unsafe_split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``unsafe_split`` by the listed section sizes."""
    return _split(input, list(split_sizes), dim, unsafe=True)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """``chunk`` with ``unsafe_split``'s pieces."""
    return _chunk("unsafe_chunk", input, chunks, dim, unsafe=True)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces along ``dim`` of size ceil(n / chunks) each (so maybe fewer pieces), as PyTorch."""
    return _chunk("chunk", x, chunks, dim, unsafe=False)


def _chunk(op: str, x: Tensor, chunks: int, dim: int, unsafe: bool) -> tuple[Tensor, ...]:
    n = size_int(chunks)  # a NumPy integer counts, a float or bool does not
    if n is None:
        raise TypeError(f"{op}: expected chunks to be an int, got {type(chunks).__name__}")
    chunks = n
    if chunks <= 0 or x.ndim == 0:
        raise ShapeError(
            f"{op}: expected chunks > 0 and a tensor with dims, got {chunks} and shape {x.shape}"
        )
    n = x.shape[normalize_dim(dim, x.ndim, op, x.shape)]
    return _split(x, [0] * chunks if n == 0 else -(-n // chunks), dim, unsafe)  # the dim as given


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices ``x.select(dim, i)`` for every i, as a tuple of views (the dim is removed).

    Shape:
        x ``(*A, n, *B)`` -> n pieces ``(*A, *B)``.
    """
    if x.ndim == 0:
        # an IndexError, as PyTorch's
        raise IndexOutOfRangeError("unbind: expected a tensor with at least 1 dim, got shape ()")
    d = normalize_dim(dim, x.ndim, "unbind", x.shape)
    pre = (slice(None),) * d
    keys = [(*pre, i, Ellipsis) for i in range(x.shape[d])]
    return _pieces(x, keys, node="UnbindBackward0", saved={"given_dim": dim})
