"""``torch.cuda.FloatTensor`` and the other CUDA legacy constructors, as PyTorch's CPU build has
them: the names exist (so ``Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor``
and ``isinstance(x, torch.cuda.FloatTensor)`` run), no tensor is ever one of them, and making one
raises PyTorch's ``TypeError``. ``Tensor.type("torch.cuda.FloatTensor")`` raises ``RuntimeError``
(see ``legacy.legacy_dtype``) instead of quietly giving a CPU tensor.

>>> import glassgrad as gg
>>> isinstance(gg.ones(2), gg.cuda.FloatTensor)
False
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BFloat16Tensor", "BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
    "HalfTensor", "IntTensor", "LongTensor", "ShortTensor",
]  # fmt: skip


class _CudaTensorType(type):
    """A CUDA legacy constructor on a machine without CUDA: calling it raises; nothing is an instance."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        name = cls.__name__
        raise TypeError(
            f"cuda.{name}: there is no CUDA here (glassgrad computes on the CPU only); use "
            f"glassgrad.{name}, or guard the call with glassgrad.cuda.is_available()"
        )

    def __instancecheck__(cls, obj: Any) -> bool:
        return False


def _cuda_typed(name: str) -> type:
    return _CudaTensorType(
        name, (), {"__module__": "glassgrad.cuda", "__doc__": f"torch.cuda.{name}: raises, there is no CUDA."}
    )


BFloat16Tensor = _cuda_typed("BFloat16Tensor")
BoolTensor = _cuda_typed("BoolTensor")
ByteTensor = _cuda_typed("ByteTensor")
CharTensor = _cuda_typed("CharTensor")
DoubleTensor = _cuda_typed("DoubleTensor")
FloatTensor = _cuda_typed("FloatTensor")
HalfTensor = _cuda_typed("HalfTensor")
IntTensor = _cuda_typed("IntTensor")
LongTensor = _cuda_typed("LongTensor")
ShortTensor = _cuda_typed("ShortTensor")
