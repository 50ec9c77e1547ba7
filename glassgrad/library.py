"""``glassgrad.library``: PyTorch 2.4's Python custom operators (``torch.library.custom_op``).

A library wraps a function as an operator named ``"namespace::name"`` and registers a fake
(shape-only) implementation for the compiler; diffusers does both at import for its attention
backends (``@torch.library.custom_op("_diffusers_flash_attn_3::_flash_attn_forward", ...,
device_types="cuda")``, port round 39). As in PyTorch:

* ``custom_op(name, fn, *, mutates_args, device_types=None, schema=None, tags=None)`` gives a
  ``CustomOpDef``: calling it runs ``fn`` (or the kernel given to ``register_kernel`` for the
  CPU); an op made for other devices only (``device_types="cuda"``) raises
  ``NotImplementedError`` on the CPU. ``glassgrad.ops.<namespace>.<name>`` is the same op.
* The op is opaque to autograd: its body runs with grad mode off. Outputs of an op called on
  inputs that require grad still join the graph, and backward through them raises
  ``RuntimeError`` until ``register_autograd(backward, setup_context=...)`` gives the formula.
* ``register_fake`` stores the fake implementation (glassgrad traces nothing, so it is never
  called); a name never defined raises ``RuntimeError``.

>>> import glassgrad as gg
>>> @gg.library.custom_op("doc::twice", mutates_args=())
... def twice(x: gg.Tensor) -> gg.Tensor:
...     return x * 2
>>> gg.ops.doc.twice(gg.tensor([1.0, 2.0]))
tensor([2., 4.])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad import _ops
from glassgrad.autograd.custom import Function
from glassgrad.autograd.grad_mode import is_grad_enabled
from glassgrad.library_define import Library, define, impl, impl_abstract
from glassgrad.library_ops import OpOverload, OpOverloadPacket, Tag, _tag_list, _target, fallthrough_kernel
from glassgrad.library_schema import infer_schema

__all__ = [
    "custom_op", "register_fake", "register_autograd", "register_kernel", "CustomOpDef", "Library", "define",
    "impl", "impl_abstract", "fallthrough_kernel", "infer_schema",
]  # fmt: skip


def _split(name: Any) -> tuple[str, str]:
    if not isinstance(name, str) or name.count("::") != 1 or not all(name.split("::")):
        raise ValueError(f"library.custom_op: expected a name 'namespace::op_name', got {name!r}")
    ns, op = name.split("::")
    return ns, op


def _device_set(device_types: Any) -> frozenset | None:
    if device_types is None:
        return None
    if isinstance(device_types, str):
        return frozenset({device_types})
    return frozenset(device_types)


class CustomOpDef:
    """An operator made by :func:`custom_op`: call it as the function it wraps."""

    def __init__(self, namespace: str, name: str, fn: Callable, device_types: Any, tags: list) -> None:
        self._namespace, self._name = namespace, name
        # as PyTorch's: every custom op declares itself pt2-compliant ahead of the tags it was given
        self.tags = [Tag.pt2_compliant_tag, *tags]
        self._init_fn, self._devices = fn, _device_set(device_types)
        self._kernels: dict[str, Callable] = {}
        self._fake_fn: Callable | None = None
        self._backward: Callable | None = None
        self._setup_context: Callable | None = None
        self._signature = inspect.signature(fn)
        self._function: type | None = None

    def __repr__(self) -> str:
        return f"<CustomOpDef({self._namespace}::{self._name})>"

    def _qualname(self) -> str:
        return f"{self._namespace}::{self._name}"

    @property
    def default(self) -> CustomOpDef:
        """``glassgrad.ops.ns.name.default``: the op itself (it has one schema)."""
        return self

    def _kernel(self) -> Callable:
        if "cpu" in self._kernels:
            return self._kernels["cpu"]
        if self._devices is None or "cpu" in self._devices:
            return self._init_fn
        raise NotImplementedError(
            f"{self._qualname()}: no kernel for the CPU backend (the op was made for "
            f"device_types={sorted(self._devices)}; glassgrad computes on the CPU only: add one with "
            "register_kernel('cpu', fn))"
        )

    def register_fake(self, fn: Callable) -> Callable:
        self._fake_fn = fn
        return fn

    def register_kernel(self, device_types: Any, fn: Callable | None = None) -> Any:
        def register(f: Callable) -> Callable:
            for d in _device_set(device_types) or ("cpu",):
                self._kernels[d] = f
            return f

        return register if fn is None else register(fn)

    def register_autograd(self, backward: Callable, /, *, setup_context: Callable | None = None) -> None:
        self._backward, self._setup_context = backward, setup_context

    def _autograd_function(self) -> type:
        if self._function is None:
            op = self

            def forward(*args: Any) -> Any:
                return op._kernel()(*args)

            def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
                if op._setup_context is not None:
                    op._setup_context(ctx, inputs, output)

            def backward(ctx: Any, *grads: Any) -> Any:
                if op._backward is None:
                    raise RuntimeError(
                        f"Trying to backward through {op._namespace}.{op._name}.default but no autograd "
                        "formula was registered. Please use register_autograd to add one."
                    )
                return op._backward(ctx, *grads)

            body = {"forward": staticmethod(forward), "setup_context": staticmethod(setup_context)}
            body["backward"] = staticmethod(backward)
            self._function = type(f"{self._namespace}_{self._name}Backward", (Function,), body)
        return self._function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from glassgrad.tensor import Tensor

        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        inputs = tuple(bound.arguments.values())
        if is_grad_enabled() and any(_wants_grad(a, Tensor) for a in inputs):
            return self._autograd_function().apply(*inputs)
        return self._kernel()(*inputs)


def _wants_grad(a: Any, tensor_cls: type) -> bool:
    """Whether ``a`` (a tensor, or a list/tuple nesting them) holds a tensor that requires grad
    (a module function, not a closure calling itself: that is a reference cycle per call)."""
    if isinstance(a, tensor_cls):
        return a.requires_grad
    return isinstance(a, (list, tuple)) and any(_wants_grad(x, tensor_cls) for x in a)


def custom_op(
    name: str,
    fn: Callable | None = None,
    /,
    *,
    mutates_args: Iterable[str] | str,
    device_types: Any = None,
    schema: str | None = None,
    tags: Any = None,
) -> Any:
    """Wrap ``fn`` as the operator ``name`` (``"namespace::op_name"``); a decorator without ``fn``.
    ``tags`` (a ``Tag`` or a sequence of them) are listed in the op's ``tags``."""
    ns, op = _split(name)

    def wrap(f: Callable) -> CustomOpDef:
        if schema is None:  # as PyTorch: the annotations must give a schema (ValueError otherwise)
            infer_schema(f, mutates_args=mutates_args)
        result = CustomOpDef(ns, op, f, device_types, [] if tags is None else _tag_list(tags, "define"))
        _ops.CUSTOM_OPS[f"{ns}::{op}"] = result
        return result

    return wrap if fn is None else wrap(fn)


def _lookup(op: Any, caller: str) -> Any:
    """The operator ``op`` names: a ``CustomOpDef``, or a defined operator's overload (library_define)."""
    if isinstance(op, (CustomOpDef, OpOverload, OpOverloadPacket)):
        return op
    if isinstance(op, str) and op in _ops.CUSTOM_OPS:
        return _ops.CUSTOM_OPS[op]
    if isinstance(op, str) and op.partition(".")[0] in _ops.CUSTOM_OPS:  # "ns::name.overload"
        ns, name = op.split("::")
        return _target(ns, name)
    raise RuntimeError(f"library.{caller}: operator {op} does not exist (define it with library.custom_op)")


def register_fake(op: Any, fn: Callable | None = None, /, *, lib: Any = None, _stacklevel: int = 1) -> Any:
    """Give ``op`` (a ``CustomOpDef`` or its name) a fake implementation; a decorator without ``fn``."""
    target = _lookup(op, "register_fake")
    return target.register_fake if fn is None else target.register_fake(fn)


def register_kernel(op: Any, device_types: Any, fn: Callable | None = None, /, *, lib: Any = None) -> Any:
    """Give ``op`` a kernel for ``device_types``; a decorator without ``fn``."""
    return _lookup(op, "register_kernel").register_kernel(device_types, fn)


def register_autograd(
    op: Any, backward: Callable, /, *, setup_context: Callable | None = None, lib: Any = None
) -> None:
    """Give ``op`` its backward formula (``backward(ctx, *grads)``, one gradient per input)."""
    _lookup(op, "register_autograd").register_autograd(backward, setup_context=setup_context)
