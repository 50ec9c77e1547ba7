"""PyTorch's module paths inside ``torch.utils.benchmark.utils``, for code that imports from them
(``from torch.utils.benchmark.utils.common import TaskSpec``): the same modules under both names.

>>> from glassgrad.utils.benchmark.utils.common import Measurement
>>> from glassgrad.utils.benchmark import Measurement as M
>>> Measurement is M
True
"""

from __future__ import annotations

import sys

from glassgrad.utils.benchmark import compare, fuzzer, timer
from glassgrad.utils.benchmark import measurement as common

__all__ = ["common", "compare", "fuzzer", "timer"]

for _name, _module in (("common", common), ("compare", compare), ("fuzzer", fuzzer), ("timer", timer)):
    sys.modules[f"{__name__}.{_name}"] = _module

# A package, as torch.utils.benchmark.utils is, so those paths also import through a hook that
# maps `torch.X` onto `glassgrad.X`.
__path__: list[str] = []
