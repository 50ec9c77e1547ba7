"""Calling a module with other tensors in place of its parameters and buffers (PyTorch's
``torch.nn.utils.stateless``).

``functional_call(module, {"weight": w, ...}, args)`` puts each given tensor where the module keeps
the one of that name (``_parameters``/``_buffers`` of the owning submodule, else a plain attribute),
runs ``module(*args, **kwargs)``, then puts the module's own tensors back, also when forward raises.
Gradients flow to the given tensors, since forward reads them as it would read the parameters.

This path is deprecated in PyTorch 2.0 in favour of ``torch.func.functional_call``
(``glassgrad.func.functional_call``); calling it warns with ``FutureWarning`` as PyTorch does.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

from glassgrad.nn.module import Module
from glassgrad.tensor import Tensor
from glassgrad.user_frames import user_stacklevel

__all__ = ["functional_call"]

_MISSING = object()  # the module had no attribute of that name: remove it again afterwards


def swap_in_stores(module: Module, name: str, value: Any) -> tuple[bool, Any]:
    """``(True, what was there)`` after putting ``value`` in ``module``'s parameter or buffer
    ``name`` (``_MISSING`` removes it); ``(False, None)`` when neither store holds ``name``."""
    for store in (module._parameters, module._buffers):
        if name in store:
            old = store[name]
            if value is _MISSING:
                del store[name]
            else:
                store[name] = value
            return True, old
    return False, None


def _tie_map(module: Module, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` with every name tied to a given name (the same tensor registered twice) filled in.

    Two different values for names of one tied tensor are ambiguous: ``ValueError`` as PyTorch.
    """
    names_of: dict[int, list[str]] = {}  # id(tensor) -> every name it is registered under
    for name, t in [
        *module.named_parameters(remove_duplicate=False),
        *module.named_buffers(remove_duplicate=False),
    ]:
        names_of.setdefault(id(t), []).append(name)
    tied = {n: group for group in names_of.values() if len(group) > 1 for n in group}
    out = dict(given)
    for name in given:
        group = tied.get(name)
        if group is None:
            continue
        values = {id(given[n]) for n in group if n in given}
        if len(values) > 1:
            raise ValueError(
                f"functional_call got multiple values for keys {sorted(group)}, which are tied. "
                "Consider using tie_weights=False"
            )
        for n in group:
            out[n] = given[name]
    return out


def _check_keys(module: Module, names: Any) -> None:
    valid = {n for n, _ in module.named_parameters(remove_duplicate=False)}
    valid |= {n for n, _ in module.named_buffers(remove_duplicate=False)}
    names = set(names)
    msgs = []
    if names - valid:
        msgs.append(f"Unexpected key(s): {', '.join(map(repr, sorted(names - valid)))}.")
    if valid - names:
        msgs.append(f"Missing key(s): {', '.join(map(repr, sorted(valid - names)))}.")
    if msgs:
        raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:\n\t" + "\n\t".join(msgs))


def _swap(root: Module, path: str, value: Any) -> Any:
    """Put ``value`` at dotted ``path`` (``_MISSING`` removes it); return what was there."""
    if value is not _MISSING and value is not None and not isinstance(value, Tensor):
        raise TypeError(f"functional_call: expected a Tensor for {path!r}, got {type(value).__name__}")
    prefix, _, name = path.rpartition(".")
    if not name:
        raise KeyError(f"functional_call: expected a non-empty tensor name, got {path!r}")
    mod = root.get_submodule(prefix)
    # write the stores directly (as PyTorch): a plain Tensor may stand where a Parameter was
    stored, old = swap_in_stores(mod, name, value)
    if stored:
        return old
    old = getattr(mod, name, _MISSING)
    if old is not _MISSING and old is not None and not isinstance(old, Tensor):
        raise TypeError(f"functional_call: attribute {path!r} is a {type(old).__name__}, not a Tensor")
    if value is not _MISSING:
        setattr(mod, name, value)
    elif old is not _MISSING:
        delattr(mod, name)
    return old


@contextlib.contextmanager
def _reparametrize_module(
    module: Module, tensors: dict[str, Any], tie_weights: bool = False, strict: bool = False
) -> Iterator[None]:
    """Within the block, ``module`` reads ``tensors`` instead of its own; afterwards its own are
    back and ``tensors`` holds whatever forward left under each given name (a reassigned buffer)."""
    swapped = _tie_map(module, tensors) if tie_weights else tensors
    if strict:
        _check_keys(module, swapped)
    originals: dict[str, Any] = {}
    try:
        for name, value in swapped.items():
            originals[name] = _swap(module, name, value)
        yield
    finally:
        current = {}
        for name, old in reversed(originals.items()):  # reversed: tied names end on the original
            current[name] = _swap(module, name, old)
        tensors.update({k: current[k] for k in tensors if k in current})


def _functional_call(
    module: Module,
    parameters_and_buffers: dict[str, Any],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected a glassgrad.nn.Module, got {type(module).__name__}")
    kwargs = {} if kwargs is None else kwargs
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _reparametrize_module(module, parameters_and_buffers, tie_weights=tie_weights, strict=strict):
        return module(*args, **kwargs)


def functional_call(
    module: Module,
    parameters_and_buffers: dict[str, Any],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """``module(*args, **kwargs)`` with ``parameters_and_buffers`` (names as ``state_dict`` keys) in
    place of the module's own tensors. Deprecated as in PyTorch: use
    ``glassgrad.func.functional_call``, which takes the same arguments (and a tuple of dicts).

    ``args`` that is not a tuple is one positional argument. ``tie_weights=True`` gives a value to
    every name tied to a given one; ``strict=True`` makes missing or unexpected names a
    ``RuntimeError``. In-place changes forward makes (BatchNorm's running statistics) land in the
    given tensors; the module's own are untouched.
    """
    warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be "
        "removed in a future version of PyTorch. Please use `torch.func.functional_call` instead "
        "which is a drop-in replacement.",
        FutureWarning,
        stacklevel=user_stacklevel(),
    )
    return _functional_call(
        module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict
    )
