"""Benchmarks: each workload timed in glassgrad and, when installed, in PyTorch with the same threads.

Run ``python -m benchmarks [workload ...] [--steps N] [--threads T] [--repeat R]`` (see
``docs/benchmarks.md``). This package imports nothing heavy at import time, so that ``__main__``
can set the BLAS thread variables before NumPy is first imported.
"""

__all__: list[str] = []
