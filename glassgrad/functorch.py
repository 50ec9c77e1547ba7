"""``glassgrad.functorch``: PyTorch's ``functorch`` package, which the torch wheel still ships.

functorch became ``torch.func``; the ``functorch`` names stay as thin wrappers that warn
(``FutureWarning``, PyTorch's words) and call the ``torch.func`` function (``glassgrad.func``),
plus the module-to-function API that ``torch.func`` dropped: ``make_functional``,
``make_functional_with_buffers``, ``combine_state_for_ensemble`` (``_functorch/make_functional``).
A program's ``import functorch`` becomes ``import glassgrad.functorch as functorch`` (libraries
such as torchopt call ``functorch.vjp``/``functorch.grad`` and ``functorch.make_functional``).

>>> import warnings, glassgrad as gg
>>> from glassgrad import functorch
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     functorch.grad(lambda x: (x * x).sum())(gg.tensor([1.0, 2.0]))
tensor([2., 4.])
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

from glassgrad import func as _func
from glassgrad._functorch import make_functional as _nn_impl
from glassgrad._functorch.make_functional import FunctionalModule, FunctionalModuleWithBuffers
from glassgrad.user_frames import user_stacklevel

__all__ = [
    "FunctionalModule",
    "FunctionalModuleWithBuffers",
    "combine_state_for_ensemble",
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "make_functional",
    "make_functional_with_buffers",
    "vjp",
    "vmap",
]


def _warning(api: str, new_api: str | None) -> str:
    new_api = f"torch.func.{api}" if new_api is None else new_api
    return (
        "We've integrated functorch into PyTorch. As the final step of the integration, "
        f"`functorch.{api}` is deprecated as of PyTorch 2.0 and will be deleted in a future "
        f"version of PyTorch >= 2.3. Please use `{new_api}` instead; see the PyTorch 2.0 release "
        "notes and/or the `torch.func` migration guide for more details "
        "https://pytorch.org/docs/main/func.migrating.html"
    )


def _deprecated(impl: Callable[..., Any], api: str, new_api: str | None = None) -> Callable[..., Any]:
    """``impl`` under functorch's name ``api``: each call warns as PyTorch's wrapper does."""

    @functools.wraps(impl)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(_warning(api, new_api), FutureWarning, stacklevel=user_stacklevel())
        return impl(*args, **kwargs)

    wrapper.__name__ = wrapper.__qualname__ = api
    wrapper.__module__ = __name__
    return wrapper


vmap = _deprecated(_func.vmap, "vmap", "torch.vmap")
grad = _deprecated(_func.grad, "grad")
grad_and_value = _deprecated(_func.grad_and_value, "grad_and_value")
vjp = _deprecated(_func.vjp, "vjp")
jvp = _deprecated(_func.jvp, "jvp")
jacrev = _deprecated(_func.jacrev, "jacrev")
jacfwd = _deprecated(_func.jacfwd, "jacfwd")
hessian = _deprecated(_func.hessian, "hessian")
functionalize = _deprecated(_func.functionalize, "functionalize")
make_functional = _deprecated(_nn_impl.make_functional, "make_functional", "torch.func.functional_call")
make_functional_with_buffers = _deprecated(
    _nn_impl.make_functional_with_buffers, "make_functional_with_buffers", "torch.func.functional_call"
)
combine_state_for_ensemble = _deprecated(
    _nn_impl.combine_state_for_ensemble, "combine_state_for_ensemble", "torch.func.stack_module_state"
)
