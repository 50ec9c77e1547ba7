"""A recorded in-place change of memory that other tensors see: PyTorch's view rebasing.

When ``v = base[0]`` and then ``v.add_(w)`` runs while recording, the change writes into the memory
``base`` and every other view of it share, so their graphs must change too (PyTorch's
``CopySlices``). ``rebase`` does it in four moves:

1. the out-of-place op runs on a copy of ``v``'s values that carries ``v``'s node (what it saves
   stays as it was), giving ``out``;
2. ``out`` is written into ``v``'s memory and the shared version counter is bumped, so every op
   that saved the old values raises at backward, as in PyTorch;
3. the base (the root of the view chain, ``t._base``) takes a ``CopySlices`` node: its gradient
   outside ``v``'s region goes to the base's old node, inside it to ``out``;
4. ``v`` and every other live view of the base take an ``AsStrided`` node of the base's new
   node: the view's elements, found by their place in the base's memory.

A tensor without a base whose memory is seen elsewhere (its own views, a ``detach()``, a NumPy
array) takes ``out``'s node after step 2, and its views are rebased as in step 4. Views made in
no_grad mode and the pieces of split/chunk/unbind are PyTorch's exceptions: a recorded in-place
change of one is refused, and a use of one after its base was rebased raises at backward.

Views are known from ``Function.apply``: an output that shares memory with an input gets
``_base`` (the input's base, or the input) and a weak entry in the base's ``_views``.
"""

from __future__ import annotations

import weakref
from typing import Any

from glassgrad.autograd.function import Node, _owner, _shares, _tensor_cls, observers, remember
from glassgrad.autograd.function import Primitive as Function
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.autograd.hooks import move_retain_grad
from glassgrad.autograd.transform_leaves import refuse_transform_leaf, transform_leaves
from glassgrad.autograd.view_pairs import allowed, attrs, from_pairs, to_pairs
from glassgrad.autograd.view_table import Views, prune
from glassgrad.backend import array_module
from glassgrad.errors import GraphError
from glassgrad.memory_overlap import overlaps, reopen

__all__ = [
    "Marked",
    "Views",
    "prune",
    "share_version",
    "mark_multi",
    "check_view",
    "copy_slices",
    "rebase",
    "CopySlices",
    "AsStrided",
]


class Marked(weakref.ref):
    """A base's weak reference to a view made in no_grad mode or cut by split/chunk/unbind (or
    from such a view): a recorded in-place change of it is refused, as PyTorch's, and it may not
    be used once its base is rebased. Every other view is held by a plain ``weakref.ref``.
    ``share_version`` fills a base's table as ``Function.apply``'s ops make views."""

    __slots__ = ()


_ref_class = weakref.ref


def share_version(result: Any, inputs: tuple, arrays: list) -> None:
    """Called by ``Function.apply``: an output that is a view of an input (reshape, transpose,
    slices, expand ...) shares the input's version counter, so an in-place change through either
    is seen by every saved copy, and gets ``_base`` and an entry in its base's table of views."""
    tensor_cls = _tensor_cls[0]
    out = result._data
    for x, a in zip(inputs, arrays):
        if isinstance(x, tensor_cls) and _shares(out, a):
            vc = result._vc = x._vc
            vc[1] = True  # shared: a recorded in-place change of either rebases the other's graph
            if len(vc) > 2 and id(x) in vc[2] and vc[2][id(x)]() is x:  # a view of a split's piece
                remember(vc[2], result)  # is one too (ops/stale_views.py)
            # the base remembers its views, for rebasing them after a recorded in-place change;
            # kept inline: this runs for every view an op makes
            root = x._base
            if root is not None and not _shares(a, root._data):
                root = x._base = None  # x's or its base's array was swapped: x is no view of it now
            if root is None:
                root = x
            result._base = root
            if not out.flags.writeable:  # a view of expand's: writable where no two places share memory
                reopen(out)
            views = root._views
            if views is None:
                views = root._views = Views()
            if _grad_state.enabled and (root is x or views.get(id(x)).__class__ is weakref.ref):
                views[id(result)] = weakref.ref(result)
            else:  # made in no_grad mode, or cut from such a view: marked, as PyTorch
                views[id(result)] = Marked(result)
                if x.requires_grad and not _grad_state.enabled and out.dtype.kind in "fc":
                    result.requires_grad = True  # PyTorch's reads True (a leaf; engine_checks.py)
            if len(views) >= views.limit:
                prune(views)
            return


def _ref(t: Any) -> Any:
    views = t._base._views
    ref = views.get(id(t)) if views is not None else None
    return ref if ref is not None and ref() is t else None


def _plain(ref: Any) -> bool:
    return ref.__class__ is _ref_class


def mark_multi(pieces: tuple) -> None:
    """The pieces of split/chunk/unbind: PyTorch refuses a recorded in-place change of them."""
    for p in pieces:
        if p._base is not None and _ref(p) is not None:
            p._base._views[id(p)] = Marked(p)


def check_view(t: Any, op: str) -> None:
    """PyTorch's refusals of a recorded in-place change of view ``t``: a view of a leaf that
    requires grad, and a view made in no_grad mode or cut by split/chunk/unbind."""
    base = t._base
    if transform_leaves:  # (empty unless a torch.func reverse transform linked a primal)
        refuse_transform_leaf(t, base, op)
    if base.requires_grad and base._node is None:
        raise GraphError(
            f"{op}: expected a tensor that may change in place, got a view of shape {t.shape} of a leaf "
            "that requires grad (PyTorch refuses it too); do it inside glassgrad.no_grad(), or change a "
            "clone()"
        )
    if t._data.dtype != base._data.dtype and not allowed(base._data, t._data):  # view(dtype)
        raise GraphError(
            f"{op}: expected a view of its base's dtype {base.dtype}, got a {t.dtype} view (view(dtype), "
            "of another size) changed in place while recording; change the base, or a clone()"
        )
    ref = _ref(t)
    if ref is None or not _plain(ref):
        raise GraphError(
            f"{op}: expected a view made in grad mode, got a view of shape {t.shape} made in no_grad "
            "mode (as in a custom Function's forward), cut by split/chunk/unbind or an input a custom "
            "Function returned as is, changed in place with grad mode on (PyTorch refuses it too); "
            "change a clone(), or write it out of place"
        )


def _span(a: Any) -> tuple[int, int]:
    """The lowest and one-past-highest element offsets ``a`` reaches from its first element."""
    k = a.itemsize
    lo = hi = 0
    for n, s in zip(a.shape, a.strides):
        if n == 0:
            return 0, 0
        step = s // k * (n - 1)
        if step < 0:
            lo += step
        else:
            hi += step
    return lo, hi + 1


def _address(a: Any) -> int:
    return a.__array_interface__["data"][0] // a.itemsize


def geometry(root: Any, view: Any) -> tuple:
    """Where ``view``'s elements lie in ``root``'s memory, in elements: ``(span, root_at,
    root_strides, root_shape, view_at, view_strides, view_shape, overlaps)``, offsets counted from
    the lowest element either reaches."""
    k = root.itemsize
    rlo, rhi = _span(root)
    vlo, vhi = _span(view)
    r0, v0 = _address(root), _address(view)
    low = min(r0 + rlo, v0 + vlo)
    span = max(r0 + rhi, v0 + vhi) - low
    rs = tuple(s // k for s in root.strides)
    vs = tuple(s // k for s in view.strides)
    # a read-only view (expand, unfold) may reach one element twice: its gradient is summed there
    return span, r0 - low, rs, root.shape, v0 - low, vs, view.shape, not view.flags.writeable


def _layout(g: Any, geo: tuple) -> tuple[Any, Any, Any]:
    """A zeroed buffer laid out as the base's memory, and the base's and the view's places in it."""
    xp = array_module(g)
    span, r_at, r_st, r_shape, v_at, v_st, v_shape, _ = geo
    buf = xp.zeros(max(span, 1), dtype=g.dtype)
    k = buf.itemsize
    strided = xp.lib.stride_tricks.as_strided
    root = strided(buf[r_at:], r_shape, tuple(s * k for s in r_st))
    view = strided(buf[v_at:], v_shape, tuple(s * k for s in v_st))
    return buf, root, view


class CopySlices(Function):
    """The base's node after a view of it changed in place: base_new = base_old with the view's
    region replaced by ``out``. VJP: (g with the region zeroed, g's region)."""

    name = "copy_slices"
    node_name = "CopySlices"  # PyTorch's grad_fn name
    register = False  # built by rebase, never applied

    @staticmethod
    def backward(ctx: Node, g: Any) -> tuple:
        _, root, view = _layout(to_pairs(ctx, g, "root"), _geometry_of(ctx))
        root[...] = to_pairs(ctx, g, "root")
        g_out = from_pairs(ctx, view.copy(), "view") if ctx.needs_input_grad[1] else None
        view[...] = 0
        return (from_pairs(ctx, root, "root") if ctx.needs_input_grad[0] else None), g_out


class AsStrided(Function):
    """A view's node regenerated from its base's: the elements at the view's places in the base's
    memory. VJP: zeros of the base's shape with g at those places (summed where a read-only view
    reaches an element twice)."""

    name = "as_strided"
    register = False  # built by rebase, never applied

    @staticmethod
    def backward(ctx: Node, g: Any) -> tuple:
        geo, g = _geometry_of(ctx), to_pairs(ctx, g, "view")
        buf, root, view = _layout(g, geo)
        if not geo[-1]:
            view[...] = g
        else:
            array_module(g).add.at(buf, _places(buf, geo[4], geo[5], geo[6]), g.reshape(-1))
        if overlaps(geo[3], geo[2]):  # the base reads an element twice (expand, unfold): as PyTorch,
            # each of its readers gets an equal share of that element's gradient
            at = _places(buf, geo[1], geo[2], geo[3])
            count = array_module(g).bincount(at, minlength=buf.size)
            root = buf[at].reshape(geo[3]) / count[at].reshape(geo[3])
        return (from_pairs(ctx, root, "root"),)


def _places(buf: Any, at: int, strides: tuple, shape: tuple) -> Any:
    """The flat positions in ``buf`` of the elements of a view starting at ``at`` (C order)."""
    xp = array_module(buf)
    index = xp.arange(buf.size, dtype=xp.int64)
    return xp.lib.stride_tricks.as_strided(index[at:], shape, tuple(s * 8 for s in strides)).reshape(-1)


def _geometry_of(ctx: Node) -> tuple:
    """The node's geometry, worked out from the base's and the view's arrays at the first backward
    (a rebase may remake the node of every live view: making each one must stay cheap)."""
    geo = ctx.attrs.get("geometry")
    if geo is None:
        geo = ctx.attrs["geometry"] = geometry(*ctx.attrs.pop("arrays"))
    return geo


def _node(fn: Any, attrs: dict, nexts: list, shapes: list) -> Node:
    node = Node(attrs)
    node.fn = fn
    node.next = nexts
    node.shapes = shapes
    node.needs_input_grad = [n is not None for n in nexts]
    node.versions = None
    return node


def _grad_edge(t: Any) -> Any:
    """What a node's ``next`` holds for input ``t``: its node, the leaf itself, or None."""
    return t._node if t._node is not None else (t if t.requires_grad else None)


def copy_slices(root: Any, t: Any, old: Any, out: Any) -> None:
    """``root`` takes a ``CopySlices`` node: its values from ``old`` outside view ``t``'s region, from
    ``out`` (what was written into ``t``) inside it; ``t`` becomes an ``as_strided`` view of that."""
    r_old = root._node
    shapes = [root._data.shape, out._data.shape]
    root._node = _node(CopySlices, attrs(root._data, t._data), [old, _grad_edge(out)], shapes)
    root.requires_grad = True
    _observe(CopySlices, root, (root, out))
    move_retain_grad(r_old, root)
    t._node, t.requires_grad = _view_node(root, t, root._node), True
    _observe(AsStrided, t, (root,))


def _view_node(root: Any, view: Any, edge: Any) -> Node:
    """An ``as_strided`` node: ``view``'s elements of ``root``'s memory, from ``edge`` (the node
    or leaf that stands for ``root``'s values)."""
    return _node(AsStrided, attrs(root._data, view._data), [edge], [root._data.shape])


def live_base(t: Any) -> Any:
    """``t``'s base while ``t`` is still a view of it; None once either array was swapped
    (``.data =``, ``Module.double()``, a recorded change with no other holder), the link dropped."""
    base = t._base
    if base is not None and not _shares(t._data, base._data):
        t._base = base = None
    return base


def _clone(t: Any) -> Any:
    from glassgrad.ops.conversion import clone  # ops import the autograd package: not at load time

    return clone(t)


def _observe(fn: Any, t: Any, inputs: tuple) -> None:
    """Show the node ``t`` just took to the forward observers (traces, graph writers), as
    ``Function.apply`` shows every op's."""
    for obs in observers.forward:
        obs(fn, t._node, inputs, t, t._node.attrs)


def _repoint_saved(out: Any, t: Any) -> None:
    """``out``'s node saved ``out``'s array (exp_, sigmoid_ ...): it is ``t``'s memory now, so a
    later change of that memory must be seen at backward, as PyTorch's node saves the view itself."""
    node = out._node
    if node is None or not node.versions:
        return
    saved = list(node.saved)
    for i, (_vc, _version, which, shape, j) in enumerate(node.versions):
        if which == -1 and saved[j] is out._data:
            saved[j] = t._data
            node.versions[i] = (t._vc, t._vc[0], -1, shape, j)
    node.saved = tuple(saved)


def rebase(t: Any, op: str, fn: Any, args: tuple) -> Any:
    """``t = fn(t, *args)`` written into ``t``'s memory, recorded, with the graphs of the base and
    of every live view rebased (module docstring). Returns ``out`` before it is written, for the
    caller's dtype and shape checks, and a function that completes the change."""
    root = t._base if t._base is not None else t
    if root is t:  # a recorded clone of t's values: what the op saves stays as it was
        old = None
        src = _clone(t)
    else:
        # the values t had, as a view of the base's old node: as PyTorch's CopySlices, the
        # gradient of the changed region goes back to the base without t's old node (or its hooks)
        old = _grad_edge(root)
        src = t.__class__(t._data.copy(), _wrap=True)
        if old is not None:
            src._node, src.requires_grad = _view_node(root, t, old), True
            _observe(AsStrided, src, (root,))
    out = fn(src, *args)

    def complete() -> None:
        t._data[...] = out._data
        vc = t._vc
        vc[0] += 1
        _repoint_saved(out, t)
        t_old = t._node
        if root is t:
            t._node, t.requires_grad = out._node, out.requires_grad
        else:
            copy_slices(root, t, old, out)
        move_retain_grad(t_old, t)
        _rebase_views(root, t, vc)

    return out, complete


def _rebase_views(root: Any, changed: Any, vc: list) -> None:
    """Every live view of ``root`` but ``changed`` takes a node of ``root``'s new one; the views
    PyTorch would refuse to use now (made in no_grad mode, pieces of split/chunk/unbind) are marked
    so that ``stale_views.changed`` poisons them. Eager (PyTorch remakes a view's node when it is
    next read), so this loop runs once per live view per change and is kept lean."""
    views = root._views
    if not views:
        return
    edge = _grad_edge(root)
    arr = root._data
    owner = _owner(arr)
    shape, dtype = [arr.shape], arr.dtype
    watched = observers.forward
    for key, ref in list(views.items()):
        v = ref()
        if v is None:  # dropped here too: a base written through a fresh view per step stays small
            del views[key]
            continue
        if v is changed or v._base is not root:
            continue
        a = v._data
        if _owner(a) is not owner and live_base(v) is None:
            continue  # v's array was swapped: no longer a view of root
        if ref.__class__ is not _ref_class or (a.dtype != dtype and not allowed(arr, a)):  # marked, or
            # view(dtype) of another size: its node is not regenerated here, so its use now raises
            if not v.requires_grad:  # a piece of a constant: poisoned like the pieces that require grad
                v._node, v.requires_grad = _view_node(root, v, edge), True
            if len(vc) < 3:
                vc.append({})
            remember(vc[2], v)  # stale_views' table of the pieces to poison
            continue
        old = v._node
        node = Node(attrs(arr, a))  # _view_node(root, v, edge), inlined: once per live view
        node.fn, node.next, node.shapes = AsStrided, [edge], shape
        node.needs_input_grad, node.versions = [edge is not None], None
        v._node = node
        v.requires_grad = True
        if watched:
            _observe(AsStrided, v, (root,))
        if old is not None and old.hooks:
            move_retain_grad(old, v)
