"""A user Function's backward as the engine runs it: first order on arrays (``user_backward``),
and under ``create_graph=True`` (``user_vjp``): PyTorch's contract, where the user's
``backward`` runs on Tensors with grad mode on, so whatever Tensor ops it uses are recorded and
the gradient it returns can be differentiated again (its saved tensors are the forward's own,
in the graph). A backward marked ``@once_differentiable`` runs with grad mode off, and its
gradients get a node that refuses a second backward, as PyTorch's."""

from __future__ import annotations

from typing import Any

from glassgrad.autograd.function import _tensor_cls
from glassgrad.autograd.grad_mode import enable_grad, no_grad
from glassgrad.autograd.recorded import delayed_error
from glassgrad.backend import array_module, user_code
from glassgrad.errors import GraphError, ShapeError

__all__ = ["reduced_to_input", "user_backward", "user_vjp"]


def user_backward(node: Any, grads: tuple) -> tuple:
    """The input gradients (arrays) of user Function node ``node`` for its outputs' gradients
    ``grads`` (arrays, None where none came): the first-order twin of ``user_vjp``."""
    cls, fctx, positions, shapes = node.attrs["user"]
    tensor_cls = _tensor_cls[0]
    wrapped = []
    for g, shape, dtype in zip(grads, shapes["out"], shapes["out_dtype"]):
        if g is None and fctx._materialize and dtype is not None:  # (a non-tensor output's stays None)
            g = array_module().zeros(shape, dtype=dtype)
        wrapped.append(None if g is None else tensor_cls(g, _wrap=True))
    with no_grad():
        result = user_code(cls.backward, fctx, *wrapped)  # the user's NumPy state (backend.py)
    result = checked_results(cls, result, shapes, positions, node.needs_input_grad)
    out = []
    for k, pos in enumerate(positions):
        g = result[pos] if pos < len(result) else None
        if g is None:
            out.append(None)
            continue
        arr = g._data if isinstance(g, tensor_cls) else array_module().asarray(g)
        if arr.base is None and not any(arr is w._data for w in wrapped if w is not None):
            # not the incoming gradient: may be an array the user keeps (a saved or captured
            # tensor), which must not become a leaf's .grad that zero_grad() changes in place
            arr = arr.copy()
        if arr.dtype.kind == "c" and shapes["in_dtype"][k].kind != "c":  # PyTorch refuses it too
            raise GraphError(
                f"{cls.__name__}.backward: expected a real gradient for the real argument {pos}, got "
                f"{arr.dtype} (return the gradient's .real: only a real change of that argument exists)"
            )
        if arr.shape != shapes["in"][k] and node.needs_input_grad[k]:  # (else unchecked, as PyTorch)
            arr = reduced_to_input(arr, tuple(shapes["in"][k]), cls, k)
        if arr.dtype != shapes["in_dtype"][k] and shapes["in_dtype"][k].kind in "fc":  # as PyTorch's
            arr = arr.astype(shapes["in_dtype"][k])  # engine: reduced, then cast, then summed with others
        out.append(arr)
    return tuple(out)


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
            tensor_cls(_zeros(shape, dtype), _wrap=True) if x is None and dtype is not None else x
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
            r = reduced_to_input(r, tuple(shapes["in"][k]), cls, k)
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


def reduced_to_input(g: Any, shape: tuple, cls: type, index: int) -> Any:
    """A user backward's gradient ``g`` (a Tensor or an array) for an argument of ``shape``, as
    PyTorch's engine takes it (``validate_outputs``): summed down to ``shape`` when ``shape``
    broadcasts to g's shape (gpytorch's ``RBFCovariance`` returns an (n, m) gradient for a (1, 1)
    lengthscale), a ShapeError naming the Function otherwise."""
    have = tuple(g.shape)
    extra = len(have) - len(shape)
    if extra < 0 or any(d != 1 and d != h for d, h in zip(shape, have[extra:])):
        raise ShapeError(  # PyTorch's words; its index counts the Tensor arguments only
            f"Function {cls.__name__}Backward returned an invalid gradient at index {index} - got "
            f"{list(have)} but expected shape compatible with {list(shape)}"
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
    result = tuple(
        None if i in dropped and getattr(r, "is_sparse", False) else r for i, r in enumerate(result)
    )
    _check_kinds(cls, result, positions)
    return result


def _check_kinds(cls: type, result: tuple, positions: list) -> None:
    """PyTorch's engine refusals of a user backward's gradients: one that is not None for a
    forward argument that was no Tensor (a number, a flag: no gradient can reach it), and one that
    is neither a Tensor nor None for a Tensor argument (a Python number, a NumPy array)."""
    tensor_cls = _tensor_cls[0]
    tensors = set(positions)
    for i, r in enumerate(result):
        if r is None or (isinstance(r, tensor_cls) and i in tensors):
            continue
        if i not in tensors:
            raise GraphError(
                f"function {cls.__name__}Backward returned a gradient different than None at position "
                f"{i + 1}, but the corresponding forward input was not a Variable (a Tensor)"
            )
        if not getattr(r, "is_sparse", False):
            raise GraphError(
                f"{cls.__name__}.backward: expected Variable or None (got {type(r).__name__}) as the "
                f"gradient of forward argument {i}, a Tensor"
            )
