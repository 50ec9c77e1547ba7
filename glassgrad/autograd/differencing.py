"""The flag ``gradcheck`` raises while it evaluates ``fn`` at perturbed inputs (finite differences).

PyTorch's gradcheck evaluates ``fn`` for its central differences in the caller's grad mode (on),
not under ``no_grad``: a function whose outputs depend on grad mode (one that returns only the
tensors that require grad, or that calls ``backward`` inside, as PyTorch's differentiable-optimizer
tests do) must give the same outputs at x +- eps as at x. ``gradgradcheck``'s VJP reads the flag to
take the first-order backward there, which is all that finite differences need.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["differencing", "is_differencing"]


class _Flag(threading.local):
    depth = 0


_flag = _Flag()


@contextmanager
def differencing() -> Iterator[None]:
    """Mark the block as gradcheck's finite differences (grad mode is left as it is)."""
    _flag.depth += 1
    try:
        yield
    finally:
        _flag.depth -= 1


def is_differencing() -> bool:
    """Whether gradcheck is evaluating ``fn`` for finite differences in this thread."""
    return _flag.depth > 0
