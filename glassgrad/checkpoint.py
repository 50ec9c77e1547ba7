"""Training checkpoints that resume exactly: model, optimizer and scheduler states, the epoch, the
global RNG state and the state of every generator a data loader draws from, in one safetensors file
written by :func:`glassgrad.save` (atomically, no pickle)."""

from __future__ import annotations

import os
from typing import Any

from glassgrad import random as _random
from glassgrad.errors import CheckpointError
from glassgrad.serialization import load, save

__all__ = ["save_checkpoint", "load_checkpoint"]


def _loader_generators(loader: Any) -> list[_random.Generator]:
    """Every distinct Generator a loader shuffles with (its own, its sampler's, its batch sampler's)."""
    found: dict[int, _random.Generator] = {}
    for obj in (loader, getattr(loader, "sampler", None), getattr(loader, "batch_sampler", None)):
        for o in (obj, getattr(obj, "sampler", None)):
            g = getattr(o, "generator", None)
            if isinstance(g, _random.Generator):
                found.setdefault(id(g), g)
    return list(found.values())


def _scheduler_state(scheduler: Any) -> dict[str, Any]:
    # Functions (LambdaLR's lambdas) cannot be stored; the scheduler's constructor rebuilds them.
    return {k: v for k, v in scheduler.state_dict().items() if not callable(v)}


def save_checkpoint(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any = None,
    scheduler: Any = None,
    loader: Any = None,
    epoch: int | None = None,
    **extra: Any,
) -> None:
    """Save everything needed to resume training exactly (atomically, in the safetensors format).

    Holds ``model``/``optimizer``/``scheduler`` state dicts, ``epoch``, the global RNG state
    (``glassgrad.random.get_rng_state``), the states of ``loader``'s generators, and ``extra``.
    """
    ckpt: dict[str, Any] = {
        "model": model.state_dict(),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else _scheduler_state(scheduler),
        "epoch": epoch,
        "rng_state": _random.get_rng_state(),
        "loader_generators": [g.get_state() for g in _loader_generators(loader)]
        if loader is not None
        else [],
    }
    ckpt.update(extra)
    save(ckpt, path)


def load_checkpoint(
    path: str | os.PathLike, model: Any, optimizer: Any = None, scheduler: Any = None, loader: Any = None
) -> dict[str, Any]:
    """Restore a :func:`save_checkpoint` file into fresh objects; returns the whole checkpoint dict.

    Sets the global RNG state and the loader's generators too, so the next draws (shuffle order,
    dropout masks) are the ones the interrupted run would have made.
    """
    ckpt = load(path)
    if not isinstance(ckpt, dict) or "model" not in ckpt or "rng_state" not in ckpt:
        raise CheckpointError(f"load_checkpoint: {path}: expected a checkpoint from save_checkpoint")
    model.load_state_dict(ckpt["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None:
            if ckpt.get(name) is None:
                raise CheckpointError(f"load_checkpoint: {path}: expected a saved {name}, the file has none")
            obj.load_state_dict(ckpt[name])
    _random.set_rng_state(ckpt["rng_state"])
    if loader is not None:
        gens, states = _loader_generators(loader), ckpt.get("loader_generators", [])
        if len(gens) != len(states):
            raise CheckpointError(
                f"load_checkpoint: {path}: expected {len(gens)} loader generator states, got {len(states)}"
            )
        for g, s in zip(gens, states):
            g.set_state(s)
    return ckpt
