"""``glassgrad.utils.benchmark``: PyTorch's ``torch.utils.benchmark`` for timing glassgrad code.

``Timer`` (``timeit``, ``blocked_autorange``, ``adaptive_autorange``) measures a statement,
``Measurement`` holds and prints the times, ``Compare`` prints many as a table, ``Fuzzer``
(and ``op_fuzzers.binary.BinaryOpFuzzer``) draws random inputs of many sizes and layouts:

>>> from glassgrad.utils import benchmark
>>> t = benchmark.Timer("x * y", setup="x = torch.ones(128); y = torch.ones(128)")
>>> m = t.blocked_autorange(min_run_time=0.01)
>>> m.median > 0 and m.stmt == "x * y" and m.num_threads == 1
True
>>> round(benchmark.Measurement(10, [2e-5, 4e-5], m.task_spec).median, 12)
3e-06
"""

from __future__ import annotations

from glassgrad.utils.benchmark import utils  # PyTorch's .utils.common / .utils.timer paths
from glassgrad.utils.benchmark.compare import Colorize, Compare
from glassgrad.utils.benchmark.fuzzer import FuzzedParameter, FuzzedTensor, Fuzzer, ParameterAlias
from glassgrad.utils.benchmark.measurement import (
    Measurement,
    TaskSpec,
    ordered_unique,
    select_unit,
    set_torch_threads,
    trim_sigfig,
    unit_to_english,
)
from glassgrad.utils.benchmark.timer import Language, Timer, timer

__all__ = [
    "Colorize",
    "Compare",
    "FuzzedParameter",
    "FuzzedTensor",
    "Fuzzer",
    "Language",
    "Measurement",
    "ParameterAlias",
    "TaskSpec",
    "Timer",
    "ordered_unique",
    "select_unit",
    "set_torch_threads",
    "timer",
    "trim_sigfig",
    "unit_to_english",
    "utils",
]
