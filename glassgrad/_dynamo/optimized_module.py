"""``torch._dynamo.OptimizedModule``: what ``torch.compile(module)`` returns, as PyTorch's.

Nothing compiles here, but the wrapper is PyTorch's, so that a program sees the same object: the
module is its submodule ``_orig_mod`` (``state_dict`` keys start with ``_orig_mod.``, as in a
checkpoint of a compiled PyTorch model; airbench's ``model._orig_mod[0]``), a call runs the module
unchanged, and any other attribute is read, set or deleted on the module itself, ``training``
included. ``isinstance(m, OptimizedModule)`` is then True exactly where PyTorch's is (diffusers'
``is_compiled_module`` unwraps it).

>>> import glassgrad as gg
>>> lin = gg.nn.Linear(2, 3)
>>> net = gg.compile(lin)
>>> net._orig_mod is lin, net.out_features, list(net.state_dict())
(True, 3, ['_orig_mod.weight', '_orig_mod.bias'])
"""

from __future__ import annotations

import functools
from typing import Any

from glassgrad.nn.modules.module import Module

__all__ = ["OptimizeContext", "OptimizedModule"]


class _TorchDynamoContext:
    """PyTorch's base of the compile contexts; here a call wraps nothing."""

    def __init__(self, **compile_kwargs: Any) -> None:
        self.compile_kwargs = compile_kwargs  # torch.compile's keywords (backend, mode ...)

    def __call__(self, fn: Any) -> Any:
        """``fn`` "compiled": a module in an :class:`OptimizedModule` with this context, a
        function in a wrapper that calls it (``_torchdynamo_orig_callable`` is ``fn``, as in
        PyTorch; Lightning's ``from_compiled`` wraps a module's steps so)."""
        if isinstance(fn, Module):
            return OptimizedModule(fn, self)
        if not callable(fn):
            raise TypeError(
                f"torch._dynamo.optimize: expected a callable or an nn.Module, got {type(fn).__name__}"
            )

        @functools.wraps(fn)
        def compiled(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        compiled._torchdynamo_orig_callable = fn  # type: ignore[attr-defined]
        return compiled

    def __enter__(self) -> _TorchDynamoContext:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class OptimizeContext(_TorchDynamoContext):
    """``model.dynamo_ctx`` of ``torch.compile(model)``: calling it on a function "compiles" it
    the same way (runs it unchanged)."""


class OptimizedModule(Module):
    """The wrapper ``torch.compile(module)`` returns: ``_orig_mod`` is the module; attributes other
    than the wrapper's own pass through to it."""

    _opt_mod_attributes = frozenset(
        {"_orig_mod", "dynamo_ctx", "forward", "_forward", "__dict__", "_super_module_initialized"}
    )

    def __init__(self, mod: Module, dynamo_ctx: Any = None) -> None:
        if not isinstance(mod, Module):
            raise TypeError(f"OptimizedModule: expected an nn.Module to wrap, got {type(mod).__name__}")
        # first, as PyTorch: Module.__init__ sets `training`, which this class reads from the module
        object.__setattr__(self, "_orig_mod", mod)
        object.__setattr__(self, "_super_module_initialized", False)
        super().__init__()
        object.__setattr__(self, "_super_module_initialized", True)
        self._orig_mod = mod  # registered: its parameters and buffers are this module's too
        self.dynamo_ctx = dynamo_ctx

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._orig_mod(*args, **kwargs)

    @property
    def training(self) -> bool:  # type: ignore[override]
        return self._orig_mod.training

    @training.setter
    def training(self, value: bool) -> None:
        if self._super_module_initialized:  # (Module.__init__'s default is the module's own)
            self._orig_mod.training = value

    def __len__(self) -> int:
        return len(self._orig_mod)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__  # (the module is in _modules once registered, in __dict__ before)
        orig = d["_modules"].get("_orig_mod") if "_modules" in d else d.get("_orig_mod")
        if orig is None:  # while unpickling, before the attributes are back
            raise AttributeError(f"'OptimizedModule' object has no attribute '{name}'")
        return orig if name == "_orig_mod" else getattr(orig, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(type(self), name) or name in self._opt_mod_attributes:
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if hasattr(type(self), name) or name in self._opt_mod_attributes:
            super().__delattr__(name)
        else:
            delattr(self._orig_mod, name)

    def __reduce__(self) -> tuple:
        return (type(self), (self._orig_mod, self.dynamo_ctx))

    def __dir__(self) -> list[str]:
        own = self._orig_mod.__dir__()
        return own + [name for name in super().__dir__() if name not in own]
