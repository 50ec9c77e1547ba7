"""Helpers shared by the distributions: parameter broadcasting, probs <-> logits, and the noise
sources that ``sample``/``rsample`` draw from (one place, so tests can fix the noise)."""

from __future__ import annotations

import functools
import math
from numbers import Number
from typing import Any

import numpy as np

import glassgrad as gg
from glassgrad.errors import ShapeError
from glassgrad.tensor import Tensor

__all__ = [
    "broadcast_all",
    "as_param",
    "clamp_probs",
    "probs_to_logits",
    "logits_to_probs",
    "standard_normal",
    "standard_uniform",
    "tril_matrix_to_vec",
    "vec_to_tril_matrix",
    "lazy_property",
    "derived_form",
]

euler_constant = 0.57721566490153286060  # the Euler-Mascheroni constant, as torch.distributions.utils


class lazy_property:  # noqa: N801 - PyTorch's name
    """A method computed on first access, then kept as an instance attribute (PyTorch's
    ``torch.distributions.utils.lazy_property``, which Pyro's distributions use throughout).

    On the class it reads as a ``property`` that is also a ``lazy_property``, so ``validate_args``
    can tell a parameter not computed yet (and skip it) from one given.
    """

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        with gg.enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):  # noqa: N801 - PyTorch's name
    def __init__(self, wrapped: Any) -> None:
        property.__init__(self, wrapped)


class derived_form(lazy_property):  # noqa: N801 - used as a decorator-like attribute, as lazy_property
    """``probs`` or ``logits`` on a class that keeps the form not given as ``probs_``/``logits_``:
    a lazy property of the class, as PyTorch's, so a subclass reaches it through ``super()`` and the
    class lists it; the form given is an instance attribute that hides it."""

    def __init__(self, name: str) -> None:
        def form(instance: Any) -> Any:
            # (through super() when this form was given: the given tensor, as PyTorch's recomputes it)
            for key in (name + "_", name):
                if key in instance.__dict__:
                    return instance.__dict__[key]
            raise AttributeError(f"{type(instance).__name__} has no attribute {name!r}")

        form.__name__ = form.__qualname__ = name
        super().__init__(form)

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return super().__get__(None, obj_type)
        return self.wrapped(instance)  # (already kept: nothing to compute or cache)


def _sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """``value`` summed over its ``dim`` rightmost dims (none when ``dim`` is 0)."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[: value.dim() - dim]) + (-1,)).sum(-1)


def _standard_normal(shape: tuple, dtype: Any, device: Any) -> Tensor:
    """N(0, 1) noise of ``shape`` (PyTorch's private helper, which Pyro imports)."""
    return gg.empty(tuple(shape), dtype=dtype, device=device).normal_()


def _form_given(dist: Any) -> Tensor:
    d = dist.__dict__
    if "probs" not in d and "logits" not in d:
        raise AttributeError(f"{type(dist).__name__} has no attribute '_param'")
    return d["probs"] if "probs" in d else d["logits"]


# ``_param``: PyTorch's private name for the parameter as given (``probs`` or ``logits``), which
# programs read (pfrl's ACER takes ``Categorical._param``); a property of each family that has it
_given_param = property(_form_given)


def as_param(value: Any) -> Tensor:
    """A parameter as a Tensor; a Python number becomes a 0-d tensor of the default dtype."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, Number):
        return gg.tensor(float(value))
    return gg.as_tensor(value)


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Every value as a Tensor, all expanded to their broadcast shape (numbers take the tensors' dtype)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else gg.get_default_dtype()
    if len(tensors) < len(values) and any(_tensor_like(v) for v in values):
        # a tensor-like that is not a Tensor (a wrapper implementing __torch_function__) is handed
        # to broadcast_tensors, which asks it, as PyTorch's broadcast_all does: made a tensor here
        # it would be copied out of its wrapper, and the Tensors beside it left unwrapped
        return gg.broadcast_tensors(*(v if _tensor_like(v) else gg.tensor(v, dtype=dtype) for v in values))
    out = [v if isinstance(v, Tensor) else gg.tensor(v, dtype=dtype) for v in values]
    try:
        shape = np.broadcast_shapes(*(t.shape for t in out))
    except ValueError:
        # PyTorch's broadcast_tensors raises a RuntimeError: ShapeError is both
        raise ShapeError(
            f"broadcast_all: expected parameter shapes that broadcast together, got {[tuple(t.shape) for t in out]}"
        ) from None
    return tuple(t if t.shape == shape else t.expand(*shape) for t in out)


def _tensor_like(value: Any) -> bool:
    return isinstance(value, Tensor) or hasattr(type(value), "__torch_function__")


def clamp_probs(probs: Tensor) -> Tensor:
    """Probabilities kept in [ε, 1 − ε] (ε = the dtype's machine epsilon), so logs stay finite."""
    eps = float(np.finfo(probs._data.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log p (categorical), or log p − log(1 − p) (binary)."""
    p = clamp_probs(probs)
    return p.log() - (-p).log1p() if is_binary else p.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """sigmoid(logits) (binary), or softmax over the last dim."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def standard_normal(shape: tuple, dtype: Any) -> Tensor:
    """N(0, 1) noise of ``shape``, from the global generator (``manual_seed``)."""
    return gg.randn(tuple(shape), dtype=dtype)


def standard_uniform(shape: tuple, dtype: Any) -> Tensor:
    """U[0, 1) noise of ``shape``, from the global generator."""
    return gg.rand(tuple(shape), dtype=dtype)


def _tril_flat_index(d: int, diag: int) -> np.ndarray:
    """Flat positions in a (d, d) matrix of the entries on or below diagonal ``diag``, row by row."""
    rows, cols = np.tril_indices(d, diag)
    return rows * d + cols


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """(…, D, D) -> (…, N): the entries on or below diagonal ``diag``, row by row."""
    d = mat.shape[-1]
    return mat.reshape(tuple(mat.shape[:-2]) + (d * d,))[..., _tril_flat_index(d, diag)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """(…, N) -> (…, D, D): ``vec`` laid out row by row on and below diagonal ``diag``, zeros
    elsewhere (inverse of ``tril_matrix_to_vec``)."""
    n = vec.shape[-1]
    # N = D(D + 1)/2 + D·diag: solve for D
    d = round((-(1 + 2 * diag) + math.sqrt((1 + 2 * diag) ** 2 + 8 * n + 4 * abs(diag) * (diag + 1))) / 2)
    idx = _tril_flat_index(d, diag)
    if idx.size != n:
        raise ValueError(f"vec_to_tril_matrix: a last dim of {n} is not the size of a triangle (diag={diag})")
    # a 0/1 placement matrix: each output entry is one input times 1 (exact), the rest 0
    place = np.zeros((n, d * d), dtype=vec._data.dtype)
    place[np.arange(n), idx] = 1.0
    return (vec @ gg.tensor(place)).reshape(tuple(vec.shape[:-1]) + (d, d))
