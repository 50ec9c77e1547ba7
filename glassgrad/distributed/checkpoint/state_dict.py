"""PyTorch's ``torch.distributed.checkpoint.state_dict`` for a world of one process: what the FSDP2
example's checkpointer imports. ``get_model_state_dict``/``set_model_state_dict`` move a model's
state as PyTorch's do with one process (``full_state_dict=True``: plain whole tensors out, whole
tensors in); ``_init_optim_state`` gives an optimizer its state with a zero-learning-rate step.
The optimizer halves (``get_optimizer_state_dict``/``set_optimizer_state_dict``, keyed by
parameter names) are refused with ``NotImplementedError``: use ``optimizer.state_dict()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glassgrad.autograd import no_grad

__all__ = [
    "StateDictOptions", "get_model_state_dict", "set_model_state_dict", "get_optimizer_state_dict",
    "set_optimizer_state_dict",
]  # fmt: skip


@dataclass
class StateDictOptions:
    """PyTorch's options; ``full_state_dict``, ``ignore_frozen_params`` and ``strict`` are read
    (offloading and broadcasting have nothing to do with one process on the CPU)."""

    full_state_dict: bool = False
    cpu_offload: bool = False
    ignore_frozen_params: bool = False
    keep_submodule_prefixes: bool = True
    strict: bool = True
    broadcast_from_rank0: bool = False
    flatten_optimizer_state_dict: bool = False
    dsd_fqn_modifiers: str = "_fqn_modifiers"


def get_model_state_dict(
    model: Any, *, submodules: Any = None, options: StateDictOptions | None = None
) -> dict:
    """``model.state_dict()``; with ``full_state_dict`` every DTensor becomes its whole tensor."""
    if submodules is not None:
        raise NotImplementedError(
            "get_model_state_dict: submodules= is not supported (deprecated in PyTorch)"
        )
    options = options or StateDictOptions()
    state = model.state_dict()
    if options.ignore_frozen_params:
        frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
        state = {k: v for k, v in state.items() if k not in frozen}
    if options.full_state_dict:
        state = {k: v.full_tensor() if hasattr(v, "full_tensor") else v for k, v in state.items()}
    return state


def set_model_state_dict(
    model: Any, model_state_dict: dict, *, options: StateDictOptions | None = None
) -> Any:
    """Load ``model_state_dict`` (whole or DTensor values) into ``model``'s parameters and buffers
    in place; returns ``load_state_dict``'s missing and unexpected keys."""
    options = options or StateDictOptions()
    plain = {k: v.full_tensor() if hasattr(v, "full_tensor") else v for k, v in model_state_dict.items()}
    return model.load_state_dict(plain, strict=options.strict)


def _refused(fn: str) -> NotImplementedError:
    return NotImplementedError(
        f"{fn}: the distributed checkpoint optimizer state dict (keyed by parameter names) is not supported; "
        "with one process use optimizer.state_dict() / load_state_dict() (the FSDP2 example without --dcp-api)"
    )


def get_optimizer_state_dict(
    model: Any, optimizers: Any, *, submodules: Any = None, options: Any = None
) -> dict:
    raise _refused("get_optimizer_state_dict")


def set_optimizer_state_dict(
    model: Any, optimizers: Any, optim_state_dict: dict, *, options: Any = None
) -> None:
    raise _refused("set_optimizer_state_dict")


def _init_optim_state(optim: Any) -> None:
    """Give ``optim`` its per-parameter state without changing a parameter (PyTorch's helper: zero
    gradients, one step at learning rate 0, gradients cleared). Does nothing once it has state or
    any parameter has a gradient."""
    groups = optim.param_groups
    if optim.state or any(p.grad is not None for g in groups for p in g["params"]):
        return
    with no_grad():
        for g in groups:
            for p in g["params"]:
                if p.requires_grad:
                    p.grad = p.detach() * 0
    lrs = [g.get("lr") for g in groups]
    for g in groups:
        if "lr" in g:
            g["lr"] = 0.0
    optim.step()
    for g, lr in zip(groups, lrs):
        if lr is not None:
            g["lr"] = lr
    optim.zero_grad(set_to_none=True)
