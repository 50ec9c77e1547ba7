"""``Tensor.T``, ``mT``, ``H``, ``mH`` and ``adjoint``, as PyTorch's: on a 0-d tensor each is the
identity (``H``/``mH`` the conjugate) with PyTorch's once-per-process deprecation warning, ``T``
on other than 2 dims warns once too, and ``mT``/``mH`` refuse a 1-d tensor, ``H`` all but 2 dims."""

from __future__ import annotations

import warnings

from glassgrad.ops import movement
from glassgrad.tensor import Tensor, attach
from glassgrad.user_frames import user_stacklevel

__all__: list[str] = []

_WARNED: set = set()  # the deprecations warned about in this process (reset per test in conftest)

_IDENTITY = "This function is the identity in these cases."
_CONJ = "Consider using x.conj()."
_T_REVERSE = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
    "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
    "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor."
)


def _warn_once(key: str, message: str) -> None:
    # PyTorch's TORCH_WARN_ONCE: a training loop reading x.T each step warns on the first only
    if key not in _WARNED:
        _WARNED.add(key)
        warnings.warn(message, UserWarning, stacklevel=user_stacklevel())


def _zero_dim(self: Tensor, name: str, advice: str) -> bool:
    if self._data.ndim:
        return False
    _warn_once(name, f"Tensor.{name} is deprecated on 0-D tensors. {advice}")
    return True


def _batched(self: Tensor, name: str) -> None:
    if self._data.ndim < 2:  # (0 dims are handled before: the identity)
        raise RuntimeError(
            f"tensor.{name} is only supported on matrices or batches of matrices. Got {self._data.ndim}-D tensor."
        )


class _Transposes:
    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The dims reversed (a matrix transposed); of a 0-d tensor, a view (PermuteBackward0)."""
        if not _zero_dim(self, "T", _IDENTITY) and self._data.ndim != 2:
            _warn_once("T reverse", _T_REVERSE)
        return movement.permute(self, *range(self._data.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """(..., m, n) -> (..., n, m); a 0-d tensor itself."""
        if _zero_dim(self, "mT", _IDENTITY):
            return self
        _batched(self, "mT")
        return movement.transpose(self, -2, -1)

    @property
    def mH(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The conjugate transpose of a (batch of) matrices, as linalg writes Aᴴ (a real one's mT)."""
        if _zero_dim(self, "mH", _CONJ):
            return self.conj()
        _batched(self, "mH")
        return movement.transpose(self, -2, -1).conj()

    def adjoint(self) -> Tensor:
        return self.mH

    @property
    def H(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The conjugate transpose of a matrix (mH is for batches of them)."""
        if _zero_dim(self, "H", _CONJ):
            return self.conj()
        if self._data.ndim != 2:
            batches = " For batches of matrices, consider using tensor.mH" if self._data.ndim > 2 else ""
            raise RuntimeError(
                f"tensor.H is only supported on matrices (2-D tensors). Got {self._data.ndim}-D tensor.{batches}"
            )
        return movement.transpose(self, -2, -1).conj()


attach(_Transposes)
