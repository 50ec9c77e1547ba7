"""Training checkpoints that resume exactly: model, optimizer and scheduler states, the epoch, the
global RNG state and the state of every generator a data loader draws from, in one safetensors file
written by :func:`glassgrad.save` (atomically, no pickle)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from glassgrad import random as _random
from glassgrad.errors import CheckpointError
from glassgrad.serialization import load, save

__all__ = ["save_checkpoint", "load_checkpoint", "restore_checkpoint"]


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


def _check_model(where: str, model: Any, saved: Any) -> None:
    """Raise unless ``saved`` has exactly the model's keys, each with its shape."""
    if not isinstance(saved, Mapping):
        raise CheckpointError(f"{where}: expected the model's state_dict, got {type(saved).__name__}")
    own = model.state_dict()
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    shapes = [
        f"{k}: expected {tuple(v.shape)}, got {tuple(getattr(saved[k], 'shape', ()))}"
        for k, v in own.items()
        if k in saved and tuple(getattr(saved[k], "shape", ())) != tuple(v.shape)
    ]
    problems = [
        *([f"missing keys {missing}"] if missing else []),
        *([f"unexpected keys {unexpected}"] if unexpected else []),
        *([f"shape mismatch {'; '.join(shapes)}"] if shapes else []),
    ]
    if problems:
        raise CheckpointError(f"{where}: the model does not match the file: " + "; ".join(problems))


def _check_scheduler(where: str, scheduler: Any, saved: Any) -> None:
    """Raise unless ``saved`` holds the same entries as this scheduler's state (so its type)."""
    own = _scheduler_state(scheduler)
    if not isinstance(saved, Mapping) or set(saved) != set(own):
        got = sorted(saved) if isinstance(saved, Mapping) else type(saved).__name__
        raise CheckpointError(
            f"{where}: expected the state of a {type(scheduler).__name__} ({sorted(own)}), got {got}"
        )
    inner = own.get("_schedulers")
    if isinstance(inner, list) and (
        not isinstance(saved["_schedulers"], list) or len(saved["_schedulers"]) != len(inner)
    ):
        raise CheckpointError(f"{where}: expected {len(inner)} chained scheduler states in the file")


def _checked_optimizer(where: str, optimizer: Any, saved: Any) -> Any:
    """The optimizer's prepared ``(state, param_groups)``, or raise; nothing is changed."""
    prepare = getattr(optimizer, "_prepare_state_dict", None)
    if prepare is None:  # not a glassgrad Optimizer: it can only be loaded, not checked first
        return None
    try:
        return prepare(saved)
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"{where}: the optimizer does not match the file: {e}") from None


def load_checkpoint(
    path: str | os.PathLike, model: Any, optimizer: Any = None, scheduler: Any = None, loader: Any = None
) -> dict[str, Any]:
    """Restore a :func:`save_checkpoint` file into fresh objects; returns the whole checkpoint dict.

    Sets the global RNG state and the loader's generators too, so the next draws (shuffle order,
    dropout masks) are the ones the interrupted run would have made. All or nothing: every section
    (model keys and shapes, optimizer, scheduler, RNG and loader states) is checked before any is
    loaded, so a file that does not fit raises a ``CheckpointError`` and changes nothing.
    """
    return restore_checkpoint(
        load(path), f"load_checkpoint: {os.fspath(path)}", model, optimizer, scheduler, loader
    )


def restore_checkpoint(
    ckpt: Any, where: str, model: Any, optimizer: Any = None, scheduler: Any = None, loader: Any = None
) -> dict[str, Any]:
    """:func:`load_checkpoint` on a checkpoint dict already read with ``load`` (``where`` starts
    every error message: the caller and the file)."""
    if not isinstance(ckpt, dict) or "model" not in ckpt or "rng_state" not in ckpt:
        raise CheckpointError(f"{where}: expected a checkpoint from save_checkpoint")
    _check_model(where, model, ckpt["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and ckpt.get(name) is None:
            raise CheckpointError(f"{where}: expected a saved {name}, the file has none")
    prepared = None if optimizer is None else _checked_optimizer(where, optimizer, ckpt["optimizer"])
    if scheduler is not None:
        _check_scheduler(where, scheduler, ckpt["scheduler"])
    gens = [] if loader is None else _loader_generators(loader)
    states = (ckpt.get("loader_generators") or []) if loader is not None else []
    if len(gens) != len(states):
        hint = " (saved without loader=: pass loader=None to load all but the shuffle order)"
        raise CheckpointError(
            f"{where}: expected {len(gens)} loader generator states, got {len(states)}{hint if not states else ''}"
        )
    try:
        rng_state = _random.check_state(ckpt["rng_state"], "rng_state")
        states = [_random.check_state(s, "loader_generators") for s in states]
    except ValueError as e:
        raise CheckpointError(f"{where}: {e}") from None
    # Everything fits: load.
    model.load_state_dict(ckpt["model"])
    if optimizer is not None:
        if prepared is None:
            optimizer.load_state_dict(ckpt["optimizer"])
        else:
            optimizer.state, optimizer.param_groups = prepared
    if scheduler is not None:
        scheduler.load_state_dict(ckpt["scheduler"])
    _random.set_rng_state(rng_state)
    for g, s in zip(gens, states):
        g.set_state(s)
    return ckpt
