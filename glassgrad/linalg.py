"""``glassgrad.linalg``: the ``torch.linalg`` functions glassgrad has (``cholesky``, ``solve_triangular``,
and the norms, ``cross`` and ``multi_dot`` of ``linalg_more.py``)."""

from glassgrad.linalg_more import cross, matrix_norm, multi_dot, norm, vector_norm
from glassgrad.ops.linalg import cholesky, solve_triangular

__all__ = ["cholesky", "solve_triangular", "vector_norm", "matrix_norm", "norm", "cross", "multi_dot"]
