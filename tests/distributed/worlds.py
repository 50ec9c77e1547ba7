"""A world of one process in each library, for tests that ask both the same questions.

PyTorch's group is made with a ``FileStore`` under the test's ``tmp_path`` (no port to pick), and
both groups are destroyed afterwards, so tests stay independent (also under pytest-xdist)."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import glassgrad
import glassgrad.distributed as gdist

__all__ = ["torch_world", "gg_world", "mods", "error_of"]


@contextlib.contextmanager
def torch_world(torch: Any, tmp_path: Any) -> Iterator[Any]:
    dist = torch.distributed
    store = dist.FileStore(str(tmp_path / "torch_store"), 1)
    dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        yield torch
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@contextlib.contextmanager
def gg_world() -> Iterator[Any]:
    gdist.init_process_group("gloo")
    try:
        yield glassgrad
    finally:
        if gdist.is_initialized():
            gdist.destroy_process_group()


def mods(lib: Any) -> SimpleNamespace:
    """The distributed modules of ``lib`` (glassgrad or torch) under PyTorch's paths."""
    base = lib.__name__ + ".distributed"
    get = importlib.import_module
    return SimpleNamespace(
        dist=get(base),
        device_mesh=get(base + ".device_mesh"),
        tensor=get(base + ".tensor"),
        parallel=get(base + ".tensor.parallel"),
        fsdp=get(base + ".fsdp"),
        old=get(base + "._tensor"),
    )


def error_of(fn: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """``(exception type name, message)`` of ``fn(*args, **kwargs)``, which must raise."""
    try:
        fn(*args, **kwargs)
    except Exception as e:
        return type(e).__name__, str(e)
    raise AssertionError(f"{fn} did not raise")
