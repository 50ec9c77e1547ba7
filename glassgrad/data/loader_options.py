"""The worker options of ``DataLoader`` checked as PyTorch checks them.

glassgrad loads every batch in the main process, so ``num_workers``, ``timeout``,
``prefetch_factor`` and ``persistent_workers`` change nothing here; but a combination PyTorch refuses
is refused too, so that a program that runs here runs under PyTorch (EasyOCR's trainer passes
``prefetch_factor=512`` with its ``workers`` option, which PyTorch refuses when that is 0).

>>> check_worker_options(2, 0, None, False)  # PyTorch's default prefetch with workers
2
>>> check_worker_options(0, 0, 4, False)
Traceback (most recent call last):
    ...
ValueError: DataLoader: prefetch_factor option could only be specified in multiprocessing: got prefetch_factor=4 with num_workers=0; let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None
"""

from __future__ import annotations

import multiprocessing
import operator
from typing import Any

__all__ = ["check_attribute", "check_context", "check_iterator_options", "check_worker_options"]

# what PyTorch's DataLoader.__setattr__ refuses once __init__ has run (the batch sampler is built from
# them there, so a later assignment would change nothing)
FROZEN_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


def check_worker_options(
    num_workers: object, timeout: float, prefetch_factor: int | None, persistent_workers: bool
) -> int | None:
    """Refuse what ``torch.utils.data.DataLoader.__init__`` refuses (a ValueError each); returns the
    ``prefetch_factor`` the loader keeps (PyTorch's default 2 when ``num_workers > 0``)."""
    try:  # any integer (a NumPy one from a config too), as PyTorch only compares it with 0
        workers = operator.index(num_workers)  # type: ignore[arg-type]
    except TypeError:
        workers = -1
    if workers < 0:
        raise ValueError(
            f"DataLoader: expected num_workers >= 0 (0 loads in this process), got {num_workers!r}: "
            "num_workers option should be non-negative; use num_workers=0 to disable multiprocessing"
        )
    if timeout < 0:
        raise ValueError(f"DataLoader: timeout option should be non-negative, got timeout={timeout!r}")
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError(
            "DataLoader: prefetch_factor option could only be specified in multiprocessing: got "
            f"prefetch_factor={prefetch_factor!r} with num_workers=0; let num_workers > 0 to enable "
            "multiprocessing, otherwise set prefetch_factor to None"
        )
    if num_workers > 0 and prefetch_factor is None:
        prefetch_factor = 2
    elif prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError(
            f"DataLoader: prefetch_factor option should be non-negative, got prefetch_factor={prefetch_factor!r}"
        )
    if persistent_workers and num_workers == 0:
        raise ValueError(
            "DataLoader: persistent_workers option needs num_workers > 0, got persistent_workers=True "
            "with num_workers=0"
        )
    return prefetch_factor


def check_iterator_options(num_workers: int, timeout: float, prefetch_factor: int | None) -> None:
    """Refuse, when an epoch's iterator is made, what PyTorch's iterators refuse then (PyTorch with
    an ``AssertionError``; a ValueError here): a positive ``timeout`` in single-process loading
    and ``prefetch_factor=0`` with workers."""
    if num_workers == 0 and timeout != 0:
        raise ValueError(
            f"DataLoader: single-process loading (num_workers=0) requires timeout == 0, got timeout={timeout!r}"
        )
    if num_workers > 0 and prefetch_factor is not None and prefetch_factor <= 0:
        raise ValueError(
            "DataLoader: prefetch_factor must be greater than 0 with num_workers > 0, "
            f"got prefetch_factor={prefetch_factor!r}"
        )


def check_context(num_workers: int, context: Any) -> Any:
    """``multiprocessing_context`` as PyTorch's setter keeps it: ``None``, or with ``num_workers > 0`` a
    start method's name (turned into its context object) or a context object; else refused."""
    if context is None:
        return None
    if num_workers <= 0:
        raise ValueError(
            "DataLoader: multiprocessing_context can only be used with multi-process loading "
            f"(num_workers > 0), but got num_workers={num_workers} and multiprocessing_context={context!r}"
        )
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(
                f"DataLoader: multiprocessing_context option should specify a valid start method in {methods!r}, "
                f"but got multiprocessing_context={context!r}"
            )
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(
            "DataLoader: multiprocessing_context option should be a valid context object or a string "
            f"specifying the start method, but got multiprocessing_context={context!r}"
        )
    return context


def check_attribute(loader: Any, attr: str, value: Any) -> Any:
    """The value ``loader.attr = value`` stores, as PyTorch's ``DataLoader.__setattr__`` and
    ``multiprocessing_context`` setter decide: the sampling attributes are refused once
    ``__init__`` has finished (PyTorch's flag ``_DataLoader__initialized``, which libraries reset to
    swap a batch sampler), a multiprocessing context is checked."""
    if attr in FROZEN_AFTER_INIT and getattr(loader, "_DataLoader__initialized", False):
        raise ValueError(f"{attr} attribute should not be set after {type(loader).__name__} is initialized")
    if attr == "multiprocessing_context":
        return check_context(loader.num_workers, value)
    return value
