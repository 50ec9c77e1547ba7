"""``glassgrad.linalg``: the ``torch.linalg`` functions glassgrad has (``cholesky``, ``solve_triangular``,
``svd``/``svdvals``, and the norms, ``cross`` and ``multi_dot`` of ``linalg_more.py``)."""

from typing import Any

from glassgrad.linalg_more import cross, matrix_norm, multi_dot, norm, vector_norm
from glassgrad.ops.linalg import cholesky, solve_triangular
from glassgrad.ops.linalg_svd import linalg_svd as svd
from glassgrad.tensor import Tensor

__all__ = [
    "cholesky", "solve_triangular", "vector_norm", "matrix_norm", "norm", "cross", "multi_dot", "svd", "svdvals",
]  # fmt: skip

# decompositions and matrix functions (linalg_decomp.py)
from glassgrad.linalg_decomp import (
    cond,
    eigh,
    eigvalsh,
    householder_product,
    matrix_exp,
    matrix_rank,
    pinv,
    qr,
)

__all__ += ["qr", "eigh", "eigvalsh", "matrix_exp", "pinv", "matrix_rank", "cond", "householder_product"]

# solve, inverse, determinants, least squares (linalg_solve.py)
from glassgrad.linalg_solve import (  # noqa: E402
    LinAlgError,
    cholesky_ex,
    det,
    inv,
    inv_ex,
    lstsq,
    matrix_power,
    slogdet,
    solve,
    solve_ex,
    tensorinv,
    tensorsolve,
    vander,
)

__all__ += ["solve", "solve_ex", "inv", "inv_ex", "det", "slogdet", "matrix_power", "lstsq", "cholesky_ex"]
__all__ += ["vander", "tensorinv", "tensorsolve", "LinAlgError"]


def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    """The singular values of ``A``, largest first (``torch.linalg.svdvals``).

    Shape:
        ``(..., m, n) -> (..., min(m, n))``.
    """
    return svd(A, full_matrices=False).S
