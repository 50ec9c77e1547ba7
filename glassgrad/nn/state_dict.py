"""``state_dict`` / ``load_state_dict``: a module's parameters and buffers by PyTorch's dotted keys.

Also the state-dict hooks (``register_state_dict_pre_hook``, ``register_state_dict_post_hook``,
``register_load_state_dict_pre_hook``, ``register_load_state_dict_post_hook`` and the private
spellings programs use), called for every submodule in PyTorch's order, and the ``_metadata``
(module prefix -> ``{"version": module._version}``) that ``state_dict`` attaches and
``load_state_dict`` hands to each ``_load_from_state_dict`` so that overrides can migrate old
checkpoints. The hook tables are kept out of ``Module.__call__``'s truth tests.
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from glassgrad import __future__ as _future
from glassgrad.meta import load_into, warn_meta_noop
from glassgrad.meta_array import seen as _meta_seen
from glassgrad.nn.hooks import RemovableHandle
from glassgrad.nn.parameter import _UNINIT_SHAPE, Parameter, is_lazy
from glassgrad.nn.state_dict_hooks import _LoadPreHook, _PublicPostHook
from glassgrad.nn.state_dict_swap import swap_in
from glassgrad.size import Size
from glassgrad.tensor import Tensor
from glassgrad.utils.swap import batched_swaps

__all__ = ["StateDict"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the keys it did not use."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _state_array(value: Any) -> np.ndarray | None:
    """A state-dict value as an ndarray: glassgrad Tensors, arrays, torch tensors, array-likes."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, np.ndarray | np.generic):
        return np.asarray(value)
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor, maybe requiring grad
        return value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return None
    return arr if arr.dtype.kind in "fiub" else None


_EXTRA = "_extra_state"


def _quoted(keys: list[str]) -> str:
    """``"a", "b"``: PyTorch's listing of keys in a load error."""
    return ", ".join(f'"{k}"' for k in keys)


def _overrides(module: Any, method: str) -> bool:
    """Whether ``module``'s class overrides ``StateDict.method`` (extra state is opt-in)."""
    return getattr(type(module), method) is not getattr(StateDict, method)


class StateDict:
    """The state half of ``Module``: saving and loading parameters and persistent buffers."""

    def state_dict(
        self, *args: Any, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (PyTorch's keys), sharing their data.

        Values are detached Tensors over the same arrays (the Parameters themselves with
        ``keep_vars=True``). Tied parameters appear under every name, as in PyTorch. The returned
        dict carries ``_metadata``: module prefix (``"0"``, ``""`` for the root) to
        ``{"version": module._version}``. Pre-hooks run before a module saves its own entries,
        post-hooks after its descendants'. The old positional form ``state_dict(destination,
        prefix, keep_vars)`` still works, with PyTorch's FutureWarning.
        """
        if args:
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead. Refer to "
                "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict"
                " for details.",
                FutureWarning,
                stacklevel=2,
            )
            if len(args) > 3:
                raise TypeError(f"state_dict: expected at most 3 positional arguments, got {len(args)}")
            # as PyTorch: a positional value fills a keyword left at its default
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:  # a caller's plain dict as destination gets no metadata, as in PyTorch
            metadata[prefix[:-1]] = local_metadata
        # Truth tests before the hook loops: most modules have no hooks, and a loop over an empty
        # table costs about 0.1 us per module (the _metadata entry above costs about 0.25 us).
        if self._state_dict_pre_hooks:
            for hook in self._state_dict_pre_hooks.values():
                hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                # a child's replacement dict is dropped: only the root's hooks may replace it (PyTorch)
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        if self._state_dict_hooks:
            destination = self._run_state_dict_hooks(destination, prefix, local_metadata)
        return destination

    def _run_state_dict_hooks(self, destination: dict, prefix: str, local_metadata: dict) -> dict:
        """The post-hooks; a private (``_register_state_dict_hook``) one may return a new dict."""
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if getattr(hook, "_from_public_api", False):
                if result is not None:
                    raise RuntimeError(
                        "state_dict: expected a state_dict post-hook to return None (change the dict "
                        f"in place), got {type(result).__name__}"
                    )
            elif result is not None:
                destination = result
        return destination

    # ------------------------------------------------------------------ hooks
    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this module."""
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, state_dict, prefix, local_metadata)`` once this module and its
        descendants are saved; it changes ``state_dict`` in place and must return None."""
        try:  # PyTorch marks the function itself, so _register_state_dict_hook can refuse it later
            hook._from_public_api = True
        except (AttributeError, TypeError):
            hook = _PublicPostHook(hook)
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """The older post-hook: like ``register_state_dict_post_hook``, but a dict it returns
        replaces the state_dict when this module is the one ``state_dict`` was called on."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError(
                "_register_state_dict_hook: expected a hook not registered with "
                "register_state_dict_post_hook, got one that was"
            )
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads its entries; it may rename or
        change the keys of ``state_dict`` (this module's share of the input, a copy)."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(
        self, hook: Callable, with_module: bool = False
    ) -> RemovableHandle:
        """As ``register_load_state_dict_pre_hook``; without ``with_module`` the hook is not
        given the module."""
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = _LoadPreHook(hook, self if with_module else None)
        return handle

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Run ``hook(module, incompatible_keys)`` after this module and its descendants are
        loaded; clearing ``incompatible_keys.missing_keys``/``unexpected_keys`` in place lets a
        strict load pass. It must return None."""
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # the truth tests skip the loops of the many modules without parameters or buffers
        if self._parameters:
            for name, p in self._parameters.items():
                if p is not None:
                    destination[prefix + name] = p if keep_vars else p.detach()
        if self._buffers:
            for name, b in self._buffers.items():
                if b is not None and name not in self._non_persistent_buffers_set:
                    destination[prefix + name] = b if keep_vars else b.detach()
        if _overrides(self, "get_extra_state"):
            destination[prefix + _EXTRA] = self.get_extra_state()

    def get_extra_state(self) -> Any:
        """State beyond parameters and buffers (a vocabulary, a config), saved under
        ``"_extra_state"`` when a subclass overrides this and ``set_extra_state``, as in PyTorch."""
        raise RuntimeError(
            "get_extra_state: reached the base Module's; override it (and set_extra_state) to save extra state"
        )

    def set_extra_state(self, state: Any) -> None:
        """Restore what ``get_extra_state`` returned (called by ``load_state_dict``)."""
        raise RuntimeError(
            "set_extra_state: reached the base Module's; override it to load the extra state in a state_dict"
        )

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
        """Copy parameters and buffers from ``state_dict`` into this module and its descendants.

        Values may be glassgrad Tensors, NumPy arrays or anything array-like (torch tensors too);
        they are copied into the existing arrays, keeping each array's dtype (``assign=True``
        makes the module take the given tensors instead). A module that overrides
        ``get_extra_state``/``set_extra_state`` saves and loads ``"_extra_state"`` too. With ``strict`` (default) missing or unexpected keys are an
        error; a shape mismatch is always an error. All problems are reported in one message.

        Returns:
            a named tuple ``(missing_keys, unexpected_keys)``.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)  # a copy: pre-hooks and overrides may change it
        if metadata is not None:
            state_dict._metadata = metadata
        missing: list[str] = []
        unexpected: list[str] = []
        errors: list[str] = []

        call = (metadata, assign, missing, unexpected, errors)
        if _future._swap_module_params_on_conversion:
            with batched_swaps():  # one walk of the GC's objects for all swapped leaves, not one each
                _load_tree(self, state_dict, "", call)
        else:
            _load_tree(self, state_dict, "", call)
        problems = []
        # PyTorch's text, word for word: programs branch on it (stable-baselines3 retries a
        # pre-1.7 checkpoint when "Missing key(s) in state_dict" names pi_features_extractor) and
        # an override of _load_from_state_dict appends its own lines to ``errors``
        if strict and missing:
            problems.append(f"Missing key(s) in state_dict: {_quoted(missing)}. ")
        if strict and unexpected:
            problems.append(f"Unexpected key(s) in state_dict: {_quoted(unexpected)}. ")
        if problems or errors:
            lines = "\n\t".join(problems + errors)
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t{lines}")
        return _IncompatibleKeys(missing, unexpected)

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        """Load this module's own entries (PyTorch's signature, so subclasses can override it).

        Runs the load pre-hooks first, so an override that calls ``super()`` keeps them.
        ``local_metadata`` is this module's entry of the input's ``_metadata`` (``{"version": n}``,
        empty without one): compare the version with ``self._version`` to migrate old keys.
        """
        if self._load_state_dict_pre_hooks:
            for hook in self._load_state_dict_pre_hooks.values():
                hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        local = {k: v for k, v in self._parameters.items() if v is not None}
        for k, v in self._buffers.items():
            if v is not None and k not in self._non_persistent_buffers_set:
                local[k] = v
        swap, assign = (
            _future._swap_module_params_on_conversion,
            local_metadata.get("assign_to_params_buffers", False),
        )
        for name, target in local.items():
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            if is_lazy(target):  # a lazy layer's placeholder loads another placeholder: nothing to copy
                continue
            value = state_dict[key]
            if is_lazy(value):  # PyTorch's loader reads its shape, which raises (not a collected error)
                raise RuntimeError(_UNINIT_SHAPE)
            arr = _state_array(value)
            if arr is not None and target.ndim == 0 and arr.shape == (1,):  # PyTorch 0.3's 1-dim scalars,
                arr = arr.reshape(())  # as PyTorch's loader still takes them (gpytorch's ConstantMean)
                value = value[0] if isinstance(value, Tensor) else arr
            if arr is None:
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                    f"object from checkpoint but received {type(state_dict[key])}"
                )
            elif arr.shape != target.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {Size(arr.shape)!r} from "
                    f"checkpoint, the shape in current model is {Size(target.shape)!r}."
                )
            elif swap or assign:
                if swap and _meta_seen[0] and not assign:
                    warn_meta_noop(target, arr, key)
                try:  # an error (an integer tensor assigned to a parameter) is reported with the others
                    if swap:
                        swap_in(target, value, arr, assign)
                    else:
                        self._assign(name, target, value, arr)
                except Exception as e:  # as by PyTorch's loader
                    error_msgs.append(
                        f'While {"swapping" if swap else "copying"} the parameter named "{key}", whose '
                        f"dimensions in the model are {Size(target.shape)!r} and whose dimensions in the "
                        f"checkpoint are {Size(arr.shape)!r}, an exception occurred : {e.args}."
                    )
            elif type(target._data) is np.ndarray and not target._data.flags.writeable:
                # a read-only view (expand, broadcast_to, meshgrid: escnn's index buffers), which
                # PyTorch's copy_ refuses too (NumPy's "assignment destination is read-only" before)
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are '
                    f"{target.shape} and whose dimensions in the checkpoint are {tuple(arr.shape)}, an "
                    "exception occurred: it is a read-only view (from expand/broadcast_to, whose elements "
                    "share memory, or from_numpy of a read-only NumPy array); clone() it first"
                )
            elif not (_meta_seen[0] and load_into(target, arr, key, error_msgs)):
                target._data[...] = arr
                target._version += 1
        extra = _overrides(self, "set_extra_state")
        if extra:
            if prefix + _EXTRA in state_dict:
                self.set_extra_state(state_dict[prefix + _EXTRA])
            else:
                missing_keys.append(prefix + _EXTRA)
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    head, dot, _ = key[len(prefix) :].partition(".")
                    known = head in local or (extra and head == _EXTRA)
                    if (dot and head not in self._modules) or (not dot and not known):
                        unexpected_keys.append(key)

    def _assign(self, name: str, target: Tensor, value: Any, arr: np.ndarray) -> None:
        """``load_state_dict(assign=True)``: the module takes the given tensor itself (a Parameter as
        it is, another glassgrad Tensor wrapped sharing its memory, other values as new arrays), so
        a tie between two names is undone, as in PyTorch. Stored through ``setattr``, as PyTorch's
        loader does: an attribute of that name set with ``object.__setattr__`` (zennit's batch-norm
        merge shadows ``weight`` so) is dropped, a subclass's ``__setattr__`` and the registration
        hooks see it."""
        new = value if isinstance(value, Tensor) else np.array(arr, copy=True)
        if name not in self._parameters:
            new = new if isinstance(new, Tensor) else Tensor(new, _wrap=True)
        elif isinstance(new, Parameter):
            new = new.requires_grad_(target.requires_grad)
        else:
            new = Parameter(new, requires_grad=target.requires_grad)
        setattr(self, name, new)


def _load_tree(module: StateDict, local: dict, prefix: str, call: tuple) -> None:
    """``load_state_dict``'s walk: ``module``'s entries of ``local``, then its children's, then its
    post-hooks. ``call``: ``(metadata, assign, missing, unexpected, errors)`` of the whole load. (A
    module function, not a closure calling itself: that is a reference cycle, the call's state
    kept for the cyclic GC.)"""
    metadata, assign, missing, unexpected, errors = call
    meta = {} if metadata is None else metadata.get(prefix[:-1], {})
    if assign:  # on a copy: PyTorch writes the flag into the caller's metadata
        meta = {**meta, "assign_to_params_buffers": True}
    module._load_from_state_dict(local, prefix, meta, True, missing, unexpected, errors)
    for name, child in module._modules.items():
        if child is not None:
            child_prefix = prefix + name + "."
            _load_tree(
                child, {k: v for k, v in local.items() if k.startswith(child_prefix)}, child_prefix, call
            )
    if not module._load_state_dict_post_hooks:
        return
    # the hooks share the lists, so what they remove no longer fails a strict load
    incompatible = _IncompatibleKeys(missing, unexpected)
    for hook in module._load_state_dict_post_hooks.values():
        result = hook(module, incompatible)
        if result is not None:  # PyTorch's error type, so callers' except clauses still match
            raise AssertionError(
                "load_state_dict: expected a load_state_dict post-hook to return None (change "
                f"incompatible_keys in place), got {type(result).__name__}"
            )
