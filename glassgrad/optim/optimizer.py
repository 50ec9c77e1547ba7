"""``Optimizer``: what every optimizer shares — parameter groups, per-parameter state, ``zero_grad``,
``state_dict`` / ``load_state_dict`` — with PyTorch's names, layout and error cases.

The update rules live one family per file (``sgd.py``, ``adam.py``, ``rmsprop.py``, ``adagrad.py``);
each ``step()`` reads like the algorithm box in its class docstring. Updates work on raw arrays:
the gradient is never changed in place (it may be shared), the parameter always is (``p._data -= ...``),
so every view of the parameter's array sees the new values.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any

import numpy as np

from glassgrad.autograd.grad_accumulation import zero_grad_of
from glassgrad.autograd.grad_mode import enable_grad
from glassgrad.backend import array_module
from glassgrad.errors import DTypeError, ShapeError
from glassgrad.optim.optimizer_helpers import (
    apply_weight_decay,
    betas_of,
    capturable_error,
    check_betas,
    state_like,
)
from glassgrad.optim.optimizer_hooks import (
    OptimizerHooks,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
)
from glassgrad.optim.optimizer_internals import *  # noqa: F403 - PyTorch's private helpers, imported from here
from glassgrad.optim.optimizer_load import cast_loaded_state, family_state_keys
from glassgrad.optim.scalars import scalar_state
from glassgrad.optim.sparse_grads import step_input
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "Optimizer", "required", "scalar_state", "IMPL_SWITCHES", "check_betas", "betas_of",
    "apply_weight_decay", "state_like", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook",
]  # fmt: skip


class _Required:
    """Marks a default that every parameter group must set itself (``torch.optim.optimizer.required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()

#: PyTorch's implementation switches, kept in every param group as PyTorch keeps them (so state
#: dicts have PyTorch's keys) and otherwise ignored: there is one implementation here.
IMPL_SWITCHES = ("foreach", "capturable", "differentiable", "fused")


class Optimizer(OptimizerHooks):
    """Base class of the optimizers: holds the parameters in groups and their per-parameter state.

    A subclass sets ``complex_params = True`` when its update is right for complex parameters (SGD's,
    linear in g; the adaptive ones', on real views: ``real_views.py``); the others refuse them. A
    ``step`` defined outside glassgrad takes them (its author handles them).

    Args:
        params: an iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts (parameter groups:
            ``{"params": [...], "lr": 0.1}``; options a group leaves out come from ``defaults``).
        defaults: the default value of every option of this optimizer.

    Attributes:
        param_groups: list of dicts, one per group: ``"params"`` (the Tensors) and every option.
            Schedulers and users may change options (``group["lr"] = 0.01``) between steps.
        state: ``state[param]`` is a dict of that parameter's running quantities (momentum
            buffers, moment estimates, step counts), created at its first ``step()``. Keyed by the
            Tensor itself (Tensors hash by identity).

    Subclasses define ``step()`` (decorated with ``@no_grad()``, starting with
    ``loss = self._eval_closure(closure)`` and looping ``for p, g in self._grads(group)``) and
    ``_check_group(group)``, which validates a group's options.
    """

    #: names of the state entries shaped like their parameter (checked by ``load_state_dict``)
    _param_shaped_state: tuple[str, ...] = ()
    complex_params: bool = False

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: expected an iterable of Tensors or dicts, got a single Tensor of shape "
                f"{params.shape}; wrap it in a list"
            )
        if isinstance(params, set):
            raise TypeError(f"{name}: expected parameters in an ordered collection (a list), got a set")
        self.defaults = defaults
        self._patch_step_function()
        self._check_group(defaults)
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. a new layer being unfrozen).

        Options the group leaves out take the optimizer's defaults. The dict itself is stored
        (as in PyTorch), its ``"params"`` turned into a list.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}.add_param_group: expected a dict with a 'params' key")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(
                f"{name}: expected parameters in an ordered collection (a list), got a set, whose "
                "order changes between runs"
            )
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError(f"{name}: expected all parameters with names or all without")
            param_group["param_names"] = names
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: expected parameters to be Tensors, got {type(p).__name__}")
            # as PyTorch: a non-leaf that retains its grad is stepped like a leaf, and a
            # differentiable optimizer steps non-leaves on purpose (its update is recorded)
            if not p.is_leaf and not p.retains_grad and not self.defaults.get("differentiable"):
                raise ValueError(
                    f"{name}: expected leaf tensors, got a non-leaf of shape {p.shape} (made by "
                    f"{p.grad_fn.name()}); optimize the tensors it was computed from"
                )
            if p._data.dtype.kind == "c" and not self._takes_complex():
                raise DTypeError(
                    f"{name}: complex parameters are not supported (got {p.dtype} {p.shape}): keep a real "
                    "(..., 2) parameter and view_as_complex it in forward, or use SGD or one of the optimizers "
                    "that step them as real pairs (Adam, AdamW, NAdam, RAdam, Adamax, RMSprop, Adagrad, ...)"
                )
        if len({id(p) for p in params}) != len(params):
            # as PyTorch: a warning (its opening words) and a step per entry (a tied embedding twice)
            warnings.warn(
                f"optimizer contains a parameter group with duplicate parameters; {name} steps the shared "
                "tensor once per entry, as PyTorch does (PyTorch plans to refuse this); list each parameter once",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            # PyTorch's words first: programs match them (MMEngine's bypass_duplicate test)
            raise ValueError(
                f"{name}: some parameters appear in more than one parameter group "
                "(expected each parameter once, got one in more than one group)"
            )
        if self.param_groups and ("param_names" in param_group) != ("param_names" in self.param_groups[0]):
            raise ValueError(f"{name}: expected all param groups with names or all without")
        param_group["params"] = params
        for key, default in self.defaults.items():
            if default is required and key not in param_group:
                raise ValueError(f"{name}: expected param group to set the required option {key!r}")
            param_group.setdefault(key, default)
        self._check_group(param_group)
        self.param_groups.append(param_group)

    def _takes_complex(self) -> bool:
        """Whether ``step`` takes complex parameters: ours say so with ``complex_params``; a ``step``
        written outside glassgrad (FNO's own Adam) handles them itself, as in PyTorch."""
        own = getattr(type(self).step, "__module__", "") or ""
        return self.complex_params or not own.startswith("glassgrad.")

    def _check_group(self, group: dict[str, Any]) -> None:
        """Raise if an option of ``group`` (or of the defaults) is invalid; subclasses override."""

    def _check_nonnegative(self, group: dict[str, Any], *keys: str) -> None:
        """Raise unless each ``group[key]`` is a real number ``>= 0`` (NaN fails too)."""
        for key in keys:
            value = group[key]
            if value is required:
                continue
            if key in ("lr", "weight_decay") and isinstance(value, Tensor):  # PyTorch takes these
                if value.numel() != 1 or value.dtype.is_complex or value.dtype == bool:
                    raise ValueError(
                        f"{type(self).__name__}: Tensor {key} must be 1-element and real, got {value!r}"
                    )
                value = float(value.detach())  # a learned value (requires_grad) is read without a warning
            if not isinstance(value, numbers.Real) or isinstance(value, bool):
                raise TypeError(
                    f"{type(self).__name__}: expected {key} to be a number, got {type(value).__name__}"
                )
            if not value >= 0:
                raise ValueError(f"{type(self).__name__}: expected {key} >= 0, got {value!r}")

    # ----------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (default), or keep the tensors and zero them."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    zero_grad_of(p)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` if one is given."""
        raise NotImplementedError(f"{type(self).__name__}: step() is not implemented")

    @staticmethod
    def _eval_closure(closure: Callable[[], Any] | None) -> Any:
        """Re-evaluate the loss (and gradients) with grad mode on, even though step() runs in no_grad."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _grads(self, group: dict[str, Any]) -> Iterator[tuple[Tensor, np.ndarray]]:
        """Yield ``(param, grad array)`` for each parameter of ``group`` that has a gradient.

        After the caller's update of ``p._data`` the parameter's version is bumped (as PyTorch's
        in-place update does), so backward through a graph that saved the old values raises instead
        of silently using the new ones. ``capturable=True`` is refused at the first gradient, as
        PyTorch's steps refuse it for CPU tensors (CUDA-graph capture; there is no other device here).
        """
        capturable = group.get("capturable")
        for p in group["params"]:
            if p.grad is None:
                continue
            if capturable:
                raise capturable_error()
            g = p.grad._data
            if p.grad.is_sparse:  # Embedding(sparse=True): what this optimizer takes (sparse_grads.py)
                g = step_input(self, p, group)
            elif g.shape != p._data.shape or g.dtype != p._data.dtype:
                self._bad_grad(p, g)
            if not p._data.flags.writeable:
                # an expanded Parameter (einops repeat of a shared one): PyTorch's in-place update
                # raises RuntimeError; NumPy's would be a bare "output array is read-only"
                p._refuse_read_only(f"{type(self).__name__}.step")
            yield p, g
            p._version += 1

    def _state_of(self, p: Tensor, *zeros: str, **scalars: float) -> dict[str, Any]:
        """``p``'s state, created on its first step as PyTorch orders it: ``step`` (a 0-d tensor of 0), a
        ``scalar_state`` per keyword, then an array of zeros shaped like ``p`` per name in ``zeros``.
        """
        state = self.state[p]
        if not state:
            state["step"] = scalar_state(0.0)
            for key, value in scalars.items():
                state[key] = scalar_state(value)
            xp = array_module(p._data)
            for key in zeros:
                state[key] = state_like(p, xp.zeros_like(p._data))
        return state

    def _bad_grad(self, p: Tensor, g: np.ndarray) -> None:
        name = type(self).__name__
        if g.shape != p._data.shape:
            raise ShapeError(f"{name}.step: expected a grad of shape {p.shape} like its param, got {g.shape}")
        raise DTypeError(f"{name}.step: expected a grad of dtype {p.dtype} like its param, got {g.dtype}")

    # ----------------------------------------------------------------- (de)serialisation
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state in PyTorch's layout, with parameters replaced by their position.

        ``{"state": {index: {"exp_avg": Tensor, "step": tensor(3.), ...}}, "param_groups": [{"lr": ...,
        "params": [indices]}]}``, indices counting through the groups in order. As in PyTorch the
        state tensors are the live ones, not copies: save them (or ``copy.deepcopy``) to keep a snapshot.
        """
        return self._state_dict_with_hooks(self._packed_state)

    def _packed_state(self) -> dict[str, Any]:
        index: dict[int, int] = {}  # id(param) -> its position across all groups
        groups, start = [], 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            # PyTorch's numbering: positions count every entry, and a parameter listed twice in a
            # group (a tied weight) takes its last position there
            index.update({id(p): i for i, p in enumerate(group["params"], start) if id(p) not in index})
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(group["params"])
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a ``state_dict()`` (ours, or PyTorch's with tensors converted to arrays or Tensors).

        Groups must match in number and size, and the state must come from this kind of optimizer:
        every saved group carries this optimizer's hyperparameters (an SGD ``state_dict`` has no
        ``betas`` for Adam) and each param's state arrays include this optimizer's own (extra ones, as
        Lookahead's ``momentum_buffer``, are kept). Adam and AdamW share theirs, as in PyTorch. Everything is checked before anything changes. State tensors are cast to
        their parameter's dtype, and kept themselves where that changes nothing (as PyTorch's;
        ``kept_as_loaded``), else copied; ``step`` becomes a 0-d tensor (kept likewise; a number saved by an
        older version is read as one of the default dtype), except a number kept by an optimizer with
        its own ``step()`` (PyTorch casts tensors only). Saved keys are read as ints (JSON loads too).
        """
        state, groups = self._prepare_state_dict(self._load_state_dict_pre(state_dict))
        self.__setstate__({"state": state, "param_groups": groups})  # as PyTorch: may copy in place
        self._load_state_dict_post()

    def _prepare_state_dict(
        self, state_dict: dict[str, Any]
    ) -> tuple[defaultdict[Tensor, dict[str, Any]], list[dict[str, Any]]]:
        """What ``load_state_dict`` would install, ``(state, param_groups)``, changing nothing;
        raises on any mismatch (``load_checkpoint`` checks every section before loading one)."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(f"{name}.load_state_dict: expected a dict with keys 'state' and 'param_groups'")
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: expected {len(self.param_groups)} param groups, "
                f"got {len(saved_groups)}"
            )
        # Flags (amsgrad, maximize, ...) and PyTorch's implementation switches (foreach, fused: None
        # by default) were added over versions and default sensibly; the numeric hyperparameters
        # name the algorithm, so a group without them is another optimizer's.
        own = [k for k, v in self.defaults.items() if not isinstance(v, bool) and k not in IMPL_SWITCHES]
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if not isinstance(saved, dict) or "params" not in saved:
                raise ValueError(f"{name}.load_state_dict: expected param group {i} as a dict with 'params'")
            missing = [k for k in own if k not in saved]
            if missing:
                raise ValueError(
                    f"{name}.load_state_dict: expected param groups with {name}'s options {own}, got "
                    f"group {i} without {missing}: a state_dict of another optimizer type?"
                )
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: expected param group {i} with {len(group['params'])} "
                    f"params, got {len(saved['params'])}"
                )
        param_at = dict(
            zip(
                (int(i) for i in chain.from_iterable(g["params"] for g in saved_groups)),
                chain.from_iterable(g["params"] for g in self.param_groups),
            )
        )
        shaped, families = set(self._param_shaped_state), family_state_keys(Optimizer)
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for index, entries in state_dict["state"].items():
            p = param_at.get(int(index))
            if p is None:
                raise ValueError(f"{name}.load_state_dict: got state for param {index}, which no group lists")
            if not isinstance(entries, dict):
                raise ValueError(f"{name}.load_state_dict: expected the state of param {index} as a dict")
            # Arrays with dims are a family's running quantities (step, eta, mu_product: 0-d): another
            # built-in family's with none of ours mean another optimizer's state; extras beside ours
            # (Lookahead puts a momentum_buffer in its AdamW's state) and names no built-in optimizer
            # uses (ScheduleFreeWrapper's ``z`` in a momentum-free SGD's state) are kept, as PyTorch
            # keeps any entry.
            foreign = [
                k
                for k, v in entries.items()
                if k not in shaped and k in families and len(getattr(v, "shape", ())) > 0
            ]
            if shaped and foreign and not shaped & entries.keys():
                raise ValueError(
                    f"{name}.load_state_dict: expected state arrays of param {index} among "
                    f"{sorted(shaped)}, got {sorted(foreign)}: a state_dict of another optimizer type?"
                )
            state[p] = {key: self._cast_state(p, int(index), key, v) for key, v in entries.items()}
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            # No range check, as in PyTorch: a schedule may have saved an lr the constructor refuses.
            for key, default in self.defaults.items():
                saved.setdefault(key, default)
        return state, saved_groups

    def _cast_state(self, p: Tensor, index: int, key: str, value: Any) -> Any:
        """One loaded state entry (``optimizer_load.cast_loaded_state``)."""
        return cast_loaded_state(self, p, index, key, value)

    # ----------------------------------------------------------------- printing
    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines += ([""] if i else []) + [f"Parameter Group {i}"]  # PyTorch: a blank line between groups
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"
