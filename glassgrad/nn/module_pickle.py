"""``Module.__getstate__``/``__setstate__``: how a module goes into and comes back from ``pickle`` and
``copy.deepcopy``. A mixin of ``Module`` (kept apart for size).

Without it, ``pickle`` and ``copy`` look the method up on the half-built instance, which reaches a
subclass's own ``__getattr__`` before ``__dict__`` is restored; a wrapper that forwards unknown names
(``getattr(self.base, name)``, as zuko's ``BayesianModel`` and EMA wrappers do) then recurses
without end. PyTorch's ``Module`` defines it, so such wrappers copy there.
"""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["Pickling"]

# the tables Module.__init__ makes, filled in when a pickled state lacks one (as PyTorch does)
_TABLES = {
    "_parameters": dict,
    "_buffers": dict,
    "_non_persistent_buffers_set": set,
    "_modules": dict,
    "_forward_pre_hooks": OrderedDict,
    "_forward_pre_hooks_with_kwargs": set,
    "_forward_hooks": OrderedDict,
    "_forward_hooks_with_kwargs": set,
    "_forward_hooks_always_called": set,
    "_backward_hooks": OrderedDict,
    "_backward_pre_hooks": OrderedDict,
    "_state_dict_pre_hooks": OrderedDict,
    "_state_dict_hooks": OrderedDict,
    "_load_state_dict_pre_hooks": OrderedDict,
    "_load_state_dict_post_hooks": OrderedDict,
}


class Pickling:
    """How ``Module`` goes into and comes back from ``pickle`` and ``copy.deepcopy``."""

    def __getstate__(self) -> dict:
        """A copy of the module's attributes, as PyTorch's ``Module.__getstate__``: a subclass's own
        ``__getstate__`` may drop an entry from it (spikingjelly's ``GCContainer`` pops a closure)
        and leave the module whole (``object.__getstate__`` hands out ``__dict__`` itself)."""
        return self.__dict__.copy()

    def __setstate__(self, state: dict) -> None:
        if not isinstance(state, dict):
            raise TypeError(
                f"{type(self).__name__}.__setstate__: expected a dict of attributes, got {type(state).__name__}"
            )
        d = self.__dict__
        d.update(state)
        for name, make in _TABLES.items():
            if name not in d:
                d[name] = make()
        if "training" not in d:
            d["training"] = True
