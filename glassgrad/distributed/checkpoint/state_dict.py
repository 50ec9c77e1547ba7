"""PyTorch's ``torch.distributed.checkpoint.state_dict`` for a world of one process: what the FSDP2
example's checkpointer imports. ``get_model_state_dict``/``set_model_state_dict`` move a model's
state as PyTorch's do with one process (``full_state_dict=True``: plain whole tensors out, whole
tensors in); ``get_optimizer_state_dict``/``set_optimizer_state_dict`` move an optimizer's state
keyed by parameter names instead of positions (PyTorch's format, flattened on request), so a
checkpoint survives a change in the optimizer's parameter order; ``get_state_dict`` and
``set_state_dict`` do both halves. ``_init_optim_state`` gives an optimizer its state with a
zero-learning-rate step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from glassgrad.autograd import no_grad
from glassgrad.distributed.tensor._api import DTensor, distribute_tensor
from glassgrad.factories_like import zeros_like

__all__ = [
    "StateDictOptions", "get_model_state_dict", "set_model_state_dict", "get_optimizer_state_dict",
    "set_optimizer_state_dict", "get_state_dict", "set_state_dict",
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
    """Load ``model_state_dict`` (whole or DTensor values) into ``model``; returns
    ``load_state_dict``'s missing and unexpected keys.

    Copied into the parameters and buffers in place, except where PyTorch assigns: with
    ``full_state_dict`` or ``broadcast_from_rank0`` into a model that still has meta tensors (the
    FSDP2 way: build on the meta device, ``fully_shard``, then load), each whole tensor is laid out
    as its DTensor parameter's placements and the module takes it (``assign=True``).
    """
    options = options or StateDictOptions()
    whole = {k: v.full_tensor() if hasattr(v, "full_tensor") else v for k, v in model_state_dict.items()}
    assign = False
    if options.full_state_dict or options.broadcast_from_rank0:
        local = model.state_dict()
        assign = any(getattr(v, "is_meta", False) for v in local.values())
        for key, here in local.items():
            if assign and key in whole and isinstance(here, DTensor):
                whole[key] = distribute_tensor(whole[key], here.device_mesh, here.placements)
    return model.load_state_dict(whole, strict=options.strict, assign=assign)


def _optimizers(fn: str, optimizers: Any) -> list:
    """``optimizers`` as a list: one optimizer or an iterable of them, as PyTorch takes."""
    optims = [optimizers] if hasattr(optimizers, "param_groups") else list(optimizers)
    if not optims or not all(hasattr(o, "param_groups") for o in optims):
        raise TypeError(f"{fn}: expected an optimizer or an iterable of optimizers, got {optimizers!r}")
    return optims


def _names(model: Any) -> dict[int, str]:
    """``id(param) -> its name`` in ``model`` (the first name of a shared parameter)."""
    names: dict[int, str] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        names.setdefault(id(param), name)
    return names


def _name_of(fn: str, names: dict[int, str], param: Any) -> str:
    if id(param) not in names:
        raise ValueError(
            f"{fn}: the optimizer holds a parameter of shape {tuple(param.shape)} that is not in the model"
        )
    return names[id(param)]


def get_optimizer_state_dict(
    model: Any, optimizers: Any, *, submodules: Any = None, options: StateDictOptions | None = None
) -> dict:
    """The optimizers' state keyed by parameter names: ``{"state": {name: {key: value}},
    "param_groups": [{..., "params": [names]}]}``, every optimizer's groups in turn. Like PyTorch,
    it first gives each optimizer its state (``_init_optim_state``); ``full_state_dict`` makes
    whole tensors of DTensors, ``flatten_optimizer_state_dict`` gives one level of keys,
    ``"state.<name>.<key>"`` and ``"param_groups.<name>.<option>"``."""
    fn = "get_optimizer_state_dict"
    if submodules is not None:
        raise NotImplementedError(f"{fn}: submodules= is not supported (deprecated in PyTorch)")
    options = options or StateDictOptions()
    names = _names(model)
    state: dict[str, Any] = {}
    groups: list[dict[str, Any]] = []
    for optim in _optimizers(fn, optimizers):
        _init_optim_state(optim)
        for group in optim.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [_name_of(fn, names, p) for p in group["params"]]
            groups.append(packed)
            for p, name in zip(group["params"], packed["params"]):
                if p in optim.state:
                    entries = optim.state[p]
                    if options.full_state_dict:
                        entries = {
                            k: v.full_tensor() if hasattr(v, "full_tensor") else v for k, v in entries.items()
                        }
                    state[name] = entries
    if not options.flatten_optimizer_state_dict:
        return {"state": state, "param_groups": groups}
    flat = {f"state.{name}.{k}": v for name, entries in state.items() for k, v in entries.items()}
    for group in groups:
        for name in group["params"]:
            flat.update({f"param_groups.{name}.{k}": v for k, v in group.items() if k != "params"})
    return flat


def _unflatten(fn: str, flat: dict, optims: list, names: dict[int, str]) -> dict:
    """A flattened optimizer state dict back in the nested form, groups as the optimizers have them."""
    state: dict[str, dict[str, Any]] = {}
    groups = []
    for optim in optims:
        for group in optim.param_groups:
            params = [_name_of(fn, names, p) for p in group["params"]]
            for name in params:
                prefix = f"state.{name}."
                entries = {k[len(prefix) :]: v for k, v in flat.items() if k.startswith(prefix)}
                if entries:
                    state[name] = entries
            options = {k: group[k] for k in group if k != "params"}
            if params:
                prefix = f"param_groups.{params[0]}."
                options.update({k[len(prefix) :]: v for k, v in flat.items() if k.startswith(prefix)})
            groups.append({**options, "params": params})
    return {"state": state, "param_groups": groups}


def set_optimizer_state_dict(
    model: Any, optimizers: Any, optim_state_dict: dict, *, options: StateDictOptions | None = None
) -> None:
    """Load a state from ``get_optimizer_state_dict`` (nested or flattened) into ``optimizers``:
    each optimizer group takes the saved group that holds its first parameter's name, and each
    parameter the state saved under its name; the optimizers' own ``load_state_dict`` checks and
    copies the rest."""
    fn = "set_optimizer_state_dict"
    optims = _optimizers(fn, optimizers)
    names = _names(model)
    if not {"state", "param_groups"} <= set(optim_state_dict):
        optim_state_dict = _unflatten(fn, optim_state_dict, optims, names)
    saved_state = optim_state_dict["state"]
    by_name = {name: g for g in optim_state_dict["param_groups"] for name in g["params"]}
    for optim in optims:
        groups, state, index = [], {}, 0
        for group in optim.param_groups:
            params = [_name_of(fn, names, p) for p in group["params"]]
            saved = by_name.get(params[0]) if params else None
            if saved is None:
                raise ValueError(f"{fn}: no saved param group holds {params[:1]}")
            groups.append(
                {
                    **{k: v for k, v in saved.items() if k != "params"},
                    "params": list(range(index, index + len(params))),
                }
            )
            for i, name in enumerate(params, start=index):
                if name in saved_state:
                    state[i] = {
                        k: v.full_tensor() if hasattr(v, "full_tensor") else v
                        for k, v in saved_state[name].items()
                    }
            index += len(params)
        optim.load_state_dict({"state": state, "param_groups": groups})


def get_state_dict(
    model: Any, optimizers: Any, *, submodules: Any = None, options: StateDictOptions | None = None
) -> tuple[dict, dict]:
    """``(get_model_state_dict(...), get_optimizer_state_dict(...))``."""
    return (
        get_model_state_dict(model, submodules=submodules, options=options),
        get_optimizer_state_dict(model, optimizers, submodules=submodules, options=options),
    )


def set_state_dict(
    model: Any,
    optimizers: Any,
    *,
    model_state_dict: dict,
    optim_state_dict: dict,
    options: StateDictOptions | None = None,
) -> Any:
    """Both halves: the model's state, then the optimizers'; returns the model's missing and
    unexpected keys."""
    keys = set_model_state_dict(model, model_state_dict, options=options)
    set_optimizer_state_dict(model, optimizers, optim_state_dict, options=options)
    return keys


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
                    p.grad = zeros_like(p)  # not p * 0: an inf or nan in p would make a nan gradient
    lrs = [g.get("lr") for g in groups]
    for g in groups:
        if "lr" in g:
            g["lr"] = 0.0
    optim.step()
    for g, lr in zip(groups, lrs):
        if lr is not None:
            g["lr"] = lr
    optim.zero_grad(set_to_none=True)
