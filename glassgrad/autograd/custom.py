"""``glassgrad.autograd.Function``: a user's own differentiable op, with PyTorch's contract.

There are two kinds of Function in glassgrad, with two names:
- ``Primitive`` (``glassgrad.autograd.function.Primitive``) is what the library's ops subclass:
  ``forward`` and ``backward`` work on raw arrays, the lean hot path, first order.
- ``Function`` (this module) is what a user subclasses, exactly as ``torch.autograd.Function``:
  ``forward(ctx, *args)`` receives Tensors (run with grad mode off), ``ctx.save_for_backward``
  keeps Tensors, ``backward(ctx, *grad_outputs)`` receives and returns Tensors (one gradient per
  forward argument, None for non-tensors), ``ctx.saved_tensors``, ``ctx.needs_input_grad``,
  ``ctx.mark_non_differentiable``, ``ctx.set_materialize_grads`` and ``once_differentiable`` all
  behave as in PyTorch, so code written for PyTorch ports unchanged. PyTorch 2's other style
  works too: ``forward(*args)`` without ``ctx`` and ``setup_context(ctx, inputs, output)``, with
  ``inputs`` bound as PyTorch binds them (keywords and defaults in forward's order).

Internally a user Function records one primitive node, whose backward calls the user's
``backward``; several outputs hang from one hub node that collects their gradients first.

>>> import glassgrad as gg
>>> class Cube(gg.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         ctx.save_for_backward(x)
...         return x ** 3
...     @staticmethod
...     def backward(ctx, grad_output):
...         (x,) = ctx.saved_tensors
...         return 3 * x ** 2 * grad_output
>>> x = gg.tensor([2.0], requires_grad=True)
>>> Cube.apply(x).backward()
>>> x.grad
tensor([12.])
"""

from __future__ import annotations

import inspect
import warnings
import weakref
from typing import Any, Callable

from glassgrad.autograd.custom_recorded import user_backward
from glassgrad.autograd.custom_views import (
    adopt,
    dirty_changed,
    no_grad_alias,
    refuse_dirty,
    refuse_saved_as_is,
    refuse_transform,
)
from glassgrad.autograd.engine_modes import vmap_loops
from glassgrad.autograd.function import Primitive, _tensor_cls
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.autograd.grad_mode import state as _grad_state
from glassgrad.autograd.graph import active as _saved_hooks_active
from glassgrad.autograd.graph import pack_user_saved
from glassgrad.backend import array_module
from glassgrad.errors import GraphError
from glassgrad.user_frames import user_stacklevel

__all__ = ["Function", "FunctionCtx", "once_differentiable"]

#: Set by ``glassgrad.func`` (``_levels.py``) to its per-thread state of the running transform:
#: ``.name`` is not None while grad, vjp, jacrev, jvp or jacfwd runs its function.
transforms: list = [None]

#: Set by ``forward_ad.enter_dual_level`` to its handler of user Functions (forward on the primals,
#: then the user's ``jvp``); None outside a dual level, so ``apply`` pays one truth test.
forward_ad_apply: list = [None]


def _only_tensors(op: str, tensors: tuple) -> tuple:
    """``tensors`` if each is a Tensor or None; a ``TypeError`` naming ``op`` otherwise."""
    tensor_cls = _tensor_cls[0]
    for t in tensors:
        if t is not None and not isinstance(t, tensor_cls):
            raise TypeError(
                f"{op}: expected Tensors or None, got {type(t).__name__}; keep other values as attributes of ctx"
            )
    return tensors


class FunctionCtx:
    """The ``ctx`` a user Function's forward and backward share (attributes may be set freely)."""

    def __init__(self, needs: tuple) -> None:
        self.needs_input_grad = needs
        self._saved: tuple | None = ()
        self._versions: list = []
        self._non_diff: set[int] = set()
        self._dirty: set[int] = set()
        self._materialize = True
        self._name = "Function"
        self._packed: Any = None  # what saved-tensor hooks kept instead of _saved (graph.py)
        self._saved_forward: tuple | None = None  # save_for_forward's tensors, read in jvp
        self._in_jvp = False

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (or None) for backward; an in-place change after forward returns is caught
        (their versions are taken then, as PyTorch packs them: forward may still change them).
        What is kept is checked only when the node is recorded (``_apply``), as PyTorch's engine
        checks it: a call that records nothing (no input requires grad, ``no_grad``, an
        ``fx.symbolic_trace`` passing Proxies) may keep anything."""
        self._saved = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        """Keep tensors (or None) for ``jvp``, where ``ctx.saved_tensors`` gives them, as in PyTorch."""
        self._saved_forward = _only_tensors("save_for_forward", tensors)

    @property
    def saved_tensors(self) -> tuple:
        if self._in_jvp and self._saved_forward is not None:  # jvp reads what save_for_forward kept
            return self._saved_forward
        if self._saved is None:
            raise GraphError(
                f"{self._name}: Trying to backward through the graph a second time (or after its saved "
                "tensors were freed); pass retain_graph=True to the first backward() if you need a second one"
            )
        if self._packed is not None:  # saved-tensor hooks: they own the values (graph.py)
            return self._packed.unpack_all(self._name)
        for counter, expected in self._versions:
            if counter[0] != expected:
                raise GraphError(
                    f"{self._name}: a tensor saved for backward was modified in place after forward "
                    f"(version {counter[0]}, expected {expected}); change a clone() instead"
                )
        return self._saved

    @property
    def saved_variables(self) -> tuple:
        """The old name of ``saved_tensors``, kept working (with PyTorch's DeprecationWarning)."""
        warnings.warn("'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, 2)
        return self.saved_tensors

    def mark_non_differentiable(self, *outputs: Any) -> None:
        self._non_diff.update(id(o) for o in outputs)

    def mark_dirty(self, *tensors: Any) -> None:
        """Declare inputs changed in place by forward: they get a new version, and an input that
        forward returns is then that output (recorded on this Function's node), as in PyTorch."""
        for t in tensors:
            t._vc[0] += 1
            self._dirty.add(id(t))

    def release(self) -> None:
        """Drop the saved tensors once a backward without ``retain_graph`` ran this Function's
        node: reading ``saved_tensors`` again raises, as in PyTorch (a backward that reads none
        may run again)."""
        self._saved = None
        self._packed = None

    def set_materialize_grads(self, value: bool) -> None:
        """Whether missing output gradients reach backward as zeros (default) or as None."""
        self._materialize = bool(value)


def once_differentiable(fn: Callable) -> Callable:
    """Marks a backward first order: a second backward through its gradients raises (custom_recorded.py)."""
    fn.once_differentiable = True  # type: ignore[attr-defined]
    return fn


class _UserNode(Primitive):
    """The recorded node of a user Function with one output: z = the output forward computed.
    VJP: the user's backward, given and giving Tensors."""

    register = False
    # complex tensors pass the complex gate: the user's backward is the rule, given and giving
    # gradients in PyTorch's convention, as PyTorch hands them to a custom Function
    complex_ok = True
    grads_as_returned = True  # grad_fn hooks see the user's gradients, as PyTorch (node_hooks.py)
    user_function = True  # its node is shown as PyTorch's BackwardCFunction (node_views.py)

    @staticmethod
    def forward(ctx, *arrays, out=None, user=None):
        return out

    @staticmethod
    def backward(ctx, g):
        return user_backward(ctx, (g,))


class _UserHub(Primitive):
    """The node of a user Function with several outputs: z = a 0-d placeholder every output node
    hangs from. VJP: the user's backward on the gradients the output nodes collected."""

    register = False
    complex_ok = True
    grads_as_returned = True
    user_function = True

    @staticmethod
    def forward(ctx, *arrays, user=None, n=0):
        return array_module(*arrays).zeros(())

    @staticmethod
    def backward(ctx, g):
        grads = ctx.attrs.pop("grads", {})
        return user_backward(ctx, tuple(grads.get(i) for i in range(ctx.attrs["n"])))

    @staticmethod
    def hook_outputs(ctx, g):
        """For grad_fn hooks (node_hooks.py): one gradient per output, None for one that got none."""
        grads = ctx.attrs.get("grads", {})
        return tuple(grads.get(i) for i in range(ctx.attrs["n"]))

    @staticmethod
    def hook_grad(ctx, g, grads):
        """The outputs' gradients a pre-hook returned become the ones backward reads."""
        ctx.attrs["grads"] = {i: x for i, x in enumerate(grads) if x is not None}
        return g


class _UserOutput(Primitive):
    """Output ``i`` of a user Function with several outputs: z = that output.
    VJP: g stored on the hub for the user's backward; a 0 for the hub's placeholder."""

    register = False
    complex_ok = True

    @staticmethod
    def forward(ctx, hub, out=None, i=0):
        return out

    @staticmethod
    def grad_fn_of(ctx):
        """PyTorch's outputs share one grad_fn: grad_fn hooks go on the hub (node_hooks.py)."""
        return ctx.next[0]

    @staticmethod
    def output_nr(ctx):
        """Which output of the Function this is (``next_functions``' output number)."""
        return ctx.attrs["i"]

    @staticmethod
    def backward(ctx, g):
        hub = ctx.next[0]
        hub.attrs.setdefault("grads", {})[ctx.attrs["i"]] = g
        return array_module(g).zeros(())


class Function:
    """Base class of a user's differentiable op (PyTorch's ``torch.autograd.Function``).

    Subclass it with static ``forward(ctx, *args, **kwargs)`` and ``backward(ctx, *grad_outputs)``
    and call ``MyOp.apply(*args)``; see the module docstring for the contract.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warnings.warn(
            f"{type(self).__name__}: an autograd Function is not meant to be instantiated; its "
            f"methods are static, so call {type(self).__name__}.apply(...) on the class",
            DeprecationWarning,
            stacklevel=user_stacklevel(),
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = type(self).__name__
        raise RuntimeError(
            f"{name}: calling an instance of an autograd Function (the legacy style with "
            f"non-static forward/backward) is not supported; make forward(ctx, ...) and "
            f"backward(ctx, ...) static methods and call {name}.apply(...)"
        )

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("Function.forward: a subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Any) -> Any:
        raise NotImplementedError("Function.backward: a subclass must define backward(ctx, *grads)")

    @staticmethod
    def setup_context(ctx: FunctionCtx, inputs: tuple, output: Any) -> Any:
        """PyTorch 2's other style, defined by a subclass whose ``forward(*args)`` takes no ``ctx``:
        ``setup_context(ctx, inputs, output)`` then saves what backward needs."""
        raise NotImplementedError("Function.setup_context: defined by a subclass whose forward takes no ctx")

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Any) -> Any:
        """Forward mode (``autograd.forward_ad``): one tangent per forward input (zeros for a tensor
        without one) -> one tangent per output. Defined by a subclass that supports forward AD."""
        raise NotImplementedError(
            "Function.jvp: you must implement the jvp function of a custom autograd.Function to use "
            "it with forward mode AD"
        )

    #: ``torch.func.vmap`` may run forward on batched inputs as written (glassgrad: item by item)
    generate_vmap_rule = False

    @staticmethod
    def vmap(info: Any, in_dims: tuple, *args: Any) -> Any:
        """``torch.func.vmap``'s rule, defined by a subclass (glassgrad's vmap loops over the batch
        instead, and only asks that a rule exist, or ``generate_vmap_rule``, as PyTorch)."""
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap staticmethod or set "
            "generate_vmap_rule=True."
        )

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        if forward_ad_apply[0] is not None:  # a dual level is active: tangents may flow
            return forward_ad_apply[0](cls, args, kwargs, _apply)
        return _apply(cls, args, kwargs)[0]


def _apply(cls: type, args: tuple, kwargs: dict) -> tuple:
    """Run a user Function (forward, then the recorded node); returns (result, ctx)."""
    tensor_cls = _tensor_cls[0]
    styled = cls.setup_context is not Function.setup_context  # forward(*args) + setup_context, PyTorch 2
    active = transforms[0]
    if active is not None and (active.name is not None or vmap_loops.running):
        unruled = vmap_loops.running > 0 and not cls.generate_vmap_rule and cls.vmap is Function.vmap
        refuse_transform(cls.__name__, styled, unruled)
    if styled:
        args, kwargs = _bound(cls, args, kwargs), {}
    needs = tuple(isinstance(a, tensor_cls) and a.requires_grad for a in args)
    fctx = FunctionCtx(needs)
    fctx._name = cls.__name__
    with no_grad():
        if not styled:
            result = cls.forward(fctx, *args, **kwargs)
        else:
            result = cls.forward(*args)
            cls.setup_context(fctx, args, result)
    if styled and fctx._saved and _grad_state.enabled:
        refuse_saved_as_is(cls.__name__, fctx, args, result)
    fctx._versions = [(t._vc, t._vc[0]) for t in fctx._saved or () if isinstance(t, tensor_cls)]
    if not (_grad_state.enabled and any(needs)):
        dirty_changed(cls.__name__, fctx._dirty, args)
        if isinstance(result, tuple):
            return tuple(no_grad_alias(o, args, fctx._dirty) for o in result), fctx
        return no_grad_alias(result, args, fctx._dirty), fctx
    _only_tensors(f"{cls.__name__}: save_for_backward", fctx._saved or ())
    outs = result if isinstance(result, tuple) else (result,)
    if fctx._dirty - {id(o) for o in outs}:
        raise GraphError(
            f"{cls.__name__}: forward marked a tensor dirty (mark_dirty) but did not return it; "
            "return every tensor it changes in place, as PyTorch asks"
        )
    refuse_dirty(cls.__name__, fctx._dirty - fctx._non_diff, args, len(outs))
    positions = [i for i, a in enumerate(args) if isinstance(a, tensor_cls)]
    inputs = [args[i] for i in positions]
    diff = [
        isinstance(o, tensor_cls) and o._data.dtype.kind in "fc" and id(o) not in fctx._non_diff for o in outs
    ]
    shapes = {
        "in": [t._data.shape for t in inputs],
        "in_dtype": [t._data.dtype for t in inputs],
        "out": [o._data.shape if isinstance(o, tensor_cls) else () for o in outs],
        "out_dtype": [o._data.dtype if isinstance(o, tensor_cls) else None for o in outs],
        "n_args": len(args),
    }
    user = (cls, fctx, positions, shapes)
    if _saved_hooks_active[0] and fctx._saved:  # autograd.graph.saved_tensors_hooks
        pack_user_saved(fctx)
    # a 1-tuple from forward stays a 1-tuple (as PyTorch returns it): only a bare tensor takes _UserNode
    node_cls = _named(cls, _UserHub if isinstance(result, tuple) else _UserNode)
    dirty = fctx._dirty
    if not isinstance(result, tuple):
        if diff[0]:  # (custom_views.py: a dirty input rebased, an input returned as is a view of it)
            recorded = node_cls.apply(*inputs, out=result._data, user=user)
            if recorded._node is not None:  # the engine releases fctx after a backward runs the node
                recorded._node.saved = (fctx,)
            result = adopt(result, recorded, inputs, dirty)
        else:
            result = no_grad_alias(result, args, dirty)
        dirty_changed(cls.__name__, dirty, args)
        return result, fctx
    hub = node_cls.apply(*inputs, user=user, n=len(outs))
    if hub._node is not None:
        hub._node.saved = (fctx,)
    out_cls = _named(cls, _UserOutput)  # each output's grad_fn reads <MyOpBackward>, as the hub's
    outs = tuple(
        adopt(o, out_cls.apply(hub, out=o._data, i=i), inputs, dirty) if d else no_grad_alias(o, args, dirty)
        for i, (o, d) in enumerate(zip(outs, diff))
    )
    dirty_changed(cls.__name__, dirty, args)
    return outs, fctx


def _bound(cls: type, args: tuple, kwargs: dict) -> tuple:
    """forward's arguments in order, keywords and defaults included, as PyTorch binds them."""
    bound = inspect.signature(cls.forward).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args


#: user Function class -> {base: its primitive}, dropped with the class (one defined in a loop)
_NAMED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _named(user_cls: type, base: type) -> type:
    """A primitive subclass named after the user's class, so grad_fn reads ``<MyOpBackward>``, as
    PyTorch names a custom Function's node (no ``0``: that suffix is its generated ops')."""
    made = _NAMED.setdefault(user_cls, {})
    if base not in made:
        attrs = {"register": False, "__doc__": base.__doc__, "node_name": f"{user_cls.__name__}Backward"}
        made[base] = type(user_cls.__name__, (base,), attrs)
    return made[base]
