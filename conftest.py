"""Collection rules for the whole checkout (``pytest`` collects ``tests`` and, for doctests, ``glassgrad``).

``glassgrad.utils.tensorboard`` needs the optional ``tensorboard`` package: without it, importing
any of its modules raises ``ImportError``, so ``--doctest-modules`` leaves that subpackage out
instead of failing to collect it (its tests in ``tests/utils`` skip one by one).
"""

from __future__ import annotations

import importlib.util


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a parent that fails to import, a module set to None
        return False


# the subpackage, and each file in it (so that naming the folder on the command line collects nothing)
collect_ignore = [] if _installed("tensorboard") else ["glassgrad/utils/tensorboard"]
collect_ignore_glob = [] if _installed("tensorboard") else ["glassgrad/utils/tensorboard/*"]


def pytest_collection_modifyitems(items: list) -> None:
    """Drop the second run of a wrapper's doctest. ``public_names.py`` names public wrappers
    (``glassgrad.sum``: NumPy's ``axis=`` names, ``out=`` forms) after ``glassgrad`` so they
    pickle, which makes doctest find their copied docstrings in ``glassgrad/__init__.py`` too,
    where ``round``, ``max`` ... are glassgrad's; the wrapped function's own module runs them
    (the same for ``glassgrad.nn.functional``, ``glassgrad.linalg`` and ``glassgrad.special``, whose
    wrappers ``operand_errors.py`` names after them: a wrapper's doctest runs in its own module.)"""
    import inspect
    import sys

    def duplicate(item: object) -> bool:
        test = getattr(item, "dtest", None)
        if test is None or not test.name.startswith("glassgrad."):
            return False
        module, _, name = test.name.rpartition(".")
        fn = getattr(sys.modules.get(module), name, None)
        if not hasattr(fn, "__wrapped__"):
            return False
        return module == "glassgrad" or getattr(inspect.unwrap(fn), "__module__", module) != module

    items[:] = [item for item in items if not duplicate(item)]
