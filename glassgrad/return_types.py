"""PyTorch's named results (``torch.return_types``): ``values, indices = x.max(1)`` unpacks, the
fields read by name, and the repr is PyTorch's, one field per line::

    glassgrad.return_types.max(
    values=tensor([3., 2.]),
    indices=tensor([1, 0]))

Each type is a ``namedtuple`` made by ``return_type`` and bound here under its name, so a result
pickles by a public name (``glassgrad.return_types.topk``), as PyTorch's do. PyTorch's are
structseqs, whose ``n_fields``/``n_sequence_fields``/``n_unnamed_fields`` each type has too (MONAI's
``MetaTensor.__torch_function__`` loops over ``range(ret.n_fields)``).
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

__all__ = ["return_type"]


def _repr(self: Any) -> str:
    body = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self, strict=True))
    return f"{__name__}.{type(self).__name__}(\n{body})"


def _from_sequence(new: Any) -> Any:
    """``new`` that also takes PyTorch's form, one sequence of all the fields:
    ``return_types.topk((values, indices))`` (the library itself passes the fields one by one)."""

    def make(cls: type, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and len(cls._fields) > 1:
            seq = tuple(args[0])
            if len(seq) != len(cls._fields):
                raise TypeError(
                    f"{__name__}.{cls.__name__}() takes a {len(cls._fields)}-sequence ({len(seq)}-sequence given)"
                )
            args = seq
        return new(cls, *args, **kwargs)

    return staticmethod(make)


def return_type(name: str, fields: list[str]) -> type:
    """The named-result type ``name`` with ``fields`` (made once; the same type on a second call)."""
    known = globals().get(name)
    if isinstance(known, type) and getattr(known, "_fields", None) == tuple(fields):
        return known
    cls = namedtuple(name, fields, module=__name__)
    cls.__new__ = _from_sequence(cls.__new__)
    cls.__repr__ = _repr
    cls.__str__ = _repr  # print() shows PyTorch's layout too
    cls.n_fields = cls.n_sequence_fields = len(fields)  # a structseq's counts, as PyTorch's
    cls.n_unnamed_fields = 0
    globals()[name] = cls
    return cls
