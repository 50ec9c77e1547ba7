"""``vmap``: PyTorch's ``torch.func.vmap`` as a loop over the batch.

PyTorch runs ``func`` once on tensors with a hidden batch dimension, each op following its
batching rule. glassgrad's ops have no batching rules, so ``func`` runs once per batch item on
that item's slices (views, ``x.select(in_dim, i)``) and the results are stacked at ``out_dims``
(``stack``: differentiable, so ``vmap`` of ``grad`` gives per-sample gradients that a further
backward can reach). The values are PyTorch's; the time is a Python loop's.

What the loop changes, and how it is kept honest:

- randomness: ``"error"`` (the default) refuses a ``func`` that draws from any generator (the
  global one or a ``generator=`` argument), ``"same"`` replays the first item's draws for every
  item, ``"different"`` draws anew per item, as PyTorch's three modes;
- side effects would repeat once per item: a tensor ``func`` captured (a closure's, a global's,
  a module's parameters and buffers, ``functools.partial``'s), or an input passed whole (in_dim
  None), changed in place or given a gradient by ``backward()``, raises instead (PyTorch refuses
  these where the change is batched, BatchNorm's running statistics among them, and makes it
  once where it is not);
- a batch of size 0 runs ``func`` once on zeros of one item's shapes, for the output shapes
  (the sum over the empty dim of an input that requires grad: the empty outputs stay in its graph);
- pytrees are ``torch.utils._pytree``'s: ``None`` is a leaf, so an in_dim or out_dim other than
  None for it raises, as PyTorch's;
- ``out_dims=None`` returns the first item's output if every item's is equal (PyTorch: if it does
  not depend on the mapped inputs), and raises otherwise, as PyTorch;
- ``autograd.grad`` inside ``func`` keeps the graph for every item but the last (``retain_graph``
  as given there): PyTorch runs that backward once for the whole batch, so a graph the batch
  shares (torchjd's batched vector-Jacobian products) must outlive the first item's pass;
- ``as_strided`` with an explicit ``storage_offset`` on a view of a mapped input counts it from
  the batch's first item (PyTorch's batching rule; the plain loop would read item 0 every time);
- outputs: an output whose items are views of one mapped input (``t.t()``, ``t[1:]``, ``t`` itself)
  is returned as a view of that input (or the input itself), as PyTorch's batching rules give, so
  a write into it reaches the input; other outputs are stacked with the batch dim outermost in
  memory and moved to ``out_dims`` (PyTorch's strides);
- lenient where PyTorch refuses: ``.item()`` and data-dependent Python control flow work.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from glassgrad.autograd.engine_modes import vmap_loops
from glassgrad.func.captured import captured
from glassgrad.ops.as_strided import AsStridedView
from glassgrad.ops.joining import stack
from glassgrad.random import drawn_states, draws_watched, rewind_draws
from glassgrad.tensor import Tensor
from glassgrad.utils._pytree import tree_flatten, tree_unflatten

__all__ = ["vmap"]


def vmap(
    func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *, chunk_size: Any = None
) -> Callable:
    """``func`` mapped over a dimension of its inputs, as ``torch.func.vmap``.

    Args:
        func: takes tensors (or pytrees of them) and returns a tensor or a pytree of tensors.
        in_dims: the mapped dim of every input (an int, or None for an input used whole), or a
            tuple with one entry per positional argument, each an int, None or a pytree matching
            that argument. Keyword arguments are passed whole.
        out_dims: where the batch dim goes in each output (an int, None, or a pytree matching
            the output).
        randomness: ``"error"``, ``"same"`` or ``"different"`` (see the module's docstring).
        chunk_size: None or a positive int; checked, and otherwise the loop's own concern.

    Shape:
        an input of shape ``(..., B at in_dim, ...)`` is seen by ``func`` without that dim; each
        output gains a dim of size B at its out_dim.

    >>> import glassgrad as gg
    >>> gg.vmap(gg.dot, in_dims=(0, None))(gg.ones(3, 2), gg.tensor([1.0, 2.0])).tolist()
    [3.0, 3.0, 3.0]
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"vmap: expected randomness 'error', 'different' or 'same', got {randomness!r}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: expected chunk_size None or an int greater than 0, got {chunk_size!r}")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return _call(func, in_dims, out_dims, randomness, args, kwargs)

    return wrapped


def _name(func: Callable) -> str:
    return getattr(func, "__name__", type(func).__name__)


def _dims_of(dims: Any, tree: Any, what: str, where: str) -> list:
    """One dim per leaf of ``tree`` (in ``tree_flatten``'s order): ``dims`` an int or None for
    every leaf below it, or a container of the same kind, length (keys) as ``tree``'s (a tuple
    does not match a list: PyTorch's pytree specs differ there, and it raises)."""
    if dims is None or isinstance(dims, int):
        return [dims] * len(tree_flatten(tree)[0])
    if isinstance(dims, dict) and isinstance(tree, dict) and dims.keys() == tree.keys():
        return [d for k in tree for d in _dims_of(dims[k], tree[k], what, where)]
    if type(dims) is type(tree) and isinstance(dims, tuple | list) and len(dims) == len(tree):
        return [d for sub_d, sub in zip(dims, tree, strict=True) for d in _dims_of(sub_d, sub, what, where)]
    raise ValueError(f"{where}: {what} {dims!r} does not match the structure it maps ({type(tree).__name__})")


def _in_leaves(func: Callable, in_dims: Any, args: tuple) -> tuple[list, list, Any, int]:
    """(leaves, dims, spec of args, batch size), after PyTorch's checks on in_dims."""
    where = f"vmap({_name(func)}, in_dims={in_dims!r}, ...)(<inputs>)"
    if not args:
        raise ValueError(f"vmap({_name(func)})(<inputs>): expected inputs, got none (vmap maps over inputs)")
    if not (in_dims is None or isinstance(in_dims, int | tuple)):
        raise ValueError(
            f"{where}: expected in_dims to be an int or a (possibly nested) tuple matching the inputs, "
            f"got {type(in_dims).__name__}"
        )
    if isinstance(in_dims, tuple) and len(in_dims) != len(args):
        raise ValueError(
            f"{where}: expected one in_dim per positional input ({len(args)}), got {len(in_dims)}"
        )
    per_arg = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
    leaves, dims = [], []
    for arg, d in zip(args, per_arg, strict=True):
        leaves += tree_flatten(arg)[0]
        dims += _dims_of(d, arg, "in_dims", where)
    sizes = []
    for leaf, d in zip(leaves, dims, strict=True):
        if d is None:
            continue
        if not isinstance(leaf, Tensor):
            raise ValueError(
                f"{where}: got in_dim={d} for an input of type {type(leaf).__name__}; only tensors can be "
                "mapped over (use None as its in_dim)"
            )
        if not -leaf.ndim <= d < max(leaf.ndim, 0) or leaf.ndim == 0:
            raise ValueError(
                f"{where}: got in_dim={d} for a tensor of {leaf.ndim} dims; expected "
                f"{-leaf.ndim} <= in_dim < {leaf.ndim}"
            )
        sizes.append(leaf.shape[d])
    if not sizes:
        raise ValueError("vmap: expected at least one tensor to map over, got none (every in_dim is None)")
    if len(set(sizes)) > 1:
        raise ValueError(
            f"vmap: expected all tensors to have the same size in the mapped dimension, got sizes {sizes}"
        )
    return leaves, dims, tree_flatten(args)[1], sizes[0]


def _state(t: Tensor) -> tuple:
    """What an in-place change or a gradient accumulated by ``backward()`` inside func moves."""
    g = t._grad  # (not .grad: that warns on a non-leaf, and this reads every tensor func captured)
    return t._version, id(g), None if g is None else g._version


def _item_args(leaves: list, dims: list, spec: Any, i: int, passed: list) -> list:
    """Item ``i``'s arguments; appends the item's leaves to ``passed`` (see ``_view_of_input``)."""
    sliced = [x if d is None else x.select(d, i) for x, d in zip(leaves, dims, strict=True)]
    passed.append(sliced)
    return tree_unflatten(sliced, spec)


def _shifts(leaves: list, dims: list, i: int) -> dict:
    """How far item ``i`` of each mapped input starts past item 0, in elements, keyed by the id
    of its version counter (shared by its views): ``as_strided`` inside ``func`` counts an explicit
    storage offset from the first item, as PyTorch's batching rule does (``ops/as_strided.py``)."""
    out: dict = {}
    for x, d in zip(leaves, dims, strict=True):
        if d is not None and isinstance(x, Tensor):
            out.setdefault(id(x._vc), i * x.stride(d))
    return out


def _zero_item_args(leaves: list, dims: list, spec: Any) -> list:
    """An item of an empty batch: zeros of one item's shapes (for the output shapes only). An input
    that requires grad gives its sum over the empty dim (zeros in its graph), so the empty outputs
    are in the graph too and a backward through them reaches it (zero gradients), as PyTorch's."""
    import glassgrad as gg

    made = [
        x
        if d is None
        else x.sum(d)
        if x.requires_grad
        else gg.zeros(*(s for k, s in enumerate(x.shape) if k != d % x.ndim), dtype=x.dtype)
        for x, d in zip(leaves, dims, strict=True)
    ]
    return tree_unflatten(made, spec)


def _unmapped(leaves: list, dims: list) -> list:
    """The tensor inputs passed whole (in_dim None): every item sees the same tensor, as a captured
    one, so a change to it would repeat too. Not one that shares memory with a mapped input: an
    in-place change through that input's item slice bumps their common version counter, and is
    PyTorch's too (``vmap(f, in_dims=(0, None))(x, x)``)."""
    mapped = {id(x._vc) for x, d in zip(leaves, dims, strict=True) if d is not None}
    return [
        x
        for x, d in zip(leaves, dims, strict=True)
        if d is None and isinstance(x, Tensor) and id(x._vc) not in mapped
    ]


def _call(func: Callable, in_dims: Any, out_dims: Any, randomness: str, args: tuple, kwargs: dict) -> Any:
    leaves, dims, spec, size = _in_leaves(func, in_dims, args)
    watched = [(t, "a tensor it captured") for t in captured(func)]
    watched += [(t, "an input passed whole (in_dim None)") for t in _unmapped(leaves, dims)]
    versions = [_state(t) for t, _ in watched]
    outs, after_first, passed = [], {}, []
    with draws_watched() as drawn:  # every generator func draws from: {id: (generator, state before)}
        for i in range(max(size, 1)):
            if randomness == "same" and i:
                rewind_draws(drawn)  # every item sees the first item's draws
            item = _item_args(leaves, dims, spec, i, passed) if size else _zero_item_args(leaves, dims, spec)
            more = i < size - 1
            vmap_loops.not_last += more
            vmap_loops.running += 1
            vmap_loops.shifts.append(_shifts(leaves, dims, i))
            try:
                outs.append(func(*item, **kwargs))
            finally:
                vmap_loops.not_last -= more
                vmap_loops.running -= 1
                vmap_loops.shifts.pop()
            if i == 0:
                after_first = drawn_states(drawn)
                if randomness == "error" and drawn:
                    raise RuntimeError(
                        "vmap: called a random operation with randomness='error'; pass randomness='same' "
                        "or 'different' to vmap, or draw the random numbers outside it"
                    )
                changed = [
                    (t, what) for (t, what), v in zip(watched, versions, strict=True) if _state(t) != v
                ]
                if changed:
                    t, what = changed[0]
                    raise RuntimeError(
                        f"vmap: {_name(func)} changed {what} (shape {tuple(t.shape)}: in place, or its "
                        ".grad by backward()); glassgrad's vmap runs it once per batch item, so the change "
                        "would repeat. Pass that tensor as a mapped input, change a copy, or use "
                        "torch.func.grad for gradients"
                    )
        if randomness == "same":
            rewind_draws(drawn, after_first)  # as if func had run once
    mapped = [
        (x, d, [p[k] for p in passed])
        for k, (x, d) in enumerate(zip(leaves, dims, strict=True))
        if d is not None and isinstance(x, Tensor)
    ]
    return _stack_outputs(func, outs, out_dims, size, mapped)


def _view_of_input(items: list, d: int, mapped: list) -> Any:
    """The batched output as a view of a mapped input, or None. PyTorch's view ops keep the
    batch dim inside one tensor, so ``vmap(lambda t: t.t())(x)`` is a view of ``x``: a write
    into it reaches ``x`` and ``vmap(Tensor.sin_)(x)`` returns ``x``. Stacking the items would
    copy them (a write into the result silently lost). When every item is a view of the same
    mapped input ``x`` (same memory, one layout, item ``i`` starting ``i * x.stride(in_dim)``
    past item 0), the result is the as_strided view of ``x`` with that batch stride at ``d``;
    its gradient is the stack's (each item read the same elements of ``x``)."""
    first = items[0]
    if not all(isinstance(t, Tensor) for t in items) or type(first) is not Tensor:
        return None
    for x, xd, slices in mapped:
        step = x.stride(xd)
        if x.dtype != first.dtype or any(
            t._vc is not x._vc
            or t.shape != first.shape
            or t.stride() != first.stride()
            or t.requires_grad != first.requires_grad
            or t.storage_offset() != first.storage_offset() + i * step
            for i, t in enumerate(items)
        ):
            continue
        if first.requires_grad and not x.requires_grad:
            return None  # (an item made to require grad inside func: its own leaf, not x's)
        src = x if first.requires_grad == x.requires_grad else x.detach()
        size = list(first.shape)
        stride = list(first.stride())
        size.insert(d, len(items))
        stride.insert(d, step)
        if all(t is p for t, p in zip(items, slices, strict=True)) and d == xd % x.ndim and src is x:
            return x  # func returned its argument: PyTorch's vmap returns the input itself (sin_, contiguous)
        try:  # AsStridedView itself: an absolute offset, without as_strided's per-item shift
            return AsStridedView.apply(
                src, size=tuple(size), stride=tuple(stride), storage_offset=first.storage_offset()
            )
        except NotImplementedError:  # x's memory is not one block: no storage to index, so copy
            return None
    return None


def _stack_outputs(func: Callable, outs: list, out_dims: Any, size: int, mapped: list = ()) -> Any:
    where = f"vmap({_name(func)}, ...)"
    flat = [tree_flatten(o) for o in outs]
    spec = flat[0][1]
    if any(s != spec for _, s in flat):
        raise ValueError(f"{where}: expected every batch item's output to have the same structure")
    if isinstance(outs[0], Tensor) and isinstance(out_dims, tuple) and len(out_dims) == 1:
        out_dims = out_dims[0]  # PyTorch reads a 1-tuple as the out_dim of a lone tensor output
    dims = _dims_of(out_dims, outs[0], "out_dims", where)
    result = []
    for k, d in enumerate(dims):
        items = [leaves[k] for leaves, _ in flat]
        first = items[0]
        if d is None:
            if size and any(not _same(first, x) for x in items[1:]):
                raise ValueError(
                    f"{where}: {_name(func)} can not return a batched tensor when out_dim is None"
                )
            result.append(first)
            continue
        if not isinstance(first, Tensor):
            raise ValueError(
                f"{where}: {_name(func)} must only return tensors, got type {type(first).__name__} "
                "(out_dims=None returns a value that is not batched)"
            )
        if not -(first.ndim + 1) <= d <= first.ndim:
            raise IndexError(
                f"vmap: out_dim {d} is out of range for an output of {first.ndim} dims (expected "
                f"{-(first.ndim + 1)} <= out_dim <= {first.ndim})"
            )
        view = _view_of_input(items, d % (first.ndim + 1), mapped) if size else None
        if view is not None:
            result.append(view)
            continue
        # stacked at dim 0 and moved: PyTorch's batching rules put a new tensor's batch dim first
        # and vmap moves it to out_dim, so the layout (strides, is_contiguous) is PyTorch's
        stacked = stack(items, dim=0).movedim(0, d)
        result.append(stacked if size else stacked.narrow(d, 0, 0))
    return tree_unflatten(result, spec)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return a is b or (a.shape == b.shape and bool((a == b).all()))
    return a is b or a == b
