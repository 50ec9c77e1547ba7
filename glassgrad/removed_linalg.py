"""PyTorch's removed linear-algebra functions: ``symeig``, ``eig``, ``lstsq``, ``solve`` and
``matrix_rank`` (top level; the first four also as Tensor methods).

PyTorch 2.x keeps these names, deprecated since 1.9, as stubs that raise ``RuntimeError`` and
name their ``torch.linalg`` replacement. Older published code (ACKTR's K-FAC optimizer calls
``torch.symeig(A, eigenvectors=True)``) then fails with that guidance on both libraries, instead
of an ``AttributeError`` here.

>>> import glassgrad as gg
>>> gg.symeig(gg.eye(2), eigenvectors=True)
Traceback (most recent call last):
    ...
RuntimeError: symeig: removed from PyTorch (deprecated since 1.9; PyTorch 2 raises too); use ...
"""

from __future__ import annotations

from typing import Any, NoReturn

from glassgrad.tensor import Tensor

__all__ = ["symeig", "eig", "lstsq", "solve", "matrix_rank"]


def _removed(name: str, advice: str) -> NoReturn:
    raise RuntimeError(f"{name}: removed from PyTorch (deprecated since 1.9; PyTorch 2 raises too); {advice}")


def symeig(input: Any, eigenvectors: bool = False, upper: bool = True, *, out: Any = None) -> NoReturn:  # noqa: A002
    """Removed: raises ``RuntimeError``, as PyTorch 2.x; use ``linalg.eigh`` / ``linalg.eigvalsh``."""
    _removed(
        "symeig",
        "use L, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L') (eigenvalues ascending), or "
        "torch.linalg.eigvalsh(A, UPLO=...) for the eigenvalues alone. Note the default triangle "
        "changed: symeig read the upper one, eigh reads the lower one unless UPLO='U'.",
    )


def eig(input: Any, eigenvectors: bool = False, *, out: Any = None) -> NoReturn:  # noqa: A002
    """Removed: raises ``RuntimeError``, as PyTorch 2.x; use ``linalg.eig`` (complex results)."""
    _removed(
        "eig",
        "use L, V = torch.linalg.eig(A), which returns complex tensors (torch.linalg.eigvals for "
        "the eigenvalues alone); for a symmetric A, torch.linalg.eigh gives real ones.",
    )


def lstsq(input: Any, A: Any, *, out: Any = None) -> NoReturn:  # noqa: A002
    """Removed: raises ``RuntimeError``, as PyTorch 2.x; use ``linalg.lstsq`` (arguments swapped)."""
    _removed(
        "lstsq",
        "use X = torch.linalg.lstsq(A, B).solution: the arguments are in the other order, and the "
        "QR factors are not returned (torch.linalg.qr gives them).",
    )


def solve(input: Any, A: Any, *, out: Any = None) -> NoReturn:  # noqa: A002
    """Removed: raises ``RuntimeError``, as PyTorch 2.x; use ``linalg.solve`` (arguments swapped)."""
    _removed(
        "solve",
        "use X = torch.linalg.solve(A, B): the arguments are in the other order, and the LU "
        "factors are not returned (torch.linalg.lu_factor gives them).",
    )


def matrix_rank(input: Any, tol: Any = None, symmetric: bool = False, *, out: Any = None) -> NoReturn:  # noqa: A002
    """Removed: raises ``RuntimeError``, as PyTorch 2.x; use ``linalg.matrix_rank``."""
    _removed(
        "matrix_rank",
        "use torch.linalg.matrix_rank(A, hermitian=symmetric); its tolerance keywords are atol "
        "and rtol instead of tol.",
    )


# PyTorch's Tensor keeps the methods of all but matrix_rank
for _fn in (symeig, eig, lstsq, solve):
    setattr(Tensor, _fn.__name__, _fn)
