"""The DTensor factories of ``torch.distributed.tensor``: ``zeros``, ``ones``, ``empty``, ``full``,
``rand``, ``randn``. Each makes the tensor as the plain factory would and lays it out over
``device_mesh`` (default: the ``with mesh:`` one) as ``placements`` (default: replicated). In a world
of one process the local piece is the whole tensor, so the values are the plain factory's. ``rand``
and ``randn`` draw from the default generator: PyTorch draws through an offset-based generator of
accelerator meshes (its draws differ from ours, as any two generators' do) and refuses a CPU mesh
(a bare AssertionError), whereas glassgrad's meshes, all CPU ones, stand in for CUDA ones.

Example:
    >>> import glassgrad as gg
    >>> import glassgrad.distributed as dist
    >>> from glassgrad.distributed.tensor import zeros, Shard
    >>> mesh = dist.init_device_mesh("cpu", (1,))
    >>> d = zeros(4, 2, device_mesh=mesh, placements=[Shard(0)])
    >>> type(d).__name__, d.placements, tuple(d.shape)
    ('DTensor', (Shard(dim=0),), (4, 2))
    >>> dist.destroy_process_group()
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from glassgrad.distributed.device_mesh import DeviceMesh, current_mesh
from glassgrad.distributed.tensor._api import DTensor, _alias, _placements
from glassgrad.distributed.tensor.placement_types import Placement
from glassgrad.factories import empty as _empty
from glassgrad.factories import full as _full
from glassgrad.factories import ones as _ones
from glassgrad.factories import zeros as _zeros
from glassgrad.factories_random import rand as _rand
from glassgrad.factories_random import randn as _randn
from glassgrad.sparse_tensor import strided

__all__ = ["zeros", "ones", "empty", "full", "rand", "randn"]


def _make(
    fn: str,
    init: Callable[..., Any],
    args: tuple,
    dtype: Any,
    layout: Any,
    requires_grad: bool,
    device_mesh: DeviceMesh | None,
    placements: Sequence[Placement] | None,
) -> DTensor:
    """``init(*args, dtype=dtype)`` as a leaf DTensor over ``device_mesh`` laid out as ``placements``."""
    mesh = device_mesh or current_mesh(fn)
    if layout != strided:  # also the legacy string "strided"
        raise RuntimeError(f"{fn}: layout value not supported! (got {layout}, expected torch.strided)")
    local = init(*args, dtype=dtype)
    out = _alias(DTensor, local, mesh, _placements(fn, mesh, placements, local.ndim))
    if requires_grad:
        out.requires_grad_(True)
    return out


def zeros(
    *size: Any, requires_grad: bool = False, dtype: Any = None, layout: Any = strided,
    device_mesh: DeviceMesh | None = None, placements: Sequence[Placement] | None = None,
) -> DTensor:  # fmt: skip
    """A DTensor of zeros. Shape: ``size`` (ints, or one list/tuple of them)."""
    return _make(
        "distributed.tensor.zeros", _zeros, size, dtype, layout, requires_grad, device_mesh, placements
    )


def ones(
    *size: Any, dtype: Any = None, layout: Any = strided, requires_grad: bool = False,
    device_mesh: DeviceMesh | None = None, placements: Sequence[Placement] | None = None,
) -> DTensor:  # fmt: skip
    """A DTensor of ones. Shape: ``size``."""
    return _make(
        "distributed.tensor.ones", _ones, size, dtype, layout, requires_grad, device_mesh, placements
    )


def empty(
    *size: Any, dtype: Any = None, layout: Any = strided, requires_grad: bool = False,
    device_mesh: DeviceMesh | None = None, placements: Sequence[Placement] | None = None,
) -> DTensor:  # fmt: skip
    """A DTensor of uninitialised values. Shape: ``size``."""
    return _make(
        "distributed.tensor.empty", _empty, size, dtype, layout, requires_grad, device_mesh, placements
    )


def full(
    size: Any, fill_value: Any, *, dtype: Any = None, layout: Any = strided, requires_grad: bool = False,
    device_mesh: DeviceMesh | None = None, placements: Sequence[Placement] | None = None,
) -> DTensor:  # fmt: skip
    """A DTensor filled with ``fill_value`` (its dtype inferred from it, as ``torch.full``). Shape: ``size``."""
    args = (size, fill_value)
    return _make(
        "distributed.tensor.full", _full, args, dtype, layout, requires_grad, device_mesh, placements
    )


def rand(
    *size: Any, requires_grad: bool = False, dtype: Any = None, layout: Any = strided,
    device_mesh: DeviceMesh | None = None, placements: Sequence[Placement] | None = None,
) -> DTensor:  # fmt: skip
    """A DTensor of uniform samples on [0, 1) from the default generator. Shape: ``size``."""
    return _make(
        "distributed.tensor.rand", _rand, size, dtype, layout, requires_grad, device_mesh, placements
    )


def randn(
    *size: Any, requires_grad: bool = False, dtype: Any = None, layout: Any = strided,
    device_mesh: DeviceMesh | None = None, placements: Sequence[Placement] | None = None,
) -> DTensor:  # fmt: skip
    """A DTensor of standard normal samples from the default generator. Shape: ``size``."""
    return _make(
        "distributed.tensor.randn", _randn, size, dtype, layout, requires_grad, device_mesh, placements
    )
