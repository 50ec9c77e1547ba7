"""``orthogonal`` (``torch.nn.utils.parametrizations.orthogonal``): keep a weight (or a batch of
them) with orthonormal columns or rows, as a map from an unconstrained tensor.

For a tall (n, k) weight (a wide one is handled transposed), the maps are:

- ``matrix_exp``: the lower triangle of X, padded with zero columns to (n, n), gives the
  skew-symmetric A = X - Xᵀ, and Q = exp(A)[:, :k];
- ``cayley``: Q = ((I - A/2)⁻¹ (I + A/2))[:, :k], the same A;
- ``householder``: Q = H_1 ... H_k [:, :k] from the Householder vectors below X's diagonal
  (tau_i = 2 / ||v_i||²), each column multiplied by the sign of X's diagonal entry.

With ``use_trivialization`` (the default) the module also holds ``base``, an orthogonal (n, n)
buffer, and returns ``base @ Q``: assigning ``module.weight = W`` stores W (made orthogonal) in
``base`` and resets the original to the point that maps to the identity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassgrad import factories, linalg
from glassgrad.autograd.grad_mode import no_grad
from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.nn.module import Module
from glassgrad.nn.utils import parametrize
from glassgrad.ops import joining
from glassgrad.tensor import Tensor

__all__ = ["orthogonal"]

_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(q: Tensor) -> bool:
    """Whether the columns of each (n, k) matrix are orthonormal (unitary when complex), to 10 n
    eps."""
    n, k = q.shape[-2:]
    eps = 10.0 * n * float(np.finfo(q._data.dtype).eps)
    xp = array_module(q._data)
    return bool(xp.allclose((q.mH @ q)._data, xp.eye(k), atol=eps))


def _make_orthogonal(a: Tensor) -> Tensor:
    """The Q of A = Q R with diag(R) real and >= 0 (a column is zeroed where R's diagonal is 0);
    ``sgn`` rather than ``sign`` so that a complex diagonal is rotated onto the positive reals."""
    q, r = linalg.qr(a)
    return q * r.diagonal(0, -2, -1).sgn().unsqueeze(-2)


def _geqrf(a: Tensor) -> tuple[Any, Any]:
    """LAPACK's geqrf on the array: R on and above the diagonal, the Householder vectors below it,
    and tau. (..., n, k) -> (..., n, k), (..., k)."""
    xp = array_module(a._data)
    h, tau = xp.linalg.qr(a._data, mode="raw")  # h is the transpose of LAPACK's column-major array
    return xp.ascontiguousarray(h.swapaxes(-1, -2)), tau


class _Orthogonal(Module):
    """The map from an unconstrained (..., n, k) tensor to one with orthonormal columns (rows if
    n < k); see the module docstring. ``right_inverse`` needs ``use_trivialization`` unless the
    map is ``householder``."""

    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            # complex reflectors below the diagonal hold n(n-1) real numbers, fewer than a unitary
            # matrix needs, and no tau makes an arbitrary (A, tau) pair unitary
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        """Shape: X (..., n, k) -> (..., n, k)."""
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X = X.mT  # (..., n, k) -> (..., k, n)
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:  # pad with zero columns to a square (..., n, n)
                X = joining.cat([X, X.new_zeros(*X.shape[:-2], n, n - k)], -1)
            A = X - X.mH  # skew-symmetric (skew-hermitian when complex)
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:
                eye = factories.eye(n, dtype=A.dtype)
                Q = linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
            Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = linalg.householder_product(A, tau)
            # X's diagonal holds ±1 (truncated to integers, as PyTorch's .int()); no gradient flows to it
            Q = Q * X.detach().diagonal(0, -2, -1).trunc().unsqueeze(-2)
        if "base" in self._buffers:
            if self.base is None:
                raise RuntimeError("orthogonal: the base is unset; assign the weight first")
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        """A tensor the map sends to ``Q`` (made orthogonal first if it is not)."""
        if tuple(Q.shape) != self.shape:
            raise ShapeError(
                f"orthogonal: expected a tensor of shape {self.shape}, got {tuple(Q.shape)} (one may only "
                "assign matrices of shape equal to the parametrized tensor)"
            )
        with no_grad():
            q_init = Q
            n, k = Q.shape[-2:]
            transposed = n < k
            if transposed:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map != "householder":
                    raise NotImplementedError(
                        f"orthogonal: cannot assign to the {self.orthogonal_map} map with "
                        "use_trivialization=False; use the householder map or use_trivialization=True (it "
                        "is not possible to assign to the matrix exponential or the Cayley parametrizations "
                        "when use_trivialization=False)"
                    )
                a, tau = _geqrf(Q)
                # the diagonal holds the signs that make R's diagonal positive (tau = 0: no reflection)
                xp = array_module(a)
                diag = xp.arange(k)
                d = xp.sign(a[..., diag, diag])
                a[..., diag, diag] = xp.where(tau == 0.0, -d, d)
                A = Tensor(a, _wrap=True)
                return A.mT if transposed else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:  # complete the k columns to an orthogonal (n, n) with random ones
                extra = factories.randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype)
                Q = _make_orthogonal(joining.cat([Q, extra], -1))
            self.base = Q
            xp = array_module(q_init._data)
            neg_eye = xp.zeros(q_init.shape, dtype=q_init._data.dtype)  # -I maps to I for every map
            neg_eye[..., xp.arange(k), xp.arange(k)] = -1.0
            return Tensor(neg_eye, _wrap=True)


def orthogonal(
    module: Module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> Module:
    """Parametrize ``module.<name>`` (a matrix or a batch of them) to have orthonormal columns, or
    rows when it is wide (``torch.nn.utils.parametrizations.orthogonal``).

    ``orthogonal_map`` is 'matrix_exp', 'cayley' or 'householder'; by default 'matrix_exp' for
    a square or complex weight and 'householder' otherwise (which refuses a complex weight). Registering makes the current weight orthogonal
    (the Q of its QR with a positive diagonal of R). State-dict keys:
    ``parametrizations.<name>.original`` and, with ``use_trivialization``,
    ``parametrizations.<name>.0.base`` (n, n). Returns ``module``.

    >>> import glassgrad as gg
    >>> import glassgrad.nn as nn
    >>> m = orthogonal(nn.Linear(3, 3))
    >>> [k for k in m.state_dict()]
    ['bias', 'parametrizations.weight.original', 'parametrizations.weight.0.base']
    >>> bool(gg.allclose(m.weight @ m.weight.T, gg.eye(3), atol=1e-5))
    True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(
            f"orthogonal: expected a parameter or buffer '{name}' in {type(module).__name__}, got none"
        )
    if weight.ndim < 2:
        raise ShapeError(
            f"orthogonal: expected a matrix or a batch of matrices, got shape {tuple(weight.shape)} "
            "(Expected a matrix or batch of matrices)"
        )
    n, k = weight.shape[-2:]
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if n == k or weight.is_complex() else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError(  # (then PyTorch's words, which its tests match, as below)
            f"orthogonal: expected orthogonal_map in {_MAPS}, got {orthogonal_map!r} (orthogonal_map has "
            "to be one of the three)"
        )
    orth: Any = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
