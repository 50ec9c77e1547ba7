"""``cosine_similarity``: the cosine of the angle between two tensors along a dim, as PyTorch."""

from __future__ import annotations

from glassgrad.backend import array_module
from glassgrad.errors import _SCALAR_TYPE_NAMES, DTypeError, ShapeError, size_mismatch
from glassgrad.operand_errors import number_arg
from glassgrad.tensor import Tensor
from glassgrad.type_promotion import result_type_of

__all__ = ["cosine_similarity"]


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / ||x1|| * x2 / ||x2||) along ``dim``, each norm floored at ``eps``.

    As in PyTorch, each input is divided by its own norm before the product (the result stays in
    [-1, 1]), and the floor is applied outside the graph: the gradient flows as if the norm were
    unfloored.

    Shape:
        x1, x2: broadcastable to (*, D, *) with D at ``dim``; returns (*, *).
    """
    if x1._data.dtype.kind not in "fc" or x2._data.dtype.kind not in "fc":
        x1, x2 = _cosine_operands(x1, x2)
    if eps.__class__ is not float:  # PyTorch's float eps: a 0-d tensor is read as its value
        eps = number_arg("cosine_similarity", "eps", eps)
    if x1.shape != x2.shape:
        xp = array_module(x1._data)
        try:
            shape = xp.broadcast_shapes(x1.shape, x2.shape)
        except ValueError:
            raise ShapeError(
                f"cosine_similarity: expected broadcastable inputs, got {x1.shape} and {x2.shape}"
                f"{size_mismatch([x1.shape, x2.shape])}"
            ) from None
        x1, x2 = x1.expand(shape), x2.expand(shape)
    units = []
    for x in (x1, x2):
        norm = x.norm(2, dim, keepdim=True)  # (*, 1, *)
        # the floor outside the graph, as PyTorch's clamp_min_ under no_grad: an offset that is 0
        # unless norm < eps (not clip(norm) - norm, nan at an overflowed norm where x / inf is 0)
        units.append(x / (norm + Tensor((eps - norm._data).clip(min=0), _wrap=True)))
    return (units[0] * units[1]).sum(dim)


def _cosine_operands(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    """An integer or bool input cast to the pair's common dtype, which must be floating, as
    PyTorch's ``cosine_similarity`` casts it (its norms take no integers)."""
    common = result_type_of(x1, x2)
    if common.np.kind not in "fc":
        name = _SCALAR_TYPE_NAMES.get(common.np.name, common.np.name)
        raise DTypeError(
            f"cosine_similarity: expected common dtype to be floating point, yet common dtype is {name} "
            f"(inputs {x1.dtype} and {x2.dtype})"
        )
    return tuple(x if x._data.dtype.kind in "fc" else x.to(common) for x in (x1, x2))
