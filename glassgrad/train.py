"""A small training loop (``fit``), its ``History``, early stopping, checkpoints that resume exactly,
and ``accuracy``.

``fit`` is a convenience, not a framework: each epoch is the plain PyTorch loop ::

    for inputs, target in train_loader:
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), target)
        loss.backward()
        optimizer.step()

plus bookkeeping (mean loss, metrics, learning rate, gradient norm per epoch), optional validation,
gradient clipping, a scheduler, early stopping and a checkpoint after every epoch. A checkpoint
holds the model, optimizer and scheduler states, the epoch, the global RNG state and the state of
every generator the training loader draws from, so a run resumed from it continues with exactly
the losses (and shuffle order) of an uninterrupted run.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from glassgrad.autograd.grad_mode import no_grad
from glassgrad.callbacks import Callback, EarlyStopping, History, StopTraining
from glassgrad.checkpoint import load_checkpoint, restore_checkpoint, save_checkpoint
from glassgrad.errors import CheckpointError
from glassgrad.nn.utils import clip_grad_norm_
from glassgrad.serialization import load
from glassgrad.tensor import Tensor

__all__ = [
    "fit", "evaluate", "accuracy", "History", "EarlyStopping", "Callback", "StopTraining",
    "save_checkpoint", "load_checkpoint",
]  # fmt: skip


def accuracy(output: Tensor, target: Tensor) -> float:
    """Fraction of correct predictions.

    Multi-class ``output (N, C)`` with C > 1 is compared by argmax with integer ``target (N,)``.
    Binary ``output (N,)`` or ``(N, 1)`` is thresholded at 0.5 if all values lie in [0, 1]
    (probabilities), else at 0 (logits; the same as sigmoid > 0.5), and compared with target > 0.5.

    Shape:
        output ``(N, C)``, ``(N, 1)`` or ``(N,)``; target ``(N,)`` or ``(N, 1)``.

    >>> import glassgrad as gg
    >>> accuracy(gg.tensor([[2.0, 1.0], [0.0, 3.0]]), gg.tensor([0, 0]))
    0.5
    >>> accuracy(gg.tensor([[0.9], [0.2]]), gg.tensor([[1.0], [1.0]]))
    0.5
    """
    out = np.asarray(output._data if isinstance(output, Tensor) else output)
    tgt = np.asarray(target._data if isinstance(target, Tensor) else target)
    if out.ndim >= 2 and out.shape[-1] > 1:
        pred = out.argmax(-1)  # (N, C) -> (N,)
        if pred.shape != tgt.shape:
            raise ValueError(
                f"accuracy: expected target {pred.shape} for output {out.shape}, got {tgt.shape}"
            )
        return float((pred == tgt).mean()) if pred.size else 0.0
    out = out.reshape(-1)  # (N, 1) -> (N,)
    tgt = tgt.reshape(-1)  # (N, 1) -> (N,)
    if out.shape != tgt.shape:
        raise ValueError(f"accuracy: expected as many targets as outputs {out.shape}, got {tgt.shape}")
    threshold = 0.5 if out.size and out.min() >= 0 and out.max() <= 1 else 0.0
    return float(((out > threshold) == (tgt > 0.5)).mean()) if out.size else 0.0


# --------------------------------------------------------------------------------- the loop
def _split(batch: Any) -> tuple[tuple, Any]:
    if not isinstance(batch, list | tuple) or len(batch) < 2:
        raise TypeError(
            f"fit: expected batches (inputs..., target), got {type(batch).__name__}; write the loop by hand"
        )
    return tuple(batch[:-1]), batch[-1]


def _count(target: Any) -> int:
    return len(target) if hasattr(target, "__len__") and getattr(target, "ndim", 1) > 0 else 1


def _value(v: Any) -> float:
    return float(v.item()) if isinstance(v, Tensor) else float(v)


def evaluate(
    model: Any, loss_fn: Callable | None, loader: Iterable, metrics: Mapping[str, Callable] | None = None
) -> dict[str, float]:
    """Mean loss and metrics over ``loader`` in eval mode without recording a graph.

    Returns:
        ``{"loss": ..., name: ...}`` averaged over samples (``loss`` only with a ``loss_fn``).
    """
    was_training = getattr(model, "training", False)
    model.eval()
    sums: dict[str, float] = {}
    n = 0
    with no_grad():
        for batch in loader:
            inputs, target = _split(batch)
            output, b = model(*inputs), _count(target)
            if loss_fn is not None:
                sums["loss"] = sums.get("loss", 0.0) + _value(loss_fn(output, target)) * b
            for name, fn in (metrics or {}).items():
                sums[name] = sums.get(name, 0.0) + _value(fn(output, target)) * b
            n += b
    model.train(was_training)
    return {k: v / max(n, 1) for k, v in sums.items()}


def _grad_norm(params: list) -> float:
    return math.sqrt(sum(float(np.vdot(p.grad._data, p.grad._data)) for p in params if p.grad is not None))


def _finite_grads(params: list) -> bool:
    # Asked only when the norm is not finite: a float32 norm can overflow on finite gradients.
    return all(bool(np.isfinite(p.grad._data).all()) for p in params if p.grad is not None)


def _first_nonfinite(named: Iterable[tuple[str, Any]]) -> tuple[str, str] | None:
    """``(name, "nan" or "inf")`` of the first tensor holding a non-finite value, else None."""
    with np.errstate(all="ignore"):  # a sum of finite float32 values may overflow: looked at below
        for name, t in named:
            a = t._data
            # One sum per tensor (no temporary) is non-finite whenever a value is; only then is
            # the tensor searched, since the sum can also overflow on large finite values.
            if a.dtype.kind in "fc" and not np.isfinite(a.sum()) and not np.isfinite(a).all():
                return name, "nan" if np.isnan(a).any() else "inf"
    return None


def _check_weights(named: list[tuple[str, Any]], epoch: int, step: int) -> None:
    """Raise if the optimizer step made a parameter non-finite.

    One ``sum`` per parameter, a single read of the weights: about as much work as one of the
    optimizer's own passes over them, a few percent of an ``mlp`` step.
    """
    bad = _first_nonfinite(named)
    if bad is not None:
        raise FloatingPointError(
            f"fit: parameter {bad[0]!r} became {bad[1]} in optimizer.step() at epoch {epoch}, step {step}; "
            "no checkpoint is written with it. Lower the learning rate or check the optimizer's options"
        )


def _named_params(model: Any) -> list[tuple[str, Any]]:
    named = model.named_parameters() if hasattr(model, "named_parameters") else enumerate(model.parameters())
    return [(str(name), p) for name, p in named if p.requires_grad]


def _train_epoch(
    model: Any,
    loss_fn: Callable,
    optimizer: Any,
    loader: Iterable,
    metrics: dict[str, Callable],
    clip: float | None,
    step_scheduler: Any,
    callbacks: list,
    epoch: int,
) -> dict[str, float]:
    """One pass of the plain loop; returns the epoch's mean loss, grad norm and metrics."""
    named = _named_params(model)
    params = [p for _, p in named]
    model.train()
    loss_sum, norm_sum, n, steps = 0.0, 0.0, 0, 0
    sums = dict.fromkeys(metrics, 0.0)
    for batch in loader:
        inputs, target = _split(batch)
        optimizer.zero_grad()
        output = model(*inputs)
        loss = loss_fn(output, target)
        value, b = _value(loss), _count(target)
        if not math.isfinite(value):  # before the step, so the model keeps the weights that gave it
            raise FloatingPointError(
                f"fit: the loss became {value} at epoch {epoch}, step {steps}; "
                "lower the learning rate or set clip_grad_norm"
            )
        loss.backward()
        if clip is not None:
            norm = _value(clip_grad_norm_(params, clip))  # the norm before clipping
        else:
            norm = _grad_norm(params)
        if not math.isfinite(norm) and not _finite_grads(params):  # a step would give nan weights
            raise FloatingPointError(
                f"fit: the gradient norm became {norm} at epoch {epoch}, step {steps} (loss {value}); "
                "lower the learning rate or look for an overflow in the model"
            )
        optimizer.step()
        _check_weights(named, epoch, steps)  # finite gradients can still step to inf/nan (huge lr, eps=0)
        if step_scheduler is not None:
            step_scheduler.step()
        loss_sum, norm_sum, n, steps = loss_sum + value * b, norm_sum + norm, n + b, steps + 1
        with no_grad():
            for name, fn in metrics.items():
                sums[name] += _value(fn(output.detach(), target)) * b
        for cb in callbacks:
            if isinstance(cb, Callback):
                cb.on_batch_end(steps - 1, {"loss": value, "grad_norm": norm})
    if steps == 0:
        raise ValueError("fit: the train_loader gave no batches")
    return {"loss": loss_sum / n, "grad_norm": norm_sum / steps, **{k: v / n for k, v in sums.items()}}


def _record(history: History, logs: dict[str, Any], metrics: dict[str, Callable]) -> None:
    history.loss.append(logs["loss"])
    history.lr.append(logs["lr"])
    history.grad_norm.append(logs["grad_norm"])
    if "val_loss" in logs:
        history.val_loss.append(logs["val_loss"])
    for key in [k for name in metrics for k in (name, "val_" + name)]:
        if key in logs:
            history.metrics.setdefault(key, []).append(logs[key])


def _progress_bar(progress: bool | None, total: int, initial: int) -> Any:
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ImportError("fit(progress=True): needs tqdm; pip install glassgrad[train]") from None
        return None
    return tqdm(total=total, initial=initial, unit="epoch", leave=True)


def _resume(
    path: str | os.PathLike,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    loader: Any,
    history: History,
    stopper: EarlyStopping | None,
) -> int:
    """Restore a checkpoint for ``fit``; returns the epoch to start from. Any file written by
    ``save_checkpoint`` works if it holds the epoch; without ``history`` the returned History
    starts at the resumed epoch."""
    where = f"fit: resume: {os.fspath(path)}"
    ckpt = load(path)
    if isinstance(ckpt, dict) and "model" in ckpt:
        epoch = ckpt.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 0:
            raise CheckpointError(
                f"{where}: expected the number of epochs done, got epoch={epoch!r}; save it with "
                "save_checkpoint(..., epoch=N), or load the weights with load_checkpoint and call "
                "fit without resume"
            )
    restore_checkpoint(ckpt, where, model, optimizer, scheduler, loader)
    try:
        if ckpt.get("history") is not None:
            history.load_state_dict(ckpt["history"])
        if stopper is not None and ckpt.get("early_stopping") is not None:
            stopper.load_state_dict(ckpt["early_stopping"])
    except (KeyError, TypeError, AttributeError) as e:
        raise CheckpointError(f"{where}: corrupted history or early_stopping state ({e!r})") from None
    return int(ckpt["epoch"])


def _check_before_saving(model: Any, path: str | os.PathLike, epoch: int) -> None:
    """Never write non-finite weights over the last good checkpoint (buffers included)."""
    bad = _first_nonfinite(model.state_dict().items())
    if bad is not None:
        raise FloatingPointError(
            f"fit: {bad[0]!r} holds {bad[1]} after epoch {epoch}; not overwriting {os.fspath(path)}, "
            "which keeps the last good epoch"
        )


def fit(
    model: Any,
    loss_fn: Callable[[Any, Any], Tensor],
    optimizer: Any,
    train_loader: Iterable,
    epochs: int,
    val_loader: Iterable | None = None,
    scheduler: Any = None,
    clip_grad_norm: float | None = None,
    callbacks: Iterable[Callback | Callable] = (),
    metrics: Mapping[str, Callable[[Any, Any], Any]] | None = None,
    progress: bool | None = None,
    early_stopping: EarlyStopping | int | None = None,
    checkpoint: str | os.PathLike | None = None,
    resume: str | os.PathLike | bool | None = None,
    scheduler_interval: str = "epoch",
) -> History:
    """Train ``model`` for ``epochs`` epochs (in total, counting those before a resume).

    Args:
        model: a Module; batches are ``(inputs..., target)`` and the model is called as ``model(*inputs)``.
        loss_fn: ``loss_fn(output, target)`` -> 0-d Tensor.
        optimizer: an Optimizer over the model's parameters.
        train_loader: iterable of batches (a ``DataLoader``).
        epochs: total number of epochs.
        val_loader: evaluated after every epoch (``val_loss``, ``val_<metric>``).
        scheduler: stepped every epoch (``scheduler_interval="step"``: every step);
            ``ReduceLROnPlateau`` gets ``val_loss`` (``loss`` without validation).
        clip_grad_norm: clip the total gradient norm to this before each step.
        callbacks: :class:`Callback` objects or callables ``fn(epoch, logs)`` run at epoch end.
        metrics: name -> ``fn(output, target)``, e.g. ``{"acc": accuracy}``.
        progress: tqdm progress bar; ``None``: only when stderr is a terminal.
        early_stopping: an :class:`EarlyStopping`, or an int patience on ``val_loss``.
        checkpoint: path written (atomically) after every epoch, see :func:`save_checkpoint`; never
            with non-finite weights or buffers (``fit`` stops with ``FloatingPointError`` first,
            naming the first bad parameter, and the file keeps the last good epoch).
        resume: a checkpoint path to continue from, or True for ``checkpoint`` if it exists. Any
            ``save_checkpoint`` file with an ``epoch``; one without ``history`` gives a History
            of the epochs run after the resume only.
        scheduler_interval: ``"epoch"`` or ``"step"``.

    Returns:
        The :class:`History` (including the epochs restored from a resumed checkpoint).
    """
    if scheduler_interval not in ("epoch", "step"):
        raise ValueError(f"fit: expected scheduler_interval 'epoch' or 'step', got {scheduler_interval!r}")
    stopper = EarlyStopping(patience=early_stopping) if isinstance(early_stopping, int) else early_stopping
    if stopper is not None and stopper.monitor.startswith("val_") and val_loader is None:
        raise ValueError(f"fit: early_stopping monitors {stopper.monitor!r}, which needs a val_loader")
    metrics, callbacks = dict(metrics or {}), list(callbacks)
    plateau = type(scheduler).__name__ == "ReduceLROnPlateau"
    step_scheduler = scheduler if scheduler_interval == "step" else None
    history, start = History(), 0
    if resume is True:
        resume = checkpoint if checkpoint is not None and os.path.exists(checkpoint) else None
    if resume:
        start = _resume(resume, model, optimizer, scheduler, train_loader, history, stopper)
    bar = _progress_bar(progress, epochs, start)
    try:
        for epoch in range(start, epochs):
            t0 = time.perf_counter()
            logs: dict[str, Any] = {"epoch": epoch, "lr": float(optimizer.param_groups[0]["lr"])}
            for cb in callbacks:
                if isinstance(cb, Callback):
                    cb.on_epoch_begin(epoch, logs)
            logs.update(
                _train_epoch(model, loss_fn, optimizer, train_loader, metrics, clip_grad_norm,
                             step_scheduler, callbacks, epoch)
            )  # fmt: skip
            if val_loader is not None:
                val = evaluate(model, loss_fn, val_loader, metrics)
                logs.update({"val_" + k: v for k, v in val.items()})
            if scheduler is not None and step_scheduler is None:
                if plateau:
                    scheduler.step(logs.get("val_loss", logs["loss"]))
                else:
                    scheduler.step()
            _record(history, logs, metrics)
            stop = False
            if stopper is not None:
                if stopper.monitor not in logs:
                    raise ValueError(
                        f"fit: early_stopping monitors {stopper.monitor!r}, not in {sorted(logs)}"
                    )
                stop = stopper.update(epoch, logs[stopper.monitor], model)
                history.best_epoch = stopper.best_epoch
            try:
                for cb in callbacks:
                    if isinstance(cb, Callback):
                        cb.on_epoch_end(epoch, logs)
                    else:
                        cb(epoch, logs)
            except StopTraining:
                stop = True
            history.stopped_early = stop
            history.epoch_time.append(time.perf_counter() - t0)
            if checkpoint is not None:
                _check_before_saving(model, checkpoint, epoch)
                save_checkpoint(
                    checkpoint, model, optimizer, scheduler, train_loader, epoch=epoch + 1,
                    history=history.state_dict(),
                    early_stopping=None if stopper is None else stopper.state_dict(),
                )  # fmt: skip
            if bar is not None:
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items() if k not in ("epoch", "lr")})
                bar.update(1)
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
    if stopper is not None and stopper.restore_best_weights and stopper.best_state is not None:
        model.load_state_dict(stopper.best_state)
    for cb in callbacks:
        if isinstance(cb, Callback):
            cb.on_train_end({"history": history})
    return history


# truncated backpropagation through time (glassgrad/tbptt.py), reachable as glassgrad.train.tbptt
from glassgrad.tbptt import TBPTTResult, detach_state, tbptt  # noqa: E402, F401
