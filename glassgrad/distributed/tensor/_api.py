"""``DTensor``, ``distribute_tensor`` and ``distribute_module`` (PyTorch's
``torch.distributed.tensor``) for glassgrad's world of one process.

A PyTorch ``DTensor`` is a global tensor described by a ``DeviceMesh`` and one placement per mesh
dimension, each process holding its local piece. With one process the local piece is the whole
tensor whatever the placements, so glassgrad's ``DTensor`` is a ``Tensor`` subclass over that
whole array, carrying its mesh and placements. Being a Tensor is what keeps everything else
working: ops read its array, the backward engine accumulates into it, optimizers update it in
place, ``state_dict`` and ``load_state_dict`` see it. Parameters become ``DTensorParameter``
(a ``DTensor`` and an ``nn.Parameter``, as PyTorch's ``nn.Parameter(dtensor)`` is both), and their
``.grad`` reads as a ``DTensor`` with the parameter's placements, as in PyTorch.

Differences from PyTorch, all about types, none about values: an op on a DTensor returns a plain
Tensor (PyTorch returns a DTensor, and refuses to mix DTensor and Tensor operands);
``DTensor.from_local`` refuses a global ``shape``
other than the local one, which no world of one can have.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from glassgrad.autograd import Function
from glassgrad.distributed.device_mesh import DeviceMesh, current_mesh
from glassgrad.distributed.tensor.placement_types import Partial, Placement, Replicate, Shard
from glassgrad.nn.parameter import Parameter
from glassgrad.tensor import Tensor
from glassgrad.torch_function import _disabled_torch_function_impl
from glassgrad.user_frames import user_stacklevel

__all__ = ["DTensor", "DTensorParameter", "distribute_tensor", "distribute_module"]


def _placements(fn: str, mesh: DeviceMesh, placements: Any, ndim: int) -> tuple[Placement, ...]:
    """``placements`` checked against ``mesh`` and a tensor of ``ndim`` dims, Shard dims made >= 0."""
    if placements is None:
        return (Replicate(),) * mesh.ndim
    placements = tuple(placements)
    if len(placements) != mesh.ndim:
        raise ValueError(
            f"{fn}: `placements` must have the same length as `device_mesh.ndim`! Found placements length: "
            f"{len(placements)}, and device_mesh.ndim: {mesh.ndim}."
        )
    out = []
    for p in placements:
        if not isinstance(p, Placement):
            raise TypeError(f"{fn}: expected placements such as Shard(0) or Replicate(), got {p!r}")
        if isinstance(p, Shard):
            if not -max(ndim, 1) <= p.dim < max(ndim, 1):
                raise IndexError(
                    f"{fn}: Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
                    f"{max(ndim, 1) - 1}], but got {p.dim})"
                )
            p = Shard(p.dim % ndim) if ndim else p
        out.append(p)
    return tuple(out)


def _alias(cls: type, src: Tensor, mesh: DeviceMesh, placements: tuple, copy_data: bool = False) -> Any:
    """A ``cls`` over ``src``'s array (sharing its version counter), or over a copy of it."""
    out = cls.__new__(cls)
    Tensor.__init__(out, src._data.copy() if copy_data else src._data, _wrap=True)
    if not copy_data:
        out._vc = src._vc
        src._vc[1] = True
    out._mesh, out._placements = mesh, placements
    return out


class _ToTorchTensor(Function):
    """``DTensor.to_local``/``full_tensor``: the local tensor (here the whole one, sharing its
    memory and version counter), the gradient passed through."""

    @staticmethod
    def forward(ctx: Any, d: Any) -> Tensor:
        out = Tensor(d._data, _wrap=True)
        out._vc = d._vc
        d._vc[1] = True
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return (grad,)


class _FromTorchTensor(Function):
    """``DTensor.from_local``/``redistribute``: a DTensor over the local tensor (sharing its
    memory), the gradient passed through."""

    @staticmethod
    def forward(ctx: Any, t: Any, mesh: DeviceMesh, placements: tuple) -> DTensor:
        return _alias(DTensor, t, mesh, placements)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return grad, None, None


class DTensor(Tensor):
    """A distributed tensor over a ``DeviceMesh``: in a world of one process, the whole tensor with
    its mesh and placements (see the module doc). Make one with ``DTensor.from_local`` or
    ``distribute_tensor``.

    Shape:
        the global shape, which is the local one.
    """

    __slots__ = ("_mesh", "_placements")
    __torch_function__ = _disabled_torch_function_impl  # ops give plain Tensors, as PyTorch's

    def __init__(self, *args: Any, _wrap: bool = False, **kwargs: Any) -> None:
        if not _wrap:
            raise TypeError(
                "DTensor: make one with DTensor.from_local(tensor, device_mesh, placements) or "
                "distribute_tensor(tensor, device_mesh, placements), as in PyTorch"
            )
        Tensor.__init__(self, *args, _wrap=True, **kwargs)
        self._mesh, self._placements = None, ()

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._mesh

    @property
    def placements(self) -> tuple[Placement, ...]:
        return self._placements

    @staticmethod
    def from_local(
        local_tensor: Tensor,
        device_mesh: DeviceMesh | None = None,
        placements: Sequence[Placement] | None = None,
        *,
        run_check: bool = False,
        shape: Any = None,
        stride: Any = None,
    ) -> DTensor:
        """The DTensor whose local piece is ``local_tensor`` (differentiable, sharing its memory)."""
        if not isinstance(local_tensor, Tensor):
            raise TypeError(f"DTensor.from_local: expected a Tensor, got {type(local_tensor).__name__}")
        mesh = device_mesh or current_mesh("DTensor.from_local")
        placements = _placements("DTensor.from_local", mesh, placements, local_tensor.ndim)
        if shape is not None and tuple(shape) != tuple(local_tensor.shape):
            raise ValueError(
                f"DTensor.from_local: in a world of one process the global shape is the local one, "
                f"{tuple(local_tensor.shape)}, got shape {tuple(shape)}"
            )
        return _FromTorchTensor.apply(local_tensor, mesh, placements)

    def to_local(self, *, grad_placements: Sequence[Placement] | None = None) -> Tensor:
        """This process's piece as a plain Tensor (here the whole tensor; differentiable)."""
        if grad_placements is not None:
            _placements("DTensor.to_local", self._mesh, grad_placements, self.ndim)
        return _ToTorchTensor.apply(self)

    def redistribute(
        self,
        device_mesh: DeviceMesh | None = None,
        placements: Sequence[Placement] | None = None,
        *,
        async_op: bool = False,
        forward_dtype: Any = None,
        backward_dtype: Any = None,
    ) -> DTensor:
        """The same values laid out as ``placements``, over the same memory: with one process
        PyTorch 2.13 skips every collective and keeps the local tensor (differentiable)."""
        mesh = device_mesh or self._mesh
        if mesh != self._mesh:
            raise NotImplementedError("DTensor.redistribute: Cross device mesh comm not supported yet!")
        if placements is None:
            raise RuntimeError("DTensor.redistribute: placements is needed for redistribute!")
        if forward_dtype is not None or backward_dtype is not None:
            raise NotImplementedError(
                "DTensor.redistribute: forward_dtype/backward_dtype casts are not supported"
            )
        placements = _placements("DTensor.redistribute", mesh, placements, self.ndim)
        for old, new in zip(self._placements, placements):
            if isinstance(new, Partial) and old != new:
                raise RuntimeError(
                    f"DTensor.redistribute: Can not redistribute from {old} to {new}, redistributing to "
                    "Partial is for internal use only!"
                )
        return _FromTorchTensor.apply(self, mesh, placements)

    def full_tensor(self, *, grad_placements: Sequence[Placement] | None = None) -> Tensor:
        """The whole tensor as a plain Tensor (differentiable): here the local one, sharing its
        memory, as PyTorch 2.13's is with one process (its gather is skipped)."""
        if grad_placements is not None:
            _placements("DTensor.full_tensor", self._mesh, grad_placements, self.ndim)
        return _ToTorchTensor.apply(self)

    # ------------------------------------------------------------------ what stays a DTensor
    @property
    def grad(self) -> Any:
        """The gradient, as a DTensor with this tensor's mesh and placements (as in PyTorch)."""
        g = self._grad
        if g is None or isinstance(g, DTensor) or self._mesh is None:
            return g
        self._grad = _alias(DTensor, g, self._mesh, self._placements)
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        Tensor.grad.fset(self, value)

    def detach(self) -> DTensor:
        return _alias(DTensor, self, self._mesh, self._placements)

    @property
    def data(self) -> DTensor:
        """``Tensor.data`` (the same memory, cut from the graph, its own version counter) as a
        DTensor with this tensor's mesh and placements, as PyTorch's is."""
        out = _laid_out_as(self, self._data)
        self._vc[1] = out._vc[1] = True  # the memory is shared now (see Tensor.data)
        return out

    @data.setter
    def data(self, value: Any) -> None:
        Tensor.data.fset(self, value)

    def __deepcopy__(self, memo: dict) -> DTensor:
        """A DTensor over a copy of the data, with a copy of ``.grad``, as PyTorch's (a tensor's
        deepcopy keeps its gradient, and PyTorch's DTensor parameter is a DTensor, so it does too)."""
        if id(self) not in memo:
            out = _alias(type(self), self, self._mesh, self._placements, copy_data=True)
            out.requires_grad = self.requires_grad
            memo[id(self)] = out
            if self._grad is not None:
                out.grad = copy.deepcopy(self.grad, memo)
        return memo[id(self)]

    def __repr__(self) -> str:
        return (
            f"DTensor(local_tensor={Tensor(self._data, _wrap=True)!r}, device_mesh={self._mesh!r}, "
            f"placements={self._placements!r})"
        )


class DTensorParameter(DTensor, Parameter):
    """A parameter that is a ``DTensor`` (PyTorch's ``nn.Parameter(dtensor)``): what
    ``parallelize_module`` and ``fully_shard`` register. ``isinstance`` of both classes is True."""

    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # nn.Parameter(dtensor) returns the DTensorParameter that as_parameter built, and Python
        # then calls __init__ on it: nothing is left to do. Called on a new object, refuse.
        try:
            self._data  # noqa: B018 (a slot: unset on an object not built by as_parameter)
        except AttributeError:
            raise TypeError("DTensorParameter: make one with nn.Parameter(dtensor), as in PyTorch") from None


def as_parameter(d: DTensor, requires_grad: bool = True) -> DTensorParameter:
    """``d`` as a leaf ``DTensorParameter`` over the same array (what ``nn.Parameter(d)`` gives)."""
    p = _alias(DTensorParameter, d, d._mesh, d._placements)
    if requires_grad:
        p.requires_grad_(True)
    return p


def _laid_out_as(p: DTensor, arr: Any) -> DTensor:
    """A DTensor over ``arr`` laid out as ``p``: its ``.data``, or an optimizer's state of a DTensor
    parameter, as PyTorch's ``zeros_like(p)`` is one (``optim.optimizer.state_like`` asks for it)."""
    out = DTensor.__new__(DTensor)
    Tensor.__init__(out, arr, _wrap=True)
    out._mesh, out._placements = p._mesh, p._placements
    return out


DTensor._parameter_of = staticmethod(as_parameter)  # nn.Parameter(dtensor) is a DTensorParameter
DTensor._state_like = staticmethod(_laid_out_as)  # an optimizer's state of a DTensor is a DTensor


def distribute_tensor(
    tensor: Tensor,
    device_mesh: DeviceMesh | None = None,
    placements: Sequence[Placement] | None = None,
    *,
    src_data_rank: int | None = 0,
) -> DTensor:
    """``tensor`` as a leaf DTensor laid out as ``placements`` (default: replicated) over
    ``device_mesh`` (default: the ``with mesh:`` one). Replicated, it shares ``tensor``'s memory;
    sharded or partial, it holds a copy, as PyTorch's scatter makes one.

    Shape:
        ``tensor``'s shape (the global shape).
    """
    mesh = device_mesh or current_mesh("distribute_tensor")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"distribute_tensor: expected a Tensor, got {type(tensor).__name__}")
    placements = _placements("distribute_tensor", mesh, placements, tensor.ndim)
    if isinstance(tensor, DTensor):
        if tensor._mesh != mesh:
            raise ValueError(
                f"distribute_tensor: Cannot distribute a DTensor with device mesh {tensor._mesh} to a different "
                f"device mesh {mesh}."
            )
        if tensor._placements != placements:
            raise ValueError(
                f"distribute_tensor: Cannot distribute a DTensor with placements {tensor._placements} to a "
                f"different placements {placements}. do you want to call `redistribute` instead?"
            )
        return tensor
    copy_data = not all(isinstance(p, Replicate) for p in placements)
    out = _alias(DTensor, tensor, mesh, placements, copy_data)
    if tensor.requires_grad:
        out.requires_grad_(True)
    return out


def _wrap_fn(fn: Callable, kind: str) -> Callable:
    """``fn(module, x, mesh)`` from a user's 3-argument ``input_fn``/``output_fn`` (or a deprecated
    2-argument one, as PyTorch takes them)."""
    n = len(inspect.signature(fn).parameters)
    if n == 3:
        return fn
    if n == 2:
        warnings.warn(
            f"Deprecating {kind} that takes two arguments (inputs, device_mesh), please use {kind} that takes "
            "in (module, inputs, device_mesh) instead!",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        return lambda mod, x, mesh: fn(x, mesh)
    raise ValueError(f"distribute_module: {kind} should take in 3 arguments, but got {n} arguments!")


def distribute_module(
    module: Any,
    device_mesh: DeviceMesh | None = None,
    partition_fn: Callable | None = None,
    input_fn: Callable | None = None,
    output_fn: Callable | None = None,
) -> Any:
    """PyTorch's ``distribute_module``: ``partition_fn(name, submodule, mesh)`` on every submodule,
    every parameter and buffer left a plain Tensor then replicated, ``input_fn(module, inputs,
    mesh)`` run before forward and ``output_fn(module, outputs, mesh)`` after it, as hooks."""
    if getattr(module, "_distribute_module_applied", False):
        raise RuntimeError(
            "distribute_module should only be called once on a module, but it has already been called on "
            f"this module ({type(module).__name__})!"
        )
    mesh = device_mesh or current_mesh("distribute_module")
    for name, sub in module.named_modules():
        if partition_fn is not None:
            partition_fn(name, sub, mesh)
        replicate_params_and_buffers(sub, mesh)
    if input_fn is not None:
        fn_in = _wrap_fn(input_fn, "input_fn")
        module.register_forward_pre_hook(lambda mod, inputs: fn_in(mod, inputs, mesh))
    if output_fn is not None:
        fn_out = _wrap_fn(output_fn, "output_fn")
        module.register_forward_hook(lambda mod, inputs, outputs: fn_out(mod, outputs, mesh))
    module._distribute_module_applied = True
    return module


def replicate_params_and_buffers(module: Any, mesh: DeviceMesh) -> None:
    """``module``'s own parameters and buffers that are not DTensors yet, replicated over ``mesh``."""
    everywhere = (Replicate(),) * mesh.ndim
    for key, p in list(module._parameters.items()):
        if p is not None and not isinstance(p, DTensor):
            module.register_parameter(
                key, as_parameter(distribute_tensor(p.detach(), mesh, everywhere), p.requires_grad)
            )
    for key, b in list(module._buffers.items()):
        if b is not None and not isinstance(b, DTensor):
            module._buffers[key] = distribute_tensor(b, mesh, everywhere)
