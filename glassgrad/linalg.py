"""``glassgrad.linalg``: the ``torch.linalg`` functions glassgrad has (``cholesky``, ``solve_triangular``)."""

from glassgrad.ops.linalg import cholesky, solve_triangular

__all__ = ["cholesky", "solve_triangular"]
