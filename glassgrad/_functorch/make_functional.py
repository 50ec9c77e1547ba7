"""``make_functional`` and ``make_functional_with_buffers``: functorch's module-to-function API
(PyTorch's ``torch._functorch.make_functional``, exported by the ``functorch`` package; see
``glassgrad.functorch``).

``make_functional(model)`` deep-copies ``model``, takes the copy's parameters out (each place a
parameter was now holds a ``meta`` tensor of its shape) and returns ``(func, params)``:
``func(params, *args)`` runs the copy's forward with ``params`` put back in for the call, so that
gradients flow to the given tensors. A parameter registered under several names (tied weights)
is one entry of ``params`` and is put back under every name. ``model`` itself is untouched.

>>> import glassgrad as gg
>>> from glassgrad._functorch.make_functional import make_functional
>>> func, params = make_functional(gg.nn.Linear(2, 1))
>>> [tuple(p.shape) for p in params]
[(1, 2), (1,)]
>>> func((gg.ones(1, 2), gg.zeros(1)), gg.tensor([[1.0, 2.0]])).tolist()
[[3.0]]
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.factories_like import empty_like
from glassgrad.nn.module import Module
from glassgrad.nn.parameter import Parameter
from glassgrad.nn.utils.stateless import _swap
from glassgrad.tensor import Tensor

__all__ = [
    "combine_state_for_ensemble",
    "FunctionalModule",
    "FunctionalModuleWithBuffers",
    "make_functional",
    "make_functional_with_buffers",
]


def _extract(
    mod: Module, named: Callable[..., Iterable[tuple[str, Tensor]]], as_param: bool
) -> tuple[tuple[Tensor, ...], tuple[str, ...], dict[str, list[str]]]:
    """Take ``mod``'s tensors out (``meta`` stand-ins in their places): the unique tensors, their
    names, and each unique name's list of every name the tensor is registered under."""
    names_map: dict[int, tuple[str, list[str]]] = {}
    unique = tuple(named(remove_duplicate=True))
    for name, t in unique:
        names_map[id(t)] = (name, [])
    stand_ins: dict[int, Tensor] = {}
    for name, t in tuple(named(remove_duplicate=False)):
        names_map[id(t)][1].append(name)
        if id(t) not in stand_ins:
            meta = empty_like(t, device="meta")
            stand_ins[id(t)] = Parameter(meta, requires_grad=t.requires_grad) if as_param else meta
        _swap(mod, name, stand_ins[id(t)])
    names = tuple(n for n, _ in unique)
    tensors = tuple(t for _, t in unique)
    return tensors, names, dict(names_map.values())


def _swap_state(mod: Module, names_map: dict[str, list[str]], elems: Iterable[Any]) -> list[Any]:
    """Put ``elems`` (in ``names_map``'s order) in place under all their names; return the old ones."""
    elems = tuple(elems)
    if len(elems) != len(names_map):
        raise ValueError(
            f"make_functional: the function takes {len(names_map)} tensors "
            f"({', '.join(names_map)}), got {len(elems)}"
        )
    old = []
    for (_, names), elem in zip(names_map.items(), elems):
        for i, name in enumerate(names):
            prev = _swap(mod, name, elem)
            if i == 0:
                old.append(prev)
    return old


class FunctionalModule(Module):
    """What ``make_functional`` returns: ``func(params, *args, **kwargs)``."""

    def __init__(
        self, stateless_model: Module, param_names: tuple[str, ...], names_map: dict[str, list[str]]
    ) -> None:
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = param_names
        self.names_map = names_map

    @staticmethod
    def _create_from(
        model: Module, disable_autograd_tracking: bool = False
    ) -> tuple[FunctionalModule, tuple[Tensor, ...]]:
        model_copy = copy.deepcopy(model)
        params, names, names_map = _extract(model_copy, model_copy.named_parameters, True)
        if disable_autograd_tracking:
            for p in params:
                p.requires_grad_(False)
        return FunctionalModule(model_copy, names, names_map), params

    def forward(self, params: Iterable[Tensor], *args: Any, **kwargs: Any) -> Any:
        old = _swap_state(self.stateless_model, self.names_map, params)
        try:
            return self.stateless_model(*args, **kwargs)
        finally:
            _swap_state(self.stateless_model, self.names_map, old)


class FunctionalModuleWithBuffers(Module):
    """What ``make_functional_with_buffers`` returns: ``func(params, buffers, *args, **kwargs)``."""

    def __init__(
        self,
        stateless_model: Module,
        param_names: tuple[str, ...],
        buffer_names: tuple[str, ...],
        param_names_map: dict[str, list[str]],
        buffer_names_map: dict[str, list[str]],
    ) -> None:
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = param_names
        self.buffer_names = buffer_names
        self.all_names_map = dict(param_names_map)
        self.all_names_map.update(buffer_names_map)

    @staticmethod
    def _create_from(
        model: Module, disable_autograd_tracking: bool = False
    ) -> tuple[FunctionalModuleWithBuffers, tuple[Tensor, ...], tuple[Tensor, ...]]:
        model_copy = copy.deepcopy(model)
        params, pnames, pmap = _extract(model_copy, model_copy.named_parameters, True)
        buffers, bnames, bmap = _extract(model_copy, model_copy.named_buffers, False)
        if disable_autograd_tracking:
            for p in params:
                p.requires_grad_(False)
        return FunctionalModuleWithBuffers(model_copy, pnames, bnames, pmap, bmap), params, buffers

    def forward(self, params: Iterable[Tensor], buffers: Iterable[Tensor], *args: Any, **kwargs: Any) -> Any:
        old = _swap_state(self.stateless_model, self.all_names_map, tuple(params) + tuple(buffers))
        try:
            return self.stateless_model(*args, **kwargs)
        finally:
            _swap_state(self.stateless_model, self.all_names_map, old)


def _check_module(op: str, model: Any) -> None:
    if not isinstance(model, Module):
        raise TypeError(f"{op}: expected a glassgrad.nn.Module, got {type(model).__name__}")


def make_functional(
    model: Module, disable_autograd_tracking: bool = False
) -> tuple[FunctionalModule, tuple[Tensor, ...]]:
    """``(func, params)``: ``func(params, *args)`` is ``model(*args)`` with ``params`` as its
    parameters (see the module docstring). A model with buffers needs
    ``make_functional_with_buffers`` (``RuntimeError``, as PyTorch). ``disable_autograd_tracking``
    returns the parameters with ``requires_grad=False``."""
    _check_module("make_functional", model)
    if len(list(model.buffers())) > 0:
        raise RuntimeError(
            "make_functional(model): `model` has buffers. Please use "
            "make_functional_with_buffers(model) instead."
        )
    return FunctionalModule._create_from(model, disable_autograd_tracking=disable_autograd_tracking)


def make_functional_with_buffers(
    model: Module, disable_autograd_tracking: bool = False
) -> tuple[FunctionalModuleWithBuffers, tuple[Tensor, ...], tuple[Tensor, ...]]:
    """``(func, params, buffers)``: ``func(params, buffers, *args)`` is ``model(*args)`` with
    ``params`` and ``buffers`` as its parameters and buffers (see the module docstring)."""
    _check_module("make_functional_with_buffers", model)
    return FunctionalModuleWithBuffers._create_from(
        model, disable_autograd_tracking=disable_autograd_tracking
    )


def combine_state_for_ensemble(
    models: list[Module],
) -> tuple[FunctionalModuleWithBuffers, tuple[Tensor, ...], tuple[Tensor, ...]]:
    """``(func, params, buffers)`` for an ensemble of models of one class: ``func`` is the first
    model's ``make_functional_with_buffers`` function, and each of ``params``/``buffers`` stacks
    the models' tensors of one name along a new first dimension (detached), for ``vmap``."""
    from glassgrad.ops.joining import stack

    models = list(models)
    if len(models) == 0:
        raise RuntimeError("combine_state_for_ensemble: Expected at least one model, got 0.")
    for m in models:
        _check_module("combine_state_for_ensemble", m)
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError(
            "combine_state_for_ensemble: Expected all models to have the same training/eval mode."
        )
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError("combine_state_for_ensemble: Expected all models to be of the same class.")
    funcs, params, buffers = zip(*[make_functional_with_buffers(m) for m in models])
    return (
        funcs[0],
        tuple(stack(shards).detach() for shards in zip(*params)),
        tuple(stack(shards).detach() for shards in zip(*buffers)),
    )
