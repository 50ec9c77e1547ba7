"""``Module``: the base of every layer, with PyTorch's registration rules.

Its hook machinery lives in ``hooks.py`` (forward) and ``backward_hooks.py``, its state-dict machinery in ``state_dict.py`` and its
dtype conversions (``to``, ``float``, ``double`` ...) in ``conversion.py``; ``Parameter`` in
``parameter.py`` (re-exported here).

A ``Module`` finds its parameters, buffers and submodules by watching attribute assignment
(``self.weight = Parameter(...)``), so ``parameters()``, ``state_dict()``, ``train()`` and ``repr``
walk the tree without being told about it. ``state_dict`` keys are PyTorch's (``"net.0.weight"``), so
weights move both ways between glassgrad and PyTorch.

A forward call costs one truth test per hook table before ``forward`` runs; hooks are the seam that
tracers and ``summary`` use.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from glassgrad.autograd.grad_accumulation import zero_grad_of
from glassgrad.errors import ShapeError
from glassgrad.legacy import typename
from glassgrad.nn.backward_hooks import BackwardHookCall, BackwardHooks
from glassgrad.nn.conversion import Conversion
from glassgrad.nn.hooks import (
    ForwardHooks,
    RemovableHandle,
    _global_forward_hooks,
    _global_forward_pre_hooks,
    register_module_forward_hook,
    register_module_forward_pre_hook,
)
from glassgrad.nn.lookup import Lookup
from glassgrad.nn.module_path import annotate_shape_error, non_tensor_error
from glassgrad.nn.module_pickle import Pickling
from glassgrad.nn.module_wide_hooks import _global_backward_hooks as _g_bw
from glassgrad.nn.module_wide_hooks import _global_backward_pre_hooks as _g_bw_pre
from glassgrad.nn.module_wide_hooks import _global_buffer_registration_hooks as _buffer_hooks
from glassgrad.nn.module_wide_hooks import _global_module_registration_hooks as _module_hooks
from glassgrad.nn.module_wide_hooks import _global_parameter_registration_hooks as _param_hooks
from glassgrad.nn.module_wide_hooks import check_name, registered
from glassgrad.nn.parameter import Buffer, Parameter, assign_buffer
from glassgrad.nn.state_dict import StateDict
from glassgrad.tensor import Tensor

__all__ = [
    "Parameter",
    "Module",
    "RemovableHandle",
    "register_module_forward_pre_hook",
    "register_module_forward_hook",
]


def _addindent(s: str, spaces: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    # Lines that hold only whitespace (a blank line in an ``extra_repr``) stay empty, as in PyTorch.
    return lines[0] + "\n" + "\n".join(" " * spaces + line if line.strip() else "" for line in lines[1:])


class Module(ForwardHooks, BackwardHooks, StateDict, Conversion, Lookup, Pickling):
    """Base class of every layer and model; subclass it and define ``forward``.

    Assigning a ``Parameter`` registers it, assigning a ``Module`` registers a submodule, and
    ``register_buffer`` registers non-trained state (running statistics) that ``state_dict`` keeps.

    >>> import glassgrad as gg
    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = Parameter(gg.tensor([2.0]))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()]
    ['scale']
    >>> m(gg.tensor([1.0, 3.0])).tolist()
    [2.0, 6.0]
    """

    training: bool
    _version: int = 1

    #: PyTorch's switch: when True (on Module or a subclass), ``__init__`` ends by calling the
    #: next ``__init__`` in the MRO with its arguments (for mixins after Module in the bases)
    call_super_init: bool = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not self.call_super_init and (args or kwargs):
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments {args} {kwargs}; "
                "Module.__init__ takes them only when call_super_init is True"
            )
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers_set", set())
        setattr_(self, "_modules", {})
        setattr_(self, "_forward_pre_hooks", OrderedDict())
        setattr_(self, "_forward_pre_hooks_with_kwargs", set())
        setattr_(self, "_forward_hooks", OrderedDict())
        setattr_(self, "_forward_hooks_with_kwargs", set())
        setattr_(self, "_forward_hooks_always_called", set())
        setattr_(self, "_backward_hooks", OrderedDict())  # full backward hooks (backward_hooks.py)
        setattr_(self, "_backward_pre_hooks", OrderedDict())
        # state-dict hooks (state_dict.py); __call__ never tests these tables
        setattr_(self, "_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_state_dict_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_pre_hooks", OrderedDict())
        setattr_(self, "_load_state_dict_post_hooks", OrderedDict())
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:  # free on the success path (zero-cost exceptions); shape errors learn the module path
            if (
                self._forward_pre_hooks
                or self._forward_hooks
                or _global_forward_pre_hooks
                or _global_forward_hooks
                or self._backward_hooks
                or self._backward_pre_hooks
                or _g_bw
                or _g_bw_pre
            ):
                bw = self._backward_hooks or self._backward_pre_hooks or _g_bw or _g_bw_pre
                backward = BackwardHookCall(self) if bw else None
                return self._call_with_hooks(args, kwargs, backward)
            return self.forward(*args, **kwargs)
        except ShapeError as e:
            annotate_shape_error(e, self, args)
            raise
        except AttributeError as e:  # model(np_array): PyTorch's TypeError, not ours from deep inside
            if (error := non_tensor_error(e, self, args)) is not None:
                raise error from e
            raise

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._discard(name, d, d["_buffers"], d["_modules"], d["_non_persistent_buffers_set"])
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{typename(value)}' as parameter '{name}' "
                    "(glassgrad.nn.Parameter or None expected)"
                )
            params[name] = None  # no registration hooks for None (as PyTorch)
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._discard(name, d, params, d["_buffers"], d["_non_persistent_buffers_set"])
            d["_modules"][name] = registered(_module_hooks, self, name, value)
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(glassgrad.nn.Module or None expected)"
                )
            d["_modules"][name] = registered(_module_hooks, self, name, None)
        elif isinstance(value, Buffer) or (params is not None and name in d["_buffers"]):
            # after the parameter and module checks, as PyTorch's (a Buffer under a parameter's
            # name is refused there); a plain attribute of that name is not discarded first
            assign_buffer(self, name, value, Module.register_buffer)
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _discard(name: str, *stores: Any) -> None:
        for store in stores:
            if name in store:
                store.pop(name) if isinstance(store, dict) else store.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: registered names live in the three tables.
        d = self.__dict__
        if "_parameters" in d:  # absent while unpickling, before __dict__ is restored
            if name in d["_parameters"]:
                return d["_parameters"][name]
            if name in d["_buffers"]:
                return d["_buffers"][name]
            if name in d["_modules"]:
                return d["_modules"][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, ()):
                del d[store][name]
                d["_non_persistent_buffers_set"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = [*dir(type(self)), *self.__dict__, *self._parameters, *self._modules, *self._buffers]
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def _check_name(self, kind: str, name: Any, store: dict) -> None:
        check_name(self, kind, name, store)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (a Parameter or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{typename(param)}' object to parameter '{name}' "
                "(glassgrad.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"register_parameter: cannot assign non-leaf Tensor to parameter '{name}'; "
                "make it a leaf (Parameter(t.detach()))"
            )
        self._parameters[name] = param if param is None else registered(_param_hooks, self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register non-trained state; ``persistent=False`` keeps it out of ``state_dict``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(glassgrad.Tensor or None required)"
            )
        self._buffers[name] = registered(_buffer_hooks, self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` (or None) as the child ``name``."""
        if module is not None and not isinstance(module, Module):
            cls = type(module)
            # a torch.nn.Module that a library made behind the rewritten imports (einops'
            # einops.layers.torch.Rearrange) reaches here: say so, since its name alone hides it
            from_torch = any(c.__module__.split(".")[0] == "torch" for c in cls.__mro__)
            hint = " (a PyTorch module; glassgrad needs a glassgrad.nn.Module)" if from_torch else ""
            raise TypeError(f"{typename(module)} is not a Module subclass{hint}")
        self._check_name("module", name, self._modules)
        self._modules[name] = registered(_module_hooks, self, name, module)

    register_module = add_module

    # ------------------------------------------------------------------ walking the tree
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Yield ``(dotted_name, module)`` for self and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, get_members_fn: Any, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator:
        """``(dotted_name, member)`` over the tree; ``get_members_fn``: a table name (``"_parameters"``)
        or, as PyTorch's, a function from a module to its ``(name, member)`` pairs (Pyro's
        ``PyroModule.named_pyro_params`` passes one)."""
        members = get_members_fn if callable(get_members_fn) else lambda m: m.__dict__[get_members_fn].items()
        memo: set = set()
        mods = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for mod_prefix, mod in mods:
            for name, value in members(mod):
                if value is None or (remove_duplicate and value in memo):
                    continue
                memo.add(value)
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)``; a tied parameter comes once, under its first name."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant (Dropout, BatchNorm read it)."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: expected a bool mode, got {type(mode).__name__}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad`` (to None by default, as PyTorch 2)."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:  # in place, a create_graph gradient cut from its graph first, as the optimizers'
                    zero_grad_of(p)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every descendant (children first) and then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ printing
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The arguments shown inside ``Name(...)``; subclasses override it."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
