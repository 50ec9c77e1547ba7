"""Parametrizations (``torch.nn.utils.parametrize``): a tensor of a module computed on access from
other tensors, ``module.weight = f(original)``, with ``f`` a small ``Module``.

``register_parametrization(module, "weight", f)`` moves the parameter (or buffer) ``weight`` to
``module.parametrizations.weight.original`` and swaps the module's class for a subclass made on the
spot, ``Parametrized<Class>``, that carries a ``weight`` property: reading it runs ``f(original)``
through autograd (so gradients reach ``original``), assigning to it runs ``f.right_inverse`` and
stores the result in ``original``. When ``right_inverse`` returns several tensors they are kept as
``original0``, ``original1`` ... and passed to ``f`` as separate arguments. Several
parametrizations on one tensor chain, the first registered applied first. State-dict keys are
PyTorch's (``parametrizations.weight.original``), so checkpoints move both ways.

>>> import glassgrad as gg
>>> import glassgrad.nn as nn
>>> class Symmetric(nn.Module):
...     def forward(self, X):
...         return X.triu() + X.triu(1).mT
>>> m = register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
>>> type(m).__name__, list(m.state_dict())
('ParametrizedLinear', ['bias', 'parametrizations.weight.original'])
>>> bool((m.weight == m.weight.mT).all())
True
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from glassgrad.autograd.grad_mode import enable_grad, no_grad
from glassgrad.errors import ShapeError
from glassgrad.nn.container import ModuleDict, ModuleList
from glassgrad.nn.module import Module, Parameter
from glassgrad.tensor import Tensor

__all__ = [
    "ParametrizationList",
    "register_parametrization",
    "remove_parametrizations",
    "is_parametrized",
    "cached",
    "type_before_parametrizations",
    "transfer_parametrizations_and_params",
]

# Depth of nested ``cached()`` blocks, and the tensors computed inside them by (id(module), name).
_cache_depth = 0
_cache: dict[tuple[int, str], Tensor] = {}


@contextmanager
def cached() -> Iterator[None]:
    """Inside this block each parametrized tensor is computed once, on first access, and reused
    (one graph shared by every use, e.g. the weight of an RNN cell applied at every step)."""
    global _cache_depth, _cache
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache = {}


def _register_parameter_or_buffer(module: Module, name: str, value: Tensor) -> None:
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _set_in_place(dest: Tensor, src: Tensor) -> None:
    """Make ``dest`` hold ``src``'s array (PyTorch's ``set_``): ``dest`` stays the same object, so
    an optimizer holding it keeps working; its shape and strides become ``src``'s."""
    if src is dest:
        return
    dest.data = src  # the array is shared now, which the setter records on both sides
    dest._version += 1  # a graph that saved the old value must not use it in backward


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, in order, and the unparametrized tensor(s) they act on.

    It lives at ``module.parametrizations.<name>``; ``original`` (or ``original0``,
    ``original1`` ... when ``right_inverse`` returns a sequence) holds what the first
    parametrization takes. Calling it gives the parametrized tensor.

    Args:
        modules: the parametrizations (at least one), applied first to last.
        original: the parameter or buffer being parametrized; a Parameter keeps its identity when
            ``right_inverse`` returns one tensor (its data is replaced), so optimizers stay valid.
        unsafe: skip the check that the parametrized tensor keeps the original's shape and dtype.
    """

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList: expected one or more modules, got none")
        super().__init__(modules)
        self.unsafe = unsafe
        shape, dtype = tuple(original.shape), original.dtype
        with no_grad():
            new: Any = original
            for module in reversed(list(self)):  # the inverse of a chain runs last to first
                if hasattr(module, "right_inverse"):
                    with suppress(NotImplementedError):  # no inverse: the tensor is taken as it is
                        new = module.right_inverse(new)
        if not isinstance(new, Tensor | Sequence):
            raise ValueError(  # (PyTorch's words, as below: its tests match them)
                "ParametrizationList: 'right_inverse' must return a Tensor or a Sequence of tensors, "
                f"got {type(new).__name__}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != dtype:
                raise ValueError(
                    "ParametrizationList: when `right_inverse` outputs one tensor, it may not change the "
                    f"dtype (the original's is {dtype}, got {new.dtype})"
                )
            before = original._data
            with no_grad():
                _set_in_place(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, part in enumerate(new):
                if not isinstance(part, Tensor):
                    raise ValueError(
                        "ParametrizationList: 'right_inverse' must return a sequence of tensors, got element "
                        f"{i} of the sequence with type {type(part).__name__}"
                    )
                if isinstance(original, Parameter):
                    part = Parameter(part, original.requires_grad)
                part.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", part)
        if not self.unsafe:
            try:
                with no_grad():
                    _check_kept("the parametrized tensor", self(), shape, dtype)
            except BaseException:  # a refused check, or a forward that raised
                if self.is_tensor:  # a failed registration leaves the module's tensor as it was
                    original.data = Tensor(before, _wrap=True)
                raise

    def right_inverse(self, value: Tensor) -> None:
        """Store in ``original`` (or ``original0`` ...) the tensor(s) that the chain maps to ``value``;
        this is what ``module.<name> = value`` runs."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(
                        f"parametrization {type(module).__name__} does not implement right_inverse, "
                        "so its tensor cannot be assigned to"
                    )
                value = module.right_inverse(value)
            if self.is_tensor:
                value = [value]
            elif not isinstance(value, Sequence) or len(value) != self.ntensors:
                got = f"{len(value)} items" if isinstance(value, Sequence) else type(value).__name__
                raise ValueError(f"right_inverse: expected a sequence of {self.ntensors} Tensors, got {got}")
            for i, part in enumerate(value):
                name = "original" if self.is_tensor else f"original{i}"
                target = getattr(self, name)
                if not isinstance(part, Tensor) or part.dtype != target.dtype:
                    got = f"dtype {part.dtype}" if isinstance(part, Tensor) else type(part).__name__
                    raise ValueError(
                        f"right_inverse: expected a Tensor of dtype {target.dtype} for {name}, got {got}"
                    )
                _set_in_place(target, part)

    def forward(self) -> Tensor:
        """The parametrized tensor: the first parametrization on the original(s), then the rest."""
        modules = iter(self._modules.values())  # runs on every access: no list of the chain
        first = next(modules)
        if self.is_tensor:
            x = first(self.original)
        else:
            x = first(*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in modules:
            x = module(x)
        return x


def _refuse_pickle(self: Module) -> Any:
    raise RuntimeError(
        f"{type(self).__name__}: a parametrized module can only be saved through state_dict(); "
        "save its state_dict and rebuild the module (register the same parametrizations) to load it"
    )


def _deepcopy(self: Module, memo: dict) -> Module:
    """``copy.deepcopy`` of a parametrized module. The copy gets its own copy of the generated
    class: the properties live on the class, so with one class shared, removing a parametrization
    from the copy (or adding one) would break the original. PyTorch shares the class."""
    if id(self) in memo:
        return memo[id(self)]
    cls = type(self)
    attrs = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
    replica = object.__new__(type(cls.__name__, cls.__bases__, attrs))
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    return replica


def _inject_new_class(module: Module) -> None:
    """Give ``module`` a class of its own, ``Parametrized<Class>``, to hold the properties (a
    property lives on a class, and other instances of ``Class`` must not see it)."""
    cls = type(module)
    attrs: dict[str, Any] = {"__getstate__": _refuse_pickle}
    if not hasattr(cls, "__deepcopy__"):  # pickling is refused, so deepcopy needs its own way
        attrs["__deepcopy__"] = _deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), attrs)


def _inject_property(module: Module, tensor_name: str) -> None:
    def get_parametrized(self: Module) -> Tensor:
        # from the module table: Module.__getattr__'s fallback would cost more on every access
        plist = self._modules["parametrizations"][tensor_name]
        try:
            if not _cache_depth:
                return plist()
            key = (id(self), tensor_name)
            if key not in _cache:
                _cache[key] = plist()
            return _cache[key]
        except AttributeError as e:
            # Python would hide it behind Module.__getattr__'s "no attribute 'weight'"
            raise RuntimeError(
                f"computing parametrized '{tensor_name}' of {type(self).__name__} failed: {e}"
            ) from e

    def set_original(self: Module, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(type(module), tensor_name, property(get_parametrized, set_original))


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has any parametrization (``tensor_name=None``) or one on ``tensor_name``."""
    plists = getattr(module, "parametrizations", None)
    if not isinstance(plists, ModuleDict):
        return False
    return len(plists) > 0 if tensor_name is None else tensor_name in plists


def register_parametrization(
    module: Module, tensor_name: str, parametrization: Module, *, unsafe: bool = False
) -> Module:
    """Make ``module.<tensor_name>`` be ``parametrization(original)``, computed on every access.

    The first registration on a tensor moves it to ``module.parametrizations.<tensor_name>`` and
    runs ``parametrization.right_inverse`` (if it has one) on it, so the parametrized tensor starts
    where the original was. Later ones append to the chain. Unless ``unsafe``, the result must keep
    the tensor's shape and dtype. The parametrization takes the module's training mode. Returns
    ``module``.
    """
    if not isinstance(parametrization, Module):
        raise TypeError(
            f"register_parametrization: expected an nn.Module as the parametrization, got "
            f"{type(parametrization).__name__}"
        )
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_appended(module, tensor_name, parametrization)
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(
                f"register_parametrization: expected a tensor at '{tensor_name}' of "
                f"{type(module).__name__}, got None"
            )
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        module.parametrizations[tensor_name] = plist
        _inject_property(module, tensor_name)
    else:
        raise ValueError(  # (then PyTorch's words, which its tests match, as in _check_kept)
            f"register_parametrization: expected a parameter, buffer or parametrized tensor named "
            f"'{tensor_name}' in {type(module).__name__}, got none (Module '{type(module).__name__}' does "
            f"not have a parameter, a buffer, or a parametrized element with name '{tensor_name}')"
        )
    return module


def _check_appended(module: Module, tensor_name: str, parametrization: Module) -> None:
    """A parametrization added to a chain must keep the tensor's shape and dtype, both ways."""
    with no_grad():
        y = getattr(module, tensor_name)
        shape = tuple(y.shape)
        x = parametrization(y)
        _check_kept(f"parametrization(module.{tensor_name})", x, shape, y.dtype)
        if hasattr(parametrization, "right_inverse"):
            with suppress(NotImplementedError):
                z = parametrization.right_inverse(x)
                _check_kept(f"parametrization.right_inverse(module.{tensor_name})", z, shape, y.dtype)


def _check_kept(what: str, x: Any, shape: tuple, dtype: Any) -> None:
    """Refuse (unless ``unsafe``) a change of shape or dtype; PyTorch's words follow glassgrad's."""
    inverse = ".right_inverse" in what
    if not isinstance(x, Tensor):
        who = "parametrization.right_inverse" if inverse else "a parametrization"
        raise ValueError(
            f"register_parametrization: expected {what} to be a Tensor, got {type(x).__name__} "
            f"({who} must return a tensor)"
        )
    for kind, got, want, error in (
        ("dtype", x.dtype, dtype, ValueError),
        ("shape", x.shape, shape, ShapeError),
    ):
        if tuple(got) != want if kind == "shape" else got != want:
            why = (
                f"its result must have the same {kind}"
                if inverse
                else f"Registering a parametrization may not change the {kind} of the tensor, unless "
                "`unsafe` flag is enabled"
            )
            raise error(
                f"register_parametrization: expected {what} to keep the {kind} {want} (pass unsafe=True "
                f"to allow a change), got {tuple(got) if kind == 'shape' else got} ({why})"
            )


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Undo every parametrization on ``module.<tensor_name>``; returns ``module``.

    With ``leave_parametrized`` the tensor keeps its current parametrized value (a parametrized
    Parameter stays the same object, with that value); otherwise it goes back to ``original``,
    which is impossible when ``right_inverse`` split it into several tensors. The module gets its
    own class back once nothing on it is parametrized.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(
            f"remove_parametrizations: expected a parametrization on '{tensor_name}' of "
            f"{type(module).__name__}, got none (Module {type(module).__name__} does not have a "
            f"parametrization on {tensor_name})"
        )
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        original = plist.original
        if leave_parametrized:
            with no_grad():
                _set_in_place(original, getattr(module, tensor_name))
    else:
        if not leave_parametrized:
            raise ValueError(
                "remove_parametrizations: cannot restore the unparametrized tensor "
                f"(leave_parametrized=False) of '{tensor_name}', which is held as {plist.ntensors} tensors"
            )
        # Grad mode on even inside no_grad(), so that requires_grad says whether the originals
        # were trained: otherwise a weight_norm'd weight would come back a buffer (PyTorch's does).
        with enable_grad():
            value = getattr(module, tensor_name)
        original = Parameter(value.detach(), value.requires_grad) if value.requires_grad else value.detach()
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The module's class as it was before any parametrization (``Linear``, not ``ParametrizedLinear``)."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def transfer_parametrizations_and_params(
    from_module: Module, to_module: Module, tensor_name: str | None = None
) -> Module:
    """Register on ``to_module`` the parametrizations of ``from_module`` (all, or those of
    ``tensor_name``) and tie its originals to ``from_module``'s (the same tensors); a tensor
    ``to_module`` lacks is created first as a Parameter. Returns ``to_module``."""
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        source = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            with no_grad():
                setattr(to_module, name, Parameter(getattr(from_module, name).detach().clone()))
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        if source.is_tensor:
            target.original = source.original
        else:
            for i in range(source.ntensors):
                setattr(target, f"original{i}", getattr(source, f"original{i}"))
    return to_module
