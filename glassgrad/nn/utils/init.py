"""``nn.utils.skip_init``: build a module without running its parameter initialisation.

The module is built on the meta device (shapes only, nothing computed) and then given fresh,
uninitialised storage on the device asked for, so a custom initialisation or a ``load_state_dict``
that follows does not pay for the default one first.
"""

from __future__ import annotations

import inspect
from typing import Any

from glassgrad.nn.module import Module


def skip_init(module_cls: type, *args: Any, **kwargs: Any) -> Module:
    """``module_cls(*args, **kwargs)`` with parameters and buffers left uninitialised (as ``empty``).

    ``module_cls`` must be a Module subclass whose constructor takes ``device`` and passes it to
    every parameter and buffer it makes; ``device`` in ``kwargs`` is where the result lives (the
    CPU by default).
    """
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"skip_init: expected a Module subclass as module_cls, got {module_cls!r}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError(
            f"skip_init: {module_cls.__name__}'s constructor must take a 'device' argument, so that "
            "it can be built on the meta device without initialising its parameters"
        )
    final_device = kwargs.pop("device", "cpu")
    return module_cls(*args, device="meta", **kwargs).to_empty(device=final_device)
