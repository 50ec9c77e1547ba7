"""``glassgrad.linalg``: the ``torch.linalg`` functions glassgrad has. Each lives in its own module
(the primitives in ``ops/linalg*.py``, the wrappers in ``linalg_solve.py`` and ``linalg_decomp.py``,
the norms and products in ``linalg_more.py``); this file only gathers the names."""

# decompositions and matrix functions
from glassgrad.linalg_decomp import (
    cond,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    householder_product,
    matrix_exp,
    matrix_rank,
    pinv,
    qr,
)

# LDL (Bunch-Kaufman) factorisation
from glassgrad.linalg_ldl import ldl_factor, ldl_factor_ex, ldl_solve

# LU factorisation
from glassgrad.linalg_lu import linalg_lu_solve as lu_solve
from glassgrad.linalg_lu import lu, lu_factor, lu_factor_ex

# norms and products
from glassgrad.linalg_more import cross, matrix_norm, multi_dot, norm, vecdot, vector_norm
from glassgrad.linalg_more import linalg_diagonal as diagonal
from glassgrad.linalg_more import linalg_matmul as matmul

# solve, inverse, determinants, least squares
from glassgrad.linalg_solve import (
    LinAlgError,
    cholesky_ex,
    det,
    inv,
    inv_ex,
    lstsq,
    matrix_power,
    solve,
    solve_ex,
)
from glassgrad.linalg_solve import linalg_slogdet as slogdet
from glassgrad.linalg_tensor import tensorinv, tensorsolve, vander
from glassgrad.ops.linalg import cholesky, solve_triangular
from glassgrad.ops.linalg_svd import linalg_svd as svd
from glassgrad.ops.linalg_svd import svdvals

__all__ = [
    "cholesky", "cholesky_ex", "solve_triangular", "solve", "solve_ex", "inv", "inv_ex", "det", "slogdet",
    "matrix_power", "lstsq", "vander", "tensorinv", "tensorsolve", "LinAlgError",
    "qr", "eig", "eigvals", "eigh", "eigvalsh", "svd", "svdvals", "matrix_exp", "pinv", "matrix_rank", "cond", "householder_product",
    "lu", "lu_factor", "lu_factor_ex", "lu_solve", "ldl_factor", "ldl_factor_ex", "ldl_solve",
    "vector_norm", "matrix_norm", "norm", "cross", "multi_dot", "vecdot", "matmul", "diagonal",
]  # fmt: skip


def _with_out() -> None:
    """PyTorch's keyword-only ``out=`` on the ``torch.linalg`` functions that take one and whose own
    modules don't (linear_operator's ``cholesky_ex(A, out=out)``). The dtype rules are PyTorch's
    (probed on 2.13): the norms, ``svdvals``, ``eigvalsh`` and ``cross`` write their result's dtype
    only; ``cond``, ``householder_product``, ``eigvals``, ``eig`` (into any complex dtype, complex64
    too) and ``matrix_rank`` cast where no value is lost; each tensor of a tuple result (``cholesky_ex``'s L and int32 info, ``qr``, ``svd``, the
    LU factors and int32 pivots ...) has its result's dtype."""
    from glassgrad.out_keyword import out_keyword

    names = globals()
    rules = {
        **dict.fromkeys(["vector_norm", "matrix_norm", "norm", "svdvals", "eigvalsh", "cross"], "same"),
        **dict.fromkeys(["cond", "householder_product", "eigvals", "matrix_rank"], "cast"),
        "eig": "cast_each",
        **dict.fromkeys(
            ["cholesky_ex", "inv_ex", "solve_ex", "eigh", "qr", "svd", "slogdet", "lstsq"], "same"
        ),
        # the LU functions' outs (their own hand-written ones wrote a non-contiguous out over its base)
        **dict.fromkeys(["lu", "lu_factor", "lu_factor_ex", "lu_solve"], "same"),
        **dict.fromkeys(["ldl_factor", "ldl_factor_ex", "ldl_solve"], "same"),
    }
    for name, rule in rules.items():
        names[name] = out_keyword(names[name], name, rule)


_with_out()

# PyTorch's TypeError for an operand that is not a tensor, and NumPy's axis=/keepdims= as its parser
# takes them on every torch.linalg function (operand_errors.py), and its keywords input=, b=, B=
from glassgrad import operand_errors as _operand_errors  # noqa: E402
from glassgrad.torch_keywords import LINALG as _LINALG  # noqa: E402

_operand_errors.install(globals(), __all__, native=True, renamed=_LINALG)
