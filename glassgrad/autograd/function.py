"""``Function`` (an op's forward and backward side by side), ``Node`` (one recorded op in the graph,
also the ``ctx`` that forward and backward share) and the op registry.

Forward and backward work on raw arrays. ``Function.apply`` unwraps Tensors, runs forward, and when
grad mode is on and an input requires grad, records a ``Node`` whose ``next`` entries point at the
inputs' nodes (or at leaf tensors). Backward is first-order: it returns arrays, never Tensors, so
there is no double backward.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any, ClassVar

from glassgrad.autograd import complex_gate as _complex
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.autograd.node_hooks import NodeHookMethods
from glassgrad.backend import asarray, may_share_memory, ndarray, quiet_busy, quiet_run, quietly
from glassgrad.dtypes import complex_seen as _complex_seen
from glassgrad.errors import GraphError
from glassgrad.iterator_layout import relayout as _relayout
from glassgrad.meta_array import MetaArray
from glassgrad.meta_array import seen as _meta_seen

__all__ = [
    "Primitive",
    "Function",
    "Node",
    "REGISTRY",
    "observers",
    "FunctionCtx",
    "once_differentiable",
    "named",
]

#: Every primitive op by name. Tests iterate it so that an op without a gradient check fails.
REGISTRY: dict[str, type[Primitive]] = {}


class _Observers:
    """Who watches the ops go by (tracers, profilers). Empty lists cost one truth test per op.

    ``forward``: callables ``(fn, node_or_None, inputs, output, attrs)`` called after every op.
    ``backward``: callables ``(node, grad_output, grad_inputs)`` after every node's backward.
    ``leaf``: callables ``(tensor, grad)`` when a gradient is accumulated into a leaf.
    """

    __slots__ = ("backward", "forward", "leaf")

    def __init__(self) -> None:
        self.forward: list = []
        self.backward: list = []
        self.leaf: list = []


observers = _Observers()

_FREED = "freed"
_next_seq = itertools.count().__next__


class Node(NodeHookMethods):
    """One recorded op: the ``ctx`` of forward/backward and a vertex of the backward graph.

    Attributes:
        fn: the ``Function`` subclass that made it.
        attrs: the op's non-tensor arguments (``axis=``, ``shape=``...).
        saved: what forward kept with ``save_for_backward`` (freed after backward).
        next: per input, the input's ``Node``, the leaf ``Tensor`` that wants a gradient, or None.
        shapes: per input, its shape (gradients are unbroadcast to it).
        needs_input_grad: per input, whether a gradient is wanted.
        in_dtypes: None, or per input its float dtype where one differs from the result's (the engine casts).
        hooks: callables run on this node's output gradient (``Tensor.register_hook``).
        versions: for every saved array that is an input's or the output's memory, that tensor's
            shared version counter and its value at forward time, so that an in-place change
            before backward (through the tensor, a view of it or its ``detach()``) is caught
            instead of giving wrong gradients.
    """

    __slots__ = ("__weakref__", "attrs", "fn", "hooks", "in_dtypes", "needs_input_grad", "next",
                 "node_hooks", "saved", "seq", "shapes", "versions")  # fmt: skip

    def __init__(self, attrs: dict) -> None:
        self.attrs = attrs
        # creation order (PyTorch's sequence_nr): of the nodes ready in backward, the engine runs
        # the newest first, as PyTorch's does, so module backward hooks fire in reverse forward order
        self.seq = _next_seq()
        self.saved: tuple = ()
        self.hooks: list | None = None
        self.node_hooks = None  # grad_fn.register_prehook/register_hook/metadata: node_hooks.py
        self.needs_input_grad: tuple = ()
        self.in_dtypes: list | None = None

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays (or small values) for backward; nothing else survives to backward."""
        self.saved = arrays

    @property
    def saved_tensors(self) -> tuple:
        if self.saved is _FREED:
            raise GraphError(_freed_message(self))
        return self.saved

    def name(self) -> str:
        """PyTorch-style node name, e.g. ``MulBackward0`` (or the op's own ``node_name``; a hub
        shown for its outputs, ``shown``, is named as they are)."""
        cls = type(self)
        return call_name(self) if cls is Node else cls.__name__

    @property
    def next_functions(self) -> tuple:
        """PyTorch's ``((node, 0), ...)``, one pair per input (an op's ``shown_inputs`` first ones:
        eval batch norm's statistics are not shown): the input's node, an ``AccumulateGrad``, or None."""
        from glassgrad.autograd.node_views import edge

        return tuple(edge(n) for n in self.next[: getattr(getattr(self, "fn", None), "shown_inputs", None)])

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    # PyTorch's grad_fn._saved_self / _saved_other / _saved_result (autograd/graph.py). Properties,
    # not a __getattr__: a class with __getattr__ keeps CPython from specialising every attribute
    # read of every node (about 10% of a small backward).
    @property
    def _saved_self(self) -> Any:
        return _saved_value(self, 0)

    @property
    def _saved_other(self) -> Any:
        return _saved_value(self, 1)

    @property
    def _saved_result(self) -> Any:
        return _saved_value(self, -1)


def named(t: Any, name: str) -> Any:
    """``t``, its node shown as ``name``: PyTorch names a node after the call (``view``,
    ``unsqueeze``, ``x[0]``), where glassgrad may run one primitive for several (a reshape, a
    getitem). Only the name changes; returns ``t``."""
    node = t._node
    if node is not None:
        node.attrs["node_name"] = name
    return t


def call_name(node: Any) -> str:
    """``node``'s name as PyTorch shows it: the one its call gave it (``named``), the one its op
    makes from its attrs when the user looks (``node_name_by``: getitem, matmul), else its op's."""
    attrs, fn = node.attrs, node.fn
    by = getattr(fn, "node_name_by", None)
    return attrs.get("node_name") or (by(attrs) if by is not None else None) or node_name(fn)


def node_name(fn: Any) -> str:
    """The name PyTorch gives the node of op ``fn``: its ``node_name``, else ``<Class>Backward0``."""
    return getattr(fn, "node_name", None) or fn.__name__ + "Backward0"


def _freed_message(node: Node) -> str:
    return (
        f"{node.fn.name}: Trying to backward through the graph a second time (or after its saved "
        "arrays were freed); pass retain_graph=True to the first backward() if you need a second one"
    )


class Primitive:
    """Base of every primitive op of the library (a user's own op subclasses
    ``glassgrad.autograd.Function`` instead, which has PyTorch's Tensor contract).

    Subclasses define ``forward(ctx, *arrays, **attrs) -> array`` and
    ``backward(ctx, grad) -> array | tuple[array | None, ...]`` (one entry per positional input),
    both as static methods on raw arrays. Broadcasting of inputs is undone by the engine
    (``unbroadcast``); only a fused op whose inputs broadcast by design (linear's bias, batched
    matmul, the normalisations' weights) sums those dims itself, and says so in its docstring.
    Set ``name`` for error messages (defaults to the lower-cased class name); ``register = False``
    keeps an abstract helper class out of the registry; ``complex_ok = True`` lets complex tensors
    through the complex gate (``autograd/complex_gate.py``) once the backward gives PyTorch's gradients.
    ``layout``: how a fresh result gets PyTorch's strides where NumPy's differ (``iterator_layout.py``).
    """

    name: ClassVar[str] = "function"
    register: ClassVar[bool] = True
    complex_ok: ClassVar[bool] = False
    layout: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()
        from glassgrad.autograd.node_views import node_type

        cls.node_type = node_type(node_name(cls), getattr(cls, "user_function", False))  # named as PyTorch's
        if cls.__dict__.get("register", True):
            if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
                raise TypeError(f"Primitive: op name {cls.name!r} is registered twice")
            REGISTRY[cls.name] = cls

    @staticmethod
    def forward(ctx: Node, *arrays: Any, **attrs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Node, grad: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **attrs: Any) -> Any:
        """Run the op on Tensors (or constants); record a node when a gradient is wanted."""
        tensor_cls = _tensor_cls[0]
        if _meta_seen[0]:  # one truth test per op until a meta tensor has ever been made
            for x in inputs:
                if isinstance(x, tensor_cls) and x._data.__class__ is MetaArray:
                    return _meta_apply(cls, inputs, attrs)
            if _meta_raw(cls, inputs, attrs):  # a meta index, mask or condition passed as an array
                return _meta_apply(cls, inputs, attrs)
        if _complex_seen[0] and not cls.complex_ok:  # one truth test per op until complex data exists
            cls = _complex.gate(cls, inputs)  # a complex operand: the op's complex twin, or refused
        arrays = []
        needs = []
        nexts = []
        record = False
        grad_dtype = None  # the dtype of the inputs that want a gradient, or False when they differ
        for x in inputs:
            if isinstance(x, tensor_cls):
                arrays.append(x._data)
                if x.requires_grad:
                    record = True
                    d = x._data.dtype
                    grad_dtype = d if grad_dtype is None or grad_dtype is d else False
                    needs.append(True)
                    nexts.append(x._node or x)
                    continue
                if x._node is not None:  # a non-leaf whose requires_grad was set to False by hand
                    raise cut_non_leaf(cls.name, len(arrays) - 1)
            else:
                arrays.append(x)
            needs.append(False)
            nexts.append(None)
        ctx = Node(attrs)
        ctx.needs_input_grad = needs
        try:  # NumPy's float warnings off in every forward: PyTorch's ops give inf/nan silently
            try:  # (backend._quiet_context: about 0.05 us; the user's NumPy keeps its own state)
                out = quiet_run(cls.forward, ctx, *arrays, **attrs)
            except RuntimeError as e:
                if not quiet_busy(e):  # a forward run inside a forward, or by a second thread
                    raise
                out = quietly(cls.forward, ctx, *arrays, **attrs)
        except (ValueError, IndexError, TypeError) as e:
            err = op_error(cls, arrays, e)
            if err is e:
                raise
            raise err from e
        if out.__class__ is not ndarray and out.__class__ is not MetaArray:
            scalar, out = out, asarray(out)  # NumPy reductions return scalars; a Tensor holds an array
            if ctx.saved:  # a 0-d op that saved its output (exp, sigmoid ...) saves the array the
                # result holds, so that an in-place change of the result is seen at backward
                ctx.saved = tuple(out if s is scalar else s for s in ctx.saved)
        elif cls.layout is not None and out.ndim > 1 and out.base is None:
            out = _relayout(ctx, out, arrays, cls.layout)  # PyTorch's strides (iterator_layout.py)
        result = tensor_cls(out, _wrap=True)
        if out.base is not None:  # a view of an input
            _share_version(result, inputs, arrays)
        else:
            for a in arrays:
                if out is a:  # the input itself (a user Function returning its input)
                    _share_version(result, inputs, arrays)
                    break
        if record and _grad_state.enabled and (out.dtype.kind == "f" or _complex.recordable(cls, out)):
            ctx.fn = cls
            ctx.next = nexts
            ctx.shapes = [a.shape if n else None for a, n in zip(arrays, needs)]
            if grad_dtype is not out.dtype:  # maybe mixed float dtypes (f32 op f64): PyTorch casts back
                _note_in_dtypes(ctx, arrays, needs, out.dtype)
            result.requires_grad = True
            result._node = ctx
            if ctx.saved:
                ctx.versions = _saved_versions(ctx.saved, inputs, arrays, result)
                if version_capture:  # a recorded in-place op is running (tensor_inplace._update)
                    version_capture[-1].append(ctx.versions)
                if _saved_hooks_active[0]:  # autograd.graph.saved_tensors_hooks is installed
                    _pack_saved(ctx, inputs, arrays, result)
            else:
                ctx.versions = None
        else:
            record = False
        if observers.forward:
            for obs in observers.forward:  # quietly: forward AD's tangent of log(0) is inf, as PyTorch
                quietly(obs, cls, ctx if record else None, inputs, result, attrs)
        return result


def _note_in_dtypes(ctx: Node, arrays: list, needs: list, odt: Any) -> None:
    """``ctx.in_dtypes`` if an input wanting a gradient has another float dtype than the result."""
    for a, n in zip(arrays, needs):
        if n and a.dtype != odt and a.dtype.kind == "f":
            ctx.in_dtypes = [a.dtype if n else None for a, n in zip(arrays, needs)]
            return


def _owner(a: Any) -> Any:
    """The object that owns ``a``'s memory. NumPy points a view's ``base`` at the owner, except
    through an array that does not own its memory either (``as_strided``'s, whose base is a
    ``DummyArray``): that chain is followed to its end."""
    b = a.base
    if b is None:
        return a
    while b.__class__ is ndarray and b.base is not None:
        b = b.base
    return b


def _shares(s: Any, a: Any) -> bool:
    """Whether arrays ``s`` and ``a`` may share memory: by owner identity (cheap, the common
    case), else, when an owner is not a plain array (a strided view's buffer), by bounds."""
    os_, oa = _owner(s), _owner(a)
    if os_ is oa:
        return True
    if os_.__class__ is ndarray and oa.__class__ is ndarray:
        return False  # two different owning arrays: two different buffers
    return may_share_memory(s, a)


def remember(views: dict, *ts: Any) -> None:
    """Add ``ts`` to ``views`` (``id -> weakref``), dropping the dead entries whenever the count
    passes a power of two from 1024 on (amortised O(1): a base cut every step does not grow it)."""
    before = len(views)
    ref = weakref.ref
    for t in ts:
        views[id(t)] = ref(t)
    n = len(views)
    if n >= 1024 and n.bit_length() > before.bit_length():
        for k in [k for k, r in views.items() if r() is None]:
            del views[k]


def _saved_versions(saved: tuple, inputs: tuple, arrays: list, result: Any) -> list:
    """For each array forward saved that is (or views) an input's or the output's memory: that
    tensor's version counter, the version now, which one it is (-1: the output; else the input's
    position), its shape, and the array's position in ``saved`` (read by ``grad_fn._saved_self``),
    checked before backward runs."""
    tensor_cls = _tensor_cls[0]
    res = result._data
    out = []
    for j, s in enumerate(saved):
        if s.__class__ is not ndarray:
            continue
        if s is res:
            out.append((result._vc, result._vc[0], -1, s.shape, j))
            continue
        # x * x saves one array twice: the j-th saved value is input j where it can be
        if j < len(arrays) and s is arrays[j] and isinstance(inputs[j], tensor_cls):
            out.append((inputs[j]._vc, inputs[j]._vc[0], j, s.shape, j))
            continue
        for i, a in enumerate(arrays):  # the common case: forward saved an input itself
            if s is a and isinstance(inputs[i], tensor_cls):
                out.append((inputs[i]._vc, inputs[i]._vc[0], i, a.shape, j))
                break
        else:  # not an input itself: a view of one (or of the output), or an array of its own
            if _shares(s, res):
                out.append((result._vc, result._vc[0], -1, s.shape, j))
                continue
            for i, (x, a) in enumerate(zip(inputs, arrays)):
                if isinstance(x, tensor_cls) and _shares(s, a):
                    out.append((x._vc, x._vc[0], i, a.shape, j))
                    break
    return out


#: While a recorded in-place op computes its result (``tensor_inplace._update``), one list per
#: running op: the ``versions`` lists of the nodes made meanwhile, so that the op can move the
#: versions saved against its result's fresh counter when the tensor takes that counter over.
version_capture: list = []

# Set by glassgrad.tensor once Tensor exists (tensor.py imports this module, not the reverse).
_tensor_cls: list = [None]


# PyTorch's torch.autograd.function.{Function, FunctionCtx, once_differentiable} (user code's
# Function, with `ctx`; library ops subclass Primitive), last as custom.py builds on Primitive;
# the legacy InplaceFunction (inplace_function.py) sorts below with the saved-tensor hooks.
from glassgrad.autograd.custom import Function, FunctionCtx, once_differentiable  # noqa: E402
from glassgrad.autograd.engine_checks import cut_non_leaf, op_error  # noqa: E402

# Saved-tensor hooks (autograd/graph.py builds on Node above): the count of installed pairs that
# apply reads, and the packing it calls while one is installed.
from glassgrad.autograd.graph import active as _saved_hooks_active  # noqa: E402
from glassgrad.autograd.graph import pack_saved as _pack_saved  # noqa: E402
from glassgrad.autograd.graph import saved_value as _saved_value  # noqa: E402
from glassgrad.autograd.inplace_function import InplaceFunction as InplaceFunction  # noqa: E402

# Ops with a meta input (autograd/meta_apply.py builds on Node and the helpers above).
from glassgrad.autograd.meta_apply import meta_apply as _meta_apply  # noqa: E402
from glassgrad.autograd.meta_apply import meta_raw as _meta_raw  # noqa: E402

# An output that is a view of an input shares its version counter and is remembered by its base,
# for rebasing the views' graphs after a recorded in-place change (autograd/view_rebase.py).
from glassgrad.autograd.view_rebase import share_version as _share_version  # noqa: E402
