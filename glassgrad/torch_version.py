"""``glassgrad.__version__``: the PyTorch API glassgrad follows, with glassgrad's own release as
a PEP 440 local label, compared as PyTorch's ``TorchVersion`` compares.

Published code gates on the version (``padding = 1 if torch.__version__ >= '1.5.0' else 2`` in
Time-Series-Library's embeddings, ``torch.__version__ <= Version("1.7")`` in stat453's helpers):
with glassgrad's own number, 0.1.0, every such gate took the branch for an old PyTorch, and the
shapes then failed to line up. The version reads ``2.13.0+glassgrad.0.1.0``: PyTorch 2.13's
semantics (the test-time reference), glassgrad release 0.1.0 (``release``; pyproject's version).

>>> from glassgrad.torch_version import TorchVersion
>>> v = TorchVersion("2.13.0+glassgrad.0.1.0")
>>> v >= "1.5.0", v >= "2.2", v < (2, 14), v.release
(True, True, True, '0.1.0')
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["TorchVersion", "__version__"]

_PRE = {"dev": -4, "a": -3, "alpha": -3, "b": -2, "beta": -2, "rc": -1, "c": -1}


def _key(v: Any) -> tuple:
    """A comparable key of a version: its release numbers (trailing zeros dropped, so 2.13 equals
    2.13.0), then a pre-release rank (dev < a < b < rc < final). Tuples are release numbers."""
    if isinstance(v, tuple | list):
        nums, pre = [int(x) for x in v], (0, 0)
    else:
        text = str(v).split("+", 1)[0].strip().lower().lstrip("v")
        m = re.match(r"^(\d+(?:\.\d+)*)(?:[.-]?(dev|alpha|beta|rc|a|b|c)\.?(\d*))?", text)
        if m is None:
            raise ValueError(f"version comparison: expected a version like '2.13.0', got {v!r}")
        nums = [int(x) for x in m.group(1).split(".")]
        pre = (_PRE[m.group(2)], int(m.group(3) or 0)) if m.group(2) else (0, 0)
    while nums and nums[-1] == 0:
        nums.pop()
    return (tuple(nums), pre)


class TorchVersion(str):
    """A version string that compares as a version, with strings, tuples of numbers and
    ``packaging`` versions, as ``torch.torch_version.TorchVersion`` (``"2.13.0" > "2.2"``)."""

    @property
    def release(self) -> str:
        """glassgrad's own release (the local label after ``+glassgrad.``)."""
        return self.split("+glassgrad.", 1)[1] if "+glassgrad." in self else str(self)

    def __lt__(self, other: Any) -> bool:
        return _key(self) < _key(other)

    def __le__(self, other: Any) -> bool:
        return _key(self) <= _key(other)

    def __gt__(self, other: Any) -> bool:
        return _key(self) > _key(other)

    def __ge__(self, other: Any) -> bool:
        return _key(self) >= _key(other)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, str) and str.__eq__(self, other):
            return True
        try:
            return _key(self) == _key(other)
        except (ValueError, TypeError):
            return False

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


__version__ = TorchVersion("2.13.0+glassgrad.0.1.0")
