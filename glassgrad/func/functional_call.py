"""``functional_call``, ``stack_module_state`` and ``replace_all_batch_norm_modules_``: a module as
a function of its parameters (PyTorch's ``torch.func`` module helpers)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glassgrad.nn.module import Module
from glassgrad.nn.utils.stateless import _functional_call
from glassgrad.ops.joining import stack

__all__ = ["functional_call", "stack_module_state", "replace_all_batch_norm_modules_"]


def functional_call(
    module: Module,
    parameter_and_buffer_dicts: dict[str, Any] | Sequence[dict[str, Any]],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """``module(*args, **kwargs)`` computed with the given tensors in place of its own.

    Args:
        module: the module to call; its own parameters and buffers are back in place afterwards,
            also when forward raises.
        parameter_and_buffer_dicts: ``{name: tensor}`` with names as ``state_dict()`` /
            ``named_parameters()`` keys (``"0.weight"``, ``"bn.running_mean"``), or a tuple/list of
            such dicts (a name in two of them is a ``ValueError``). Names not given keep the
            module's own tensor (unless ``strict``).
        args: the positional arguments; anything but a tuple is one argument.
        kwargs: keyword arguments for forward.
        tie_weights: a tensor registered under several names (tied embeddings) takes the value
            given for any of them; different values for one tied tensor are a ``ValueError``.
        strict: missing or unexpected names are a ``RuntimeError`` (PyTorch's message).

    In-place updates forward makes (BatchNorm's running statistics in training mode) go to the
    given tensors, as in PyTorch; a tensor forward reassigns is written back into the dict.

    Shape:
        each given tensor as the module expects it (no batching: glassgrad has no vmap).

    >>> import glassgrad as gg
    >>> lin = gg.nn.Linear(2, 1)
    >>> w, b = gg.ones(1, 2), gg.zeros(1)
    >>> gg.func.functional_call(lin, {"weight": w, "bias": b}, gg.tensor([[1.0, 2.0]])).tolist()
    [[3.0]]
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        merged = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence) and not isinstance(parameter_and_buffer_dicts, str):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        seen: dict[str, int] = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                seen[k] = seen.get(k, 0) + 1
        repeated = [k for k, n in seen.items() if n > 1]
        if repeated:
            raise ValueError(
                f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous"
            )
        merged = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError(
            "functional_call: expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
            f"dicts, got {type(parameter_and_buffer_dicts).__name__}"
        )
    return _functional_call(module, merged, args, kwargs, tie_weights=tie_weights, strict=strict)


def _stacked_leaf(tensors: tuple, name: str) -> Any:
    flags = {bool(t.requires_grad) for t in tensors}
    if len(flags) > 1:
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    out = stack(tensors)  # k tensors of shape S -> (k, *S)
    # a fresh leaf (no graph back to the models), requiring grad when the originals do, as PyTorch
    return out.detach().requires_grad_() if flags == {True} else out.detach()


def stack_module_state(models: Sequence[Module]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parameters and buffers of ``models`` (same class, same train/eval mode), stacked.

    Returns:
        ``(params, buffers)``: dicts keyed as ``named_parameters()``/``named_buffers()``; each value
        is a new leaf of shape ``(len(models), *shape)``, detached from the models, and requiring
        grad when the models' tensors do. In PyTorch these feed ``vmap(functional_call)``; in
        glassgrad take ``{k: v[i]}`` per model instead (there is no vmap).

    >>> import glassgrad as gg
    >>> params, buffers = gg.func.stack_module_state([gg.nn.Linear(3, 2) for _ in range(4)])
    >>> tuple(params["weight"].shape), params["weight"].requires_grad, params["weight"].is_leaf
    ((4, 2, 3), True, True)
    """
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({bool(m.training) for m in models}) > 1:
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers


def replace_all_batch_norm_modules_(root: Module) -> Module:
    """Make every BatchNorm in ``root`` use batch statistics only (no running statistics), in place,
    as PyTorch does before vmapping over a model with BatchNorm. Returns ``root``."""
    from glassgrad.nn.normalization import _BatchNorm

    for m in root.modules():
        if isinstance(m, _BatchNorm):
            m.running_mean = None
            m.running_var = None
            m.num_batches_tracked = None
            m.track_running_stats = False
    return root
