"""The argument and ``strict=True`` checks of ``autograd.functional`` (``jacobian``, ``vjp``,
``jvp``, ``hessian``, ``hvp``, ``vhp``), with PyTorch's exception classes and words, so that a
script's ``except``/``assertRaisesRegex`` around them behaves as there (round 67: a non-Tensor
input raised ``AttributeError``, a wrong count of ``v`` a ``ValueError``, and ``vjp`` with
``v=None`` for a many-element output ran with v = ones, silently).

Every helper takes the calling ``op`` so that a message says which function refused.
"""

from __future__ import annotations

from typing import Any

from glassgrad.errors import ArgumentError, GraphError, ShapeError

__all__ = ["as_tuple", "validate_v", "v_none_error", "check_requires_grad", "fill_in_zeros", "single_output"]

#: what ``check_requires_grad`` says of a tensor that does not require grad, by what it holds
_NO_GRAD = {
    "outputs": "Output {i} of the user-provided function does not require gradients. The outputs "
    "must be computed in a differentiable manner from the input when running in strict mode.",
    "grad_inputs": "The gradient with respect to input {i} is independent of the inputs of the "
    "user-provided function. This is not allowed in strict mode.",
    "jacobian": "While computing the hessian, found that the jacobian of the user-provided function "
    "with respect to input {i} is independent of the input. This is not allowed in strict mode. You "
    "should ensure that your function is twice differentiable and that the jacobian depends on the "
    "inputs (this would be violated by a linear function for example).",
}


def as_tuple(op: str, value: Any, what: str) -> tuple[bool, tuple]:
    """``(was_a_sequence, tensors)`` for ``value``: one Tensor or a tuple (or list) of Tensors.

    ``what`` names the argument in the message ("inputs", "v", "outputs of the user-provided
    function"); anything else is a ``TypeError``, as PyTorch's ``_as_tuple``.
    """
    from glassgrad.tensor import Tensor

    if isinstance(value, Tensor):
        return False, (value,)
    head = f"The {what} given to {op} must be either a Tensor or a tuple of Tensors but"
    if not isinstance(value, tuple | list):
        raise TypeError(f"{head} the given {what} has type {type(value)}.")
    for i, el in enumerate(value):
        if not isinstance(el, Tensor):
            raise TypeError(f"{head} the value at index {i} has type {type(el)}.")
    return True, tuple(value)


def validate_v(op: str, vs: tuple, others: tuple, is_tuple: bool) -> None:
    """``v`` must hold one tensor per output (``vjp``) or input (``jvp``/``hvp``/``vhp``), each of
    its shape: a ``RuntimeError`` otherwise, as PyTorch's ``_validate_v``."""
    if len(vs) != len(others):
        if is_tuple:
            raise ArgumentError(
                f"{op}: v is a tuple of invalid length: should be {len(others)} but got {len(vs)}."
            )
        raise ArgumentError(f"{op}: The given v should contain a single Tensor.")
    for i, (v, o) in enumerate(zip(vs, others)):
        if tuple(v.shape) != tuple(o.shape):
            entry = f"Entry {i} in " if is_tuple else ""
            raise ShapeError(f"{op}: {entry}v has invalid size: should be {o.size()!r} but got {v.size()!r}.")


def v_none_error(op: str, of_output: bool) -> ArgumentError:
    """``v=None`` is a ones seed only for one tensor with one element (else the product would be
    summed over the elements without the caller asking)."""
    which = (
        "the user-provided function returns" if of_output else "the input to the user-provided function is"
    )
    return ArgumentError(
        f"{op}: The vector v can only be None if {which} a single Tensor with a single element."
    )


def check_requires_grad(op: str, tensors: tuple, kind: str, strict: bool) -> None:
    """``strict=True``: each of ``tensors`` (the outputs, the first gradients ...) must exist and
    require grad, or the result would be zeros where the function is not differentiable."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise GraphError(
                f"{op}: The output of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode."
            )
        if not t.requires_grad:
            raise GraphError(f"{op}: " + _NO_GRAD[kind].format(i=i))


def fill_in_zeros(op: str, grads: tuple, refs: tuple, strict: bool, create_graph: bool, stage: str) -> tuple:
    """``grads`` with zeros (of the matching ``refs`` entry) for None; under ``strict=True`` a None,
    or under ``create_graph`` a gradient without a graph, raises instead, as PyTorch's.

    ``stage`` says which derivative ``grads`` are: "back" (a first gradient), "back_trick" (``jvp``'s
    double-backward trick), "double_back" (``vhp``), "double_back_trick" (``hvp``).
    """
    from glassgrad.factories_like import zeros_like
    from glassgrad.tensor import Tensor

    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise GraphError(f"{op}: " + _none_message(stage, i))
            g = zeros_like(ref) if isinstance(ref, Tensor) else ref
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise GraphError(
                f"{op}: The {what} of the user-provided function is independent of input {i}. This is not "
                "allowed in strict mode when create_graph=True."
            )
        out.append(g)
    return tuple(out)


def _none_message(stage: str, i: int) -> str:
    if stage == "back":
        return f"The output of the user-provided function is independent of input {i}. This is not allowed in strict mode."
    if stage == "back_trick":
        return (
            f"The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
            "using the double backward trick to compute forward mode gradients. This is not allowed in "
            "strict mode."
        )
    if stage == "double_back":
        return f"The jacobian of the user-provided function is independent of input {i}. This is not allowed in strict mode."
    return (
        f"The hessian of the user-provided function is independent of entry {i} in the grad_jacobian. "
        "This is not allowed in strict mode as it prevents from using the double backward trick to "
        "replace forward mode AD."
    )


def single_output(op: str, out: Any, strict: bool) -> Any:
    """The one-element Tensor ``func`` must return for ``hessian``/``hvp``/``vhp``, checked in
    PyTorch's order and words (a ``TypeError`` for a non-Tensor, then ``RuntimeError``s)."""
    is_tuple, outs = as_tuple(op, out, "outputs of the user-provided function")
    check_requires_grad(op, outs, "outputs", strict)
    if is_tuple:
        raise ArgumentError(f"{op}: The function given to {op} should return a single Tensor")
    if outs[0].numel() != 1:
        raise ShapeError(
            f"{op}: The Tensor returned by the function given to {op} should contain a single element, "
            f"got shape {tuple(outs[0].shape)}"
        )
    return outs[0]
