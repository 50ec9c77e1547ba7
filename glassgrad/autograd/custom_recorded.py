"""A user Function's backward under ``create_graph=True``: PyTorch's contract, where the user's
``backward`` runs on Tensors with grad mode on, so whatever Tensor ops it uses are recorded and
the gradient it returns can be differentiated again (its saved tensors are the forward's own,
in the graph). A backward marked ``@once_differentiable`` runs with grad mode off, and its
gradients get a node that refuses a second backward, as PyTorch's."""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import _tensor_cls
from glassgrad.autograd.grad_mode import enable_grad, no_grad
from glassgrad.autograd.recorded import delayed_error
from glassgrad.errors import GraphError, ShapeError

__all__ = ["reduced_to_input", "user_vjp"]


def user_vjp(node: Any, g: Any) -> tuple:
    """The input gradients of user Function node ``node`` for output gradient Tensor ``g``."""
    cls, fctx, positions, shapes = node.attrs["user"]
    tensor_cls = _tensor_cls[0]
    # several outputs: ``g`` is the hub's placeholder; the outputs' nodes left theirs on the hub
    gs = [g]
    if "n" in node.attrs:
        kept = node.attrs.pop("grads", {})
        gs = [kept.get(i) for i in range(node.attrs["n"])]
    if fctx._materialize:
        gs = [
            tensor_cls(_zeros(shape, dtype), _wrap=True) if x is None else x
            for x, shape, dtype in zip(gs, shapes["out"], shapes["out_dtype"])
        ]
    once = getattr(cls.backward, "once_differentiable", False)
    with no_grad() if once else enable_grad():
        result = cls.backward(fctx, *gs)
    result = checked_results(cls, result, shapes, positions, node.needs_input_grad)
    out = []
    for k, pos in enumerate(positions):
        r = result[pos] if pos < len(result) else None
        if r is None:
            out.append(None)
            continue
        if not isinstance(r, tensor_cls):
            r = tensor_cls(r)
        if tuple(r.shape) != tuple(shapes["in"][k]) and node.needs_input_grad[k]:
            r = reduced_to_input(r, tuple(shapes["in"][k]), cls, pos)
        if r._data.dtype != shapes["in_dtype"][k] and shapes["in_dtype"][k].kind in "fc":
            from glassgrad.ops.conversion import cast  # (ops import the autograd package)

            r = cast(r, shapes["in_dtype"][k])  # the input's dtype before any sum, as PyTorch's engine
        if once:
            why = f"{cls.__name__}: trying to differentiate twice a function that was marked with @once_differentiable"
            # PyTorch's wrapper looks only at the incoming gradients: with none requiring grad the
            # gradient is a constant (a second pass sees no graph), whatever the saved tensors are.
            # Else its error node hangs from detached copies of them (new leaves), so a backward()
            # through it raises while autograd.grad(inputs=...) never reaches it, as PyTorch's
            fake = [x.detach().requires_grad_() for x in gs if x is not None and x.requires_grad]
            r = delayed_error(r._data, fake, why)
        out.append(r)
    return tuple(out)


def is_user_output(node: Any) -> bool:
    """Whether ``node`` is one output of a user Function with several outputs."""
    from glassgrad.autograd.custom import _UserOutput

    return issubclass(node.fn, _UserOutput)


def user_output_vjp(node: Any, g: Any) -> Any:
    """Output ``i``'s gradient kept on the hub for the user's backward (as first order's
    ``_UserOutput.backward``); a constant 0 for the hub's placeholder."""
    node.next[0].attrs.setdefault("grads", {})[node.attrs["i"]] = g
    return _tensor_cls[0](_zeros((), g._data.dtype), _wrap=True)


def reduced_to_input(g: Any, shape: tuple, cls: type, pos: int) -> Any:
    """A user backward's gradient ``g`` (a Tensor or an array) for an argument of ``shape``, as
    PyTorch's engine takes it (``validate_outputs``): summed down to ``shape`` when ``shape``
    broadcasts to g's shape (gpytorch's ``RBFCovariance`` returns an (n, m) gradient for a (1, 1)
    lengthscale), a ShapeError naming the Function otherwise."""
    have = tuple(g.shape)
    extra = len(have) - len(shape)
    if extra < 0 or any(d != 1 and d != h for d, h in zip(shape, have[extra:])):
        raise ShapeError(
            f"{cls.__name__}.backward: expected a gradient of shape {shape} for argument {pos} (or "
            f"one that shape broadcasts to), got {have}"
        )
    dims = tuple(range(extra)) + tuple(
        i + extra for i, d in enumerate(shape) if d == 1 and have[i + extra] != 1
    )
    if isinstance(g, _tensor_cls[0]):
        return (g.sum(dim=dims, keepdim=True) if dims else g).reshape(shape)
    return (g.sum(axis=dims, keepdims=True) if dims else g).reshape(shape)


def _zeros(shape: tuple, dtype: Any) -> Any:
    from glassgrad.backend import array_module

    return array_module().zeros(shape, dtype=dtype)


def checked_results(cls: type, result: Any, shapes: dict, positions: list, needs: Any = ()) -> tuple:
    """A user backward's result as a tuple of one gradient per forward argument (extra trailing
    Nones allowed, as in PyTorch); a clear error for any other count. A gradient for a tensor
    argument that needs none (``needs``, one per tensor argument) goes unchecked, as PyTorch drops
    it after the node's hooks saw it; a sparse one (ot.emd2's for a sparse cost matrix) is None."""
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) > shapes["n_args"] and all(r is None for r in result[shapes["n_args"] :]):
        result = result[: shapes["n_args"]]
    if len(result) < len(positions) or len(result) > shapes["n_args"]:
        raise GraphError(
            f"{cls.__name__}.backward: expected {shapes['n_args']} gradients (one per forward argument), "
            f"got {len(result)}"
        )
    dropped = {pos for pos, need in zip(positions, needs) if not need}
    return tuple(None if i in dropped and getattr(r, "is_sparse", False) else r for i, r in enumerate(result))
