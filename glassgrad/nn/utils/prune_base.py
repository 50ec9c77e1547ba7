"""The machinery of pruning (``torch.nn.utils.prune``): a pruning method is a forward pre-hook that
recomputes ``module.<name> = <name>_mask * <name>_orig`` before every forward.

Pruning a parameter the first time moves it to ``<name>_orig`` (still the trained Parameter), adds
the 0/1 buffer ``<name>_mask`` and leaves ``<name>`` as a plain attribute holding the product, so
gradients reach ``<name>_orig`` through the multiplication and pruned entries get gradient 0.
State-dict keys are PyTorch's (``conv1.weight_orig``, ``conv1.weight_mask``).

Pruning the same parameter again (iterative pruning) wraps the methods in a
:class:`PruningContainer`: the new method only sees what is still unpruned, and its mask is
multiplied into the old one. Which part it sees depends on its ``PRUNING_TYPE``:

- ``"unstructured"``: the surviving entries, flattened to a vector;
- ``"structured"``: the channels along ``method.dim`` that still have a nonzero mask entry;
- ``"global"``: the whole tensor.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator
from typing import Any

from glassgrad.backend import array_module
from glassgrad.errors import ShapeError
from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor

__all__ = ["BasePruningMethod", "PruningContainer"]


def validate_amount_init(amount: Any) -> None:
    """An amount is a fraction in [0, 1] (a float) or a count >= 0 (an int)."""
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"prune: expected amount to be an int or a float, got {type(amount).__name__}")
    integral = isinstance(amount, numbers.Integral)
    if (integral and amount < 0) or (not integral and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(
            f"prune: expected amount to be a float in [0, 1] or a non-negative int, got {amount}"
        )


def nparams_to_prune(amount: float | int, size: int) -> int:
    """How many of ``size`` units ``amount`` names; a fraction rounds half to even, as Python's round."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(
                f"prune: expected amount to be at most the number of units to prune ({size}), got {amount}"
            )
        return int(amount)
    return round(float(amount) * size)


def as_tensor(arr: Any) -> Tensor:
    return Tensor(arr, _wrap=True)


class BasePruningMethod:
    """A way of choosing which entries of a tensor to zero; subclasses define ``compute_mask``.

    A subclass sets ``PRUNING_TYPE`` (``"unstructured"``, ``"structured"`` or ``"global"``, see the
    module docstring) and implements ``compute_mask(t, default_mask) -> mask``: ``t`` holds the
    importance scores (the parameter itself by default), ``default_mask`` the mask already in
    force (ones when the parameter is pruned the first time); the returned mask must not revive
    an entry that ``default_mask`` zeroes. ``apply(module, name, ...)`` prunes a module's parameter
    with it.
    """

    PRUNING_TYPE: str | None = None
    _tensor_name: str | None = None

    def __call__(self, module: Module, inputs: Any) -> None:
        # the forward pre-hook: refresh the pruned tensor from the (possibly updated) original
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for scores ``t``, combined with ``default_mask``; same shape as ``t``."""
        raise NotImplementedError(f"{type(self).__name__}: compute_mask is not implemented")

    def apply_mask(self, module: Module) -> Tensor:
        """``<name>_mask * <name>_orig`` (recorded, so the gradient reaches ``<name>_orig``)."""
        if self._tensor_name is None:
            raise RuntimeError(f"{type(self).__name__}: module {module} has to be pruned first")
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(
        cls, module: Module, name: str, *args: Any, importance_scores: Tensor | None = None, **kwargs: Any
    ):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``; returns the hook now in force
        (a :class:`PruningContainer` when the parameter was already pruned)."""
        orig = getattr(module, name)
        if not isinstance(orig, Tensor):
            raise TypeError(
                f"prune: expected {name!r} of {type(module).__name__} to be a Tensor, got {type(orig).__name__}"
            )
        if importance_scores is None:
            importance_scores = orig
        elif tuple(importance_scores.shape) != tuple(orig.shape):
            # checked before the hooks change, so that a refused call leaves the module as it was
            raise ShapeError(
                f"prune: expected importance_scores of the shape of {name!r} {tuple(orig.shape)}, "
                f"got {tuple(importance_scores.shape)}"
            )
        old_key, old_method = _pruning_hook(module, name)
        method = cls(*args, **kwargs)
        method._tensor_name = name
        if old_method is not None:
            del module._forward_pre_hooks[old_key]
            if isinstance(old_method, PruningContainer):
                old_method.add_pruning_method(method)
                method = old_method
            else:
                method = PruningContainer(old_method, method)
        first = old_method is None
        params_before = list(module._parameters.items())
        if first:
            # the trained Parameter moves to <name>_orig; <name> becomes the computed product
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = as_tensor(array_module(orig._data).ones_like(orig._data))
        else:
            default_mask = as_tensor(getattr(module, name + "_mask")._data.copy())
        try:
            mask = method.compute_mask(importance_scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:
                module._buffers.pop(name + "_mask", None)
                module.__dict__.pop(name, None)
                module._parameters.clear()
                module._parameters.update(params_before)  # in their old order
            else:
                method._pruning_methods = method._pruning_methods[:-1]
                _restore_hook(module, old_key, old_method)
            raise
        return method

    def prune(
        self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None
    ) -> Tensor:
        """``t`` times the mask computed from ``importance_scores`` (``t`` itself by default)."""
        scores = t if importance_scores is None else importance_scores
        if tuple(scores.shape) != tuple(t.shape):
            raise ShapeError(
                f"prune: expected importance_scores of the shape of t {tuple(t.shape)}, got {tuple(scores.shape)}"
            )
        if default_mask is None:
            default_mask = as_tensor(array_module(t._data).ones_like(t._data))
        return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``<name>`` becomes a Parameter again holding the pruned
        values; ``<name>_orig``, ``<name>_mask`` are deleted (the hook is the caller's to drop)."""
        name = self._tensor_name
        if name is None:
            raise RuntimeError(f"{type(self).__name__}: module {module} has to be pruned before removing it")
        weight = self.apply_mask(module)
        module.__dict__.pop(name, None)
        orig = module._parameters[name + "_orig"]
        orig.data = weight.data
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


def _pruning_hook(module: Module, name: str) -> tuple[Any, BasePruningMethod | None]:
    found = [
        (k, h)
        for k, h in module._forward_pre_hooks.items()
        if isinstance(h, BasePruningMethod) and h._tensor_name == name
    ]
    if len(found) > 1:
        raise RuntimeError(
            f"prune: found {len(found)} pruning hooks on {name!r} of {module}; combine them in one PruningContainer"
        )
    return found[0] if found else (None, None)


def _restore_hook(module: Module, key: Any, hook: BasePruningMethod | None) -> None:
    if hook is not None:
        module._forward_pre_hooks[key] = hook


class PruningContainer(BasePruningMethod):
    """The history of pruning methods applied, in order, to one tensor; acts as one method whose
    mask is the last method's mask, computed on what the earlier ones left (see the module
    docstring). Iterating it yields the methods.

    Args:
        *args: pruning methods (or one iterable of them), all for the same tensor name.
    """

    def __init__(self, *args: Any) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(args) == 1 and isinstance(args[0], Iterable):
            args = tuple(args[0])
        if args and isinstance(args[0], BasePruningMethod):
            self._tensor_name = args[0]._tensor_name
        for method in args:
            self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod | None) -> None:
        """Append ``method`` (for this container's tensor) to the history."""
        if method is None:
            return
        if not isinstance(method, BasePruningMethod):
            raise TypeError(f"PruningContainer: expected a pruning method, got {type(method).__name__}")
        if self._tensor_name != method._tensor_name:
            raise ValueError(
                f"PruningContainer: expected methods for {self._tensor_name!r}, got one for {method._tensor_name!r}"
            )
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Iterator[BasePruningMethod]:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> BasePruningMethod:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The last method's mask on the still-unpruned part of ``t``, written into ``default_mask``.

        Shape:
            t, default_mask and the result: the pruned tensor's shape.
        """
        if not self._pruning_methods:
            return default_mask
        method = self._pruning_methods[-1]
        mask, scores = default_mask._data, t.detach()._data
        kind = method.PRUNING_TYPE
        if kind == "unstructured":
            where: Any = mask == 1  # the surviving entries; the method sees them as one vector
        elif kind == "structured":
            if not hasattr(method, "dim"):
                raise AttributeError(f"{type(method).__name__}: a structured pruning method needs a 'dim'")
            dim = method.dim + scores.ndim if method.dim < 0 else method.dim
            if not 0 <= dim < scores.ndim:
                raise IndexError(
                    f"prune: expected dim in [{-scores.ndim}, {scores.ndim - 1}], got {method.dim}"
                )
            others = tuple(d for d in range(scores.ndim) if d != dim)
            keep = mask.sum(axis=others) != 0  # channels with an entry left, (size of dim,)
            where = tuple(keep if d == dim else slice(None) for d in range(scores.ndim))
        elif kind == "global":
            where = tuple(slice(None) for _ in range(scores.ndim))
        else:
            raise ValueError(f"PruningContainer: unknown PRUNING_TYPE {kind!r} of {type(method).__name__}")
        new_mask = mask.astype(scores.dtype, copy=True)
        partial = method.compute_mask(as_tensor(scores[where]), default_mask=as_tensor(mask[where]))
        new_mask[where] = partial._data.astype(new_mask.dtype, copy=False)
        return as_tensor(new_mask)
