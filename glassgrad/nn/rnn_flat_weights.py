"""``RNNBase._flat_weights``: the list of weight tensors a recurrent layer's forward runs with.

As PyTorch's, it is a plain list attribute, built from the parameters at construction (and after
``_apply``/unpickling), kept in step by ``self.weight_ih_l0 = ...``, and assignable: meta-learning
libraries (``higher``'s monkey-patched modules) swap ``_parameters`` entries for fast weights and
assign ``module._flat_weights = [...]`` before calling ``forward``. Each forward first checks
whether any weight attribute is no longer the tensor seen when the list was built (a swap through
``_parameters``, as ``torch.func.functional_call`` makes) and rebuilds the list then, as PyTorch's
``_update_flat_weights``; so forward runs with the current weights either way.
"""

from __future__ import annotations

from typing import Any, Callable

from glassgrad.nn.module import Module

__all__ = ["FlatWeights"]


class FlatWeights(Module):
    """The ``_flat_weights`` bookkeeping of ``RNNBase`` (a base class placed before ``Module``)."""

    def _init_flat_weights(self) -> None:
        d = self.__dict__
        weights = [getattr(self, n, None) for n in d["_flat_weights_names"]]
        d["_flat_weights"] = weights
        # The tensors seen now (strong references, so the module pickles and deep-copies as is).
        d["_flat_weights_seen"] = list(weights)

    def _weights_have_changed(self) -> bool:
        seen = self.__dict__.get("_flat_weights_seen")
        if seen is None:
            return True
        for name, was in zip(self._flat_weights_names, seen):
            now = getattr(self, name, None)
            if now is not None and was is not None and now is not was:
                return True
        return False

    def _update_flat_weights(self) -> None:
        if self._weights_have_changed():
            self._init_flat_weights()

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        names = d.get("_flat_weights_names")
        if names is not None and name in names and "_flat_weights" in d:
            d["_flat_weights"][names.index(name)] = value  # keep the list up to date
        super().__setattr__(name, value)

    def _assign(self, name: str, target: Any, value: Any, arr: Any) -> None:
        """``load_state_dict(assign=True)`` puts the given tensor in the list too (PyTorch's
        assignment goes through ``setattr``)."""
        super()._assign(name, target, value, arr)
        names = self.__dict__.get("_flat_weights_names")
        if names is not None and name in names and "_flat_weights" in self.__dict__:
            self._flat_weights[names.index(name)] = getattr(self, name)

    def _apply(self, fn: Callable, recurse: bool = True) -> Any:
        out = super()._apply(fn, recurse)
        self._init_flat_weights()
        return out

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "_flat_weights_names" in state and "_flat_weights" not in state:
            self._init_flat_weights()
