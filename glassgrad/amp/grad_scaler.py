"""``glassgrad.amp.GradScaler`` (PyTorch's ``torch.amp.GradScaler``): dynamic loss scaling.

``scale(loss)`` multiplies the loss by the scale (a 0-d float32 tensor), so backward gives scaled
gradients; ``unscale_(optimizer)`` multiplies every gradient of the optimizer's parameters by the
float32 reciprocal of the scale (taken in float64, as PyTorch does) and records whether any
gradient holds an inf or a nan; ``step(optimizer)`` unscales if that was not done and skips
``optimizer.step()`` when one did; ``update()`` halves the scale after a skipped step (times
``backoff_factor``) and doubles it (times ``growth_factor``, unless that overflows float32) after
``growth_interval`` clean steps in a row. The arithmetic follows PyTorch's CPU kernels
(``_amp_foreach_non_finite_check_and_unscale_``, ``_amp_update_scale_``), so a run matches
PyTorch's scale for scale and skip for skip.

``GradScaler("cpu")`` is enabled, as in PyTorch 2.13. ``GradScaler("cuda")`` (the default) warns
and disables itself, as PyTorch does without CUDA; a disabled scaler passes everything through:
``scale`` returns its input, ``step`` calls ``optimizer.step()``, ``get_scale()`` is 1.0 and
``state_dict()`` is ``{}``.

>>> import glassgrad as gg
>>> scaler = gg.amp.GradScaler("cpu", init_scale=1024.0)
>>> scaler.scale(gg.tensor(2.0)).item(), scaler.get_scale()
(2048.0, 1024.0)
"""

from __future__ import annotations

import warnings
from collections import abc, defaultdict
from enum import Enum
from typing import Any

import numpy as np

from glassgrad import dtypes
from glassgrad.autograd import no_grad
from glassgrad.backend import array_module
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["OptState", "GradScaler"]


class OptState(Enum):
    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


def _scalar(value: Any, dtype: Any) -> Tensor:
    return Tensor(np.array(value, dtype=dtype.np), _wrap=True)


class GradScaler:
    """Scales the loss so that low-precision gradients do not underflow, and steps only when the
    gradients are finite (PyTorch's ``torch.amp.GradScaler``; see the module docstring)."""

    def __init__(
        self,
        device: str = "cuda",
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        self._device = device
        self._enabled = enabled
        if self._device == "cuda" and enabled:
            from glassgrad import cuda

            if not cuda.is_available():
                warnings.warn(
                    "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                    stacklevel=user_stacklevel(),
                )
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale: Tensor | None = None  # made at the first scale(), as in PyTorch
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: Tensor | None = None
            self._per_optimizer_states: dict[int, dict[str, Any]] = defaultdict(_refresh_per_optimizer_state)

    def _check_scale_growth_tracker(self, funcname: str) -> tuple[Tensor, Tensor]:
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return (self._scale, self._growth_tracker)

    def _lazy_init_scale_growth_tracker(self) -> None:
        self._scale = _scalar(self._init_scale, dtypes.float32)
        self._growth_tracker = _scalar(self._init_growth_tracker, dtypes.int32)

    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or lists/tuples/iterables of them) times the scale; the input
        itself when disabled."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):  # PyTorch's short cut for one loss: without the closure
            if self._scale is None:  # below (a function <-> cell cycle), every step's scaler.scale
                self._lazy_init_scale_growth_tracker()  # (loss) is freed by reference counting
            return outputs * self._scale
        scale_ref: list[Tensor] = []

        def apply_scale(val: Any) -> Any:
            if isinstance(val, Tensor):
                if not scale_ref:
                    if self._scale is None:
                        self._lazy_init_scale_growth_tracker()
                    scale_ref.append(self._scale)
                return val * scale_ref[0]
            if isinstance(val, abc.Iterable):
                iterable = map(apply_scale, val)
                if isinstance(val, (list, tuple)):
                    return type(val)(iterable)
                return iterable
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def _unscale_grads_(self, optimizer: Any, inv_scale: Tensor, allow_fp16: bool) -> dict[Any, Tensor]:
        """Multiply the gradients by ``inv_scale`` in place; a 0-d float32 found-inf flag per device."""
        grads = []
        for group in optimizer.param_groups:
            for param in group["params"]:
                if not isinstance(param, Tensor):
                    raise AssertionError(f"expected param to be torch.Tensor, got {type(param).__name__}")
                if param.grad is None:
                    continue
                if (not allow_fp16) and param.grad.dtype == dtypes.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                grad = param.grad  # a sparse one (Embedding(sparse=True)): its values, as PyTorch's
                grads.append(grad._vals if grad.is_sparse else grad)
        if not grads:
            return {}
        found = False
        unit = float(inv_scale.item()) == 1.0
        with no_grad():
            for grad in grads:
                arr = grad._data
                xp = array_module(arr)
                found = found or not bool(xp.isfinite(arr).all())
                if not unit:  # PyTorch's kernel leaves the values alone when the factor is 1
                    grad.mul_(inv_scale)
        return {grads[0].device: _scalar(1.0 if found else 0.0, dtypes.float32)}

    def unscale_(self, optimizer: Any) -> None:
        """Divide ("unscale") the optimizer's gradients by the scale, in place, once per step: a
        second call before ``update()`` raises ``RuntimeError``, as in PyTorch. The recipe for
        clipping: ``scale(loss).backward(); unscale_(opt); clip_grad_norm_(...); step(opt); update()``."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update()."
            )
        elif optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # The reciprocal in float64, then float32, as PyTorch does.
        inv_scale = _scalar(np.float32(1.0 / np.float64(self._scale.item())), dtypes.float32)
        optimizer_state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, False)
        optimizer_state["stage"] = OptState.UNSCALED

    def _check_inf_per_device(self, optimizer: Any) -> dict[Any, Tensor]:
        """Record (without unscaling) whether the optimizer's gradients hold an inf or a nan: a
        0-d float32 flag per device, as ``unscale_`` records it; float16 gradients are allowed."""
        self._check_scale_growth_tracker("_check_inf_per_device")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        optimizer_state["found_inf_per_device"] = self._unscale_grads_(
            optimizer, _scalar(1.0, dtypes.float32), True
        )
        return optimizer_state["found_inf_per_device"]

    def _found_inf_per_device(self, optimizer: Any) -> dict[Any, Tensor]:
        """What ``unscale_``/``step`` recorded for ``optimizer`` this iteration, ``{}`` before (a
        private name that training frameworks read to tell whether the step was skipped)."""
        return self._per_optimizer_states[id(optimizer)]["found_inf_per_device"]

    def _maybe_opt_step(
        self, optimizer: Any, optimizer_state: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        retval = None
        if not sum(v.item() for v in optimizer_state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        return retval

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``unscale_(optimizer)`` unless done, then ``optimizer.step(*args, **kwargs)`` if every
        gradient is finite; returns what it returned, or None when the step is skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        optimizer_state = self._per_optimizer_states[id(optimizer)]
        if optimizer_state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if optimizer_state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(optimizer_state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = self._maybe_opt_step(optimizer, optimizer_state, *args, **kwargs)
        optimizer_state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Back the scale off after a skipped step, grow it after ``growth_interval`` clean ones;
        or set it to ``new_scale`` (a float or a one-element tensor)."""
        if not self._enabled:
            return
        _scale, _growth_tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                _scale.fill_(new_scale)
            else:
                reason = (
                    "new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                    "torch.FloatTensor with requires_grad=False."
                )
                if not isinstance(new_scale, Tensor) or new_scale.device.type != self._device:
                    raise AssertionError(reason)
                if new_scale.numel() != 1 or new_scale.requires_grad is True:
                    raise AssertionError(reason)
                if new_scale.ndim:  # PyTorch copies it into its 0-d scale, which refuses a shape (1,)
                    raise RuntimeError(
                        f"update: output with shape [] doesn't match the broadcast shape {list(new_scale.shape)}"
                    )
                _scale.fill_(new_scale.item())
        else:
            found_infs = [
                found_inf.item()
                for state in self._per_optimizer_states.values()
                for found_inf in state["found_inf_per_device"].values()
            ]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_scale(_scale, _growth_tracker, sum(found_infs))
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _update_scale(self, scale: Tensor, tracker: Tensor, found_inf: float) -> None:
        """PyTorch's ``_amp_update_scale_`` on the CPU: float32 scale, int32 tracker."""
        current = np.float32(scale.item())
        if found_inf:
            scale.fill_(float(np.float32(float(current) * self._backoff_factor)))
            tracker.fill_(0)
            return
        successful = int(tracker.item()) + 1
        if successful == self._growth_interval:
            with np.errstate(over="ignore"):  # a float32 overflow is the case checked next
                grown = np.float32(float(current) * self._growth_factor)
            if np.isfinite(grown):
                scale.fill_(float(grown))
            tracker.fill_(0)
        else:
            tracker.fill_(successful)

    def _get_scale_async(self) -> Tensor | None:
        return self._scale

    def get_scale(self) -> float:
        """The scale as a Python float; 1.0 when disabled; ``init_scale`` before the first ``scale()``."""
        if self._enabled:
            return self._init_scale if self._scale is None else float(self._scale.item())
        return 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if self._enabled:
            return (
                self._init_growth_tracker
                if self._growth_tracker is None
                else int(self._growth_tracker.item())
            )
        return 0

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval`` and
        ``_growth_tracker`` (PyTorch's keys); ``{}`` when disabled."""
        if self._enabled:
            return {
                "scale": self.get_scale(),
                "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker(),
            }
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved "
                "from a disabled instance of GradScaler."
            )
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker.fill_(state_dict["_growth_tracker"])

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._enabled:
            if len(self._per_optimizer_states) != 0:
                raise AssertionError(
                    "A GradScaler instance may only be pickled at the beginning "
                    "of an iteration, or at the end after scaler.update()."
                )
            state["_init_scale"] = self.get_scale()
            state["_init_growth_tracker"] = self._get_growth_tracker()
            state["_scale"] = None
            state["_growth_tracker"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
