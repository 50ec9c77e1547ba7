"""The private helpers of ``torch.optim.optimizer`` that optimizers written outside PyTorch import:
third-party optimizers copy PyTorch's own ``adam.py``/``sgd.py`` (``@_use_grad_for_differentiable``
on ``step``, ``_get_value(state_steps[i])``, ``_get_scalar_dtype()``, ``_view_as_real``,
``_default_to_fused_or_foreach``, ``@_disable_dynamo_if_unsupported``, the ``_*_doc`` strings), and
``torch.utils._foreach_utils._group_tensors_by_device_and_dtype`` for their ``foreach`` paths.

Each does what PyTorch's does on a CPU without compilation: there is one device here and no compiler,
so the foreach and fused kernels are never the default, ``_stack_if_compiling`` returns its list, and
the dynamo decorators return the function as it is.

Example:
    >>> import glassgrad as gg
    >>> from glassgrad.optim.optimizer import _default_to_fused_or_foreach, _get_value
    >>> _get_value(gg.tensor(3.0)), _default_to_fused_or_foreach([gg.ones(2)], False)
    (3.0, (False, False))
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from typing import Any, TypeAlias

from glassgrad.device import device
from glassgrad.dtypes import DType
from glassgrad.tensor import Tensor

# private as PyTorch's, listed so that ``torch.optim.optimizer`` (optimizer.py) re-exports them
__all__ = [
    "ParamsT", "StateDict", "DeviceDict", "DeviceDtypeDict", "_use_grad_for_differentiable", "_get_value", "_stack_if_compiling", "_dispatch_sqrt",
    "_disable_dynamo_if_unsupported", "_get_foreach_kernels_supported_devices", "_get_fused_kernels_supported_devices",
    "_get_capturable_supported_devices", "_default_to_fused_or_foreach", "_device_dtype_check_for_fused",
    "_view_as_real", "_get_scalar_dtype", "_to_scalar", "_group_tensors_by_device_and_dtype", "_params_doc",
    "_foreach_doc", "_fused_doc", "_capturable_doc", "_differentiable_doc", "_maximize_doc",
]  # fmt: skip

#: PyTorch's type of an optimizer's ``params`` argument (a list of tensors, of names and tensors, of dicts)
ParamsT: TypeAlias = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
#: PyTorch's types of ``Optimizer.state_dict()`` and of the per-device (and dtype) caches of a step
#: (distributed_shampoo and ADOPT import them)
StateDict: TypeAlias = dict[str, Any]
DeviceDict: TypeAlias = dict[device | None, Tensor]
DeviceDtypeDict: TypeAlias = dict[tuple[device, DType] | None, Tensor]


def _use_grad_for_differentiable(func: Callable) -> Callable:
    """``step`` run with grad mode set to the optimizer's ``differentiable`` option (off unless the
    option is True), and restored after, as PyTorch's decorator of its optimizers' ``step``."""
    from glassgrad.autograd.grad_mode import state

    @functools.wraps(func)
    def _use_grad(*args: Any, **kwargs: Any) -> Any:
        self = args[0]
        before = state.enabled
        try:
            state.enabled = bool(self.defaults.get("differentiable", False))
            return func(*args, **kwargs)
        finally:
            state.enabled = before

    return _use_grad


def _get_value(x: Any) -> Any:
    """A step count or hyperparameter as a number: ``x.item()`` of a tensor, else ``x``."""
    return x.item() if isinstance(x, Tensor) else x


def _stack_if_compiling(x: Any) -> Any:
    """The list as it is (PyTorch stacks it only while compiling)."""
    return x


def _dispatch_sqrt(x: Any) -> Any:
    """``x.sqrt()`` of a tensor, ``math.sqrt`` of a number (older copies of PyTorch's Adam use it)."""
    return x.sqrt() if isinstance(x, Tensor) else math.sqrt(x)


def _disable_dynamo_if_unsupported(
    single_tensor_fn: Callable | None = None,
) -> Callable[[Callable], Callable]:
    """A decorator that returns the function as it is: there is no compiler to fall back from."""

    def wrapper(func: Callable) -> Callable:
        return func

    return wrapper


def _get_foreach_kernels_supported_devices() -> list[str]:
    """The device types with PyTorch's foreach kernels (not the CPU), as PyTorch 2.13 lists them."""
    return ["cuda", "xpu", "mtia", "privateuseone"]


def _get_fused_kernels_supported_devices() -> list[str]:
    """The device types with PyTorch's fused optimizer kernels, as PyTorch 2.13 lists them."""
    return ["mps", "cuda", "xpu", "hpu", "cpu", "mtia", "privateuseone"]


def _get_capturable_supported_devices(supports_xla: bool = True) -> list[str]:
    """The device types a ``capturable`` optimizer may run on (never the CPU)."""
    return ["cuda", "xpu", "hpu", "privateuseone", *(["xla"] if supports_xla else [])]


def _default_to_fused_or_foreach(
    params: list, differentiable: bool, use_fused: bool = False
) -> tuple[bool, bool]:
    """``(fused, foreach)`` defaults: foreach needs CUDA tensors, so on the CPU it is off; fused only
    when asked for and every parameter is a floating tensor."""
    if differentiable:
        return False, False
    fused = use_fused and all(p is None or (isinstance(p, Tensor) and p.is_floating_point()) for p in params)
    return fused, False


def _device_dtype_check_for_fused(p: Tensor, cuda_unsupported: bool = False) -> None:
    """PyTorch's RuntimeError for ``fused=True`` with a parameter that is not floating point."""
    if not p.is_floating_point():
        raise RuntimeError(
            "`fused=True` requires all the params to be floating point Tensors of supported devices: "
            f"{_get_fused_kernels_supported_devices()} but {p.dtype} and {p.device.type}"
        )


def _view_as_real(params: list, *state_and_grads: list) -> None:
    """Replace, in the lists, each complex parameter and its state/grad entries by their real views."""
    from glassgrad.ops.complex import view_as_real

    for i, p in enumerate(params):
        if p.is_complex():
            params[i] = view_as_real(p)
            for s in state_and_grads:
                s[i] = view_as_real(s[i])


def _get_scalar_dtype(is_fused: bool | None = None) -> Any:
    """The dtype of a step count: float64 when that is the default dtype, else float32."""
    from glassgrad import dtypes

    if is_fused:
        return dtypes.float32
    return dtypes.float64 if dtypes.get_default_dtype() is dtypes.float64 else dtypes.float32


def _to_scalar(x: Any) -> Any:
    """A one-element hyperparameter tensor with dims as a 0-d tensor; anything else as it is."""
    return x.squeeze() if isinstance(x, Tensor) and x.dim() != 0 else x


def _group_tensors_by_device_and_dtype(tensorlistlist: list[list[Any]], with_indices: bool = False) -> dict:
    """``{(device, dtype): (lists, indices)}``: the i-th entries of every list, grouped by the device and
    dtype of the first list's i-th tensor, as ``torch.utils._foreach_utils``'s (indices only when
    ``with_indices``)."""
    groups: dict = {}
    for i, t in enumerate(tensorlistlist[0]):
        lists, indices = groups.setdefault((t.device, t.dtype), ([[] for _ in tensorlistlist], []))
        for out, src in zip(lists, tensorlistlist, strict=True):
            out.append(src[i])
        if with_indices:
            indices.append(i)
    return groups


_params_doc = r"""params (iterable): iterable of parameters or named_parameters to optimize
            or iterable of dicts defining parameter groups. When using named_parameters,
            all parameters in all groups should be named"""
_foreach_doc = r"""foreach (bool, optional): whether foreach implementation of optimizer
            is used (default: None)"""
_fused_doc = r"""fused (bool, optional): whether the fused implementation is used (default: None)"""
_capturable_doc = r"""capturable (bool, optional): whether this instance is safe to
            capture in a graph (default: False)"""
_differentiable_doc = r"""differentiable (bool, optional): whether autograd should
            occur through the optimizer step in training (default: False)"""
_maximize_doc = r"""maximize (bool, optional): maximize the objective with respect to the
            params, instead of minimizing (default: False)"""
