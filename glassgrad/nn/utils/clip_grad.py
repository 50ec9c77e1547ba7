"""``torch.nn.utils.clip_grad``: the module path of the gradient-clipping functions (defined in
``glassgrad.nn.utils``), which programs import by it; PyTorch names the two helpers there with a
leading underscore. Also its private ``_no_grad`` decorator and ``_tensor_or_tensors`` annotation,
which libraries import to write their own clipping (torchtune's ``training/_grad_scaler.py``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, Union

from glassgrad.autograd import no_grad
from glassgrad.nn.utils import clip_grad_norm, clip_grad_norm_, clip_grad_value_
from glassgrad.nn.utils import clip_grads_with_norm_ as _clip_grads_with_norm_  # noqa: F401
from glassgrad.nn.utils import get_total_norm as _get_total_norm  # noqa: F401
from glassgrad.tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"]

_tensor_or_tensors = Union[Tensor, Iterable[Tensor]]  # noqa: UP007 - PyTorch's spelling, a typing.Union

_F = TypeVar("_F", bound=Callable[..., Any])


def _no_grad(func: _F) -> _F:
    """``func`` run under ``no_grad`` (PyTorch's helper decorator, keeping ``func``'s name and
    docstring)."""

    def _no_grad_wrapper(*args: Any, **kwargs: Any) -> Any:
        with no_grad():
            return func(*args, **kwargs)

    functools.update_wrapper(_no_grad_wrapper, func)
    return _no_grad_wrapper  # type: ignore[return-value]
