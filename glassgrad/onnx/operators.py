"""``torch.onnx.operators``: the shape helpers that models call so that dynamic sizes trace for
ONNX (fairseq's ``SinusoidalPositionalEmbedding.forward`` calls ``shape_as_tensor`` on every
call). They are ``torch._shape_as_tensor`` and ``torch._reshape_from_tensor``.

>>> import glassgrad as gg
>>> from glassgrad.onnx import operators
>>> operators.shape_as_tensor(gg.zeros(2, 3))
tensor([2, 3])
>>> operators.reshape_from_tensor_shape(gg.arange(6), gg.tensor([3, -1])).shape
glassgrad.Size([3, 2])
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _shape_as_tensor(input: Any) -> Any:  # noqa: A002
    """``torch._shape_as_tensor``: ``input``'s sizes as a 1-D int64 tensor (a Tensor subclass's
    ``__torch_function__`` and the modes are asked first, as PyTorch's)."""
    import glassgrad
    from glassgrad.overrides import handle_torch_function, has_torch_function_unary

    if has_torch_function_unary(input):
        return handle_torch_function(_shape_as_tensor, (input,), input)

    if not isinstance(input, glassgrad.Tensor):
        raise TypeError(
            f"_shape_as_tensor(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    return glassgrad.tensor(list(input.shape), dtype=glassgrad.int64)


def _reshape_from_tensor(input: Any, shape: Any) -> Any:  # noqa: A002
    """``torch._reshape_from_tensor``: ``input.reshape(shape)`` with the sizes read from a 1-D int64
    tensor (-1 allowed once), differentiable as ``reshape``."""
    import glassgrad
    from glassgrad.overrides import handle_torch_function, has_torch_function_variadic

    if has_torch_function_variadic(input, shape):
        return handle_torch_function(_reshape_from_tensor, (input, shape), input, shape)

    for position, name, value in ((1, "input", input), (2, "shape", shape)):
        if not isinstance(value, glassgrad.Tensor):
            raise TypeError(
                f"_reshape_from_tensor(): argument '{name}' (position {position}) must be Tensor, "
                f"not {type(value).__name__}"
            )
    if shape.dim() != 1:
        raise RuntimeError(
            f"_reshape_from_tensor: expected a 1-D shape tensor, got one of shape {tuple(shape.shape)}"
        )
    if shape.dtype != glassgrad.int64:
        raise RuntimeError(
            f"_reshape_from_tensor: expected scalar type Long for the shape, but found {shape.dtype}"
        )
    return input.reshape([int(size) for size in shape.tolist()])


def shape_as_tensor(x: Any) -> Any:
    """``torch.onnx.operators.shape_as_tensor``: ``torch._shape_as_tensor``, looked up at each call
    (so a ``__torch_function__`` override of the top-level function is asked too)."""
    import glassgrad

    return glassgrad._shape_as_tensor(x)


def reshape_from_tensor_shape(x: Any, shape: Any) -> Any:
    """``torch.onnx.operators.reshape_from_tensor_shape``: ``torch._reshape_from_tensor``, looked
    up at each call."""
    import glassgrad

    return glassgrad._reshape_from_tensor(x, shape)
