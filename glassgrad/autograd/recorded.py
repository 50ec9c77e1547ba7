"""Differentiable backward (``create_graph=True``): each op's VJP written once more on Tensors.

The engine's first-order backward runs every op's ``backward`` on raw arrays, the lean path every
training step takes. With ``create_graph=True`` (``Tensor.backward``, ``autograd.grad``) the same
walk instead calls the op's *recorded rule*: the same VJP formula written with glassgrad's own
Tensor ops, run with grad mode on, so the gradients it returns are Tensors with a graph of their
own, and a second backward through them gives second derivatives (gradient penalties, Hessians,
physics-informed losses, MAML).

A rule is ``rule(ctx, g) -> Tensor | None | tuple`` (one entry per input of the op), keyed by the
op's registered name in ``RULES`` (``recorded_rules*.py``); ``g`` is the output gradient, a
Tensor. The saved arrays become Tensors linked back into the forward graph:

- ``operand(ctx, i, a)``: input ``i``'s value ``a`` (an array forward saved) as a Tensor whose
  node is the node that produced input ``i`` (or the leaf itself), so d(rule)/d(input) flows on
  through the forward graph;
- ``output(ctx, a)``: the op's own output as a Tensor whose node is ``ctx`` (a tanh rule
  ``g * (1 - y ** 2)`` differentiates through y = tanh(x) by the op's own backward).

An op without a rule refuses ``create_graph=True`` with its name: never a gradient that silently
lacks its second-order part.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np

from glassgrad.autograd import forward_over_reverse
from glassgrad.autograd.complex_gate import check_hook_result, check_seed
from glassgrad.autograd.function import _FREED, Node, Primitive, _freed_message, _tensor_cls, call_name, named
from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.backend import user_code
from glassgrad.errors import GraphError, ShapeError
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "RULES",
    "rule",
    "operand",
    "output",
    "constant",
    "vjp",
    "unbroadcast",
    "seed",
    "store_grad",
    "run_hooks",
]

#: op name -> recorded VJP rule. ``tests/autograd/test_double_backward.py`` checks each one.
RULES: dict[str, Callable] = {}

_loaded = [False]


def rule(*names: str) -> Callable:
    """Register ``fn`` as the recorded VJP rule of each op in ``names``."""

    def register(fn: Callable) -> Callable:
        for name in names:
            if name in RULES and RULES[name] is not fn:  # two modules writing one op's rule
                raise TypeError(f"recorded rule for {name!r} registered twice")
            RULES[name] = fn
        return fn

    return register


def _load() -> None:
    if not _loaded[0]:
        from glassgrad.autograd import (  # noqa: F401  (each registers its rules)
            recorded_rules,
            recorded_rules_complex,
            recorded_rules_conv,
            recorded_rules_hooks,
            recorded_rules_linalg,
            recorded_rules_linalg_complex,
            recorded_rules_linalg_lu,
            recorded_rules_math,
            recorded_rules_math2,
            recorded_rules_movement,
            recorded_rules_nn,
            recorded_rules_nn2,
            recorded_rules_recurrent,
            recorded_rules_scatter,
            recorded_rules_sparse,
            recorded_rules_special,
            recorded_rules_views,
        )

        _loaded[0] = True


def rules() -> dict:
    """Every recorded rule, by op name (the rule modules loaded on first use)."""
    _load()
    return RULES


def constant(a: Any) -> Any:
    """Array ``a`` as a Tensor outside any graph."""
    return _tensor_cls[0](a, _wrap=True)


def operand(ctx: Node, i: int, a: Any) -> Any:
    """Input ``i`` of ``ctx`` as a Tensor in the forward graph; ``a`` is its value, as forward
    saved it (the input array itself, not a copy or a cast of it)."""
    nxt = ctx.next[i]
    if nxt is None:
        if not hasattr(a, "shape"):
            return a  # (a Python number stays one)
        return _with_tangent(constant(a), forward_over_reverse.input_tangent(ctx, i))
    if isinstance(nxt, Node):
        t = _tensor_cls[0](a, _wrap=True)
        t.requires_grad = True
        t._node = nxt
        return _with_tangent(t, forward_over_reverse.input_tangent(ctx, i))
    if nxt._data is not a and (getattr(a, "shape", None) != nxt._data.shape):
        raise GraphError(f"{ctx.fn.name}: its saved input {i} is not the leaf's value ({ctx.name()})")
    return nxt


def output(ctx: Node, a: Any) -> Any:
    """The op's own output ``a`` as a Tensor whose node is ``ctx``."""
    t = _tensor_cls[0](a, _wrap=True)
    t.requires_grad = True
    t._node = ctx
    return _with_tangent(t, forward_over_reverse.output_tangent(ctx))


def _with_tangent(t: Any, tangent: Any) -> Any:
    """``t`` carrying the tangent its value had at forward time, inside the dual level that gave
    it one (``forward_over_reverse``): the recorded gradient's tangent then has every term."""
    if tangent is not None and tangent.shape == t.shape:
        from glassgrad.autograd import forward_ad

        if forward_ad.is_active():
            forward_ad.set_tangent(t, tangent)
    return t


class DelayedError(Primitive):
    """z = a gradient whose own derivative is not available.   VJP: refused with ``message``
    (PyTorch's ``DelayedError`` node: the first backward gives the value, a second one raises)."""

    register = False
    name = "delayed_error"
    node_name = "DelayedError"

    @staticmethod
    def forward(ctx, value, *inputs, message=""):
        return value

    @staticmethod
    def backward(ctx, g):
        raise GraphError(ctx.attrs["message"])


@rule("delayed_error")
def _delayed_error(ctx, g):
    raise GraphError(ctx.attrs["message"])


def delayed_error(value: Any, inputs: list, message: str) -> Any:
    """Array ``value`` as a Tensor hanging from those of ``inputs`` that require grad through a
    node that refuses a second backward with ``message``; a constant when none does."""
    linked = [t for t in inputs if t is not None and getattr(t, "requires_grad", False)]
    if not linked:
        return constant(value)
    return DelayedError.apply(constant(value), *linked, message=message)


def saved(ctx: Node) -> tuple:
    """``ctx``'s saved values; an error when a backward without ``retain_graph`` freed them."""
    if ctx.saved is _FREED:
        raise GraphError(_freed_message(ctx))
    return ctx.saved


def vjp(node: Node, g: Any) -> tuple:
    """Node ``node``'s input gradients as recorded Tensors: its op's rule, run with grad mode on."""
    from glassgrad.autograd import custom_recorded

    # A user Function's nodes first: their op name is the user's class name (``Add``, ``Exp``),
    # which must not pick the library op's rule of the same name.
    if "user" in node.attrs:  # its own backward, on Tensors
        fn = custom_recorded.user_vjp
    elif custom_recorded.is_user_output(node):  # one output of a user Function with several
        fn = custom_recorded.user_output_vjp
    else:
        fn = rules().get(node.fn.name)
    if fn is None:
        raise NotImplementedError(
            f"{node.fn.name}: create_graph=True needs a differentiable backward of every op in the "
            f"graph, and {call_name(node)} ({node.fn.name}) has none yet; the ops that have one: "
            "glassgrad.autograd.recorded.rules()"
        )
    with enable_grad():
        out = fn(node, g)
        out = out if out.__class__ is tuple else (out,)
        if node.fn.name in _LINKED or node.attrs.get("node_name") in _LINKED_CALLS:
            out = tuple(_link(node, i, r) for i, r in enumerate(out))
        elif node.fn.name in _UNLINKED:
            out = _unlinked(node, out)
    return out


#: Ops whose derivative is piecewise constant but whose PyTorch backward formula still reads the
#: input or output (``grad * self.sgn()``, ``threshold_backward(grad, result)``, the pools' index
#: gather, the p = 1 and inf norms; ``_LINKED_CALLS``: the activations glassgrad writes with
#: ``where``/``sub``, by their node's name): under ``create_graph`` their gradient hangs from the input
#: with a zero derivative whatever the incoming gradient (a constant, or one with a graph of its own
#: through a later layer's weight, as in a gradient penalty), so a second backward through it gives
#: the input's leaves zeros, where a gradient outside the graph would be refused. (``clamp``,
#: ``maximum``, ``where``, ``sort`` and the reductions' extremes use masks and stay constant, as
#: in PyTorch.)
_LINKED = frozenset(
    {"abs", "relu", "leaky_relu", "hardtanh", "softshrink", "max_pool2d", "max_pool3d",
     "adaptive_max_pool2d", "adaptive_max_pool3d", "norm", "cdist",
     "recurrent_given_relu",  # a relu RNN's activation, in its rule's recomputation
     # linear in the input, yet PyTorch's backward is an op of its own that takes the input
     # (avg_pool2d_backward, reflection_pad2d_backward, nll_loss_backward ...): its gradient
     # requires grad even for a constant incoming gradient, and an HVP through it gives zeros
     "avg_pool2d", "avg_pool3d"}
)  # fmt: skip
#: As ``_LINKED``, but PyTorch's double backward there gives the op's inputs no gradient at all
#: (convolution_backward's, the eval batch norm's, grid_sampler's): a second ``grad`` w.r.t. them
#: is None (unused) rather than zeros, so results hang from them through ``Unlinked``, a node
#: shown by PyTorch's name (``{}``: 2-D or 3-D, after the input).
_UNLINKED = {
    "conv2d": "ConvolutionBackwardBackward0", "conv3d": "ConvolutionBackwardBackward0",
    "conv_transpose2d": "ConvolutionBackwardBackward0", "conv_transpose3d": "ConvolutionBackwardBackward0",
    "grid_sample": "GridSampler{}DBackwardBackward0", "batch_norm_eval": "NativeBatchNormBackwardBackward0",
}  # fmt: skip
_LINKED_CALLS = frozenset(
    {"ThresholdBackward0", "ThresholdBackward1", "HardshrinkBackward0", "PreluKernelBackward0",
     "AdaptiveAvgPool2DBackward0", "AdaptiveAvgPool3DBackward0", "NllLossBackward0",
     "NllLoss2DBackward0", "ReflectionPad1DBackward0", "ReflectionPad2DBackward0",
     "ReflectionPad3DBackward0", "ReplicationPad1DBackward0", "ReplicationPad2DBackward0",
     "ReplicationPad3DBackward0",
     # a gather of the input at the maxima here; PyTorch's backward is the pool's own, reading the input
     "FractionalMaxPool2DBackward0", "FractionalMaxPool3DBackward0"}
)  # fmt: skip


def _link(node: Node, i: int, r: Any) -> Any:
    """Rule result ``r`` for input ``i``, tied to that input with a zero derivative (``where`` with
    an all-False mask: the value is ``r``'s, the input gets 0). Also when ``r`` already requires
    grad through the incoming gradient alone (a conv or linear after a relu, under a gradient
    penalty): PyTorch's backward node still reads the input, so a second backward gives the
    input's leaves zeros, not None."""
    tensor_cls = _tensor_cls[0]
    if not isinstance(r, tensor_cls) or i >= len(node.next) or node.next[i] is None:
        return r
    shapes = getattr(node, "shapes", None)
    shape = shapes[i] if shapes is not None and i < len(shapes) else None
    if shape is None or tuple(r.shape) != tuple(shape) or not isinstance(r._data, np.ndarray):
        return r  # (a meta gradient: no values to keep, left as it is)
    from glassgrad.ops.elementwise import where

    anchor = operand(node, i, np.zeros(shape, dtype=r._data.dtype))
    if isinstance(node.next[i], tensor_cls) and anchor.dtype != r.dtype:
        return r
    return where(constant(np.zeros(shape, dtype=bool)), anchor, r)


class Unlinked(Primitive):
    """z = a recorded gradient ``value``, hanging from ``inputs`` too.   VJP: g for ``value``,
    None for each of ``inputs`` (a path to them that carries no gradient: ``_UNLINKED``)."""

    register = False
    name = "unlinked"

    @staticmethod
    def forward(ctx, value, *inputs):
        return value

    @staticmethod
    def backward(ctx, g):
        return (g,) + (None,) * (len(ctx.next) - 1)


@rule("unlinked")
def _unlinked_rule(ctx, g):
    return (g,) + (None,) * (len(ctx.next) - 1)


def _unlinked(node: Node, out: tuple) -> tuple:
    """``node``'s recorded gradients ``out``, each hanging from the node's inputs that require grad
    and PyTorch's double-backward node takes (a conv's input and weight: never its bias)."""
    tensor_cls, shapes = _tensor_cls[0], getattr(node, "shapes", None) or ()
    # (a meta gradient has no values to hang: left as it is, as ``_link`` does)
    tied = [
        r
        for r in out
        if isinstance(r, tensor_cls) and not r.requires_grad and isinstance(r._data, np.ndarray)
    ]
    if not tied:
        return out
    # (the anchors' values are never read: a broadcast zero of each input's shape stands for it)
    zero = np.zeros((), dtype=tied[0]._data.dtype)
    anchors = [
        operand(node, i, np.broadcast_to(zero, s))
        for i, s in enumerate(shapes[: 2 if node.fn.name.startswith("conv") else None])
        if s is not None and node.next[i] is not None
    ]
    if not anchors:
        return out
    name = _UNLINKED[node.fn.name]
    if shapes[0] is not None:  # (grid_sample's input: tied only when it requires grad)
        name = name.format(len(shapes[0]) - 2)
    return tuple(named(Unlinked.apply(r, *anchors), name) if any(r is t for t in tied) else r for r in out)


def arrays(grad: Any, in_grads: tuple) -> tuple:
    """A node's recorded gradients as the arrays the engine's observers (tracers) are shown."""
    return grad._data, tuple(None if g is None else g._data for g in in_grads)


def unbroadcast(g: Any, shape: tuple) -> Any:
    """Tensor ``g`` summed over the dims broadcasting added or stretched, to ``shape`` (recorded)."""
    extra = g.dim() - len(shape)
    if extra < 0:
        raise ShapeError(
            f"unbroadcast: expected a gradient with at least {len(shape)} dims, got {tuple(g.shape)}"
        )
    dims = tuple(range(extra)) + tuple(
        i + extra for i, d in enumerate(shape) if d == 1 and g.shape[i + extra] != 1
    )
    if dims:
        g = g.sum(dim=dims, keepdim=True)
    return g.reshape(shape) if tuple(g.shape) != tuple(shape) else g


def seed(op: str, out: Any, given: Any) -> Any:
    """The output gradient a create_graph pass starts from: ``given`` itself when it is a Tensor
    (its own graph, if any, carries on), else ones for a one-element real output."""
    tensor_cls = _tensor_cls[0]
    if given is None:
        data = out._data
        if data.size != 1 or data.dtype.kind == "c":
            raise GraphError(
                f"{op}: grad can be implicitly created only for real scalar outputs, got shape "
                f"{data.shape} {data.dtype}; pass a gradient of that shape"
            )
        return constant(np.ones(data.shape, dtype=data.dtype))
    g = given if isinstance(given, tensor_cls) else tensor_cls(given, dtype=out.dtype)
    check_seed(op, g._data, out._data)  # complex for real or real for complex: refused, as PyTorch
    if tuple(g.shape) != tuple(out.shape):
        raise ShapeError(f"{op}: expected a gradient of shape {tuple(out.shape)}, got {tuple(g.shape)}")
    return g.to(out.dtype) if g.dtype != out.dtype else g


def store_grad(t: Any, g: Any) -> None:
    """Leaf ``t``'s ``.grad`` plus recorded gradient ``g``: out of place, so the sum stays in the
    graph (as PyTorch's accumulation under create_graph)."""
    if g.dtype != t.dtype:
        g = g.to(t.dtype)
    if tuple(g.shape) != tuple(t.shape):
        raise GraphError(
            f"backward: expected a gradient of the leaf's shape {tuple(t.shape)}, got {tuple(g.shape)}"
        )
    if t._grad is None:
        # always a copy (PyTorch's AccumulateGrad clones under create_graph): ``g`` may also be a
        # seed, another leaf's gradient, a retained one or one a hook kept, and .grad is changed
        # in place (zero_grad, optimizers)
        t._grad = g.clone()
    else:
        t._grad = g + t._grad if t._grad.is_sparse else t._grad + g  # dense + sparse: dense, as PyTorch's


def run_hooks(hooks: list, grad: Any) -> Any:
    """A tensor's hooks on a recorded gradient: each sees the Tensor, and may replace it (the
    hooks registered when the pass reached it: see ``tensor_hook_run.run_tensor_hooks``)."""
    for hook in tuple(hooks):
        out = user_code(hook, grad)
        if out is not None and not getattr(hook, "retains_grad", False):
            if tuple(out.shape) != tuple(grad.shape):
                name = getattr(hook, "__qualname__", type(hook).__name__)
                raise ShapeError(
                    f"hook {name}: expected a gradient of shape {tuple(grad.shape)}, got {tuple(out.shape)}"
                )
            check_hook_result(hook, grad._data, getattr(out, "_data", out))
            grad = out
    return grad


def warn_leaf_cycle() -> None:
    """PyTorch's warning for ``backward(create_graph=True)`` into leaves' ``.grad``."""
    warnings.warn(
        "Using backward() with create_graph=True will create a reference cycle between the parameter "
        "and its gradient which can cause a memory leak. We recommend using autograd.grad when "
        "creating the graph to avoid this. If you have to use this function, make sure to reset the "
        ".grad fields of your parameters to None after use to break the cycle and avoid the leak.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
