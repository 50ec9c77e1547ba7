"""``glassgrad.distributed.elastic.multiprocessing.errors``: PyTorch's ``@record``.

Under ``torchrun``, PyTorch's ``record`` writes an uncaught exception of the decorated entry point
to the file named by ``TORCHELASTIC_ERROR_FILE`` (for the launcher to report) and raises it again.
glassgrad has no launcher; ``record`` does the same: with ``TORCHELASTIC_ERROR_FILE`` set, the
error is written there as JSON, and it is always raised again.
"""

from __future__ import annotations

import functools
import json
import os
import time
import traceback
from typing import Any, Callable

__all__ = ["record"]


def _write_error(exc: BaseException) -> None:
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not path:
        return
    message = {
        "message": {
            "message": f"{type(exc).__name__}: {exc}",
            "extraInfo": {"py_callstack": traceback.format_exc(), "timestamp": str(int(time.time()))},
        }
    }
    with open(path, "w") as f:
        json.dump(message, f)


def record(fn: Callable[..., Any], error_handler: Any = None) -> Callable[..., Any]:
    """Decorate an entry point so that its uncaught exception is recorded, then raised again."""
    if not callable(fn):
        raise TypeError(f"record: expected a function to decorate, got {type(fn).__name__}")

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            _write_error(exc)
            raise

    return wrapper
