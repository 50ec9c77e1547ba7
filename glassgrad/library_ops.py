"""The operators of ``torch.library``'s lower-level API (declared by ``library_define.py``'s
``Library.define``, ``define`` and ``impl``) and the dispatch of their kernels.

An operator is declared by a schema, ``"name(Tensor x, float scale=2.0, *, bool neg=False) ->
Tensor"``, and given a kernel per dispatch key; ``glassgrad.ops.<namespace>.<name>`` (or
``.default``, or ``.<overload>``) calls it. Libraries such as bitsandbytes and torchao declare
their operators this way at import. glassgrad computes on the CPU only, so of PyTorch's keys it
honours, in this order:

1. ``Autograd`` / ``AutogradCPU``: used when grad mode is on, an argument requires grad and the call
   is not already inside ``glassgrad._C._AutoDispatchBelowAutograd()`` (where such a kernel's
   ``Function.forward`` calls the op again); or, in its place, a formula given by
   ``library.register_autograd``;
2. the computing kernel: ``CPU`` (``impl(..., "cpu")``), else ``CompositeExplicitAutograd``
   (``"default"``), else ``CompositeImplicitAutograd`` (``Library.impl``'s default key), whose ops
   are recorded as any others. A ``CPU`` or ``CompositeExplicitAutograd`` kernel reached with
   arguments that require grad and no autograd formula is recorded too, with PyTorch's warning
   (PyTorch warns at backward; glassgrad at the call, once per operator).

``Meta`` kernels and ``impl_abstract``/``register_fake`` are stored and never called (glassgrad
traces no fake tensors); ``CUDA`` kernels are stored and never called. As PyTorch, a kernel is
passed the arguments as the caller gave them (defaults are not filled in), a second ``DEF`` library
of a namespace or a second definition of an operator raises ``RuntimeError``, and a ``Library``'s
registrations are undone when it is garbage collected (``torch.library.define`` without ``lib``
keeps its own library for the life of the process).

>>> import glassgrad as gg
>>> lib = gg.library.Library("docdef", "DEF")
>>> lib.define("scaled(Tensor x, float scale=2.0) -> Tensor")
'scaled'
>>> lib.impl("scaled", lambda x, scale=2.0: x * scale, "CPU")
>>> gg.ops.docdef.scaled(gg.tensor([1.0, 2.0]), 3.0)
tensor([3., 6.])
"""

from __future__ import annotations

import contextvars
import enum
import inspect
import re
import warnings
from typing import Any, Callable

from glassgrad import _ops
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.errors import ArgumentError

__all__ = ["OpOverload", "OpOverloadPacket", "Tag", "fallthrough_kernel"]

_BELOW_AUTOGRAD: contextvars.ContextVar = contextvars.ContextVar("glassgrad_below_autograd", default=False)
_AUTOGRAD_KEYS = ("Autograd", "AutogradCPU")
_COMPUTE_KEYS = ("CPU", "CompositeExplicitAutograd", "CompositeImplicitAutograd")
_TYPES = {"cpu": "CPU", "cuda": "CUDA", "default": "CompositeExplicitAutograd", "meta": "Meta"}


class _AutoDispatchBelowAutograd:
    """``torch._C._AutoDispatchBelowAutograd()``: calls of library operators inside skip their
    ``Autograd`` kernels (what an autograd kernel's ``Function.forward`` uses to reach the CPU one)."""

    def __enter__(self) -> _AutoDispatchBelowAutograd:
        self._token = _BELOW_AUTOGRAD.set(True)
        return self

    def __exit__(self, *exc: Any) -> None:
        _BELOW_AUTOGRAD.reset(self._token)


class Tag(enum.Enum):
    """``torch.Tag``: the properties an operator declares (``tags=`` of ``Library.define`` and
    ``custom_op``), PyTorch's members and values. glassgrad lists them in the operator's ``tags`` and
    acts on none: it has no compiler and no CUDA graphs (physicsnemo declares its Warp ops
    ``tags=(torch.Tag.cudagraph_unsafe,)`` at import)."""

    core = 0
    cudagraph_unsafe = 1
    data_dependent_output = 2
    dynamic_output_shape = 3
    flexible_layout = 4
    generated = 5
    inplace = 6
    inplace_view = 7
    maybe_aliasing_or_mutating = 8
    needs_contiguous_strides = 9
    needs_exact_strides = 10
    needs_fixed_stride_order = 11
    nondeterministic_bitwise = 12
    nondeterministic_seeded = 13
    out = 14
    out_variant = 15
    pointwise = 16
    pt2_compliant_tag = 17
    reduction = 18
    view_copy = 19


def _tag_list(tags: Any, caller: str) -> list:
    """``tags=`` as PyTorch takes it, one ``Tag`` or a sequence of them, as a list; TypeError otherwise."""
    if isinstance(tags, Tag):
        return [tags]
    try:
        found = list(tags)
    except TypeError:
        raise TypeError(f"argument of type '{type(tags).__name__}' is not iterable") from None
    for t in found:
        if not isinstance(t, Tag):
            raise TypeError(
                f"{caller}(): tags must be a sequence of torch.Tag, got {t!r} ({type(t).__name__})"
            )
    return found


def fallthrough_kernel(*args: Any, **kwargs: Any) -> Any:
    """A kernel that registers nothing: the next key's kernel runs (``torch.library.fallthrough_kernel``)."""
    raise NotImplementedError("fallthrough_kernel is a marker for Library.impl, never called")


def _requires_grad(a: Any) -> bool:
    from glassgrad.tensor import Tensor

    if isinstance(a, Tensor):
        return a.requires_grad
    return isinstance(a, (list, tuple)) and any(_requires_grad(x) for x in a)


class OpOverload:
    """One schema of a library operator (``glassgrad.ops.ns.name.default``); the packet
    ``glassgrad.ops.ns.name`` calls its only (or first matching) overload."""

    def __init__(self, qualname: str, overload: str) -> None:
        self._qualname, self._overloadname = qualname, overload or "default"
        self._schema: str | None = None
        self._signature: inspect.Signature | None = None
        self._kernels: dict[str, Callable] = {}
        self._fake_fn: Callable | None = None
        self._backward: Callable | None = None
        self._setup_context: Callable | None = None
        self._warned = False
        self.tags: list = []

    def name(self) -> str:
        return self._qualname if self._overloadname == "default" else f"{self._qualname}.{self._overloadname}"

    def __repr__(self) -> str:
        return f"OpOverload(op='{self._qualname.replace('::', '.')}', overload='{self._overloadname}')"

    def register_fake(self, fn: Callable) -> Callable:
        self._fake_fn = fn
        return fn

    def register_kernel(self, device_types: Any, fn: Callable | None = None) -> Any:
        def register(f: Callable) -> Callable:
            for t in (
                (device_types,) if isinstance(device_types, str) or device_types is None else device_types
            ):
                self._kernels[_TYPES.get(t or "cpu", t)] = f
            return f

        return register if fn is None else register(fn)

    def register_autograd(self, backward: Callable, /, *, setup_context: Callable | None = None) -> None:
        self._backward, self._setup_context = backward, setup_context

    def _bind(self, args: tuple, kwargs: dict) -> inspect.BoundArguments | None:
        if self._signature is None:  # an argument named by a Python keyword: nothing to check
            return None
        try:
            return self._signature.bind(*args, **kwargs)
        except TypeError as e:
            raise ArgumentError(f"{self.name()}(): {e}. Declaration: {self._schema}") from None

    def _compute_kernel(self) -> tuple[str, Callable]:
        for key in _COMPUTE_KEYS:
            if key in self._kernels:
                return key, self._kernels[key]
        raise NotImplementedError(
            f"Could not run '{self.name()}' with arguments from the 'CPU' backend: it has kernels for "
            f"{sorted(self._kernels) or 'no key'}; glassgrad runs CPU, CompositeExplicitAutograd and "
            "CompositeImplicitAutograd kernels (add one with Library.impl or library.impl)"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._schema is None:
            raise RuntimeError(
                f"{self.name()}: the operator has kernels but was never defined (Library.define)"
            )
        bound = self._bind(args, kwargs)
        values = bound.arguments.values() if bound is not None else (*args, *kwargs.values())
        wants_grad = (
            is_grad_enabled() and not _BELOW_AUTOGRAD.get() and any(_requires_grad(a) for a in values)
        )
        if wants_grad:
            for key in _AUTOGRAD_KEYS:
                if key in self._kernels:
                    return self._kernels[key](*args, **kwargs)
            if self._backward is not None and bound is not None:
                return self._with_formula(bound)
        key, kernel = self._compute_kernel()
        if wants_grad and key != "CompositeImplicitAutograd" and not self._warned:
            self._warned = True
            warnings.warn(
                f"{self.name()}: an autograd kernel was not registered to the Autograd key(s) but an "
                "argument requires grad: its ops are recorded as they run, which may be incorrect for an "
                "operator that is not a composition of differentiable ops (PyTorch warns at backward); "
                "give it a formula with library.register_autograd",
                UserWarning,
                stacklevel=2,
            )
        return kernel(*args, **kwargs)

    def _with_formula(self, bound: inspect.BoundArguments) -> Any:
        from glassgrad.autograd.custom import Function

        bound.apply_defaults()
        names, sig, op = list(bound.arguments), self._signature, self

        def forward(*inputs: Any) -> Any:
            again = inspect.BoundArguments(sig, dict(zip(names, inputs)))
            with _AutoDispatchBelowAutograd():
                return op._compute_kernel()[1](*again.args, **again.kwargs)

        def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
            if op._setup_context is not None:
                op._setup_context(ctx, inputs, output)

        def backward(ctx: Any, *grads: Any) -> Any:
            return op._backward(ctx, *grads)

        body = {name: staticmethod(f) for name, f in (("forward", forward), ("setup_context", setup_context))}
        body["backward"] = staticmethod(backward)
        body["generate_vmap_rule"] = True  # glassgrad's vmap loops over the op: it needs no rule
        # PyTorch's node name, GeneratedBackwardFor_<ns>_<name>_<overload>Backward
        fn = type(
            f"GeneratedBackwardFor_{self._qualname.replace('::', '_')}_{self._overloadname}",
            (Function,),
            body,
        )
        return fn.apply(*bound.arguments.values())


class OpOverloadPacket:
    """``glassgrad.ops.ns.name``: the operator's overloads by name (``.default`` and the named ones)."""

    def __init__(self, qualname: str) -> None:
        self._qualname = qualname
        self._overloads: dict[str, OpOverload] = {}

    def _overload(self, overload: str) -> OpOverload:
        key = overload or "default"
        if key not in self._overloads:
            self._overloads[key] = OpOverload(self._qualname, key)
        return self._overloads[key]

    def __getattr__(self, name: str) -> OpOverload:
        overloads = self.__dict__.get("_overloads", {})
        if name in overloads and overloads[name]._schema is not None:
            return overloads[name]
        raise AttributeError(
            f"The underlying op of '{self.__dict__.get('_qualname')}' has no overload name '{name}'"
        )

    def _defined(self) -> bool:
        return any(o._schema is not None for o in self._overloads.values())

    def overloads(self) -> list[str]:
        return [k for k, o in self._overloads.items() if o._schema is not None]

    def __repr__(self) -> str:
        return f"<OpOverloadPacket(op='{self._qualname.replace('::', '.')}')>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        defined = [o for o in self._overloads.values() if o._schema is not None]
        for o in defined[:-1]:  # the first overload whose schema takes these arguments
            try:
                o._signature.bind(*args, **kwargs)
            except TypeError:
                continue
            return o(*args, **kwargs)
        if not defined:
            raise RuntimeError(
                f"{self._qualname}: the operator has kernels but was never defined (Library.define)"
            )
        return defined[-1](*args, **kwargs)

    def register_fake(self, fn: Callable) -> Callable:
        return self._overload("default").register_fake(fn)

    def register_kernel(self, device_types: Any, fn: Callable | None = None) -> Any:
        return self._overload("default").register_kernel(device_types, fn)

    def register_autograd(self, backward: Callable, /, *, setup_context: Callable | None = None) -> None:
        self._overload("default").register_autograd(backward, setup_context=setup_context)


def _packet(qualname: str) -> OpOverloadPacket:
    found = _ops.CUSTOM_OPS.get(qualname)
    if not isinstance(found, OpOverloadPacket):
        found = _ops.CUSTOM_OPS[qualname] = OpOverloadPacket(qualname)
    return found


def _target(ns: str, op: Any) -> OpOverload:
    """The overload ``op`` names: ``"name"``, ``"name.overload"``, ``"ns::name[.overload]"`` or an object."""
    if isinstance(op, OpOverload):
        return op
    if isinstance(op, OpOverloadPacket):
        return op._overload("default")
    if not isinstance(op, str) or not re.fullmatch(r"(\w+::)?\w+(\.\w+)?", op):
        raise ValueError(f"Library.impl: expected an operator name 'name' or 'name.overload', got {op!r}")
    if "::" in op:
        ns, op = op.split("::")
    name, _, overload = op.partition(".")
    return _packet(f"{ns}::{name}")._overload(overload)
